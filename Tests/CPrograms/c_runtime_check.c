/* c_runtime_check: run-time guarantees of libvaert, checked from C.
 *   c_runtime_check MODEL.vaert
 *  1. After warm-up, encode, decode, sample and anomaly scoring allocate nothing: malloc and friends are
 *     interposed here (this executable's definitions win over libc's for every library) and counted.
 *  2. Results are bit-identical for 1, 2 and 4 threads (vaert_set_threads) and for 8 caller threads
 *     sharing one handle.
 * Prints "runtime checks passed: N" and exits 0, or prints each failure and exits 1. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vaert.h"

#include "counting_malloc.h"

/* ---- checks ---- */
static int checks, failures;

static void expect(int ok, const char *what) {
    checks++;
    if (!ok) { failures++; fprintf(stderr, "FAILED: %s (%s)\n", what, vaert_last_error()); }
}

static vaert_model *model;
static size_t latent, pixels, classes;
static int has_encoder;
enum { largest = 300 };
static float *z, *images, *mu, *logvar, *scores, *reference, *reference_mu;
static int32_t labels[largest];

/* One round of every running call at `batch`. */
static int run_all(size_t batch) {
    const int32_t *l = classes ? labels : NULL;
    int ok = 1;
    ok &= (classes ? vaert_sample_conditional(model, 7, 0, batch, l, images) : vaert_sample(model, 7, 0, batch, images)) == VAERT_OK;
    ok &= (classes ? vae_decode_conditional(model, z, l, batch, images) : vae_decode(model, z, batch, images)) == VAERT_OK;
    if (has_encoder) {
        ok &= (classes ? vae_encode_conditional(model, images, l, batch, mu, logvar) : vae_encode(model, images, batch, mu, logvar)) == VAERT_OK;
        ok &= vaert_anomaly_score(model, images, l, batch, scores) == VAERT_OK;
    }
    return ok;
}

/* decode (and encode) of `batch` rows into fresh buffers, compared bit for bit with the references. */
static int same_as_reference(size_t batch) {
    const int32_t *l = classes ? labels : NULL;
    float *out = malloc(batch * pixels * sizeof(float)), *m = malloc(batch * latent * sizeof(float));
    int same = (classes ? vae_decode_conditional(model, z, l, batch, out) : vae_decode(model, z, batch, out)) == VAERT_OK
               && memcmp(out, reference, batch * pixels * sizeof(float)) == 0;
    if (has_encoder) {
        same &= (classes ? vae_encode_conditional(model, reference, l, batch, m, NULL) : vae_encode(model, reference, batch, m, NULL)) == VAERT_OK
                && memcmp(m, reference_mu, batch * latent * sizeof(float)) == 0;
    }
    free(out);
    free(m);
    return same;
}

struct caller { size_t batch; int same; };

static void *call_from_thread(void *arg) {
    struct caller *c = arg;
    c->same = 1;
    for (int round = 0; round < 20; round++) c->same &= same_as_reference(c->batch);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: c_runtime_check MODEL.vaert\n"); return 2; }
    if (vaert_open_file(argv[1], &model) != VAERT_OK) { fprintf(stderr, "%s\n", vaert_last_error()); return 1; }
    size_t c, h, w;
    vaert_get_latent_dim(model, &latent);
    vaert_get_image_shape(model, &c, &h, &w);
    vaert_get_class_count(model, &classes);
    vaert_has_encoder(model, &has_encoder);
    pixels = c * h * w;
    z = malloc(largest * latent * sizeof(float));
    mu = malloc(largest * latent * sizeof(float));
    logvar = malloc(largest * latent * sizeof(float));
    reference_mu = malloc(largest * latent * sizeof(float));
    images = malloc(largest * pixels * sizeof(float));
    reference = malloc(largest * pixels * sizeof(float));
    scores = malloc(largest * sizeof(float));
    for (int i = 0; i < largest; i++) labels[i] = classes ? (int32_t)(i % classes) : 0;
    expect(vaert_sample_latent(model, 3, 0, largest, z) == VAERT_OK, "sample latents");

    /* 1. No allocation after warm-up, for each thread count and batch size. */
    size_t batches[] = {1, 7, 64, largest};
    for (size_t threads = 1; threads <= 2; threads++) {
        expect(vaert_set_threads(threads) == VAERT_OK, "set threads");
        for (int b = 0; b < 4; b++) expect(run_all(batches[b]), "warm-up calls");
        for (int b = 0; b < 4; b++) {
            __atomic_store_n(&allocations, 0, __ATOMIC_RELAXED);
            __atomic_store_n(&counting, 1, __ATOMIC_RELAXED);
            int ok = 1;
            for (int round = 0; round < 5; round++) ok &= run_all(batches[b]);
            __atomic_store_n(&counting, 0, __ATOMIC_RELAXED);
            long seen = __atomic_load_n(&allocations, __ATOMIC_RELAXED);
            expect(ok, "calls succeed");
            char what[128];
            snprintf(what, sizeof what, "no allocation after warm-up: threads %zu, batch %zu: %ld allocations", threads, batches[b], seen);
            expect(seen == 0, what);
            if (b == 3) printf("threads %zu: %ld heap allocations in 5 rounds of every call at each batch size\n", threads, seen);
        }
    }

    /* 2. The same bits for any thread count, and from 8 caller threads on one handle. */
    const int32_t *l = classes ? labels : NULL;
    expect(vaert_set_threads(1) == VAERT_OK, "set threads 1");
    expect((classes ? vae_decode_conditional(model, z, l, largest, reference) : vae_decode(model, z, largest, reference)) == VAERT_OK, "reference decode");
    if (has_encoder) {
        expect((classes ? vae_encode_conditional(model, reference, l, largest, reference_mu, NULL) : vae_encode(model, reference, largest, reference_mu, NULL)) == VAERT_OK,
               "reference encode");
    }
    for (size_t threads = 2; threads <= 4; threads += 2) {
        expect(vaert_set_threads(threads) == VAERT_OK, "set threads");
        expect(vaert_get_threads() == threads, "get threads");
        for (int b = 0; b < 4; b++) expect(same_as_reference(batches[b]), "bit-identical results for any thread count and batch size");
    }
    if (!classes) {
        pthread_t callers[8];
        struct caller jobs[8];
        for (int i = 0; i < 8; i++) {
            jobs[i].batch = batches[i % 4];
            pthread_create(&callers[i], NULL, call_from_thread, &jobs[i]);
        }
        for (int i = 0; i < 8; i++) {
            pthread_join(callers[i], NULL);
            expect(jobs[i].same, "8 caller threads on one handle (pool of 4) give the one-thread bits");
        }
    }
    expect(vaert_set_threads(0) == VAERT_E_INVALID_ARGUMENT, "0 threads is refused");
    expect(vaert_set_threads(1) == VAERT_OK, "back to 1 thread");
    vaert_close(model);
    if (failures) { fprintf(stderr, "%d of %d checks failed\n", failures, checks); return 1; }
    printf("runtime checks passed: %d\n", checks);
    return 0;
}
