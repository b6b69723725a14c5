/*
** valori_bench.c: the Valori driver. Measures an in-memory Valori database (valori_open with no VFS)
** through the public API only (core/include/valori.h), on the same data, parameters and protocol as
** hnswlib_bench.cpp, so that bench/report.py can put the two side by side:
**   build      valori_insert_batch of the whole base (batches of --batch records, one event each),
**              vectors/s, memory from valori_stats_get plus the RSS delta;
**   search     VALORI_SEARCH_HNSW over the ef list: QPS (median of --runs) and recall@k;
**   exact      VALORI_SEARCH_EXACT: QPS and recall (exact integer distances);
**   filter     tag filters of selectivity 1/2 .. 1/1000 (tag scheme in common.h), both the planner
**              (VALORI_SEARCH_AUTO) and the index alone (VALORI_SEARCH_HNSW): recall@k against the
**              filtered ground truth, results returned, QPS;
**   ingest     insert throughput into fresh databases: single valori_insert and batches;
**   snapshot   valori_snapshot_save / valori_snapshot_load time and size, of the HNSW database and
**              of an index-less one holding the same base, with each loaded copy checked for the
**              same state root, index digest and search results;
**   check      valori_check time (full invariant check) after the build;
**   --traversal int8: the HNSW database keeps the compact int8 traversal copy (valori.h,
**              valori_traversal_int8 over the base data's [min, max]); every row says so;
**              --traversal ab: search compares a default store and an int8 one, passes alternating;
**   append, durable (opt-in, valori_ingest.c): raw append into index-less stores vs HNSW ingestion,
**              and durable ingestion and store snapshots in a real directory.
** The driver also enforces the API contract it relies on and exits nonzero when it is broken
** (results not ordered by (distance, id), ids outside the inserted range, a filtered result that
** does not match its filter, AUTO returning fewer than min(k, matching) results, a snapshot that
** does not reproduce the database), so a benchmark can never report speed for wrong answers.
** JSON lines on stdout (common.h), progress on stderr.
*/
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "valori_bench.h"

#ifndef BENCH_C_FLAGS
#define BENCH_C_FLAGS "unknown"
#endif
#ifndef BENCH_CORE_FLAGS
#define BENCH_CORE_FLAGS "unknown"
#endif

/* ---- shared state of one run */
typedef struct run {
  bench_opts o;
  bench_dataset ds;
  valori_db *db;
  valori_searcher *s;
  uint64_t first_id; /* id of base row 0; row i has id first_id + i */
  valori_hit *hits;  /* k hits */
  uint32_t *ids;     /* nq * k result indices */
  size_t *nres;      /* nq result counts */
  char head[1024];
} run;

static valori_db *open_db(const run *R) { return vb_open_mem(&R->o, &R->ds, VALORI_INDEX_HNSW); }

/* One search; stores result indices for query slot qi and validates order, ids and (with m > 0)
** the filter. Returns the number of results. */
static size_t search_one(run *R, const valori_db *db, valori_searcher *s, const float *q,
                         const valori_search_params *p, uint32_t m, uint32_t *ids) {
  size_t n = 0;
  CHECK(valori_search(db, s, q, p, R->hits, &n));
  vb_check_hits(R->hits, n, p->k, R->first_id, R->ds.n, m, ids);
  return n;
}

static double mean_recall(const run *R, const bench_gt *gt, size_t nq) {
  double s = 0;
  for (size_t q = 0; q < nq; q++)
    s += bench_recall(gt, q, R->o.k, R->ds.base, R->ds.queries + q * R->ds.dim, R->ds.dim,
                      R->ds.metric, R->ids + q * R->o.k, R->nres[q]);
  return nq ? s / (double)nq : 0;
}

/* Runs nq queries --runs times with params p (filter modulus m, 0 = none); returns the median wall
** seconds and stores the median CPU seconds in *cpu. Results of the last run stay in R->ids and
** R->nres. */
/* One timed pass of nq queries on db (results into R->ids / R->nres); *cpu gets its CPU seconds. */
static double timed_pass(run *R, const valori_db *db, valori_searcher *sr, size_t nq, const valori_search_params *p,
                         uint32_t m, double *cpu) {
  double ts = bench_now(), cs = bench_cpu_now();
  for (size_t q = 0; q < nq; q++)
    R->nres[q] = search_one(R, db, sr, R->ds.queries + q * R->ds.dim, p, m, R->ids + q * R->o.k);
  *cpu = bench_cpu_now() - cs;
  return bench_now() - ts;
}

static double timed_queries(run *R, size_t nq, const valori_search_params *p, uint32_t m, double *cpu) {
  double t[64], c[64];
  int runs = R->o.runs > 64 ? 64 : R->o.runs;
  for (int r = 0; r < runs; r++) t[r] = timed_pass(R, R->db, R->s, nq, p, m, &c[r]);
  *cpu = bench_median(c, (size_t)runs);
  return bench_median(t, (size_t)runs);
}

/* ---- measurements */

static void bench_build(run *R) {
  const size_t n = R->ds.n;
  size_t batch = vb_build_batch(&R->o, &R->ds);
  bench_rss_peak_reset();
  uint64_t rss0 = bench_rss_bytes();
  double t0 = bench_now(), c0 = bench_cpu_now();
  R->db = open_db(R);
  R->first_id = vb_insert_rows(R->db, &R->ds, n, batch, 1);
  double build_s = bench_now() - t0, build_cpu_s = bench_cpu_now() - c0;
  uint64_t rss_delta = bench_rss_bytes() - rss0, peak = bench_rss_peak_bytes();
  uint64_t peak_delta = peak > rss0 ? peak - rss0 : 0; /* the most the build held at once */
  valori_stats st;
  CHECK(valori_stats_get(R->db, &st));
  if (st.records != n) vb_fail("stats.records differs from the number of inserted rows");
  uint64_t total = st.vector_bytes + st.index_bytes + st.other_bytes;
  fprintf(stderr, "  build: %.2f s, %.0f vectors/s, %.0f bytes/vector (rss +%.1f MB, peak +%.1f MB)\n", build_s,
          (double)n / build_s, (double)total / (double)n, (double)rss_delta / 1e6, (double)peak_delta / 1e6);
  bench_json_head(R->head, sizeof R->head, &R->o, &R->ds, "valori", "build");
  bench_emit("%s,\"build_s\":%.4f,\"cpu_s\":%.4f,\"vectors_per_s\":%.1f,\"batch\":%zu,\"vector_bytes\":%llu,"
             "\"graph_bytes\":%llu,\"other_bytes\":%llu,\"total_bytes\":%llu,\"bytes_per_vector\":%.1f,"
             "\"rss_delta_bytes\":%llu,\"peak_rss_delta_bytes\":%llu,\"height\":%llu}\n",
             R->head, build_s, build_cpu_s, (double)n / build_s, batch, (unsigned long long)st.vector_bytes,
             (unsigned long long)st.index_bytes, (unsigned long long)st.other_bytes,
             (unsigned long long)total, (double)total / (double)n, (unsigned long long)rss_delta,
             (unsigned long long)peak_delta, (unsigned long long)st.height);
  CHECK(valori_searcher_create(R->db, &R->s));
}

static void bench_check(run *R) {
  double t0 = bench_now();
  CHECK(valori_check(R->db));
  double el = bench_now() - t0;
  fprintf(stderr, "  valori_check: ok in %.3f s\n", el);
  bench_json_head(R->head, sizeof R->head, &R->o, &R->ds, "valori", "check");
  bench_emit("%s,\"check_s\":%.4f}\n", R->head, el);
}

/* --traversal ab: the same base in a second store with the int8 traversal copy, and for each ef
** the two stores' timed passes alternate (default, int8, default, ...), so both medians see the
** same machine; rows for both, the int8 ones marked "traversal":"int8", and the ratio on stderr. */
static void bench_search_ab(run *R) {
  const size_t nq = R->ds.nq;
  bench_opts o8 = R->o;
  valori_db *db8;
  valori_searcher *s8 = NULL;
  o8.traversal = "int8";
  db8 = vb_open_mem(&o8, &R->ds, VALORI_INDEX_HNSW);
  size_t batch = vb_build_batch(&R->o, &R->ds); /* as bench_build */
  if (vb_insert_rows(db8, &R->ds, R->ds.n, batch, 1) != R->first_id)
    vb_fail("the int8 store's ids differ from the default store's");
  CHECK(valori_searcher_create(db8, &s8));
  for (size_t e = 0; e < R->o.nef; e++) {
    valori_search_params p = {R->o.k, R->o.efs[e], VALORI_SEARCH_HNSW, 0, NULL};
    double t[2][64], c[2][64], med[2], cpu[2], rec[2];
    int runs = R->o.runs > 64 ? 64 : R->o.runs;
    for (int r = 0; r < runs; r++)
      for (int v = 0; v < 2; v++) {
        t[v][r] = timed_pass(R, v ? db8 : R->db, v ? s8 : R->s, nq, &p, 0, &c[v][r]);
        if (r == runs - 1) rec[v] = mean_recall(R, &R->ds.gt, nq);
      }
    for (int v = 0; v < 2; v++) {
      med[v] = bench_median(t[v], (size_t)runs);
      cpu[v] = bench_median(c[v], (size_t)runs);
      bench_json_head(R->head, sizeof R->head, v ? &o8 : &R->o, &R->ds, "valori", "search");
      bench_emit("%s,\"ef\":%u,\"k\":%u,\"qps\":%.1f,\"recall\":%.5f,\"runs\":%d,\"median_s\":%.4f,"
                 "\"cpu_s\":%.4f,\"ab\":true}\n", R->head, R->o.efs[e], R->o.k, (double)nq / med[v], rec[v], runs,
                 med[v], cpu[v]);
    }
    fprintf(stderr, "  ef %4u: recall@%u %.4f / int8 %.4f, %8.0f / int8 %8.0f QPS (x%.2f; per CPU-second x%.2f)\n",
            R->o.efs[e], R->o.k, rec[0], rec[1], (double)nq / med[0], (double)nq / med[1], med[0] / med[1],
            cpu[0] / cpu[1]);
  }
  valori_searcher_free(s8);
  CHECK(valori_close(db8));
}

static void bench_search(run *R) {
  const size_t nq = R->ds.nq;
  if (!strcmp(R->o.traversal, "ab")) {
    bench_search_ab(R);
    return;
  }
  for (size_t e = 0; e < R->o.nef; e++) {
    valori_search_params p = {R->o.k, R->o.efs[e], VALORI_SEARCH_HNSW, 0, NULL};
    double cpu, med = timed_queries(R, nq, &p, 0, &cpu);
    double rec = mean_recall(R, &R->ds.gt, nq);
    fprintf(stderr, "  ef %4u: recall@%u %.4f, %8.0f QPS\n", R->o.efs[e], R->o.k, rec, (double)nq / med);
    bench_json_head(R->head, sizeof R->head, &R->o, &R->ds, "valori", "search");
    bench_emit("%s,\"ef\":%u,\"k\":%u,\"qps\":%.1f,\"recall\":%.5f,\"runs\":%d,\"median_s\":%.4f,"
               "\"cpu_s\":%.4f}\n", R->head, R->o.efs[e], R->o.k, (double)nq / med, rec, R->o.runs, med, cpu);
  }
}

static void bench_exact(run *R) {
  size_t eq = R->o.exact_nq && R->o.exact_nq < R->ds.nq ? R->o.exact_nq : R->ds.nq;
  valori_search_params p = {R->o.k, 0, VALORI_SEARCH_EXACT, 0, NULL};
  double cpu, med = timed_queries(R, eq, &p, 0, &cpu);
  double rec = mean_recall(R, &R->ds.gt, eq);
  fprintf(stderr, "  exact: recall@%u %.5f, %.1f QPS over %zu queries\n", R->o.k, rec, (double)eq / med, eq);
  bench_json_head(R->head, sizeof R->head, &R->o, &R->ds, "valori", "exact");
  bench_emit("%s,\"k\":%u,\"exact_nq\":%zu,\"qps\":%.2f,\"recall\":%.5f,\"runs\":%d,\"median_s\":%.4f,"
             "\"cpu_s\":%.4f}\n", R->head, R->o.k, eq, (double)eq / med, rec, R->o.runs, med, cpu);
}

static void bench_filter(run *R) {
  static const struct { uint32_t mode; const char *name; } modes[2] = {
      {VALORI_SEARCH_AUTO, "auto"}, {VALORI_SEARCH_HNSW, "hnsw"}};
  for (size_t si = 0; si < R->o.nsel; si++) {
    uint32_t m, *subset = NULL;
    size_t nsub = 0;
    bench_gt fgt;
    uint64_t tags[4];
    bench_sel_modulus(R->o.sels[si], &m);
    size_t ntags = bench_tag_set(m, tags);
    if (bench_filter_gt(&R->ds, m, R->o.filter_nq, R->o.k, R->o.cache_dir, R->o.threads, &subset,
                        &nsub, &fgt))
      exit(1);
    const size_t fq = fgt.nq, want = nsub < R->o.k ? nsub : R->o.k;
    for (int mi = 0; mi < 2; mi++)
      for (size_t e = 0; e < R->o.nfef; e++) {
        valori_search_params p = {R->o.k, R->o.filter_efs[e], modes[mi].mode, (uint32_t)ntags, tags};
        double cpu, med = timed_queries(R, fq, &p, m, &cpu);
        size_t returned = 0, short_q = 0, minret = R->o.k;
        for (size_t q = 0; q < fq; q++) {
          returned += R->nres[q];
          short_q += R->nres[q] < want;
          if (R->nres[q] < minret) minret = R->nres[q];
        }
        if (modes[mi].mode == VALORI_SEARCH_AUTO && short_q)
          vb_fail("filtered AUTO search returned fewer than min(k, matching) results");
        double rec = mean_recall(R, &fgt, fq);
        fprintf(stderr, "  filter 1/%-4u (%zu match) %s ef %u: recall@%u %.4f, %.2f returned, %8.0f QPS\n",
                m, nsub, modes[mi].name, R->o.filter_efs[e], R->o.k, rec, (double)returned / (double)fq,
                (double)fq / med);
        bench_json_head(R->head, sizeof R->head, &R->o, &R->ds, "valori", "filter");
        bench_emit("%s,\"variant\":\"%s\",\"selectivity\":%g,\"modulus\":%u,\"matching\":%zu,\"ef\":%u,"
                   "\"k\":%u,\"filter_nq\":%zu,\"qps\":%.1f,\"recall\":%.5f,\"avg_returned\":%.3f,"
                   "\"min_returned\":%zu,\"short_queries\":%zu,\"violations\":0,\"runs\":%d,\"median_s\":%.4f,"
                   "\"cpu_s\":%.4f}\n", R->head, modes[mi].name, 1.0 / m, m, nsub, R->o.filter_efs[e], R->o.k,
                   fq, (double)fq / med, rec, (double)returned / (double)fq, minret, short_q, R->o.runs, med, cpu);
      }
    bench_gt_free(&fgt);
    free(subset);
  }
}

static void bench_ingest(run *R) {
  static const size_t batches[] = {0, 100, 1000, 10000}; /* 0 = one valori_insert per record */
  size_t n = R->o.ingest_n < R->ds.n ? R->o.ingest_n : R->ds.n;
  if (n == 0) return;
  for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
    if (batches[b] > n) continue;
    double t0 = bench_now();
    valori_db *db = open_db(R);
    vb_insert_rows(db, &R->ds, n, batches[b], 0);
    double el = bench_now() - t0;
    CHECK(valori_close(db));
    fprintf(stderr, "  ingest %zu records, %s %zu: %.0f records/s\n", n, batches[b] ? "batch" : "single",
            batches[b] ? batches[b] : 1, (double)n / el);
    bench_json_head(R->head, sizeof R->head, &R->o, &R->ds, "valori", "ingest");
    bench_emit("%s,\"records\":%zu,\"batch\":%zu,\"api\":\"%s\",\"seconds\":%.4f,\"records_per_s\":%.1f,"
               "\"storage\":\"memory\"}\n", R->head, n, batches[b] ? batches[b] : 1,
               batches[b] ? "valori_insert_batch" : "valori_insert", el, (double)n / el);
  }
}

/* Snapshot save and load of db (whose base row 0 has id R->first_id), median of --runs each; the
** loaded copy must have the same state root and index digest and answer the first 100 queries hit
** for hit (mode HNSW for an HNSW database, EXACT for an index-less one). */
static void snapshot_one(run *R, valori_db *db, uint32_t index) {
  uint8_t *buf = NULL, root_a[32], root_b[32], dig_a[32], dig_b[32];
  size_t len = 0;
  valori_db *db2 = NULL;
  valori_searcher *s1 = NULL, *s2 = NULL;
  double ts[64], tl[64];
  int runs = R->o.runs > 64 ? 64 : R->o.runs;
  for (int r = 0; r < runs; r++) {
    if (buf) valori_buffer_free(db, buf, len);
    if (db2) CHECK(valori_close(db2));
    double t0 = bench_now();
    CHECK(valori_snapshot_save(db, &buf, &len));
    ts[r] = bench_now() - t0;
    t0 = bench_now();
    CHECK(valori_snapshot_load(buf, len, NULL, &db2));
    tl[r] = bench_now() - t0;
  }
  double save_s = bench_median(ts, (size_t)runs), load_s = bench_median(tl, (size_t)runs);
  CHECK(valori_state_root(db, root_a));
  CHECK(valori_state_root(db2, root_b));
  CHECK(valori_index_digest(db, dig_a));
  CHECK(valori_index_digest(db2, dig_b));
  if (memcmp(root_a, root_b, 32)) vb_fail("snapshot reload changed the state root");
  if (memcmp(dig_a, dig_b, 32)) vb_fail("snapshot reload changed the index digest");
  /* Same answers from the copy, hit for hit. */
  CHECK(valori_searcher_create(db, &s1));
  CHECK(valori_searcher_create(db2, &s2));
  size_t nq = R->ds.nq < 100 ? R->ds.nq : 100;
  valori_hit *h2 = malloc(R->o.k * sizeof *h2);
  if (!h2) vb_die("malloc", VALORI_ENOMEM);
  for (size_t q = 0; q < nq; q++) {
    valori_search_params p = {R->o.k, 64, index == VALORI_INDEX_HNSW ? VALORI_SEARCH_HNSW : VALORI_SEARCH_EXACT, 0,
                              NULL};
    size_t n1 = 0, n2 = 0;
    const float *qv = R->ds.queries + q * R->ds.dim;
    CHECK(valori_search(db, s1, qv, &p, R->hits, &n1));
    CHECK(valori_search(db2, s2, qv, &p, h2, &n2));
    if (n1 != n2 || memcmp(R->hits, h2, n1 * sizeof *h2)) vb_fail("snapshot copy answers differently");
  }
  free(h2);
  valori_searcher_free(s1);
  valori_searcher_free(s2);
  CHECK(valori_close(db2));
  valori_buffer_free(db, buf, len);
  const char *iname = index == VALORI_INDEX_HNSW ? "hnsw" : "none";
  fprintf(stderr, "  snapshot (index %s): %.1f MB (%.0f bytes/record), save %.3f s (%.0f MB/s), load %.3f s (%.0f MB/s), verified\n",
          iname, (double)len / 1e6, (double)len / (double)R->ds.n, save_s, (double)len / 1e6 / save_s, load_s,
          (double)len / 1e6 / load_s);
  bench_json_head(R->head, sizeof R->head, &R->o, &R->ds, "valori", "snapshot");
  bench_emit("%s,\"index\":\"%s\",\"storage\":\"memory\",\"bytes\":%zu,\"bytes_per_record\":%.1f,\"save_s\":%.4f,"
             "\"load_s\":%.4f,\"save_mb_per_s\":%.1f,\"load_mb_per_s\":%.1f,\"runs\":%d,\"verified\":true}\n",
             R->head, iname, len, (double)len / (double)R->ds.n, save_s, load_s, (double)len / 1e6 / save_s,
             (double)len / 1e6 / load_s, runs);
}

static void bench_snapshot(run *R) {
  valori_db *flat;
  snapshot_one(R, R->db, VALORI_INDEX_HNSW);
  /* the same base in an index-less database: no graph to write or to check on load */
  flat = vb_open_mem(&R->o, &R->ds, VALORI_INDEX_NONE);
  if (vb_insert_rows(flat, &R->ds, R->ds.n, 10000, 0) != R->first_id) vb_fail("index-less ids differ");
  snapshot_one(R, flat, VALORI_INDEX_NONE);
  CHECK(valori_close(flat));
}

int main(int argc, char **argv) {
  static run R;
  if (bench_opts_parse(argc, argv, &R.o, "valori_bench")) return 2;
  fprintf(stderr, "valori_bench: %s, M=%u efc=%u (Valori %s)\n", R.o.dataset, R.o.M, R.o.efc,
          VALORI_VERSION_STRING);
  if (R.o.k > VALORI_MAX_K) vb_fail("k above VALORI_MAX_K");
  if (bench_dataset_load(R.o.dataset, R.o.src_dir, R.o.n, R.o.nq, R.o.cache_dir, R.o.threads, &R.ds)) return 1;
  R.hits = malloc(R.o.k * sizeof *R.hits);
  R.ids = malloc(R.ds.nq * R.o.k * sizeof *R.ids);
  R.nres = malloc(R.ds.nq * sizeof *R.nres);
  if (!R.hits || !R.ids || !R.nres) vb_die("malloc", VALORI_ENOMEM);

  bench_json_head(R.head, sizeof R.head, &R.o, &R.ds, "valori", "meta");
  bench_emit("%s,\"version\":\"%s\",\"compiler\":\"%s\",\"flags\":\"%s\",\"core_flags\":\"%s\",\"threads\":1}\n",
             R.head, VALORI_VERSION_STRING,
#ifdef __VERSION__
             "gcc/clang " __VERSION__,
#else
             "unknown",
#endif
             BENCH_C_FLAGS, BENCH_CORE_FLAGS);

  bench_build(&R);
  if (R.o.tests & BENCH_T_CHECK) bench_check(&R);
  if (R.o.tests & BENCH_T_SEARCH) bench_search(&R);
  if (R.o.tests & BENCH_T_FILTER) bench_filter(&R);
  if (R.o.tests & BENCH_T_EXACT) bench_exact(&R);
  if (R.o.tests & BENCH_T_SNAPSHOT) bench_snapshot(&R);
  if (R.o.tests & BENCH_T_INGEST) bench_ingest(&R);
  if (R.o.tests & BENCH_T_APPEND) vb_append(&R.o, &R.ds);
  if (R.o.tests & BENCH_T_DURABLE) vb_durable(&R.o, &R.ds);

  valori_searcher_free(R.s);
  CHECK(valori_close(R.db));
  free(R.hits), free(R.ids), free(R.nres);
  bench_dataset_free(&R.ds);
  fprintf(stderr, "valori_bench: done\n");
  return 0;
}
