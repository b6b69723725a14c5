/*
** test_misuse.c: API misuse through the public C API returns its stable code, stores nothing,
** and leaves the state root and height unchanged: NaN, infinities, out-of-range components, wrong
** dimension, oversize metadata, unknown ids, k = 0 or absurd, bad options, hostile snapshots.
*/
#include "crc32c.h"
#include "valori.h"
#include "vl_int.h"
#include "vt.h"

static valori_db *db;
static uint8_t root0[32];
static uint64_t height0;

static void snap_state(void) {
  valori_stats st;
  valori_state_root(db, root0);
  valori_stats_get(db, &st);
  height0 = st.height;
}
static int unchanged(void) {
  uint8_t r[32];
  valori_stats st;
  valori_state_root(db, r);
  valori_stats_get(db, &st);
  return memcmp(r, root0, 32) == 0 && st.height == height0 && valori_check(db) == VALORI_OK;
}
#define EXPECT(call, code) do { VT_EQ_INT((call), (code)); VT_CHECK(unchanged()); } while (0)

static float f_of(uint32_t bits) { float f; memcpy(&f, &bits, 4); return f; }

static void test_options(void) {
  valori_options o;
  valori_db *x = NULL;
  valori_options_init(&o);
  o.dim = 0;
  VT_EQ_INT(valori_open(":memory:", &o, &x), VALORI_EDIM);
  o.dim = VALORI_MAX_DIM + 1;
  VT_EQ_INT(valori_open(":memory:", &o, &x), VALORI_EDIM);
  o.dim = 4; o.metric = 7;
  VT_EQ_INT(valori_open(":memory:", &o, &x), VALORI_EINVAL);
  o.metric = 0; o.hnsw_m = 1;
  VT_EQ_INT(valori_open(":memory:", &o, &x), VALORI_EINVAL);
  o.hnsw_m = 200;
  VT_EQ_INT(valori_open(":memory:", &o, &x), VALORI_EINVAL);
  VT_EQ_INT(valori_open(":memory:", NULL, &x), VALORI_EINVAL);
  VT_CHECK(x == NULL);
  VT_CHECK(strcmp(valori_code_name(VALORI_EDIM), "EDIM") == 0);
  VT_CHECK(strcmp(valori_strerror(9999), "unknown result code") == 0);
  VT_CHECK(strstr(valori_constants_json(), "\"EDIM\":5") != NULL);
  VT_CHECK(strstr(valori_constants_json(), "\"UPDATE_RECORD\":6") != NULL);
  VT_CHECK(strstr(valori_constants_json(), "\"update\":{\"VECTOR\":1,\"TAG\":2,\"META\":4}") != NULL);
}

static void test_bad_vectors(void) {
  float v[4] = {1, 2, 3, 4}, bad[4];
  uint64_t id = 77, first = 77, tags[2] = {0, 0};
  memcpy(bad, v, sizeof v);
  bad[1] = f_of(0x7FC00000u);
  EXPECT(valori_insert(db, bad, 0, NULL, 0, &id), VALORI_ENAN);
  bad[1] = f_of(0xFF800000u);
  EXPECT(valori_insert(db, bad, 0, NULL, 0, &id), VALORI_EINF);
  bad[1] = 256.5f;
  EXPECT(valori_insert(db, bad, 0, NULL, 0, &id), VALORI_ERANGE);
  bad[1] = -1e30f;
  EXPECT(valori_insert(db, bad, 0, NULL, 0, &id), VALORI_ERANGE);
  VT_EQ_INT(id, 77);
  {
    float two[8];
    memcpy(two, v, sizeof v);
    memcpy(two + 4, bad, sizeof bad); /* the batch is atomic: the good first record is not stored */
    EXPECT(valori_insert_batch(db, 2, two, tags, NULL, NULL, &first), VALORI_ERANGE);
    VT_EQ_INT(first, 77);
  }
  EXPECT(valori_insert_batch(db, 0, v, NULL, NULL, NULL, &first), VALORI_EEMPTY);
  EXPECT(valori_insert_batch(db, VALORI_MAX_BATCH + 1, v, NULL, NULL, NULL, &first), VALORI_ETOOBIG);
  EXPECT(valori_insert(db, NULL, 0, NULL, 0, &id), VALORI_EINVAL);
  EXPECT(valori_update(db, 1, bad, NULL), VALORI_ERANGE);
  {
    float w = f_of(0x7F800000u);
    uint64_t e;
    EXPECT(valori_edge_create(db, 1, 1, 0, &w, &e), VALORI_EINF);
  }
}

/* The validation order of valori.h: the records of a batch in order, and within a record the
** vector (first bad component) before the metadata size; the same in the event decoder. */
static void test_validation_order(void) {
  static uint8_t big[VALORI_MAX_META + 1];
  float v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const void *metas[2] = {"ok", big};
  size_t lens[2] = {2, sizeof big};
  uint64_t id = 77, first = 77;
  float nan = f_of(0x7FC00000u), inf = f_of(0x7F800000u);
  v[2] = nan; /* record 0: NaN; record 1: oversize metadata */
  EXPECT(valori_insert_batch(db, 2, v, NULL, metas, lens, &first), VALORI_ENAN);
  v[2] = 3;
  v[6] = inf; /* record 0: oversize metadata; record 1: infinity */
  metas[0] = big; lens[0] = sizeof big;
  metas[1] = "ok"; lens[1] = 2;
  EXPECT(valori_insert_batch(db, 2, v, NULL, metas, lens, &first), VALORI_ETOOBIG);
  v[5] = 300.0f; /* record 1: out of range, then infinity: the first bad component decides */
  metas[0] = "ok"; lens[0] = 2;
  EXPECT(valori_insert_batch(db, 2, v, NULL, metas, lens, &first), VALORI_ERANGE);
  VT_EQ_INT(first, 77);
  /* one record with both a bad vector and oversize (or missing) metadata */
  v[1] = nan;
  EXPECT(valori_insert(db, v, 0, big, sizeof big, &id), VALORI_ENAN);
  EXPECT(valori_insert(db, v, 0, NULL, 9, &id), VALORI_ENAN);
  v[1] = -1e30f;
  EXPECT(valori_insert(db, v, 0, big, sizeof big, &id), VALORI_ERANGE);
  VT_EQ_INT(id, 77);
  /* the vector's pointer belongs to the vector, the metadata's pointer to the metadata */
  EXPECT(valori_insert(db, NULL, 0, big, sizeof big, &id), VALORI_EINVAL);
  v[1] = 2;
  EXPECT(valori_insert(db, v, 0, NULL, 9, &id), VALORI_EINVAL);
  /* the decoder: a raw component out of range and oversize metadata in one INSERT is ERANGE */
  {
    uint8_t ev[8 + 12 + 16];
    vl_put16(ev, VALORI_OP_INSERT);
    vl_put16(ev + 2, 0);
    vl_put32(ev + 4, sizeof ev - 8);
    vl_put64(ev + 8, 0);
    vl_put32(ev + 16, VALORI_MAX_META + 1);
    vl_put32(ev + 20, 0); vl_put32(ev + 24, (1u << 24) + 1); vl_put32(ev + 28, 0); vl_put32(ev + 32, 0);
    EXPECT(valori_apply(db, ev, sizeof ev, &id), VALORI_ERANGE);
    vl_put32(ev + 24, 0);
    EXPECT(valori_apply(db, ev, sizeof ev, &id), VALORI_ETOOBIG);
  }
}

static void test_bad_sizes_and_ids(void) {
  static uint8_t big[VALORI_MAX_META + 1];
  float v[4] = {1, 2, 3, 4};
  uint64_t id, node;
  EXPECT(valori_insert(db, v, 0, big, sizeof big, &id), VALORI_ETOOBIG);
  EXPECT(valori_insert(db, v, 0, NULL, 5, &id), VALORI_EINVAL);
  EXPECT(valori_set_meta(db, 1, big, sizeof big), VALORI_ETOOBIG);
  EXPECT(valori_node_create(db, 0, 0, big, sizeof big, &node), VALORI_ETOOBIG);
  EXPECT(valori_delete(db, 999999), VALORI_ENOTFOUND);
  EXPECT(valori_delete(db, 0), VALORI_ENOTFOUND);
  EXPECT(valori_update(db, 999999, v, NULL), VALORI_ENOTFOUND);
  EXPECT(valori_update(db, 1, NULL, NULL), VALORI_EINVAL);
  EXPECT(valori_set_meta(db, 999999, "x", 1), VALORI_ENOTFOUND);
  EXPECT(valori_node_create(db, 0, 999999, NULL, 0, &node), VALORI_ENOTFOUND);
  EXPECT(valori_node_delete(db, 999999), VALORI_ENOTFOUND);
  EXPECT(valori_edge_create(db, 999, 998, 0, NULL, &id), VALORI_ENOTFOUND);
  EXPECT(valori_edge_delete(db, 999999), VALORI_ENOTFOUND);
  EXPECT(valori_get(db, 999999, NULL, NULL, NULL, 0, NULL), VALORI_ENOTFOUND);
  /* a record can be linked by one node only */
  VT_EQ_INT(valori_node_create(db, 1, 1, NULL, 0, &node), VALORI_OK);
  snap_state();
  EXPECT(valori_node_create(db, 1, 1, NULL, 0, &node), VALORI_EEXIST);
}

static void test_bad_search(void) {
  float q[4] = {0, 0, 0, 0}, bad[4] = {0, 0, 0, 0};
  valori_hit h[4];
  size_t n = 123;
  uint64_t tag = 1;
  valori_search_params p = {0, 0, 0, 0, NULL};
  EXPECT(valori_search(db, NULL, q, &p, h, &n), VALORI_EK);
  p.k = VALORI_MAX_K + 1;
  EXPECT(valori_search(db, NULL, q, &p, h, &n), VALORI_EK);
  p.k = 4; p.ef = VALORI_MAX_EF + 1;
  EXPECT(valori_search(db, NULL, q, &p, h, &n), VALORI_EK);
  p.ef = 0; p.mode = 9;
  EXPECT(valori_search(db, NULL, q, &p, h, &n), VALORI_EINVAL);
  p.mode = 0; p.ntags = 1; p.tags = NULL;
  EXPECT(valori_search(db, NULL, q, &p, h, &n), VALORI_EINVAL);
  /* a count over its limit is ETOOBIG (like a batch), also with the tags missing */
  {
    static uint64_t many[VALORI_MAX_TAGS + 1];
    p.ntags = VALORI_MAX_TAGS + 1; p.tags = many;
    EXPECT(valori_search(db, NULL, q, &p, h, &n), VALORI_ETOOBIG);
    p.tags = NULL;
    EXPECT(valori_search(db, NULL, q, &p, h, &n), VALORI_ETOOBIG);
    p.ntags = VALORI_MAX_TAGS; p.tags = many; /* the limit itself is fine */
    VT_EQ_INT(valori_search(db, NULL, q, &p, h, &n), VALORI_OK);
    /* k and ef stay EK, and are checked before the filter */
    p.k = 0; p.ntags = VALORI_MAX_TAGS + 1;
    EXPECT(valori_search(db, NULL, q, &p, h, &n), VALORI_EK);
    p.k = 4;
  }
  /* an empty tag set (tags given, ntags 0) would match nothing: refused; tags NULL = no filter */
  p.ntags = 0; p.tags = &tag;
  EXPECT(valori_search(db, NULL, q, &p, h, &n), VALORI_EINVAL);
  p.tags = NULL;
  VT_EQ_INT(valori_search(db, NULL, q, &p, h, &n), VALORI_OK);
  VT_EQ_INT(n, 4);
  n = 123;
  bad[3] = f_of(0x7FC00000u);
  EXPECT(valori_search(db, NULL, bad, &p, h, &n), VALORI_ENAN);
  VT_EQ_INT(n, 123);
  {
    valori_reach r[2];
    uint64_t seed = 1;
    EXPECT(valori_expand(db, &seed, 1, VALORI_MAX_HOPS + 1, VALORI_DIR_OUT, 10, r, 2, &n), VALORI_EINVAL);
    EXPECT(valori_expand(db, &seed, 1, 1, 0, 10, r, 2, &n), VALORI_EINVAL);
    EXPECT(valori_expand(db, &seed, 1, 1, VALORI_DIR_OUT, 0, r, 2, &n), VALORI_EINVAL);
    seed = 424242;
    EXPECT(valori_expand(db, &seed, 1, 1, VALORI_DIR_OUT, 10, r, 2, &n), VALORI_ENOTFOUND);
  }
}

static void test_hostile_snapshots(void) {
  uint8_t *buf = NULL, *copy;
  size_t len = 0, i;
  valori_db *x = NULL;
  long ok = 0, bad = 0;
  VT_REQUIRE(valori_snapshot_save(db, &buf, &len) == VALORI_OK);
  copy = (uint8_t *)malloc(len);
  for (i = 0; i < len; i++) { /* truncation at every length */
    memcpy(copy, buf, len);
    if (valori_snapshot_load(copy, i, NULL, &x) == VALORI_OK) { ok++; valori_close(x); } else bad++;
  }
  VT_EQ_INT(ok, 0);
  for (i = 0; i < len * 8; i += 3) { /* bit flips: the checksums catch every one */
    int rc;
    memcpy(copy, buf, len);
    copy[i / 8] ^= (uint8_t)(1u << (i % 8));
    rc = valori_snapshot_load(copy, len, NULL, &x);
    if (rc == VALORI_OK) { ok++; valori_close(x); }
    else VT_CHECK(rc == VALORI_ECORRUPT || rc == VALORI_EVERSION);
  }
  VT_EQ_INT(ok, 0);
  /* content that disagrees with the root is refused even when every checksum is recomputed: change
  ** record 1's tag (slot 0: section payload at 88, state byte, id, then the tag at 105) */
  {
    uint64_t sec_len;
    memcpy(copy, buf, len);
    sec_len = vl_get64(copy + 80);
    copy[105] ^= 0x40;
    vl_put32(copy + 76, vl_crc32c(0, copy + 88, (size_t)sec_len));
    vl_put32(copy + len - 8, vl_crc32c(0, copy, len - 8));
    VT_EQ_INT(valori_snapshot_load(copy, len, NULL, &x), VALORI_ECORRUPT);
  }
  memcpy(copy, buf, len);
  copy[8] = 4; /* a newer format version */
  VT_EQ_INT(valori_snapshot_load(copy, len, NULL, &x), VALORI_EVERSION);
  copy[8] = 3; /* the version of a store with a traversal word, without one (checksums valid) */
  vl_put32(copy + len - 8, vl_crc32c(0, copy, len - 8));
  VT_EQ_INT(valori_snapshot_load(copy, len, NULL, &x), VALORI_ECORRUPT);
  copy[8] = 2; /* the version of index-less stores, on an HNSW configuration (checksums valid) */
  vl_put32(copy + len - 8, vl_crc32c(0, copy, len - 8));
  VT_EQ_INT(valori_snapshot_load(copy, len, NULL, &x), VALORI_ECORRUPT);
  VT_EQ_INT(valori_snapshot_load(NULL, 0, NULL, &x), VALORI_EINVAL);
  free(copy);
  valori_buffer_free(db, buf, len);
  VT_CHECK(unchanged());
}

int main(void) {
  valori_options o;
  float v[4 * 50];
  uint64_t first, seed = 3;
  int i;
  valori_options_init(&o);
  o.dim = 4;
  if (valori_open(":memory:", &o, &db) != VALORI_OK) return 1;
  for (i = 0; i < 200; i++) v[i] = (float)(vt_rand(&seed) % 1000) / 10.0f;
  valori_insert_batch(db, 50, v, NULL, NULL, NULL, &first);
  snap_state();
  VT_RUN(test_options);
  VT_RUN(test_bad_vectors);
  VT_RUN(test_validation_order);
  VT_RUN(test_bad_sizes_and_ids);
  VT_RUN(test_bad_search);
  VT_RUN(test_hostile_snapshots);
  valori_close(db);
  return VT_DONE();
}
