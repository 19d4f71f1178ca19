/* Checks soft_sqrtf (soft_sqrtf.h) against the host's sqrtf, bit for bit: every float in [2^-2, 2^2)
 * and the subnormals' first million, then ten million random bit patterns and the special values.
 *   cc -O2 tools/freestanding/soft_sqrtf_test.c -lm && ./a.out      -> "soft_sqrtf: ok" */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "soft_sqrtf.h"

static int same(uint32_t bits) {
    float x, a, b;
    memcpy(&x, &bits, 4);
    a = soft_sqrtf(x);
    b = sqrtf(x);
    if (isnan(a) && isnan(b)) return 1;
    if (memcmp(&a, &b, 4)) { printf("soft_sqrtf(%a) = %a, not %a\n", x, a, b); return 0; }
    return 1;
}

int main(void) {
    for (uint32_t u = 0x3e800000u; u < 0x40800000u; u++) if (!same(u)) return 1;
    for (uint32_t u = 0; u < 1000000u; u++) if (!same(u) || !same(0x7fffffu - u)) return 1;
    uint32_t s = 12345;
    for (int i = 0; i < 10000000; i++) { s = s * 1664525u + 1013904223u; if (!same(s)) return 1; }
    const uint32_t special[] = {0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7f7fffffu, 0x00000001u, 0xbf800000u};
    for (unsigned i = 0; i < sizeof special / sizeof *special; i++) if (!same(special[i])) return 1;
    printf("soft_sqrtf: ok\n");
    return 0;
}
