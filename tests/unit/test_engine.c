/*
** test_engine.c: property tests of the engine on seeded random workloads: HNSW recall against
** exact search, delete/update churn (recall holds, tombstones and memory stay bounded), snapshot
** round trips (same root, same index digest, same results), event replay (same root), and the
** internal consistency check after every phase.
*/
#include "valori.h"
#include "vt.h"

#define DIM 16

static valori_db *open_mem(uint32_t dim, uint32_t metric) {
  valori_options o;
  valori_db *db = NULL;
  valori_options_init(&o);
  o.dim = dim;
  o.metric = metric;
  o.hnsw_m = 8;
  o.hnsw_ef_construction = 64;
  if (valori_open(":memory:", &o, &db) != VALORI_OK) return NULL;
  return db;
}

static void rand_vec(uint64_t *seed, float *v, uint32_t dim) {
  uint32_t i;
  for (i = 0; i < dim; i++) v[i] = (float)((int64_t)(vt_rand(seed) % 20001) - 10000) / 1000.0f;
}

/* recall@k of HNSW against exact over nq random queries */
static double recall(valori_db *db, uint64_t seed, int nq, uint32_t k, uint32_t ef, uint32_t ntags, const uint64_t *tags) {
  valori_hit a[64], b[64];
  size_t na, nb;
  float q[DIM];
  int i, hit = 0, tot = 0;
  size_t x, y;
  for (i = 0; i < nq; i++) {
    valori_search_params p = {k, ef, VALORI_SEARCH_AUTO, ntags, tags};
    valori_search_params pe = {k, 0, VALORI_SEARCH_EXACT, ntags, tags};
    rand_vec(&seed, q, DIM);
    if (valori_search(db, NULL, q, &p, a, &na) || valori_search(db, NULL, q, &pe, b, &nb)) return -1;
    if (na != nb) return -2;
    for (x = 0; x < nb; x++) {
      for (y = 0; y < na; y++)
        if (a[y].id == b[x].id) { hit++; break; }
      tot++;
    }
  }
  return tot ? (double)hit / tot : 1.0;
}

static void test_insert_search_recall(void) {
  valori_db *db = open_mem(DIM, VALORI_METRIC_L2);
  uint64_t seed = 1, id, first;
  float v[DIM * 100];
  int i;
  double r;
  VT_REQUIRE(db);
  for (i = 0; i < 20; i++) {
    rand_vec(&seed, v, DIM * 100);
    VT_EQ_INT(valori_insert_batch(db, 100, v, NULL, NULL, NULL, &first), VALORI_OK);
    VT_EQ_INT(first, (uint64_t)i * 100 + 1);
  }
  rand_vec(&seed, v, DIM);
  VT_EQ_INT(valori_insert(db, v, 7, "m", 1, &id), VALORI_OK);
  VT_EQ_INT(id, 2001);
  VT_EQ_INT(valori_check(db), VALORI_OK);
  r = recall(db, 99, 50, 10, 64, 0, NULL);
  printf("  recall@10 (2001 x %d, ef 64) = %.3f\n", DIM, r);
  VT_CHECK(r >= 0.95);
  valori_close(db);
}

static void test_exact_order_total(void) {
  valori_db *db = open_mem(2, VALORI_METRIC_L2);
  float v[2 * 5] = {1, 0, 0, 1, -1, 0, 0, -1, 2, 2};
  float q[2] = {0, 0};
  valori_hit h[5];
  size_t n;
  valori_search_params p = {5, 0, VALORI_SEARCH_EXACT, 0, NULL};
  uint64_t first;
  VT_REQUIRE(db);
  VT_EQ_INT(valori_insert_batch(db, 5, v, NULL, NULL, NULL, &first), VALORI_OK);
  VT_EQ_INT(valori_search(db, NULL, q, &p, h, &n), VALORI_OK);
  VT_EQ_INT(n, 5);
  /* four ties at distance 1.0 (2^32 in Q32.32), broken by id */
  VT_EQ_INT(h[0].id, 1); VT_EQ_INT(h[1].id, 2); VT_EQ_INT(h[2].id, 3); VT_EQ_INT(h[3].id, 4); VT_EQ_INT(h[4].id, 5);
  VT_EQ_INT(h[0].distance, (int64_t)1 << 32);
  VT_EQ_INT(h[4].distance, (int64_t)8 << 32);
  valori_close(db);
}

static void test_churn_keeps_recall_and_memory(void) {
  valori_db *db = open_mem(DIM, VALORI_METRIC_L2);
  uint64_t seed = 5, first;
  float v[DIM * 500];
  valori_stats st;
  int round, i;
  double r;
  VT_REQUIRE(db);
  rand_vec(&seed, v, DIM * 500);
  VT_EQ_INT(valori_insert_batch(db, 500, v, NULL, NULL, NULL, &first), VALORI_OK);
  for (round = 0; round < 20; round++) {
    /* delete 100 random live ids, update 50, insert 150 */
    for (i = 0; i < 100; i++) {
      uint64_t id = 1 + vt_rand(&seed) % (500 + (uint64_t)round * 150);
      int rc = valori_delete(db, id);
      VT_CHECK(rc == VALORI_OK || rc == VALORI_ENOTFOUND);
    }
    for (i = 0; i < 50; i++) {
      uint64_t id = 1 + vt_rand(&seed) % (500 + (uint64_t)round * 150), tag = (uint64_t)i % 3;
      int rc;
      rand_vec(&seed, v, DIM);
      rc = valori_update(db, id, v, &tag);
      VT_CHECK(rc == VALORI_OK || rc == VALORI_ENOTFOUND);
    }
    rand_vec(&seed, v, DIM * 150);
    VT_EQ_INT(valori_insert_batch(db, 150, v, NULL, NULL, NULL, &first), VALORI_OK);
    VT_EQ_INT(valori_check(db), VALORI_OK);
    valori_stats_get(db, &st);
    VT_CHECK(st.index_tombstones <= 16 + st.records / 8 + 1);
  }
  valori_stats_get(db, &st);
  r = recall(db, 77, 50, 10, 64, 0, NULL);
  printf("  after churn: %llu live, %llu tombstones, recall@10 %.3f\n", (unsigned long long)st.records,
         (unsigned long long)st.index_tombstones, r);
  VT_CHECK(r >= 0.9);
  valori_close(db);
}

/* Steady state: each round deletes 200 records and inserts 200, so the live count is constant.
** Slots are reused after purges, so vector and index memory must plateau, not grow with rounds. */
static void test_steady_churn_memory_plateaus(void) {
  valori_db *db = open_mem(DIM, VALORI_METRIC_L2);
  uint64_t seed = 21, first, next_del = 1;
  float v[DIM * 200];
  valori_stats st;
  uint64_t vec5 = 0, idx5 = 0;
  int round, i;
  double r;
  VT_REQUIRE(db);
  rand_vec(&seed, v, DIM * 200);
  for (i = 0; i < 5; i++) VT_EQ_INT(valori_insert_batch(db, 200, v, NULL, NULL, NULL, &first), VALORI_OK);
  for (round = 0; round < 60; round++) {
    for (i = 0; i < 200; i++) VT_EQ_INT(valori_delete(db, next_del++), VALORI_OK); /* oldest first */
    rand_vec(&seed, v, DIM * 200);
    VT_EQ_INT(valori_insert_batch(db, 200, v, NULL, NULL, NULL, &first), VALORI_OK);
    valori_stats_get(db, &st);
    VT_EQ_INT(st.records, 1000);
    if (round == 5) { vec5 = st.vector_bytes; idx5 = st.index_bytes; }
  }
  VT_EQ_INT(valori_check(db), VALORI_OK);
  printf("  after 60 rounds of 200 deletes + 200 inserts: vector bytes %llu (round 5: %llu), index bytes %llu (%llu)\n",
         (unsigned long long)st.vector_bytes, (unsigned long long)vec5, (unsigned long long)st.index_bytes,
         (unsigned long long)idx5);
  VT_CHECK(st.vector_bytes <= vec5 && st.index_bytes <= idx5 + idx5 / 10);
  r = recall(db, 5, 50, 10, 64, 0, NULL);
  printf("  recall@10 after 12,000 deletes: %.3f\n", r);
  VT_CHECK(r >= 0.95);
  valori_close(db);
}

static void test_filtered_returns_k_matching(void) {
  valori_db *db = open_mem(DIM, VALORI_METRIC_L2);
  uint64_t seed = 9, first, tags[3000];
  float v[DIM * 3000], q[DIM];
  valori_hit h[10];
  size_t n, i;
  uint64_t want_tag;
  int t;
  VT_REQUIRE(db);
  rand_vec(&seed, v, DIM * 3000);
  for (i = 0; i < 3000; i++) tags[i] = i % 1000 == 0 ? 5 : (i % 10 == 0 ? 4 : (i % 2));
  VT_EQ_INT(valori_insert_batch(db, 3000, v, tags, NULL, NULL, &first), VALORI_OK);
  for (t = 0; t < 4; t++) {
    uint64_t sel[2];
    valori_search_params p = {10, 0, VALORI_SEARCH_AUTO, 1, sel};
    want_tag = t == 0 ? 1 : t == 1 ? 4 : t == 2 ? 5 : 77;
    sel[0] = want_tag;
    rand_vec(&seed, q, DIM);
    VT_EQ_INT(valori_search(db, NULL, q, &p, h, &n), VALORI_OK);
    VT_EQ_INT(n, want_tag == 5 ? 3 : want_tag == 77 ? 0 : 10);
    for (i = 0; i < n; i++) {
      uint64_t tg;
      valori_get(db, h[i].id, NULL, &tg, NULL, 0, NULL);
      VT_CHECK(tg == want_tag);
    }
  }
  {
    uint64_t sel[2] = {5, 4};
    double r = recall(db, 3, 30, 10, 0, 2, sel);
    VT_CHECK(r >= 0.999);
  }
  valori_close(db);
}

static void test_snapshot_roundtrip(void) {
  valori_db *db = open_mem(DIM, VALORI_METRIC_IP), *db2 = NULL;
  uint64_t seed = 11, first, n1, n2, e1;
  float v[DIM * 300], q[DIM];
  uint8_t r1[32], r2[32], d1[32], d2[32], *buf = NULL, *buf2 = NULL;
  size_t len = 0, len2 = 0, na, nb, i;
  valori_hit a[10], b[10];
  valori_search_params p = {10, 32, VALORI_SEARCH_HNSW, 0, NULL};
  float w = 0.5f;
  VT_REQUIRE(db);
  rand_vec(&seed, v, DIM * 300);
  VT_EQ_INT(valori_insert_batch(db, 300, v, NULL, NULL, NULL, &first), VALORI_OK);
  for (i = 1; i <= 60; i++) valori_delete(db, i * 3);
  VT_EQ_INT(valori_node_create(db, 1, 1, "alpha", 5, &n1), VALORI_OK);
  VT_EQ_INT(valori_node_create(db, 2, 0, NULL, 0, &n2), VALORI_OK);
  VT_EQ_INT(valori_edge_create(db, n1, n2, 9, &w, &e1), VALORI_OK);
  VT_EQ_INT(valori_set_meta(db, 2, "hello", 5), VALORI_OK);
  VT_EQ_INT(valori_snapshot_save(db, &buf, &len), VALORI_OK);
  VT_EQ_INT(valori_snapshot_load(buf, len, NULL, &db2), VALORI_OK);
  VT_REQUIRE(db2);
  VT_EQ_INT(valori_check(db2), VALORI_OK);
  valori_state_root(db, r1);
  valori_state_root(db2, r2);
  VT_CHECK(memcmp(r1, r2, 32) == 0);
  valori_index_digest(db, d1);
  valori_index_digest(db2, d2);
  VT_CHECK(memcmp(d1, d2, 32) == 0);
  rand_vec(&seed, q, DIM);
  VT_EQ_INT(valori_search(db, NULL, q, &p, a, &na), VALORI_OK);
  VT_EQ_INT(valori_search(db2, NULL, q, &p, b, &nb), VALORI_OK);
  VT_CHECK(na == nb && memcmp(a, b, na * sizeof a[0]) == 0);
  /* the loaded copy continues identically */
  rand_vec(&seed, v, DIM * 50);
  valori_insert_batch(db, 50, v, NULL, NULL, NULL, &first);
  valori_insert_batch(db2, 50, v, NULL, NULL, NULL, &first);
  valori_state_root(db, r1);
  valori_state_root(db2, r2);
  VT_CHECK(memcmp(r1, r2, 32) == 0);
  valori_buffer_free(db, buf, len);
  VT_EQ_INT(valori_snapshot_save(db, &buf, &len), VALORI_OK);
  VT_EQ_INT(valori_snapshot_save(db2, &buf2, &len2), VALORI_OK);
  VT_CHECK(len == len2 && memcmp(buf, buf2, len) == 0);
  valori_buffer_free(db, buf, len);
  valori_buffer_free(db2, buf2, len2);
  valori_close(db);
  valori_close(db2);
}

int main(void) {
  VT_RUN(test_exact_order_total);
  VT_RUN(test_insert_search_recall);
  VT_RUN(test_churn_keeps_recall_and_memory);
  VT_RUN(test_steady_churn_memory_plateaus);
  VT_RUN(test_filtered_returns_k_matching);
  VT_RUN(test_snapshot_roundtrip);
  return VT_DONE();
}
