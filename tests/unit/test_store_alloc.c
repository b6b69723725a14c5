/*
** test_store_alloc.c: RELIABILITY.md scenario 4 for the durable store: the n-th allocation fails,
** for every n, while creating a store, running the shared workload (with snapshots and rotations)
** and closing it, and again while recovering it. Every failure must be a clean error (ENOMEM),
** a failed operation must leave the state root unchanged and the store writable and consistent,
** and after close the counting allocator must hold zero live bytes (no leak; the ASan build adds
** LeakSanitizer on top). A reopen with a working allocator then finds the last state.
*/
#include "store_wl.h"

#define ROUNDS 2

/* A counting allocator that fails its fail_at-th call. It tracks every live block by pointer
** (so a leak is a block never freed, whatever sizes the frees claim) and counts frees whose size
** differs from the allocation's (a breach of the valori_allocator contract). */
#define CA_SLOTS (1u << 16)
typedef struct cnt_alloc {
  uint64_t calls, fail_at, size_mismatch;
  int64_t live;
  int failed;
  void **ptr;
  size_t *size;
} cnt_alloc;

static size_t ca_slot(const cnt_alloc *c, const void *p) {
  size_t h = (size_t)(((uintptr_t)p >> 4) * 0x9E3779B1u) & (CA_SLOTS - 1);
  while (c->ptr[h] && c->ptr[h] != p) h = (h + 1) & (CA_SLOTS - 1);
  return h;
}
static void ca_put(cnt_alloc *c, void *p, size_t n) {
  size_t h = (size_t)(((uintptr_t)p >> 4) * 0x9E3779B1u) & (CA_SLOTS - 1);
  while (c->ptr[h]) h = (h + 1) & (CA_SLOTS - 1);
  c->ptr[h] = p;
  c->size[h] = n;
  c->live += (int64_t)n;
}
/* Removes p; returns the size it was allocated with. Backward-shift deletion keeps probing valid. */
static size_t ca_take(cnt_alloc *c, void *p) {
  size_t h = ca_slot(c, p), n, j;
  if (!c->ptr[h]) { fprintf(stderr, "  free of an unknown pointer\n"); abort(); }
  n = c->size[h];
  c->ptr[h] = NULL;
  j = h;
  for (;;) {
    size_t k;
    j = (j + 1) & (CA_SLOTS - 1);
    if (!c->ptr[j]) break;
    k = (size_t)(((uintptr_t)c->ptr[j] >> 4) * 0x9E3779B1u) & (CA_SLOTS - 1);
    if ((j > h && (k <= h || k > j)) || (j < h && (k <= h && k > j))) {
      c->ptr[h] = c->ptr[j];
      c->size[h] = c->size[j];
      c->ptr[j] = NULL;
      h = j;
    }
  }
  c->live -= (int64_t)n;
  return n;
}

static void *ca_alloc(void *ctx, size_t n) {
  cnt_alloc *c = (cnt_alloc *)ctx;
  void *p;
  if (++c->calls == c->fail_at) { c->failed = 1; return NULL; }
  p = malloc(n);
  if (p) ca_put(c, p, n);
  return p;
}
static void *ca_realloc(void *ctx, void *q, size_t old_n, size_t n) {
  cnt_alloc *c = (cnt_alloc *)ctx;
  void *p;
  if (++c->calls == c->fail_at) { c->failed = 1; return NULL; }
  if (ca_take(c, q) != old_n) c->size_mismatch++;
  p = realloc(q, n);
  if (p) ca_put(c, p, n);
  else ca_put(c, q, old_n);
  return p;
}
static void ca_free(void *ctx, void *p, size_t n) {
  cnt_alloc *c = (cnt_alloc *)ctx;
  if (!p) return;
  if (ca_take(c, p) != n) c->size_mismatch++;
  free(p);
}

static uint64_t total_mismatch;
static void ca_done(cnt_alloc *c) {
  total_mismatch += c->size_mismatch;
  free(c->ptr);
  free(c->size);
}

static void ca_init(cnt_alloc *c, valori_allocator *a, uint64_t fail_at) {
  memset(c, 0, sizeof *c);
  c->fail_at = fail_at;
  c->ptr = (void **)calloc(CA_SLOTS, sizeof(void *));
  c->size = (size_t *)calloc(CA_SLOTS, sizeof(size_t));
  a->ctx = c;
  a->alloc = ca_alloc;
  a->realloc = ca_realloc;
  a->free = ca_free;
}

/* Phase 1: create + workload + snapshot + close with allocation n failing. Returns 1 if OK. */
static int phase_write(uint64_t n, uint64_t *calls, fv_fs **fs_out, uint8_t root[32], uint64_t *height) {
  cnt_alloc c;
  valori_allocator a;
  fv_fs *fs = fv_new(1);
  wl_result *r = (wl_result *)calloc(1, sizeof *r);
  valori_db *db;
  int rc, ok = 1;
  ca_init(&c, &a, n);
  db = wl_open(fv_vfs(fs), &a, 0, &rc);
  *height = 0;
  memset(root, 0, 32);
  if (!db) {
    if (rc != VALORI_ENOMEM) { fprintf(stderr, "  alloc #%llu: open gave %s\n", (unsigned long long)n, valori_code_name(rc)); ok = 0; }
  } else {
    valori_stats st;
    wl_run(db, ROUNDS, 0, r);
    if (r->root_changed_on_fail || r->ok_after_poison || r->io_fail_not_poisoned) ok = 0;
    if (r->first_fail_rc && r->first_fail_rc != VALORI_ENOMEM && r->first_fail_rc != VALORI_ENOTFOUND && r->first_fail_rc != VALORI_EEXIST) {
      fprintf(stderr, "  alloc #%llu: op %d failed with %s\n", (unsigned long long)n, r->first_fail_op, valori_code_name(r->first_fail_rc));
      ok = 0;
    }
    if (valori_check(db) != VALORI_OK) ok = 0;
    valori_state_root(db, root);
    valori_stats_get(db, &st);
    *height = st.height;
    rc = valori_close(db);
    if (rc != VALORI_OK) ok = 0;
  }
  if (c.live != 0) { fprintf(stderr, "  alloc #%llu: %lld bytes leaked\n", (unsigned long long)n, (long long)c.live); ok = 0; }
  if (calls) *calls = c.calls;
  ca_done(&c);
  if (!ok) fprintf(stderr, "  write phase failed with allocation #%llu failing\n", (unsigned long long)n);
  *fs_out = fs;
  free(r);
  return ok;
}

/* Phase 2: recovery with allocation n failing; then a clean reopen must find root/height. */
static int phase_recover(fv_fs *fs, uint64_t n, uint64_t *calls, const uint8_t root[32], uint64_t height) {
  cnt_alloc c;
  valori_allocator a;
  valori_db *db;
  int rc, ok = 1;
  uint8_t got[32];
  valori_stats st;
  ca_init(&c, &a, n);
  db = wl_open(fv_vfs(fs), &a, 0, &rc);
  if (!db && rc != VALORI_ENOMEM) { fprintf(stderr, "  recover alloc #%llu: %s\n", (unsigned long long)n, valori_code_name(rc)); ok = 0; }
  if (db) {
    valori_state_root(db, got);
    valori_stats_get(db, &st);
    if (memcmp(got, root, 32) != 0 || st.height != height) ok = 0;
    valori_close(db);
  }
  if (c.live != 0) { fprintf(stderr, "  recover alloc #%llu: %lld bytes leaked\n", (unsigned long long)n, (long long)c.live); ok = 0; }
  if (calls) *calls = c.calls;
  ca_done(&c);
  db = wl_open(fv_vfs(fs), NULL, 0, &rc);
  if (!db) ok = 0;
  else {
    valori_state_root(db, got);
    valori_stats_get(db, &st);
    if (memcmp(got, root, 32) != 0 || st.height != height) ok = 0;
    valori_close(db);
  }
  return ok;
}

static void test_alloc_failures(void) {
  uint64_t total = 0, n, bad = 0, rtotal = 0, height;
  uint8_t root[32];
  fv_fs *fs;
  VT_REQUIRE(phase_write(0, &total, &fs, root, &height));
  VT_REQUIRE(phase_recover(fs, 0, &rtotal, root, height));
  fv_free(fs);
  for (n = 1; n <= total; n++) {
    uint8_t r2[32];
    uint64_t h2;
    if (!phase_write(n, NULL, &fs, r2, &h2)) bad++;
    if (h2 > 0 && !phase_recover(fs, n % (rtotal + 1) + 1, NULL, r2, h2)) bad++;
    fv_free(fs);
  }
  VT_EQ_INT(bad, 0);
  printf("  %llu allocations in a write run, %llu in a recovery: every one failed once\n",
         (unsigned long long)total, (unsigned long long)rtotal);
}

/* Every allocation of a recovery (with a snapshot and a log to replay) fails in turn. */
static void test_recovery_alloc_failures(void) {
  uint64_t total = 0, rtotal = 0, n, bad = 0, height;
  uint8_t root[32];
  fv_fs *fs;
  VT_REQUIRE(phase_write(0, &total, &fs, root, &height));
  VT_REQUIRE(phase_recover(fs, 0, &rtotal, root, height));
  for (n = 1; n <= rtotal; n++)
    if (!phase_recover(fs, n, NULL, root, height)) bad++;
  VT_EQ_INT(bad, 0);
  fv_free(fs);
}

int main(void) {
  WL_RUN_BOTH(test_alloc_failures);
  WL_RUN_BOTH(test_recovery_alloc_failures);
  /* the allocator contract: free and realloc get the size the block was allocated with */
  VT_EQ_INT(total_mismatch, 0);
  return VT_DONE();
}
