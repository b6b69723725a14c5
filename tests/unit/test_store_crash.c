/*
** test_store_crash.c: RELIABILITY.md scenarios 1 and 5 over the fault VFS.
**
** Crash sweep: the shared workload (batched inserts, deletes, updates, metadata, graph edits,
** automatic and explicit snapshots, log rotations, and the HEAD publishes of the open, every
** rotation and the close) is cut by a crash before every sync point in turn, under several seeds, and every write not yet synced is kept, dropped or garbled, and every
** unsynced directory operation kept or lost. Recovery must succeed, give the reference state at
** some height between the last acknowledged write and the last attempted one (a replay of a log
** prefix that holds every acknowledged write, compared by state root; never a false loss report
** from HEAD's floor), pass valori_check, and
** accept further writes that survive a reopen. Full and relaxed (flush-acknowledged) modes.
**
** Crash during recovery, two levels deep: a crashed image is recovered with a crash at each sync
** point of the recovery, the result recovered again with a crash at each of its sync points, and
** the final recovery must give the same height and root as an uninterrupted one.
*/
#include "store_wl.h"

#define ROUNDS 4
#define SEEDS 4

static uint64_t n_trimmed, n_behind, n_removed_seg, n_snapfallback, n_in_head;

static wl_result ref[2];

static void reference(int relaxed, uint64_t *points) {
  fv_fs *fs = fv_new(1);
  valori_db *db = wl_open(fv_vfs(fs), NULL, relaxed, NULL);
  memset(&ref[relaxed], 0, sizeof ref[relaxed]);
  if (db) {
    wl_run(db, ROUNDS, relaxed, &ref[relaxed]);
    valori_close(db);
  }
  *points = fv_sync_points(fs);
  fv_free(fs);
}

/* Recovers img, checks the prefix property against the reference, then writes a little more and
** checks that it survives a reopen. Returns 1 on success. */
static int recover_and_check(fv_fs *img, int relaxed, const wl_result *r, uint64_t *h_out, uint8_t root_out[32]) {
  int rc, ok;
  valori_db *db = wl_open(fv_vfs(img), NULL, relaxed, &rc);
  float v[WL_DIM] = {3, 1, 4, 1, 5, 9, 2, 6};
  uint64_t id;
  valori_stats st;
  uint8_t root[32], root2[32];
  int i;
  if (!db) {
    fprintf(stderr, "recovery failed: %s\n", valori_code_name(rc));
    return 0;
  }
  ok = wl_check_prefix(db, &ref[relaxed], r->acked, r->reached);
  valori_stats_get(db, &st);
  {
    valori_recovery rec;
    valori_recovery_info(db, &rec);
    if (rec.trimmed_bytes) n_trimmed++;
    if (rec.trimmed_bytes && rec.trimmed_offset == 0) n_removed_seg++;
    if (rec.snapshots_skipped) n_snapfallback++;
    if (st.height < r->reached) n_behind++;
  }
  if (h_out) *h_out = st.height;
  if (root_out) valori_state_root(db, root_out);
  for (i = 0; i < 3; i++)
    if (valori_insert(db, v, 5, NULL, 0, &id) != VALORI_OK) ok = 0;
  if (valori_flush(db) != VALORI_OK) ok = 0;
  valori_state_root(db, root);
  if (valori_close(db) != VALORI_OK) ok = 0;
  db = wl_open(fv_vfs(img), NULL, relaxed, &rc);
  if (!db) return 0;
  valori_state_root(db, root2);
  {
    valori_stats st2;
    valori_stats_get(db, &st2);
    if (st2.height != st.height + 3 || memcmp(root, root2, 32) != 0) ok = 0;
  }
  valori_close(db);
  return ok;
}

static void crash_sweep(int relaxed) {
  uint64_t points, k, seed, runs = 0, failures = 0, lost_unacked = 0;
  reference(relaxed, &points);
  VT_REQUIRE(ref[relaxed].nfail == 0);
  VT_REQUIRE(points > 20);
  for (k = 1; k <= points + 1; k++) {
    for (seed = 0; seed < SEEDS; seed++) {
      fv_fs *fs = fv_new(1), *img;
      wl_result *r = (wl_result *)calloc(1, sizeof *r);
      valori_db *db;
      fv_crash_at_sync(fs, k, seed * 7919u + k);
      db = wl_open(fv_vfs(fs), NULL, relaxed, NULL);
      if (db) {
        wl_run(db, ROUNDS, relaxed, r);
        valori_close(db);
      }
      VT_EQ_INT(r->ok_after_poison, 0);
      img = fv_take_crash(fs);
      if (!img) img = fv_crash_image(fs, seed);
      runs++;
      if (fv_file_exists(img, "HEAD.tmp")) n_in_head++; /* crashed while publishing HEAD */
      if (!recover_and_check(img, relaxed, r, NULL, NULL)) {
        failures++;
        fprintf(stderr, "crash sweep (%s): failed at sync point %llu seed %llu\n", relaxed ? "relaxed" : "full",
                (unsigned long long)k, (unsigned long long)seed);
      }
      if (r->reached > r->acked) lost_unacked++;
      fv_free(img);
      fv_free(fs);
      free(r);
    }
  }
  VT_EQ_INT(failures, 0);
  VT_CHECK(n_in_head > 0); /* the sweep does cut HEAD publishes (rotation, open and close) */
  printf("  crash sweep (%s): %llu sync points x %d seeds = %llu crashes recovered; torn tails trimmed %llu, "
         "torn segments removed %llu, unacknowledged writes lost %llu, snapshot fallbacks %llu, crashes inside a "
         "HEAD publish %llu\n",
         relaxed ? "relaxed" : "full", (unsigned long long)points, SEEDS, (unsigned long long)runs,
         (unsigned long long)n_trimmed, (unsigned long long)n_removed_seg, (unsigned long long)n_behind,
         (unsigned long long)n_snapfallback, (unsigned long long)n_in_head);
  n_trimmed = n_behind = n_removed_seg = n_snapfallback = n_in_head = 0;
}

static void test_crash_sweep_full(void) { crash_sweep(0); }
static void test_crash_sweep_relaxed(void) { crash_sweep(1); }

/* Opens img with a crash at its j-th sync point; returns the resulting image (owned). */
static fv_fs *crash_during_open(const fv_fs *img, uint64_t j, uint64_t seed, uint64_t *points) {
  fv_fs *a = fv_clone_synced(img), *out;
  valori_db *db;
  uint64_t before = fv_sync_points(a);
  fv_crash_at_sync(a, j, seed);
  db = wl_open(fv_vfs(a), NULL, 0, NULL);
  if (db) valori_close(db);
  if (points) *points = fv_sync_points(a) - before;
  out = fv_take_crash(a);
  if (!out) out = fv_crash_image(a, seed);
  fv_free(a);
  return out;
}

static void test_crash_during_recovery(void) {
  uint64_t points, k, checked = 0;
  reference(0, &points);
  for (k = 3; k <= points; k += 3) {
    fv_fs *fs = fv_new(1), *img1;
    wl_result *r = (wl_result *)calloc(1, sizeof *r);
    valori_db *db;
    uint64_t h1, j, p1 = 0;
    uint8_t root1[32];
    fv_crash_at_sync(fs, k, k * 31u);
    db = wl_open(fv_vfs(fs), NULL, 0, NULL);
    if (db) {
      wl_run(db, ROUNDS, 0, r);
      valori_close(db);
    }
    img1 = fv_take_crash(fs);
    if (!img1) img1 = fv_crash_image(fs, k);
    /* uninterrupted recovery of a copy */
    {
      fv_fs *c = fv_clone_synced(img1);
      valori_db *d = wl_open(fv_vfs(c), NULL, 0, NULL);
      valori_stats st;
      VT_REQUIRE(d != NULL);
      valori_stats_get(d, &st);
      h1 = st.height;
      valori_state_root(d, root1);
      valori_close(d);
      fv_free(c);
    }
    {
      fv_fs *probe = crash_during_open(img1, 1000000u, 1, &p1); /* counts the open's sync points */
      fv_free(probe);
    }
    for (j = 1; j <= p1 + 1; j++) {
      uint64_t p2 = 0, j2;
      fv_fs *img2 = crash_during_open(img1, j, j * 17u + k, NULL), *probe;
      probe = crash_during_open(img2, 1000000u, 1, &p2);
      fv_free(probe);
      for (j2 = 1; j2 <= p2 + 1; j2++) {
        fv_fs *img3 = crash_during_open(img2, j2, j2 * 101u + j, NULL);
        valori_db *d = wl_open(fv_vfs(img3), NULL, 0, NULL);
        VT_CHECK(d != NULL);
        if (!d) {
          valori_options o;
          valori_recovery rep;
          wl_options(&o, fv_vfs(img3), NULL, 0);
          o.flags = VALORI_OPEN_READONLY;
          valori_open_report("x", &o, &d, &rep);
          fprintf(stderr, "  k %llu j %llu j2 %llu: %s %s @%llu h %llu: %s\n", (unsigned long long)k,
                  (unsigned long long)j, (unsigned long long)j2, valori_code_name(rep.code), rep.file,
                  (unsigned long long)rep.offset, (unsigned long long)rep.height, rep.detail);
          if (d) valori_close(d);
          d = NULL;
        }
        if (d) {
          valori_stats st;
          uint8_t root[32];
          valori_stats_get(d, &st);
          valori_state_root(d, root);
          VT_EQ_INT(st.height, h1);
          VT_CHECK(memcmp(root, root1, 32) == 0);
          valori_close(d);
        }
        checked++;
        fv_free(img3);
      }
      fv_free(img2);
    }
    fv_free(img1);
    fv_free(fs);
    free(r);
  }
  printf("  %llu two-level crashed recoveries matched the uninterrupted one\n", (unsigned long long)checked);
}

int main(void) {
  WL_RUN_BOTH(test_crash_sweep_full);
  WL_RUN_BOTH(test_crash_sweep_relaxed);
  WL_RUN_BOTH(test_crash_during_recovery);
  return VT_DONE();
}
