/* Checks tools/device/riscv32/builtins.c against the host's own 64-bit arithmetic: edge cases and a
 * million pseudo-random operands, on the host with the builtins renamed (tools/device/run.sh runs it
 * before the rv32 board):  cc -O2 tools/device/riscv32/builtins_test.c && ./a.out  -> "builtins: ok". */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define __ashldi3 test_ashldi3
#define __lshrdi3 test_lshrdi3
#define __udivdi3 test_udivdi3
#define __floatdisf test_floatdisf
#include "builtins.c"

static uint64_t state = 0x9E3779B97F4A7C15u;
static uint64_t next(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state; }

static int check(uint64_t a, uint64_t b) {
    int s = (int)(b & 63);
    if (test_ashldi3(a, s) != a << s) { printf("builtins: %llx << %d\n", (unsigned long long)a, s); return 1; }
    if (test_lshrdi3(a, s) != a >> s) { printf("builtins: %llx >> %d\n", (unsigned long long)a, s); return 1; }
    if (b && test_udivdi3(a, b) != a / b) { printf("builtins: %llx / %llx\n", (unsigned long long)a, (unsigned long long)b); return 1; }
    float f = test_floatdisf((int64_t)a), g = (float)(int64_t)a;
    if (memcmp(&f, &g, sizeof f)) { printf("builtins: float(%lld) = %a, not %a\n", (long long)a, f, g); return 1; }
    return 0;
}

int main(void) {
    const uint64_t edges[] = {0, 1, 2, 3, 0x7fffff, 0xffffff, 0x1000000, 0x1000001, 0x1000003, 0xffffffff, 0x100000000,
                              0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff, 0x20000010000000, 0x20000030000000};
    for (unsigned i = 0; i < sizeof edges / sizeof *edges; i++)
        for (unsigned j = 0; j < sizeof edges / sizeof *edges; j++)
            if (check(edges[i], edges[j]) || check(-edges[i], edges[j] + 1)) return 1;
    for (int i = 0; i < 1000000; i++) {
        uint64_t a = next(), b = next();
        /* Operands of every width: shift each right by a random amount. */
        if (check(a >> (b & 63), b >> ((a >> 8) & 63))) return 1;
    }
    if (test_udivdi3(5, 0) != UINT64_MAX) { printf("builtins: division by 0\n"); return 1; }
    printf("builtins: ok\n");
    return 0;
}
