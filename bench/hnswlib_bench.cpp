/*
** hnswlib_bench.cpp: the hnswlib peer. Builds hnswlib::HierarchicalNSW<float> (Debian's
** libhnswlib-dev, header only) over a benchmark dataset on one thread with the same M and
** ef_construction as Valori, and measures what bench/valori_bench.c measures for Valori: build
** throughput and memory, recall@k / QPS over a list of ef values, filtered search by selectivity,
** and exact search with hnswlib's float brute force (BruteforceSearch, same SIMD distance). It also
** times hnswlib's distance function for the kernel table. Output: JSON lines on stdout (see
** common.h); progress on stderr.
**
** Filtered search: hnswlib added filtering (BaseFilterFunctor, an isIdAllowed argument to
** searchKnn) in 0.7.0, but Debian 12 ships 0.6.2. filtered_knn below reimplements the 0.7 filtered
** search over the 0.6.2 index, whose members are public: the upper layers are descended without a
** filter exactly like searchKnn, and the base layer runs the 0.7 searchBaseLayerST with a filter:
** every visited node is expanded, only allowed nodes enter the result heap, and the search stops
** only when the heap holds ef allowed nodes and the closest candidate is farther than its worst.
** A filter that keeps few nodes therefore degrades into a traversal of the whole connected graph,
** which is exactly how the upstream functor behaves.
*/
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <vector>

#include "common.h"
#include "data.h"

#ifndef BENCH_CXX_FLAGS
#define BENCH_CXX_FLAGS "unknown"
#endif

typedef hnswlib::HierarchicalNSW<float> Hnsw;
typedef std::pair<float, hnswlib::tableint> DistId;

/* The 1/m tag filter of common.h as an hnswlib-style functor on external labels (= base index). */
struct TagFilter {
  uint32_t m;
  bool operator()(hnswlib::labeltype label) const { return bench_tag_allowed(label, m) != 0; }
};

/* Unfiltered search through hnswlib's own searchKnn; result labels nearest first. */
static void knn(const Hnsw &h, const float *q, size_t k, std::vector<uint32_t> &out) {
  auto pq = h.searchKnn(q, k);
  out.resize(pq.size());
  for (size_t i = pq.size(); i-- > 0; pq.pop()) out[i] = (uint32_t)pq.top().second;
}

/* hnswlib 0.7's filtered search over a 0.6.2 index (see the header comment). */
static void filtered_knn(const Hnsw &h, const float *q, size_t k, size_t ef, const TagFilter &allow,
                         std::vector<uint32_t> &out) {
  out.clear();
  if (h.cur_element_count == 0) return;
  hnswlib::tableint cur = h.enterpoint_node_;
  float curdist = h.fstdistfunc_(q, h.getDataByInternalId(cur), h.dist_func_param_);
  for (int level = h.maxlevel_; level > 0; level--) {
    bool changed = true;
    while (changed) {
      changed = false;
      unsigned int *data = (unsigned int *)h.get_linklist(cur, level);
      int size = h.getListCount(data);
      hnswlib::tableint *cand = (hnswlib::tableint *)(data + 1);
      for (int i = 0; i < size; i++) {
        float d = h.fstdistfunc_(q, h.getDataByInternalId(cand[i]), h.dist_func_param_);
        if (d < curdist) curdist = d, cur = cand[i], changed = true;
      }
    }
  }
  ef = std::max(ef, k);
  hnswlib::VisitedList *vl = h.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type *visited = vl->mass, tag = vl->curV;
  std::priority_queue<DistId, std::vector<DistId>, Hnsw::CompareByFirst> top, cands;
  float lower;
  if (allow(h.getExternalLabel(cur))) {
    lower = curdist;
    top.emplace(curdist, cur);
    cands.emplace(-curdist, cur);
  } else {
    lower = std::numeric_limits<float>::max();
    cands.emplace(-lower, cur);
  }
  visited[cur] = tag;
  while (!cands.empty()) {
    DistId c = cands.top();
    if (-c.first > lower && top.size() == ef) break;
    cands.pop();
    int *data = (int *)h.get_linklist0(c.second);
    size_t size = h.getListCount((hnswlib::linklistsizeint *)data);
    for (size_t j = 1; j <= size; j++) {
      int id = data[j];
      if (visited[id] == tag) continue;
      visited[id] = tag;
      float d = h.fstdistfunc_(q, h.getDataByInternalId(id), h.dist_func_param_);
      if (top.size() < ef || lower > d) {
        cands.emplace(-d, id);
        if (allow(h.getExternalLabel(id))) top.emplace(d, id);
        if (top.size() > ef) top.pop();
        if (!top.empty()) lower = top.top().first;
      }
    }
  }
  h.visited_list_pool_->releaseVisitedList(vl);
  while (top.size() > k) top.pop();
  out.resize(top.size());
  for (size_t i = top.size(); i-- > 0; top.pop()) out[i] = (uint32_t)h.getExternalLabel(top.top().second);
}

/* Memory held by the index, counted from its own parameters (hnswlib has no accounting call). */
struct HnswMem {
  uint64_t vectors, graph, other, total;
};
static HnswMem hnsw_memory(const Hnsw &h) {
  HnswMem m;
  uint64_t cur = h.cur_element_count, maxe = h.max_elements_;
  uint64_t upper = 0;
  for (uint64_t i = 0; i < cur; i++) upper += (uint64_t)h.element_levels_[i] * h.size_links_per_element_;
  m.vectors = cur * h.data_size_;
  /* level 0 block: per element [links | vector | label]; upper levels: separate malloc per node */
  m.graph = maxe * h.size_links_level0_ + upper;
  uint64_t level0_rest = maxe * h.size_data_per_element_ - maxe * h.size_links_level0_ - cur * h.data_size_;
  /* label_lookup_ (unordered_map node ~ next pointer + key + value, plus one bucket pointer),
  ** linkLists_ pointers, element_levels_, per-element and update mutexes, one visited list. */
  uint64_t lookup = cur * (sizeof(void *) + sizeof(hnswlib::labeltype) + sizeof(hnswlib::tableint) + 4) +
                    h.label_lookup_.bucket_count() * sizeof(void *);
  m.other = level0_rest + lookup + maxe * sizeof(void *) + maxe * sizeof(int) +
            (maxe + Hnsw::max_update_element_locks) * sizeof(std::mutex) + maxe * sizeof(hnswlib::vl_type);
  m.total = m.vectors + m.graph + m.other;
  return m;
}

static double mean_recall(const bench_dataset &ds, const bench_gt &gt, size_t k,
                          const std::vector<std::vector<uint32_t>> &res) {
  double s = 0;
  for (size_t q = 0; q < res.size(); q++)
    s += bench_recall(&gt, q, k, ds.base, ds.queries + q * ds.dim, ds.dim, ds.metric, res[q].data(),
                      res[q].size());
  return res.empty() ? 0 : s / (double)res.size();
}

int main(int argc, char **argv) {
  bench_opts o;
  bench_dataset ds;
  char head[1024];
  if (bench_opts_parse(argc, argv, &o, "hnswlib_bench")) return 2;
  fprintf(stderr, "hnswlib_bench: %s, M=%u efc=%u\n", o.dataset, o.M, o.efc);
  if (bench_dataset_load(o.dataset, o.src_dir, o.n, o.nq, o.cache_dir, o.threads, &ds)) return 1;
  const size_t n = ds.n, nq = ds.nq, dim = ds.dim, k = o.k;

  bench_json_head(head, sizeof head, &o, &ds, "hnswlib", "meta");
  bench_emit("%s,\"version\":\"0.6.2 (Debian libhnswlib-dev)\",\"compiler\":\"g++ %s\",\"flags\":\"%s\","
             "\"threads\":1}\n", head, __VERSION__, BENCH_CXX_FLAGS);

  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
  if (ds.metric == BENCH_IP) space.reset(new hnswlib::InnerProductSpace(dim));
  else space.reset(new hnswlib::L2Space(dim));

  /* ---- build */
  bench_rss_peak_reset();
  uint64_t rss0 = bench_rss_bytes();
  double t0 = bench_now(), tp = t0, c0 = bench_cpu_now();
  std::unique_ptr<Hnsw> h(new Hnsw(space.get(), n, o.M, o.efc, 100));
  for (size_t i = 0; i < n; i++) {
    h->addPoint(ds.base + i * dim, (hnswlib::labeltype)i);
    if ((i & 1023) == 1023 && bench_now() - tp > 5.0) {
      tp = bench_now();
      fprintf(stderr, "  build %zu/%zu (%.0f vectors/s)\n", i + 1, n, (double)(i + 1) / (tp - t0));
    }
  }
  double build_s = bench_now() - t0, build_cpu_s = bench_cpu_now() - c0;
  uint64_t rss_delta = bench_rss_bytes() - rss0, peak = bench_rss_peak_bytes();
  uint64_t peak_delta = peak > rss0 ? peak - rss0 : 0;
  HnswMem mem = hnsw_memory(*h);
  fprintf(stderr, "  build: %.2f s, %.0f vectors/s, %.0f bytes/vector (rss +%.1f MB, peak +%.1f MB)\n", build_s,
          (double)n / build_s, (double)mem.total / (double)n, (double)rss_delta / 1e6, (double)peak_delta / 1e6);
  bench_json_head(head, sizeof head, &o, &ds, "hnswlib", "build");
  bench_emit("%s,\"build_s\":%.4f,\"cpu_s\":%.4f,\"vectors_per_s\":%.1f,\"vector_bytes\":%llu,\"graph_bytes\":%llu,"
             "\"other_bytes\":%llu,\"total_bytes\":%llu,\"bytes_per_vector\":%.1f,\"rss_delta_bytes\":%llu,"
             "\"peak_rss_delta_bytes\":%llu,\"max_level\":%d}\n",
             head, build_s, build_cpu_s, (double)n / build_s, (unsigned long long)mem.vectors,
             (unsigned long long)mem.graph, (unsigned long long)mem.other, (unsigned long long)mem.total,
             (double)mem.total / (double)n, (unsigned long long)rss_delta, (unsigned long long)peak_delta,
             h->maxlevel_);

  std::vector<std::vector<uint32_t>> res(nq);
  std::vector<double> times((size_t)o.runs), ctimes((size_t)o.runs);

  /* ---- recall / QPS over ef */
  if (o.tests & BENCH_T_SEARCH) {
    for (size_t e = 0; e < o.nef; e++) {
      h->setEf(o.efs[e]);
      for (int r = 0; r < o.runs; r++) {
        double ts = bench_now(), cs = bench_cpu_now();
        for (size_t q = 0; q < nq; q++) knn(*h, ds.queries + q * dim, k, res[q]);
        times[r] = bench_now() - ts, ctimes[r] = bench_cpu_now() - cs;
      }
      double med = bench_median(times.data(), times.size());
      double cmed = bench_median(ctimes.data(), ctimes.size());
      double rec = mean_recall(ds, ds.gt, k, res);
      fprintf(stderr, "  ef %4u: recall@%zu %.4f, %8.0f QPS\n", o.efs[e], k, rec, (double)nq / med);
      bench_json_head(head, sizeof head, &o, &ds, "hnswlib", "search");
      bench_emit("%s,\"ef\":%u,\"k\":%zu,\"qps\":%.1f,\"recall\":%.5f,\"runs\":%d,\"median_s\":%.4f,"
                 "\"cpu_s\":%.4f}\n", head, o.efs[e], k, (double)nq / med, rec, o.runs, med, cmed);
    }
  }

  /* ---- filtered search */
  if (o.tests & BENCH_T_FILTER) {
    for (size_t s = 0; s < o.nsel; s++) {
      uint32_t m, *subset = NULL;
      size_t nsub = 0;
      bench_gt fgt;
      bench_sel_modulus(o.sels[s], &m);
      if (bench_filter_gt(&ds, m, o.filter_nq, k, o.cache_dir, o.threads, &subset, &nsub, &fgt)) return 1;
      const size_t fq = fgt.nq, want = std::min(k, nsub);
      TagFilter f{m};
      for (size_t e = 0; e < o.nfef; e++) {
        std::vector<std::vector<uint32_t>> fres(fq);
        for (int r = 0; r < o.runs; r++) {
          double ts = bench_now(), cs = bench_cpu_now();
          for (size_t q = 0; q < fq; q++) filtered_knn(*h, ds.queries + q * dim, k, o.filter_efs[e], f, fres[q]);
          times[r] = bench_now() - ts, ctimes[r] = bench_cpu_now() - cs;
        }
        double med = bench_median(times.data(), times.size());
        double cmed = bench_median(ctimes.data(), ctimes.size());
        size_t violations = 0, returned = 0, short_q = 0, minret = k;
        for (size_t q = 0; q < fq; q++) {
          std::vector<uint32_t> &v = fres[q];
          size_t before = v.size();
          v.erase(std::remove_if(v.begin(), v.end(), [&](uint32_t id) { return !f(id); }), v.end());
          violations += before - v.size();
          returned += before;
          short_q += before < want;
          minret = std::min(minret, before);
        }
        double rec = mean_recall(ds, fgt, k, fres);
        fprintf(stderr, "  filter 1/%-4u (%zu match) ef %u: recall@%zu %.4f, %.2f returned, %8.0f QPS\n", m,
                nsub, o.filter_efs[e], k, rec, (double)returned / (double)fq, (double)fq / med);
        bench_json_head(head, sizeof head, &o, &ds, "hnswlib", "filter");
        bench_emit("%s,\"variant\":\"functor\",\"selectivity\":%g,\"modulus\":%u,\"matching\":%zu,\"ef\":%u,"
                   "\"k\":%zu,\"filter_nq\":%zu,\"qps\":%.1f,\"recall\":%.5f,\"avg_returned\":%.3f,"
                   "\"min_returned\":%zu,\"short_queries\":%zu,\"violations\":%zu,\"runs\":%d,\"median_s\":%.4f,"
                   "\"cpu_s\":%.4f}\n", head, 1.0 / m, m, nsub, o.filter_efs[e], k, fq, (double)fq / med, rec,
                   (double)returned / (double)fq, minret, short_q, violations, o.runs, med, cmed);
      }
      bench_gt_free(&fgt);
      free(subset);
    }
  }

  /* ---- exact search: hnswlib's float brute force */
  if (o.tests & BENCH_T_EXACT) {
    size_t eq = std::min(o.exact_nq ? o.exact_nq : nq, nq);
    hnswlib::BruteforceSearch<float> bf(space.get(), n);
    for (size_t i = 0; i < n; i++) bf.addPoint(ds.base + i * dim, (hnswlib::labeltype)i);
    std::vector<std::vector<uint32_t>> eres(eq);
    for (int r = 0; r < o.runs; r++) {
      double ts = bench_now(), cs = bench_cpu_now();
      for (size_t q = 0; q < eq; q++) {
        auto pq = bf.searchKnn(ds.queries + q * dim, k);
        eres[q].resize(pq.size());
        for (size_t i = pq.size(); i-- > 0; pq.pop()) eres[q][i] = (uint32_t)pq.top().second;
      }
      times[r] = bench_now() - ts, ctimes[r] = bench_cpu_now() - cs;
    }
    double med = bench_median(times.data(), times.size());
    double cmed = bench_median(ctimes.data(), ctimes.size());
    double rec = mean_recall(ds, ds.gt, k, eres);
    fprintf(stderr, "  exact (float brute force): recall@%zu %.5f, %.1f QPS over %zu queries\n", k, rec,
            (double)eq / med, eq);
    bench_json_head(head, sizeof head, &o, &ds, "bruteforce-float", "exact");
    bench_emit("%s,\"k\":%zu,\"exact_nq\":%zu,\"qps\":%.2f,\"recall\":%.5f,\"runs\":%d,\"median_s\":%.4f,"
               "\"cpu_s\":%.4f}\n", head, k, eq, (double)eq / med, rec, o.runs, med, cmed);
  }

  /* ---- distance kernel: hnswlib's SIMD float function */
  if (o.tests & BENCH_T_KERNEL) {
    auto fn = space->get_dist_func();
    void *param = space->get_dist_func_param();
    const size_t nv = std::min<size_t>(128, n), nqk = std::min<size_t>(16, nq);
    volatile float sink = 0;
    size_t reps = 1;
    double el = 0;
    for (;;) { /* grow until one measurement takes >= 0.2 s */
      double ts = bench_now();
      float acc = 0;
      for (size_t r = 0; r < reps; r++)
        for (size_t q = 0; q < nqk; q++)
          for (size_t v = 0; v < nv; v++) acc += fn(ds.queries + q * dim, ds.base + v * dim, param);
      sink = sink + acc;
      el = bench_now() - ts;
      if (el >= 0.2) break;
      reps *= 2;
    }
    double ns = el * 1e9 / (double)(reps * nqk * nv);
    fprintf(stderr, "  kernel (hnswlib SIMD float %s): %.2f ns/distance\n", ds.metric == BENCH_IP ? "ip" : "l2", ns);
    bench_json_head(head, sizeof head, &o, &ds, "hnswlib", "kernel");
    bench_emit("%s,\"impl\":\"hnswlib-simd-float\",\"kernel_metric\":\"%s\",\"ns_per_distance\":%.3f,"
               "\"ns_per_component\":%.4f}\n", head, ds.metric == BENCH_IP ? "ip" : "l2", ns, ns / (double)dim);
  }

  h.reset();
  bench_dataset_free(&ds);
  fprintf(stderr, "hnswlib_bench: done\n");
  return 0;
}
