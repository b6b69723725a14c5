/*
** test_store_basic.c: the durable store through the public API over the in-memory VFS: reopen
** gives the same state; options conflicts, the single-writer lock and read-only opens; automatic
** and explicit snapshots with pruning; fallback from a damaged newest snapshot; torn tails trimmed
** and mid-log damage reported with file and offset; verify and replay-to-height; the three-step
** background snapshot; relaxed mode with flush.
*/
#include "store_int.h"
#include "store_wl.h"

static wl_result ref;

static void test_reopen_same_state(void) {
  fv_fs *fs = fv_new(1);
  valori_db *db = wl_open(fv_vfs(fs), NULL, 0, NULL);
  valori_recovery rec;
  valori_store_status st;
  uint8_t r1[32], r2[32];
  valori_stats s1, s2;
  VT_REQUIRE(db != NULL);
  memset(&ref, 0, sizeof ref);
  wl_run(db, 6, 0, &ref);
  VT_EQ_INT(ref.nfail, 0);
  VT_CHECK(ref.acked == ref.reached);
  VT_EQ_INT(valori_store_status_get(db, &st), VALORI_OK);
  VT_CHECK(st.snapshot_height > 0);
  VT_CHECK(st.durable_height == ref.reached);
  valori_state_root(db, r1);
  valori_stats_get(db, &s1);
  VT_EQ_INT(valori_close(db), VALORI_OK);
  db = wl_open(fv_vfs(fs), NULL, 0, NULL);
  VT_REQUIRE(db != NULL);
  valori_state_root(db, r2);
  valori_stats_get(db, &s2);
  VT_CHECK(memcmp(r1, r2, 32) == 0);
  VT_EQ_INT(s2.height, s1.height);
  VT_EQ_INT(s2.records, s1.records);
  VT_EQ_INT(s2.edges, s1.edges);
  VT_EQ_INT(valori_check(db), VALORI_OK);
  VT_EQ_INT(valori_recovery_info(db, &rec), VALORI_OK);
  VT_CHECK(rec.snapshot_height > 0);
  VT_EQ_INT(rec.snapshot_height + rec.replayed, s1.height);
  VT_EQ_INT(rec.trimmed_bytes, 0);
  VT_EQ_INT(valori_close(db), VALORI_OK);
  fv_free(fs);
}

/* Number of files of a kind in fs. */
typedef struct counts { int segs, snaps, tmps, other; } counts;
static void count_cb(void *arg, const char *name) {
  counts *c = (counts *)arg;
  uint64_t h;
  switch (vl_name_parse(name, &h)) {
    case 1: c->segs++; break;
    case 2: c->snaps++; break;
    case 3: c->tmps++; break;
    default: c->other++; break;
  }
}

static void test_pruning(void) {
  fv_fs *fs = fv_new(2);
  valori_db *db = wl_open(fv_vfs(fs), NULL, 0, NULL);
  wl_result *r = (wl_result *)calloc(1, sizeof *r);
  counts c = {0, 0, 0, 0};
  VT_REQUIRE(db != NULL);
  wl_run(db, 12, 0, r);
  VT_EQ_INT(r->nfail, 0);
  VT_EQ_INT(valori_close(db), VALORI_OK);
  fv_list_names(fs, count_cb, &c);
  VT_EQ_INT(c.snaps, 2);  /* the newest two */
  VT_EQ_INT(c.tmps, 0);
  VT_CHECK(c.segs >= 1);
  /* the log still reaches back to the older snapshot: verify replays from there */
  {
    valori_options o;
    valori_recovery rep;
    uint64_t h = 0;
    uint8_t root[32];
    wl_options(&o, fv_vfs(fs), NULL, 0);
    VT_EQ_INT(valori_verify(&o, &rep, &h, root), VALORI_OK);
    VT_EQ_INT(h, r->reached);
    VT_CHECK(memcmp(root, r->roots[h], 32) == 0);
  }
  free(r);
  fv_free(fs);
}

static void test_options_and_lock(void) {
  fv_fs *fs = fv_new(3);
  valori_options o;
  valori_db *db = wl_open(fv_vfs(fs), NULL, 0, NULL), *db2 = NULL, *ro = NULL;
  float v[WL_DIM] = {1, 2, 3, 4, 5, 6, 7, 8};
  uint64_t id;
  VT_REQUIRE(db != NULL);
  VT_EQ_INT(valori_insert(db, v, 1, NULL, 0, &id), VALORI_OK);
  /* a second writer */
  wl_options(&o, fv_vfs(fs), NULL, 0);
  VT_EQ_INT(valori_open("x", &o, &db2), VALORI_ELOCKED);
  /* a reader sees what is durable and cannot write */
  o.flags = VALORI_OPEN_READONLY;
  o.dim = 0;
  VT_EQ_INT(valori_open("x", &o, &ro), VALORI_OK);
  if (ro) {
    valori_stats st;
    valori_stats_get(ro, &st);
    VT_EQ_INT(st.height, 1);
    VT_EQ_INT(valori_insert(ro, v, 1, NULL, 0, &id), VALORI_EREADONLY);
    VT_EQ_INT(valori_close(ro), VALORI_OK);
  }
  VT_EQ_INT(valori_close(db), VALORI_OK);
  /* conflicting options */
  wl_options(&o, fv_vfs(fs), NULL, 0);
  o.dim = WL_DIM + 1;
  VT_EQ_INT(valori_open("x", &o, &db2), VALORI_ECONFIG);
  wl_options(&o, fv_vfs(fs), NULL, 0);
  o.hnsw_m = 8;
  VT_EQ_INT(valori_open("x", &o, &db2), VALORI_ECONFIG);
  /* dim 0: use the stored configuration */
  wl_options(&o, fv_vfs(fs), NULL, 0);
  o.dim = 0;
  VT_EQ_INT(valori_open("x", &o, &db2), VALORI_OK);
  if (db2) {
    valori_stats st;
    valori_stats_get(db2, &st);
    VT_EQ_INT(st.dim, WL_DIM);
    VT_EQ_INT(st.hnsw_m, 4);
    VT_EQ_INT(valori_close(db2), VALORI_OK);
  }
  /* missing store without CREATE */
  {
    fv_fs *empty = fv_new(4);
    wl_options(&o, fv_vfs(empty), NULL, 0);
    o.flags = 0;
    VT_EQ_INT(valori_open("x", &o, &db2), VALORI_ENOTFOUND);
    o.flags = VALORI_OPEN_CREATE;
    o.dim = 0;
    VT_EQ_INT(valori_open("x", &o, &db2), VALORI_EINVAL);
    fv_free(empty);
  }
  fv_free(fs);
}

/* Builds a store with the workload and returns its fs (closed cleanly). */
static fv_fs *build_store(int rounds, wl_result *r) {
  fv_fs *fs = fv_new(5);
  valori_db *db = wl_open(fv_vfs(fs), NULL, 0, NULL);
  if (!db) return fs;
  wl_run(db, rounds, 0, r);
  valori_close(db);
  return fs;
}

static void test_snapshot_fallback(void) {
  wl_result *r = (wl_result *)calloc(1, sizeof *r);
  fv_fs *fs = build_store(8, r);
  wl_names N;
  const char *newest = NULL;
  int i;
  N.k = 0;
  fv_list_names(fs, wl_names_cb, &N);
  for (i = 0; i < N.k; i++)
    if (strncmp(N.n[i], "snap-", 5) == 0) newest = N.n[i]; /* sorted: the last is the newest */
  VT_REQUIRE(newest != NULL);
  {
    size_t len;
    const uint8_t *d = fv_file_data(fs, newest, &len);
    uint8_t *copy = (uint8_t *)malloc(len);
    valori_db *db;
    valori_recovery rec;
    valori_stats st;
    uint8_t root[32];
    memcpy(copy, d, len);
    copy[len / 2] ^= 0x40;
    fv_file_set(fs, newest, copy, len);
    free(copy);
    db = wl_open(fv_vfs(fs), NULL, 0, NULL);
    VT_REQUIRE(db != NULL);
    valori_recovery_info(db, &rec);
    VT_EQ_INT(rec.snapshots_skipped, 1);
    VT_CHECK(strcmp(rec.skipped_file, newest) == 0);
    valori_stats_get(db, &st);
    valori_state_root(db, root);
    VT_EQ_INT(st.height, r->reached);
    VT_CHECK(memcmp(root, r->roots[st.height], 32) == 0);
    valori_close(db);
  }
  free(r);
  fv_free(fs);
}

static void test_torn_tail_and_midlog(void) {
  wl_result *r = (wl_result *)calloc(1, sizeof *r);
  fv_fs *fs = build_store(3, r);
  char seg[64];
  size_t len;
  const uint8_t *d;
  uint8_t *copy;
  valori_db *db;
  valori_recovery rec;
  valori_stats st;
  wl_newest_segment(fs, seg);
  d = fv_file_data(fs, seg, &len);
  VT_REQUIRE(d != NULL && len > VL_SEG_HDR);
  copy = (uint8_t *)malloc(len + 50);
  memcpy(copy, d, len);
  memset(copy + len, 0xAB, 50); /* a torn append */
  fv_file_set(fs, seg, copy, len + 50);
  db = wl_open(fv_vfs(fs), NULL, 0, NULL);
  VT_REQUIRE(db != NULL);
  valori_recovery_info(db, &rec);
  VT_EQ_INT(rec.trimmed_bytes, 50);
  VT_EQ_INT(rec.trimmed_offset, len);
  VT_CHECK(strcmp(rec.trimmed_file, seg) == 0);
  valori_stats_get(db, &st);
  VT_EQ_INT(st.height, r->reached);
  valori_close(db);
  d = fv_file_data(fs, seg, &len);
  VT_EQ_INT(len + 50, len + 50); /* trimmed on disk: */
  {
    size_t now;
    fv_file_data(fs, seg, &now);
    VT_EQ_INT(now, len);
  }
  /* damage in the middle of the first segment: ECORRUPT naming file and offset */
  {
    valori_options o;
    valori_recovery rep;
    wl_names N;
    const char *first = NULL;
    int i;
    size_t flen;
    N.k = 0;
    fv_list_names(fs, wl_names_cb, &N);
    for (i = 0; i < N.k && !first; i++)
      if (strncmp(N.n[i], "log-", 4) == 0) first = N.n[i];
    VT_REQUIRE(first != NULL);
    d = fv_file_data(fs, first, &flen);
    free(copy);
    copy = (uint8_t *)malloc(flen);
    memcpy(copy, d, flen);
    copy[VL_SEG_HDR + 20] ^= 1; /* first record's height field */
    fv_file_set(fs, first, copy, flen);
    wl_options(&o, fv_vfs(fs), NULL, 0);
    VT_EQ_INT(valori_verify(&o, &rep, NULL, NULL), VALORI_ECORRUPT);
    VT_CHECK(strcmp(rep.file, first) == 0);
    VT_EQ_INT(rep.offset, VL_SEG_HDR);
    VT_EQ_INT(valori_open("x", &o, &db), VALORI_ECORRUPT);
    o.flags = VALORI_OPEN_CREATE;
    VT_EQ_INT(valori_open_report("x", &o, &db, &rep), VALORI_ECORRUPT);
    VT_EQ_INT(rep.code, VALORI_ECORRUPT);
    VT_CHECK(strcmp(rep.file, first) == 0);
    VT_EQ_INT(rep.offset, VL_SEG_HDR);
    o.dim = WL_DIM + 1;
    VT_EQ_INT(valori_open_report("x", &o, &db, &rep), VALORI_ECONFIG);
    VT_EQ_INT(rep.code, VALORI_ECONFIG);
  }
  free(copy);
  free(r);
  fv_free(fs);
}

static void test_replay_to_height(void) {
  wl_result *r = (wl_result *)calloc(1, sizeof *r);
  fv_fs *fs = build_store(4, r);
  valori_options o;
  uint64_t h;
  wl_options(&o, fv_vfs(fs), NULL, 0);
  o.dim = 0;
  for (h = 0; h <= r->reached; h++) {
    valori_db *db = NULL;
    valori_recovery rep;
    int rc = valori_open_at_height(&o, h, &db, &rep);
    if (rc == VALORI_EHEIGHT && h < r->reached / 2) continue; /* pruned: older than what is kept */
    VT_EQ_INT(rc, VALORI_OK);
    if (rc) fprintf(stderr, "height %llu: %s %s @%llu\n", (unsigned long long)h, rep.detail, rep.file, (unsigned long long)rep.offset);
    if (db) {
      uint8_t root[32];
      valori_state_root(db, root);
      VT_CHECK(memcmp(root, r->roots[h], 32) == 0);
      valori_close(db);
    }
  }
  {
    valori_db *db = NULL;
    VT_EQ_INT(valori_open_at_height(&o, r->reached + 1, &db, NULL), VALORI_EHEIGHT);
  }
  free(r);
  fv_free(fs);
}

static void test_background_snapshot(void) {
  fv_fs *fs = fv_new(9);
  valori_db *db = wl_open(fv_vfs(fs), NULL, 0, NULL);
  valori_snapjob *job = NULL;
  float v[WL_DIM] = {1, 1, 1, 1, 1, 1, 1, 1};
  uint64_t id;
  int i, rc;
  uint8_t root[32], root2[32];
  VT_REQUIRE(db != NULL);
  for (i = 0; i < 5; i++) VT_EQ_INT(valori_insert(db, v, (uint64_t)i, NULL, 0, &id), VALORI_OK);
  VT_EQ_INT(valori_snapshot_begin(db, &job), VALORI_OK);
  for (i = 0; i < 5; i++) VT_EQ_INT(valori_insert(db, v, (uint64_t)i, NULL, 0, &id), VALORI_OK); /* writes go on */
  rc = valori_snapshot_write(db, job);
  VT_EQ_INT(rc, VALORI_OK);
  VT_EQ_INT(valori_snapshot_end(db, job, rc), VALORI_OK);
  VT_CHECK(fv_file_exists(fs, "snap-00000000000000000005.vsnap"));
  valori_state_root(db, root);
  valori_close(db);
  db = wl_open(fv_vfs(fs), NULL, 0, NULL);
  VT_REQUIRE(db != NULL);
  {
    valori_recovery rec;
    valori_recovery_info(db, &rec);
    VT_EQ_INT(rec.snapshot_height, 5);
    VT_EQ_INT(rec.replayed, 5);
  }
  valori_state_root(db, root2);
  VT_CHECK(memcmp(root, root2, 32) == 0);
  valori_close(db);
  fv_free(fs);
}

static void test_relaxed_flush(void) {
  fv_fs *fs = fv_new(10);
  valori_db *db = wl_open(fv_vfs(fs), NULL, 1, NULL);
  float v[WL_DIM] = {2, 2, 2, 2, 2, 2, 2, 2};
  uint64_t id, before, after;
  valori_store_status st;
  int i;
  VT_REQUIRE(db != NULL);
  before = fv_sync_points(fs);
  for (i = 0; i < 10; i++) VT_EQ_INT(valori_insert(db, v, 1, NULL, 0, &id), VALORI_OK);
  VT_EQ_INT(fv_sync_points(fs), before); /* nothing synced yet */
  valori_store_status_get(db, &st);
  VT_EQ_INT(st.appended_height, 10);
  VT_EQ_INT(st.durable_height, 0);
  VT_EQ_INT(valori_flush(db), VALORI_OK);
  after = fv_sync_points(fs);
  VT_EQ_INT(after - before, 1); /* one fsync for the ten writes: group commit */
  valori_store_status_get(db, &st);
  VT_EQ_INT(st.durable_height, 10);
  valori_close(db);
  fv_free(fs);
}


/* The three-step group commit, interleaved by hand: two tickets in flight, rotations while a
** ticket may still sync a segment (retired, closed at the last end), a failing sync poisoning the
** store, and a crash after an acknowledged commit. */
static void test_commit_tickets(void) {
  fv_fs *fs = fv_new(11), *img;
  valori_options o;
  valori_db *db = NULL;
  valori_commit c1, c2;
  valori_store_status st;
  float v[WL_DIM] = {1, 2, 3, 4, 5, 6, 7, 8};
  uint64_t id;
  int i, rc;
  wl_options(&o, fv_vfs(fs), NULL, 1);
  o.segment_bytes = 600; /* a rotation every few inserts */
  o.snapshot_every = UINT64_MAX;
  VT_REQUIRE(valori_open("t", &o, &db) == VALORI_OK);
  for (i = 0; i < 3; i++) VT_EQ_INT(valori_insert(db, v, 1, NULL, 0, &id), VALORI_OK);
  VT_EQ_INT(valori_commit_begin(db, &c1), VALORI_OK);
  VT_EQ_INT(c1.height, 3);
  for (i = 0; i < 20; i++) VT_EQ_INT(valori_insert(db, v, 1, NULL, 0, &id), VALORI_OK); /* rotates */
  VT_EQ_INT(valori_commit_begin(db, &c2), VALORI_OK);
  VT_EQ_INT(c2.height, 23);
  VT_EQ_INT(valori_commit_sync(db, &c2), VALORI_OK);
  VT_EQ_INT(valori_commit_end(db, &c2, VALORI_OK), VALORI_OK);
  valori_store_status_get(db, &st);
  VT_EQ_INT(st.durable_height, 23);
  VT_CHECK(st.segments > 1);
  rc = valori_commit_sync(db, &c1); /* its segment was retired, not closed */
  VT_EQ_INT(rc, VALORI_OK);
  VT_EQ_INT(valori_commit_end(db, &c1, rc), VALORI_OK);
  valori_store_status_get(db, &st);
  VT_EQ_INT(st.durable_height, 23);
  /* nothing pending: a ticket that needs no sync */
  VT_EQ_INT(valori_commit_begin(db, &c1), VALORI_OK);
  VT_EQ_INT(valori_commit_sync(db, &c1), VALORI_OK);
  VT_EQ_INT(valori_commit_end(db, &c1, VALORI_OK), VALORI_OK);
  /* a crash now keeps all 23 */
  img = fv_crash_image(fs, 5);
  /* a failing sync poisons */
  VT_EQ_INT(valori_insert(db, v, 1, NULL, 0, &id), VALORI_OK);
  VT_EQ_INT(valori_commit_begin(db, &c1), VALORI_OK);
  fv_fail(fs, FV_SYNC, 1, 0, VALORI_EIO);
  rc = valori_commit_sync(db, &c1);
  VT_EQ_INT(rc, VALORI_EIO);
  VT_EQ_INT(valori_commit_end(db, &c1, rc), VALORI_EIO);
  VT_EQ_INT(valori_insert(db, v, 1, NULL, 0, &id), VALORI_EPOISONED);
  VT_EQ_INT(valori_commit_begin(db, &c2), VALORI_EPOISONED);
  valori_close(db);
  db = wl_open(fv_vfs(img), NULL, 1, &rc);
  VT_REQUIRE(db != NULL);
  {
    valori_stats s2;
    valori_stats_get(db, &s2);
    VT_EQ_INT(s2.height, 23);
  }
  valori_close(db);
  fv_free(img);
  fv_free(fs);
}

int main(void) {
  VT_RUN(test_reopen_same_state);
  VT_RUN(test_pruning);
  VT_RUN(test_options_and_lock);
  VT_RUN(test_snapshot_fallback);
  VT_RUN(test_torn_tail_and_midlog);
  VT_RUN(test_replay_to_height);
  VT_RUN(test_background_snapshot);
  VT_RUN(test_relaxed_flush);
  VT_RUN(test_commit_tickets);
  return VT_DONE();
}
