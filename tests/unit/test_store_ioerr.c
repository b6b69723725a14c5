/*
** test_store_ioerr.c: RELIABILITY.md scenario 3: the n-th call of each VFS operation (write,
** sync, sync_dir, rename, open, remove, truncate, size, close, list, lock) fails, once or from
** then on, with EIO, and writes and syncs also with ENOSPC. For every n and kind:
** - no operation is acknowledged after the store was poisoned, and a mutation that failed with an
**   I/O error poisons it (a failed fsync may have lost data even if a retry succeeds);
** - a failed operation never changes the state root unless the store is poisoned;
** - with the fault cleared, the store reopens (as the process left it, and after a crash of the
**   machine as well) and holds the reference state at a height containing every acknowledged
**   write.
*/
#include "store_wl.h"

#define ROUNDS 3

static wl_result ref;
static uint64_t calls[FV_NKINDS];

static const char *kind_name(int k) {
  static const char *n[FV_NKINDS] = {"open", "close", "read", "write", "sync", "size", "truncate",
                                     "rename", "remove", "sync_dir", "list", "lock"};
  return n[k];
}

static void reference(void) {
  fv_fs *fs = fv_new(1);
  valori_db *db = wl_open(fv_vfs(fs), NULL, 0, NULL);
  int k;
  memset(&ref, 0, sizeof ref);
  if (db) {
    wl_run(db, ROUNDS, 0, &ref);
    valori_close(db);
  }
  for (k = 0; k < FV_NKINDS; k++) calls[k] = fv_calls(fs, k);
  fv_free(fs);
}

/* One faulty run; returns 1 when every property held. */
static int one(int kind, uint64_t n, int persistent, int code) {
  fv_fs *fs = fv_new(1), *img;
  wl_result *r = (wl_result *)calloc(1, sizeof *r);
  valori_db *db;
  int rc, ok = 1;
  fv_fail(fs, kind, n, persistent, code);
  db = wl_open(fv_vfs(fs), NULL, 0, &rc);
  if (db) {
    wl_run(db, ROUNDS, 0, r);
    valori_close(db);
  } else if (rc == VALORI_OK) {
    ok = 0;
  }
  if (r->ok_after_poison || r->root_changed_on_fail || r->io_fail_not_poisoned) ok = 0;
  fv_fail(fs, kind, 0, 0, 0);
  img = fv_crash_image(fs, n * 3u + (uint64_t)kind);
  db = wl_open(fv_vfs(fs), NULL, 0, &rc);
  if (!db || !wl_check_prefix(db, &ref, r->acked, r->reached)) ok = 0;
  valori_close(db);
  db = wl_open(fv_vfs(img), NULL, 0, &rc);
  if (!db || !wl_check_prefix(db, &ref, r->acked, r->reached)) ok = 0;
  valori_close(db);
  if (!ok)
    fprintf(stderr, "  %s #%llu %s %s: ok_after_poison %d root_changed %d io_not_poisoned %d reopen %s\n",
            kind_name(kind), (unsigned long long)n, persistent ? "persistent" : "once", valori_code_name(code),
            r->ok_after_poison, r->root_changed_on_fail, r->io_fail_not_poisoned, valori_code_name(rc));
  fv_free(img);
  fv_free(fs);
  free(r);
  return ok;
}

static void test_io_errors(void) {
  static const int kinds[] = {FV_WRITE, FV_SYNC, FV_SYNCDIR, FV_RENAME, FV_OPEN, FV_REMOVE, FV_TRUNC,
                              FV_SIZE, FV_CLOSE, FV_LIST, FV_LOCK};
  size_t i;
  uint64_t runs = 0, bad = 0;
  reference();
  VT_REQUIRE(ref.nfail == 0);
  for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    int kind = kinds[i], persistent;
    uint64_t n;
    for (n = 1; n <= calls[kind] + 1; n++)
      for (persistent = 0; persistent < 2; persistent++) {
        runs++;
        if (!one(kind, n, persistent, VALORI_EIO)) bad++;
        if (kind == FV_WRITE || kind == FV_SYNC || kind == FV_SYNCDIR) {
          runs++;
          if (!one(kind, n, persistent, VALORI_ENOSPC)) bad++;
        }
      }
  }
  VT_EQ_INT(bad, 0);
  printf("  %llu faulty runs (writes %llu, syncs %llu, sync_dirs %llu, renames %llu, opens %llu per run)\n",
         (unsigned long long)runs, (unsigned long long)calls[FV_WRITE], (unsigned long long)calls[FV_SYNC],
         (unsigned long long)calls[FV_SYNCDIR], (unsigned long long)calls[FV_RENAME], (unsigned long long)calls[FV_OPEN]);
}

/* Reads fail during recovery: a clean error, and nothing changed on disk. */
static void test_read_errors_on_open(void) {
  fv_fs *fs = fv_new(1);
  valori_db *db = wl_open(fv_vfs(fs), NULL, 0, NULL);
  wl_result *r = (wl_result *)calloc(1, sizeof *r);
  uint64_t n, reads;
  VT_REQUIRE(db != NULL);
  reference(); /* this test's own reference (not the one test_io_errors left behind) */
  wl_run(db, ROUNDS, 0, r);
  valori_close(db);
  reads = fv_calls(fs, FV_READ);
  db = wl_open(fv_vfs(fs), NULL, 0, NULL);
  valori_close(db);
  reads = fv_calls(fs, FV_READ) - reads;
  VT_CHECK(reads > 0);
  for (n = 1; n <= reads; n++) {
    int rc;
    fv_fail(fs, FV_READ, n, 0, VALORI_EIO);
    db = wl_open(fv_vfs(fs), NULL, 0, &rc);
    VT_CHECK(db == NULL ? rc == VALORI_EIO : 1);
    valori_close(db);
    fv_fail(fs, FV_READ, 0, 0, 0);
    db = wl_open(fv_vfs(fs), NULL, 0, &rc);
    VT_CHECK(db != NULL && wl_check_prefix(db, &ref, r->reached, r->reached));
    valori_close(db);
  }
  free(r);
  fv_free(fs);
}

int main(void) {
  WL_RUN_BOTH(test_io_errors);
  WL_RUN_BOTH(test_read_errors_on_open);
  return VT_DONE();
}
