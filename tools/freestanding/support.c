/* The little a freestanding program needs around libvaert's Embedded Swift code: a bump allocator
 * (malloc, posix_memalign; free releases nothing) that a program can forbid (any call then ends it
 * through allocation_forbidden, which the program may define), mem* functions, sqrtf and rintf, the error message
 * buffer, arc4random_buf for Swift's hashing seed, and the stack protector's guard.
 *
 * Built with clang -ffreestanding by tools/build-embedded.sh, into the wasm32 module (tools/wasm/decode.mjs)
 * and the AArch64 Linux program run under qemu-aarch64 (decode_linux.c). On wasm32 the heap grows the
 * module's memory; elsewhere it is a static arena. */
#include <stddef.h>
#include <stdint.h>

#if defined(__wasm__)
extern unsigned char __heap_base;
static uintptr_t heap_start(void) { return (uintptr_t)&__heap_base; }
static int heap_reserve(uintptr_t end) {
    size_t pages_needed = (end + 65535) / 65536;
    size_t pages = __builtin_wasm_memory_size(0);
    return pages_needed <= pages || __builtin_wasm_memory_grow(0, pages_needed - pages) != (size_t)-1;
}
#else
/* A microcontroller's harness sets the arena to what its part can spare (only a failing call allocates: its message). */
#ifndef FREESTANDING_ARENA_BYTES
#define FREESTANDING_ARENA_BYTES (96u << 20)
#endif
static unsigned char arena[FREESTANDING_ARENA_BYTES] __attribute__((aligned(64)));
static uintptr_t heap_start(void) { return (uintptr_t)arena; }
static int heap_reserve(uintptr_t end) { return end <= (uintptr_t)arena + sizeof arena; }
#endif

static uintptr_t next_free = 0;
static int forbidden = 0;

/* Called on any allocator call while allocation is forbidden; must not return. */
__attribute__((weak, noreturn)) void allocation_forbidden(const char *function) { (void)function; __builtin_trap(); }

/* While `on`, every malloc, calloc, aligned_alloc, posix_memalign and free ends the program. */
void freestanding_forbid_allocation(int on) { forbidden = on; }

static void *bump(size_t alignment, size_t size) {
    if (!next_free) next_free = heap_start();
    uintptr_t start = (next_free + alignment - 1) & ~(uintptr_t)(alignment - 1);
    if (size > UINTPTR_MAX - start || !heap_reserve(start + size)) return NULL;
    next_free = start + size;
    return (void *)start;
}

void *malloc(size_t size) {
    if (forbidden) allocation_forbidden("malloc");
    return bump(16, size);
}
void *calloc(size_t n, size_t size) {
    if (forbidden) allocation_forbidden("calloc");
    if (size && n > SIZE_MAX / size) return NULL;
    unsigned char *p = bump(16, n * size);
    for (size_t i = 0; p && i < n * size; i++) p[i] = 0;
    return p;
}
void free(void *p) {
    if (forbidden) allocation_forbidden("free");
    (void)p;
}
void *aligned_alloc(size_t alignment, size_t size) {
    if (forbidden) allocation_forbidden("aligned_alloc");
    return bump(alignment < 16 ? 16 : alignment, size);
}
int posix_memalign(void **out, size_t alignment, size_t size) {
    if (forbidden) allocation_forbidden("posix_memalign");
    void *p = bump(alignment < 16 ? 16 : alignment, size);
    if (!p) return 12;
    *out = p;
    return 0;
}

void *memcpy(void *d, const void *s, size_t n) { unsigned char *a = d; const unsigned char *b = s; while (n--) *a++ = *b++; return d; }
void *memmove(void *d, const void *s, size_t n) {
    unsigned char *a = d; const unsigned char *b = s;
    if (a < b) while (n--) *a++ = *b++;
    else { a += n; b += n; while (n--) *--a = *--b; }
    return d;
}
void *memset(void *d, int c, size_t n) { unsigned char *a = d; while (n--) *a++ = (unsigned char)c; return d; }
int memcmp(const void *x, const void *y, size_t n) {
    const unsigned char *a = x, *b = y;
    for (; n; n--, a++, b++) if (*a != *b) return *a - *b;
    return 0;
}
size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
/* sqrtf: one instruction with an FPU (fsqrt, f32.sqrt, vsqrt.f32, fsqrt.s; built with -fno-math-errno, or
 * the builtin would call sqrtf itself), integer arithmetic without one (soft_sqrtf.h).
 * rintf: one instruction on AArch64 and wasm32 (frintx, f32.nearest). Cores without a round-to-integral
 * instruction (Cortex-M's FPv4/FPv5-SP, RV32F) round in software: adding and subtracting 2^23 rounds
 * |x| < 2^23 to an integer in the current rounding mode, as rintf does. */
#if (defined(__arm__) && !defined(__ARM_FP)) || (defined(__riscv) && !defined(__riscv_flen))
#include "soft_sqrtf.h"
float sqrtf(float x) { return soft_sqrtf(x); }
#else
float sqrtf(float x) { return __builtin_sqrtf(x); }
#endif
#if defined(__aarch64__) || defined(__wasm__)
float rintf(float x) { return __builtin_rintf(x); }
#else
float rintf(float x) {
    float magnitude = __builtin_fabsf(x);
    if (!(magnitude < 0x1p23f)) return x; /* already an integer, an infinity or a NaN */
    volatile float shifted = magnitude + 0x1p23f;
    return __builtin_copysignf(shifted - 0x1p23f, x);
}
#endif
void arc4random_buf(void *buffer, size_t n) { unsigned char *p = buffer; while (n--) *p++ = (unsigned char)(n * 131 + 7); }

static char message[512];
void vaert_support_set_message(const char *text, size_t length) {
    if (length >= sizeof message) length = sizeof message - 1;
    memcpy(message, text, length);
    message[length] = 0;
}
const char *vaert_support_message(void) { return message; }

/* Swift's stack protector. */
uintptr_t __stack_chk_guard = 0x5a5a17e5;
void __stack_chk_fail(void) { __builtin_trap(); }
