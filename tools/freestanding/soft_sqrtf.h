/* A correctly rounded sqrtf in integer arithmetic, for cores with no floating-point unit (where
 * __builtin_sqrtf would call sqrtf itself). Included by support.c; checked against the host's sqrtf
 * over every float of several binades and random ones by tools/freestanding/soft_sqrtf_test.c. */
#include <stdint.h>

static float soft_sqrtf(float x) {
    union { float f; uint32_t u; } v = {x};
    if ((v.u & 0x7fffffffu) == 0) return x;                     /* ±0 */
    if (v.u >> 31) { v.u = 0x7fc00000u; return v.f; }          /* negative: NaN */
    if (v.u >= 0x7f800000u) return x;                          /* +infinity, NaN */
    int e = (int)(v.u >> 23);
    uint32_t m = v.u & 0x7fffffu;
    if (e == 0) { e = 1; while (!(m & 0x800000u)) { m <<= 1; e--; } } /* subnormal: normalise */
    else m |= 0x800000u;
    e -= 127; /* x = m · 2^(e - 23), m in [2^23, 2^24) */
    /* M = m · 2^k in [2^48, 2^50) with e - 23 - k even: its integer square root has 25 bits. */
    int k = (e & 1) ? 26 : 25;
    uint64_t rem = (uint64_t)m << k, root = 0, bit = (uint64_t)1 << 50;
    while (bit > rem) bit >>= 2;
    while (bit) {
        if (rem >= root + bit) { rem -= root + bit; root = (root >> 1) + bit; }
        else root >>= 1;
        bit >>= 2;
    }
    /* sqrt(x) = root · 2^((e - 23 - k) / 2), root in [2^24, 2^25): keep 24 bits, round to nearest even
     * (the last bit and whether anything was left; an exact tie cannot happen for a square root). */
    uint32_t mantissa = (uint32_t)(root >> 1);
    if ((root & 1) && (rem != 0 || (mantissa & 1))) mantissa++;
    int exponent = (e - 23 - k) / 2 + 24;
    if (mantissa == (1u << 24)) { mantissa >>= 1; exponent++; }
    v.u = ((uint32_t)(exponent + 127) << 23) | (mantissa & 0x7fffffu);
    return v.f;
}
