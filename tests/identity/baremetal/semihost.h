/* semihost.h: the two Arm semihosting calls the bare-metal runner needs (BKPT 0xAB on M-profile). */
#ifndef VALORI_IDENTITY_SEMIHOST_H
#define VALORI_IDENTITY_SEMIHOST_H

static inline int sh_call(int op, const void *arg) {
  register int r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}
/* SYS_WRITE0: a NUL-terminated string to the debugger console (QEMU: stdout). */
static inline void sh_write0(const char *s) { sh_call(0x04, s); }
/* SYS_GET_CMDLINE: the command line (QEMU: -append) into buf; 0 on success. */
static inline int sh_cmdline(char *buf, int size) {
  struct { char *p; int n; } blk;
  blk.p = buf;
  blk.n = size;
  return sh_call(0x15, &blk);
}
/* SYS_EXIT: ADP_Stopped_ApplicationExit (QEMU exits 0) or RunTimeErrorUnknown (QEMU exits 1). */
static inline void sh_exit(int code) {
  for (;;) sh_call(0x18, (const void *)(uintptr_t)(code == 0 ? 0x20026 : 0x20023));
}
#endif
