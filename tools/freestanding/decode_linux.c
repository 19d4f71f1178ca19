/* Decodes with the Embedded AArch64 build of libvaert as a static Linux program with no C library, for
 * qemu-aarch64 (Debian's qemu-user) on any machine:
 *
 *   qemu-aarch64 .build/embedded/aarch64-none-none-elf/decode-linux MODEL.vaert Z.bin OUT.bin
 *
 * Z.bin holds float32 latent vectors; OUT.bin receives the float32 pixels. It takes the device path
 * with no heap: the model in place (64-byte aligned), its handle in static memory (vaert_model_size,
 * vaert_init_static), a static workspace of vaert_workspace_size bytes, vae_decode_ws. From the size
 * query to vaert_close the allocator is forbidden: any malloc, free or posix_memalign ends the program
 * with status 3, naming the call. It prints the RAM the model needed: handle and workspace bytes.
 * System calls are made directly (the generic Linux numbers of AArch64); the file buffers come from
 * support.c. */
#include <stddef.h>
#include <stdint.h>
#include "vaert.h"

#if !defined(__aarch64__)
#error "decode_linux.c makes AArch64 Linux system calls"
#endif

enum { SYS_openat = 56, SYS_close = 57, SYS_read = 63, SYS_write = 64, SYS_exit_group = 94 };
enum { AT_FDCWD = -100, O_RDONLY = 0, O_WRONLY_CREAT_TRUNC = 01 | 0100 | 01000 };

static long sys(long number, long a, long b, long c, long d) {
    register long x8 __asm__("x8") = number;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
    return x0;
}

void *malloc(size_t size);
int posix_memalign(void **out, size_t alignment, size_t size);
size_t strlen(const char *s);
void freestanding_forbid_allocation(int on);

static void say(int fd, const char *text) { sys(SYS_write, fd, (long)text, (long)strlen(text), 0); }

static void say_number(int fd, size_t n) {
    char digits[24];
    int i = sizeof digits - 1;
    digits[i] = 0;
    do { digits[--i] = (char)('0' + n % 10); n /= 10; } while (n);
    say(fd, digits + i);
}

static void say_hex(int fd, uintptr_t n) {
    char digits[19] = "0x";
    for (int i = 0; i < 16; i++) digits[2 + i] = "0123456789abcdef"[(n >> (60 - 4 * i)) & 15];
    digits[18] = 0;
    say(fd, digits);
}

void allocation_forbidden(const char *function) {
    say(2, "decode-linux: ");
    say(2, function);
    say(2, " called between the size query and vaert_close, from");
    /* The return addresses of the frame-pointer chain, for llvm-symbolizer. */
    uintptr_t *frame = __builtin_frame_address(0);
    for (int depth = 0; frame && depth < 8; depth++, frame = (uintptr_t *)frame[0]) {
        say(2, " ");
        say_hex(2, frame[1]);
    }
    say(2, "\n");
    sys(SYS_exit_group, 3, 0, 0, 0);
    __builtin_unreachable();
}

/* The device's RAM: the handle and the workspace, static, as on a microcontroller. */
static unsigned char handle_memory[1u << 20];
static unsigned char workspace[16u << 20];
static float out_pixels[8u << 20];

static void fail(const char *what, const char *detail) {
    say(2, "decode-linux: ");
    say(2, what);
    say(2, ": ");
    say(2, detail);
    say(2, "\n");
    sys(SYS_exit_group, 1, 0, 0, 0);
}

static void check(vaert_status status, const char *what) {
    if (status != VAERT_OK) fail(what, vaert_last_error());
}

/* The whole file at `path`, 64-byte aligned (the in-place model needs it). */
static unsigned char *read_file(const char *path, size_t *size) {
    long fd = sys(SYS_openat, AT_FDCWD, (long)path, O_RDONLY, 0);
    if (fd < 0) fail(path, "cannot open");
    size_t capacity = 32u << 20;
    void *buffer = 0;
    if (posix_memalign(&buffer, 64, capacity) != 0) fail(path, "out of memory");
    size_t n = 0;
    for (;;) {
        long got = sys(SYS_read, fd, (long)((unsigned char *)buffer + n), (long)(capacity - n), 0);
        if (got < 0) fail(path, "read error");
        if (got == 0) break;
        n += (size_t)got;
        if (n == capacity) fail(path, "larger than 32 MB");
    }
    sys(SYS_close, fd, 0, 0, 0);
    *size = n;
    return buffer;
}

static int run(int argc, char **argv) {
    if (argc != 4) fail("usage", "decode-linux MODEL.vaert Z.bin OUT.bin");
    size_t model_size, z_size;
    unsigned char *model_bytes = read_file(argv[1], &model_size);
    float *z = (float *)read_file(argv[2], &z_size);

    freestanding_forbid_allocation(1);
    size_t handle_size;
    check(vaert_model_size(model_bytes, model_size, &handle_size), "model size");
    if (handle_size > sizeof handle_memory) fail("open", "the handle needs more than the program's static memory");
    vaert_model *model = 0;
    check(vaert_init_static(model_bytes, model_size, handle_memory, sizeof handle_memory, &model), "init");
    size_t latent, channels, height, width;
    check(vaert_get_latent_dim(model, &latent), "latent dimension");
    check(vaert_get_image_shape(model, &channels, &height, &width), "image shape");
    size_t batch = z_size / 4 / latent, pixels = channels * height * width;
    if (batch * pixels > sizeof out_pixels / 4) fail("decode", "the images need more than the program's output buffer");
    float *out = out_pixels;
    size_t workspace_size;
    check(vaert_workspace_size(model, VAERT_OP_DECODE, batch, &workspace_size), "workspace size");
    if (workspace_size > sizeof workspace) fail("decode", "the workspace needs more than the program's static memory");
    check(vae_decode_ws(model, z, 0, batch, out, workspace, workspace_size), "decode");
    vaert_close(model);
    freestanding_forbid_allocation(0);

    long fd = sys(SYS_openat, AT_FDCWD, (long)argv[3], O_WRONLY_CREAT_TRUNC, 0644);
    if (fd < 0) fail(argv[3], "cannot create");
    size_t bytes = batch * pixels * 4, written = 0;
    while (written < bytes) {
        long n = sys(SYS_write, fd, (long)((unsigned char *)out + written), (long)(bytes - written), 0);
        if (n <= 0) fail(argv[3], "write error");
        written += (size_t)n;
    }
    sys(SYS_close, fd, 0, 0, 0);
    say(1, "aarch64 decode, no allocation: handle ");
    say_number(1, handle_size);
    say(1, " bytes, workspace ");
    say_number(1, workspace_size);
    say(1, " bytes\n");
    return 0;
}

/* The kernel starts the program with argc, then the argv pointers, on the stack. */
__attribute__((used)) static void start_c(long *stack) {
    sys(SYS_exit_group, run((int)stack[0], (char **)(stack + 1)), 0, 0, 0);
}

__asm__(".text\n.global _start\n_start:\n  mov x0, sp\n  bl start_c\n");
