/* The device harness: decodes 16 samples of fixed seeds from the model in flash (a C array from
 * `export-weights --c-array device_model`), the way a microcontroller does it: the handle and the
 * workspace in static RAM (vaert_model_size, vaert_init_static, vaert_workspace_size, vaert_sample_ws),
 * no heap. Prints one line: the checksum of the pixels (FNV-1a over their bits), the ticks per image
 * (instructions under QEMU's -icount shift=0, times DEVICE_INSTRUCTIONS_PER_TICK), the handle,
 * workspace and stack bytes. With -DDEVICE_DAMAGED it first flips a byte of a copy of the model's header
 * and expects the open to fail, printing the status and message, and exits 1 if it does not. */
#include <stdint.h>
#include "device.h"
#include "vaert.h"

extern const unsigned char device_model[];
extern const size_t device_model_size;

#ifndef HANDLE_BYTES
#define HANDLE_BYTES 2048
#endif
#ifndef WORKSPACE_BYTES
#define WORKSPACE_BYTES 8192
#endif
enum { IMAGES = 16, SEED = 7, MAX_PIXELS = 784 };

static unsigned char handle_memory[HANDLE_BYTES] __attribute__((aligned(16)));
static unsigned char workspace[WORKSPACE_BYTES] __attribute__((aligned(64)));
static float pixels[MAX_PIXELS];

static void print_number(uint64_t n) {
    char digits[24];
    int i = sizeof digits - 1;
    digits[i] = 0;
    do { digits[--i] = (char)('0' + n % 10); n /= 10; } while (n);
    device_print(digits + i);
}

static void print_hex(uint32_t n) {
    char digits[11] = "0x";
    for (int i = 0; i < 8; i++) digits[2 + i] = "0123456789abcdef"[(n >> (28 - 4 * i)) & 15];
    digits[10] = 0;
    device_print(digits);
}

static int failed(vaert_status status, const char *what) {
    device_print("device: ");
    device_print(what);
    device_print(": ");
    device_print(vaert_status_string(status));
    device_print(": ");
    device_print(vaert_last_error());
    device_print("\n");
    return 1;
}

int device_main(void) {
    size_t handle_size, workspace_size, c, h, w;
    vaert_status s = vaert_model_size(device_model, device_model_size, &handle_size);
    if (s != VAERT_OK) return failed(s, "model size");
    if (handle_size > sizeof handle_memory) return failed(VAERT_E_BUFFER_TOO_SMALL, "handle memory");
    vaert_model *model = 0;
    s = vaert_init_static(device_model, device_model_size, handle_memory, sizeof handle_memory, &model);
    if (s != VAERT_OK) return failed(s, "init");
    if ((s = vaert_get_image_shape(model, &c, &h, &w)) != VAERT_OK) return failed(s, "shape");
    if (c * h * w > MAX_PIXELS) return failed(VAERT_E_UNSUPPORTED, "image larger than the harness's buffer");
    if ((s = vaert_workspace_size(model, VAERT_OP_SAMPLE, 1, &workspace_size)) != VAERT_OK) return failed(s, "workspace size");
    if (workspace_size > sizeof workspace) return failed(VAERT_E_BUFFER_TOO_SMALL, "workspace");
    uint32_t checksum = 2166136261u;
    uint64_t ticks = 0;
    for (int i = 0; i < IMAGES; i++) {
        uint64_t start = device_ticks();
        s = vaert_sample_ws(model, SEED, (uint64_t)i, 1, 0, pixels, workspace, workspace_size);
        ticks += device_ticks() - start;
        if (s != VAERT_OK) return failed(s, "sample");
        for (size_t p = 0; p < c * h * w; p++) {
            union { float f; uint32_t u; } bits = {pixels[p]};
            for (int b = 0; b < 4; b++) { checksum ^= (bits.u >> (8 * b)) & 0xff; checksum *= 16777619u; }
#ifdef DEVICE_PRINT_PIXELS
            print_hex(bits.u);
            device_print(p + 1 == c * h * w ? "\n" : " ");
#endif
        }
    }
    vaert_close(model);
    device_print("ok, ");
    print_number(IMAGES);
    device_print(" images, checksum ");
    print_hex(checksum);
    device_print(", ticks/image ");
    print_number(ticks / IMAGES);
    device_print(", handle ");
    print_number(handle_size);
    device_print(", workspace ");
    print_number(workspace_size);
    device_print(", stack ");
    print_number(device_stack_used());
    device_print("\n");
    return 0;
}
