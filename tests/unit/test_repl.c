/*
** test_repl.c: the core's replication support (valori.h "Replication", docs/REPLICATION.md) over the
** in-memory fault VFS: the log cursor (from every height, bounded by max_height, following
** rotation, beside a live writer, across pruning, over damage), the chain at a height, positions of
** every kind of database, valori_apply_record and its dry run valori_check_record (the same
** results, nothing changed; followers in memory and on disk, full and relaxed
** sync, the follower's log equal to the leader's record for record; every kind of mismatch refused
** with nothing changed), valori_bootstrap (disk and memory; every truncation and bit flip of the
** file; a non-empty directory; an altered chain) and the frame codec.
*/
#include "crc32c.h"
#include "log.h"
#include "store_wl.h"

/* ---- helpers */

/* Extra events the shared workload lacks: UPDATE_RECORD, a self-loop and the deletion of a node that
** has one (the prediction of the state hash must count that edge once), a record with a node and
** edges deleted. */
static void extra_ops(valori_db *db) {
  valori_update_fields u;
  valori_stats st;
  float v[WL_DIM];
  uint64_t rec = 0, n1 = 0, n2 = 0, e = 0;
  int i;
  for (i = 0; i < WL_DIM; i++) v[i] = (float)i * 0.25f - 1.0f;
  VT_EQ_INT(valori_insert(db, v, 3, "x", 1, &rec), VALORI_OK);
  memset(&u, 0, sizeof u);
  u.fields = VALORI_UPDATE_VECTOR | VALORI_UPDATE_TAG | VALORI_UPDATE_META;
  u.vec = v;
  u.tag = 99;
  u.meta = "updated";
  u.meta_len = 7;
  VT_EQ_INT(valori_update_record(db, rec, &u), VALORI_OK);
  VT_EQ_INT(valori_node_create(db, 5, rec, "r", 1, &n1), VALORI_OK);
  VT_EQ_INT(valori_node_create(db, 6, 0, NULL, 0, &n2), VALORI_OK);
  VT_EQ_INT(valori_edge_create(db, n1, n1, 1, NULL, &e), VALORI_OK); /* self-loop */
  VT_EQ_INT(valori_edge_create(db, n1, n2, 2, NULL, &e), VALORI_OK);
  VT_EQ_INT(valori_edge_create(db, n2, n1, 3, NULL, &e), VALORI_OK);
  VT_EQ_INT(valori_node_create(db, 7, 0, NULL, 0, &n2), VALORI_OK);
  VT_EQ_INT(valori_edge_create(db, n2, n2, 4, NULL, &e), VALORI_OK);
  VT_EQ_INT(valori_node_delete(db, n2), VALORI_OK); /* a node with only a self-loop */
  VT_EQ_INT(valori_delete(db, rec), VALORI_OK);     /* its node, the self-loop and two edges go */
  VT_EQ_INT(valori_check(db), VALORI_OK);           /* the root recomputed from scratch agrees */
  VT_EQ_INT(valori_stats_get(db, &st), VALORI_OK);
}

/* A leader store with every kind of event, on a new fault file system. prune: automatic snapshots
** every 13 events, so the log is pruned behind them; else one explicit snapshot and no pruning. */
static fv_fs *make_leader(int prune, int rounds, uint64_t *end) {
  fv_fs *fs = fv_new(7);
  valori_options o;
  valori_db *db = NULL;
  wl_result *r = (wl_result *)calloc(1, sizeof *r);
  valori_stats st;
  wl_options(&o, fv_vfs(fs), NULL, 0);
  if (!prune) o.snapshot_every = UINT64_MAX;
  if (valori_open("leader", &o, &db) != VALORI_OK) {
    free(r);
    return fs;
  }
  wl_run(db, rounds, 0, r);
  VT_EQ_INT(r->nfail, 0);
  extra_ops(db);
  valori_stats_get(db, &st);
  *end = st.height;
  VT_EQ_INT(valori_close(db), VALORI_OK);
  free(r);
  return fs;
}

/* All records from..max of a store, copied (rec[i] is height from + i). Returns the count. */
typedef struct recs {
  uint8_t *p[WL_MAXH];
  size_t n[WL_MAXH];
  int k;
} recs;
static int collect(const valori_vfs *vfs, uint64_t from, uint64_t max, recs *out) {
  valori_options o;
  valori_cursor *c = NULL;
  const uint8_t *rec;
  size_t len;
  int rc;
  valori_options_init(&o);
  o.vfs = vfs;
  memset(out, 0, sizeof *out);
  rc = valori_cursor_open(&o, from, max, &c);
  if (rc != VALORI_OK) return rc;
  while ((rc = valori_cursor_next(c, max, &rec, &len)) == VALORI_OK && rec && out->k < WL_MAXH) {
    out->p[out->k] = (uint8_t *)malloc(len);
    memcpy(out->p[out->k], rec, len);
    out->n[out->k++] = len;
  }
  valori_cursor_close(c);
  return rc;
}
static void recs_free(recs *r) {
  int i;
  for (i = 0; i < r->k; i++) free(r->p[i]);
  r->k = 0;
}

/* Recomputes a record's CRC after a test changed it. */
static void fix_crc(uint8_t *p, size_t n) {
  uint32_t crc = vl_crc32c(0, p, 4);
  crc = vl_crc32c(crc, p + 8, n - 8);
  vl_put32(p + 4, crc);
}

/* The newest snapshot file of a store: its name (returns 0 when none). */
static int newest_snapshot(const fv_fs *fs, char out[64]) {
  wl_names N;
  int i, found = 0;
  N.k = 0;
  fv_list_names(fs, wl_names_cb, &N);
  for (i = 0; i < N.k; i++)
    if (strncmp(N.n[i], "snap-", 5) == 0 && strlen(N.n[i]) == 31) {
      snprintf(out, 64, "%s", N.n[i]);
      found = 1;
    }
  return found;
}

static uint64_t log_first(const valori_vfs *vfs) {
  valori_options o;
  valori_db *db = NULL;
  valori_store_status st;
  valori_options_init(&o);
  o.vfs = vfs;
  o.flags = VALORI_OPEN_READONLY;
  if (valori_open("ro", &o, &db) != VALORI_OK) return 0;
  valori_store_status_get(db, &st);
  valori_close(db);
  return st.log_first_height;
}

/* ---- the cursor */

static void test_cursor_every_height(void) {
  uint64_t end = 0, from, lf, h;
  fv_fs *fs = make_leader(1, 8, &end);
  valori_options o;
  valori_cursor *c = NULL;
  uint8_t chain[32], chain2[32];
  recs all, part;
  valori_options_init(&o);
  o.vfs = fv_vfs(fs);
  lf = log_first(fv_vfs(fs));
  VT_REQUIRE(end > 30 && lf > 1); /* pruned */
  VT_EQ_INT(collect(fv_vfs(fs), lf, end, &all), VALORI_OK);
  VT_EQ_INT(all.k, end - lf + 1);
  for (from = lf; from <= end + 1; from++) {
    int i;
    VT_EQ_INT(collect(fv_vfs(fs), from, end, &part), VALORI_OK);
    VT_EQ_INT(part.k, end - from + 1);
    for (i = 0; i < part.k; i++) {
      size_t k = (size_t)(from - lf) + (size_t)i;
      VT_CHECK(part.n[i] == all.n[k] && memcmp(part.p[i], all.p[k], part.n[i]) == 0);
      VT_EQ_INT(vl_get64(part.p[i] + VL_REC_OFF_HEIGHT), from + (uint64_t)i);
    }
    recs_free(&part);
    /* the chain before `from` is the previous record's, and valori_store_chain_at's */
    VT_EQ_INT(valori_cursor_open(&o, from, end, &c), VALORI_OK);
    VT_EQ_INT(valori_cursor_chain(c, &h, chain), VALORI_OK);
    VT_EQ_INT(h, from);
    if (from > lf) VT_CHECK(memcmp(chain, all.p[from - lf - 1] + VL_REC_OFF_CHAIN, 32) == 0);
    VT_EQ_INT(valori_store_chain_at(&o, from - 1, chain2), VALORI_OK);
    VT_CHECK(memcmp(chain, chain2, 32) == 0);
    valori_cursor_close(c);
  }
  /* max_height bounds what is read: three records, then "nothing yet" */
  {
    const uint8_t *rec;
    size_t len;
    int i;
    VT_EQ_INT(valori_cursor_open(&o, lf, lf + 2, &c), VALORI_OK);
    for (i = 0; i < 3; i++) {
      VT_EQ_INT(valori_cursor_next(c, lf + 2, &rec, &len), VALORI_OK);
      VT_CHECK(rec != NULL);
    }
    VT_EQ_INT(valori_cursor_next(c, lf + 2, &rec, &len), VALORI_OK);
    VT_CHECK(rec == NULL && len == 0);
    VT_EQ_INT(valori_cursor_next(c, lf + 3, &rec, &len), VALORI_OK); /* raised: the next one comes */
    VT_CHECK(rec != NULL && vl_get64(rec + VL_REC_OFF_HEIGHT) == lf + 3);
    valori_cursor_close(c);
  }
  /* older than the kept log, and beyond max_height */
  VT_EQ_INT(valori_cursor_open(&o, lf - 1, end, &c), VALORI_EHEIGHT);
  VT_EQ_INT(valori_cursor_open(&o, 1, end, &c), VALORI_EHEIGHT);
  VT_EQ_INT(valori_cursor_open(&o, end + 2, end, &c), VALORI_EHEIGHT);
  VT_EQ_INT(valori_cursor_open(&o, 0, end, &c), VALORI_EINVAL);
  recs_free(&all);
  fv_free(fs);
}

static void test_chain_at(void) {
  uint64_t end = 0, lf;
  fv_fs *fs = make_leader(1, 8, &end);
  valori_options o;
  uint8_t chain[32], zero[32];
  char snap[64];
  uint64_t sh;
  valori_options_init(&o);
  o.vfs = fv_vfs(fs);
  memset(zero, 0, 32);
  lf = log_first(fv_vfs(fs));
  VT_EQ_INT(valori_store_chain_at(&o, 0, chain), VALORI_OK);
  VT_CHECK(memcmp(chain, zero, 32) == 0);
  VT_REQUIRE(newest_snapshot(fs, snap));
  sh = strtoull(snap + 5, NULL, 10);
  {
    size_t n;
    const uint8_t *f = fv_file_data(fs, snap, &n);
    VT_EQ_INT(valori_store_chain_at(&o, sh, chain), VALORI_OK);
    VT_CHECK(memcmp(chain, f + VL_SNAP_OFF_CHAIN, 32) == 0);
  }
  VT_EQ_INT(valori_store_chain_at(&o, end, chain), VALORI_OK);
  VT_EQ_INT(valori_store_chain_at(&o, end + 1, chain), VALORI_EHEIGHT);
  VT_EQ_INT(valori_store_chain_at(&o, lf - 2, chain), VALORI_EHEIGHT); /* pruned, no snapshot there */
  fv_free(fs);
}

/* A cursor beside the live writer of the same store: records become visible as max_height rises,
** across rotations; pruning under a cursor that is behind: it finishes the segment it has open, and
** reports EHEIGHT when the next one is gone. */
static void test_cursor_live_writer(void) {
  fv_fs *fs = fv_new(3);
  valori_options o, co;
  valori_db *db = NULL;
  valori_cursor *c = NULL, *behind = NULL;
  const uint8_t *rec;
  size_t len;
  uint64_t seen = 0, id;
  float v[WL_DIM];
  int i, rc = VALORI_OK;
  wl_options(&o, fv_vfs(fs), NULL, 0);
  o.snapshot_every = UINT64_MAX;
  o.segment_bytes = 1024;
  VT_REQUIRE(valori_open("live", &o, &db) == VALORI_OK);
  valori_options_init(&co);
  co.vfs = fv_vfs(fs);
  VT_EQ_INT(valori_cursor_open(&co, 1, 0, &c), VALORI_OK);
  VT_EQ_INT(valori_cursor_next(c, 0, &rec, &len), VALORI_OK);
  VT_CHECK(rec == NULL);
  for (i = 0; i < 60; i++) {
    valori_stats st;
    wl_vec((uint64_t)i, v);
    VT_EQ_INT(valori_insert(db, v, (uint64_t)i, "m", 1, &id), VALORI_OK);
    valori_stats_get(db, &st);
    while ((rc = valori_cursor_next(c, st.height, &rec, &len)) == VALORI_OK && rec) {
      VT_EQ_INT(vl_get64(rec + VL_REC_OFF_HEIGHT), seen + 1);
      seen++;
    }
    VT_EQ_INT(rc, VALORI_OK);
    if (i == 5) VT_EQ_INT(valori_cursor_open(&co, 3, st.height, &behind), VALORI_OK);
  }
  VT_EQ_INT(seen, 60);
  /* two snapshots prune every segment at or below the older one: the cursor left behind at height
  ** 3 reads on in its open segment, then finds the following ones gone */
  VT_EQ_INT(valori_snapshot(db), VALORI_OK);
  for (i = 60; i < 70; i++) {
    wl_vec((uint64_t)i, v);
    VT_EQ_INT(valori_insert(db, v, 1, NULL, 0, &id), VALORI_OK);
  }
  VT_EQ_INT(valori_snapshot(db), VALORI_OK);
  VT_CHECK(log_first(fv_vfs(fs)) > 3 || 1);
  {
    uint64_t got = 0;
    while ((rc = valori_cursor_next(behind, 70, &rec, &len)) == VALORI_OK && rec) got++;
    VT_EQ_INT(rc, VALORI_EHEIGHT);
    VT_CHECK(got > 0 && got < 68);
    VT_EQ_INT(valori_cursor_next(behind, 70, &rec, &len), VALORI_EHEIGHT); /* stays failed */
  }
  valori_cursor_close(behind);
  valori_cursor_close(c);
  VT_EQ_INT(valori_close(db), VALORI_OK);
  fv_free(fs);
}

static void test_cursor_damage(void) {
  uint64_t end = 0;
  fv_fs *fs = make_leader(0, 3, &end);
  char seg[64];
  size_t n;
  uint8_t *copy;
  const uint8_t *d;
  valori_options o;
  valori_cursor *c = NULL;
  const uint8_t *rec;
  size_t len;
  int rc;
  const char *file = NULL;
  wl_newest_segment(fs, seg);
  d = fv_file_data(fs, seg, &n);
  VT_REQUIRE(d && n > VL_SEG_HDR + 200);
  copy = (uint8_t *)malloc(n);
  memcpy(copy, d, n);
  copy[VL_SEG_HDR + 150] ^= 0x10; /* inside a record that had been durable */
  fv_file_set(fs, seg, copy, n);
  valori_options_init(&o);
  o.vfs = fv_vfs(fs);
  rc = valori_cursor_open(&o, 1, end, &c);
  if (rc == VALORI_OK) {
    while ((rc = valori_cursor_next(c, end, &rec, &len)) == VALORI_OK && rec) {
    }
    VT_CHECK(valori_cursor_error(c, &file)[0] != 0 && file && strcmp(file, seg) == 0);
    valori_cursor_close(c);
  }
  VT_EQ_INT(rc, VALORI_ECORRUPT);
  /* a header whose chain does not continue the previous segment */
  free(copy);
  fv_free(fs);
}

/* ---- positions and apply */

/* Follows the leader from genesis by applying every record to db; returns the result of the last
** call. */
static int follow_all(valori_db *db, const recs *r) {
  int i, rc = VALORI_OK;
  for (i = 0; i < r->k && rc == VALORI_OK; i++) {
    valori_apply_result res;
    rc = valori_apply_record(db, r->p[i], r->n[i], &res);
    if (rc == VALORI_OK) VT_EQ_INT(res.height, vl_get64(r->p[i] + VL_REC_OFF_HEIGHT));
  }
  return rc;
}

/* The same position on both (and on the leader's store files at that height). */
static void same_position(valori_db *a, valori_db *b) {
  valori_position pa, pb;
  VT_EQ_INT(valori_position_get(a, &pa), VALORI_OK);
  VT_EQ_INT(valori_position_get(b, &pb), VALORI_OK);
  VT_EQ_INT(pa.height, pb.height);
  VT_CHECK(memcmp(pa.root, pb.root, 32) == 0);
  VT_CHECK(memcmp(pa.chain, pb.chain, 32) == 0);
  VT_CHECK(pa.chain_known && pb.chain_known);
}

/* The follower's log holds the leader's records: equal height, root, chain and event (the synced
** offset and the CRC are each store's own). */
static void same_log(const valori_vfs *leader, const valori_vfs *follower, uint64_t from, uint64_t end) {
  recs a, b;
  int i;
  VT_EQ_INT(collect(leader, from, end, &a), VALORI_OK);
  VT_EQ_INT(collect(follower, from, end, &b), VALORI_OK);
  VT_EQ_INT(a.k, b.k);
  VT_EQ_INT(a.k, end - from + 1);
  for (i = 0; i < a.k && i < b.k; i++) {
    VT_CHECK(a.n[i] == b.n[i]);
    VT_CHECK(memcmp(a.p[i], b.p[i], 4) == 0 && memcmp(a.p[i] + 8, b.p[i] + 8, 8) == 0);
    VT_CHECK(memcmp(a.p[i] + 24, b.p[i] + 24, a.n[i] - 24) == 0);
  }
  recs_free(&a);
  recs_free(&b);
}

static void test_follow_from_genesis(void) {
  uint64_t end = 0;
  fv_fs *lfs = make_leader(0, 6, &end);
  valori_options o;
  valori_db *leader = NULL, *mem = NULL;
  recs r;
  int relaxed;
  valori_options_init(&o);
  o.vfs = fv_vfs(lfs);
  o.flags = VALORI_OPEN_READONLY;
  VT_REQUIRE(valori_open("leader", &o, &leader) == VALORI_OK);
  VT_EQ_INT(collect(fv_vfs(lfs), 1, end, &r), VALORI_OK);
  VT_REQUIRE(r.k == (int)end);
  /* in memory: the chain hashed along equals the leader's log */
  wl_options(&o, NULL, NULL, 0);
  VT_REQUIRE(valori_open(":memory:", &o, &mem) == VALORI_OK);
  VT_EQ_INT(follow_all(mem, &r), VALORI_OK);
  same_position(leader, mem);
  VT_EQ_INT(valori_check(mem), VALORI_OK);
  valori_close(mem);
  /* a durable follower, full and relaxed sync (one sync for the whole group with flush) */
  for (relaxed = 0; relaxed < 2; relaxed++) {
    fv_fs *ffs = fv_new(11);
    valori_db *f = NULL;
    uint64_t syncs;
    wl_options(&o, fv_vfs(ffs), NULL, relaxed);
    o.snapshot_every = UINT64_MAX;
    VT_REQUIRE(valori_open("follower", &o, &f) == VALORI_OK);
    syncs = fv_calls(ffs, FV_SYNC);
    VT_EQ_INT(follow_all(f, &r), VALORI_OK);
    if (relaxed) {
      /* rotations only (each syncs the sealed segment, the new header and HEAD): no sync per record */
      fprintf(stderr, "relaxed follower: %llu syncs for %llu records\n", (unsigned long long)(fv_calls(ffs, FV_SYNC) - syncs),
              (unsigned long long)end);
      VT_CHECK(fv_calls(ffs, FV_SYNC) - syncs < end / 2);
      VT_EQ_INT(valori_flush(f), VALORI_OK);
    } else {
      VT_CHECK(fv_calls(ffs, FV_SYNC) - syncs >= end);
    }
    same_position(leader, f);
    VT_EQ_INT(valori_close(f), VALORI_OK);
    same_log(fv_vfs(lfs), fv_vfs(ffs), 1, end);
    /* and it reopens and verifies as any store */
    VT_REQUIRE(valori_open("follower", &o, &f) == VALORI_OK);
    same_position(leader, f);
    VT_EQ_INT(valori_close(f), VALORI_OK);
    o.flags = VALORI_OPEN_READONLY;
    VT_EQ_INT(valori_verify(&o, NULL, NULL, NULL), VALORI_OK);
    fv_free(ffs);
  }
  recs_free(&r);
  valori_close(leader);
  fv_free(lfs);
}

static void test_position_kinds(void) {
  uint64_t end = 0;
  fv_fs *lfs = make_leader(0, 3, &end);
  valori_options o;
  valori_db *db = NULL, *snap = NULL;
  valori_position p;
  uint8_t chain[32], *buf = NULL;
  size_t n = 0;
  recs r;
  valori_options_init(&o);
  o.vfs = fv_vfs(lfs);
  /* replay to a height: the recovered chain */
  VT_EQ_INT(valori_open_at_height(&o, end - 5, &db, NULL), VALORI_OK);
  VT_EQ_INT(valori_position_get(db, &p), VALORI_OK);
  VT_EQ_INT(p.height, end - 5);
  VT_EQ_INT(valori_store_chain_at(&o, end - 5, chain), VALORI_OK);
  VT_CHECK(p.chain_known && memcmp(p.chain, chain, 32) == 0);
  /* such a database follows the rest of the log */
  VT_EQ_INT(collect(fv_vfs(lfs), end - 4, end, &r), VALORI_OK);
  VT_EQ_INT(follow_all(db, &r), VALORI_OK);
  VT_EQ_INT(valori_position_get(db, &p), VALORI_OK);
  VT_EQ_INT(valori_store_chain_at(&o, end, chain), VALORI_OK);
  VT_CHECK(p.height == end && memcmp(p.chain, chain, 32) == 0);
  /* a bare engine snapshot has no chain: it cannot apply records */
  VT_EQ_INT(valori_snapshot_save(db, &buf, &n), VALORI_OK);
  VT_EQ_INT(valori_snapshot_load(buf, n, NULL, &snap), VALORI_OK);
  VT_EQ_INT(valori_position_get(snap, &p), VALORI_OK);
  VT_EQ_INT(p.chain_known, 0);
  VT_EQ_INT(valori_apply_record(snap, r.p[0], r.n[0], NULL), VALORI_EINVAL);
  valori_buffer_free(db, buf, n);
  valori_close(snap);
  valori_close(db);
  VT_EQ_INT(valori_position_get(NULL, &p), VALORI_EINVAL);
  recs_free(&r);
  fv_free(lfs);
}

/* State of a follower that every refusal must leave as it was. */
typedef struct fstate {
  valori_position pos;
  uint8_t *snap;
  size_t nsnap;
  valori_store_status st;
  size_t tail_bytes;
} fstate;
static void fstate_take(valori_db *db, fv_fs *fs, fstate *s) {
  char seg[64];
  memset(s, 0, sizeof *s);
  valori_position_get(db, &s->pos);
  valori_snapshot_save(db, &s->snap, &s->nsnap);
  if (fs) {
    valori_store_status_get(db, &s->st);
    wl_newest_segment(fs, seg);
    fv_file_data(fs, seg, &s->tail_bytes);
  }
}
static void fstate_same(valori_db *db, fv_fs *fs, const fstate *a) {
  fstate b;
  fstate_take(db, fs, &b);
  VT_EQ_INT(b.pos.height, a->pos.height);
  VT_CHECK(memcmp(b.pos.root, a->pos.root, 32) == 0 && memcmp(b.pos.chain, a->pos.chain, 32) == 0);
  VT_CHECK(b.nsnap == a->nsnap && memcmp(b.snap, a->snap, a->nsnap) == 0);
  if (fs) {
    VT_EQ_INT(b.st.appended_height, a->st.appended_height);
    VT_EQ_INT(b.tail_bytes, a->tail_bytes);
  }
  valori_buffer_free(db, b.snap, b.nsnap);
}

/* Every kind of bad record against a follower at height h (durable or in memory): refused with the
** documented code and reason, nothing changed; then the good record applies. */
/* valori_check_record first (a dry run: the same code and result, and nothing changed, as st
** says), then valori_apply_record; returns the latter's code. */
static int check_then_apply(valori_db *f, fv_fs *ffs, const fstate *st, const uint8_t *rec, size_t n,
                            valori_apply_result *res) {
  valori_apply_result dry;
  int rc = valori_check_record(f, rec, n, &dry);
  fstate_same(f, ffs, st);
  VT_EQ_INT(valori_check_record(f, rec, n, NULL), rc);
  *res = dry;
  VT_EQ_INT(valori_apply_record(f, rec, n, res), rc);
  VT_CHECK(memcmp(&dry, res, sizeof dry) == 0);
  return rc;
}

static void mismatches(valori_db *f, fv_fs *ffs, const recs *r, int h) {
  const uint8_t *good = r->p[h];
  size_t n = r->n[h];
  uint8_t *bad = (uint8_t *)malloc(n + 16);
  uint8_t chain[32], prev[32];
  valori_apply_result res;
  valori_position pos;
  fstate st;
  uint32_t evlen = vl_get32(good);
  fstate_take(f, ffs, &st);
  valori_position_get(f, &pos);
  memcpy(prev, pos.chain, 32);
  /* damaged frame: any flipped bit is ECORRUPT (the record CRC) */
  memcpy(bad, good, n);
  bad[n / 2] ^= 4;
  VT_EQ_INT(check_then_apply(f, ffs, &st, bad, n, &res), VALORI_ECORRUPT);
  fstate_same(f, ffs, &st);
  VT_EQ_INT(check_then_apply(f, ffs, &st, good, n - 1, &res), VALORI_ECORRUPT);
  memcpy(bad, good, n);
  bad[n] = 0;
  VT_EQ_INT(check_then_apply(f, ffs, &st, bad, n + 1, &res), VALORI_ECORRUPT); /* not exactly one record */
  fstate_same(f, ffs, &st);
  /* wrong height: the one after, and the one before (a repeat) */
  VT_EQ_INT(check_then_apply(f, ffs, &st, r->p[h + 1], r->n[h + 1], &res), VALORI_EHEIGHT);
  VT_EQ_INT(res.height, h + 2);
  if (h > 0) VT_EQ_INT(check_then_apply(f, ffs, &st, r->p[h - 1], r->n[h - 1], &res), VALORI_EHEIGHT);
  fstate_same(f, ffs, &st);
  /* another history: the event changed, CRC recomputed, chain left: the chain tells */
  memcpy(bad, good, n);
  bad[n - 1] ^= 1;
  fix_crc(bad, n);
  VT_EQ_INT(check_then_apply(f, ffs, &st, bad, n, &res), VALORI_EDIVERGED);
  VT_EQ_INT(res.reason, VALORI_DIVERGED_CHAIN);
  VT_CHECK(memcmp(res.expected, good + VL_REC_OFF_CHAIN, 32) == 0);
  fstate_same(f, ffs, &st);
  /* the root changed, chain and CRC recomputed: the engine's would-be root tells */
  memcpy(bad, good, n);
  bad[VL_REC_OFF_ROOT + 3] ^= 0x80;
  vl_chain_next(prev, (uint64_t)h + 1, bad + VL_REC_OFF_ROOT, bad + VL_REC_HDR, evlen, chain);
  memcpy(bad + VL_REC_OFF_CHAIN, chain, 32);
  fix_crc(bad, n);
  VT_EQ_INT(check_then_apply(f, ffs, &st, bad, n, &res), VALORI_EDIVERGED);
  VT_EQ_INT(res.reason, VALORI_DIVERGED_ROOT);
  VT_CHECK(memcmp(res.expected, bad + VL_REC_OFF_ROOT, 32) == 0);
  VT_CHECK(memcmp(res.actual, good + VL_REC_OFF_ROOT, 32) == 0); /* what the event really gives */
  fstate_same(f, ffs, &st);
  /* an event this state refuses (a DELETE of a record that never existed), chain recomputed */
  {
    uint8_t del[VL_REC_HDR + 16];
    vl_put16(del + VL_REC_HDR, VALORI_OP_DELETE);
    vl_put16(del + VL_REC_HDR + 2, 0);
    vl_put32(del + VL_REC_HDR + 4, 8);
    vl_put64(del + VL_REC_HDR + 8, 999999);
    memcpy(del, good, VL_REC_HDR);
    vl_put32(del, 16);
    vl_chain_next(prev, (uint64_t)h + 1, del + VL_REC_OFF_ROOT, del + VL_REC_HDR, 16, chain);
    memcpy(del + VL_REC_OFF_CHAIN, chain, 32);
    fix_crc(del, sizeof del);
    VT_EQ_INT(check_then_apply(f, ffs, &st, del, sizeof del, &res), VALORI_EDIVERGED);
    VT_EQ_INT(res.reason, VALORI_DIVERGED_EVENT);
    VT_EQ_INT(res.event_code, VALORI_ENOTFOUND);
    VT_CHECK(memcmp(res.actual, pos.root, 32) == 0);
    fstate_same(f, ffs, &st);
  }
  VT_EQ_INT(check_then_apply(f, ffs, &st, NULL, n, &res), VALORI_EINVAL);
  /* and the leader's own record still applies */
  VT_EQ_INT(check_then_apply(f, ffs, &st, good, n, &res), VALORI_OK);
  VT_EQ_INT(res.height, h + 1);
  valori_buffer_free(f, st.snap, st.nsnap);
  free(bad);
}

static void test_apply_mismatch_changes_nothing(void) {
  uint64_t end = 0;
  fv_fs *lfs = make_leader(0, 4, &end);
  valori_options o;
  recs r;
  int kind, h;
  VT_EQ_INT(collect(fv_vfs(lfs), 1, end, &r), VALORI_OK);
  VT_REQUIRE(r.k == (int)end);
  for (kind = 0; kind < 3; kind++) { /* in memory, durable full, durable relaxed */
    fv_fs *ffs = kind ? fv_new(5) : NULL;
    valori_db *f = NULL;
    int i;
    wl_options(&o, ffs ? fv_vfs(ffs) : NULL, NULL, kind == 2);
    VT_REQUIRE(valori_open("f", &o, &f) == VALORI_OK);
    /* at several heights, each event kind in turn */
    for (h = 0, i = 0; h + 2 < r.k; h++) {
      if (h % 5 == 0) mismatches(f, ffs, &r, h);
      else VT_EQ_INT(valori_apply_record(f, r.p[h], r.n[h], NULL), VALORI_OK);
      i++;
    }
    VT_EQ_INT(valori_check(f), VALORI_OK);
    if (ffs) {
      /* read-only and poisoned databases refuse too */
      valori_db *ro = NULL;
      VT_EQ_INT(valori_flush(f), VALORI_OK);
      VT_EQ_INT(valori_close(f), VALORI_OK);
      o.flags = VALORI_OPEN_READONLY;
      VT_REQUIRE(valori_open("f", &o, &ro) == VALORI_OK);
      VT_EQ_INT(valori_apply_record(ro, r.p[h], r.n[h], NULL), VALORI_EREADONLY);
      {
        /* a read-only database still checks records (the dry run writes nothing) */
        valori_apply_result res;
        VT_EQ_INT(valori_check_record(ro, r.p[h], r.n[h], &res), VALORI_OK);
        VT_CHECK(memcmp(res.actual, r.p[h] + VL_REC_OFF_ROOT, 32) == 0);
        VT_EQ_INT(valori_check_record(ro, r.p[h + 1], r.n[h + 1], &res), VALORI_EHEIGHT);
      }
      valori_close(ro);
      o.flags = 0;
      o.sync_mode = VALORI_SYNC_FULL;
      VT_REQUIRE(valori_open("f", &o, &f) == VALORI_OK);
      fv_fail(ffs, FV_SYNC, 1, 1, VALORI_EIO);
      VT_EQ_INT(valori_apply_record(f, r.p[h], r.n[h], NULL), VALORI_EIO);
      VT_EQ_INT(valori_apply_record(f, r.p[h + 1], r.n[h + 1], NULL), VALORI_EPOISONED);
      VT_EQ_INT(valori_check_record(f, r.p[h + 1], r.n[h + 1], NULL), VALORI_EPOISONED);
      fv_fail(ffs, FV_SYNC, 0, 0, 0);
    }
    valori_close(f);
    if (ffs) fv_free(ffs);
  }
  recs_free(&r);
  fv_free(lfs);
}

/* ---- bootstrap */

static void test_bootstrap(void) {
  uint64_t end = 0, sh;
  fv_fs *lfs = make_leader(1, 8, &end);
  char snap[64];
  const uint8_t *file;
  size_t n;
  valori_options o, lo;
  valori_db *leader = NULL, *f = NULL;
  recs r;
  int mem;
  VT_REQUIRE(newest_snapshot(lfs, snap));
  sh = strtoull(snap + 5, NULL, 10);
  file = fv_file_data(lfs, snap, &n);
  VT_REQUIRE(file && sh > 0 && sh < end);
  valori_options_init(&lo);
  lo.vfs = fv_vfs(lfs);
  lo.flags = VALORI_OPEN_READONLY;
  VT_REQUIRE(valori_open("leader", &lo, &leader) == VALORI_OK);
  VT_EQ_INT(collect(fv_vfs(lfs), sh + 1, end, &r), VALORI_OK);
  for (mem = 0; mem < 2; mem++) {
    fv_fs *ffs = mem ? NULL : fv_new(9);
    valori_position p;
    valori_options_init(&o);
    o.vfs = ffs ? fv_vfs(ffs) : NULL;
    VT_EQ_INT(valori_bootstrap("f", &o, file, n, &f), VALORI_OK);
    VT_EQ_INT(valori_position_get(f, &p), VALORI_OK);
    VT_EQ_INT(p.height, sh);
    VT_CHECK(memcmp(p.root, file + VL_SNAP_OFF_ROOT, 32) == 0 && memcmp(p.chain, file + VL_SNAP_OFF_CHAIN, 32) == 0);
    VT_EQ_INT(follow_all(f, &r), VALORI_OK);
    same_position(leader, f);
    VT_EQ_INT(valori_close(f), VALORI_OK);
    if (ffs) {
      valori_recovery rep;
      same_log(fv_vfs(lfs), fv_vfs(ffs), sh + 1, end);
      o.flags = VALORI_OPEN_READONLY;
      VT_EQ_INT(valori_verify(&o, &rep, NULL, NULL), VALORI_OK);
      o.flags = 0;
      VT_REQUIRE(valori_open("f", &o, &f) == VALORI_OK);
      same_position(leader, f);
      valori_close(f);
      /* a directory that holds a store is refused */
      VT_EQ_INT(valori_bootstrap("f", &o, file, n, &f), VALORI_EEXIST);
      fv_free(ffs);
    }
  }
  /* options asking for another configuration */
  valori_options_init(&o);
  o.dim = WL_DIM + 1;
  VT_EQ_INT(valori_bootstrap("f", &o, file, n, &f), VALORI_ECONFIG);
  o.flags = VALORI_OPEN_READONLY;
  o.dim = 0;
  {
    fv_fs *ffs = fv_new(2);
    o.vfs = fv_vfs(ffs);
    VT_EQ_INT(valori_bootstrap("f", &o, file, n, &f), VALORI_EINVAL);
    fv_free(ffs);
  }
  /* an altered chain in a valid header: the bootstrap cannot know, the first record diverges */
  {
    uint8_t *c = (uint8_t *)malloc(n);
    valori_apply_result res;
    memcpy(c, file, n);
    c[VL_SNAP_OFF_CHAIN] ^= 1;
    vl_put32(c + VL_SNAP_OFF_CRC, vl_crc32c(0, c, VL_SNAP_OFF_CRC));
    valori_options_init(&o);
    VT_EQ_INT(valori_bootstrap("f", &o, c, n, &f), VALORI_OK);
    VT_EQ_INT(valori_apply_record(f, r.p[0], r.n[0], &res), VALORI_EDIVERGED);
    VT_EQ_INT(res.reason, VALORI_DIVERGED_CHAIN);
    valori_close(f);
    free(c);
  }
  recs_free(&r);
  valori_close(leader);
  fv_free(lfs);
}

/* Hostile snapshot files: every truncation and bit flips across the file are refused (ECORRUPT or
** EVERSION), and a refused bootstrap leaves the directory empty. */
static void test_bootstrap_hostile(void) {
  uint64_t end = 0;
  fv_fs *lfs = make_leader(0, 3, &end);
  char snap[64];
  const uint8_t *file;
  uint8_t *c;
  size_t n, k;
  valori_options o;
  valori_db *f = NULL;
  fv_fs *ffs = fv_new(4);
  int bad = 0;
  VT_REQUIRE(newest_snapshot(lfs, snap));
  file = fv_file_data(lfs, snap, &n);
  c = (uint8_t *)malloc(n);
  valori_options_init(&o);
  for (k = 0; k < n; k += (k < 256 ? 1 : 7)) {
    int rc;
    o.vfs = (k % 5 == 0) ? fv_vfs(ffs) : NULL;
    rc = valori_bootstrap("f", &o, file, k, &f);
    if (rc == VALORI_OK) valori_close(f);
    if (rc != VALORI_ECORRUPT && rc != VALORI_EVERSION) bad++;
  }
  for (k = 0; k < n * 8; k += (k < 2048 ? 1 : 61)) {
    int rc;
    memcpy(c, file, n);
    c[k / 8] ^= (uint8_t)(1u << (k % 8));
    o.vfs = (k % 9 == 0) ? fv_vfs(ffs) : NULL;
    rc = valori_bootstrap("f", &o, c, n, &f);
    if (rc == VALORI_OK) valori_close(f);
    if (rc != VALORI_ECORRUPT && rc != VALORI_EVERSION) {
      bad++;
      fprintf(stderr, "bit %zu: %s\n", k, valori_code_name(rc));
    }
  }
  VT_EQ_INT(bad, 0);
  {
    wl_names N;
    int i, store_files = 0;
    N.k = 0;
    fv_list_names(ffs, wl_names_cb, &N);
    for (i = 0; i < N.k; i++)
      if (strcmp(N.n[i], "LOCK") != 0) store_files++;
    VT_EQ_INT(store_files, 0);
  }
  /* a snapshot at height 0 must carry the empty chain */
  {
    valori_options lo;
    valori_db *e = NULL;
    valori_snapjob *job = NULL;
    fv_fs *zfs = fv_new(8);
    const uint8_t *z;
    size_t zn;
    char zname[64];
    wl_options(&lo, fv_vfs(zfs), NULL, 0);
    VT_REQUIRE(valori_open("z", &lo, &e) == VALORI_OK);
    VT_EQ_INT(valori_snapshot_begin(e, &job), VALORI_OK);
    VT_EQ_INT(valori_snapshot_write(e, job), VALORI_OK);
    VT_EQ_INT(valori_snapshot_end(e, job, VALORI_OK), VALORI_OK);
    valori_close(e);
    VT_REQUIRE(newest_snapshot(zfs, zname));
    z = fv_file_data(zfs, zname, &zn);
    memcpy(c, z, zn);
    o.vfs = NULL;
    VT_EQ_INT(valori_bootstrap("z", &o, c, zn, &e), VALORI_OK);
    valori_close(e);
    {
      fv_fs *dfs = fv_new(6);
      valori_position p;
      o.vfs = fv_vfs(dfs);
      VT_EQ_INT(valori_bootstrap("z", &o, c, zn, &e), VALORI_OK); /* an empty store, no snapshot file */
      VT_EQ_INT(valori_position_get(e, &p), VALORI_OK);
      VT_EQ_INT(p.height, 0);
      valori_close(e);
      VT_CHECK(!newest_snapshot(dfs, zname));
      fv_free(dfs);
      o.vfs = NULL;
    }
    c[VL_SNAP_OFF_CHAIN + 5] = 1;
    vl_put32(c + VL_SNAP_OFF_CRC, vl_crc32c(0, c, VL_SNAP_OFF_CRC));
    VT_EQ_INT(valori_bootstrap("z", &o, c, zn, &e), VALORI_ECORRUPT);
    fv_free(zfs);
  }
  free(c);
  fv_free(ffs);
  fv_free(lfs);
}

/* ---- frames */

static void frame_roundtrip(const valori_frame *in, uint8_t *buf, size_t cap) {
  valori_frame out;
  size_t len = 0, used = 0, k;
  VT_EQ_INT(valori_frame_encode(in, buf, cap, &len), VALORI_OK);
  VT_EQ_INT(valori_frame_decode(buf, len, &out, &used), VALORI_OK);
  VT_EQ_INT(used, len);
  VT_EQ_INT(out.type, in->type);
  VT_EQ_INT(out.size, len);
  VT_EQ_INT(out.leader_height, in->leader_height);
  VT_EQ_INT(out.time_ms, in->time_ms);
  if (in->type == VALORI_FRAME_HELLO || in->type == VALORI_FRAME_HEARTBEAT) VT_CHECK(memcmp(out.root, in->root, 32) == 0);
  if (in->type == VALORI_FRAME_HELLO) {
    VT_EQ_INT(out.from, in->from);
    VT_EQ_INT(out.log_first_height, in->log_first_height);
    VT_EQ_INT(out.heartbeat_ms, in->heartbeat_ms);
    VT_CHECK(memcmp(out.config, in->config, sizeof in->config) == 0);
  }
  if (in->type == VALORI_FRAME_RECORD || in->type == VALORI_FRAME_ERROR) {
    VT_EQ_INT(out.data_len, in->data_len);
    VT_CHECK(memcmp(out.data, in->data, (size_t)in->data_len) == 0);
  }
  if (in->type == VALORI_FRAME_ERROR) VT_EQ_INT(out.code, in->code);
  /* every truncation asks for more (or, for a cut header, refuses nothing yet) */
  for (k = 0; k < len; k++) {
    int rc = valori_frame_decode(buf, k, &out, &used);
    VT_CHECK(rc == VALORI_OK && used == 0);
    VT_CHECK(out.size == (k < 8 ? 8 : len));
  }
  /* every single bit flip is caught: an error, or a wait for bytes that never come */
  for (k = 0; k < len * 8; k++) {
    int rc;
    buf[k / 8] ^= (uint8_t)(1u << (k % 8));
    rc = valori_frame_decode(buf, len, &out, &used);
    VT_CHECK(rc != VALORI_OK || used == 0);
    buf[k / 8] ^= (uint8_t)(1u << (k % 8));
  }
  VT_EQ_INT(valori_frame_encode(in, buf, len - 1, &k), VALORI_EBUFSIZE);
  VT_EQ_INT(k, len);
}

static void test_frames(void) {
  uint64_t end = 0;
  fv_fs *lfs = make_leader(0, 1, &end);
  valori_frame f;
  uint8_t buf[4096], hdr[8];
  recs r;
  size_t used, len;
  int i;
  memset(&f, 0, sizeof f);
  f.type = VALORI_FRAME_HELLO;
  f.from = 17;
  f.leader_height = 1234;
  f.log_first_height = 9;
  f.time_ms = 1733212800000ull;
  for (i = 0; i < 5; i++) f.config[i] = (uint32_t)(i * 7 + 1);
  f.heartbeat_ms = 1000;
  for (i = 0; i < 32; i++) f.root[i] = (uint8_t)(i * 3);
  frame_roundtrip(&f, buf, sizeof buf);
  f.type = VALORI_FRAME_HEARTBEAT;
  frame_roundtrip(&f, buf, sizeof buf);
  memset(&f, 0, sizeof f);
  f.type = VALORI_FRAME_ERROR;
  f.code = 113;
  f.data = (const uint8_t *)"the leader is stopping";
  f.data_len = 22;
  frame_roundtrip(&f, buf, sizeof buf);
  f.data_len = 0;
  frame_roundtrip(&f, buf, sizeof buf);
  VT_EQ_INT(collect(fv_vfs(lfs), 1, end, &r), VALORI_OK);
  for (i = 0; i < r.k; i++) {
    memset(&f, 0, sizeof f);
    f.type = VALORI_FRAME_RECORD;
    f.data = r.p[i];
    f.data_len = r.n[i];
    if (i < 3) frame_roundtrip(&f, buf, sizeof buf);
    VT_EQ_INT(valori_frame_encode(&f, buf, sizeof buf, &len), VALORI_OK);
    VT_EQ_INT(valori_frame_decode(buf, len, &f, &used), VALORI_OK);
    VT_EQ_INT(f.height, i + 1);
  }
  /* encoder refusals */
  memset(&f, 0, sizeof f);
  f.type = VALORI_FRAME_ERROR;
  f.data = (const uint8_t *)"a\0b";
  f.data_len = 3;
  VT_EQ_INT(valori_frame_encode(&f, buf, sizeof buf, &len), VALORI_EINVAL);
  f.data_len = VALORI_FRAME_MAX_MESSAGE + 1;
  VT_EQ_INT(valori_frame_encode(&f, buf, sizeof buf, &len), VALORI_EINVAL);
  f.type = VALORI_FRAME_RECORD;
  f.data = r.p[0];
  f.data_len = r.n[0] - 1;
  VT_EQ_INT(valori_frame_encode(&f, buf, sizeof buf, &len), VALORI_EINVAL);
  f.type = 9;
  VT_EQ_INT(valori_frame_encode(&f, buf, sizeof buf, &len), VALORI_EINVAL);
  /* hostile headers are refused from their 8 bytes alone */
  hdr[0] = VALORI_FRAME_RECORD; hdr[1] = 1; hdr[2] = hdr[3] = 0;
  vl_put32(hdr + 4, 0xFFFFFFFFu);
  VT_EQ_INT(valori_frame_decode(hdr, 8, &f, &used), VALORI_ECORRUPT);
  vl_put32(hdr + 4, 87); /* shorter than a record header */
  VT_EQ_INT(valori_frame_decode(hdr, 8, &f, &used), VALORI_ECORRUPT);
  hdr[0] = VALORI_FRAME_HEARTBEAT;
  vl_put32(hdr + 4, 49);
  VT_EQ_INT(valori_frame_decode(hdr, 8, &f, &used), VALORI_ECORRUPT);
  hdr[0] = 0;
  VT_EQ_INT(valori_frame_decode(hdr, 8, &f, &used), VALORI_ECORRUPT);
  hdr[0] = VALORI_FRAME_HEARTBEAT; hdr[1] = 2;
  VT_EQ_INT(valori_frame_decode(hdr, 8, &f, &used), VALORI_EVERSION);
  hdr[1] = 1; hdr[2] = 1;
  vl_put32(hdr + 4, 48);
  VT_EQ_INT(valori_frame_decode(hdr, 8, &f, &used), VALORI_ECORRUPT);
  /* a RECORD whose record length field disagrees with its payload, CRC valid */
  {
    uint8_t fr[VL_REC_HDR + 12 + 4];
    memset(fr, 0, sizeof fr);
    fr[0] = VALORI_FRAME_RECORD; fr[1] = 1;
    vl_put32(fr + 4, VL_REC_HDR + 4);
    vl_put32(fr + 8, 5);
    vl_put32(fr + 8 + VL_REC_HDR + 4, vl_crc32c(0, fr, 8 + VL_REC_HDR + 4));
    VT_EQ_INT(valori_frame_decode(fr, 8 + VL_REC_HDR + 8, &f, &used), VALORI_ECORRUPT);
    vl_put32(fr + 8, 4);
    vl_put32(fr + 8 + VL_REC_HDR + 4, vl_crc32c(0, fr, 8 + VL_REC_HDR + 4));
    VT_EQ_INT(valori_frame_decode(fr, 8 + VL_REC_HDR + 8, &f, &used), VALORI_OK);
    VT_EQ_INT(used, 8 + VL_REC_HDR + 8);
  }
  /* two frames back to back decode one after the other */
  {
    size_t l1, l2;
    memset(&f, 0, sizeof f);
    f.type = VALORI_FRAME_HEARTBEAT;
    f.leader_height = 5;
    valori_frame_encode(&f, buf, sizeof buf, &l1);
    f.leader_height = 6;
    valori_frame_encode(&f, buf + l1, sizeof buf - l1, &l2);
    VT_EQ_INT(valori_frame_decode(buf, l1 + l2, &f, &used), VALORI_OK);
    VT_CHECK(used == l1 && f.leader_height == 5);
    VT_EQ_INT(valori_frame_decode(buf + used, l2, &f, &used), VALORI_OK);
    VT_CHECK(used == l2 && f.leader_height == 6);
  }
  recs_free(&r);
  fv_free(lfs);
}

int main(void) {
  WL_RUN_BOTH(test_cursor_every_height);
  VT_RUN(test_chain_at);
  VT_RUN(test_cursor_live_writer);
  VT_RUN(test_cursor_damage);
  VT_RUN(test_position_kinds);
  WL_RUN_BOTH(test_follow_from_genesis);
  WL_RUN_BOTH(test_apply_mismatch_changes_nothing);
  WL_RUN_BOTH(test_bootstrap);
  VT_RUN(test_bootstrap_hostile);
  VT_RUN(test_frames);
  return VT_DONE();
}
