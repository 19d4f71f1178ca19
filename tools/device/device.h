/* What each board's startup gives the device harness (tools/device/decode_device.c). */
#ifndef VAERT_DEVICE_H
#define VAERT_DEVICE_H
#include <stddef.h>
#include <stdint.h>

void device_print(const char *text);
/* n as 0x and eight hex digits (decode_device.c; the boards' fault handlers use it too). */
void device_print_hex(uint32_t n);
__attribute__((noreturn)) void device_exit(int code);
/* Instructions retired so far, deterministic under QEMU's -icount shift=0 (SysTick on Cortex-M, calibrated
 * at reset; minstret on RV32). */
uint64_t device_instructions(void);
/* Bytes of stack used so far: the painted stack's high-water mark (stack.c on the boards). */
size_t device_stack_used(void);
/* While `on`, any allocator call ends the program (tools/freestanding/support.c). */
void freestanding_forbid_allocation(int on);
/* The program: returns the exit code. */
int device_main(void);
#endif
