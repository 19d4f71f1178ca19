/* Cortex-M startup for the device harness: the vector table, a reset handler that copies .data, zeroes
 * .bss, paints the stack (for the high-water mark), enables the FPU and calls device_main; fault
 * handlers that report over semihosting and exit non-zero. SysTick counts instructions under QEMU's
 * -icount shift=0 (device_instructions). */
#include <stdint.h>
#include "../device.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_bottom, __stack_top;

/* ARM semihosting: operation in r0, argument in r1, BKPT 0xAB (Thumb). */
static uint32_t semihost(uint32_t operation, const void *argument) {
    register uint32_t r0 __asm__("r0") = operation;
    register const void *r1 __asm__("r1") = argument;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void device_print(const char *text) { semihost(0x04, text); /* SYS_WRITE0 */ }

void device_exit(int code) {
    /* SYS_EXIT_EXTENDED: ADP_Stopped_ApplicationExit and the code, so that QEMU exits with it. */
    uint32_t block[2] = {0x20026, (uint32_t)code};
    semihost(0x20, block);
    for (;;) {}
}

/* SysTick: the processor clock, counting down from 2^24 - 1; each wrap adds 2^24 to the count. Under
 * QEMU's -icount shift=0 each instruction takes 1 ns, and on the mps2 boards SysTick runs at 25 MHz: 40
 * instructions a tick. The reset handler measures the ratio rather than assuming it. */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018)
static volatile uint32_t systick_wraps;
static uint32_t instructions_per_tick = 1;
static void systick_handler(void) { systick_wraps++; }

static uint64_t ticks(void) {
    uint32_t wraps, value;
    do { wraps = systick_wraps; value = SYST_CVR; } while (wraps != systick_wraps);
    return ((uint64_t)wraps << 24) + (0xFFFFFFu - value);
}

uint64_t device_instructions(void) { return ticks() * instructions_per_tick; }

/* Times 2,000,000 instructions (a subs/bne loop), rounding to the nearest whole ratio. */
static void calibrate(void) {
    uint32_t n = 1000000;
    uint64_t start = ticks();
    __asm__ volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(n) : : "cc");
    uint64_t elapsed = ticks() - start;
    instructions_per_tick = (uint32_t)((2000000u + elapsed / 2) / elapsed);
}

/* frame: the registers the core stacked on entry (r0-r3, r12, lr, pc, xpsr). */
__attribute__((used)) void device_fault(const uint32_t *frame) {
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    device_print("device: fault (exception ");
    device_print_hex(ipsr & 0x1ff);
    device_print(") at pc ");
    device_print_hex(frame[6]);
    device_print(", lr ");
    device_print_hex(frame[5]);
    device_print(", CFSR ");
    device_print_hex(*(volatile uint32_t *)0xE000ED28);
    device_print(", BFAR ");
    device_print_hex(*(volatile uint32_t *)0xE000ED38);
    device_print("\n");
    device_exit(2);
}

/* Every fault and unexpected interrupt: report the stacked frame (from MSP or PSP, as EXC_RETURN says). */
__attribute__((naked)) static void fault(void) {
    __asm__ volatile("tst lr, #4\n ite eq\n mrseq r0, msp\n mrsne r0, psp\n b device_fault\n");
}
#define hard_fault fault
#define memory_fault fault
#define bus_fault fault
#define usage_fault fault
#define unexpected fault

__attribute__((naked, noreturn)) void reset_handler(void) {
    /* Paint the stack below the current frame before any C code uses it. */
    __asm__ volatile(
        "ldr r0, =__stack_bottom\n"
        "ldr r1, =__stack_top\n"
        "sub r1, r1, #64\n"
        "ldr r2, =0xDEADBEEF\n"
        "1: cmp r0, r1\n"
        "bhs 2f\n"
        "str r2, [r0], #4\n"
        "b 1b\n"
        "2: b device_reset\n");
}

__attribute__((noreturn, used)) void device_reset(void) {
    for (uint32_t *s = &__data_load, *d = &__data_start; d < &__data_end;) *d++ = *s++;
    for (uint32_t *d = &__bss_start; d < &__bss_end;) *d++ = 0;
    /* CPACR: full access to CP10 and CP11 (the FPU), then barriers before the first float instruction. */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm__ volatile("dsb\nisb");
    SYST_RVR = 0xFFFFFF;
    SYST_CVR = 0;
    SYST_CSR = 7; /* processor clock, interrupt, enable */
    /* A write leaves the counter at 0 until its next tick reloads it: wait, so that the count starts at 0. */
    while (SYST_CVR == 0) {}
    calibrate();
    device_exit(device_main());
}

typedef void (*handler)(void);
__attribute__((section(".vectors"), used)) static const handler vectors[16 + 16] = {
    (handler)&__stack_top, reset_handler, unexpected, hard_fault, memory_fault, bus_fault, usage_fault,
    0, 0, 0, 0, unexpected, unexpected, 0, unexpected, systick_handler,
    unexpected, unexpected, unexpected, unexpected, unexpected, unexpected, unexpected, unexpected,
    unexpected, unexpected, unexpected, unexpected, unexpected, unexpected, unexpected, unexpected,
};
