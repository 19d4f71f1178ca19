#include "vaert_cpu.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#endif
#include <stdlib.h>
#include <string.h>

int vaert_cpu_has_avx2_fma(void) {
    const char *forced = getenv("VAERT_KERNELS");
    if (forced && strcmp(forced, "baseline") == 0) return 0;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    /* __builtin_cpu_supports checks the OS's XSAVE support for AVX state as well. */
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
    return 0;
#endif
}

int vaert_cpu_has_avx512(void) {
    const char *forced = getenv("VAERT_KERNELS");
    if (forced && strcmp(forced, "avx2") == 0) return 0;
    if (!vaert_cpu_has_avx2_fma()) return 0;
#if defined(__x86_64__) && defined(__GNUC__)
    /* As for AVX2, __builtin_cpu_supports("avx512f") includes the OS's XSAVE support for the ZMM state. */
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}

int vaert_cpu_is_amd_family_17h(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
    /* "AuthenticAMD" in EBX, EDX, ECX. */
    if (b != 0x68747541u || d != 0x69746e65u || c != 0x444d4163u) return 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    unsigned family = (a >> 8) & 0xf;
    if (family == 0xf) family += (a >> 20) & 0xff;
    return family == 0x17;
#else
    return 0;
#endif
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The data or unified cache of `level` among the deterministic cache parameters of `leaf` (4 on Intel,
 * 0x8000001D on AMD): ways x partitions x line size x sets of the first subleaf that matches. */
static long cache_from_leaf(unsigned leaf, int level) {
    for (unsigned sub = 0; sub < 16; sub++) {
        unsigned a, b, c, d;
        __cpuid_count(leaf, sub, a, b, c, d);
        unsigned type = a & 0x1f;
        if (type == 0) break;
        if ((type == 1 || type == 3) && (int)((a >> 5) & 7) == level) {
            return (long)(((b >> 22) & 0x3ff) + 1) * (((b >> 12) & 0x3ff) + 1) * ((b & 0xfff) + 1) * ((long)c + 1);
        }
    }
    return 0;
}
#endif

long vaert_cpu_cache_bytes(int level) {
#if defined(__x86_64__) && defined(__GNUC__)
    unsigned a, b, c, d;
    if (level < 1 || level > 3 || !__get_cpuid(0, &a, &b, &c, &d)) return 0;
    unsigned maxLeaf = a;
    int amd = b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u;
    if (amd) {
        unsigned maxExtended = __get_cpuid_max(0x80000000u, 0);
        /* Topology extensions (CPUID 0x80000001 ECX bit 22) give leaf 0x8000001D. */
        if (maxExtended >= 0x8000001Du && __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c >> 22 & 1)) {
            long bytes = cache_from_leaf(0x8000001Du, level);
            if (bytes > 0) return bytes;
        }
        /* Older AMD: L1d in 0x80000005 ECX[31:24] KB, L2 in 0x80000006 ECX[31:16] KB, L3 in EDX[31:18] x 512 KB. */
        if (level == 1 && maxExtended >= 0x80000005u && __get_cpuid(0x80000005u, &a, &b, &c, &d)) return (long)(c >> 24) * 1024;
        if (level > 1 && maxExtended >= 0x80000006u && __get_cpuid(0x80000006u, &a, &b, &c, &d)) {
            return level == 2 ? (long)(c >> 16) * 1024 : (long)(d >> 18) * 512 * 1024;
        }
        return 0;
    }
    return maxLeaf >= 4 ? cache_from_leaf(4, level) : 0;
#else
    (void)level;
    return 0;
#endif
}

unsigned long vaert_cpu_float_mode(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    unsigned int mxcsr;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    return mxcsr;
#elif defined(__aarch64__) && defined(__GNUC__)
    unsigned long fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    return fpcr;
#else
    return 0;
#endif
}

void vaert_cpu_set_float_mode(unsigned long mode) {
#if defined(__x86_64__) && defined(__GNUC__)
    unsigned int mxcsr = (unsigned int)mode;
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
#elif defined(__aarch64__) && defined(__GNUC__)
    __asm__ volatile("msr fpcr, %0" : : "r"(mode));
#else
    (void)mode;
#endif
}

unsigned long vaert_cpu_flushing_denormals(unsigned long mode) {
#if defined(__x86_64__)
    return mode | 0x8000 | 0x0040; /* FTZ (bit 15), DAZ (bit 6) */
#elif defined(__aarch64__)
    return mode | (1ul << 24); /* FZ */
#else
    return mode;
#endif
}
