/* c_workspace_check: caller-owned memory, checked from C.
 *   c_workspace_check MODEL.vaert
 *  1. The model opens in place from a 64-byte aligned buffer (and is refused from a misaligned one).
 *  2. Each _ws call works with exactly vaert_workspace_size bytes and fails cleanly with one byte fewer.
 *  3. The _ws calls on the in-place model give the same bits as the ordinary calls on a copied model.
 *  4. From the very first call, the _ws calls allocate nothing (malloc and friends counted).
 *  5. The model in caller memory (vaert_model_size, vaert_init_static): exactly the bytes the size query
 *     gives, on any alignment (one byte fewer is refused); same bits as the ordinary calls; and from
 *     the size query to vaert_close, nothing allocates.
 * Prints "workspace checks passed: N" and exits 0, or prints each failure and exits 1. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counting_malloc.h"
#include "vaert.h"

static int checks, failures;

static void expect(int ok, const char *what) {
    checks++;
    if (!ok) { failures++; fprintf(stderr, "FAILED: %s (%s)\n", what, vaert_last_error()); }
}

enum { largest = 300 };

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: c_workspace_check MODEL.vaert\n"); return 2; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    fseek(f, 0, SEEK_END);
    size_t size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *file = aligned_alloc(64, (size + 64 + 63) / 64 * 64 + 64);
    if (!file || fread(file, 1, size, f) != size) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
    fclose(f);
    memmove(file + 1, file, size); /* a misaligned copy first */
    vaert_model *misaligned = NULL, *in_place = NULL, *copied = NULL;
    expect(vaert_open_memory_in_place(file + 1, size, &misaligned) == VAERT_E_INVALID_ARGUMENT && misaligned == NULL,
           "a misaligned buffer is refused for in-place use");
    memmove(file, file + 1, size);
    expect(vaert_open_memory_in_place(file, size, &in_place) == VAERT_OK, "open in place");
    expect(vaert_open_file(argv[1], &copied) == VAERT_OK, "open a copy");
    if (!in_place || !copied) return 1;

    size_t latent, c, h, w, classes;
    int has_encoder;
    vaert_get_latent_dim(copied, &latent);
    vaert_get_image_shape(copied, &c, &h, &w);
    vaert_get_class_count(copied, &classes);
    vaert_has_encoder(copied, &has_encoder);
    size_t pixels = c * h * w;
    float *z = malloc(largest * latent * sizeof(float)), *expected = malloc(largest * pixels * sizeof(float));
    float *got = malloc(largest * pixels * sizeof(float)), *mu = malloc(largest * latent * sizeof(float));
    float *expected_mu = malloc(largest * latent * sizeof(float)), *logvar = malloc(largest * latent * sizeof(float));
    int32_t labels[largest];
    for (int i = 0; i < largest; i++) labels[i] = classes ? (int32_t)(i % classes) : 0;
    const int32_t *l = classes ? labels : NULL;
    expect(vaert_sample_latent(copied, 5, 0, largest, z) == VAERT_OK, "latents");

    size_t batches[] = {1, 7, largest};
    for (int b = 0; b < 3; b++) {
        size_t batch = batches[b], bytes = 0;
        char what[160];
        /* Reference results from the ordinary calls on the copied model. */
        expect((classes ? vae_decode_conditional(copied, z, l, batch, expected) : vae_decode(copied, z, batch, expected)) == VAERT_OK, "decode");

        expect(vaert_workspace_size(in_place, VAERT_OP_DECODE, batch, &bytes) == VAERT_OK && bytes > 0, "workspace size");
        unsigned char *workspace = malloc(bytes + 1);
        void *unaligned = workspace + 1; /* any alignment will do */
        expect(vae_decode_ws(in_place, z, l, batch, got, unaligned, bytes - 1) == VAERT_E_BUFFER_TOO_SMALL, "decode: one byte short is refused");
        __atomic_store_n(&allocations, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&counting, 1, __ATOMIC_RELAXED);
        vaert_status s = vae_decode_ws(in_place, z, l, batch, got, unaligned, bytes);
        __atomic_store_n(&counting, 0, __ATOMIC_RELAXED);
        snprintf(what, sizeof what, "decode_ws, batch %zu, exactly %zu bytes: works, same bits, %ld allocations", batch, bytes, allocations);
        expect(s == VAERT_OK && memcmp(got, expected, batch * pixels * sizeof(float)) == 0 && allocations == 0, what);
        free(workspace);

        expect(vaert_workspace_size(in_place, VAERT_OP_SAMPLE, batch, &bytes) == VAERT_OK, "sample workspace size");
        workspace = malloc(bytes);
        expect((classes ? vaert_sample_conditional(copied, 9, 3, batch, l, expected) : vaert_sample(copied, 9, 3, batch, expected)) == VAERT_OK, "sample");
        expect(vaert_sample_ws(in_place, 9, 3, batch, l, got, workspace, bytes - 1) == VAERT_E_BUFFER_TOO_SMALL, "sample: one byte short is refused");
        __atomic_store_n(&allocations, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&counting, 1, __ATOMIC_RELAXED);
        s = vaert_sample_ws(in_place, 9, 3, batch, l, got, workspace, bytes);
        __atomic_store_n(&counting, 0, __ATOMIC_RELAXED);
        snprintf(what, sizeof what, "sample_ws, batch %zu: works, same bits, %ld allocations", batch, allocations);
        expect(s == VAERT_OK && memcmp(got, expected, batch * pixels * sizeof(float)) == 0 && allocations == 0, what);
        free(workspace);

        if (!has_encoder) {
            expect(vaert_workspace_size(in_place, VAERT_OP_ENCODE, batch, &bytes) == VAERT_E_UNSUPPORTED, "no encoder: no encode workspace");
            continue;
        }
        expect((classes ? vae_encode_conditional(copied, expected, l, batch, expected_mu, NULL) : vae_encode(copied, expected, batch, expected_mu, NULL)) == VAERT_OK,
               "encode");
        expect(vaert_workspace_size(in_place, VAERT_OP_ENCODE, batch, &bytes) == VAERT_OK, "encode workspace size");
        workspace = malloc(bytes);
        expect(vae_encode_ws(in_place, expected, l, batch, mu, logvar, workspace, bytes - 1) == VAERT_E_BUFFER_TOO_SMALL, "encode: one byte short is refused");
        __atomic_store_n(&allocations, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&counting, 1, __ATOMIC_RELAXED);
        s = vae_encode_ws(in_place, expected, l, batch, mu, logvar, workspace, bytes);
        __atomic_store_n(&counting, 0, __ATOMIC_RELAXED);
        snprintf(what, sizeof what, "encode_ws, batch %zu: works, same bits, %ld allocations", batch, allocations);
        expect(s == VAERT_OK && memcmp(mu, expected_mu, batch * latent * sizeof(float)) == 0 && allocations == 0, what);
        free(workspace);
    }
    /* 5. The handle in caller memory. */
    expect((classes ? vae_decode_conditional(copied, z, l, largest, expected) : vae_decode(copied, z, largest, expected)) == VAERT_OK, "decode");
    size_t handle_bytes = 0, workspace_bytes = 0;
    __atomic_store_n(&allocations, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&counting, 1, __ATOMIC_RELAXED);
    vaert_status sized = vaert_model_size(file, size, &handle_bytes);
    __atomic_store_n(&counting, 0, __ATOMIC_RELAXED);
    long query_allocations = allocations;
    expect(sized == VAERT_OK && handle_bytes > 0, "model size");
    unsigned char *memory = malloc(handle_bytes + 64);
    float *static_got = malloc(largest * pixels * sizeof(float));
    vaert_model *in_memory = NULL;
    expect(vaert_init_static(file, size, memory + 1, handle_bytes - 1, &in_memory) == VAERT_E_BUFFER_TOO_SMALL && in_memory == NULL,
           "init_static: one byte short is refused");
    expect(vaert_model_size(file + 1, size, &handle_bytes) == VAERT_E_INVALID_ARGUMENT, "model size: misaligned data is refused");
    expect(vaert_workspace_size(in_place, VAERT_OP_DECODE, largest, &workspace_bytes) == VAERT_OK, "decode workspace size");
    unsigned char *workspace = malloc(workspace_bytes);
    for (int offset = 1; offset <= 63; offset += 31) {
        /* From the size query to close, as a device runs it: nothing may allocate. */
        __atomic_store_n(&allocations, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&counting, 1, __ATOMIC_RELAXED);
        vaert_status s = vaert_init_static(file, size, memory + offset, handle_bytes, &in_memory);
        size_t ws = 0;
        if (s == VAERT_OK) s = vaert_workspace_size(in_memory, VAERT_OP_DECODE, largest, &ws);
        if (s == VAERT_OK) s = vae_decode_ws(in_memory, z, l, largest, static_got, workspace, workspace_bytes);
        vaert_close(in_memory);
        __atomic_store_n(&counting, 0, __ATOMIC_RELAXED);
        char what[200];
        snprintf(what, sizeof what, "init_static at offset %d with exactly %zu bytes, decode_ws, close: works, same bits, %ld + %ld allocations",
                 offset, handle_bytes, query_allocations, allocations);
        expect(s == VAERT_OK && ws == workspace_bytes && allocations == 0 && query_allocations == 0
               && memcmp(static_got, expected, largest * pixels * sizeof(float)) == 0, what);
    }
    printf("model in caller memory: %zu bytes, decode workspace for %d rows: %zu bytes\n", handle_bytes, largest, workspace_bytes);
    free(workspace);
    free(static_got);
    free(memory);

    size_t bytes;
    expect(vaert_workspace_size(in_place, 99, 1, &bytes) == VAERT_E_INVALID_ARGUMENT, "unknown operation");
    expect(vaert_workspace_size(in_place, VAERT_OP_DECODE, 0, &bytes) == VAERT_E_INVALID_ARGUMENT, "batch 0");
    vaert_close(in_place);
    vaert_close(copied);
    free(file);
    if (failures) { fprintf(stderr, "%d of %d checks failed\n", failures, checks); return 1; }
    printf("workspace checks passed: %d\n", checks);
    return 0;
}
