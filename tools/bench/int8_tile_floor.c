/* int8_tile_floor: what the course VAE's int8 pixel layer (400 -> 784: 100 groups of 4 rows, 98 panels of
 * 8 columns, 313 KB) allows at batch 1 on this CPU, with the instructions vaert's AVX2 tile uses
 * (vpbroadcastd, vpmaddubsw, vpmaddwd, vpaddd; 1 row x 4 panels). Prints the best of 5 x 20,000 passes:
 *   - the tile over the whole 313 KB (L2-resident after warm-up);
 *   - the same multiplies with every panel read from the first four (L1-resident): the compute floor;
 *   - a plain read of the 313 KB: the L2 bandwidth floor.
 * Build: cc -O2 -mavx2 -mfma tools/bench/int8_tile_floor.c -o int8_tile_floor */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { GROUPS = 100, PANELS = 98, PANEL_BYTES = GROUPS * 32 };
static int8_t *weights, x[4 * GROUPS];
static int32_t out[PANELS * 8];

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* stride: bytes from one panel to the next (PANEL_BYTES streams every panel; 0 re-reads the first four). */
static inline void tiles(size_t stride) {
    const __m256i one = _mm256_set1_epi16(1);
    for (int p = 0; p + 4 <= PANELS; p += 4) {
        const int8_t *w = weights + (stride ? (size_t)p * PANEL_BYTES : 0);
        __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
        for (int g = 0; g < GROUPS; g++, w += 32) {
            __m256i v = _mm256_set1_epi32(*(const int32_t *)(x + 4 * g));
            s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_maddubs_epi16(v, _mm256_loadu_si256((const void *)w)), one));
            s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_maddubs_epi16(v, _mm256_loadu_si256((const void *)(w + PANEL_BYTES))), one));
            s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(_mm256_maddubs_epi16(v, _mm256_loadu_si256((const void *)(w + 2 * PANEL_BYTES))), one));
            s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(_mm256_maddubs_epi16(v, _mm256_loadu_si256((const void *)(w + 3 * PANEL_BYTES))), one));
        }
        _mm256_storeu_si256((void *)(out + 8 * p), s0);
        _mm256_storeu_si256((void *)(out + 8 * p + 8), s1);
        _mm256_storeu_si256((void *)(out + 8 * p + 16), s2);
        _mm256_storeu_si256((void *)(out + 8 * p + 24), s3);
    }
}

static void __attribute__((noinline)) streamed(void) { tiles(PANEL_BYTES); }
static void __attribute__((noinline)) cached(void) { tiles(0); }

static void __attribute__((noinline)) read_all(void) {
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    for (size_t i = 0; i < (size_t)PANELS * PANEL_BYTES; i += 128) {
        a = _mm256_or_si256(a, _mm256_loadu_si256((const void *)(weights + i)));
        b = _mm256_or_si256(b, _mm256_loadu_si256((const void *)(weights + i + 32)));
        c = _mm256_or_si256(c, _mm256_loadu_si256((const void *)(weights + i + 64)));
        d = _mm256_or_si256(d, _mm256_loadu_si256((const void *)(weights + i + 96)));
    }
    _mm256_storeu_si256((void *)out, _mm256_or_si256(_mm256_or_si256(a, b), _mm256_or_si256(c, d)));
}

static void time_it(const char *name, void (*f)(void)) {
    for (int i = 0; i < 2000; i++) f();
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        double t = now();
        for (int i = 0; i < 20000; i++) f();
        double each = (now() - t) / 20000;
        if (each < best) best = each;
    }
    printf("%s: %.2f us\n", name, best * 1e6);
}

int main(void) {
    size_t bytes = (size_t)PANELS * PANEL_BYTES;
    weights = aligned_alloc(64, bytes);
    if (!weights) return 1;
    for (size_t i = 0; i < bytes; i++) weights[i] = (int8_t)(rand() % 255 - 127);
    for (int i = 0; i < 4 * GROUPS; i++) x[i] = (int8_t)(rand() % 128);
    time_it("1 row x 4 panels over 313 KB (L2)", streamed);
    time_it("the same multiplies, weights in L1", cached);
    time_it("read 313 KB", read_all);
    return 0;
}
