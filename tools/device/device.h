/* What each board's startup gives the device harness (tools/device/decode_device.c). */
#ifndef VAERT_DEVICE_H
#define VAERT_DEVICE_H
#include <stddef.h>
#include <stdint.h>

void device_print(const char *text);
__attribute__((noreturn)) void device_exit(int code);
/* A tick counter that QEMU's -icount shift=0 makes deterministic; DEVICE_INSTRUCTIONS_PER_TICK converts. */
uint64_t device_ticks(void);
/* Bytes of stack used so far (painted at reset). */
size_t device_stack_used(void);
/* The program: returns the exit code. */
int device_main(void);
#endif
