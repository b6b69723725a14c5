/*
** identity_main.c: hosted driver of the identity workload (native, qemu-user, wasm in Node and in
** Chromium). Prints transcripts to stdout; scripts/identity.sh compares them with tests/golden/.
**
**   identity_runner [--trace]                   every golden configuration, one after another
**   identity_runner [--trace] NAME...           only those (seed1, seed2, ...)
**   identity_runner [--trace] --custom SEED DIM EVENTS [ip]   an ad-hoc run (not golden)
**   identity_runner --arena MB ...              allocate from the bare-metal arena allocator (peak on stderr)
**   identity_runner --store DIR ...             write each run into a durable store DIR/<name> through
**                                               the POSIX VFS (wl_run_store; emptied first); builds
**                                               with valori_native only (not wasm, not bare metal)
** Exit status: 0 when every run completed with its internal checks holding.
*/
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baremetal/arena.h"
#include "workload.h"

#ifdef VALORI_IDENTITY_STORE
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "valori_native.h"
#endif

static void out_stdout(void *ctx, const char *text) {
  (void)ctx;
  fputs(text, stdout);
}

static const char *store_dir = NULL; /* --store */

#ifdef VALORI_IDENTITY_STORE
/* Makes dir (and its parent) exist and removes every file in dir; returns 0 on success. */
static int empty_dir(const char *parent, const char *dir) {
  DIR *d;
  struct dirent *e;
  char path[4096];
  if ((mkdir(parent, 0755) != 0 && errno != EEXIST) || (mkdir(dir, 0755) != 0 && errno != EEXIST)) return -1;
  if (!(d = opendir(dir))) return -1;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path || unlink(path) != 0) {
      closedir(d);
      return -1;
    }
  }
  closedir(d);
  return 0;
}
#endif

/* One configuration, in memory or (--store) in a durable store of its own. */
static int run(const wl_config *c, const valori_allocator *a, unsigned flags) {
#ifdef VALORI_IDENTITY_STORE
  if (store_dir) {
    char dir[4096];
    valori_vfs *vfs = NULL;
    int rc, bad;
    if ((size_t)snprintf(dir, sizeof dir, "%s/%s", store_dir, c->name) >= sizeof dir || empty_dir(store_dir, dir) != 0) {
      fprintf(stderr, "identity_runner: cannot prepare an empty store directory %s\n", dir);
      return 1;
    }
    if ((rc = valori_posix_vfs_open(dir, 0, &vfs)) != VALORI_OK) {
      fprintf(stderr, "identity_runner: %s: %s\n", dir, valori_strerror(rc));
      return 1;
    }
    bad = wl_run_store(c, a, flags, vfs, out_stdout, NULL);
    valori_posix_vfs_close(vfs);
    return bad;
  }
#endif
  return wl_run(c, a, flags, out_stdout, NULL);
}

int main(int argc, char **argv) {
  unsigned flags = 0;
  int i, bad = 0, ran = 0;
  const valori_allocator *a = valori_libc_allocator();
  static wl_arena arena;
  void *arena_mem = NULL;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--store") == 0 && i + 1 < argc) {
#ifndef VALORI_IDENTITY_STORE
      fprintf(stderr, "identity_runner: --store: this build has no POSIX VFS (valori_native)\n");
      return 2;
#endif
      store_dir = argv[++i];
    } else if (strcmp(argv[i], "--arena") == 0 && i + 1 < argc) {
      size_t mb = strtoul(argv[++i], NULL, 10);
      arena_mem = malloc(mb << 20);
      if (!arena_mem) return 2;
      a = wl_arena_init(&arena, arena_mem, mb << 20);
    } else if (strcmp(argv[i], "--trace") == 0) {
      flags |= WL_TRACE;
    } else if (strcmp(argv[i], "--custom") == 0 && i + 3 < argc) {
      wl_config c = {"custom", 0, 0, VALORI_METRIC_L2, 0, 0, 0, 1000, VALORI_INDEX_HNSW, 0, 0};
      c.seed = strtoull(argv[i + 1], NULL, 10);
      c.dim = (uint32_t)strtoul(argv[i + 2], NULL, 10);
      c.events = (uint32_t)strtoul(argv[i + 3], NULL, 10);
      i += 3;
      if (i + 1 < argc && strcmp(argv[i + 1], "ip") == 0) {
        c.metric = VALORI_METRIC_IP;
        i++;
      }
      bad |= run(&c, a, flags);
      ran++;
    } else {
      const wl_config *c = wl_find_config(argv[i]);
      if (!c) {
        fprintf(stderr, "identity_runner: unknown configuration '%s'\n", argv[i]);
        return 2;
      }
      bad |= run(c, a, flags);
      ran++;
    }
  }
  if (!ran)
    for (i = 0; i < (int)wl_golden_count; i++) bad |= run(&wl_golden_configs[i], a, flags);
  fflush(stdout);
  if (arena_mem) fprintf(stderr, "identity_runner: arena peak %zu bytes (%zu requested), high-water %zu\n", arena.peak, arena.exact_peak, (size_t)(arena.top - arena.base));
  return bad ? 1 : 0;
}
