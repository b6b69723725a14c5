/*
** prepare.c: bench_prepare, which loads a benchmark dataset, computes (or loads from the cache) its
** exact ground truth plus the filtered ground truth for every selectivity, and then re-checks a few
** queries independently: all distances by a naive loop, a full sort by (distance, index), and a
** comparison with the cached rows. run.sh runs it before the drivers so the expensive part happens
** once, and so a wrong or stale cache is caught before any recall is reported.
** Usage: bench_prepare [driver options]   (only --dataset, --n, --nq, --sel, --filter-nq, --k,
**                                          --threads, --src and --cache matter)
**                      [--export DIR]     after the checks pass, also writes the dataset (float32
**                                          base and queries, ground truth) for bench/js/ to DIR
**                                          (bench_dataset_export in data.h)
*/
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "data.h"

typedef struct pair {
  double d;
  uint32_t i;
} pair;

static int cmp_pair(const void *a, const void *b) {
  const pair *x = a, *y = b;
  if (x->d != y->d) return x->d < y->d ? -1 : 1;
  return (x->i > y->i) - (x->i < y->i); /* total order: qsort's instability cannot matter */
}

/* Naive check of row qi of gt over candidates subset (NULL = all). Returns mismatches. */
static int check_query(const bench_dataset *ds, const bench_gt *gt, size_t qi,
                       const uint32_t *subset, size_t nsub) {
  size_t ns = subset ? nsub : ds->n;
  pair *all = malloc((ns + 1) * sizeof *all);
  const float *q = ds->queries + qi * ds->dim;
  int bad = 0;
  for (size_t s = 0; s < ns; s++) {
    uint32_t idx = subset ? subset[s] : (uint32_t)s;
    const float *r = ds->base + (size_t)idx * ds->dim;
    double acc = 0; /* a different summation order than bench_dist: compare with a tolerance */
    for (size_t j = 0; j < ds->dim; j++)
      acc += ds->metric == BENCH_L2 ? ((double)q[j] - r[j]) * ((double)q[j] - r[j]) : -(double)q[j] * r[j];
    all[s] = (pair){bench_dist(q, r, ds->dim, ds->metric), idx};
    double tol = 1e-9 * (acc < 0 ? -acc : acc) + 1e-12;
    if (all[s].d - acc > tol || acc - all[s].d > tol) bad++;
  }
  qsort(all, ns, sizeof *all, cmp_pair);
  for (size_t j = 0; j < gt->k; j++)
    if (all[j].i != gt->ids[qi * gt->k + j] || all[j].d != gt->dist[qi * gt->k + j]) bad++;
  free(all);
  return bad;
}

int main(int argc, char **argv) {
  bench_opts o;
  bench_dataset ds;
  int bad = 0;
  const char *export_dir = NULL;
  /* --export DIR is this program's own option: take it out before the shared parser sees argv. */
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--export")) {
      if (i + 1 >= argc) {
        fprintf(stderr, "bench_prepare: --export needs a directory\n");
        return 2;
      }
      export_dir = argv[i + 1];
      for (int j = i; j + 2 <= argc; j++) argv[j] = argv[j + 2];
      argc -= 2;
      break;
    }
  if (bench_opts_parse(argc, argv, &o, "bench_prepare")) return 2;
  double t0 = bench_now();
  fprintf(stderr, "prepare: %s\n", o.dataset);
  if (bench_dataset_load(o.dataset, o.src_dir, o.n, o.nq, o.cache_dir, o.threads, &ds)) return 1;
  const size_t probe[3] = {0, ds.nq / 2, ds.nq - 1};
  for (int p = 0; p < 3; p++) bad += check_query(&ds, &ds.gt, probe[p], NULL, 0);
  for (size_t s = 0; s < o.nsel; s++) {
    uint32_t m, *subset = NULL;
    size_t nsub = 0;
    bench_gt fgt;
    bench_sel_modulus(o.sels[s], &m);
    if (bench_filter_gt(&ds, m, o.filter_nq, o.k, o.cache_dir, o.threads, &subset, &nsub, &fgt))
      return 1;
    fprintf(stderr, "  %s: 1/%u filter keeps %zu of %zu records\n", ds.name, m, nsub, ds.n);
    bad += check_query(&ds, &fgt, 0, subset, nsub);
    bad += check_query(&ds, &fgt, fgt.nq - 1, subset, nsub);
    bench_gt_free(&fgt);
    free(subset);
  }
  if (bad) {
    fprintf(stderr, "prepare: %s: ground truth FAILED its independent check (%d mismatches); "
                    "delete %s and retry\n", ds.name, bad, o.cache_dir);
    return 1;
  }
  /* A short human-readable sample: the 3 nearest of query 0. */
  fprintf(stderr, "  %s: query 0 nearest:", ds.name);
  for (size_t j = 0; j < 3 && j < ds.gt.k; j++)
    fprintf(stderr, " #%u (%.6g)", ds.gt.ids[j], ds.gt.dist[j]);
  fprintf(stderr, "\n");
  if (export_dir) {
    char path[4096];
    if (bench_dataset_export(&ds, export_dir, path, sizeof path)) return 1;
  }
  fprintf(stderr, "prepare: %s ok in %.1f s\n", ds.name, bench_now() - t0);
  bench_dataset_free(&ds);
  return 0;
}
