/* The stack's high-water mark on the bare-metal boards: each startup paints the stack with 0xDEADBEEF
 * at reset (the linker script's __stack_bottom to __stack_top); the words still painted were never used. */
#include <stdint.h>
#include "device.h"

extern uint32_t __stack_bottom, __stack_top;

size_t device_stack_used(void) {
    uint32_t *p = &__stack_bottom;
    while (p < &__stack_top && *p == 0xDEADBEEFu) p++;
    return (size_t)((uintptr_t)&__stack_top - (uintptr_t)p);
}
