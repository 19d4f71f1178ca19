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

/* Writes all of `data` to `fd`; 0 or an errno value. */
static int write_all(int fd, const void *data, size_t size) {
    const unsigned char *p = data;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, p + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? errno : EIO;
        done += (size_t)n;
    }
    return 0;
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
    int e = write_all(fd, data, size);
    if (e == 0 && fchmod(fd, 0644) != 0) e = errno;
    if (e == 0 && fsync(fd) != 0) e = errno;
    if (close(fd) != 0 && e == 0) e = errno;
    if (e == 0 && rename(temporary, path) != 0) e = errno;
    if (e == 0) sync_parent_directory(path);
    if (e != 0) unlink(temporary);
    free(temporary);
    return e;
}

int vaert_support_write_file_via(const char *temporary, const char *path, const void *data, size_t size) {
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return errno;
    int e = write_all(fd, data, size);
    if (close(fd) != 0 && e == 0) e = errno;
    if (e == 0 && rename(temporary, path) != 0) e = errno;
    if (e != 0) unlink(temporary);
    return e;
}

int vaert_support_sync_folder(const char *folder) {
    int fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno;
    int e = 0;
#ifdef __linux__
    if (syncfs(fd) != 0) e = errno;
#else
    sync();
#endif
    if (e == 0 && fsync(fd) != 0 && errno != EINVAL) e = errno;
    close(fd);
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

/* libjpeg reports damaged data ("Premature end of JPEG file", "Corrupt JPEG data") as a warning at level
 * -1 and goes on with grey padding; here a warning is an error, and nothing is printed to stderr. */
static void guarded_emit_message(j_common_ptr info, int level) {
    if (level < 0) guarded_error_exit(info);
}

static void guard_errors(struct guarded_error *error, char *message, size_t capacity) {
    jpeg_std_error(&error->manager);
    error->manager.error_exit = guarded_error_exit;
    error->manager.emit_message = guarded_emit_message;
    error->message = message;
    error->capacity = capacity;
}

/* [0, 1] -> 0 ... 255, rounded; NaN and values below 0 become 0. Two separate roundings (no fused
 * multiply-add), as the rest of vaert computes it. */
#pragma STDC FP_CONTRACT OFF
static unsigned char to_byte(float v) {
    if (!(v > 0)) return 0;
    if (!(v < 1)) return 255;
    float scaled = v * 255.0f;
    return (unsigned char)(scaled + 0.5f);
}

int vaert_support_jpeg_compress(const float *pixels, size_t channels, size_t height, size_t width, int quality,
                                unsigned char **jpeg, unsigned long *jpeg_size, char *message, size_t message_capacity) {
    struct jpeg_compress_struct info;
    struct guarded_error error;
    /* volatile: read after longjmp */
    unsigned char *volatile buffer = NULL;
    unsigned char *volatile row = NULL;
    unsigned long size = 0;
    *jpeg = NULL;
    *jpeg_size = 0;
    info.err = &error.manager;
    guard_errors(&error, message, message_capacity);
    if (setjmp(error.escape)) {
        jpeg_destroy_compress(&info);
        free(buffer);
        free(row);
        return 1;
    }
    jpeg_create_compress(&info);
    jpeg_mem_dest(&info, (unsigned char **)&buffer, &size);
    /* Sides past JDIMENSION's range become its maximum: libjpeg refuses them with its own limit. */
    info.image_width = width > UINT32_MAX ? UINT32_MAX : (JDIMENSION)width;
    info.image_height = height > UINT32_MAX ? UINT32_MAX : (JDIMENSION)height;
    info.input_components = (int)channels;
    info.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    jpeg_start_compress(&info, TRUE); /* checks the size against JPEG_MAX_DIMENSION */
    row = malloc(width * channels);
    if (!row) {
        snprintf(message, message_capacity, "out of memory for a row of %zu samples", width * channels);
        jpeg_destroy_compress(&info);
        free(buffer);
        return 2;
    }
    size_t plane = height * width;
    while (info.next_scanline < info.image_height) {
        const float *source = pixels + (size_t)info.next_scanline * width;
        for (size_t x = 0; x < width; x++) {
            for (size_t c = 0; c < channels; c++) row[x * channels + c] = to_byte(source[c * plane + x]);
        }
        JSAMPROW rows[1] = {(JSAMPROW)row};
        jpeg_write_scanlines(&info, rows, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    free(row);
    *jpeg = buffer;
    *jpeg_size = size;
    return 0;
}

void vaert_support_jpeg_free(unsigned char *jpeg) { free(jpeg); }

/* Decodes from `file` when it is not NULL, else from the `size` bytes at `data`. */
static int jpeg_decompress_from(FILE *file, const unsigned char *data, unsigned long size, unsigned char **samples, int *width,
                                int *height, int *components, char *message, size_t message_capacity) {
    struct jpeg_decompress_struct info;
    struct guarded_error error;
    unsigned char *volatile buffer = NULL;
    *samples = NULL;
    info.err = &error.manager;
    guard_errors(&error, message, message_capacity);
    if (setjmp(error.escape)) {
        jpeg_destroy_decompress(&info);
        free(buffer);
        return 1;
    }
    jpeg_create_decompress(&info);
    if (file) {
        jpeg_stdio_src(&info, file);
    } else {
        jpeg_mem_src(&info, data, size);
    }
    jpeg_read_header(&info, TRUE);
    info.out_color_space = info.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&info);
    size_t stride = (size_t)info.output_width * (size_t)info.output_components;
    if (info.output_width > 16384 || info.output_height > 16384) {
        snprintf(message, message_capacity, "image of %ux%u is larger than 16384 on a side", info.output_width, info.output_height);
        jpeg_destroy_decompress(&info);
        return 1;
    }
    buffer = malloc(stride * info.output_height);
    if (!buffer) {
        snprintf(message, message_capacity, "out of memory");
        jpeg_destroy_decompress(&info);
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
    *samples = buffer;
    return 0;
}

int vaert_support_jpeg_decompress(const char *path, unsigned char **samples, int *width, int *height, int *components,
                                  char *message, size_t message_capacity) {
    FILE *file = fopen(path, "rb");
    *samples = NULL;
    if (!file) {
        snprintf(message, message_capacity, "%s", strerror(errno));
        return 1;
    }
    int failed = jpeg_decompress_from(file, NULL, 0, samples, width, height, components, message, message_capacity);
    fclose(file);
    return failed;
}

int vaert_support_jpeg_decompress_memory(const unsigned char *jpeg, unsigned long size, unsigned char **samples, int *width,
                                         int *height, int *components, char *message, size_t message_capacity) {
    if (size == 0) {
        *samples = NULL;
        snprintf(message, message_capacity, "no bytes");
        return 1;
    }
    return jpeg_decompress_from(NULL, jpeg, size, samples, width, height, components, message, message_capacity);
}
