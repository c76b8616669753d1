/* What the harness uses of startup.c: buffered semihosting output, exit, and SysTick. */
#ifndef WB_TARGET_H
#define WB_TARGET_H

#include <stdint.h>

#define WB_SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define WB_SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define WB_SYST_CVR (*(volatile uint32_t *)0xE000E018u)

void wb_puts(const char *s);
void wb_put_hex(uint32_t v);
void wb_flush(void);
void wb_exit(int ok) __attribute__((noreturn));
void wb_systick_start(void);
uint32_t wb_calibrate(uint32_t iterations);
uint32_t wb_stack_peak(void);

#endif /* WB_TARGET_H */
