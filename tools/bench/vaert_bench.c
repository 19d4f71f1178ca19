/* vaert_bench: libvaert encode or decode throughput from C, and this machine's FMA peak.
 *   vaert_bench MODEL.vaert encode|decode [SECONDS] [BATCH ...]
 *   vaert_bench MODEL.vaert idle
 * encode / decode: one line per (threads, batch): images/s, with the thread count set through
 * vaert_set_threads (one caller; the library splits each batch), then the measured FMA peak, on one core and on two at once.
 * idle: a sparse workload on 2 threads (a batch of 256 every 20 ms for 2 s) and the process's CPU time
 * against the time its decodes take, to show that idle workers sleep instead of spinning.
 * VAERT_BENCH_IN_PLACE=1 reads the file into 64-byte-aligned memory and opens it with
 * vaert_open_memory_in_place (weights computed where they lie) instead of vaert_open_file. */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "vaert.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void check(vaert_status s) {
    if (s != VAERT_OK) { fprintf(stderr, "vaert_bench: %s\n", vaert_last_error()); exit(1); }
}

/* FMA_PEAK(NAME, TARGET, VEC, LANES, SET1, FMADD, ADD, FIRST): GFLOP/s of twelve independent FMA chains
 * in registers of type VEC (LANES floats), enough to cover the FMA latency on two ports. One definition
 * for the 256-bit and the 512-bit registers. */
#define FMA_PEAK(NAME, TARGET, VEC, LANES, SET1, FMADD, ADD, FIRST)                                          \
    __attribute__((target(TARGET))) static double NAME(double seconds) {                                  \
        VEC b = SET1(0.999f), c = SET1(0.001f), a[12];                                                    \
        for (int i = 0; i < 12; i++) a[i] = SET1((float)i);                                               \
        long rounds = 0;                                                                                  \
        double start = now();                                                                             \
        while (now() - start < seconds) {                                                                 \
            for (int r = 0; r < 100000; r++) {                                                            \
                a[0] = FMADD(a[0], b, c); a[1] = FMADD(a[1], b, c); a[2] = FMADD(a[2], b, c);             \
                a[3] = FMADD(a[3], b, c); a[4] = FMADD(a[4], b, c); a[5] = FMADD(a[5], b, c);             \
                a[6] = FMADD(a[6], b, c); a[7] = FMADD(a[7], b, c); a[8] = FMADD(a[8], b, c);             \
                a[9] = FMADD(a[9], b, c); a[10] = FMADD(a[10], b, c); a[11] = FMADD(a[11], b, c);         \
            }                                                                                             \
            rounds += 100000;                                                                             \
        }                                                                                                 \
        double elapsed = now() - start;                                                                   \
        VEC sum = a[0];                                                                                   \
        for (int i = 1; i < 12; i++) sum = ADD(sum, a[i]);                                                \
        if (FIRST(sum) == 12345.0f) puts("");                                                             \
        return rounds * 12.0 * LANES * 2 / elapsed / 1e9;                                                 \
    }

FMA_PEAK(fma_peak, "avx2,fma", __m256, 8, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_cvtss_f32)
/* On CPUs with AVX-512, where libvaert runs its AVX-512 kernels. */
FMA_PEAK(fma_peak_avx512, "avx512f", __m512, 16, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_cvtss_f32)

/* The peak of the widest kernels libvaert runs here ("avx512" or "avx2", from vaert_kernels()). */
static double machine_fma_peak(double seconds) {
    return strcmp(vaert_kernels(), "avx512") == 0 ? fma_peak_avx512(seconds) : fma_peak(seconds);
}

/* The same peak on two cores at once (a thread each), summed: where a VM's two CPUs share one physical
 * core, this is well under twice the one-core figure, and bounds what a second thread can add. */
static void *peak_thread(void *seconds) {
    double *result = malloc(sizeof(double));
    if (result) *result = machine_fma_peak(*(double *)seconds);
    return result;
}
static double two_core_fma_peak(double seconds) {
    pthread_t other;
    if (pthread_create(&other, NULL, peak_thread, &seconds) != 0) return 0;
    double mine = machine_fma_peak(seconds);
    void *theirs = NULL;
    pthread_join(other, &theirs);
    double total = theirs ? mine + *(double *)theirs : 0;
    free(theirs);
    return total;
}

static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

/* A decode of 256 every 20 ms on 2 threads: CPU time should be about twice the busy time, not the wall time. */
static int idle(vaert_model *model, size_t latent, size_t pixels) {
    enum { batch = 256, rounds = 100 };
    float *z = malloc(batch * latent * sizeof(float)), *out = malloc(batch * pixels * sizeof(float));
    if (!z || !out) return 1;
    check(vaert_sample_latent(model, 1, 0, batch, z));
    check(vaert_set_threads(2));
    check(vae_decode(model, z, batch, out));
    double busy = 0, start = now(), cpu_start = cpu_seconds();
    for (int i = 0; i < rounds; i++) {
        double t = now();
        check(vae_decode(model, z, batch, out));
        busy += now() - t;
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    double wall = now() - start, cpu = cpu_seconds() - cpu_start;
    printf("idle workload, 2 threads: wall %.2f s, decoding %.3f s, process CPU time %.3f s (%.0f%% of 2 x decoding time)\n",
           wall, busy, cpu, 100 * cpu / (2 * busy));
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[2], "encode") && strcmp(argv[2], "decode") && strcmp(argv[2], "idle"))) {
        fprintf(stderr, "usage: vaert_bench MODEL encode|decode [SECONDS] [BATCH ...]\n       vaert_bench MODEL idle\n");
        return 2;
    }
    int encode = strcmp(argv[2], "encode") == 0;
    double seconds = argc > 3 ? atof(argv[3]) : 2.0;
    size_t batches[16] = {1, 64, 256}, batch_count = 3;
    if (argc > 4) for (batch_count = 0; batch_count < 16 && (int)batch_count + 4 < argc; batch_count++) batches[batch_count] = strtoul(argv[4 + batch_count], NULL, 10);
    vaert_model *model = NULL;
    const char *in_place = getenv("VAERT_BENCH_IN_PLACE");
    if (in_place && strcmp(in_place, "1") == 0) {
        FILE *f = fopen(argv[1], "rb");
        if (!f || fseek(f, 0, SEEK_END) != 0) { perror(argv[1]); return 1; }
        long size = ftell(f);
        void *bytes = aligned_alloc(64, ((size_t)size + 63) / 64 * 64);
        if (size <= 0 || !bytes || fseek(f, 0, SEEK_SET) != 0 || fread(bytes, 1, (size_t)size, f) != (size_t)size) { perror(argv[1]); return 1; }
        fclose(f);
        check(vaert_open_memory_in_place(bytes, (size_t)size, &model));  /* bytes outlive the model: never freed */
    } else {
        check(vaert_open_file(argv[1], &model));
    }
    size_t latent, c, h, w, largest = 0;
    check(vaert_get_latent_dim(model, &latent));
    check(vaert_get_image_shape(model, &c, &h, &w));
    for (size_t i = 0; i < batch_count; i++) if (batches[i] > largest) largest = batches[i];
    size_t pixels = c * h * w;
    if (strcmp(argv[2], "idle") == 0) return idle(model, latent, pixels);
    float *z = malloc(largest * latent * sizeof(float)), *logvar = malloc(largest * latent * sizeof(float));
    float *images = malloc(largest * pixels * sizeof(float));
    if (!z || !logvar || !images) { fprintf(stderr, "vaert_bench: out of memory\n"); return 1; }
    check(vaert_sample(model, 1, 0, largest, images));  /* realistic inputs for encode */
    check(vaert_sample_latent(model, 2, 0, largest, z));
    for (int threads = 1; threads <= 2; threads++) {
        check(vaert_set_threads(threads));
        for (size_t b = 0; b < batch_count; b++) {
            size_t batch = batches[b];
            long images_done = 0;
            double start = now(), elapsed;
            do {
                check(encode ? vae_encode(model, images, batch, z, logvar) : vae_decode(model, z, batch, images));
                images_done += (long)batch;
            } while ((elapsed = now() - start) < seconds);
            printf("vaert %s threads %d batch %zu: %.0f img/s\n", argv[2], threads, batch, images_done / elapsed);
            fflush(stdout);
        }
    }
    printf("fma peak, one core: %.1f GFLOP/s (the %s kernels' registers)\n", machine_fma_peak(1.0), vaert_kernels());
    printf("fma peak, two cores at once: %.1f GFLOP/s\n", two_core_fma_peak(1.0));
    vaert_close(model);
    return 0;
}
