/* The little a freestanding wasm32 module needs around libvaert's Embedded Swift code: a bump allocator
 * (malloc, posix_memalign; free releases nothing), mem* functions, the error message buffer, and
 * arc4random_buf for Swift's hashing seed. Built with clang --target=wasm32 -ffreestanding by
 * tools/wasm/run.sh; the JS harness (decode.mjs) allocates its buffers with the exported malloc. */
#include <stddef.h>
#include <stdint.h>

extern unsigned char __heap_base;
static uintptr_t next_free = 0;

static void *bump(size_t alignment, size_t size) {
    if (!next_free) next_free = (uintptr_t)&__heap_base;
    uintptr_t start = (next_free + alignment - 1) & ~(uintptr_t)(alignment - 1);
    size_t pages_needed = (start + size + 65535) / 65536;
    size_t pages = __builtin_wasm_memory_size(0);
    if (pages_needed > pages && __builtin_wasm_memory_grow(0, pages_needed - pages) == (size_t)-1) return NULL;
    next_free = start + size;
    return (void *)start;
}

void *malloc(size_t size) { return bump(16, size); }
void *calloc(size_t n, size_t size) { unsigned char *p = bump(16, n * size); for (size_t i = 0; p && i < n * size; i++) p[i] = 0; return p; }
void free(void *p) { (void)p; }
void *aligned_alloc(size_t alignment, size_t size) { return bump(alignment < 16 ? 16 : alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
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
