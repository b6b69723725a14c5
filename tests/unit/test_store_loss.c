/*
** test_store_loss.c: issue 11 defect 4, loss of acknowledged writes, over the fault VFS. A store
** written with full durability loses records from the end of its log (the newest segment cut at
** every record boundary, inside a record, to its header, emptied, or removed):
** - after a clean close every such loss is detected (HEAD's floor is the end of the log), by
**   valori_open (writable and read-only) and valori_verify alike, naming file and heights;
** - after a crash (no clean close) a cut at a record boundary above HEAD's floor cannot be told
**   from a log that simply ended there: the open succeeds at the cut height and verify reports the
**   floor it can prove and the unwitnessed records above it; anything below the floor, and an
**   emptied or removed newest segment, is still detected;
** - HEAD itself: damaged (every byte flipped, truncated), missing (a store from before HEAD: opens,
**   says so, and a writable open writes one), a leftover HEAD.tmp, HEAD from another history, a
**   failing HEAD write at a rotation (the write goes on; status reports it);
** - what the open skipped is in valori_store_status (a damaged newest snapshot).
*/
#include "store_int.h"
#include "store_wl.h"

#define NREC 40
/* Stops the program when a helper's precondition fails (VT_REQUIRE only returns from void). */
#define MUST(c)                                                               \
  do {                                                                        \
    if (!(c)) {                                                               \
      fprintf(stderr, "%s:%d: required: %s\n", __FILE__, __LINE__, #c);     \
      exit(1);                                                                \
    }                                                                         \
  } while (0)

/* Options of these tests: small segments, no automatic snapshot. */
static void opts(valori_options *o, const valori_vfs *v) {
  wl_options(o, v, NULL, 0);
  o->snapshot_every = UINT64_MAX;
  o->segment_bytes = 2048;
}

static uint8_t roots[NREC + 1][32];

/* Inserts records 1..NREC (a snapshot at `snap_at` when non-zero) with full sync; closes cleanly
** when `clean`, else returns the crash image of the still open store (everything acknowledged is
** durable there, HEAD is what the last rotation wrote). */
static fv_fs *build(int clean, int snap_at) {
  fv_fs *fs = fv_new(1), *img;
  valori_options o;
  valori_db *db = NULL;
  int i;
  opts(&o, fv_vfs(fs));
  MUST(valori_open("l", &o, &db) == VALORI_OK);
  valori_state_root(db, roots[0]);
  for (i = 1; i <= NREC; i++) {
    float v[WL_DIM];
    uint64_t id;
    wl_vec((uint64_t)i, v);
    MUST(valori_insert(db, v, (uint64_t)i, "meta", 4, &id) == VALORI_OK);
    valori_state_root(db, roots[i]);
    if (i == snap_at) MUST(valori_snapshot(db) == VALORI_OK);
  }
  if (clean) {
    MUST(valori_close(db) == VALORI_OK);
    return fs;
  }
  img = fv_crash_image(fs, 7);
  valori_close(db);
  fv_free(fs);
  return img;
}

/* Record boundaries of a segment image: offs[0..n) are record starts, offs[n] its end. */
typedef struct bounds { uint64_t offs[64]; uint64_t h[64]; int n; } bounds;
static uint64_t segment_bounds(const uint8_t *d, size_t len, bounds *B);

/* The newest segment of fs: its name, bytes, length and record boundaries; returns its first
** height. */
static uint64_t newest(const fv_fs *fs, char seg[64], const uint8_t **d, size_t *len, bounds *B) {
  wl_newest_segment(fs, seg);
  *d = fv_file_data(fs, seg, len);
  MUST(*d != NULL);
  return segment_bounds(*d, *len, B);
}
static int bounds_cb(void *arg, const vl_rec *r, uint64_t off) {
  bounds *B = (bounds *)arg;
  if (B->n < 63) { B->h[B->n] = r->height; B->offs[B->n++] = off; }
  return VALORI_OK;
}
static uint64_t segment_bounds(const uint8_t *d, size_t len, bounds *B) {
  vl_seg_scan sc;
  B->n = 0;
  MUST(vl_seg_scan_run(d, len, bounds_cb, B, &sc) == VALORI_OK && sc.state == VL_SEG_CLEAN);
  B->offs[B->n] = sc.end;
  return sc.hdr.first_height;
}

/* Opens a synced copy of fs with `name` replaced by data[0..len) (data NULL: removed), read-only,
** writable and through verify. Returns the writable open's code; the codes of the others must
** agree on damage. *h, *rep and *vrep receive the results. */
static int try_all(const fv_fs *fs, const char *name, const uint8_t *data, size_t len, uint64_t *h,
                   valori_recovery *rep, valori_recovery *vrep, int *vrc) {
  fv_fs *c = fv_clone_synced(fs);
  valori_options o;
  valori_db *db = NULL;
  valori_recovery rrep;
  int rc, rrc;
  if (name) {
    if (data) fv_file_set(c, name, data, len);
    else MUST(fv_vfs(c)->remove(fv_vfs(c)->ctx, name) == VALORI_OK);
  }
  opts(&o, fv_vfs(c));
  o.flags = VALORI_OPEN_READONLY;
  o.dim = 0;
  *vrc = valori_verify(&o, vrep, NULL, NULL);
  rrc = valori_open_report("l", &o, &db, &rrep);
  if (db) valori_close(db);
  db = NULL;
  opts(&o, fv_vfs(c));
  rc = valori_open_report("l", &o, &db, rep);
  VT_EQ_INT(rrc, rc);
  *h = 0;
  if (db) {
    valori_stats st;
    uint8_t root[32];
    valori_stats_get(db, &st);
    valori_state_root(db, root);
    *h = st.height;
    VT_CHECK(st.height <= NREC && memcmp(root, roots[st.height], 32) == 0);
    VT_EQ_INT(valori_check(db), VALORI_OK);
    VT_EQ_INT(valori_close(db), VALORI_OK);
  }
  fv_free(c);
  return rc;
}

/* After a clean close, every cut of the newest segment (to nothing, to its header, at every record
** boundary, inside every record) and its removal are detected. */
static void clean_close_cuts(int snap_at) {
  fv_fs *fs = build(1, snap_at);
  char seg[64];
  size_t len;
  const uint8_t *d;
  bounds B;
  uint64_t first, h;
  int k, rc, vrc, tried = 0, detected = 0;
  valori_recovery rep, vrep;
  first = newest(fs, seg, &d, &len, &B);
  VT_REQUIRE(B.n >= 3);
  /* intact: opens at NREC, HEAD proves NREC (clean close) */
  rc = try_all(fs, NULL, NULL, 0, &h, &rep, &vrep, &vrc);
  VT_EQ_INT(rc, VALORI_OK);
  VT_EQ_INT(vrc, VALORI_OK);
  VT_EQ_INT(h, NREC);
  VT_EQ_INT(vrep.proven_height, NREC);
  VT_EQ_INT(vrep.proven_by, VALORI_PROOF_HEAD_CLOSE);
  VT_EQ_INT(vrep.head, 1);
  /* removed, emptied, header only, each record boundary, inside each record */
  for (k = -2; k <= 2 * B.n; k++) {
    const uint8_t *data = d;
    size_t cut;
    if (k == -2) data = NULL, cut = 0;                   /* removed */
    else if (k == -1) cut = 0;                          /* 0 bytes */
    else if (k % 2 == 0) cut = (size_t)B.offs[k / 2];   /* at a record boundary (k 0: the header) */
    else cut = (size_t)B.offs[k / 2] + 5u + (size_t)k;  /* inside record k/2 */
    if (cut >= len && data) continue;
    rc = try_all(fs, seg, data, cut, &h, &rep, &vrep, &vrc);
    VT_EQ_INT(rc, VALORI_ECORRUPT);
    VT_EQ_INT(vrc, VALORI_ECORRUPT);
    VT_CHECK(strcmp(rep.file, seg) == 0);
    VT_CHECK(strcmp(vrep.file, seg) == 0);
    if (k >= 0) {
      /* the heights are named: the log ends below the proven height */
      VT_EQ_INT(rep.proven_height, NREC);
      VT_EQ_INT(rep.log_end_height, first - 1u + (uint64_t)(k / 2));
      VT_EQ_INT(rep.height, first + (uint64_t)(k / 2));
    }
    tried++;
    if (rc == VALORI_ECORRUPT && vrc == VALORI_ECORRUPT) detected++;
  }
  VT_EQ_INT(detected, tried);
  printf("  newest segment %s (%d records): %d cuts and removals, %d detected after a clean close\n", seg, B.n,
         tried, detected);
  fv_free(fs);
}
static void test_clean_close_cuts(void) { clean_close_cuts(0); }
static void test_clean_close_cuts_with_snapshot(void) { clean_close_cuts(NREC - 2); }

/* After a crash, a cut at a record boundary at or above HEAD's floor (the end of the sealed
** predecessor) opens at the cut height, and verify reports the floor and the unwitnessed tail.
** Emptying or removing the segment HEAD names, or a cut inside a record, is still handled (the
** latter as a torn tail). A writable open then raises HEAD's floor to the cut height. */
static void test_crash_cuts(void) {
  fv_fs *fs = build(0, 0);
  char seg[64];
  size_t len;
  const uint8_t *d;
  bounds B;
  uint64_t first, h;
  int k, rc, vrc;
  valori_recovery rep, vrep;
  first = newest(fs, seg, &d, &len, &B);
  VT_REQUIRE(B.n >= 3);
  for (k = 0; k <= B.n; k++) {
    size_t cut = (size_t)B.offs[k];
    rc = try_all(fs, seg, d, cut, &h, &rep, &vrep, &vrc);
    VT_EQ_INT(rc, VALORI_OK);
    VT_EQ_INT(vrc, VALORI_OK);
    VT_EQ_INT(h, first - 1u + (uint64_t)k);
    /* honest: the floor is the end of the sealed segment, the rest is unwitnessed */
    VT_EQ_INT(vrep.proven_height, first - 1u);
    VT_EQ_INT(vrep.proven_by, VALORI_PROOF_HEAD_ROTATION);
    VT_EQ_INT(vrep.height_recovered, h);
    VT_EQ_INT(vrep.trimmed_bytes, 0);
    if (k < B.n) { /* a cut inside the next record: a torn tail, trimmed, same height */
      rc = try_all(fs, seg, d, cut + 9u, &h, &rep, &vrep, &vrc);
      VT_EQ_INT(rc, VALORI_OK);
      VT_EQ_INT(h, first - 1u + (uint64_t)k);
      VT_EQ_INT(vrep.trimmed_bytes, 9);
      VT_EQ_INT(vrep.trimmed_offset, cut);
    }
  }
  /* emptied or removed: its header had been durable when HEAD named it */
  rc = try_all(fs, seg, d, 0, &h, &rep, &vrep, &vrc);
  VT_EQ_INT(rc, VALORI_ECORRUPT);
  VT_EQ_INT(vrc, VALORI_ECORRUPT);
  VT_CHECK(strcmp(rep.file, seg) == 0);
  rc = try_all(fs, seg, NULL, 0, &h, &rep, &vrep, &vrc);
  VT_EQ_INT(rc, VALORI_ECORRUPT);
  VT_CHECK(strcmp(rep.file, seg) == 0);
  VT_EQ_INT(rep.height, first);
  /* the writable open after the crash raised the floor to what it recovered: a later cut below it
  ** is detected */
  {
    fv_fs *c = fv_clone_synced(fs);
    valori_options o;
    valori_db *db = NULL;
    valori_store_status st;
    opts(&o, fv_vfs(c));
    VT_REQUIRE(valori_open("l", &o, &db) == VALORI_OK);
    VT_EQ_INT(valori_store_status_get(db, &st), VALORI_OK);
    VT_EQ_INT(st.proven_height, NREC);
    VT_EQ_INT(st.proven_by, VALORI_PROOF_HEAD_OPEN);
    /* a crash now (no clean close), then the last record cut off */
    {
      fv_fs *img = fv_crash_image(c, 3);
      const uint8_t *d2;
      size_t len2;
      d2 = fv_file_data(img, seg, &len2);
      VT_REQUIRE(d2 != NULL && len2 == len);
      rc = try_all(img, seg, d2, (size_t)B.offs[B.n - 1], &h, &rep, &vrep, &vrc);
      VT_EQ_INT(rc, VALORI_ECORRUPT);
      VT_EQ_INT(rep.proven_height, NREC);
      VT_EQ_INT(rep.log_end_height, NREC - 1);
      fv_free(img);
    }
    valori_close(db);
    fv_free(c);
  }
  fv_free(fs);
}

/* A damaged HEAD is damage: every byte flipped and every truncation refuse the open naming HEAD;
** verify checks everything else first and then reports HEAD. */
static void test_head_damaged(void) {
  fv_fs *fs = build(1, 0);
  size_t len, i;
  const uint8_t *d = fv_file_data(fs, "HEAD", &len);
  uint8_t copy[VL_HEAD_SIZE];
  uint64_t h;
  int rc, vrc;
  valori_recovery rep, vrep;
  VT_REQUIRE(d != NULL && len == VL_HEAD_SIZE);
  for (i = 0; i < len; i++) {
    memcpy(copy, d, len);
    copy[i] ^= (uint8_t)(0x11u << (i % 4));
    rc = try_all(fs, "HEAD", copy, len, &h, &rep, &vrep, &vrc);
    VT_EQ_INT(rc, VALORI_ECORRUPT);
    VT_EQ_INT(vrc, VALORI_ECORRUPT);
    VT_CHECK(strcmp(rep.file, "HEAD") == 0);
    VT_CHECK(strcmp(vrep.file, "HEAD") == 0);
    VT_CHECK(strstr(rep.detail, "remove HEAD") != NULL); /* says how to proceed */
    VT_EQ_INT(vrep.height_recovered, 0); /* not set on failure... */
    VT_EQ_INT(vrep.log_end_height, NREC); /* ...but verify replayed the whole log first */
  }
  for (i = 0; i < len; i++) {
    rc = try_all(fs, "HEAD", d, i, &h, &rep, &vrep, &vrc);
    VT_EQ_INT(rc, VALORI_ECORRUPT);
    VT_CHECK(strcmp(rep.file, "HEAD") == 0);
  }
  fv_free(fs);
}

/* HEAD of the same configuration from another history: refused. */
static void test_head_other_history(void) {
  fv_fs *fs = build(1, 0), *other = fv_new(9);
  valori_options o;
  valori_db *db = NULL;
  const uint8_t *d;
  size_t len;
  uint64_t h;
  int i, rc, vrc;
  valori_recovery rep, vrep;
  opts(&o, fv_vfs(other));
  VT_REQUIRE(valori_open("o", &o, &db) == VALORI_OK);
  for (i = 1; i <= NREC; i++) {
    float v[WL_DIM];
    uint64_t id;
    wl_vec((uint64_t)i + 1000u, v);
    VT_REQUIRE(valori_insert(db, v, 1, NULL, 0, &id) == VALORI_OK);
  }
  VT_REQUIRE(valori_close(db) == VALORI_OK);
  d = fv_file_data(other, "HEAD", &len);
  VT_REQUIRE(d != NULL);
  rc = try_all(fs, "HEAD", d, len, &h, &rep, &vrep, &vrc);
  VT_EQ_INT(rc, VALORI_ECORRUPT);
  VT_EQ_INT(vrc, VALORI_ECORRUPT);
  fv_free(other);
  fv_free(fs);
}

/* No HEAD: a store written before HEAD existed (or HEAD removed): it opens, says so, and only a
** snapshot proves a height; a writable open writes HEAD. HEAD removed together with the newest
** segment is beyond local detection: the store opens at the shorter log (documented). */
static void test_head_missing(void) {
  fv_fs *fs = build(1, 20);
  char seg[64];
  uint64_t h;
  int rc, vrc;
  valori_recovery rep, vrep;
  rc = try_all(fs, "HEAD", NULL, 0, &h, &rep, &vrep, &vrc);
  VT_EQ_INT(rc, VALORI_OK);
  VT_EQ_INT(vrc, VALORI_OK);
  VT_EQ_INT(h, NREC);
  VT_EQ_INT(rep.head, 0);
  VT_EQ_INT(vrep.head, 0);
  VT_EQ_INT(vrep.proven_height, 20);
  VT_EQ_INT(vrep.proven_by, VALORI_PROOF_SNAPSHOT);
  {
    fv_fs *c = fv_clone_synced(fs);
    valori_options o;
    valori_db *db = NULL;
    valori_store_status st;
    fv_vfs(c)->remove(fv_vfs(c)->ctx, "HEAD");
    opts(&o, fv_vfs(c));
    VT_REQUIRE(valori_open("l", &o, &db) == VALORI_OK);
    VT_CHECK(fv_file_exists(c, "HEAD")); /* written by the writable open */
    valori_store_status_get(db, &st);
    VT_EQ_INT(st.proven_height, NREC);
    VT_EQ_INT(st.proven_by, VALORI_PROOF_HEAD_OPEN);
    valori_close(db);
    fv_free(c);
  }
  /* HEAD and the newest segment removed together: not detectable locally */
  wl_newest_segment(fs, seg);
  {
    fv_fs *c = fv_clone_synced(fs);
    fv_vfs(c)->remove(fv_vfs(c)->ctx, "HEAD");
    rc = try_all(c, seg, NULL, 0, &h, &rep, &vrep, &vrc);
    VT_EQ_INT(rc, VALORI_OK);
    VT_CHECK(h < NREC && h >= 20);
    fv_free(c);
  }
  fv_free(fs);
}

/* A HEAD.tmp left by a crash is removed by a writable open and ignored by a read-only one. */
static void test_head_tmp_leftover(void) {
  fv_fs *fs = build(1, 0);
  valori_options o;
  valori_db *db = NULL;
  static const uint8_t junk[37] = {1, 2, 3};
  fv_file_set(fs, "HEAD.tmp", junk, sizeof junk);
  opts(&o, fv_vfs(fs));
  o.flags = VALORI_OPEN_READONLY;
  VT_REQUIRE(valori_open("l", &o, &db) == VALORI_OK);
  valori_close(db);
  VT_CHECK(fv_file_exists(fs, "HEAD.tmp"));
  opts(&o, fv_vfs(fs));
  VT_REQUIRE(valori_open("l", &o, &db) == VALORI_OK);
  VT_CHECK(!fv_file_exists(fs, "HEAD.tmp"));
  valori_close(db);
  fv_free(fs);
}

/* HEAD lifecycle and cost: written at creation, at every rotation and at a clean close; a clean
** reopen writes nothing; no write between rotations costs more than its one sync. A failing HEAD
** write at a rotation does not fail the write (the log is intact); status reports it and close
** writes HEAD again. */
static void test_head_writes(void) {
  fv_fs *fs = fv_new(4);
  valori_options o;
  valori_db *db = NULL;
  valori_store_status st;
  float v[WL_DIM] = {1, 2, 3, 4, 5, 6, 7, 8};
  uint64_t id, before, renames;
  int i, rotations = 0;
  opts(&o, fv_vfs(fs));
  VT_REQUIRE(valori_open("l", &o, &db) == VALORI_OK);
  VT_CHECK(fv_file_exists(fs, "HEAD"));
  valori_store_status_get(db, &st);
  VT_EQ_INT(st.proven_by, VALORI_PROOF_HEAD_OPEN);
  VT_EQ_INT(st.proven_height, 0);
  for (i = 0; i < NREC; i++) {
    uint64_t seg_before;
    valori_store_status_get(db, &st);
    seg_before = st.tail_segment_first;
    before = fv_sync_points(fs);
    renames = fv_calls(fs, FV_RENAME);
    if (i == 20) fv_fail(fs, FV_RENAME, 1, 0, VALORI_EIO); /* the next HEAD publish fails once */
    VT_EQ_INT(valori_insert(db, v, 1, NULL, 0, &id), VALORI_OK);
    valori_store_status_get(db, &st);
    if (st.tail_segment_first != seg_before) {
      rotations++;
      /* old segment synced + new header + directory + HEAD.tmp + directory, then the record */
      VT_EQ_INT(fv_calls(fs, FV_RENAME) - renames, 1);
      if (st.head_failures == 0) {
        VT_EQ_INT(st.proven_height, st.tail_segment_first - 1u);
        VT_EQ_INT(st.proven_by, VALORI_PROOF_HEAD_ROTATION);
      }
    } else {
      VT_EQ_INT(fv_sync_points(fs) - before, 1); /* the per-write path: one sync, no HEAD */
      VT_EQ_INT(fv_calls(fs, FV_RENAME) - renames, 0);
    }
  }
  VT_CHECK(rotations >= 2);
  valori_store_status_get(db, &st);
  VT_EQ_INT(st.head_failures, 1);
  VT_EQ_INT(st.last_head_error, VALORI_EIO);
  VT_EQ_INT(st.poisoned, 0);
  VT_EQ_INT(valori_close(db), VALORI_OK);
  /* the clean close recorded the end of the log */
  {
    const uint8_t *d;
    size_t len;
    vl_head hd;
    const char *what;
    uint64_t off;
    d = fv_file_data(fs, "HEAD", &len);
    VT_REQUIRE(d != NULL);
    VT_EQ_INT(vl_head_decode(d, len, &hd, &what, &off), VALORI_OK);
    VT_EQ_INT(hd.floor, NREC);
    VT_EQ_INT(hd.reason, VL_HEAD_CLOSE);
  }
  /* a clean reopen and close write no HEAD */
  renames = fv_calls(fs, FV_RENAME);
  VT_REQUIRE(valori_open("l", &o, &db) == VALORI_OK);
  VT_EQ_INT(valori_close(db), VALORI_OK);
  VT_EQ_INT(fv_calls(fs, FV_RENAME) - renames, 0);
  fv_free(fs);
}

/* What the open skipped is in valori_store_status, not only in verify. */
static void test_status_skipped(void) {
  fv_fs *fs = build(1, 20);
  const char *snap = "snap-00000000000000000020.vsnap";
  size_t len;
  const uint8_t *d = fv_file_data(fs, snap, &len);
  uint8_t *copy;
  valori_options o;
  valori_db *db = NULL;
  valori_store_status st;
  VT_REQUIRE(d != NULL);
  copy = (uint8_t *)malloc(len);
  memcpy(copy, d, len);
  copy[len - 10] ^= 0x40;
  fv_file_set(fs, snap, copy, len);
  free(copy);
  opts(&o, fv_vfs(fs));
  VT_REQUIRE(valori_open("l", &o, &db) == VALORI_OK);
  VT_EQ_INT(valori_store_status_get(db, &st), VALORI_OK);
  VT_EQ_INT(st.skipped, 1);
  VT_EQ_INT(st.skipped_kind, VALORI_FILE_SNAPSHOT);
  VT_CHECK(strcmp(st.skipped_file, snap) == 0);
  VT_CHECK(st.skipped_offset > 0);
  VT_CHECK(st.skipped_detail[0] != '\0');
  valori_close(db);
  /* nothing skipped: the fields say so */
  {
    fv_fs *f2 = build(1, 0);
    opts(&o, fv_vfs(f2));
    VT_REQUIRE(valori_open("l", &o, &db) == VALORI_OK);
    valori_store_status_get(db, &st);
    VT_EQ_INT(st.skipped, 0);
    VT_CHECK(st.skipped_file[0] == '\0' && st.skipped_detail[0] == '\0');
    valori_close(db);
    fv_free(f2);
  }
  fv_free(fs);
}

int main(void) {
  WL_RUN_BOTH(test_clean_close_cuts);
  VT_RUN(test_clean_close_cuts_with_snapshot);
  WL_RUN_BOTH(test_crash_cuts);
  VT_RUN(test_head_damaged);
  VT_RUN(test_head_other_history);
  VT_RUN(test_head_missing);
  VT_RUN(test_head_tmp_leftover);
  VT_RUN(test_head_writes);
  VT_RUN(test_status_skipped);
  return VT_DONE();
}
