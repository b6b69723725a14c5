/*
** gen_corpus.c: writes the seed corpora of the fuzz targets (tests/fuzz/corpus/...) from a real
** store: the shared workload runs over the fault VFS, then every log segment (whole, and with a
** torn tail), every logged event (prefixed with the dimension byte fuzz_event expects), and every
** snapshot (as a file, and its engine payload alone) are written out. Store d runs the multi-field
** update workload (update_wl.h: UPDATE_RECORD events of every field combination) on three records,
** the ids fuzz_event's seed state holds, so its logged events reach the engine's update path. Run
** by hand when a format changes: fuzz_gen_corpus tests/fuzz/corpus. Store b's log also becomes
** replication streams (corpus/frame: HELLO, every record as a RECORD frame, HEARTBEAT, ERROR; the
** whole stream, and single frames).
*/
#include <stdio.h>

#include "log.h"
#include "store_wl.h"
#include "update_wl.h"

static const char *outdir;
static const char *prefix = "a-"; /* store a; the others set theirs */
static fv_fs *gfs;
static int nfile;

static void put(const char *sub, const char *name, const uint8_t *p, size_t n, const uint8_t *pre, size_t np) {
  char path[1024];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s/%s%s", outdir, sub, prefix, name);
  f = fopen(path, "wb");
  if (!f) { perror(path); return; }
  if (np) fwrite(pre, 1, np, f);
  fwrite(p, 1, n, f);
  fclose(f);
  nfile++;
}

static int ev_cb(void *arg, const vl_rec *r, uint64_t off) {
  char name[64];
  uint8_t dimb = (uint8_t)(WL_DIM - 1);
  (void)arg;
  (void)off;
  snprintf(name, sizeof name, "ev-%03llu", (unsigned long long)r->height);
  put("event", name, r->ev, r->len, &dimb, 1);
  return VALORI_OK;
}

static void each(void *arg, const char *name) {
  size_t len;
  const uint8_t *d = fv_file_data(gfs, name, &len);
  uint64_t h;
  int kind = vl_name_parse(name, &h);
  (void)arg;
  if (kind == 1) {
    vl_seg_scan sc;
    char nm[96];
    snprintf(nm, sizeof nm, "%s", name);
    put("logrec", nm, d, len, NULL, 0);
    if (len > 40) {
      snprintf(nm, sizeof nm, "torn-%s", name);
      put("logrec", nm, d, len - 37, NULL, 0);
    }
    vl_seg_scan_run(d, len, ev_cb, NULL, &sc);
  } else if (kind == 2) {
    char nm[96];
    put("snapshot", name, d, len, NULL, 0);
    snprintf(nm, sizeof nm, "payload-%s", name);
    if (len > VL_SNAP_HDR) put("snapshot", nm, d + VL_SNAP_HDR, len - VL_SNAP_HDR, NULL, 0);
  } else if (kind == VL_NAME_HEAD) {
    put("head", name, d, len, NULL, 0);
  }
}

/* Appends frame f to buf at *n (cap bytes). */
static void frame_put(const valori_frame *f, uint8_t *buf, size_t cap, size_t *n) {
  size_t len = 0;
  if (valori_frame_encode(f, buf + *n, cap - *n, &len) == VALORI_OK) *n += len;
}

/* corpus/frame from the store in gfs, whose log starts at height 1 (configuration cfg). */
static void frames(const uint32_t cfg[5]) {
  static uint8_t buf[1 << 20];
  valori_options o;
  valori_cursor *c = NULL;
  valori_frame f;
  const uint8_t *rec;
  size_t len, n = 0, one;
  int k = 0;
  valori_options_init(&o);
  o.vfs = fv_vfs(gfs);
  memset(&f, 0, sizeof f);
  f.type = VALORI_FRAME_HELLO;
  f.from = 1;
  f.leader_height = 1000;
  f.log_first_height = 1;
  memcpy(f.config, cfg, sizeof f.config);
  f.heartbeat_ms = 1000;
  f.time_ms = 1733212800000ull;
  frame_put(&f, buf, sizeof buf, &n);
  put("frame", "hello", buf, n, NULL, 0);
  if (valori_cursor_open(&o, 1, UINT64_MAX - 1, &c) != VALORI_OK) return;
  while (valori_cursor_next(c, UINT64_MAX - 1, &rec, &len) == VALORI_OK && rec) {
    memset(&f, 0, sizeof f);
    f.type = VALORI_FRAME_RECORD;
    f.data = rec;
    f.data_len = len;
    one = n;
    frame_put(&f, buf, sizeof buf, &n);
    if (k++ < 4) {
      char nm[32];
      snprintf(nm, sizeof nm, "record-%d", k);
      put("frame", nm, buf + one, n - one, NULL, 0);
    }
  }
  valori_cursor_close(c);
  memset(&f, 0, sizeof f);
  f.type = VALORI_FRAME_HEARTBEAT;
  f.leader_height = (uint64_t)k;
  f.time_ms = 1733212801000ull;
  one = n;
  frame_put(&f, buf, sizeof buf, &n);
  put("frame", "heartbeat", buf + one, n - one, NULL, 0);
  put("frame", "stream", buf, n, NULL, 0);
  memset(&f, 0, sizeof f);
  f.type = VALORI_FRAME_ERROR;
  f.code = 113;
  f.data = (const uint8_t *)"the leader is stopping";
  f.data_len = 22;
  one = n;
  frame_put(&f, buf, sizeof buf, &n);
  put("frame", "error", buf + one, n - one, NULL, 0);
}

/* vt.h's counters are unused in a generator; this keeps -Wunused-variable quiet. */
static void vt_unused(void) { (void)vt_failures; (void)vt_checks; }

int main(int argc, char **argv) {
  valori_db *db;
  wl_result *r = (wl_result *)calloc(1, sizeof *r);
  if (argc != 2) {
    fprintf(stderr, "usage: fuzz_gen_corpus CORPUS_DIR\n");
    return 2;
  }
  outdir = argv[1];
  /* store a: small segments, automatic snapshots, pruning */
  gfs = fv_new(1);
  db = wl_open(fv_vfs(gfs), NULL, 0, NULL);
  if (!db) return 1;
  wl_run(db, 3, 0, r);
  valori_close(db);
  fv_list_names(gfs, each, NULL);
  fv_free(gfs);
  /* store b: one large segment from height 1, graph-heavy, one explicit snapshot */
  {
    valori_options o;
    prefix = "b-";
    gfs = fv_new(2);
    wl_options(&o, fv_vfs(gfs), NULL, 0);
    o.snapshot_every = UINT64_MAX;
    o.segment_bytes = 1u << 20;
    if (valori_open("b", &o, &db) != VALORI_OK) return 1;
    memset(r, 0, sizeof *r);
    wl_run(db, 2, 0, r);
    valori_snapshot(db);
    valori_close(db);
    fv_list_names(gfs, each, NULL);
    {
      const uint32_t cfg[5] = {WL_DIM, VALORI_METRIC_L2, 4, 16, 16};
      frames(cfg);
    }
    fv_free(gfs);
  }
  /* store c: store a's workload on an index-less store (its files carry format version 2) */
  prefix = "c-";
  wl_index = VALORI_INDEX_NONE;
  gfs = fv_new(3);
  memset(r, 0, sizeof *r);
  db = wl_open(fv_vfs(gfs), NULL, 0, NULL);
  if (!db) return 1;
  wl_run(db, 3, 0, r);
  valori_close(db);
  fv_list_names(gfs, each, NULL);
  fv_free(gfs);
  /* store d: UPDATE_RECORD events, every combination of vector, tag and metadata, three times */
  {
    int i;
    prefix = "d-";
    wl_index = VALORI_INDEX_HNSW;
    gfs = fv_new(4);
    db = wl_open(fv_vfs(gfs), NULL, 0, NULL);
    if (!db || upd_fill(db, 3) != VALORI_OK) return 1;
    for (i = 0; i < 21; i++)
      if (upd_step(db, i, 3) != VALORI_OK) return 1;
    valori_close(db);
    fv_list_names(gfs, each, NULL);
    fv_free(gfs);
  }
  printf("wrote %d corpus files\n", nfile);
  free(r);
  return 0;
}
