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
** hnswlib_bench).
**
** --traversal int8 adds a third engine, a Valori store with the int8 compact traversal copy over the
** data's range (valori_store.c, as valori_bench --traversal int8), in the same rounds (V H I, then
** I H V, ...): goal 2's ratio from the same process. Its rows carry "traversal":"int8". Each index
** is built once, one after the other (hnswlib, Valori, the int8 store); their "build" rows (paired,
** build_s, cpu_s, vectors_per_s) put the build times of one process side by side (memory is
** measured by the per-engine drivers, whose processes hold one index each).
**
** Output (common.h): one "meta" line (engine "pair"), then per ef one "search" line for "valori" and
** one for "hnswlib" with the keys of the drivers' search lines plus "paired":true, "min_s" and
** "max_s" (the fastest and slowest pass); stderr shows per-ef QPS, the ratio Valori/hnswlib of the
** medians, and the range of the per-round ratios. Only --tests search applies; the other options
** are those of the drivers (n, nq, M, efc, k, ef, runs, batch, threads for ground truth).
*/
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cstring>
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

/* A Valori in-memory store built from the dataset's rows, timed. */
struct Store {
  valori_db *db;
  valori_searcher *s;
  uint64_t first_id;
  Pass build;
};
static Store build_store(const bench_opts &o, const bench_dataset &ds) {
  Store st{};
  double t0 = bench_now(), c0 = bench_cpu_now();
  st.db = vb_open_mem(&o, &ds, VALORI_INDEX_HNSW);
  st.first_id = vb_insert_rows(st.db, &ds, ds.n, vb_build_batch(&o, &ds), 1);
  st.build = Pass{bench_now() - t0, bench_cpu_now() - c0};
  CHECK(valori_searcher_create(st.db, &st.s));
  return st;
}
static void free_store(Store &st) {
  valori_searcher_free(st.s);
  CHECK(valori_close(st.db));
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
  double t0 = bench_now(), c0 = bench_cpu_now();
  std::unique_ptr<Hnsw> h(new Hnsw(space.get(), n, o.M, o.efc, 100)); /* hnswlib_bench's parameters */
  for (size_t i = 0; i < n; i++) h->addPoint(ds.base + i * dim, (hnswlib::labeltype)i);
  Pass bh{bench_now() - t0, bench_cpu_now() - c0};
  fprintf(stderr, "  hnswlib build: %.2f s\n", bh.wall);
  bench_opts o0 = o, o8 = o;
  o0.traversal = "none"; /* the default store; o8 the int8 one (when asked) */
  o8.traversal = "int8";
  const bool int8 = !strcmp(o.traversal, "int8");
  Store sv = build_store(o0, ds), s8 = int8 ? build_store(o8, ds) : Store{};
  fprintf(stderr, "  valori build: %.2f s\n", sv.build.wall);
  if (int8) {
    fprintf(stderr, "  valori int8 build: %.2f s\n", s8.build.wall);
    if (s8.first_id != sv.first_id) vb_fail("the int8 store's ids differ from the default store's");
  }
  const struct {
    const char *engine;
    const bench_opts *opt;
    Pass b;
  } builds[3] = {{"hnswlib", &o0, bh}, {"valori", &o0, sv.build}, {"valori", &o8, s8.build}};
  for (int b = 0; b < (int8 ? 3 : 2); b++) {
    bench_json_head(head, sizeof head, builds[b].opt, &ds, builds[b].engine, "build");
    bench_emit("%s,\"build_s\":%.4f,\"cpu_s\":%.4f,\"vectors_per_s\":%.1f,\"paired\":true}\n", head, builds[b].b.wall,
               builds[b].b.cpu, (double)n / builds[b].b.wall);
  }
  valori_db *db = sv.db;
  valori_searcher *s = sv.s;
  const uint64_t first_id = sv.first_id;

  /* ---- per ef: rounds of one pass per engine, the order swapped every round */
  Results rv(nq, k), rh(nq, k), r8(nq, k);
  std::vector<valori_hit> hits(k);
  bench_perf_mark(1); /* bench/search_profile.py samples the search rounds only */
  for (size_t e = 0; e < o.nef; e++) {
    const uint32_t ef = o.efs[e];
    valori_search_params p = {(uint32_t)k, ef, VALORI_SEARCH_HNSW, 0, NULL};
    h->setEf(ef);
    std::vector<double> tv, cv, th, ch, t8, c8, round_ratio;
    for (int r = 0; r < o.runs; r++) {
      Pass pv, ph, p8{0, 0};
      if (r % 2 == 0) {
        pv = valori_pass(db, s, ds, first_id, p, hits, rv);
        ph = hnswlib_pass(*h, ds, k, rh);
        if (int8) p8 = valori_pass(s8.db, s8.s, ds, first_id, p, hits, r8);
      } else {
        if (int8) p8 = valori_pass(s8.db, s8.s, ds, first_id, p, hits, r8);
        ph = hnswlib_pass(*h, ds, k, rh);
        pv = valori_pass(db, s, ds, first_id, p, hits, rv);
      }
      tv.push_back(pv.wall), cv.push_back(pv.cpu), th.push_back(ph.wall), ch.push_back(ph.cpu);
      t8.push_back(p8.wall), c8.push_back(p8.cpu);
      round_ratio.push_back(ph.wall / pv.wall); /* Valori QPS / hnswlib QPS within the round */
    }
    const double rec_v = mean_recall(ds, k, rv), rec_h = mean_recall(ds, k, rh);
    const double mv = median_of(tv), mh = median_of(th), cmv = median_of(cv), cmh = median_of(ch);
    const double rec_8 = int8 ? mean_recall(ds, k, r8) : 0, m8 = median_of(t8), cm8 = median_of(c8);
    const struct {
      const char *engine;
      const bench_opts *opt;
      double med, cpu, rec, lo, hi;
    } out[3] = {{"valori", &o0, mv, cmv, rec_v, *std::min_element(tv.begin(), tv.end()), *std::max_element(tv.begin(), tv.end())},
                {"hnswlib", &o0, mh, cmh, rec_h, *std::min_element(th.begin(), th.end()), *std::max_element(th.begin(), th.end())},
                {"valori", &o8, m8, cm8, rec_8, *std::min_element(t8.begin(), t8.end()), *std::max_element(t8.begin(), t8.end())}};
    for (int x_i = 0; x_i < (int8 ? 3 : 2); x_i++) {
      const auto &x = out[x_i];
      bench_json_head(head, sizeof head, x.opt, &ds, x.engine, "search");
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
    if (int8)
      fprintf(stderr, "           valori int8 recall@%zu %.4f %8.0f QPS | ratio int8/h %.3f (per CPU-second %.3f)\n", k,
              rec_8, (double)nq / m8, mh / m8, cmh / cm8);
  }

  bench_perf_mark(0);
  free_store(sv);
  if (int8) free_store(s8);
  h.reset();
  bench_dataset_free(&ds);
  fprintf(stderr, "pair_bench: done\n");
  return 0;
}
