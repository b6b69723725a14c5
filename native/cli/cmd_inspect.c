/*
** cmd_inspect.c: `valori inspect DIR`: one line per file of a store: each log segment's height
** range, record count and state (clean, torn tail, corrupt at an offset), each snapshot's height,
** size and root with its checksums checked, and the store's configuration. Reads only; checks
** each file on its own (the chain across files and the replay are `valori verify`).
*/
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

typedef struct names {
  char **v;
  size_t n, cap;
} names;

static int collect(void *arg, const char *name) {
  names *N = (names *)arg;
  if (N->n == N->cap) {
    size_t nc = N->cap ? N->cap * 2 : 32;
    char **p = (char **)realloc(N->v, nc * sizeof *p);
    if (!p) return VALORI_ENOMEM;
    N->v = p;
    N->cap = nc;
  }
  N->v[N->n] = (char *)malloc(strlen(name) + 1);
  if (!N->v[N->n]) return VALORI_ENOMEM;
  strcpy(N->v[N->n++], name);
  return VALORI_OK;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void print_cfg(const vl_config *c) {
  const char *metric = c->metric == VALORI_METRIC_L2 ? "l2" : c->metric == VALORI_METRIC_IP ? "ip" : "?";
  if (c->hnsw_m == 0 && c->hnsw_ef_construction == 0 && c->hnsw_ef_search == 0)
    printf("config: dim %u, metric %s, no index (exact search only)\n", c->dim, metric);
  else
    printf("config: dim %u, metric %s, hnsw M %u, ef_construction %u, ef_search %u\n", c->dim, metric, c->hnsw_m,
           c->hnsw_ef_construction, c->hnsw_ef_search);
}

int vcli_inspect(int argc, char **argv) {
  valori_vfs *v;
  names N = {NULL, 0, 0};
  vl_buf buf;
  size_t i;
  int rc, damaged = 0, cfg_shown = 0;
  vl_config cfg;
  if (argc != 2) {
    fprintf(stderr, "usage: valori inspect DIR\n");
    return VCLI_USAGE;
  }
  v = vcli_open_dir(argv[1]);
  if (!v) return VCLI_FAILED;
  rc = v->list(v->ctx, collect, &N);
  if (rc != VALORI_OK) {
    fprintf(stderr, "error: cannot list %s: %s\n", argv[1], valori_strerror(rc));
    valori_posix_vfs_close(v);
    return VCLI_FAILED;
  }
  qsort(N.v, N.n, sizeof *N.v, cmp_name);
  vl_buf_init(&buf, valori_libc_allocator());
  printf("store: %s (%zu files)\n", argv[1], N.n);
  for (i = 0; i < N.n; i++) {
    uint64_t h;
    int kind = vl_name_parse(N.v[i], &h);
    if (kind == 1 || kind == 2) {
      rc = vl_read_file(v, N.v[i], &buf);
      if (rc != VALORI_OK) {
        printf("  %-34s unreadable: %s\n", N.v[i], valori_strerror(rc));
        damaged = 1;
        continue;
      }
    }
    if (kind == 1) {
      vl_seg_scan sc;
      rc = vl_seg_scan_run(buf.p, buf.len, NULL, NULL, &sc);
      printf("  %-34s %10zu bytes  ", N.v[i], buf.len);
      if (rc == VALORI_EVERSION || sc.state == VL_SEG_BADHDR) {
        printf("BAD HEADER: %s\n", sc.what);
        damaged = 1;
        continue;
      }
      if (!cfg_shown) { cfg = sc.hdr.cfg; cfg_shown = 1; }
      if (sc.nrec) printf("heights %llu..%llu, %llu records", (unsigned long long)sc.hdr.first_height,
                          (unsigned long long)sc.last_height, (unsigned long long)sc.nrec);
      else printf("no records (next height %llu)", (unsigned long long)sc.hdr.first_height);
      if (sc.hdr.first_height != h) { printf(", NAME/HEADER HEIGHT MISMATCH"); damaged = 1; }
      if (sc.state == VL_SEG_TORN)
        printf(", torn tail at offset %llu (%llu bytes: %s)", (unsigned long long)sc.bad_off,
               (unsigned long long)(buf.len - sc.bad_off), sc.what);
      if (sc.state == VL_SEG_CORRUPT) {
        printf(", CORRUPT at offset %llu: %s", (unsigned long long)sc.bad_off, sc.what);
        damaged = 1;
      }
      printf("\n");
    } else if (kind == 2) {
      vl_snap_hdr sh;
      const char *what = "";
      uint64_t off = 0;
      rc = vl_snap_file_check(buf.p, buf.len, &sh, &what, &off);
      printf("  %-34s %10zu bytes  ", N.v[i], buf.len);
      if (rc != VALORI_OK) {
        printf("DAMAGED at offset %llu: %s\n", (unsigned long long)off, what);
        damaged = 1;
        continue;
      }
      printf("snapshot at height %llu, root ", (unsigned long long)sh.height);
      vcli_hex(stdout, sh.root);
      printf("\n");
      if (!cfg_shown) { cfg = sh.cfg; cfg_shown = 1; }
    } else if (kind == 3) {
      printf("  %-34s unpublished snapshot (removed by the next writable open)\n", N.v[i]);
    } else if (strcmp(N.v[i], "LOCK") == 0) {
      printf("  %-34s writer lock file\n", N.v[i]);
    } else {
      printf("  %-34s not part of the store (ignored)\n", N.v[i]);
    }
  }
  for (i = 0; i < N.n; i++) free(N.v[i]);
  free(N.v);
  vl_buf_free(&buf);
  valori_posix_vfs_close(v);
  if (cfg_shown) print_cfg(&cfg);
  if (damaged) {
    printf("result: DAMAGED (run `valori verify` for the chain and replay checks)\n");
    return VCLI_DAMAGED;
  }
  printf("result: every file's checksums are valid\n");
  return VCLI_OK;
}
