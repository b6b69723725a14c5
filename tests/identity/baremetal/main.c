/*
** main.c: bare-metal identity runner. Runs every golden configuration from a static arena in DDR
** (no malloc, no libc I/O: text leaves through semihosting) and exits non-zero if a run failed.
** scripts/identity.sh compares the output with tests/golden/ like any other target.
*/
#include <stdint.h>

#include "arena.h"
#include "semihost.h"
#include "workload.h"

extern uint8_t __arena_start__[], __arena_end__[];

static void out_semihost(void *ctx, const char *text) {
  (void)ctx;
  sh_write0(text);
}

static int run(const wl_config *c) {
  static wl_arena arena;
  const valori_allocator *a = wl_arena_init(&arena, __arena_start__, (size_t)(__arena_end__ - __arena_start__));
  return wl_run(c, a, 0, out_semihost, 0);
}

int main(void) {
  static char cmd[256];
  unsigned i;
  int bad = 0, ran = 0;
  char *p;
  if (valori_libc_allocator() != 0) {
    sh_write0("FATAL: core built without VALORI_FREESTANDING\n");
    return 1;
  }
  if (sh_cmdline(cmd, (int)sizeof cmd - 1) != 0) cmd[0] = 0;
  for (p = cmd; *p;) { /* words separated by spaces; the first word may be the program name */
    char *w = p;
    const wl_config *c;
    while (*p && *p != ' ') p++;
    if (*p) *p++ = 0;
    if (!*w) continue;
    c = wl_find_config(w);
    if (!c) continue;
    bad |= run(c);
    ran++;
  }
  if (!ran)
    for (i = 0; i < wl_golden_count; i++) bad |= run(&wl_golden_configs[i]);
  return bad;
}
