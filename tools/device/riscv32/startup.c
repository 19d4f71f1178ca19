/* RV32 startup for the device harness on QEMU's virt board (-bios none: the core starts here in machine
 * mode): _start sets the stack, paints it (for the high-water mark), points mtvec at a trap handler that
 * reports the cause and exits non-zero, and enables the FPU (mstatus.FS); device_reset copies .data,
 * zeroes .bss and calls device_main. Output goes to the ns16550 UART, the exit code through the
 * sifive_test device. minstret counts instructions, deterministic under -icount shift=0. */
#include <stdint.h>
#include "../device.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;

#define UART ((volatile uint8_t *)0x10000000)          /* THR at 0; LSR at 5, bit 5: ready for a byte */
#define TEST_FINISHER (*(volatile uint32_t *)0x100000) /* 0x5555: pass; (code << 16) | 0x3333: fail */

void device_print(const char *text) {
    for (; *text; text++) {
        while (!(UART[5] & 0x20)) {}
        UART[0] = (uint8_t)*text;
    }
}

void device_exit(int code) {
    TEST_FINISHER = code == 0 ? 0x5555u : ((uint32_t)code << 16) | 0x3333u;
    for (;;) {}
}

uint64_t device_instructions(void) {
    uint32_t high, low, again;
    do {
        __asm__ volatile("csrr %0, minstreth\n csrr %1, minstret\n csrr %2, minstreth" : "=r"(high), "=r"(low), "=r"(again));
    } while (high != again);
    return ((uint64_t)high << 32) | low;
}

/* Every exception (the harness enables no interrupts). */
__attribute__((used, noreturn)) void device_trap(void) {
    uint32_t cause, pc, value;
    __asm__ volatile("csrr %0, mcause" : "=r"(cause));
    __asm__ volatile("csrr %0, mepc" : "=r"(pc));
    __asm__ volatile("csrr %0, mtval" : "=r"(value));
    device_print("device: trap (mcause ");
    device_print_hex(cause);
    device_print(") at pc ");
    device_print_hex(pc);
    device_print(", mtval ");
    device_print_hex(value);
    device_print("\n");
    device_exit(2);
}

__attribute__((used, noreturn)) void device_reset(void) {
    for (uint32_t *s = &__data_load, *d = &__data_start; d < &__data_end;) *d++ = *s++;
    for (uint32_t *d = &__bss_start; d < &__bss_end;) *d++ = 0;
    device_exit(device_main());
}

__asm__(
    ".section .text.start, \"ax\"\n"
    ".globl _start\n"
    "_start:\n"
    "  la sp, __stack_top\n"
    "  la t0, __stack_bottom\n"
    "  addi t1, sp, -64\n"
    "  li t2, 0xDEADBEEF\n"
    "1: bgeu t0, t1, 2f\n"
    "  sw t2, 0(t0)\n"
    "  addi t0, t0, 4\n"
    "  j 1b\n"
    "2: la t0, trap\n"
    "  csrw mtvec, t0\n"
    "  li t0, 0x2000\n"        /* mstatus.FS = initial: float instructions allowed */
    "  csrs mstatus, t0\n"
    "  csrw fcsr, zero\n"
    "  j device_reset\n"
    "  .p2align 2\n"
    "trap:\n"
    "  j device_trap\n");
