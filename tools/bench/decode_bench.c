/* decode_bench: libvaert decode throughput from C, and this machine's FMA peak.
 *   decode_bench MODEL.vaert [SECONDS]
 * Prints one line per (batch, threads): images/s and GFLOP/s (dense and convolution multiply-adds of the
 * decoder, 2 FLOP each), then the measured single-core FMA peak. Threads share one model handle, each
 * decoding its own batch (the C API is thread-safe). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <immintrin.h>

#include "vaert.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

struct job {
    vaert_model *model;
    size_t batch, latent, pixels;
    double seconds;
    long images;
};

static void *run(void *arg) {
    struct job *j = arg;
    float *z = malloc(j->batch * j->latent * sizeof(float)), *out = malloc(j->batch * j->pixels * sizeof(float));
    vaert_sample_latent(j->model, 1, 0, j->batch, z);
    vae_decode(j->model, z, j->batch, out); /* warm-up */
    double start = now();
    long images = 0;
    while (now() - start < j->seconds) {
        if (vae_decode(j->model, z, j->batch, out) != VAERT_OK) { fprintf(stderr, "decode failed: %s\n", vaert_last_error()); exit(1); }
        images += (long)j->batch;
    }
    j->images = images;
    j->seconds = now() - start;
    free(z);
    free(out);
    return NULL;
}

/* Twelve independent FMA chains in registers: enough to cover the FMA latency on two ports. */
__attribute__((target("avx2,fma"))) static double fma_peak(double seconds) {
    __m256 b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(0.001f);
    __m256 a0 = _mm256_set1_ps(0), a1 = _mm256_set1_ps(1), a2 = _mm256_set1_ps(2), a3 = _mm256_set1_ps(3), a4 = _mm256_set1_ps(4),
           a5 = _mm256_set1_ps(5), a6 = _mm256_set1_ps(6), a7 = _mm256_set1_ps(7), a8 = _mm256_set1_ps(8), a9 = _mm256_set1_ps(9),
           a10 = _mm256_set1_ps(10), a11 = _mm256_set1_ps(11);
    long rounds = 0;
    double start = now();
    while (now() - start < seconds) {
        for (int r = 0; r < 100000; r++) {
            a0 = _mm256_fmadd_ps(a0, b, c); a1 = _mm256_fmadd_ps(a1, b, c); a2 = _mm256_fmadd_ps(a2, b, c);
            a3 = _mm256_fmadd_ps(a3, b, c); a4 = _mm256_fmadd_ps(a4, b, c); a5 = _mm256_fmadd_ps(a5, b, c);
            a6 = _mm256_fmadd_ps(a6, b, c); a7 = _mm256_fmadd_ps(a7, b, c); a8 = _mm256_fmadd_ps(a8, b, c);
            a9 = _mm256_fmadd_ps(a9, b, c); a10 = _mm256_fmadd_ps(a10, b, c); a11 = _mm256_fmadd_ps(a11, b, c);
        }
        rounds += 100000;
    }
    double elapsed = now() - start;
    __m256 sum = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)), _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    sum = _mm256_add_ps(sum, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    if (_mm256_cvtss_f32(sum) == 12345.0f) puts("");
    return rounds * 12.0 * 8 * 2 / elapsed / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: decode_bench MODEL [SECONDS] [FLOP_PER_IMAGE]\n"); return 2; }
    double seconds = argc > 2 ? atof(argv[2]) : 2.0;
    double flop = argc > 3 ? atof(argv[3]) : 0;
    vaert_model *model = NULL;
    if (vaert_open_file(argv[1], &model) != VAERT_OK) { fprintf(stderr, "%s\n", vaert_last_error()); return 1; }
    size_t latent, c, h, w;
    vaert_get_latent_dim(model, &latent);
    vaert_get_image_shape(model, &c, &h, &w);
    size_t batches[] = {1, 64, 256};
    for (int t = 1; t <= 2; t++) {
        for (int b = 0; b < 3; b++) {
            struct job jobs[2];
            pthread_t threads[2];
            for (int i = 0; i < t; i++) {
                jobs[i] = (struct job){model, batches[b], latent, c * h * w, seconds, 0};
                pthread_create(&threads[i], NULL, run, &jobs[i]);
            }
            double rate = 0;
            for (int i = 0; i < t; i++) {
                pthread_join(threads[i], NULL);
                rate += jobs[i].images / jobs[i].seconds;
            }
            printf("vaert threads %d batch %zu: %.0f img/s", t, batches[b], rate);
            if (flop > 0) printf(" (%.1f GFLOP/s)", rate * flop / 1e9);
            printf("\n");
        }
    }
    printf("fma peak, one core: %.1f GFLOP/s\n", fma_peak(1.0));
    vaert_close(model);
    return 0;
}
