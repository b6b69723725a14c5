/*
** test_store_corrupt.c: RELIABILITY.md scenario 6 through the whole recovery path: a small store
** (one segment of ten records, a snapshot at height 6, every record synced on its own) gets a bit
** flipped at every offset, and is truncated at every offset, of its log segment and of its
** snapshot. Each damaged store either recovers to the reference state at a height that keeps every
** acknowledged record, or (log damage in durable records) fails with ECORRUPT naming the segment
** and the offset of the damaged record, for valori_open and valori_verify alike. A damaged
** snapshot is always survived by falling back to the log. Each test runs on the store as a clean
** close left it (HEAD's floor is the end of the log: every lost record is detected) and as a crash
** left it (HEAD from the creation: only the snapshot at 6 is a floor, so damage to the last record
** is indistinguishable from a torn write). The ASan/UBSan build runs the same.
*/
#include "store_int.h"
#include "store_wl.h"

#define SEG "log-00000000000000000001.vlog"
#define SNAP "snap-00000000000000000006.vsnap"

static uint8_t roots[11][32];
static size_t rec_off[11]; /* rec_off[h]: offset of the record of height h in SEG */

static void opts(valori_options *o, const valori_vfs *v) {
  wl_options(o, v, NULL, 0);
  o->snapshot_every = UINT64_MAX;
  o->segment_bytes = 1u << 20;
}

static int crashed; /* build() leaves the store as a crash would (else: clean close) */

static fv_fs *build(void) {
  fv_fs *fs = fv_new(1);
  valori_options o;
  valori_db *db;
  int i;
  opts(&o, fv_vfs(fs));
  if (valori_open("c", &o, &db) != VALORI_OK) return fs;
  valori_state_root(db, roots[0]);
  for (i = 1; i <= 10; i++) {
    float v[WL_DIM];
    uint64_t id;
    wl_vec((uint64_t)i, v);
    if (i % 4 == 0) valori_delete(db, (uint64_t)(i / 4));
    else valori_insert(db, v, (uint64_t)i, "m", 1, &id);
    valori_state_root(db, roots[i]);
    if (i == 6) valori_snapshot(db);
  }
  if (crashed) {
    fv_fs *img = fv_crash_image(fs, 3); /* every record was synced: all of them survive */
    valori_close(db);
    fv_free(fs);
    return img;
  }
  valori_close(db);
  return fs;
}

/* Opens a copy of fs with `name` replaced by data[0..len). Returns the open's code; *h and *root
** receive the recovered height and root on success, *rep the report of the internal open. */
static int try_open(const fv_fs *fs, const char *name, const uint8_t *data, size_t len, uint64_t *h,
                    uint8_t root[32], valori_recovery *rep, int *verify_rc, valori_recovery *vrep) {
  fv_fs *c = fv_clone_synced(fs);
  valori_options o;
  valori_db *db = NULL;
  int rc;
  fv_file_set(c, name, data, len);
  opts(&o, fv_vfs(c));
  o.flags = VALORI_OPEN_READONLY;
  *verify_rc = valori_verify(&o, vrep, NULL, NULL);
  {
    /* the internal open gives the report even when the open fails */
    vl_store *s = NULL;
    vl_engine *e = NULL;
    vl_store_opts so;
    vl_config cfg;
    memset(&so, 0, sizeof so);
    so.flags = VALORI_OPEN_CREATE;
    so.snapshot_every = UINT64_MAX;
    so.segment_bytes = 1u << 20;
    memset(&cfg, 0, sizeof cfg);
    rc = vl_store_open_report(valori_libc_allocator(), fv_vfs(c), &cfg, &so, &s, &e, rep);
    if (rc == VALORI_OK) {
      *h = vl_engine_height(e);
      vl_engine_root(e, root);
      vl_store_close(s);
      vl_engine_free(e);
      /* and the public open agrees */
      opts(&o, fv_vfs(c));
      if (valori_open("c", &o, &db) != VALORI_OK) rc = -1;
      else {
        uint8_t r2[32];
        valori_state_root(db, r2);
        if (memcmp(r2, root, 32) != 0 || valori_check(db) != VALORI_OK) rc = -1;
        valori_close(db);
      }
    }
  }
  fv_free(c);
  return rc;
}

static void index_records(const fv_fs *fs) {
  size_t len, off = VL_SEG_HDR;
  const uint8_t *d = fv_file_data(fs, SEG, &len);
  int h;
  for (h = 1; h <= 10 && d && off + VL_REC_HDR <= len; h++) {
    rec_off[h] = off;
    off += VL_REC_HDR + vl_get32(d + off);
  }
}

static void test_log_flips(void) {
  fv_fs *fs = build();
  size_t len, i;
  const uint8_t *d = fv_file_data(fs, SEG, &len);
  uint8_t *copy;
  uint64_t trimmed = 0, corrupt = 0;
  VT_REQUIRE(d != NULL);
  index_records(fs);
  copy = (uint8_t *)malloc(len);
  for (i = 0; i < len; i++) {
    uint64_t h = 0;
    uint8_t root[32];
    valori_recovery rep, vrep;
    int vrc, rc, rec = 0, k;
    memcpy(copy, d, len);
    copy[i] ^= (uint8_t)(1u << (i % 8));
    for (k = 1; k <= 10; k++)
      if (rec_off[k] <= i) rec = k;
    rc = try_open(fs, SEG, copy, len, &h, root, &rep, &vrc, &vrep);
    if (rec == 10 && crashed) {
      /* the last record after a crash: indistinguishable from a torn write; trimmed, height 9 */
      VT_EQ_INT(rc, VALORI_OK);
      VT_EQ_INT(h, 9);
      VT_CHECK(memcmp(root, roots[9], 32) == 0);
      VT_EQ_INT(rep.trimmed_offset, rec_off[10]);
      VT_EQ_INT(vrc, VALORI_OK);
      trimmed++;
    } else {
      VT_EQ_INT(rc, VALORI_ECORRUPT);
      VT_EQ_INT(vrc, VALORI_ECORRUPT);
      VT_CHECK(strcmp(rep.file, SEG) == 0);
      VT_CHECK(strcmp(vrep.file, SEG) == 0);
      if (rec > 0 && rec < 10) {
        VT_EQ_INT(rep.offset, rec_off[rec]);
        VT_EQ_INT(vrep.offset, rec_off[rec]);
      }
      corrupt++;
    }
  }
  printf("  %zu flips: %llu trimmed as a torn tail, %llu reported as corruption\n", len,
         (unsigned long long)trimmed, (unsigned long long)corrupt);
  free(copy);
  fv_free(fs);
}

static void test_log_truncation(void) {
  fv_fs *fs = build();
  size_t len, cut;
  const uint8_t *d = fv_file_data(fs, SEG, &len);
  VT_REQUIRE(d != NULL);
  index_records(fs);
  for (cut = 0; cut < len; cut++) {
    uint64_t h = 0, keep = 0;
    uint8_t root[32];
    valori_recovery rep, vrep;
    int vrc, rc, k;
    for (k = 1; k <= 10; k++)
      if ((k < 10 ? rec_off[k + 1] : len) <= cut) keep = (uint64_t)k;
    rc = try_open(fs, SEG, d, cut, &h, root, &rep, &vrc, &vrep);
    if (keep == 10 || (keep >= 6 && crashed)) {
      /* after a crash, a shorter log above the snapshot: a tail that may never have been synced;
      ** after a clean close only the whole log is accepted */
      VT_EQ_INT(rc, VALORI_OK);
      VT_EQ_INT(h, keep);
      VT_CHECK(memcmp(root, roots[keep < 11 ? keep : 10], 32) == 0);
    } else {
      /* the log ends below the snapshot at 6 (or below HEAD's floor at 10 after a clean close):
      ** durable records are missing */
      VT_EQ_INT(rc, VALORI_ECORRUPT);
      VT_CHECK(strcmp(rep.file, SEG) == 0);
    }
  }
  fv_free(fs);
}

static void test_snapshot_damage(void) {
  fv_fs *fs = build();
  size_t len, i;
  const uint8_t *d = fv_file_data(fs, SNAP, &len);
  uint8_t *copy;
  uint64_t step;
  VT_REQUIRE(d != NULL);
  copy = (uint8_t *)malloc(len);
  /* every byte of the header and the first KiB, then every 7th byte */
  for (i = 0; i < len; i += (i < 1024 ? 1 : 7)) {
    uint64_t h = 0;
    uint8_t root[32];
    valori_recovery rep, vrep;
    int vrc, rc;
    memcpy(copy, d, len);
    copy[i] ^= (uint8_t)(1u << (i % 8));
    rc = try_open(fs, SNAP, copy, len, &h, root, &rep, &vrc, &vrep);
    VT_EQ_INT(rc, VALORI_OK);
    VT_EQ_INT(h, 10);
    VT_CHECK(memcmp(root, roots[10], 32) == 0);
    VT_EQ_INT(rep.snapshots_skipped, 1);
    VT_EQ_INT(vrc, VALORI_ECORRUPT); /* verify reports the damaged snapshot */
    VT_CHECK(strcmp(vrep.file, SNAP) == 0);
  }
  for (step = 0; step < len; step += (step < 256 ? 1 : 97)) {
    uint64_t h = 0;
    uint8_t root[32];
    valori_recovery rep, vrep;
    int vrc, rc = try_open(fs, SNAP, d, (size_t)step, &h, root, &rep, &vrc, &vrep);
    VT_EQ_INT(rc, VALORI_OK);
    VT_EQ_INT(h, 10);
    VT_EQ_INT(rep.snapshots_skipped, 1);
  }
  free(copy);
  fv_free(fs);
}

int main(void) {
  for (crashed = 0; crashed <= 1; crashed++) {
    printf("  (store left by a %s)\n", crashed ? "crash" : "clean close");
    WL_RUN_BOTH(test_log_flips);
    WL_RUN_BOTH(test_log_truncation);
    WL_RUN_BOTH(test_snapshot_damage);
  }
  return VT_DONE();
}
