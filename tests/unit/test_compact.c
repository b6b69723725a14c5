/*
** test_compact.c: the compact traversal copy (compact.h, docs/DETERMINISM.md "Compact traversal
** copy"). The integer rules (rounding half away, clamping, the shift and centre chosen from a range);
** the option (refused without an index, malformed words refused, recorded in the state root: a
** store with it has another root than one without, and a store without it keeps the root it always
** had); searches return exact distances in the exact order; with an exact copy (whole values in
** [0, 255] and the range [0, 255]) HNSW results are identical to those of the same store without
** the option; with a lossy copy they are still exact-ordered with a recall floor; filters hold;
** the copy follows updates and deletes (valori_check compares it with the rule); snapshots and
** durable stores bring it back identical, and a reopen without the option is a conflict. A lossless
** copy (vl_trav_quantize returns 1) gives the exact distance from the copies' (vl_trav_exact) for
** every shift, centre and metric; a store mixing lossless and lossy vectors and queries still
** returns exact distances in exact order.
*/
#include "compact.h"
#include "dist.h"
#include "fault_vfs.h"
#include "valori.h"
#include "vt.h"

#define DIM 40
#define N 3000

static void test_rules(void) {
  uint32_t w, h;
  uint64_t s = 5;
  int i, bad = 0;
  VT_EQ_INT(vl_trav_rha(3, 1), 2);   /* 1.5 -> 2 */
  VT_EQ_INT(vl_trav_rha(-3, 1), -2); /* -1.5 -> -2 */
  VT_EQ_INT(vl_trav_rha(1, 1), 1);
  VT_EQ_INT(vl_trav_rha(-1, 1), -1);
  VT_EQ_INT(vl_trav_rha(1, 2), 0);   /* 0.25 -> 0 */
  VT_EQ_INT(vl_trav_rha(-5, 2), -1); /* -1.25 -> -1 */
  VT_EQ_INT(vl_trav_rha(INT32_MIN, 0), INT32_MIN);
  VT_EQ_INT(vl_trav_rha(INT32_MIN, 31), -1);
  VT_EQ_INT(vl_trav_rha(INT32_MAX, 31), 1);
  VT_EQ_INT(vl_trav_q(INT32_MAX, 0, 0), 127);
  VT_EQ_INT(vl_trav_q(INT32_MIN, 0, 0), -128);
  VT_EQ_INT(vl_trav_q(0, 0, -32768), 127);
  VT_EQ_INT(vl_trav_q(0, 0, 32767), -128);
  /* pixels: [0, 255] gives s 16, c 128, and the copy is h - 128 exactly */
  w = vl_trav_for_range(0, 255 << 16);
  VT_EQ_INT(w, vl_trav_word(16, 128));
  VT_EQ_INT(vl_trav_shift(w), 16);
  VT_EQ_INT(vl_trav_center(w), 128);
  for (h = 0; h < 256; h++) bad += vl_trav_q((int32_t)(h << 16), 16, 128) != (int32_t)h - 128;
  VT_EQ_INT(bad, 0);
  /* any range: q(lo) = -128, s minimal, c an int16, the word well formed, the codes used */
  for (i = 0; i < 20000; i++) {
    int32_t a = (int32_t)(uint32_t)vt_rand(&s), b = (int32_t)(uint32_t)vt_rand(&s), lo, hi, c;
    uint32_t sh;
    if (i % 3 == 1) b = a + (int32_t)(vt_rand(&s) % 100000); /* narrow ranges too */
    if (i % 3 == 2) b = a + (int32_t)(vt_rand(&s) % 300);
    if (i % 3 && b < a) b = INT32_MAX;
    lo = a < b ? a : b;
    hi = a < b ? b : a;
    w = vl_trav_for_range(lo, hi);
    sh = vl_trav_shift(w);
    c = vl_trav_center(w);
    bad += vl_trav_check(w) != VALORI_OK;
    bad += vl_trav_q(lo, sh, c) != -128;
    if (sh > 0) { /* one less would not do */
      int64_t c1 = vl_trav_rha(lo, sh - 1) + 128;
      int wide = (int64_t)hi - lo > ((int64_t)255 << (sh - 1));
      bad += !wide && c1 >= -32768 && c1 <= 32767;
      /* chosen by the range: (hi - lo) / 2^s > 127.5, so the copy spans at least 255 of the codes */
      if (wide) bad += vl_trav_q(hi, sh, c) < -1;
    } else {
      bad += vl_trav_q(hi, sh, c) != (int32_t)((int64_t)hi - lo) - 128; /* s 0: exact differences */
    }
  }
  VT_EQ_INT(bad, 0);
  VT_EQ_INT(vl_trav_check(0), VALORI_OK);
  VT_EQ_INT(vl_trav_check(2), VALORI_EINVAL);
  VT_EQ_INT(vl_trav_check(vl_trav_word(3, 0) | 0x8000u), VALORI_EINVAL);
  VT_EQ_INT(valori_traversal_int8(0.0f, 255.0f, &w), VALORI_OK);
  VT_EQ_INT(w, vl_trav_word(16, 128));
  VT_EQ_INT(valori_traversal_int8(1.0f, 0.0f, &w), VALORI_EINVAL);
  VT_EQ_INT(valori_traversal_int8(0.0f, 1e10f, &w), VALORI_EINVAL);
  {
    uint32_t nanbits = 0x7FC00000u;
    float nanf;
    memcpy(&nanf, &nanbits, 4);
    VT_EQ_INT(valori_traversal_int8(nanf, 1.0f, &w), VALORI_EINVAL);
  }
  VT_EQ_INT(valori_traversal_int8(0.0f, 1.0f, NULL), VALORI_EINVAL);
}

/* vl_trav_quantize says lossless exactly when v = (q + c) * 2^s for every component, and then
** vl_trav_exact of the copies' distance is the exact kernel's value (L2 any centre, IP centre 0). */
static void test_lossless(void) {
  static int32_t a[200], b[200];
  int8_t qa[200], qb[200];
  uint64_t s = 11;
  int i, bad = 0, lossless = 0, lossy = 0;
  for (i = 0; i < 4000; i++) {
    uint32_t dim = 1 + (uint32_t)(vt_rand(&s) % 200), sh = (uint32_t)(vt_rand(&s) % 21), j, w;
    int ip = i % 2, ea, eb;
    int32_t c = ip ? 0 : (int32_t)(vt_rand(&s) % 601) - 300;
    w = vl_trav_word(sh, c);
    for (j = 0; j < dim; j++) {
      a[j] = (int32_t)((int64_t)((int32_t)(vt_rand(&s) % 256) - 128 + c) * ((int64_t)1 << sh));
      b[j] = (int32_t)((int64_t)((int32_t)(vt_rand(&s) % 256) - 128 + c) * ((int64_t)1 << sh));
    }
    if (i % 4 == 3) { /* one component off the grid (s > 0) or out of the clamp range (s 0) */
      j = (uint32_t)(vt_rand(&s) % dim);
      b[j] = sh ? b[j] + 1 : (int32_t)(128 + c);
    }
    ea = vl_trav_quantize(a, dim, w, qa);
    eb = vl_trav_quantize(b, dim, w, qb);
    bad += ea != 1 || eb != (i % 4 != 3);
    if (ea && eb) {
      uint32_t m = ip ? VALORI_METRIC_IP : VALORI_METRIC_L2;
      bad += vl_trav_exact(vl_distance_i8(m, qa, qb, dim), w) != vl_distance(m, a, b, dim);
      lossless++;
    } else {
      lossy++;
    }
  }
  VT_EQ_INT(bad, 0);
  VT_CHECK(lossless > 2000 && lossy > 500);
}

/* Pixel-like data: clustered whole values in [0, 255]. */
static void pixel_vec(uint64_t *s, float *v, uint32_t cluster) {
  uint32_t i;
  for (i = 0; i < DIM; i++) {
    int32_t base = (int32_t)((cluster * 37u + i * 11u) % 200u);
    int32_t x = base + (int32_t)(vt_rand(s) % 56);
    v[i] = (float)x;
  }
}

static valori_db *open_mem(uint32_t trav) {
  valori_options o;
  valori_db *db = NULL;
  valori_options_init(&o);
  o.dim = DIM;
  o.hnsw_m = 8;
  o.hnsw_ef_construction = 64;
  o.traversal = trav;
  return valori_open(":memory:", &o, &db) == VALORI_OK ? db : NULL;
}

static int fill(valori_db *db, uint64_t seed) {
  static float v[N * DIM];
  static uint64_t tags[N];
  uint64_t first;
  uint32_t i;
  for (i = 0; i < N; i++) {
    pixel_vec(&seed, v + (size_t)i * DIM, i % 23);
    tags[i] = i % 5;
  }
  return valori_insert_batch(db, N, v, tags, NULL, NULL, &first);
}

static void test_options(void) {
  valori_options o;
  valori_stats st;
  valori_db *db = NULL;
  uint32_t w = vl_trav_for_range(0, 255 << 16);
  valori_options_init(&o);
  o.dim = DIM;
  o.index = VALORI_INDEX_NONE;
  o.traversal = w;
  VT_EQ_INT(valori_open(":memory:", &o, &db), VALORI_EINVAL);
  o.index = VALORI_INDEX_HNSW;
  o.traversal = w | 0x4000u;
  VT_EQ_INT(valori_open(":memory:", &o, &db), VALORI_EINVAL);
  o.traversal = 7;
  VT_EQ_INT(valori_open(":memory:", &o, &db), VALORI_EINVAL);
  o.traversal = w;
  o.reserved = 1;
  VT_EQ_INT(valori_open(":memory:", &o, &db), VALORI_EINVAL);
  o.reserved = 0;
  VT_EQ_INT(valori_open(":memory:", &o, &db), VALORI_OK);
  VT_EQ_INT(valori_stats_get(db, &st), VALORI_OK); /* stats report the word, s and c */
  VT_EQ_INT(st.traversal, w);
  VT_EQ_INT(st.traversal_shift, 16);
  VT_EQ_INT(st.traversal_center, 128);
  valori_close(db);
  db = NULL;
  o.traversal = 0; /* and all 0 without a copy */
  VT_EQ_INT(valori_open(":memory:", &o, &db), VALORI_OK);
  VT_EQ_INT(valori_stats_get(db, &st), VALORI_OK);
  VT_EQ_INT(st.traversal, 0);
  VT_EQ_INT(st.traversal_shift, 0);
  VT_EQ_INT(st.traversal_center, 0);
  valori_close(db);
  o.traversal = w;
  /* inner product: only a centre of 0 (a centred copy would rank by another objective) */
  db = NULL;
  o.metric = VALORI_METRIC_IP;
  VT_EQ_INT(valori_open(":memory:", &o, &db), VALORI_EINVAL); /* [0, 255]: c = 128 */
  VT_CHECK(db == NULL);
  o.traversal = vl_trav_word(17, 0);
  VT_EQ_INT(valori_open(":memory:", &o, &db), VALORI_OK);
  VT_EQ_INT(valori_stats_get(db, &st), VALORI_OK);
  VT_EQ_INT(st.traversal, vl_trav_word(17, 0));
  VT_EQ_INT(st.traversal_shift, 17);
  VT_EQ_INT(st.traversal_center, 0);
  valori_close(db);
  db = NULL;
  o.traversal = vl_trav_word(3, -300); /* a negative centre comes back signed */
  o.metric = VALORI_METRIC_L2;
  VT_EQ_INT(valori_open(":memory:", &o, &db), VALORI_OK);
  VT_EQ_INT(valori_stats_get(db, &st), VALORI_OK);
  VT_EQ_INT(st.traversal_shift, 3);
  VT_EQ_INT(st.traversal_center, -300);
  valori_close(db);
}

/* Exact distance of a hit, recomputed from the stored Q16.16 vectors. */
static int64_t exact_l2(const valori_db *db, const int32_t *q, uint64_t id) {
  int32_t v[DIM];
  int64_t d = 0;
  uint32_t i;
  if (valori_get_q16(db, id, v) != VALORI_OK) return -1;
  for (i = 0; i < DIM; i++) d += ((int64_t)q[i] - v[i]) * ((int64_t)q[i] - v[i]);
  return d;
}

/* Hits sorted by (distance, id) with exact distances. */
static int exact_ordered(const valori_db *db, const float *qf, const valori_hit *h, size_t n) {
  int32_t q[DIM];
  size_t i;
  for (i = 0; i < DIM; i++) valori_f32_to_q16(qf[i], &q[i]);
  for (i = 0; i < n; i++) {
    if (exact_l2(db, q, h[i].id) != h[i].distance) return 0;
    if (i && (h[i - 1].distance > h[i].distance || (h[i - 1].distance == h[i].distance && h[i - 1].id >= h[i].id)))
      return 0;
  }
  return 1;
}

static void test_search(void) {
  valori_db *plain = open_mem(0), *exact = open_mem(vl_trav_for_range(0, 255 << 16));
  valori_db *lossy = open_mem(vl_trav_for_range(0, 1023 << 16)); /* s 19: eight pixel values per step */
  uint8_t r0[32], r1[32], r2[32], d0[32], d1[32];
  uint64_t s = 77, tag = 3;
  valori_search_params hp = {10, 48, VALORI_SEARCH_HNSW, 0, NULL}, ep = {10, 0, VALORI_SEARCH_EXACT, 0, NULL};
  valori_search_params fp = {10, 48, VALORI_SEARCH_HNSW, 1, &tag};
  valori_hit a[10], b[10], c[10], x[10];
  size_t na, nb, nc, nx;
  int q, same = 1, ordered = 1, filt = 1;
  long found = 0, total = 0;
  VT_REQUIRE(plain && exact && lossy);
  VT_EQ_INT(fill(plain, 1), VALORI_OK);
  VT_EQ_INT(fill(exact, 1), VALORI_OK);
  VT_EQ_INT(fill(lossy, 1), VALORI_OK);
  /* the option is in the root; the graph is built with exact distances either way */
  valori_state_root(plain, r0);
  valori_state_root(exact, r1);
  valori_state_root(lossy, r2);
  VT_CHECK(memcmp(r0, r1, 32) != 0 && memcmp(r1, r2, 32) != 0 && memcmp(r0, r2, 32) != 0);
  valori_index_digest(plain, d0);
  valori_index_digest(exact, d1);
  VT_CHECK(memcmp(d0, d1, 32) == 0);
  VT_EQ_INT(valori_check(exact), VALORI_OK);
  VT_EQ_INT(valori_check(lossy), VALORI_OK);
  for (q = 0; q < 200; q++) {
    float v[DIM];
    int i, j;
    pixel_vec(&s, v, (uint32_t)q % 29);
    VT_EQ_INT(valori_search(plain, NULL, v, &hp, a, &na), VALORI_OK);
    VT_EQ_INT(valori_search(exact, NULL, v, &hp, b, &nb), VALORI_OK);
    VT_EQ_INT(valori_search(lossy, NULL, v, &hp, c, &nc), VALORI_OK);
    VT_EQ_INT(valori_search(lossy, NULL, v, &ep, x, &nx), VALORI_OK);
    same &= na == nb && memcmp(a, b, na * sizeof a[0]) == 0;
    ordered &= exact_ordered(exact, v, b, nb) && exact_ordered(lossy, v, c, nc) && nc == 10;
    for (i = 0; i < (int)nx; i++)
      for (j = 0; j < (int)nc; j++) found += x[i].id == c[j].id;
    total += (long)nx;
    VT_EQ_INT(valori_search(lossy, NULL, v, &fp, c, &nc), VALORI_OK);
    for (i = 0; i < (int)nc; i++) filt &= (c[i].id - 1) % 5 == tag; /* ids 1..N, tag (id - 1) % 5 */
    filt &= nc == 10 && exact_ordered(lossy, v, c, nc);
  }
  VT_CHECK(same);
  VT_CHECK(ordered);
  VT_CHECK(filt);
  printf("  lossy copy (s 19): recall@10 %.3f at ef 48\n", (double)found / (double)total);
  VT_CHECK(found * 10 >= total * 8);
  valori_close(plain);
  valori_close(exact);
  valori_close(lossy);
}

/* A store whose copy is lossless for some vectors only (pixels, and pixels with a half or a -10 in
** one component), searched with lossless and lossy queries: every hit has the exact distance, in
** (distance, id) order, with a recall floor against exact search; valori_check holds. */
static void test_mixed(void) {
  valori_db *db = open_mem(vl_trav_for_range(0, 255 << 16));
  static float v[N * DIM];
  uint64_t s = 21, first;
  uint32_t i;
  valori_search_params hp = {10, 48, VALORI_SEARCH_HNSW, 0, NULL}, ep = {10, 0, VALORI_SEARCH_EXACT, 0, NULL};
  valori_hit h[10], x[10];
  size_t nh, nx;
  int q, ordered = 1;
  long found = 0, total = 0;
  VT_REQUIRE(db);
  for (i = 0; i < N; i++) {
    float *r = v + (size_t)i * DIM;
    pixel_vec(&s, r, i % 23);
    if (i % 3 == 1) r[i % DIM] += 0.5f;     /* off the grid: the copy rounds */
    if (i % 3 == 2) r[i % DIM] = -10.0f;    /* below the range: the copy clamps */
  }
  VT_EQ_INT(valori_insert_batch(db, N, v, NULL, NULL, NULL, &first), VALORI_OK);
  VT_EQ_INT(valori_check(db), VALORI_OK);
  for (q = 0; q < 200; q++) {
    float qv[DIM];
    int a, b;
    pixel_vec(&s, qv, (uint32_t)q % 29);
    if (q % 2) qv[q % DIM] += 0.25f; /* half the queries lossy */
    VT_EQ_INT(valori_search(db, NULL, qv, &hp, h, &nh), VALORI_OK);
    VT_EQ_INT(valori_search(db, NULL, qv, &ep, x, &nx), VALORI_OK);
    ordered &= nh == 10 && exact_ordered(db, qv, h, nh);
    for (a = 0; a < (int)nx; a++)
      for (b = 0; b < (int)nh; b++) found += x[a].id == h[b].id;
    total += (long)nx;
  }
  VT_CHECK(ordered);
  printf("  mixed store: recall@10 %.3f at ef 48\n", (double)found / (double)total);
  VT_CHECK(found * 10 >= total * 9);
  valori_close(db);
}

/* Updates and deletes keep the copy equal to the rule; a snapshot brings back the same root and
** the same search results. */
static void test_churn_snapshot(void) {
  valori_db *db = open_mem(vl_trav_for_range(0, 511 << 16)), *db2 = NULL;
  uint64_t s = 9, id;
  uint8_t r1[32], r2[32], *buf = NULL;
  size_t len = 0;
  valori_search_params hp = {10, 32, VALORI_SEARCH_HNSW, 0, NULL};
  valori_hit a[10], b[10];
  size_t na, nb;
  int i, same = 1;
  VT_REQUIRE(db);
  VT_EQ_INT(fill(db, 2), VALORI_OK);
  for (i = 0; i < 600; i++) {
    float v[DIM];
    pixel_vec(&s, v, (uint32_t)i % 7);
    id = 1 + vt_rand(&s) % N;
    if (i % 3 == 0) (void)valori_delete(db, id); /* ENOTFOUND when already deleted */
    else (void)valori_update(db, id, v, NULL);
  }
  VT_EQ_INT(valori_check(db), VALORI_OK);
  VT_EQ_INT(valori_snapshot_save(db, &buf, &len), VALORI_OK);
  VT_EQ_INT(valori_snapshot_load(buf, len, NULL, &db2), VALORI_OK);
  VT_REQUIRE(db2);
  VT_EQ_INT(valori_check(db2), VALORI_OK);
  valori_state_root(db, r1);
  valori_state_root(db2, r2);
  VT_CHECK(memcmp(r1, r2, 32) == 0);
  for (i = 0; i < 50; i++) {
    float v[DIM];
    pixel_vec(&s, v, (uint32_t)i % 13);
    VT_EQ_INT(valori_search(db, NULL, v, &hp, a, &na), VALORI_OK);
    VT_EQ_INT(valori_search(db2, NULL, v, &hp, b, &nb), VALORI_OK);
    same &= na == nb && na == 10 && memcmp(a, b, na * sizeof a[0]) == 0 && exact_ordered(db, v, a, na);
  }
  VT_CHECK(same);
  valori_buffer_free(db, buf, len);
  valori_close(db);
  valori_close(db2);
}

static int open_store(fv_fs *fs, uint32_t dim, uint32_t trav, valori_db **db) {
  valori_options o;
  valori_options_init(&o);
  o.dim = dim;
  o.hnsw_m = 8;
  o.hnsw_ef_construction = 64;
  o.traversal = trav;
  o.flags = VALORI_OPEN_CREATE;
  o.segment_bytes = 1 << 16;
  o.snapshot_every = 1000;
  o.vfs = fv_vfs(fs);
  *db = NULL;
  return valori_open("compact", &o, db);
}

/* valori_store_inspect callback: counts the files with a readable configuration and those whose
** traversal fields differ from the expected word's. */
typedef struct trav_seen {
  uint32_t word, shift;
  int32_t center;
  int files, wrong;
} trav_seen;

static int on_file_trav(void *arg, const valori_file_info *f) {
  trav_seen *t = (trav_seen *)arg;
  if (f->dim == 0) return 0; /* lock file: no header */
  t->files++;
  t->wrong += f->traversal != t->word || f->traversal_shift != t->shift || f->traversal_center != t->center;
  return 0;
}

static void test_durable(void) {
  fv_fs *fs = fv_new(3);
  valori_db *db = NULL;
  uint32_t w = vl_trav_for_range(0, 255 << 16);
  uint8_t r1[32], r2[32];
  uint64_t s = 4, id;
  int i;
  valori_options o;
  valori_stats st;
  trav_seen seen;
  VT_EQ_INT(open_store(fs, DIM, w, &db), VALORI_OK);
  VT_REQUIRE(db);
  for (i = 0; i < 1500; i++) {
    float v[DIM];
    pixel_vec(&s, v, (uint32_t)i % 11);
    VT_EQ_INT(valori_insert(db, v, 0, NULL, 0, &id), VALORI_OK);
    if (i == 1200) VT_EQ_INT(valori_snapshot(db), VALORI_OK);
  }
  valori_state_root(db, r1);
  VT_EQ_INT(valori_close(db), VALORI_OK);
  VT_EQ_INT(open_store(fs, DIM, 0, &db), VALORI_ECONFIG); /* the option is part of the configuration */
  VT_EQ_INT(open_store(fs, DIM, w, &db), VALORI_OK);
  VT_REQUIRE(db);
  valori_state_root(db, r2);
  VT_CHECK(memcmp(r1, r2, 32) == 0);
  VT_EQ_INT(valori_check(db), VALORI_OK);
  VT_EQ_INT(valori_close(db), VALORI_OK);
  VT_EQ_INT(open_store(fs, 0, 0, &db), VALORI_OK); /* dim 0: the recorded configuration */
  VT_REQUIRE(db);
  VT_EQ_INT(valori_check(db), VALORI_OK);
  VT_EQ_INT(valori_stats_get(db, &st), VALORI_OK); /* the word came back from the files */
  VT_EQ_INT(st.traversal, w);
  VT_EQ_INT(st.traversal_shift, 16);
  VT_EQ_INT(st.traversal_center, 128);
  valori_close(db);
  valori_options_init(&o);
  o.vfs = fv_vfs(fs);
  VT_EQ_INT(valori_verify(&o, NULL, NULL, r2), VALORI_OK);
  VT_CHECK(memcmp(r1, r2, 32) == 0);
  /* every segment, snapshot and HEAD header reports it to valori_store_inspect */
  memset(&seen, 0, sizeof seen);
  seen.word = w;
  seen.shift = 16;
  seen.center = 128;
  VT_EQ_INT(valori_store_inspect(&o, on_file_trav, &seen), VALORI_OK);
  VT_CHECK(seen.files >= 3); /* at least a segment, a snapshot and HEAD */
  VT_EQ_INT(seen.wrong, 0);
  fv_free(fs);
  /* a store without the option: all three 0 in every file */
  fs = fv_new(5);
  VT_EQ_INT(open_store(fs, DIM, 0, &db), VALORI_OK);
  VT_REQUIRE(db);
  for (i = 0; i < 1100; i++) {
    float v[DIM];
    pixel_vec(&s, v, (uint32_t)i % 11);
    VT_EQ_INT(valori_insert(db, v, 0, NULL, 0, &id), VALORI_OK);
  }
  VT_EQ_INT(valori_close(db), VALORI_OK);
  o.vfs = fv_vfs(fs);
  memset(&seen, 0, sizeof seen);
  VT_EQ_INT(valori_store_inspect(&o, on_file_trav, &seen), VALORI_OK);
  VT_CHECK(seen.files >= 3);
  VT_EQ_INT(seen.wrong, 0);
  fv_free(fs);
}

int main(void) {
  VT_RUN(test_rules);
  VT_RUN(test_options);
  VT_RUN(test_lossless);
  VT_RUN(test_search);
  VT_RUN(test_mixed);
  VT_RUN(test_churn_snapshot);
  VT_RUN(test_durable);
  return VT_DONE();
}
