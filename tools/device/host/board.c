/* The device harness as a desktop program against the native libvaert, for tools/device/run.sh to
 * compare the boards' pixels with: output to stdout, no instruction count, no stack measure. */
#include <stdio.h>
#include <stdlib.h>
#include "../device.h"

void device_print(const char *text) { fputs(text, stdout); }
void device_exit(int code) { exit(code); }
uint64_t device_instructions(void) { return 0; }
size_t device_stack_used(void) { return 0; }
void freestanding_forbid_allocation(int on) { (void)on; }
int main(void) { return device_main(); }
