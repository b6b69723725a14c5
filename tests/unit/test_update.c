/*
** test_update.c: valori_update_record and its event UPDATE_RECORD (opcode 6), on an HNSW store and
** on an index-less one (issue 11, defect 3: an update of several fields is one event, validated
** whole, all or nothing).
**
** - every field combination (7) changes exactly the fields it names, as one event, and gives the
**   state root and index of the same fields changed by the older UPDATE + SET_META events;
** - every kind of bad input with every combination (NaN, infinities, out of range, NULL vector,
**   wrong dimension and raw components through valori_apply, oversize or NULL metadata, unknown,
**   deleted and zero ids, bad field bits, nonzero reserved) gives its code, in the documented
**   order, and leaves root, height, the record and the snapshot bytes unchanged;
** - UPDATE_RECORD events survive snapshot save/load (same root, index and future) and a store
**   reopen (replayed from the log);
** - a crash at every sync point of a workload of UPDATE_RECORD events (fault VFS, several seeds,
**   automatic snapshots and log rotations) recovers to a prefix of the history in which every
**   update is wholly applied or wholly absent: every field of every record equals the model at the
**   recovered height, and so does the state root.
*/
#include "store_wl.h"
#include "update_wl.h"
#include "vl_int.h"

#define NREC 40
#define ALL_FIELDS (VALORI_UPDATE_VECTOR | VALORI_UPDATE_TAG | VALORI_UPDATE_META)

static float f_of(uint32_t bits) {
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static const char *index_name(uint32_t index) { return index == VALORI_INDEX_HNSW ? "hnsw" : "no index"; }

/* An in-memory store of dimension WL_DIM holding NREC records (upd_fill). */
static valori_db *open_filled(uint32_t index) {
  valori_options o;
  valori_db *db = NULL;
  valori_options_init(&o);
  o.dim = WL_DIM;
  o.index = index;
  if (index == VALORI_INDEX_HNSW) {
    o.hnsw_m = 4;
    o.hnsw_ef_construction = 16;
  }
  if (valori_open(":memory:", &o, &db) != VALORI_OK) return NULL;
  if (upd_fill(db, NREC) != VALORI_OK) {
    valori_close(db);
    return NULL;
  }
  return db;
}

/* ---- every combination, against the older events */

/* The same change through UPDATE and SET_META (two events where both are named). */
static int legacy_update(valori_db *db, uint64_t id, const valori_update_fields *u) {
  int rc = VALORI_OK;
  if (u->fields & (VALORI_UPDATE_VECTOR | VALORI_UPDATE_TAG))
    rc = valori_update(db, id, (u->fields & VALORI_UPDATE_VECTOR) ? u->vec : NULL,
                       (u->fields & VALORI_UPDATE_TAG) ? &u->tag : NULL);
  if (!rc && (u->fields & VALORI_UPDATE_META)) rc = valori_set_meta(db, id, u->meta, u->meta_len);
  return rc;
}

static void every_combination(uint32_t index) {
  uint32_t fields;
  int i, same_root = 1, same_index = 1;
  valori_db *a, *b;
  /* each combination alone, on a fresh store */
  for (fields = 1; fields <= ALL_FIELDS; fields++) {
    float nv[WL_DIM];
    valori_update_fields u;
    upd_record before, after;
    valori_stats s0, s1;
    uint8_t ra[32], rb[32], da[32], db_[32];
    const uint64_t id = 3 + fields;
    a = open_filled(index);
    b = open_filled(index);
    VT_REQUIRE(a && b);
    wl_vec(1000u + fields, nv);
    memset(&u, 0, sizeof u);
    u.fields = fields;
    u.vec = nv;
    u.tag = 500 + fields;
    u.meta = "new metadata";
    u.meta_len = 12;
    VT_REQUIRE(upd_read(a, id, &before) == VALORI_OK);
    valori_stats_get(a, &s0);
    VT_EQ_INT(valori_update_record(a, id, &u), VALORI_OK);
    valori_stats_get(a, &s1);
    VT_EQ_INT(s1.height, s0.height + 1); /* one event, however many fields */
    VT_REQUIRE(upd_read(a, id, &after) == VALORI_OK);
    VT_CHECK(upd_vec_is(&after, (fields & VALORI_UPDATE_VECTOR) ? nv : NULL, &before));
    VT_EQ_INT(after.tag, (fields & VALORI_UPDATE_TAG) ? u.tag : before.tag);
    if (fields & VALORI_UPDATE_META) VT_CHECK(after.meta_len == 12 && memcmp(after.meta, "new metadata", 12) == 0);
    else VT_CHECK(after.meta_len == before.meta_len && memcmp(after.meta, before.meta, before.meta_len) == 0);
    VT_EQ_INT(valori_check(a), VALORI_OK);
    VT_EQ_INT(legacy_update(b, id, &u), VALORI_OK);
    valori_state_root(a, ra);
    valori_state_root(b, rb);
    valori_index_digest(a, da);
    valori_index_digest(b, db_);
    VT_CHECK(memcmp(ra, rb, 32) == 0);
    VT_CHECK(memcmp(da, db_, 32) == 0);
    valori_close(a);
    valori_close(b);
  }
  /* META with length 0 clears the metadata; meta may then be NULL */
  {
    valori_update_fields u;
    upd_record r;
    a = open_filled(index);
    VT_REQUIRE(a);
    memset(&u, 0, sizeof u);
    u.fields = VALORI_UPDATE_META | VALORI_UPDATE_TAG;
    u.tag = 9;
    VT_EQ_INT(valori_update_record(a, 7, &u), VALORI_OK);
    VT_REQUIRE(upd_read(a, 7, &r) == VALORI_OK);
    VT_CHECK(r.meta_len == 0 && r.tag == 9);
    valori_close(a);
  }
  /* a long mixed sequence on one store (tombstones, purges, slot reuse): the roots stay equal to
  ** the older events' after every step, and so does the index at the end */
  a = open_filled(index);
  b = open_filled(index);
  VT_REQUIRE(a && b);
  for (i = 0; i < 600; i++) {
    float nv[WL_DIM];
    char mb[UPD_META_CAP];
    valori_update_fields u;
    uint8_t ra[32], rb[32];
    uint64_t id = upd_fields(i, NREC, &u, nv, mb);
    VT_EQ_INT(valori_update_record(a, id, &u), VALORI_OK);
    VT_EQ_INT(legacy_update(b, id, &u), VALORI_OK);
    valori_state_root(a, ra);
    valori_state_root(b, rb);
    same_root &= memcmp(ra, rb, 32) == 0;
  }
  {
    uint8_t da[32], db_[32];
    valori_index_digest(a, da);
    valori_index_digest(b, db_);
    same_index = memcmp(da, db_, 32) == 0;
  }
  VT_CHECK(same_root);
  VT_CHECK(same_index);
  VT_EQ_INT(valori_check(a), VALORI_OK);
  printf("  %s: 7 combinations + 600 mixed updates give the roots of UPDATE + SET_META\n", index_name(index));
  valori_close(a);
  valori_close(b);
}

static void test_every_combination(void) { every_combination(VALORI_INDEX_HNSW); }
static void test_every_combination_no_index(void) { every_combination(VALORI_INDEX_NONE); }

/* ---- bad input changes nothing */

static valori_db *g_db;
static uint8_t g_root[32];
static uint64_t g_height;
static uint8_t *g_snap;
static size_t g_snap_len;
static upd_record g_rec;
static const uint64_t TARGET = 11, DELETED = 12;

static void baseline(void) {
  valori_stats st;
  valori_state_root(g_db, g_root);
  valori_stats_get(g_db, &st);
  g_height = st.height;
  if (g_snap) valori_buffer_free(g_db, g_snap, g_snap_len);
  g_snap = NULL;
  valori_snapshot_save(g_db, &g_snap, &g_snap_len);
  upd_read(g_db, TARGET, &g_rec);
}

/* Root, height, the target record, the deleted one and the snapshot bytes are as at baseline. */
static int unchanged(void) {
  uint8_t r[32], *snap = NULL;
  size_t len = 0;
  valori_stats st;
  upd_record rec;
  int ok;
  valori_state_root(g_db, r);
  valori_stats_get(g_db, &st);
  ok = memcmp(r, g_root, 32) == 0 && st.height == g_height && valori_check(g_db) == VALORI_OK;
  ok = ok && upd_read(g_db, TARGET, &rec) == VALORI_OK && upd_same(&rec, &g_rec);
  ok = ok && valori_get(g_db, DELETED, NULL, NULL, NULL, 0, NULL) == VALORI_ENOTFOUND;
  ok = ok && valori_snapshot_save(g_db, &snap, &len) == VALORI_OK && len == g_snap_len &&
       memcmp(snap, g_snap, len) == 0;
  valori_buffer_free(g_db, snap, len);
  return ok;
}

#define EXPECT(call, code)          \
  do {                              \
    VT_EQ_INT((call), (code));      \
    VT_CHECK(unchanged());          \
  } while (0)

/* An UPDATE_RECORD event by hand: vdim components (the store's dim, or not), meta_len claimed
** separately from the bytes present (mlen_bytes), extra trailing bytes. */
static size_t raw_event(uint8_t *p, uint64_t id, uint32_t fields, uint32_t meta_len_field, uint32_t vdim,
                        int32_t comp, size_t mlen_bytes, size_t extra) {
  size_t n = 8;
  uint32_t i;
  vl_put16(p, VALORI_OP_UPDATE_RECORD);
  vl_put16(p + 2, 0);
  vl_put64(p + n, id), n += 8;
  vl_put32(p + n, fields), n += 4;
  vl_put32(p + n, meta_len_field), n += 4;
  if (fields & VALORI_UPDATE_TAG) vl_put64(p + n, 77), n += 8;
  if (fields & VALORI_UPDATE_VECTOR)
    for (i = 0; i < vdim; i++) vl_put32(p + n, (uint32_t)(i == 1 ? comp : 65536)), n += 4;
  if (fields & VALORI_UPDATE_META) memset(p + n, 'q', mlen_bytes), n += mlen_bytes;
  memset(p + n, 0, extra), n += extra;
  vl_put32(p + 4, (uint32_t)(n - 8));
  return n;
}

static void bad_input(uint32_t index) {
  static uint8_t big[VALORI_MAX_META + 1];
  static uint8_t ev[64 + WL_DIM * 8 + VALORI_MAX_META + 16];
  const uint32_t bad_bits[] = {8u, 16u, 0x80000000u, 0x100u};
  const float nan = f_of(0x7FC00000u), pinf = f_of(0x7F800000u), ninf = f_of(0xFF800000u);
  const struct { float x; int code; } badvals[] = {
      {0, VALORI_ENAN}, {0, VALORI_EINF}, {0, VALORI_EINF}, {256.5f, VALORI_ERANGE}, {-1e30f, VALORI_ERANGE},
      {257.0f, VALORI_ERANGE}};
  uint32_t fields;
  size_t k, n;
  long cases = 0;
  g_db = open_filled(index);
  VT_REQUIRE(g_db);
  VT_REQUIRE(valori_delete(g_db, DELETED) == VALORI_OK);
  baseline();
  for (fields = 1; fields <= ALL_FIELDS; fields++) {
    const int hv = (fields & VALORI_UPDATE_VECTOR) != 0, hm = (fields & VALORI_UPDATE_META) != 0;
    float v[WL_DIM], bad[WL_DIM];
    valori_update_fields u, x;
    wl_vec(77, v);
    memset(&u, 0, sizeof u);
    u.fields = fields;
    u.vec = v;
    u.tag = 4242;
    u.meta = "fine";
    u.meta_len = 4;
    /* the vector: each bad value, at the third component, after good ones */
    for (k = 0; hv && k < sizeof badvals / sizeof badvals[0]; k++) {
      memcpy(bad, v, sizeof v);
      bad[2] = k == 0 ? nan : k == 1 ? pinf : k == 2 ? ninf : badvals[k].x;
      x = u;
      x.vec = bad;
      EXPECT(valori_update_record(g_db, TARGET, &x), badvals[k].code);
      cases++;
      /* the vector is checked before the metadata and before the record */
      x.meta = big;
      x.meta_len = sizeof big;
      EXPECT(valori_update_record(g_db, TARGET, &x), badvals[k].code);
      EXPECT(valori_update_record(g_db, 999999, &x), badvals[k].code);
      cases += 2;
    }
    if (hv) {
      /* the first bad component decides */
      memcpy(bad, v, sizeof v);
      bad[1] = pinf;
      bad[5] = nan;
      x = u;
      x.vec = bad;
      EXPECT(valori_update_record(g_db, TARGET, &x), VALORI_EINF);
      x.vec = NULL;
      EXPECT(valori_update_record(g_db, TARGET, &x), VALORI_EINVAL);
      cases += 2;
    } else {
      /* members the bits do not select are never read */
      memcpy(bad, v, sizeof v);
      bad[0] = nan;
      x = u;
      x.vec = bad;
      if (!hm) {
        x.meta = NULL;
        x.meta_len = sizeof big;
      }
      VT_EQ_INT(valori_update_record(g_db, TARGET, &x), VALORI_OK);
      x.vec = NULL;
      VT_EQ_INT(valori_update_record(g_db, TARGET, &x), VALORI_OK);
      VT_EQ_INT(valori_check(g_db), VALORI_OK);
      baseline(); /* those two changed the record on purpose */
    }
    /* the metadata */
    if (hm) {
      x = u;
      x.meta = big;
      x.meta_len = sizeof big;
      EXPECT(valori_update_record(g_db, TARGET, &x), VALORI_ETOOBIG);
      EXPECT(valori_update_record(g_db, 999999, &x), VALORI_ETOOBIG); /* before the record */
      x.meta = NULL;
      x.meta_len = 5;
      EXPECT(valori_update_record(g_db, TARGET, &x), VALORI_EINVAL);
      cases += 3;
    }
    /* the record */
    EXPECT(valori_update_record(g_db, 999999, &u), VALORI_ENOTFOUND);
    EXPECT(valori_update_record(g_db, DELETED, &u), VALORI_ENOTFOUND);
    EXPECT(valori_update_record(g_db, 0, &u), VALORI_ENOTFOUND);
    EXPECT(valori_update_record(g_db, UINT64_MAX, &u), VALORI_ENOTFOUND);
    cases += 4;
    /* the request itself */
    for (k = 0; k < sizeof bad_bits / sizeof bad_bits[0]; k++) {
      x = u;
      x.fields = fields | bad_bits[k];
      EXPECT(valori_update_record(g_db, TARGET, &x), VALORI_EINVAL);
      cases++;
    }
    x = u;
    x.reserved = 1;
    EXPECT(valori_update_record(g_db, TARGET, &x), VALORI_EINVAL);
    x.reserved = 0x80000000u;
    x.vec = NULL; /* reserved is checked first */
    EXPECT(valori_update_record(g_db, 999999, &x), VALORI_EINVAL);
    cases += 2;
    /* hand-made events through valori_apply: wrong dimension, raw components, sizes, layout */
    if (hv) {
      n = raw_event(ev, TARGET, fields, hm ? 3 : 0, WL_DIM + 1, 65536, hm ? 3 : 0, 0);
      EXPECT(valori_apply(g_db, ev, n, NULL), VALORI_ECORRUPT);
      n = raw_event(ev, TARGET, fields, hm ? 3 : 0, WL_DIM - 1, 65536, hm ? 3 : 0, 0);
      EXPECT(valori_apply(g_db, ev, n, NULL), VALORI_ECORRUPT);
      n = raw_event(ev, TARGET, fields, hm ? 3 : 0, WL_DIM, VALORI_Q16_MAX + 1, hm ? 3 : 0, 0);
      EXPECT(valori_apply(g_db, ev, n, NULL), VALORI_ERANGE);
      n = raw_event(ev, TARGET, fields, hm ? 3 : 0, WL_DIM, -VALORI_Q16_MAX - 1, hm ? 3 : 0, 0);
      EXPECT(valori_apply(g_db, ev, n, NULL), VALORI_ERANGE);
      n = raw_event(ev, TARGET, fields, hm ? 3 : 0, WL_DIM, VALORI_Q16_MAX, hm ? 3 : 0, 0); /* the limit itself */
      VT_EQ_INT(valori_apply(g_db, ev, n, NULL), VALORI_OK);
      baseline();
      cases += 4;
    }
    if (hm) {
      n = raw_event(ev, TARGET, fields, VALORI_MAX_META + 1, WL_DIM, 0, VALORI_MAX_META + 1, 0);
      EXPECT(valori_apply(g_db, ev, n, NULL), VALORI_ETOOBIG);
      n = raw_event(ev, TARGET, fields, 4, WL_DIM, 0, 3, 0); /* claims more than it holds */
      EXPECT(valori_apply(g_db, ev, n, NULL), VALORI_ECORRUPT);
      cases += 2;
    } else {
      n = raw_event(ev, TARGET, fields, 2, WL_DIM, 0, 0, 2); /* meta_len without the META bit */
      EXPECT(valori_apply(g_db, ev, n, NULL), VALORI_ECORRUPT);
      cases++;
    }
    n = raw_event(ev, TARGET, fields, hm ? 3 : 0, WL_DIM, 0, hm ? 3 : 0, 4); /* trailing bytes */
    EXPECT(valori_apply(g_db, ev, n, NULL), VALORI_ECORRUPT);
    n = raw_event(ev, 999999, fields, hm ? 3 : 0, WL_DIM, 0, hm ? 3 : 0, 0);
    EXPECT(valori_apply(g_db, ev, n, NULL), VALORI_ENOTFOUND);
    cases += 2;
  }
  {
    valori_update_fields u;
    memset(&u, 0, sizeof u);
    EXPECT(valori_update_record(g_db, TARGET, &u), VALORI_EINVAL); /* no field */
    EXPECT(valori_update_record(g_db, TARGET, NULL), VALORI_EINVAL);
    VT_EQ_INT(valori_update_record(NULL, TARGET, &u), VALORI_EINVAL);
    n = raw_event(ev, TARGET, 0, 0, WL_DIM, 0, 0, 0);
    EXPECT(valori_apply(g_db, ev, n, NULL), VALORI_ECORRUPT);
    n = raw_event(ev, TARGET, 8, 0, WL_DIM, 0, 0, 0);
    EXPECT(valori_apply(g_db, ev, n, NULL), VALORI_ECORRUPT);
    cases += 4;
  }
  printf("  %s: %ld rejected calls, each with its code and nothing changed\n", index_name(index), cases);
  valori_buffer_free(g_db, g_snap, g_snap_len);
  g_snap = NULL;
  valori_close(g_db);
  g_db = NULL;
}

static void test_bad_input(void) { bad_input(VALORI_INDEX_HNSW); }
static void test_bad_input_no_index(void) { bad_input(VALORI_INDEX_NONE); }

/* ---- snapshots and reopening */

static void snapshot_roundtrip(uint32_t index) {
  valori_db *a = open_filled(index), *b = NULL;
  uint8_t ra[32], rb[32], da[32], db_[32], *sa = NULL, *sb = NULL;
  size_t la = 0, lb = 0;
  int i;
  VT_REQUIRE(a);
  for (i = 0; i < 120; i++) VT_EQ_INT(upd_step(a, i, NREC), VALORI_OK);
  VT_EQ_INT(valori_snapshot_save(a, &sa, &la), VALORI_OK);
  VT_EQ_INT(valori_snapshot_load(sa, la, NULL, &b), VALORI_OK);
  VT_REQUIRE(b);
  VT_EQ_INT(valori_check(b), VALORI_OK);
  valori_state_root(a, ra);
  valori_state_root(b, rb);
  valori_index_digest(a, da);
  valori_index_digest(b, db_);
  VT_CHECK(memcmp(ra, rb, 32) == 0 && memcmp(da, db_, 32) == 0);
  VT_CHECK(upd_same_records(a, b, NREC));
  valori_buffer_free(a, sa, la);
  /* the loaded copy continues exactly like the original */
  for (i = 120; i < 200; i++) {
    VT_EQ_INT(upd_step(a, i, NREC), VALORI_OK);
    VT_EQ_INT(upd_step(b, i, NREC), VALORI_OK);
  }
  VT_EQ_INT(valori_snapshot_save(a, &sa, &la), VALORI_OK);
  VT_EQ_INT(valori_snapshot_save(b, &sb, &lb), VALORI_OK);
  VT_CHECK(la == lb && memcmp(sa, sb, la) == 0);
  valori_buffer_free(a, sa, la);
  valori_buffer_free(b, sb, lb);
  valori_close(a);
  valori_close(b);
}

static void test_snapshot_roundtrip(void) {
  snapshot_roundtrip(VALORI_INDEX_HNSW);
  snapshot_roundtrip(VALORI_INDEX_NONE);
}

/* A durable store: UPDATE_RECORD events replayed from the log, and from a snapshot plus the log,
** give the state they gave when written. */
static void test_store_reopen(void) {
  uint32_t index;
  for (index = VALORI_INDEX_HNSW; index <= VALORI_INDEX_NONE; index++) {
    fv_fs *fs = fv_new(5);
    valori_db *db, *mem = open_filled(index);
    uint8_t r1[32], r2[32];
    int i, phase;
    wl_index = index;
    db = wl_open(fv_vfs(fs), NULL, 0, NULL);
    VT_REQUIRE(db && mem);
    VT_EQ_INT(upd_fill(db, NREC), VALORI_OK);
    for (phase = 0; phase < 2; phase++) {
      for (i = phase * 60; i < phase * 60 + 60; i++) {
        VT_EQ_INT(upd_step(db, i, NREC), VALORI_OK);
        VT_EQ_INT(upd_step(mem, i, NREC), VALORI_OK);
      }
      if (phase == 0) VT_EQ_INT(valori_snapshot(db), VALORI_OK);
      valori_state_root(db, r1);
      VT_EQ_INT(valori_close(db), VALORI_OK);
      db = wl_open(fv_vfs(fs), NULL, 0, NULL);
      VT_REQUIRE(db);
      valori_state_root(db, r2);
      VT_CHECK(memcmp(r1, r2, 32) == 0);
      VT_CHECK(upd_same_records(db, mem, NREC));
      VT_EQ_INT(valori_check(db), VALORI_OK);
    }
    valori_close(db);
    valori_close(mem);
    fv_free(fs);
  }
  wl_index = VALORI_INDEX_HNSW;
}

/* ---- crash sweep */

#define CRASH_UPDATES 48
#define CRASH_SEEDS 4

/* The model after each height of the workload: every record's fields (upd_model_at). */
static upd_model ref_model[WL_MAXH];
static wl_result ref_run;

/* Runs the crash workload (a batch of the records, then CRASH_UPDATES updates) on db, noting the
** root after every event in r (wl_note) and acknowledging each write that returned VALORI_OK. */
static void crash_workload(valori_db *db, wl_result *r, upd_model *models) {
  int i;
  upd_model m;
  wl_note(db, r);
  r->acked = r->reached;
  upd_model_init(&m, 0);
  if (models) models[r->reached] = m;
  if (upd_fill(db, NREC) != VALORI_OK) return;
  upd_model_init(&m, NREC);
  wl_note(db, r);
  r->acked = r->reached;
  if (models) models[r->reached] = m;
  for (i = 0; i < CRASH_UPDATES; i++) {
    int rc = upd_step(db, i, NREC);
    r->nops++;
    wl_note(db, r);
    if (rc != VALORI_OK) {
      r->nfail++;
      continue;
    }
    r->acked = r->reached;
    upd_model_step(&m, i, NREC);
    if (models) models[r->reached] = m;
  }
}

static void crash_sweep(uint32_t index) {
  fv_fs *fs;
  valori_db *db;
  uint64_t points, k, seed, runs = 0, failures = 0, behind = 0;
  wl_index = index;
  memset(&ref_run, 0, sizeof ref_run);
  fs = fv_new(1);
  db = wl_open(fv_vfs(fs), NULL, 0, NULL);
  VT_REQUIRE(db);
  crash_workload(db, &ref_run, ref_model);
  valori_close(db);
  points = fv_sync_points(fs);
  fv_free(fs);
  VT_REQUIRE(ref_run.nfail == 0 && ref_run.reached == CRASH_UPDATES + 1);
  for (k = 1; k <= points + 1; k++) {
    for (seed = 0; seed < CRASH_SEEDS; seed++) {
      wl_result *r = (wl_result *)calloc(1, sizeof *r);
      fv_fs *img;
      valori_stats st;
      int ok;
      fs = fv_new(1);
      fv_crash_at_sync(fs, k, seed * 7919u + k);
      db = wl_open(fv_vfs(fs), NULL, 0, NULL);
      if (db) {
        crash_workload(db, r, NULL);
        valori_close(db);
      }
      img = fv_take_crash(fs);
      if (!img) img = fv_crash_image(fs, seed);
      runs++;
      db = wl_open(fv_vfs(img), NULL, 0, NULL);
      ok = db != NULL && wl_check_prefix(db, &ref_run, r->acked, r->reached);
      /* every field of every record is the model's at the recovered height: each update is there
      ** whole (vector, tag and metadata) or not at all */
      ok = ok && valori_stats_get(db, &st) == VALORI_OK && upd_model_check(db, &ref_model[st.height], NREC);
      if (ok && st.height < r->reached) behind++;
      if (!ok) {
        failures++;
        fprintf(stderr, "update crash sweep (%s): failed at sync point %llu seed %llu\n", index_name(index),
                (unsigned long long)k, (unsigned long long)seed);
      }
      valori_close(db);
      fv_free(img);
      fv_free(fs);
      free(r);
    }
  }
  VT_EQ_INT(failures, 0);
  printf("  %s: %llu sync points x %d seeds = %llu crashes recovered (%llu without the update whose sync was cut)\n",
         index_name(index), (unsigned long long)points, CRASH_SEEDS, (unsigned long long)runs,
         (unsigned long long)behind);
  wl_index = VALORI_INDEX_HNSW;
}

static void test_crash_sweep(void) { crash_sweep(VALORI_INDEX_HNSW); }
static void test_crash_sweep_no_index(void) { crash_sweep(VALORI_INDEX_NONE); }

int main(void) {
  VT_RUN(test_every_combination);
  VT_RUN(test_every_combination_no_index);
  VT_RUN(test_bad_input);
  VT_RUN(test_bad_input_no_index);
  VT_RUN(test_snapshot_roundtrip);
  VT_RUN(test_store_reopen);
  VT_RUN(test_crash_sweep);
  VT_RUN(test_crash_sweep_no_index);
  return VT_DONE();
}
