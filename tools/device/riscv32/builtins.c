/* The four compiler-rt builtins the RV32 build of libvaert calls (the Swift toolchain ships builtins for
 * x86-64 only): 64-bit shifts, unsigned 64-bit division and int64-to-float conversion. Written here,
 * rather than taken from gcc-riscv64-unknown-elf's libgcc (37 MB to download for these), in 32-bit halves
 * so that none of them calls another. Checked against the host's arithmetic by tools/device/run.sh's
 * builtins test (tools/device/riscv32/builtins_test.c). */
#include <stdint.h>

typedef union { uint64_t all; struct { uint32_t low, high; } s; } words; /* RV32 is little-endian */

uint64_t __ashldi3(uint64_t a, int b) {
    words x = {a}, r;
    if (b == 0) return a;
    if (b >= 32) { r.s.low = 0; r.s.high = x.s.low << (b - 32); }
    else { r.s.low = x.s.low << b; r.s.high = (x.s.high << b) | (x.s.low >> (32 - b)); }
    return r.all;
}

uint64_t __lshrdi3(uint64_t a, int b) {
    words x = {a}, r;
    if (b == 0) return a;
    if (b >= 32) { r.s.high = 0; r.s.low = x.s.high >> (b - 32); }
    else { r.s.high = x.s.high >> b; r.s.low = (x.s.low >> b) | (x.s.high << (32 - b)); }
    return r.all;
}

/* Restoring division, one quotient bit a step, on 32-bit halves (by 0: all ones, as RV32's divu). */
uint64_t __udivdi3(uint64_t n, uint64_t d) {
    words num = {n}, den = {d}, q = {0}, r = {0};
    if (den.s.high == 0 && num.s.high == 0 && den.s.low) return num.s.low / den.s.low;
    for (int i = 63; i >= 0; i--) {
        /* r = (r << 1) | bit i of n */
        r.s.high = (r.s.high << 1) | (r.s.low >> 31);
        r.s.low = (r.s.low << 1) | ((i >= 32 ? num.s.high >> (i - 32) : num.s.low >> i) & 1);
        if (r.s.high > den.s.high || (r.s.high == den.s.high && r.s.low >= den.s.low)) {
            uint32_t borrow = r.s.low < den.s.low;
            r.s.low -= den.s.low;
            r.s.high -= den.s.high + borrow;
            if (i >= 32) q.s.high |= 1u << (i - 32); else q.s.low |= 1u << i;
        }
    }
    return q.all;
}

/* int64 to float, rounded to nearest, ties to even (as the conversion instruction of a 64-bit core). */
float __floatdisf(int64_t a) {
    words x = {(uint64_t)a};
    uint32_t sign = 0;
    if (a < 0) { sign = 1u << 31; x.s.low = ~x.s.low + 1; x.s.high = ~x.s.high + (x.s.low == 0); }
    if (x.s.high == 0 && x.s.low < (1u << 24)) { /* exact in 24 bits */
        float f = (float)x.s.low;
        return sign ? -f : f;
    }
    int top = x.s.high ? 63 - __builtin_clz(x.s.high) : 31 - __builtin_clz(x.s.low); /* index of the leading 1 */
    int shift = top - 23;                                                              /* > 0 */
    /* The 24 kept bits, and what is shifted out: the half-way bit and whether anything below it is set. */
    words kept = {__lshrdi3(x.all, shift)};
    words rest = {x.all ^ __ashldi3(kept.all, shift)};
    words half = {__ashldi3(1, shift - 1)};
    uint32_t mantissa = kept.s.low;
    int above = rest.s.high > half.s.high || (rest.s.high == half.s.high && rest.s.low > half.s.low);
    int tie = rest.s.high == half.s.high && rest.s.low == half.s.low;
    if (above || (tie && (mantissa & 1))) mantissa++;
    if (mantissa == (1u << 24)) { mantissa >>= 1; top++; }
    union { uint32_t u; float f; } bits = {sign | ((uint32_t)(top + 127) << 23) | (mantissa & 0x7fffff)};
    return bits.f;
}
