/* Which instruction sets this CPU offers, for libvaert's kernel dispatch. Not public API. */
#ifndef VAERT_CPU_H
#define VAERT_CPU_H

/* 1 when the CPU (and the OS, for the wide registers) supports AVX2, FMA and F16C, the set the fast
 * x86-64 kernels are compiled for; 0 otherwise, and always 0 on other architectures. The environment
 * variable VAERT_KERNELS=baseline forces 0 (to test the baseline kernels on any machine). */
int vaert_cpu_has_avx2_fma(void);

/* 1 when the CPU and the OS (the ZMM and mask state) support AVX-512 F, BW, DQ and VL, the set of the
 * widest x86-64 kernel build, on top of AVX2 + FMA + F16C; 0 otherwise. VAERT_KERNELS=baseline or
 * VAERT_KERNELS=avx2 forces 0 (to measure or test the narrower builds on any machine). */
int vaert_cpu_has_avx512(void);

/* 1 on an AMD CPU of family 17h (Zen, Zen+, Zen 2), whose F16C widening is slow enough that streaming f16
 * weight panels loses to f32 ones; 0 otherwise, and on other architectures. */
int vaert_cpu_is_amd_family_17h(void);

/* Bytes of the level-1 data, level-2 or level-3 cache (`level` 1, 2, 3) of a core, from CPUID's
 * deterministic cache parameters (leaf 4 on Intel, 0x8000001D on AMD; older AMD leaves 0x80000005/6);
 * 0 when unknown, and on other architectures. */
long vaert_cpu_cache_bytes(int level);

/* The calling thread's floating-point control register (MXCSR on x86-64, FPCR on AArch64; 0 elsewhere),
 * and setting it. Threads start with their creator's; the trainer's workers adopt their caller's. */
unsigned long vaert_cpu_float_mode(void);
void vaert_cpu_set_float_mode(unsigned long mode);

/* `mode` with denormal results and operands flushed to zero (x86-64: FTZ and DAZ; AArch64: FZ); `mode`
 * unchanged elsewhere. Denormal operands cost a microcode assist of about a hundred cycles per
 * instruction on many x86-64 cores. */
unsigned long vaert_cpu_flushing_denormals(unsigned long mode);

#endif
