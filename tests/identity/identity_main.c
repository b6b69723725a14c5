/*
** identity_main.c: hosted driver of the identity workload (native, qemu-user, wasm in Node and in
** Chromium). Prints transcripts to stdout; scripts/identity.sh compares them with tests/golden/.
**
**   identity_runner [--trace]                   every golden configuration, one after another
**   identity_runner [--trace] NAME...           only those (seed1, seed2, ...)
**   identity_runner [--trace] --custom SEED DIM EVENTS [ip]   an ad-hoc run (not golden)
**   identity_runner --arena MB ...              allocate from the bare-metal arena allocator (peak on stderr)
** Exit status: 0 when every run completed with its internal checks holding.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baremetal/arena.h"
#include "workload.h"

static void out_stdout(void *ctx, const char *text) {
  (void)ctx;
  fputs(text, stdout);
}

int main(int argc, char **argv) {
  unsigned flags = 0;
  int i, bad = 0, ran = 0;
  const valori_allocator *a = valori_libc_allocator();
  static wl_arena arena;
  void *arena_mem = NULL;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--arena") == 0 && i + 1 < argc) {
      size_t mb = strtoul(argv[++i], NULL, 10);
      arena_mem = malloc(mb << 20);
      if (!arena_mem) return 2;
      a = wl_arena_init(&arena, arena_mem, mb << 20);
    } else if (strcmp(argv[i], "--trace") == 0) {
      flags |= WL_TRACE;
    } else if (strcmp(argv[i], "--custom") == 0 && i + 3 < argc) {
      wl_config c = {"custom", 0, 0, VALORI_METRIC_L2, 0, 0, 0, 1000, VALORI_INDEX_HNSW};
      c.seed = strtoull(argv[i + 1], NULL, 10);
      c.dim = (uint32_t)strtoul(argv[i + 2], NULL, 10);
      c.events = (uint32_t)strtoul(argv[i + 3], NULL, 10);
      i += 3;
      if (i + 1 < argc && strcmp(argv[i + 1], "ip") == 0) {
        c.metric = VALORI_METRIC_IP;
        i++;
      }
      bad |= wl_run(&c, a, flags, out_stdout, NULL);
      ran++;
    } else {
      const wl_config *c = wl_find_config(argv[i]);
      if (!c) {
        fprintf(stderr, "identity_runner: unknown configuration '%s'\n", argv[i]);
        return 2;
      }
      bad |= wl_run(c, a, flags, out_stdout, NULL);
      ran++;
    }
  }
  if (!ran)
    for (i = 0; i < (int)wl_golden_count; i++) bad |= wl_run(&wl_golden_configs[i], a, flags, out_stdout, NULL);
  fflush(stdout);
  if (arena_mem) fprintf(stderr, "identity_runner: arena peak %zu bytes (%zu requested), high-water %zu\n", arena.peak, arena.exact_peak, (size_t)(arena.top - arena.base));
  return bad ? 1 : 0;
}
