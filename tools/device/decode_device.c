/* The device harness: decodes 16 samples of fixed seeds from the model in flash (a C array from
 * `export-weights --c-array device_model`), the way a microcontroller does it: the handle and the
 * workspace in static RAM of exactly the sizes vaert_model_size and vaert_workspace_size give
 * (HANDLE_BYTES, WORKSPACE_BYTES; tools/device/run.sh finds them with a -DDEVICE_SIZES build first), and
 * no heap: from the first sample to the last, any allocator call ends the program.
 *
 * Prints one line: the checksum of the pixels (FNV-1a over their bits), instructions per image, the
 * handle, workspace and stack bytes; with -DDEVICE_PRINT_PIXELS, first one line of hex words per image.
 * A model that does not open (a damaged array) prints its status and message, and the exit code is 1. */
#include <stdint.h>
#include "device.h"
#include "vaert.h"

extern const unsigned char device_model[];
extern const size_t device_model_size;

#ifdef DEVICE_SIZES
#define HANDLE_BYTES 4096
#define WORKSPACE_BYTES 16
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

static char *hex(uint32_t n, char *out) {
    for (int i = 0; i < 8; i++) out[i] = "0123456789abcdef"[(n >> (28 - 4 * i)) & 15];
    return out + 8;
}

void device_print_hex(uint32_t n) {
    char digits[11] = "0x";
    *hex(n, digits + 2) = 0;
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

/* support.c calls this on any allocator call while allocation is forbidden. */
__attribute__((noreturn)) void allocation_forbidden(const char *function) {
    device_print("device: allocator call while decoding: ");
    device_print(function);
    device_print("\n");
    device_exit(3);
}

#ifdef DEVICE_PRINT_PIXELS
static char line[MAX_PIXELS * 9 + 2];
static void print_pixels(size_t count) {
    char *p = line;
    for (size_t i = 0; i < count; i++) {
        union { float f; uint32_t u; } bits = {pixels[i]};
        p = hex(bits.u, p);
        *p++ = i + 1 == count ? '\n' : ' ';
    }
    *p = 0;
    device_print(line);
}
#endif

int device_main(void) {
    size_t handle_size, workspace_size, c, h, w;
    vaert_status s = vaert_model_size(device_model, device_model_size, &handle_size);
    if (s != VAERT_OK) return failed(s, "model");
    if (handle_size > sizeof handle_memory) return failed(VAERT_E_BUFFER_TOO_SMALL, "handle memory");
    vaert_model *model = 0;
    s = vaert_init_static(device_model, device_model_size, handle_memory, sizeof handle_memory, &model);
    if (s != VAERT_OK) return failed(s, "init");
    if ((s = vaert_get_image_shape(model, &c, &h, &w)) != VAERT_OK) return failed(s, "shape");
    if (c * h * w > MAX_PIXELS) return failed(VAERT_E_UNSUPPORTED, "image larger than the harness's buffer");
    if ((s = vaert_workspace_size(model, VAERT_OP_SAMPLE, 1, &workspace_size)) != VAERT_OK) return failed(s, "workspace size");
#ifdef DEVICE_SIZES
    device_print("sizes ");
    print_number(handle_size);
    device_print(" ");
    print_number(workspace_size);
    device_print("\n");
    return 0;
#else
    if (handle_size != sizeof handle_memory || workspace_size != sizeof workspace) {
        return failed(VAERT_E_BUFFER_TOO_SMALL, "static memory: build with the sizes of a -DDEVICE_SIZES run");
    }
    uint32_t checksum = 2166136261u;
    uint64_t instructions = 0;
    freestanding_forbid_allocation(1);
    for (int i = 0; i < IMAGES; i++) {
        uint64_t start = device_instructions();
        s = vaert_sample_ws(model, SEED, (uint64_t)i, 1, 0, pixels, workspace, workspace_size);
        instructions += device_instructions() - start;
        if (s != VAERT_OK) break;
        for (size_t p = 0; p < c * h * w; p++) {
            union { float f; uint32_t u; } bits = {pixels[p]};
            for (int b = 0; b < 4; b++) { checksum ^= (bits.u >> (8 * b)) & 0xff; checksum *= 16777619u; }
        }
#ifdef DEVICE_PRINT_PIXELS
        print_pixels(c * h * w);
#endif
    }
    freestanding_forbid_allocation(0);
    if (s != VAERT_OK) return failed(s, "sample");
    vaert_close(model);
    device_print("ok, ");
    print_number(IMAGES);
    device_print(" images, checksum ");
    device_print_hex(checksum);
    device_print(", instructions/image ");
    print_number(instructions / IMAGES);
    device_print(", handle ");
    print_number(handle_size);
    device_print(", workspace ");
    print_number(workspace_size);
    device_print(", stack ");
    print_number(device_stack_used());
    device_print("\n");
    return 0;
#endif
}
