/*
** test_threads.c: VALORI_OPEN_THREADS changes nothing but the schedule. The same events applied to
** a database opened with and without it give, after every event, the same state root and the same
** log chain; durable stores written both ways hold byte-identical files; a follower with threads
** on accepts every record of a serial leader (the root it predicts for each batch is the leader's),
** and a batch whose expected root is wrong is refused with nothing changed. Batches straddle the
** threshold of the two-way split (63, 64, 65 records) and carry metadata and tags, so both halves
** see records of every shape. The chain hashed after the call returns (in memory) matches the serial
** one however it is read, and a commit that fails after the hash started leaves the chain as it
** was (test_deferred_chain). A forked child keeps working, also with a chain hash pending at the
** fork (test_fork). Run under -fsanitize=thread as well (docs/DETERMINISM.md, "Threads").
*/
#define _POSIX_C_SOURCE 200809L /* fork, kill, nanosleep */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault_vfs.h"
#include "log.h"
#include "vl_int.h"
#include "vt.h"

#define DIM 24
#define MAXB 2100

static float vecs[MAXB * DIM];
static uint64_t tags[MAXB];
static uint8_t metab[MAXB][40];
static const void *metas[MAXB];
static size_t meta_lens[MAXB];

/* n rows from seed s into vecs, tags, metas: tags below ntags, metadata (0..39 bytes) on about
** one record in meta_one_in. */
static void fill_rows(size_t n, uint64_t s, uint64_t ntags, uint64_t meta_one_in) {
  size_t i, j;
  for (i = 0; i < n; i++) {
    for (j = 0; j < DIM; j++) vecs[i * DIM + j] = (float)((int64_t)(vt_rand(&s) % 20001) - 10000) / 1000.0f;
    tags[i] = vt_rand(&s) % ntags;
    meta_lens[i] = (size_t)(vt_rand(&s) % meta_one_in == 0 ? vt_rand(&s) % 40 : 0);
    for (j = 0; j < meta_lens[i]; j++) metab[i][j] = (uint8_t)vt_rand(&s);
    metas[i] = meta_lens[i] ? metab[i] : NULL;
  }
}

/* Batch k of the workload: its size and its rows (a deterministic function of k). */
static size_t batch_of(int k) {
  static const size_t sizes[] = {1, 63, 64, 65, 1000, 2, 129, 2049, 64, 333};
  size_t n = sizes[k % 10];
  fill_rows(n, 0x5eed0000u + (uint64_t)k, 7, 3);
  return n;
}

static valori_db *open_db(const valori_vfs *vfs, int threads) {
  valori_options o;
  valori_db *db = NULL;
  valori_options_init(&o);
  o.dim = DIM;
  o.index = VALORI_INDEX_NONE;
  o.flags = VALORI_OPEN_CREATE | (threads ? VALORI_OPEN_THREADS : 0u);
  o.vfs = vfs;
  o.snapshot_every = 7; /* snapshots in the durable comparison too */
  if (valori_open(":memory:", &o, &db) != VALORI_OK) return NULL;
  return db;
}

/* a and b at the same height, root and chain. */
static void same_position(valori_db *a, valori_db *b) {
  valori_position pa, pb;
  VT_EQ_INT(valori_position_get(a, &pa), VALORI_OK);
  VT_EQ_INT(valori_position_get(b, &pb), VALORI_OK);
  VT_EQ_INT(pa.height, pb.height);
  VT_CHECK(memcmp(pa.root, pb.root, 32) == 0);
  VT_CHECK(memcmp(pa.chain, pb.chain, 32) == 0);
}

/* One batch into both databases; then roots and chains must agree. Also deletes a record now and
** then, so that the accumulator also loses elements between batches. */
static void same_step(valori_db *a, valori_db *b, int k) {
  size_t n = batch_of(k);
  uint64_t ia = 0, ib = 0;
  VT_EQ_INT(valori_insert_batch(a, n, vecs, tags, metas, meta_lens, &ia), VALORI_OK);
  VT_EQ_INT(valori_insert_batch(b, n, vecs, tags, metas, meta_lens, &ib), VALORI_OK);
  VT_EQ_INT(ia, ib);
  if (k % 3 == 2) {
    VT_EQ_INT(valori_delete(a, ia), VALORI_OK);
    VT_EQ_INT(valori_delete(b, ib), VALORI_OK);
  }
  same_position(a, b);
}

static void test_memory_same_roots(void) {
  valori_db *a = open_db(NULL, 0), *b = open_db(NULL, 1);
  int k;
  VT_REQUIRE(a && b);
  for (k = 0; k < 20; k++) same_step(a, b, k);
  VT_EQ_INT(valori_check(a), VALORI_OK);
  VT_EQ_INT(valori_check(b), VALORI_OK); /* the recomputed accumulator equals the threaded one */
  VT_EQ_INT(valori_close(a), VALORI_OK);
  VT_EQ_INT(valori_close(b), VALORI_OK);
}

typedef struct names {
  char n[64][64];
  int k;
} names;

static void names_cb(void *arg, const char *name) {
  names *N = (names *)arg;
  if (N->k < 64) snprintf(N->n[N->k++], 64, "%s", name);
}

static void test_durable_same_bytes(void) {
  fv_fs *fa = fv_new(11), *fb = fv_new(11);
  valori_db *a = open_db(fv_vfs(fa), 0), *b = open_db(fv_vfs(fb), 1);
  names na, nb;
  int k, i;
  VT_REQUIRE(a && b);
  for (k = 0; k < 20; k++) same_step(a, b, k);
  VT_EQ_INT(valori_close(a), VALORI_OK);
  VT_EQ_INT(valori_close(b), VALORI_OK);
  na.k = nb.k = 0;
  fv_list_names(fa, names_cb, &na);
  fv_list_names(fb, names_cb, &nb);
  VT_EQ_INT(na.k, nb.k);
  VT_CHECK(na.k >= 3); /* log segment(s), snapshots, HEAD */
  for (i = 0; i < na.k && i < nb.k; i++) {
    size_t la = 0, lb = 0;
    const uint8_t *da = fv_file_data(fa, na.n[i], &la), *db = fv_file_data(fb, na.n[i], &lb);
    VT_CHECK(strcmp(na.n[i], nb.n[i]) == 0);
    VT_REQUIRE(da && db);
    VT_EQ_INT(la, lb);
    VT_CHECK(la == lb && memcmp(da, db, la) == 0);
  }
  /* and a threaded reopen replays the serial store to the same root */
  {
    valori_db *c = open_db(fv_vfs(fa), 1);
    valori_position pc, pb;
    VT_REQUIRE(c);
    b = open_db(fv_vfs(fb), 0);
    VT_REQUIRE(b);
    VT_EQ_INT(valori_position_get(c, &pc), VALORI_OK);
    VT_EQ_INT(valori_position_get(b, &pb), VALORI_OK);
    VT_CHECK(memcmp(pc.root, pb.root, 32) == 0 && memcmp(pc.chain, pb.chain, 32) == 0);
    VT_EQ_INT(valori_close(c), VALORI_OK);
    VT_EQ_INT(valori_close(b), VALORI_OK);
  }
  fv_free(fa);
  fv_free(fb);
}

/* A threaded follower applies a serial leader's records (each one's root checked against the
** follower's prediction); a record that claims another root, with its chain and CRC made to match,
** is refused with VALORI_DIVERGED_ROOT and changes nothing. */
static void reframe(uint8_t *rec, size_t len, const uint8_t prev_chain[32]) {
  uint8_t chain[32];
  uint32_t evlen = (uint32_t)(len - VL_REC_HDR);
  vl_chain_next(prev_chain, vl_get64(rec + VL_REC_OFF_HEIGHT), rec + VL_REC_OFF_ROOT, rec + VL_REC_HDR, evlen, chain);
  vl_rec_frame(rec, vl_get64(rec + VL_REC_OFF_HEIGHT), vl_get64(rec + VL_REC_OFF_SYNCED), rec + VL_REC_OFF_ROOT, chain,
               rec + VL_REC_HDR, evlen);
}

static void test_follower_expect(void) {
  fv_fs *fs = fv_new(12);
  valori_db *leader = open_db(fv_vfs(fs), 0), *f = open_db(NULL, 1);
  valori_cursor *cur = NULL;
  valori_options o;
  valori_position pl, pf;
  uint8_t *rec = malloc(VALORI_MAX_EVENT + VL_REC_HDR);
  int k, applied = 0;
  VT_REQUIRE(leader && f && rec);
  for (k = 0; k < 8; k++) {
    size_t n = batch_of(k);
    VT_EQ_INT(valori_insert_batch(leader, n, vecs, tags, metas, meta_lens, NULL), VALORI_OK);
  }
  VT_EQ_INT(valori_flush(leader), VALORI_OK);
  VT_EQ_INT(valori_position_get(leader, &pl), VALORI_OK);
  valori_options_init(&o);
  o.vfs = fv_vfs(fs);
  VT_REQUIRE(valori_cursor_open(&o, 1, pl.height, &cur) == VALORI_OK);
  for (;;) {
    const uint8_t *p = NULL;
    size_t len = 0;
    valori_apply_result res;
    valori_position before, after;
    VT_REQUIRE(valori_cursor_next(cur, pl.height, &p, &len) == VALORI_OK);
    if (!p) break;
    VT_REQUIRE(len >= VL_REC_HDR && len <= VALORI_MAX_EVENT + VL_REC_HDR);
    memcpy(rec, p, len);
    VT_EQ_INT(valori_position_get(f, &before), VALORI_OK);
    rec[VL_REC_OFF_ROOT] ^= 1;
    reframe(rec, len, before.chain);
    VT_EQ_INT(valori_apply_record(f, rec, len, &res), VALORI_EDIVERGED);
    VT_EQ_INT(res.reason, VALORI_DIVERGED_ROOT);
    VT_EQ_INT(valori_position_get(f, &after), VALORI_OK);
    VT_CHECK(after.height == before.height && memcmp(after.root, before.root, 32) == 0 &&
             memcmp(after.chain, before.chain, 32) == 0);
    memcpy(rec, p, len);
    VT_EQ_INT(valori_apply_record(f, rec, len, &res), VALORI_OK);
    applied++;
  }
  VT_EQ_INT(applied, 8);
  VT_EQ_INT(valori_position_get(f, &pf), VALORI_OK);
  VT_EQ_INT(pf.height, pl.height);
  VT_CHECK(memcmp(pl.root, pf.root, 32) == 0 && memcmp(pl.chain, pf.chain, 32) == 0);
  valori_cursor_close(cur);
  VT_EQ_INT(valori_close(leader), VALORI_OK);
  VT_EQ_INT(valori_close(f), VALORI_OK);
  free(rec);
  fv_free(fs);
}

/* Bad batches: the threaded encoder (records split in two halves) must refuse with the code the
** serial one gives, the first failure in record order, and change nothing. */
static void test_bad_batch_codes(void) {
  static uint8_t big[VALORI_MAX_META + 1];
  valori_db *a = open_db(NULL, 0), *b = open_db(NULL, 1);
  const float nan = (float)NAN, inf = (float)INFINITY;
  struct {
    size_t at1;
    float v1;
    size_t at2;
    float v2;
    int meta_kind; /* 0 none, 1 NULL with a length, 2 too long */
    size_t meta_at;
  } cases[] = {
      {10, nan, 0, 0, 0, 0},       {150, inf, 0, 0, 0, 0},    {150, nan, 10, 1e9f, 0, 0},
      {130, nan, 0, 0, 1, 120},    {120, nan, 0, 0, 1, 120},  {60, nan, 0, 0, 2, 50},
      {50, -inf, 0, 0, 2, 50},     {199, nan, 0, 0, 0, 0},    {0, 0, 0, 0, 1, 199},
      {0, 0, 0, 0, 2, 0},          {100, 3e7f, 99, 0, 0, 0},  {0, 0, 0, 0, 0, 0}};
  size_t c;
  VT_REQUIRE(a && b);
  for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const size_t n = 200;
    int ra, rb;
    valori_position pa, pb;
    (void)batch_of(4); /* 1000 rows with tags and metadata; the first 200 are used */
    if (cases[c].v1 != 0) vecs[cases[c].at1 * DIM + 3] = cases[c].v1;
    if (cases[c].v2 != 0) vecs[cases[c].at2 * DIM + 7] = cases[c].v2;
    if (cases[c].meta_kind == 1) meta_lens[cases[c].meta_at] = 5, metas[cases[c].meta_at] = NULL;
    if (cases[c].meta_kind == 2) meta_lens[cases[c].meta_at] = sizeof big, metas[cases[c].meta_at] = big;
    ra = valori_insert_batch(a, n, vecs, tags, metas, meta_lens, NULL);
    rb = valori_insert_batch(b, n, vecs, tags, metas, meta_lens, NULL);
    VT_EQ_INT(rb, ra);
    VT_CHECK(c == sizeof cases / sizeof cases[0] - 1 ? ra == VALORI_OK : ra != VALORI_OK);
    VT_EQ_INT(valori_position_get(a, &pa), VALORI_OK);
    VT_EQ_INT(valori_position_get(b, &pb), VALORI_OK);
    VT_EQ_INT(pa.height, pb.height);
    VT_CHECK(memcmp(pa.root, pb.root, 32) == 0 && memcmp(pa.chain, pb.chain, 32) == 0);
  }
  VT_EQ_INT(valori_close(a), VALORI_OK);
  VT_EQ_INT(valori_close(b), VALORI_OK);
}

/* An HNSW store with the int8 traversal copy: threads change neither root nor index digest. */
static void test_hnsw_same_index(void) {
  valori_db *db[2] = {NULL, NULL};
  uint8_t ra[32], rb[32], da[32], dbb[32];
  int t, k;
  for (t = 0; t < 2; t++) {
    valori_options o;
    valori_options_init(&o);
    o.dim = DIM;
    o.hnsw_m = 8;
    o.hnsw_ef_construction = 32;
    o.flags = VALORI_OPEN_CREATE | (t ? VALORI_OPEN_THREADS : 0u);
    VT_REQUIRE(valori_traversal_int8(-10.0f, 10.0f, &o.traversal) == VALORI_OK);
    VT_REQUIRE(valori_open(":memory:", &o, &db[t]) == VALORI_OK);
  }
  for (k = 0; k < 6; k++) {
    size_t n = batch_of(k);
    VT_EQ_INT(valori_insert_batch(db[0], n, vecs, tags, metas, meta_lens, NULL), VALORI_OK);
    VT_EQ_INT(valori_insert_batch(db[1], n, vecs, tags, metas, meta_lens, NULL), VALORI_OK);
  }
  VT_EQ_INT(valori_state_root(db[0], ra), VALORI_OK);
  VT_EQ_INT(valori_state_root(db[1], rb), VALORI_OK);
  VT_EQ_INT(valori_index_digest(db[0], da), VALORI_OK);
  VT_EQ_INT(valori_index_digest(db[1], dbb), VALORI_OK);
  VT_CHECK(memcmp(ra, rb, 32) == 0);
  VT_CHECK(memcmp(da, dbb, 32) == 0);
  VT_EQ_INT(valori_check(db[1]), VALORI_OK);
  VT_EQ_INT(valori_close(db[0]), VALORI_OK);
  VT_EQ_INT(valori_close(db[1]), VALORI_OK);
}

/* Every batch size from 1 to 160 (across the 64-record split), then the sizes around the 32 KiB
** event that moves the chain hash to the worker (a record here is 108 bytes plus metadata), each
** into a serial and a threaded database, which must agree on root and chain after every batch. One
** threaded database takes them all, so its one worker serves hundreds of handoffs. */
static void test_every_batch_size(void) {
  valori_db *a = open_db(NULL, 0), *b = open_db(NULL, 1);
  size_t n;
  VT_REQUIRE(a && b);
  for (n = 1; n <= 400; n += n < 160 ? 1 : n < 280 ? 40 : 1) {
    uint64_t ia = 0, ib = 0;
    fill_rows(n, 0xba7c4000u + n, 5, 4);
    VT_EQ_INT(valori_insert_batch(a, n, vecs, tags, metas, meta_lens, &ia), VALORI_OK);
    VT_EQ_INT(valori_insert_batch(b, n, vecs, tags, metas, meta_lens, &ib), VALORI_OK);
    VT_EQ_INT(ia, ib);
    same_position(a, b);
  }
  VT_EQ_INT(valori_check(b), VALORI_OK);
  VT_EQ_INT(valori_close(a), VALORI_OK);
  VT_EQ_INT(valori_close(b), VALORI_OK);
}

/* The worker itself (core/host_threads.c): each half writes its own words, and after vl_par2
** returns the caller sees both halves' writes of that round (and never a stale one), over many
** rounds on one worker; two callers sharing a worker at once get the same results (the one that
** finds it taken runs both halves itself); a worker never used, or NULL, is fine to free or run. */
typedef struct par_cell {
  uint64_t in, out[8];
} par_cell;

static void par_job(void *p) {
  par_cell *c = (par_cell *)p;
  int i;
  for (i = 0; i < 8; i++) c->out[i] = c->in * 0x9e3779b97f4a7c15ull + (uint64_t)i;
}

static int par_rounds(vl_par *w, uint64_t seed, int rounds) {
  int r, i, bad = 0;
  for (r = 0; r < rounds; r++) {
    par_cell x, y;
    memset(&x, 0, sizeof x);
    memset(&y, 0, sizeof y);
    x.in = seed + 2u * (uint64_t)r;
    y.in = x.in + 1u;
    vl_par2(w, par_job, &x, &y);
    for (i = 0; i < 8; i++)
      bad |= x.out[i] != x.in * 0x9e3779b97f4a7c15ull + (uint64_t)i || y.out[i] != y.in * 0x9e3779b97f4a7c15ull + (uint64_t)i;
  }
  return bad;
}

typedef struct par_caller {
  vl_par *w;
  uint64_t seed;
  int bad;
} par_caller;

static void *par_caller_main(void *p) {
  par_caller *c = (par_caller *)p;
  c->bad = par_rounds(c->w, c->seed, 3000);
  return NULL;
}

static void test_worker(void) {
  vl_par *w = NULL, *idle = NULL;
  pthread_t t;
  par_caller c1, c2;
  VT_REQUIRE(vl_par_new(valori_libc_allocator(), &w) == VALORI_OK && w);
  VT_REQUIRE(vl_par_new(valori_libc_allocator(), &idle) == VALORI_OK && idle);
  vl_par_free(idle); /* never started: nothing to join */
  vl_par_free(NULL);
  VT_EQ_INT(par_rounds(NULL, 7, 10), 0); /* no worker: serial */
  VT_EQ_INT(par_rounds(w, 1, 5000), 0);
  c1.w = c2.w = w;
  c1.seed = 100000, c2.seed = 900000;
  VT_REQUIRE(pthread_create(&t, NULL, par_caller_main, &c1) == 0);
  par_caller_main(&c2);
  VT_REQUIRE(pthread_join(t, NULL) == 0);
  VT_EQ_INT(c1.bad, 0);
  VT_EQ_INT(c2.bad, 0);
  VT_EQ_INT(par_rounds(w, 3, 100), 0); /* still usable after the contention */
  vl_par_free(w);
}

/* The async job (vl_par_async): it runs on the worker while the caller goes on, vl_par_running says
** so without blocking, vl_par_await (a reader) and vl_par_wait (the owner) return only after its
** writes, vl_par2 meanwhile runs serially with the right results, vl_par_free waits for it, a second
** thread that finds the worker taken by it runs its halves itself, and with no worker the job runs
** at once. */
typedef struct slow_cell {
  long nap_ns;
  atomic_int done;
  uint64_t out;
} slow_cell;

static void slow_job(void *p) {
  slow_cell *c = (slow_cell *)p;
  struct timespec ts = {0, c->nap_ns};
  nanosleep(&ts, NULL);
  c->out = 0xC0FFEEull;
  atomic_store(&c->done, 1);
}

typedef struct after_async {
  slow_cell *c;
  int saw;
} after_async;

static void check_async_done(void *p) { /* vl_par2's caller half: the async job must be finished */
  after_async *a = (after_async *)p;
  a->saw = a->c->out == 0xC0FFEEull && atomic_load(&a->c->done) == 1;
}

static void *contender_main(void *p) {
  par_caller *c = (par_caller *)p;
  c->bad = par_rounds(c->w, c->seed, 200);
  return NULL;
}

static void test_async(void) {
  vl_par *w = NULL;
  slow_cell c;
  after_async a, b;
  pthread_t t;
  par_caller pc;
  int r, bad = 0;
  memset(&c, 0, sizeof c);
  vl_par_async(NULL, slow_job, &c); /* no worker: at once */
  VT_CHECK(c.out == 0xC0FFEEull);
  VT_EQ_INT(vl_par_running(NULL), 0);
  vl_par_wait(NULL);
  vl_par_await(NULL);
  VT_REQUIRE(vl_par_new(valori_libc_allocator(), &w) == VALORI_OK && w);
  /* owner: running, then await (reader), then wait */
  memset(&c, 0, sizeof c);
  c.nap_ns = 30000000; /* 30 ms */
  vl_par_async(w, slow_job, &c);
  VT_EQ_INT(vl_par_running(w), 1);
  vl_par_await(w);
  VT_CHECK(c.out == 0xC0FFEEull);
  VT_EQ_INT(vl_par_running(w), 0);
  vl_par_wait(w);
  VT_EQ_INT(vl_par_running(w), 0);
  /* after vl_par_wait both halves of a vl_par2 see the job's writes; a vl_par2 while the job holds
  ** the worker runs serially with the right results */
  for (r = 0; r < 200; r++) {
    memset(&c, 0, sizeof c);
    c.nap_ns = r % 20 == 0 ? 2000000 : 0;
    a.c = b.c = &c;
    a.saw = b.saw = 0;
    vl_par_async(w, slow_job, &c);
    bad += par_rounds(w, 77 + (uint64_t)r, 2);
    vl_par_wait(w);
    vl_par2(w, check_async_done, &a, &b);
    bad += !a.saw || !b.saw;
  }
  VT_EQ_INT(bad, 0);
  /* another caller finds the worker taken by the async job: it runs both halves itself */
  memset(&c, 0, sizeof c);
  c.nap_ns = 50000000;
  vl_par_async(w, slow_job, &c);
  pc.w = w;
  pc.seed = 4242;
  VT_REQUIRE(pthread_create(&t, NULL, contender_main, &pc) == 0);
  VT_REQUIRE(pthread_join(t, NULL) == 0);
  VT_EQ_INT(pc.bad, 0);
  vl_par_wait(w);
  VT_CHECK(c.out == 0xC0FFEEull);
  VT_EQ_INT(par_rounds(w, 5, 100), 0); /* the worker is back */
  /* free waits for a pending job */
  memset(&c, 0, sizeof c);
  c.nap_ns = 20000000;
  vl_par_async(w, slow_job, &c);
  vl_par_free(w);
  VT_CHECK(c.out == 0xC0FFEEull);
}

/* The chain of an in-memory database with threads is hashed after the call returns (api.c). Large
** batches (1000 rows here: 108 KB events) back to back with nothing reading the chain in between,
** a refused batch and small events (deletes) between them, must leave the chain of the serial
** database; then every allocation of a large batch's commit fails in turn (the hash has started
** by then): the call fails, the position (height, root, chain) is exactly the one before it, and
** the same batch then succeeds with the serial database's chain. */
static size_t fail_at, nallocs;
static void *cnt_alloc(void *ctx, size_t n) {
  (void)ctx;
  return ++nallocs == fail_at ? NULL : malloc(n);
}
static void *cnt_realloc(void *ctx, void *p, size_t o, size_t n) {
  (void)ctx;
  (void)o;
  return ++nallocs == fail_at ? NULL : realloc(p, n);
}
static void cnt_free(void *ctx, void *p, size_t n) {
  (void)ctx;
  (void)n;
  free(p);
}

static valori_db *open_counted(void) {
  static const valori_allocator cnt = {NULL, cnt_alloc, cnt_realloc, cnt_free};
  valori_options o;
  valori_db *db = NULL;
  valori_options_init(&o);
  o.dim = DIM;
  o.index = VALORI_INDEX_NONE;
  o.flags = VALORI_OPEN_CREATE | VALORI_OPEN_THREADS;
  o.allocator = &cnt;
  fail_at = 0;
  return valori_open(":memory:", &o, &db) == VALORI_OK ? db : NULL;
}

static void test_deferred_chain(void) {
  valori_db *a = open_db(NULL, 0), *b = open_counted();
  valori_position want;
  uint64_t first;
  size_t n, k, failures = 0, total;
  int i;
  VT_REQUIRE(a && b);
  for (i = 0; i < 12; i++) {
    n = batch_of(4);
    VT_EQ_INT(valori_insert_batch(a, n, vecs, tags, metas, meta_lens, &first), VALORI_OK);
    VT_EQ_INT(valori_insert_batch(b, n, vecs, tags, metas, meta_lens, &first), VALORI_OK);
    if (i % 4 == 1) { /* refused: a NaN component; nothing changes */
      vecs[5 * DIM + 3] = NAN;
      VT_EQ_INT(valori_insert_batch(b, n, vecs, tags, metas, meta_lens, &first), VALORI_ENAN);
    }
    if (i % 4 == 2) { /* a small event: its chain follows the pending one */
      VT_EQ_INT(valori_delete(a, first), VALORI_OK);
      VT_EQ_INT(valori_delete(b, first), VALORI_OK);
    }
  }
  same_position(a, b);
  VT_EQ_INT(valori_check(b), VALORI_OK);
  VT_EQ_INT(valori_close(a), VALORI_OK);
  VT_EQ_INT(valori_close(b), VALORI_OK);
  /* two large batches into a fresh database, the second with its k-th allocation failing */
  a = open_db(NULL, 0);
  VT_REQUIRE(a);
  n = batch_of(4);
  VT_EQ_INT(valori_insert_batch(a, n, vecs, tags, metas, meta_lens, &first), VALORI_OK);
  n = batch_of(7);
  VT_EQ_INT(valori_insert_batch(a, n, vecs, tags, metas, meta_lens, &first), VALORI_OK);
  VT_EQ_INT(valori_position_get(a, &want), VALORI_OK);
  b = open_counted(); /* how many allocations the second batch makes */
  VT_REQUIRE(b);
  n = batch_of(4);
  VT_EQ_INT(valori_insert_batch(b, n, vecs, tags, metas, meta_lens, &first), VALORI_OK);
  n = batch_of(7);
  nallocs = 0;
  VT_EQ_INT(valori_insert_batch(b, n, vecs, tags, metas, meta_lens, &first), VALORI_OK);
  total = nallocs;
  VT_EQ_INT(valori_close(b), VALORI_OK);
  VT_CHECK(total >= 3); /* the encoding buffer and the record arrays at least */
  for (k = 1; k <= total; k++) {
    valori_position before, after;
    int rc;
    b = open_counted();
    VT_REQUIRE(b);
    n = batch_of(4);
    VT_EQ_INT(valori_insert_batch(b, n, vecs, tags, metas, meta_lens, &first), VALORI_OK);
    VT_EQ_INT(valori_position_get(b, &before), VALORI_OK); /* (read as a reader: the hash may still run) */
    n = batch_of(7);
    nallocs = 0;
    fail_at = k;
    rc = valori_insert_batch(b, n, vecs, tags, metas, meta_lens, &first);
    fail_at = 0;
    if (rc != VALORI_OK) {
      failures++;
      VT_EQ_INT(rc, VALORI_ENOMEM);
      VT_EQ_INT(valori_position_get(b, &after), VALORI_OK);
      VT_CHECK(after.height == before.height && memcmp(after.root, before.root, 32) == 0 &&
               memcmp(after.chain, before.chain, 32) == 0);
      VT_EQ_INT(valori_insert_batch(b, n, vecs, tags, metas, meta_lens, &first), VALORI_OK);
    }
    VT_EQ_INT(valori_position_get(b, &after), VALORI_OK);
    VT_CHECK(after.height == want.height && memcmp(after.root, want.root, 32) == 0 &&
             memcmp(after.chain, want.chain, 32) == 0);
    VT_EQ_INT(valori_close(b), VALORI_OK);
  }
  printf("  %zu of the batch's %zu allocations failed in turn: %zu calls refused, each leaving the position as it was\n",
         total, total, failures);
  VT_CHECK(failures > 0);
  VT_EQ_INT(valori_close(a), VALORI_OK);
}

/* A child forked after the worker started has no worker thread: its threaded batches must still
** complete (the worker is started afresh there) with the root the parent gets for the same batch,
** and its close must not wait for the parent's thread. The child reports through a pipe; the parent
** gives it 30 s before killing it (a hang is the failure this catches). */
static void test_fork(void) {
  valori_db *db = open_db(NULL, 1);
  valori_position p, p0;
  uint8_t child[96];
  int fd[2], status = 0, i;
  pid_t pid;
  size_t n;
  uint64_t first;
  VT_REQUIRE(db);
  n = batch_of(4); /* 1000 rows: the batch is split, so the worker runs */
  VT_EQ_INT(valori_insert_batch(db, n, vecs, tags, metas, meta_lens, &first), VALORI_OK);
  VT_REQUIRE(pipe(fd) == 0);
  n = batch_of(7); /* 2049 rows */
  pid = fork();
  VT_REQUIRE(pid >= 0);
  if (pid == 0) { /* the first batch's chain may still be hashing in the parent's worker */
    valori_position cp0, cp;
    uint8_t out[96];
    int ok = valori_position_get(db, &cp0) == VALORI_OK &&
             valori_insert_batch(db, n, vecs, tags, metas, meta_lens, &first) == VALORI_OK &&
             valori_insert_batch(db, n, vecs, tags, metas, meta_lens, &first) == VALORI_OK &&
             valori_position_get(db, &cp) == VALORI_OK;
    ok = ok && valori_close(db) == VALORI_OK;
    memcpy(out, cp0.chain, 32);
    memcpy(out + 32, cp.root, 32);
    memcpy(out + 64, cp.chain, 32);
    if (ok && write(fd[1], out, 96) != 96) ok = 0;
    _exit(ok ? 0 : 1);
  }
  close(fd[1]);
  VT_EQ_INT(valori_position_get(db, &p0), VALORI_OK);
  VT_EQ_INT(valori_insert_batch(db, n, vecs, tags, metas, meta_lens, &first), VALORI_OK);
  VT_EQ_INT(valori_insert_batch(db, n, vecs, tags, metas, meta_lens, &first), VALORI_OK);
  VT_EQ_INT(valori_position_get(db, &p), VALORI_OK);
  for (i = 0; i < 300 && waitpid(pid, &status, WNOHANG) == 0; i++) {
    struct timespec ts = {0, 100000000};
    nanosleep(&ts, NULL);
  }
  if (i == 300) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    VT_CHECK(!"the forked child hung");
  } else {
    VT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    VT_EQ_INT((int)read(fd[0], child, 96), 96);
    VT_CHECK(memcmp(child, p0.chain, 32) == 0);
    VT_CHECK(memcmp(child + 32, p.root, 32) == 0 && memcmp(child + 64, p.chain, 32) == 0);
  }
  close(fd[0]);
  VT_EQ_INT(valori_close(db), VALORI_OK);
}

int main(void) {
  VT_RUN(test_memory_same_roots);
  VT_RUN(test_durable_same_bytes);
  VT_RUN(test_follower_expect);
  VT_RUN(test_bad_batch_codes);
  VT_RUN(test_hnsw_same_index);
  VT_RUN(test_every_batch_size);
  VT_RUN(test_worker);
  VT_RUN(test_async);
  VT_RUN(test_deferred_chain);
  VT_RUN(test_fork);
  return VT_DONE();
}
