/* c_status_check: reaches every status of vaert.h through the C API, as a C program can, and prints
 * "reached CODE NAME (message)" for each. The test checks that every status the header declares is
 * reached: a status no path returns must not be in the header.
 *   c_status_check MODEL.vaert OUT_DIR
 * Two library calls need faults the program injects itself, by defining `read` and `posix_memalign`
 * (they win over libc's for every library in the process): a read that fails with EIO, and
 * allocations above a limit that fail as if memory ran out. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vaert.h"
#include "read_all.h"

extern void *__libc_memalign(size_t, size_t);

static int fail_reads;              /* read() fails with EIO while set */
static size_t allocation_limit = SIZE_MAX; /* posix_memalign above this fails with ENOMEM */

ssize_t read(int fd, void *buffer, size_t count) {
    if (fail_reads) {
        errno = EIO;
        return -1;
    }
    return syscall(SYS_read, fd, buffer, count);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (size > allocation_limit) return ENOMEM;
    void *p = __libc_memalign(alignment, size);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

static int failures = 0;

/* Prints the status a call returned; counts a failure when it is not the one expected. */
static void reached(vaert_status got, vaert_status expected, const char *name, const char *call) {
    if (got != expected) {
        fprintf(stderr, "c_status_check: %s returned %d, expected %d (%s): %s\n", call, got, expected, name, vaert_last_error());
        failures++;
        return;
    }
    printf("reached %d %s (%s)\n", got, name, got == VAERT_OK ? "ok" : vaert_last_error());
}
#define REACH(call, status) reached((call), status, #status, #call)

static uint32_t get32(const unsigned char *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }

/* CRC-32 as WEIGHTS_FORMAT.md defines it (reflected 0xEDB88320), over the file with its CRC field as zero. */
static void reseal(unsigned char *file, size_t size) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < size; i++) {
        crc ^= (i >= 24 && i < 28) ? 0 : file[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    put32(file + 24, ~crc);
}

/* Opens a damaged copy: `change` edits the bytes, `crc` says whether the CRC is made right again. */
static vaert_status open_damaged(const unsigned char *file, size_t size, size_t length, void (*change)(unsigned char *), int crc) {
    unsigned char *copy = malloc(size);
    memcpy(copy, file, size);
    if (change) change(copy);
    if (crc) reseal(copy, length);
    vaert_model *model = NULL;
    vaert_status status = vaert_open_memory(copy, length, &model);
    vaert_close(model);
    free(copy);
    return status;
}
static void bad_magic(unsigned char *f) { f[0] = 'X'; }
static void version_2(unsigned char *f) { put32(f + 8, 2); }
static void big_endian(unsigned char *f) { put32(f + 8, 0x01000000u); }
static void flip_last(unsigned char *f) { f[get32(f + 16) - 1] ^= 0x55; }  /* file_size is below 4 GB here */
static void header_size_95(unsigned char *f) { put32(f + 12, 95); }
static void weight_index_far(unsigned char *f) { put32(f + 96 + 12, 4000); }  /* layer 0's weight tensor */

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: c_status_check MODEL.vaert OUT_DIR\n"); return 2; }
    size_t size = 0;
    unsigned char *file = read_all(argv[1], &size);
    if (!file) { fprintf(stderr, "c_status_check: cannot read %s\n", argv[1]); return 2; }

    vaert_model *model = NULL;
    REACH(vaert_open_file(argv[1], &model), VAERT_OK);
    size_t latent = 0, channels = 0, height = 0, width = 0;
    vaert_get_latent_dim(model, &latent);
    vaert_get_image_shape(model, &channels, &height, &width);
    size_t pixels = channels * height * width;
    float *z = calloc(16 * latent, sizeof *z), *out = calloc(16 * pixels, sizeof *out);
    int32_t labels[16] = {0};

    /* arguments */
    vaert_model *other = NULL;
    REACH(vaert_open_file(NULL, &other), VAERT_E_NULL_ARGUMENT);
    REACH(vae_decode(model, z, 0, out), VAERT_E_INVALID_ARGUMENT);
    REACH(vae_decode(model, z, SIZE_MAX, out), VAERT_E_INVALID_ARGUMENT);
    if (!strstr(vaert_last_error(), "above VAERT_MAX_BATCH")) { fprintf(stderr, "SIZE_MAX: %s\n", vaert_last_error()); failures++; }
    REACH(vae_decode(model, z, (size_t)1 << 40, out), VAERT_E_INVALID_ARGUMENT);
    REACH(vae_decode(model, z, VAERT_MAX_BATCH + 1, out), VAERT_E_INVALID_ARGUMENT);
    z[1] = NAN;
    REACH(vae_decode(model, z, 2, out), VAERT_E_NON_FINITE_INPUT);
    z[1] = 0;
    REACH(vaert_sample_conditional(model, 1, 0, 2, labels, out), VAERT_E_UNSUPPORTED);

    /* I/O */
    REACH(vaert_open_file("/nonexistent/model.vaert", &other), VAERT_E_IO_OPEN);
    fail_reads = 1;
    REACH(vaert_open_file(argv[1], &other), VAERT_E_IO_READ);
    fail_reads = 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/no/such/folder/x.jpg", argv[2]);
    REACH(vaert_write_jpeg(path, out, channels, height, width, 90), VAERT_E_IO_WRITE);

    /* the weights file format */
    REACH(open_damaged(file, size, size, bad_magic, 0), VAERT_E_BAD_MAGIC);
    REACH(open_damaged(file, size, size, version_2, 0), VAERT_E_UNSUPPORTED_VERSION);
    REACH(open_damaged(file, size, size, big_endian, 0), VAERT_E_BYTE_ORDER);
    REACH(open_damaged(file, size, size / 2, NULL, 0), VAERT_E_TRUNCATED);
    REACH(open_damaged(file, size, size, flip_last, 0), VAERT_E_CHECKSUM);
    REACH(open_damaged(file, size, size, header_size_95, 0), VAERT_E_MALFORMED);
    REACH(open_damaged(file, size, size, weight_index_far, 1), VAERT_E_MISSING_TENSOR);

    /* memory */
    allocation_limit = size / 2;
    REACH(vaert_open_file(argv[1], &other), VAERT_E_OUT_OF_MEMORY);
    allocation_limit = SIZE_MAX;
    size_t bytes = 0;
    REACH(vaert_workspace_size(model, VAERT_OP_DECODE, 4, &bytes), VAERT_OK);
    void *workspace = malloc(bytes);
    REACH(vae_decode_ws(model, z, NULL, 4, out, workspace, bytes - 1), VAERT_E_BUFFER_TOO_SMALL);
    REACH(vae_decode_ws(model, z, NULL, 4, out, workspace, bytes), VAERT_OK);

    /* JPEG: libjpeg's own limit on a side */
    float *row = calloc(65501, sizeof *row);
    snprintf(path, sizeof path, "%s/wide.jpg", argv[2]);
    REACH(vaert_write_jpeg(path, row, 1, 1, 65501, 90), VAERT_E_JPEG);
    if (access(path, F_OK) == 0) { fprintf(stderr, "c_status_check: %s was written\n", path); failures++; }

    free(row);
    free(workspace);
    free(z);
    free(out);
    free(file);
    vaert_close(model);
    if (failures) return 1;
    printf("c_status_check: every status reached\n");
    return 0;
}
