/* Which instruction sets this CPU offers, for libvaert's kernel dispatch. Not public API. */
#ifndef VAERT_CPU_H
#define VAERT_CPU_H

/* 1 when the CPU (and the OS, for the wide registers) supports AVX2, FMA and F16C, the set the fast
 * x86-64 kernels are compiled for; 0 otherwise, and always 0 on other architectures. The environment
 * variable VAERT_KERNELS=baseline forces 0 (to test the baseline kernels on any machine). */
int vaert_cpu_has_avx2_fma(void);

#endif
