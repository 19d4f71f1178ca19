#define _GNU_SOURCE
#include "vaert_support.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <jpeglib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- thread-local message ---------------------------------------------------------------------- */

static _Thread_local char last_message[512];

void vaert_support_set_message(const char *message, size_t length) {
    if (length >= sizeof last_message) length = sizeof last_message - 1;
    memcpy(last_message, message, length);
    last_message[length] = '\0';
}

const char *vaert_support_message(void) { return last_message; }

/* ---- memory ------------------------------------------------------------------------------------ */

void *vaert_support_alloc(size_t size) {
    void *p = NULL;
    if (posix_memalign(&p, 64, size ? size : 1) != 0) return NULL;
    return p;
}

void vaert_support_free(void *pointer) { free(pointer); }

/* ---- files ------------------------------------------------------------------------------------- */

int vaert_support_read_file(const char *path, void **data, size_t *size, int *failed_step) {
    *data = NULL;
    *size = 0;
    *failed_step = 1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
        close(fd);
        return e ? e : EINVAL;
    }
    *failed_step = 2;
    size_t total = (size_t)st.st_size;
    unsigned char *buffer = vaert_support_alloc(total);
    if (!buffer) {
        close(fd);
        return ENOMEM;
    }
    size_t done = 0;
    while (done < total) {
        ssize_t n = read(fd, buffer + done, total - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            free(buffer);
            close(fd);
            return e;
        }
        done += (size_t)n;
    }
    close(fd);
    *data = buffer;
    *size = total;
    return 0;
}

/* A rename survives a power cut only once its directory is synced too (best effort: some file systems
 * cannot sync a directory, and the file itself is already whole). */
static void sync_parent_directory(const char *path) {
    const char *slash = strrchr(path, '/');
    char *folder = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!folder) return;
    int fd = open(folder, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(folder);
}

int vaert_support_write_file_atomic(const char *path, const void *data, size_t size) {
    size_t length = strlen(path);
    char *temporary = malloc(length + 16);
    if (!temporary) return ENOMEM;
    memcpy(temporary, path, length);
    memcpy(temporary + length, ".tmp-XXXXXX", 12);
    int fd = mkstemp(temporary);
    if (fd < 0) {
        int e = errno;
        free(temporary);
        return e;
    }
    int e = 0;
    const unsigned char *p = data;
    size_t done = 0;
    while (done < size && e == 0) {
        ssize_t n = write(fd, p + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) e = n < 0 ? errno : EIO;
        else done += (size_t)n;
    }
    if (e == 0 && fchmod(fd, 0644) != 0) e = errno;
    if (e == 0 && fsync(fd) != 0) e = errno;
    if (close(fd) != 0 && e == 0) e = errno;
    if (e == 0 && rename(temporary, path) != 0) e = errno;
    if (e == 0) sync_parent_directory(path);
    if (e != 0) unlink(temporary);
    free(temporary);
    return e;
}

const char *vaert_support_strerror(int error_number) { return strerror(error_number); }

/* ---- JPEG -------------------------------------------------------------------------------------- */

struct guarded_error {
    struct jpeg_error_mgr manager;
    jmp_buf escape;
    char *message;
    size_t capacity;
};

static void guarded_error_exit(j_common_ptr info) {
    struct guarded_error *e = (struct guarded_error *)info->err;
    char text[JMSG_LENGTH_MAX];
    (*info->err->format_message)(info, text);
    snprintf(e->message, e->capacity, "%s", text);
    longjmp(e->escape, 1);
}

int vaert_support_jpeg_compress(const uint8_t *samples, int width, int height, int components, int quality,
                                unsigned char **jpeg, unsigned long *jpeg_size, char *message, size_t message_capacity) {
    struct jpeg_compress_struct info;
    struct guarded_error error;
    /* volatile: read after longjmp */
    unsigned char *volatile buffer = NULL;
    unsigned long size = 0;
    *jpeg = NULL;
    *jpeg_size = 0;
    info.err = jpeg_std_error(&error.manager);
    error.manager.error_exit = guarded_error_exit;
    error.message = message;
    error.capacity = message_capacity;
    if (setjmp(error.escape)) {
        jpeg_destroy_compress(&info);
        free(buffer);
        return 1;
    }
    jpeg_create_compress(&info);
    jpeg_mem_dest(&info, (unsigned char **)&buffer, &size);
    info.image_width = (JDIMENSION)width;
    info.image_height = (JDIMENSION)height;
    info.input_components = components;
    info.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = (JSAMPROW)(samples + (size_t)info.next_scanline * (size_t)width * (size_t)components);
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    *jpeg = buffer;
    *jpeg_size = size;
    return 0;
}

void vaert_support_jpeg_free(unsigned char *jpeg) { free(jpeg); }

int vaert_support_jpeg_decompress(const char *path, unsigned char **samples, int *width, int *height, int *components,
                                  char *message, size_t message_capacity) {
    struct jpeg_decompress_struct info;
    struct guarded_error error;
    unsigned char *volatile buffer = NULL;
    FILE *volatile file = fopen(path, "rb");
    *samples = NULL;
    if (!file) {
        snprintf(message, message_capacity, "%s", strerror(errno));
        return 1;
    }
    info.err = jpeg_std_error(&error.manager);
    error.manager.error_exit = guarded_error_exit;
    error.message = message;
    error.capacity = message_capacity;
    if (setjmp(error.escape)) {
        jpeg_destroy_decompress(&info);
        free(buffer);
        fclose(file);
        return 1;
    }
    jpeg_create_decompress(&info);
    jpeg_stdio_src(&info, file);
    jpeg_read_header(&info, TRUE);
    info.out_color_space = info.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&info);
    size_t stride = (size_t)info.output_width * (size_t)info.output_components;
    if (info.output_width > 16384 || info.output_height > 16384) {
        snprintf(message, message_capacity, "image of %ux%u is larger than 16384 on a side", info.output_width, info.output_height);
        jpeg_destroy_decompress(&info);
        fclose(file);
        return 1;
    }
    buffer = malloc(stride * info.output_height);
    if (!buffer) {
        snprintf(message, message_capacity, "out of memory");
        jpeg_destroy_decompress(&info);
        fclose(file);
        return 1;
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = (JSAMPROW)(buffer + (size_t)info.output_scanline * stride);
        jpeg_read_scanlines(&info, &row, 1);
    }
    *width = (int)info.output_width;
    *height = (int)info.output_height;
    *components = info.output_components;
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    fclose(file);
    *samples = buffer;
    return 0;
}
