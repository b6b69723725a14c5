/*
** test_alloc_fail.c: allocation failure at the n-th allocation, for every n, during every kind of
** mutation (multi-field UPDATE_RECORD updates included), snapshot save/load and search. Each
** failure must return VALORI_ENOMEM with the state root, height and invariants unchanged; retrying
** with a working allocator then succeeds; and after close every byte is returned (the counting
** allocator tracks live bytes exactly, as the vtable passes sizes to free). Run for an HNSW store
** and for an index-less one (VALORI_INDEX_NONE), whose inserts, deletes and updates take other
** paths, and for an HNSW store with the int8 traversal copy, whose copy grows on its own.
*/
#include "valori.h"
#include "vt.h"

typedef struct { long live_bytes, allocs, fail_at; } counting;

static void *c_alloc(void *ctx, size_t n) {
  counting *c = (counting *)ctx;
  void *p;
  if (c->fail_at > 0 && ++c->allocs >= c->fail_at) return NULL;
  p = malloc(n);
  if (p) c->live_bytes += (long)n;
  return p;
}
static void *c_realloc(void *ctx, void *p, size_t o, size_t n) {
  counting *c = (counting *)ctx;
  void *q;
  if (c->fail_at > 0 && ++c->allocs >= c->fail_at) return NULL;
  q = realloc(p, n);
  if (q) c->live_bytes += (long)n - (long)o;
  return q;
}
static void c_free(void *ctx, void *p, size_t n) {
  counting *c = (counting *)ctx;
  if (p) c->live_bytes -= (long)n;
  free(p);
}

static counting cnt;
static valori_allocator alloc = {&cnt, c_alloc, c_realloc, c_free};

typedef int (*op_fn)(valori_db *db, int i);

static float vecs[8 * 300];
static int op_batch(valori_db *db, int i) {
  const void *metas[3] = {"a", "bb", NULL};
  size_t lens[3] = {1, 2, 0};
  uint64_t tags[3] = {(uint64_t)i, 100 + (uint64_t)i, 5}, f;
  return valori_insert_batch(db, 3, vecs + 24 * (i % 90), tags, metas, lens, &f);
}
static int op_insert(valori_db *db, int i) { uint64_t id; return valori_insert(db, vecs + 8 * (i % 290), 1000 + (uint64_t)i, "m", 1, &id); }
static int op_update_vec(valori_db *db, int i) { return valori_update(db, 5 + (uint64_t)i, vecs + 8 * (i + 1), NULL); }
static int op_update_tag(valori_db *db, int i) { uint64_t t = 5000 + (uint64_t)i; return valori_update(db, 40 + (uint64_t)i, NULL, &t); }
static int op_meta(valori_db *db, int i) { return valori_set_meta(db, 60 + (uint64_t)i, "metadata", 8); }
static int op_node(valori_db *db, int i) { uint64_t n; return valori_node_create(db, 1, 80 + (uint64_t)i, "label", 5, &n); }
static int op_edge(valori_db *db, int i) { uint64_t e; return valori_edge_create(db, 1 + (uint64_t)(i % 11), 2 + (uint64_t)(i % 11), 3, NULL, &e); }
static int op_delete(valori_db *db, int i) { return valori_delete(db, 100 + (uint64_t)i); }
/* UPDATE_RECORD: vector, tag and metadata at once, and metadata with a new tag */
static int op_update_all(valori_db *db, int i) {
  valori_update_fields u = {VALORI_UPDATE_VECTOR | VALORI_UPDATE_TAG | VALORI_UPDATE_META, 0, vecs + 8 * (i + 7),
                            7000 + (uint64_t)i, "all three", 9};
  return valori_update_record(db, 20 + (uint64_t)i, &u);
}
static int op_update_tag_meta(valori_db *db, int i) {
  valori_update_fields u = {VALORI_UPDATE_TAG | VALORI_UPDATE_META, 0, NULL, 8000 + (uint64_t)i, "tm", 2};
  return valori_update_record(db, 70 + (uint64_t)i, &u);
}

static void run_op(valori_db *db, op_fn fn, int i, long *failures) {
  uint8_t r0[32], r1[32];
  valori_stats s0, s1;
  long n;
  int rc;
  valori_state_root(db, r0);
  valori_stats_get(db, &s0);
  for (n = 1;; n++) {
    cnt.allocs = 0;
    cnt.fail_at = n;
    rc = fn(db, i);
    cnt.fail_at = 0;
    if (rc == VALORI_OK) break;
    (*failures)++;
    VT_EQ_INT(rc, VALORI_ENOMEM);
    valori_state_root(db, r1);
    valori_stats_get(db, &s1);
    VT_CHECK(memcmp(r0, r1, 32) == 0 && s0.height == s1.height);
    if (valori_check(db) != VALORI_OK) {
      fprintf(stderr, "item %d: inconsistent after failing allocation %ld\n", i, n);
      vt_failures++;
      break;
    }
    if (rc != VALORI_ENOMEM) break;
  }
}

static void every_mutation(uint32_t index, int int8_copy, long min_failures) {
  valori_options o;
  valori_db *db = NULL;
  op_fn ops[] = {op_batch, op_insert, op_update_vec, op_update_tag, op_meta, op_update_all, op_update_tag_meta,
                 op_node, op_edge, op_delete};
  long failures = 0;
  int i, k;
  uint64_t seed = 17;
  for (i = 0; i < 8 * 300; i++) vecs[i] = (float)(vt_rand(&seed) % 2000) / 100.0f - 10.0f;
  valori_options_init(&o);
  o.dim = 8;
  o.index = index;
  if (index == VALORI_INDEX_HNSW) {
    o.hnsw_m = 4;
    o.hnsw_ef_construction = 16;
  }
  if (int8_copy) VT_REQUIRE(valori_traversal_int8(-10.0f, 10.0f, &o.traversal) == VALORI_OK);
  o.allocator = &alloc;
  VT_REQUIRE(valori_open(":memory:", &o, &db) == VALORI_OK);
  for (i = 0; i < 40; i++) run_op(db, op_batch, i, &failures); /* 120 records */
  for (k = 0; k < (int)(sizeof ops / sizeof ops[0]); k++) {
    for (i = 0; i < 12; i++) run_op(db, ops[k], i, &failures); /* deletes trigger index purges */
  }
  printf("  %s%s: %ld injected allocation failures, all clean\n", index == VALORI_INDEX_HNSW ? "hnsw" : "no index",
         int8_copy ? " with the int8 traversal copy" : "", failures);
  VT_CHECK(failures > min_failures);
  /* snapshot save and load under failure */
  {
    uint8_t *buf = NULL;
    size_t len = 0;
    long n;
    valori_db *x = NULL;
    for (n = 1;; n++) {
      int rc;
      cnt.allocs = 0; cnt.fail_at = n;
      rc = valori_snapshot_save(db, &buf, &len);
      cnt.fail_at = 0;
      if (!rc) break;
      VT_EQ_INT(rc, VALORI_ENOMEM);
    }
    for (n = 1;; n++) {
      int rc;
      cnt.allocs = 0; cnt.fail_at = n;
      rc = valori_snapshot_load(buf, len, &o, &x);
      cnt.fail_at = 0;
      if (!rc) break;
      VT_EQ_INT(rc, VALORI_ENOMEM);
    }
    VT_EQ_INT(valori_check(x), VALORI_OK);
    valori_close(x);
    valori_buffer_free(db, buf, len);
  }
  /* searches and expansions under failure */
  {
    valori_hit h[5];
    size_t nh;
    valori_search_params p = {5, 0, VALORI_SEARCH_AUTO, 0, NULL};
    long n;
    for (n = 1;; n++) {
      int rc;
      cnt.allocs = 0; cnt.fail_at = n;
      rc = valori_search(db, NULL, vecs, &p, h, &nh);
      cnt.fail_at = 0;
      if (!rc) break;
      VT_EQ_INT(rc, VALORI_ENOMEM);
    }
  }
  VT_EQ_INT(valori_close(db), VALORI_OK);
  VT_EQ_INT(cnt.live_bytes, 0);
}

static void test_every_mutation(void) { every_mutation(VALORI_INDEX_HNSW, 0, 100); }
static void test_every_mutation_no_index(void) { every_mutation(VALORI_INDEX_NONE, 0, 200); }
/* the compact copy grows on its own ahead of the other slot arrays (records.c, grow_slots) */
static void test_every_mutation_int8_copy(void) { every_mutation(VALORI_INDEX_HNSW, 1, 100); }

/* A growth that fails after the compact copy grew leaves the copy larger than the store: checked,
** then closed without a retry, every byte must still come back (freed with the copy's own size). */
static void test_int8_copy_growth_fails(void) {
  long n, failed = 0;
  uint64_t seed = 5, first;
  int i;
  for (i = 0; i < 8 * 300; i++) vecs[i] = (float)(vt_rand(&seed) % 2000) / 100.0f - 10.0f;
  for (n = 1;; n++) {
    valori_options o;
    valori_db *db = NULL;
    int rc;
    valori_options_init(&o);
    o.dim = 8;
    o.hnsw_m = 4;
    o.hnsw_ef_construction = 16;
    o.allocator = &alloc;
    VT_REQUIRE(valori_traversal_int8(-10.0f, 10.0f, &o.traversal) == VALORI_OK);
    cnt.live_bytes = 0;
    VT_REQUIRE(valori_open(":memory:", &o, &db) == VALORI_OK);
    VT_REQUIRE(valori_insert_batch(db, 64, vecs, NULL, NULL, NULL, &first) == VALORI_OK); /* slots: 64 */
    cnt.allocs = 0;
    cnt.fail_at = n;
    rc = valori_insert_batch(db, 10, vecs + 8 * 64, NULL, NULL, NULL, &first); /* grows to 112 */
    cnt.fail_at = 0;
    if (rc == VALORI_OK) {
      VT_EQ_INT(valori_close(db), VALORI_OK);
      VT_EQ_INT(cnt.live_bytes, 0);
      break;
    }
    failed++;
    VT_EQ_INT(rc, VALORI_ENOMEM);
    VT_EQ_INT(valori_check(db), VALORI_OK);
    VT_EQ_INT(valori_close(db), VALORI_OK);
    if (cnt.live_bytes != 0) {
      fprintf(stderr, "failing allocation %ld: %ld bytes not returned\n", n, cnt.live_bytes);
      vt_failures++;
    }
  }
  printf("  %ld failed growths closed clean\n", failed);
  VT_CHECK(failed > 1);
}

int main(void) {
  VT_RUN(test_every_mutation);
  VT_RUN(test_every_mutation_no_index);
  VT_RUN(test_every_mutation_int8_copy);
  VT_RUN(test_int8_copy_growth_fails);
  return VT_DONE();
}
