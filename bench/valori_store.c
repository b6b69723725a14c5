/*
** valori_store.c: the Valori side every Valori benchmark driver shares (valori_bench, pair_bench):
** failing loudly on an API error or a broken contract, opening an in-memory store for a dataset,
** inserting its base rows in batches, and checking one search's hits. Contracts in valori_bench.h.
*/
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "valori_bench.h"

const char *vb_prog = "valori_bench";

void vb_die(const char *what, int rc) {
  fprintf(stderr, "%s: %s failed: %s (%s)\n", vb_prog, what, valori_code_name(rc), valori_strerror(rc));
  exit(1);
}

void vb_fail(const char *msg) {
  fprintf(stderr, "%s: CONTRACT VIOLATION: %s\n", vb_prog, msg);
  exit(1);
}

valori_db *vb_open_mem(const bench_opts *o, const bench_dataset *ds, uint32_t index) {
  return vb_open_mem_flags(o, ds, index, 0);
}

valori_db *vb_open_mem_flags(const bench_opts *o, const bench_dataset *ds, uint32_t index, uint32_t flags) {
  valori_options opt;
  valori_db *db = NULL;
  valori_options_init(&opt);
  opt.dim = (uint32_t)ds->dim;
  opt.metric = ds->metric == BENCH_IP ? VALORI_METRIC_IP : VALORI_METRIC_L2;
  opt.index = index;
  if (index == VALORI_INDEX_HNSW) {
    opt.hnsw_m = o->M;
    opt.hnsw_ef_construction = o->efc;
  }
  if (index == VALORI_INDEX_HNSW && !strcmp(o->traversal, "int8")) { /* over the base data's range */
    float lo = ds->base[0], hi = ds->base[0];
    for (size_t i = 1; i < ds->n * ds->dim; i++) {
      lo = ds->base[i] < lo ? ds->base[i] : lo;
      hi = ds->base[i] > hi ? ds->base[i] : hi;
    }
    CHECK(valori_traversal_int8(lo, hi, &opt.traversal));
  }
  opt.flags = VALORI_OPEN_CREATE | flags;
  opt.vfs = NULL; /* in memory */
  CHECK(valori_open(":memory:", &opt, &db));
  return db;
}

uint64_t vb_insert_rows(valori_db *db, const bench_dataset *ds, size_t n, size_t batch, int progress) {
  const size_t dim = ds->dim;
  uint64_t *tags = malloc((batch ? batch : 1) * sizeof *tags);
  uint64_t first = 0;
  double t0 = bench_now(), tp = t0;
  if (!tags) vb_die("malloc", VALORI_ENOMEM);
  for (size_t i = 0; i < n;) {
    size_t nb = batch ? (n - i < batch ? n - i : batch) : 1;
    uint64_t id;
    for (size_t j = 0; j < nb; j++) tags[j] = bench_tag_class(i + j);
    if (batch) CHECK(valori_insert_batch(db, nb, ds->base + i * dim, tags, NULL, NULL, &id));
    else CHECK(valori_insert(db, ds->base + i * dim, tags[0], NULL, 0, &id));
    if (i == 0) first = id;
    else if (id != first + i) vb_fail("record ids are not consecutive");
    i += nb;
    if (progress && bench_now() - tp > 5.0) {
      tp = bench_now();
      fprintf(stderr, "  build %zu/%zu (%.0f vectors/s)\n", i, n, (double)i / (tp - t0));
    }
  }
  free(tags);
  return first;
}

size_t vb_build_batch(const bench_opts *o, const bench_dataset *ds) {
  size_t batch = o->batch, max_batch = (VALORI_MAX_EVENT / 2) / (ds->dim * sizeof(float) + 64);
  if (batch > VALORI_MAX_BATCH) batch = VALORI_MAX_BATCH;
  if (batch > max_batch) batch = max_batch;
  return batch;
}

void vb_check_hits(const valori_hit *hits, size_t n, size_t k, uint64_t first_id, size_t nbase, uint32_t m,
                   uint32_t *ids) {
  if (n > k) vb_fail("valori_search returned more than k hits");
  for (size_t j = 0; j < n; j++) {
    const valori_hit *h = &hits[j];
    if (h->id < first_id || h->id - first_id >= nbase) vb_fail("hit id outside the inserted range");
    if (j > 0 && (h->distance < h[-1].distance || (h->distance == h[-1].distance && h->id <= h[-1].id)))
      vb_fail("hits not ordered by (distance, id)");
    ids[j] = (uint32_t)(h->id - first_id);
    if (m && !bench_tag_allowed(ids[j], m)) vb_fail("filtered search returned a record outside the filter");
  }
}
