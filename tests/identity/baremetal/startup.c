/*
** startup.c: reset vector and fault handlers for the bare-metal identity runner (Cortex-M33 on the
** QEMU mps3-an524 board). Zeroes .bss, calls main, reports the result through semihosting.
*/
#include <stdint.h>

#include "semihost.h"

extern uint32_t __bss_start__, __bss_end__, __stack_top;
int main(void);

void Reset_Handler(void);
void Fault_Handler(void);

void Reset_Handler(void) {
  uint32_t *p;
  for (p = &__bss_start__; p < &__bss_end__; p++) *p = 0;
  sh_exit(main());
}

void Fault_Handler(void) {
  sh_write0("FATAL: processor fault (hard fault, memory management, bus or usage fault)\n");
  sh_exit(1);
}

/* Initial stack pointer, reset and the 14 system exception vectors; no interrupts are used. */
__attribute__((section(".vectors"), used)) void (*const vl_vectors[16])(void) = {
    (void (*)(void))(&__stack_top), Reset_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, 0, 0, 0, Fault_Handler, Fault_Handler, 0, Fault_Handler, Fault_Handler};
