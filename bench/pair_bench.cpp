/*
** pair_bench.cpp: Valori and hnswlib searched in ONE process, their timed passes alternating
** (issue 15 goal 1, "search QPS at recall@10 0.95 and 0.99 >= 1.0x hnswlib").
**
** Why: hnswlib_bench and valori_bench run as separate processes minutes apart, and on a shared
** machine the same binary's QPS moves 20-30% between such runs, which is as large as the ratio being
** measured. Here the dataset is loaded once (bench/data.h), both indexes are built from the same
** float32 rows with the same M and ef_construction (hnswlib::HierarchicalNSW<float> with
** hnswlib_bench's parameters; a Valori in-memory store through the public API, batches as
** valori_bench builds them, valori_store.c), and then for each ef there are --runs rounds, each
** round one timed pass of all nq queries per engine, the order swapped every round (Valori first in
** even rounds, hnswlib first in odd ones: V H H V V H ...), so that slow drift of the machine falls
** on both engines alike. Per engine and ef: the median wall seconds and median CPU seconds of its
** passes, and tie-aware recall@k (bench_recall) of its last pass.
**
** Each timed pass is what the engine's own driver times: valori_search plus the API-contract check
** of the hits (vb_check_hits, as valori_bench), hnswlib's searchKnn plus copying the labels out (as
** hnswlib_bench). Build time and memory are not reported here (the per-engine drivers measure them).
**
** Output (common.h): one "meta" line (engine "pair"), then per ef one "search" line for "valori" and
** one for "hnswlib" with the keys of the drivers' search lines plus "paired":true, "min_s" and
** "max_s" (the fastest and slowest pass); stderr shows per-ef QPS, the ratio Valori/hnswlib of the
** medians, and the range of the per-round ratios. Only --tests search applies; the other options
** are those of the drivers (n, nq, M, efc, k, ef, runs, batch, threads for ground truth).
*/
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "common.h"
#include "data.h"
#include "valori_bench.h"

#ifndef BENCH_CXX_FLAGS
#define BENCH_CXX_FLAGS "unknown"
#endif

typedef hnswlib::HierarchicalNSW<float> Hnsw;

/* The results of one engine's pass: k slots per query, how many were returned. */
struct Results {
  std::vector<uint32_t> ids;
  std::vector<size_t> nres;
  Results(size_t nq, size_t k) : ids(nq * k), nres(nq) {}
};

struct Pass {
  double wall, cpu;
};

static Pass valori_pass(const valori_db *db, valori_searcher *s, const bench_dataset &ds, uint64_t first_id,
                        const valori_search_params &p, std::vector<valori_hit> &hits, Results &out) {
  const size_t k = p.k;
  double ts = bench_now(), cs = bench_cpu_now();
  for (size_t q = 0; q < ds.nq; q++) {
    size_t n = 0;
    CHECK(valori_search(db, s, ds.queries + q * ds.dim, &p, hits.data(), &n));
    vb_check_hits(hits.data(), n, k, first_id, ds.n, 0, out.ids.data() + q * k);
    out.nres[q] = n;
  }
  double cpu = bench_cpu_now() - cs;
  return Pass{bench_now() - ts, cpu};
}

static Pass hnswlib_pass(const Hnsw &h, const bench_dataset &ds, size_t k, Results &out) {
  double ts = bench_now(), cs = bench_cpu_now();
  for (size_t q = 0; q < ds.nq; q++) {
    auto pq = h.searchKnn(ds.queries + q * ds.dim, k);
    uint32_t *ids = out.ids.data() + q * k;
    out.nres[q] = pq.size();
    for (size_t i = pq.size(); i-- > 0; pq.pop()) ids[i] = (uint32_t)pq.top().second;
  }
  double cpu = bench_cpu_now() - cs;
  return Pass{bench_now() - ts, cpu};
}

static double mean_recall(const bench_dataset &ds, size_t k, const Results &r) {
  double s = 0;
  for (size_t q = 0; q < ds.nq; q++)
    s += bench_recall(&ds.gt, q, k, ds.base, ds.queries + q * ds.dim, ds.dim, ds.metric, r.ids.data() + q * k,
                      r.nres[q]);
  return ds.nq ? s / (double)ds.nq : 0;
}

/* Median of a copy (bench_median sorts in place, and the pass order is still needed afterwards). */
static double median_of(std::vector<double> v) { return bench_median(v.data(), v.size()); }

int main(int argc, char **argv) {
  bench_opts o;
  bench_dataset ds;
  char head[1024];
  vb_prog = "pair_bench";
  if (bench_opts_parse(argc, argv, &o, "pair_bench")) return 2;
  if (!(o.tests & BENCH_T_SEARCH)) {
    fprintf(stderr, "pair_bench: only the search measurement exists here (--tests search)\n");
    return 2;
  }
  if (o.k == 0 || o.k > VALORI_MAX_K) {
    fprintf(stderr, "pair_bench: --k must be in 1..%u\n", (unsigned)VALORI_MAX_K);
    return 2;
  }
  if (o.runs < 2) {
    fprintf(stderr, "pair_bench: --runs must be at least 2 (the order of the engines alternates by round)\n");
    return 2;
  }
  fprintf(stderr, "pair_bench: %s, M=%u efc=%u, Valori %s and hnswlib 0.6.2 in one process\n", o.dataset, o.M,
          o.efc, VALORI_VERSION_STRING);
  if (bench_dataset_load(o.dataset, o.src_dir, o.n, o.nq, o.cache_dir, o.threads, &ds)) return 1;
  const size_t n = ds.n, nq = ds.nq, dim = ds.dim, k = o.k;

  bench_json_head(head, sizeof head, &o, &ds, "pair", "meta");
  bench_emit("%s,\"version\":\"Valori %s + hnswlib 0.6.2 (Debian libhnswlib-dev)\",\"compiler\":\"g++ %s\","
             "\"flags\":\"%s\",\"threads\":1,\"paired\":true}\n",
             head, VALORI_VERSION_STRING, __VERSION__, BENCH_CXX_FLAGS);

  /* ---- the two indexes over the same rows */
  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
  if (ds.metric == BENCH_IP) space.reset(new hnswlib::InnerProductSpace(dim));
  else space.reset(new hnswlib::L2Space(dim));
  double t0 = bench_now();
  std::unique_ptr<Hnsw> h(new Hnsw(space.get(), n, o.M, o.efc, 100)); /* hnswlib_bench's parameters */
  for (size_t i = 0; i < n; i++) h->addPoint(ds.base + i * dim, (hnswlib::labeltype)i);
  fprintf(stderr, "  hnswlib build: %.2f s\n", bench_now() - t0);
  t0 = bench_now();
  valori_db *db = vb_open_mem(&o, &ds, VALORI_INDEX_HNSW);
  uint64_t first_id = vb_insert_rows(db, &ds, n, vb_build_batch(&o, &ds), 1);
  valori_searcher *s = NULL;
  CHECK(valori_searcher_create(db, &s));
  fprintf(stderr, "  valori build: %.2f s\n", bench_now() - t0);

  /* ---- per ef: rounds of one pass per engine, the order swapped every round */
  Results rv(nq, k), rh(nq, k);
  std::vector<valori_hit> hits(k);
  for (size_t e = 0; e < o.nef; e++) {
    const uint32_t ef = o.efs[e];
    valori_search_params p = {(uint32_t)k, ef, VALORI_SEARCH_HNSW, 0, NULL};
    h->setEf(ef);
    std::vector<double> tv, cv, th, ch, round_ratio;
    for (int r = 0; r < o.runs; r++) {
      Pass pv, ph;
      if (r % 2 == 0) {
        pv = valori_pass(db, s, ds, first_id, p, hits, rv);
        ph = hnswlib_pass(*h, ds, k, rh);
      } else {
        ph = hnswlib_pass(*h, ds, k, rh);
        pv = valori_pass(db, s, ds, first_id, p, hits, rv);
      }
      tv.push_back(pv.wall), cv.push_back(pv.cpu), th.push_back(ph.wall), ch.push_back(ph.cpu);
      round_ratio.push_back(ph.wall / pv.wall); /* Valori QPS / hnswlib QPS within the round */
    }
    const double rec_v = mean_recall(ds, k, rv), rec_h = mean_recall(ds, k, rh);
    const double mv = median_of(tv), mh = median_of(th), cmv = median_of(cv), cmh = median_of(ch);
    const struct {
      const char *engine;
      double med, cpu, rec, lo, hi;
    } out[2] = {{"valori", mv, cmv, rec_v, *std::min_element(tv.begin(), tv.end()), *std::max_element(tv.begin(), tv.end())},
                {"hnswlib", mh, cmh, rec_h, *std::min_element(th.begin(), th.end()), *std::max_element(th.begin(), th.end())}};
    for (const auto &x : out) {
      bench_json_head(head, sizeof head, &o, &ds, x.engine, "search");
      bench_emit("%s,\"ef\":%u,\"k\":%zu,\"qps\":%.1f,\"recall\":%.5f,\"runs\":%d,\"median_s\":%.4f,"
                 "\"cpu_s\":%.4f,\"min_s\":%.4f,\"max_s\":%.4f,\"paired\":true}\n",
                 head, ef, k, (double)nq / x.med, x.rec, o.runs, x.med, x.cpu, x.lo, x.hi);
    }
    fprintf(stderr,
            "  ef %4u: valori recall@%zu %.4f %8.0f QPS | hnswlib %.4f %8.0f QPS | ratio V/h %.3f "
            "(rounds %.3f..%.3f; per CPU-second %.3f)\n",
            ef, k, rec_v, (double)nq / mv, rec_h, (double)nq / mh, mh / mv,
            *std::min_element(round_ratio.begin(), round_ratio.end()),
            *std::max_element(round_ratio.begin(), round_ratio.end()), cmh / cmv);
  }

  valori_searcher_free(s);
  CHECK(valori_close(db));
  h.reset();
  bench_dataset_free(&ds);
  fprintf(stderr, "pair_bench: done\n");
  return 0;
}
