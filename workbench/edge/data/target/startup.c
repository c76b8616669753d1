/* Bare-metal start-up for QEMU's MPS2 boards, used by workbench.edge.target.
 *
 * mps2-an386 (Cortex-M4F, built -mfloat-abi=hard) and mps2-an385 (a Cortex-M3 core that runs
 * the ARMv6-M code built with -mcpu=cortex-m0 -mfloat-abi=soft) share one memory map:
 * 4 MiB SSRAM at 0x00000000 (the image, "flash") and 4 MiB at 0x20000000 (RAM), see mps2.ld.
 *
 * No newlib start files: this file holds the vector table, a reset handler that copies .data,
 * zeroes .bss and enables the FPU where there is one, and the only I/O the harness needs:
 * ARM semihosting SYS_WRITE0 (text to the host's stdout) and SYS_EXIT (end QEMU with a status).
 * A fault prints "WB_FAULT" and exits with a failure status instead of hanging.
 */
#include <stdint.h>
#include "wb_target.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack, end;
extern int main(void);

/* The stack's high-water mark: the top of RAM is painted at reset and scanned at the end. */
#define WB_PAINT 0x5AC35AC3u
#define WB_PAINT_WINDOW_WORDS (64u * 1024u) /* 256 KiB below the top of RAM */

static uint32_t *wb_paint_low(void) {
    uint32_t *low = &_estack - WB_PAINT_WINDOW_WORDS;
    return low > &end ? low : &end;
}

uint32_t wb_stack_peak(void) {
    uint32_t *p = wb_paint_low();
    while (p < &_estack && *p == WB_PAINT) p++;
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)p);
}

#define SYS_WRITE0 0x04
#define SYS_EXIT 0x18
#define ADP_STOPPED_APPLICATION_EXIT 0x20026
#define ADP_STOPPED_RUNTIME_ERROR 0x20023

static int wb_semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* Output is buffered and written in large pieces: every semihosting call traps to QEMU. */
static char wb_buf[2048];
static uint32_t wb_len;

void wb_flush(void) {
    if (wb_len == 0) return;
    wb_buf[wb_len] = '\0';
    wb_semihost(SYS_WRITE0, wb_buf);
    wb_len = 0;
}

void wb_puts(const char *s) {
    while (*s) {
        if (wb_len >= sizeof(wb_buf) - 1) wb_flush();
        wb_buf[wb_len++] = *s++;
    }
}

void wb_put_hex(uint32_t v) {
    static const char digits[] = "0123456789abcdef";
    char text[10];
    for (int i = 0; i < 8; i++) text[i] = digits[(v >> (28 - 4 * i)) & 0xFu];
    text[8] = ' ';
    text[9] = '\0';
    wb_puts(text);
}

void wb_exit(int ok) {
    wb_flush();
    wb_semihost(SYS_EXIT,
                (const void *)(uintptr_t)(ok ? ADP_STOPPED_APPLICATION_EXIT
                                             : ADP_STOPPED_RUNTIME_ERROR));
    for (;;) {
    }
}

void wb_systick_start(void) {
    WB_SYST_RVR = 0x00FFFFFFu;
    WB_SYST_CVR = 0;
    WB_SYST_CSR = 5u; /* enabled, processor clock, no interrupt */
}

/* Instructions of a loop of known length, so the host can check the tick-to-instruction ratio. */
uint32_t wb_calibrate(uint32_t iterations) {
    uint32_t before = WB_SYST_CVR;
    __asm__ volatile(
        ".syntax unified\n" /* GCC switches to divided syntax around asm in Thumb-1 code */
        "1: subs %0, %0, #1\n"
        "   bne 1b\n"
        : "+l"(iterations)
        :
        : "cc");
    uint32_t after = WB_SYST_CVR;
    return (before - after) & 0x00FFFFFFu;
}

static void wb_fault(void) {
    wb_puts("\nWB_FAULT\n");
    wb_exit(0);
}

void Reset_Handler(void) {
#if defined(__ARM_FP)
    /* Full access to CP10 and CP11 (the FPU) before any floating-point instruction runs. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n isb" ::: "memory");
#endif
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0;
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=l"(sp));
    for (uint32_t *p = wb_paint_low(); p < sp - 16; p++) *p = WB_PAINT;
    wb_exit(main() == 0);
}

/* Newlib's libm may reference these; nothing here calls exit() or static constructors. */
void _exit(int code) { wb_exit(code == 0); }
void _init(void) {}
void _fini(void) {}

typedef void (*wb_vector)(void);

__attribute__((section(".isr_vector"), used)) const wb_vector wb_vectors[16] = {
    (wb_vector)(uintptr_t)&_estack, /* initial stack pointer */
    Reset_Handler,
    wb_fault, /* NMI */
    wb_fault, /* HardFault */
    wb_fault, /* MemManage */
    wb_fault, /* BusFault */
    wb_fault, /* UsageFault */
    0, 0, 0, 0,
    wb_fault, /* SVCall */
    wb_fault, /* DebugMonitor */
    0,
    wb_fault, /* PendSV */
    wb_fault, /* SysTick: never enabled as an interrupt */
};
