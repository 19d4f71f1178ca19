#include "vaert_cpu.h"

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
