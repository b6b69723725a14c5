/*
** test_flat.c: index-less ("flat", VALORI_INDEX_NONE) stores. Every event kind works and leaves no
** trace in the index (no memory, no tombstones: a delete frees its slot for the next insert); the
** searches a flat store allows (AUTO, EXACT, filtered) return exactly what an HNSW store's exact
** search returns for the same events, and mode HNSW is refused; snapshots round-trip and continue
** identically; hostile snapshots that put a slot in the index or a tombstone into an index-less
** configuration are refused; a durable store records the choice, and reopening it with the other
** choice is a configuration conflict.
*/
#include "crc32c.h"
#include "fault_vfs.h"
#include "sha256.h"
#include "valori.h"
#include "vt.h"

#define DIM 12
#define VL_MIN_(a, b) ((a) < (b) ? (a) : (b))

static void rand_vec(uint64_t *seed, float *v, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) v[i] = (float)((int64_t)(vt_rand(seed) % 20001) - 10000) / 512.0f;
}

static valori_db *open_mem(uint32_t index) {
  valori_options o;
  valori_db *db = NULL;
  valori_options_init(&o);
  o.dim = DIM;
  o.index = index;
  if (index == VALORI_INDEX_HNSW) {
    o.hnsw_m = 6;
    o.hnsw_ef_construction = 32;
  }
  return valori_open(":memory:", &o, &db) == VALORI_OK ? db : NULL;
}

/* The same random churn on any store: batches, singles, deletes, vector/tag updates, metadata and
** graph edits. Returns 0 when every call gave the result the model expects. */
static int churn(valori_db *db, uint64_t seed, int rounds) {
  float v[DIM * 40];
  uint64_t tags[40], first, id, next, node = 0, n2, e;
  int r, i, bad = 0;
  valori_stats st;
  if (valori_stats_get(db, &st) != VALORI_OK) return 1;
  next = st.next_record_id;
  for (r = 0; r < rounds; r++) {
    rand_vec(&seed, v, DIM * 40);
    for (i = 0; i < 40; i++) tags[i] = vt_rand(&seed) % 7;
    bad += valori_insert_batch(db, 40, v, tags, NULL, NULL, &first) != VALORI_OK || first != next;
    next += 40;
    for (i = 0; i < 12; i++) {
      uint64_t target = 1 + vt_rand(&seed) % (next - 1), t = vt_rand(&seed) % 7;
      int rc;
      rand_vec(&seed, v, DIM);
      switch (i % 6) {
        case 0: case 1: rc = valori_delete(db, target); break;
        case 2: rc = valori_update(db, target, v, NULL); break;
        case 3: rc = valori_update(db, target, v, &t); break;
        case 4: rc = valori_set_meta(db, target, "meta", 4); break;
        default:
          rc = valori_node_create(db, 1, target, "n", 1, &n2);
          if (rc == VALORI_OK) {
            int erc = node ? valori_edge_create(db, node, n2, 2, NULL, &e) : VALORI_OK;
            bad += erc != VALORI_OK && erc != VALORI_ENOTFOUND; /* the previous node may be gone */
            node = n2;
          }
          if (rc == VALORI_EEXIST) rc = VALORI_OK;
          break;
      }
      bad += rc != VALORI_OK && rc != VALORI_ENOTFOUND;
    }
    rand_vec(&seed, v, DIM);
    bad += valori_insert(db, v, 3, "single", 6, &id) != VALORI_OK || id != next;
    next++;
  }
  return bad;
}

static void test_options_and_stats(void) {
  valori_options o;
  valori_db *db = NULL;
  valori_stats st;
  valori_options_init(&o);
  VT_EQ_INT(o.index, VALORI_INDEX_HNSW);
  o.dim = DIM;
  o.index = VALORI_INDEX_NONE;
  VT_EQ_INT(valori_open(":memory:", &o, &db), VALORI_OK);
  VT_REQUIRE(db);
  VT_EQ_INT(valori_stats_get(db, &st), VALORI_OK);
  VT_EQ_INT(st.index, VALORI_INDEX_NONE);
  VT_EQ_INT(st.hnsw_m, 0);
  VT_EQ_INT(st.hnsw_ef_construction, 0);
  VT_EQ_INT(st.hnsw_ef_search, 0);
  VT_EQ_INT(st.index_bytes, 0);
  VT_EQ_INT(valori_check(db), VALORI_OK);
  valori_close(db);
  db = NULL;
  /* HNSW parameters for a store without an index contradict each other */
  o.hnsw_ef_construction = 200;
  VT_EQ_INT(valori_open(":memory:", &o, &db), VALORI_EINVAL);
  o.hnsw_ef_construction = 0;
  o.hnsw_m = 16;
  VT_EQ_INT(valori_open(":memory:", &o, &db), VALORI_EINVAL);
  o.hnsw_m = 0;
  o.hnsw_ef_search = 64;
  VT_EQ_INT(valori_open(":memory:", &o, &db), VALORI_EINVAL);
  o.hnsw_ef_search = 0;
  o.index = 2;
  VT_EQ_INT(valori_open(":memory:", &o, &db), VALORI_EINVAL);
  VT_CHECK(db == NULL);
  /* the defaults still give an HNSW store with the documented parameters */
  o.index = VALORI_INDEX_HNSW;
  VT_EQ_INT(valori_open(":memory:", &o, &db), VALORI_OK);
  VT_REQUIRE(db);
  valori_stats_get(db, &st);
  VT_EQ_INT(st.index, VALORI_INDEX_HNSW);
  VT_EQ_INT(st.hnsw_m, 16);
  VT_EQ_INT(st.hnsw_ef_construction, 200);
  VT_EQ_INT(st.hnsw_ef_search, 64);
  valori_close(db);
  VT_CHECK(strstr(valori_constants_json(), "\"index\":{\"HNSW\":0,\"NONE\":1}") != NULL);
}

/* Every event kind on a flat store; the records and every exact answer equal an HNSW store's after
** the same events, and the flat store never holds index memory or tombstones. */
static void test_same_content_as_hnsw(void) {
  valori_db *f = open_mem(VALORI_INDEX_NONE), *h = open_mem(VALORI_INDEX_HNSW);
  valori_stats sf, sh;
  uint64_t seed = 99, id, qtags[2] = {2, 5};
  float q[DIM], a[DIM], b[DIM];
  valori_hit hf[25], hh[25];
  size_t nf, nh, i;
  int t;
  VT_REQUIRE(f && h);
  VT_EQ_INT(churn(f, 7, 30), 0);
  VT_EQ_INT(churn(h, 7, 30), 0);
  VT_EQ_INT(valori_check(f), VALORI_OK);
  VT_EQ_INT(valori_check(h), VALORI_OK);
  valori_stats_get(f, &sf);
  valori_stats_get(h, &sh);
  printf("  flat: %llu records, %llu nodes, %llu edges; index bytes %llu (HNSW store: %llu, %llu tombstones)\n",
         (unsigned long long)sf.records, (unsigned long long)sf.nodes, (unsigned long long)sf.edges,
         (unsigned long long)sf.index_bytes, (unsigned long long)sh.index_bytes,
         (unsigned long long)sh.index_tombstones);
  VT_EQ_INT(sf.records, sh.records);
  VT_EQ_INT(sf.nodes, sh.nodes);
  VT_EQ_INT(sf.edges, sh.edges);
  VT_EQ_INT(sf.next_record_id, sh.next_record_id);
  VT_EQ_INT(sf.height, sh.height);
  VT_EQ_INT(sf.index_bytes, 0);
  VT_EQ_INT(sf.index_tombstones, 0);
  VT_CHECK(sh.index_bytes > 0 && sf.other_bytes < sh.other_bytes); /* no construction scratch either */
  for (id = 1; id < sf.next_record_id; id++) {
    uint64_t tf = 0, th = 0;
    size_t mf = 0, mh = 0;
    int rf = valori_get(f, id, a, &tf, NULL, 0, &mf), rh = valori_get(h, id, b, &th, NULL, 0, &mh);
    VT_EQ_INT(rf, rh);
    if (rf == VALORI_OK) VT_CHECK(memcmp(a, b, sizeof a) == 0 && tf == th && mf == mh);
  }
  for (t = 0; t < 60; t++) {
    valori_search_params pf = {1 + (uint32_t)(t % 25), (uint32_t)(t % 3) * 40, (uint32_t)(t % 2), 0, NULL};
    valori_search_params ph = {pf.k, 0, VALORI_SEARCH_EXACT, 0, NULL};
    if (t % 3 == 1) pf.ntags = ph.ntags = 1, pf.tags = ph.tags = qtags;
    if (t % 3 == 2) pf.ntags = ph.ntags = 2, pf.tags = ph.tags = qtags;
    rand_vec(&seed, q, DIM);
    VT_EQ_INT(valori_search(f, NULL, q, &pf, hf, &nf), VALORI_OK);
    VT_EQ_INT(valori_search(h, NULL, q, &ph, hh, &nh), VALORI_OK);
    VT_CHECK(nf == nh && memcmp(hf, hh, nf * sizeof hf[0]) == 0);
    for (i = 0; i < nf && pf.ntags; i++) {
      uint64_t tg = 0;
      valori_get(f, hf[i].id, NULL, &tg, NULL, 0, NULL);
      VT_CHECK(tg == qtags[0] || (pf.ntags == 2 && tg == qtags[1]));
    }
  }
  /* graph queries behave the same: expansions from every node linked to a record */
  {
    valori_reach rf[64], rh[64];
    size_t nrf = 0, nrh = 0, seeds = 0, reached = 0;
    uint64_t s, s2;
    for (id = 1; id < sf.next_record_id; id++) {
      if (valori_node_of_record(f, id, &s) != VALORI_OK) continue;
      VT_EQ_INT(valori_node_of_record(h, id, &s2), VALORI_OK);
      VT_EQ_INT(valori_expand(f, &s, 1, 3, VALORI_DIR_BOTH, 64, rf, 64, &nrf), VALORI_OK);
      VT_EQ_INT(valori_expand(h, &s2, 1, 3, VALORI_DIR_BOTH, 64, rh, 64, &nrh), VALORI_OK);
      VT_CHECK(s == s2 && nrf == nrh && memcmp(rf, rh, VL_MIN_(nrf, 64) * sizeof rf[0]) == 0);
      seeds++;
      reached += nrf;
    }
    VT_CHECK(seeds > 0 && reached > seeds); /* the churn left linked nodes with edges */
  }
  valori_close(f);
  valori_close(h);
}

/* A delete frees the slot at once: steady churn keeps the store's memory and its slot count (which
** the index digest covers) exactly where they were. */
static void test_delete_frees_slot(void) {
  valori_db *db = open_mem(VALORI_INDEX_NONE);
  valori_stats s0, s1;
  float v[DIM * 100];
  uint64_t seed = 3, first, next_del = 1;
  uint8_t d0[32], d1[32];
  int round, i;
  VT_REQUIRE(db);
  rand_vec(&seed, v, DIM * 100);
  VT_EQ_INT(valori_insert_batch(db, 100, v, NULL, NULL, NULL, &first), VALORI_OK);
  valori_stats_get(db, &s0);
  valori_index_digest(db, d0);
  for (round = 0; round < 50; round++) {
    for (i = 0; i < 30; i++) VT_EQ_INT(valori_delete(db, next_del++), VALORI_OK);
    valori_stats_get(db, &s1);
    VT_EQ_INT(s1.index_tombstones, 0);
    VT_EQ_INT(s1.records, 70);
    rand_vec(&seed, v, DIM * 30);
    VT_EQ_INT(valori_insert_batch(db, 30, v, NULL, NULL, NULL, &first), VALORI_OK);
  }
  valori_stats_get(db, &s1);
  valori_index_digest(db, d1);
  VT_EQ_INT(s1.records, 100);
  VT_EQ_INT(s1.vector_bytes, s0.vector_bytes);
  VT_EQ_INT(s1.index_bytes, 0);
  VT_CHECK(memcmp(d0, d1, 32) == 0); /* same slot count: every insert reused a freed slot */
  /* a deleted id is gone for good; a vector update rewrites the record in place */
  VT_EQ_INT(valori_delete(db, 1), VALORI_ENOTFOUND);
  VT_EQ_INT(valori_update(db, 1, v, NULL), VALORI_ENOTFOUND);
  VT_EQ_INT(valori_update(db, first, v + DIM, NULL), VALORI_OK);
  valori_index_digest(db, d1);
  VT_CHECK(memcmp(d0, d1, 32) == 0);
  {
    float back[DIM];
    VT_EQ_INT(valori_get(db, first, back, NULL, NULL, 0, NULL), VALORI_OK);
    VT_CHECK(memcmp(back, v + DIM, sizeof back) == 0); /* these floats are exact in Q16.16 */
  }
  VT_EQ_INT(valori_check(db), VALORI_OK);
  valori_close(db);
}

/* The empty index digest is a fixed function of the configuration and the slot count. */
static void test_empty_index_digest(void) {
  static const char domain[16] = "valori.index.v1";
  valori_db *db = open_mem(VALORI_INDEX_NONE);
  uint8_t d[32], want[32], b[28], ff[3] = {0xFF, 0xFF, 0xFF};
  float v[DIM * 3];
  uint64_t seed = 1, first;
  vl_sha256_ctx s;
  int i;
  VT_REQUIRE(db);
  rand_vec(&seed, v, DIM * 3);
  VT_EQ_INT(valori_insert_batch(db, 3, v, NULL, NULL, NULL, &first), VALORI_OK);
  VT_EQ_INT(valori_index_digest(db, d), VALORI_OK);
  /* "valori.index.v1\0" | M 0 | 2M 0 | efc 0 | entry 0 | max level 0xFFFFFFFF | nodes 0 | slots 3 |
  ** one 0xFF ("not in the index") per slot */
  memset(b, 0, sizeof b);
  for (i = 16; i < 20; i++) b[i] = 0xFF;
  b[24] = 3;
  vl_sha256_init(&s);
  vl_sha256_update(&s, domain, sizeof domain);
  vl_sha256_update(&s, b, sizeof b);
  vl_sha256_update(&s, ff, 3);
  vl_sha256_final(&s, want);
  VT_CHECK(memcmp(d, want, 32) == 0);
  valori_close(db);
}

static void test_search_modes(void) {
  valori_db *db = open_mem(VALORI_INDEX_NONE);
  valori_searcher *s = NULL;
  float v[DIM * 200], q[DIM];
  uint64_t seed = 5, first, tag = 1;
  valori_hit h[10], he[10];
  valori_reach nodes[8];
  size_t n = 77, ne, nn = 77;
  uint8_t r0[32], r1[32];
  valori_search_params hn = {10, 0, VALORI_SEARCH_HNSW, 0, NULL};
  valori_search_params au = {10, 500, VALORI_SEARCH_AUTO, 0, NULL};
  valori_search_params ex = {10, 0, VALORI_SEARCH_EXACT, 0, NULL};
  VT_REQUIRE(db);
  rand_vec(&seed, v, DIM * 200);
  VT_EQ_INT(valori_insert_batch(db, 200, v, NULL, NULL, NULL, &first), VALORI_OK);
  VT_EQ_INT(valori_searcher_create(db, &s), VALORI_OK);
  rand_vec(&seed, q, DIM);
  valori_state_root(db, r0);
  VT_EQ_INT(valori_search(db, NULL, q, &hn, h, &n), VALORI_EINVAL);
  VT_EQ_INT(valori_search(db, s, q, &hn, h, &n), VALORI_EINVAL);
  VT_EQ_INT(n, 77); /* out-parameters untouched */
  hn.ntags = 1;
  hn.tags = &tag;
  VT_EQ_INT(valori_search(db, s, q, &hn, h, &n), VALORI_EINVAL);
  VT_EQ_INT(valori_search_expand(db, s, q, &hn, 1, VALORI_DIR_OUT, 8, h, &n, nodes, 8, &nn), VALORI_EINVAL);
  VT_EQ_INT(nn, 77);
  /* the mode is refused before the query is read (valori.h's order), with or without a searcher */
  {
    float bad[DIM];
    uint32_t nan = 0x7FC00000u;
    memcpy(bad, q, sizeof bad);
    memcpy(&bad[3], &nan, 4);
    VT_EQ_INT(valori_search(db, s, bad, &hn, h, &n), VALORI_EINVAL);
    VT_EQ_INT(valori_search(db, NULL, bad, &hn, h, &n), VALORI_EINVAL);
    VT_EQ_INT(valori_search(db, s, bad, &ex, h, &n), VALORI_ENAN);
    VT_EQ_INT(n, 77);
  }
  /* parameter errors keep their codes */
  hn.k = 0;
  VT_EQ_INT(valori_search(db, s, q, &hn, h, &n), VALORI_EK);
  valori_state_root(db, r1);
  VT_CHECK(memcmp(r0, r1, 32) == 0);
  /* AUTO (any ef) is the exact scan */
  VT_EQ_INT(valori_search(db, s, q, &au, h, &n), VALORI_OK);
  VT_EQ_INT(valori_search(db, s, q, &ex, he, &ne), VALORI_OK);
  VT_CHECK(n == 10 && ne == 10 && memcmp(h, he, sizeof h) == 0);
  valori_searcher_free(s);
  valori_close(db);
}

static void test_snapshot_roundtrip(void) {
  valori_db *db = open_mem(VALORI_INDEX_NONE), *db2 = NULL;
  uint8_t r1[32], r2[32], d1[32], d2[32], *buf = NULL, *buf2 = NULL;
  size_t len = 0, len2 = 0;
  valori_stats st;
  VT_REQUIRE(db);
  VT_EQ_INT(churn(db, 11, 8), 0);
  VT_EQ_INT(valori_snapshot_save(db, &buf, &len), VALORI_OK);
  VT_EQ_INT(valori_snapshot_load(buf, len, NULL, &db2), VALORI_OK);
  VT_REQUIRE(db2);
  VT_EQ_INT(valori_check(db2), VALORI_OK);
  valori_stats_get(db2, &st);
  VT_EQ_INT(st.index, VALORI_INDEX_NONE);
  VT_EQ_INT(st.index_bytes, 0);
  valori_state_root(db, r1);
  valori_state_root(db2, r2);
  VT_CHECK(memcmp(r1, r2, 32) == 0);
  valori_index_digest(db, d1);
  valori_index_digest(db2, d2);
  VT_CHECK(memcmp(d1, d2, 32) == 0);
  /* both continue identically: same roots, same digests, same snapshot bytes */
  VT_EQ_INT(churn(db, 12, 6), 0);
  VT_EQ_INT(churn(db2, 12, 6), 0);
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

/* ---- hostile snapshots: everything valid (checksums, root) except the one thing under test */

typedef struct snap_parts {
  uint8_t hdr[72];
  const uint8_t *sec[5];
  size_t len[5];
  uint8_t hash[2048];
} snap_parts;

static int snap_split(const uint8_t *p, size_t n, snap_parts *s) {
  size_t off = 72;
  int i;
  if (n < 72 + 40) return -1;
  memcpy(s->hdr, p, 72);
  for (i = 0; i < 5; i++) {
    uint64_t len = 0;
    int k;
    if (off + 16 > n - 40) return -1;
    for (k = 0; k < 8; k++) len |= (uint64_t)p[off + 8 + k] << (8 * k);
    s->sec[i] = p + off + 16;
    s->len[i] = (size_t)len;
    off += 16 + (size_t)len;
  }
  if (s->len[4] != 2048) return -1;
  memcpy(s->hash, s->sec[4], 2048);
  return off + 40 == n ? 0 : -1;
}

static void put32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

/* Reassembles a snapshot from its header and sections (payloads given), with fresh section CRCs,
** the root recomputed from the header's configuration and counters, and the file CRC. live, nodes
** and edges are the logical counters the root covers. Returns the length written to out. */
static size_t snap_join(const snap_parts *s, const uint8_t *const *sec, const size_t *len, uint64_t live,
                        uint64_t nodes, uint64_t edges, uint8_t *out) {
  static const char domain[16] = "valori.state.v1";
  size_t off = 72;
  uint8_t b[68];
  vl_sha256_ctx h;
  int i;
  memcpy(out, s->hdr, 72);
  for (i = 0; i < 5; i++) {
    put32(out + off, (uint32_t)(i + 1));
    put32(out + off + 4, vl_crc32c(0, sec[i], len[i]));
    put64(out + off + 8, len[i]);
    memcpy(out + off + 16, sec[i], len[i]);
    off += 16 + len[i];
  }
  memcpy(b, s->hdr + 16, 20);      /* dim, metric, M, efc, efs */
  memcpy(b + 20, s->hdr + 48, 24); /* next record, node, edge ids */
  put64(b + 44, live);
  put64(b + 52, nodes);
  put64(b + 60, edges);
  vl_sha256_init(&h);
  vl_sha256_update(&h, domain, sizeof domain);
  vl_sha256_update(&h, b, sizeof b);
  vl_sha256_update(&h, s->hash, 2048);
  vl_sha256_final(&h, out + off);
  off += 32;
  put32(out + off, vl_crc32c(0, out, off));
  memcpy(out + off + 4, "VSNE", 4);
  return off + 8;
}

/* An empty INDEX section for nslots slots: entry 0, max level -1, no node, 0xFF per slot. */
static size_t empty_index(uint32_t nslots, uint8_t *out) {
  put32(out, 0);
  put32(out + 4, 0xFFFFFFFFu);
  put32(out + 8, 0);
  memset(out + 12, 0xFF, nslots);
  return 12 + (size_t)nslots;
}

static void test_hostile_snapshots(void) {
  static uint8_t out[1 << 20], idx[1 << 16];
  valori_db *h = open_mem(VALORI_INDEX_HNSW), *f = open_mem(VALORI_INDEX_NONE), *x = NULL;
  uint8_t *buf = NULL;
  size_t len = 0, n, lens[5];
  const uint8_t *secs[5];
  snap_parts sp;
  valori_stats st;
  float v[DIM * 30];
  uint64_t seed = 8, first;
  uint32_t nslots;
  int i;
  VT_REQUIRE(h && f);
  rand_vec(&seed, v, DIM * 30);
  VT_EQ_INT(valori_insert_batch(h, 30, v, NULL, NULL, NULL, &first), VALORI_OK);
  VT_EQ_INT(valori_insert_batch(f, 30, v, NULL, NULL, NULL, &first), VALORI_OK);
  VT_EQ_INT(valori_delete(h, 7), VALORI_OK); /* a tombstone: one DEAD slot (no purge at this size) */
  valori_stats_get(h, &st);
  VT_EQ_INT(st.index_tombstones, 1);

  /* (a) the HNSW store's records section, tombstone included, under an index-less configuration
  ** with an empty index: valid in every other respect */
  VT_EQ_INT(valori_snapshot_save(h, &buf, &len), VALORI_OK);
  VT_REQUIRE(snap_split(buf, len, &sp) == 0);
  memset(sp.hdr + 24, 0, 12); /* M, ef_construction, ef_search = 0 */
  put32(sp.hdr + 8, 2);        /* the format version of an index-less configuration */
  nslots = (uint32_t)sp.sec[0][0] | (uint32_t)sp.sec[0][1] << 8;
  for (i = 0; i < 5; i++) secs[i] = sp.sec[i], lens[i] = sp.len[i];
  secs[1] = idx;
  lens[1] = empty_index(nslots, idx);
  n = snap_join(&sp, secs, lens, 29, 0, 0, out);
  VT_EQ_INT(valori_snapshot_load(out, n, NULL, &x), VALORI_ECORRUPT);
  VT_CHECK(x == NULL);
  /* the same bytes with the tombstone turned into a free slot load: the check above is what
  ** refused them (the free slot goes on the free stack, which grows by one u32) */
  {
    static uint8_t rec[1 << 16];
    const uint8_t *p = sp.sec[0];
    size_t at = 8, w = 8, per = 1 + 8 + 8 + 8 + 4 + DIM * 4;
    uint32_t s, nfree = (uint32_t)p[4] | (uint32_t)p[5] << 8;
    VT_EQ_INT(nfree, 0);
    memcpy(rec, p, 8);
    for (s = 0; s < nslots; s++) {
      uint32_t ml = (uint32_t)p[at + 25] | (uint32_t)p[at + 26] << 8 | (uint32_t)p[at + 27] << 16;
      if (p[at] == 2) {
        rec[w++] = 0; /* FREE */
        put32(rec + 4, 1);
        put32(idx + 0, s); /* remember the slot for the free stack, below */
      } else {
        memcpy(rec + w, p + at, per + ml);
        w += per + ml;
      }
      at += per + ml;
    }
    memcpy(rec + w, idx, 4); /* free stack: that one slot */
    w += 4;
    secs[0] = rec;
    lens[0] = w;
    lens[1] = empty_index(nslots, idx);
    n = snap_join(&sp, secs, lens, 29, 0, 0, out);
    VT_EQ_INT(valori_snapshot_load(out, n, NULL, &x), VALORI_OK);
    if (x) {
      VT_EQ_INT(valori_check(x), VALORI_OK);
      valori_close(x);
      x = NULL;
    }
  }
  valori_buffer_free(h, buf, len);

  /* (b) an index-less snapshot whose INDEX section puts slot 0 in the graph (level 0, no links) */
  VT_EQ_INT(valori_snapshot_save(f, &buf, &len), VALORI_OK);
  VT_REQUIRE(snap_split(buf, len, &sp) == 0);
  VT_EQ_INT(valori_snapshot_load(buf, len, NULL, &x), VALORI_OK); /* the original loads */
  if (x) valori_close(x), x = NULL;
  for (i = 0; i < 5; i++) secs[i] = sp.sec[i], lens[i] = sp.len[i];
  put32(idx, 0);     /* entry slot 0 */
  put32(idx + 4, 0); /* max level 0 */
  put32(idx + 8, 1); /* one node */
  idx[12] = 0;       /* slot 0: level 0 */
  put32(idx + 13, 0);
  memset(idx + 17, 0xFF, 29);
  secs[1] = idx;
  lens[1] = 17 + 29;
  n = snap_join(&sp, secs, lens, 30, 0, 0, out);
  VT_EQ_INT(valori_snapshot_load(out, n, NULL, &x), VALORI_ECORRUPT);
  /* (c) only the header counts disagree with the empty index (no slot in it) */
  lens[1] = empty_index(30, idx);
  put32(idx + 8, 1);
  n = snap_join(&sp, secs, lens, 30, 0, 0, out);
  VT_EQ_INT(valori_snapshot_load(out, n, NULL, &x), VALORI_ECORRUPT);
  put32(idx + 8, 0);
  n = snap_join(&sp, secs, lens, 30, 0, 0, out);
  VT_EQ_INT(valori_snapshot_load(out, n, NULL, &x), VALORI_OK); /* and restored, it loads */
  if (x) valori_close(x), x = NULL;
  /* (d) M = 0 with an ef_construction or ef_search is not a configuration */
  put32(sp.hdr + 28, 200);
  n = snap_join(&sp, secs, lens, 30, 0, 0, out);
  VT_EQ_INT(valori_snapshot_load(out, n, NULL, &x), VALORI_ECORRUPT);
  put32(sp.hdr + 28, 0);
  put32(sp.hdr + 32, 64);
  n = snap_join(&sp, secs, lens, 30, 0, 0, out);
  VT_EQ_INT(valori_snapshot_load(out, n, NULL, &x), VALORI_ECORRUPT);
  put32(sp.hdr + 32, 0);
  /* (e) format version: an index-less snapshot is version 2; as version 1 (what a library before
  ** index-less stores writes and reads) it is corrupt, and a newer version is EVERSION */
  VT_EQ_INT(sp.hdr[8], 2);
  put32(sp.hdr + 8, 1);
  n = snap_join(&sp, secs, lens, 30, 0, 0, out);
  VT_EQ_INT(valori_snapshot_load(out, n, NULL, &x), VALORI_ECORRUPT);
  put32(sp.hdr + 8, 3); /* the version of stores with a traversal word, without one */
  n = snap_join(&sp, secs, lens, 30, 0, 0, out);
  VT_EQ_INT(valori_snapshot_load(out, n, NULL, &x), VALORI_ECORRUPT);
  put32(sp.hdr + 8, 4);
  n = snap_join(&sp, secs, lens, 30, 0, 0, out);
  VT_EQ_INT(valori_snapshot_load(out, n, NULL, &x), VALORI_EVERSION);
  put32(sp.hdr + 8, 2);
  n = snap_join(&sp, secs, lens, 30, 0, 0, out);
  VT_EQ_INT(valori_snapshot_load(out, n, NULL, &x), VALORI_OK);
  if (x) valori_close(x), x = NULL;
  VT_CHECK(x == NULL);
  valori_buffer_free(f, buf, len);
  valori_close(h);
  valori_close(f);
}

/* ---- durable stores */

static int open_store(fv_fs *fs, uint32_t dim, uint32_t index, valori_db **db) {
  valori_options o;
  valori_options_init(&o);
  o.dim = dim;
  o.index = index;
  o.flags = VALORI_OPEN_CREATE;
  o.segment_bytes = 4096;
  o.snapshot_every = 50;
  o.vfs = fv_vfs(fs);
  *db = NULL;
  return valori_open("flat", &o, db);
}

static void test_durable_store(void) {
  fv_fs *fs = fv_new(4), *fs2 = fv_new(5);
  valori_db *db = NULL;
  valori_stats st;
  valori_options o;
  uint8_t r1[32], r2[32];
  uint64_t height = 0;
  VT_EQ_INT(open_store(fs, DIM, VALORI_INDEX_NONE, &db), VALORI_OK);
  VT_REQUIRE(db);
  VT_EQ_INT(churn(db, 21, 10), 0); /* automatic snapshots and rotations on the way */
  VT_EQ_INT(valori_snapshot(db), VALORI_OK);
  VT_EQ_INT(churn(db, 22, 2), 0);  /* and log after the snapshot */
  valori_state_root(db, r1);
  VT_EQ_INT(valori_close(db), VALORI_OK);
  /* reopen with the recorded choice, and with dim 0 (use what is stored) */
  VT_EQ_INT(open_store(fs, DIM, VALORI_INDEX_NONE, &db), VALORI_OK);
  VT_REQUIRE(db);
  valori_state_root(db, r2);
  VT_CHECK(memcmp(r1, r2, 32) == 0);
  VT_EQ_INT(valori_check(db), VALORI_OK);
  VT_EQ_INT(valori_close(db), VALORI_OK);
  VT_EQ_INT(open_store(fs, 0, VALORI_INDEX_HNSW, &db), VALORI_OK);
  VT_REQUIRE(db);
  valori_stats_get(db, &st);
  VT_EQ_INT(st.index, VALORI_INDEX_NONE);
  VT_EQ_INT(st.hnsw_m, 0);
  VT_EQ_INT(valori_close(db), VALORI_OK);
  /* the other choice is a configuration conflict, both ways */
  VT_EQ_INT(open_store(fs, DIM, VALORI_INDEX_HNSW, &db), VALORI_ECONFIG);
  VT_EQ_INT(open_store(fs2, DIM, VALORI_INDEX_HNSW, &db), VALORI_OK);
  VT_REQUIRE(db);
  VT_EQ_INT(churn(db, 21, 2), 0);
  VT_EQ_INT(valori_close(db), VALORI_OK);
  VT_EQ_INT(open_store(fs2, DIM, VALORI_INDEX_NONE, &db), VALORI_ECONFIG);
  /* verification and replay to a height see the same configuration rules */
  valori_options_init(&o);
  o.vfs = fv_vfs(fs);
  VT_EQ_INT(valori_verify(&o, NULL, &height, r2), VALORI_OK);
  VT_CHECK(memcmp(r1, r2, 32) == 0);
  o.dim = DIM;
  o.index = VALORI_INDEX_NONE;
  VT_EQ_INT(valori_verify(&o, NULL, NULL, NULL), VALORI_OK);
  o.index = VALORI_INDEX_HNSW;
  VT_EQ_INT(valori_verify(&o, NULL, NULL, NULL), VALORI_ECONFIG);
  o.dim = 0;
  VT_EQ_INT(valori_open_at_height(&o, height - 1, &db, NULL), VALORI_OK);
  VT_REQUIRE(db);
  valori_stats_get(db, &st);
  VT_EQ_INT(st.index, VALORI_INDEX_NONE);
  VT_EQ_INT(st.height, height - 1);
  VT_EQ_INT(valori_check(db), VALORI_OK);
  valori_close(db);
  fv_free(fs);
  fv_free(fs2);
}

int main(void) {
  VT_RUN(test_options_and_stats);
  VT_RUN(test_same_content_as_hnsw);
  VT_RUN(test_delete_frees_slot);
  VT_RUN(test_empty_index_digest);
  VT_RUN(test_search_modes);
  VT_RUN(test_snapshot_roundtrip);
  VT_RUN(test_hostile_snapshots);
  VT_RUN(test_durable_store);
  return VT_DONE();
}
