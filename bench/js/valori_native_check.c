/*
** valori_native_check.c: the native half of bench/js/bench.mjs's determinism check. Builds, with the
** native build of the Valori core, exactly the store the wasm run built (same export of the data,
** same batches, same tags as valori_bench: bench_tag_class), then searches the first --nq queries at
** every ef with VALORI_SEARCH_HNSW. Prints one JSON line (state root, index digest, build seconds)
** and writes the result ids (base indices as int32 little-endian, -1 padded to k per query, ef by
** ef, query by query) to --ids-out; bench.mjs compares them with the wasm run's.
** With --traversal int8 the store keeps the int8 compact traversal copy over the base data's
** [min, max] (valori_traversal_int8), as valori_bench --traversal int8 and bench.mjs --traversal int8
** build it.
** Usage: valori_native_check --from EXPORT.bin --ids-out FILE [--traversal none|int8 --nq N --ef LIST
**                            --k K --M M --efc EFC --batch B]   (the others as in bench/common.h)
*/
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "data.h"
#include "valori.h"

static void check(int rc, const char *what) {
  if (rc != VALORI_OK) {
    fprintf(stderr, "valori_native_check: %s failed: %s (%s)\n", what, valori_code_name(rc), valori_strerror(rc));
    exit(1);
  }
}

/* Takes "--name VALUE" out of argv (the shared parser does not know it). NULL when absent. */
static const char *take_opt(int *argc, char **argv, const char *name) {
  for (int i = 1; i + 1 < *argc; i++)
    if (!strcmp(argv[i], name)) {
      const char *v = argv[i + 1];
      for (int j = i; j + 2 <= *argc; j++) argv[j] = argv[j + 2];
      *argc -= 2;
      return v;
    }
  return NULL;
}

static void hex(const uint8_t b[32], char out[65]) {
  for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
}

int main(int argc, char **argv) {
  bench_opts o;
  bench_dataset ds;
  const char *from = take_opt(&argc, argv, "--from"), *ids_out = take_opt(&argc, argv, "--ids-out");
  const char *trav = take_opt(&argc, argv, "--traversal");
  if (!from || !ids_out || (trav && strcmp(trav, "none") && strcmp(trav, "int8"))) {
    fprintf(stderr, "usage: valori_native_check --from EXPORT.bin --ids-out FILE [--traversal none|int8] [driver options]\n");
    return 2;
  }
  if (bench_opts_parse(argc, argv, &o, "valori_native_check")) return 2;
  if (bench_dataset_read_export(from, &ds)) return 1;
  if (o.k > VALORI_MAX_K) return 2;
  size_t nq = o.nq && o.nq < ds.nq ? o.nq : ds.nq;

  valori_options opt;
  valori_db *db = NULL;
  valori_options_init(&opt);
  opt.dim = (uint32_t)ds.dim;
  opt.metric = ds.metric == BENCH_IP ? VALORI_METRIC_IP : VALORI_METRIC_L2;
  opt.hnsw_m = o.M;
  opt.hnsw_ef_construction = o.efc;
  if (trav && !strcmp(trav, "int8")) { /* over the base data's range, as valori_bench */
    float lo = ds.base[0], hi = ds.base[0];
    for (size_t i = 1; i < ds.n * ds.dim; i++) {
      lo = ds.base[i] < lo ? ds.base[i] : lo;
      hi = ds.base[i] > hi ? ds.base[i] : hi;
    }
    check(valori_traversal_int8(lo, hi, &opt.traversal), "valori_traversal_int8");
  }
  opt.flags = VALORI_OPEN_CREATE;
  opt.vfs = NULL;
  check(valori_open(":memory:", &opt, &db), "valori_open");
  uint64_t *tags = malloc(o.batch * sizeof *tags), first = 0, id;
  if (!tags) return 1;
  double t0 = bench_now();
  for (size_t i = 0; i < ds.n; i += o.batch) {
    size_t nb = ds.n - i < o.batch ? ds.n - i : o.batch;
    for (size_t j = 0; j < nb; j++) tags[j] = bench_tag_class(i + j);
    check(valori_insert_batch(db, nb, ds.base + i * ds.dim, tags, NULL, NULL, &id), "valori_insert_batch");
    if (i == 0) first = id;
  }
  double build_s = bench_now() - t0;
  uint8_t root[32], digest[32];
  char root_hex[65], digest_hex[65];
  check(valori_state_root(db, root), "valori_state_root");
  check(valori_index_digest(db, digest), "valori_index_digest");
  hex(root, root_hex), hex(digest, digest_hex);

  valori_searcher *s = NULL;
  check(valori_searcher_create(db, &s), "valori_searcher_create");
  valori_hit *hits = malloc(o.k * sizeof *hits);
  int32_t *row = malloc(o.k * sizeof *row);
  FILE *f = fopen(ids_out, "wb");
  if (!hits || !row || !f) return 1;
  for (size_t e = 0; e < o.nef; e++)
    for (size_t q = 0; q < nq; q++) {
      valori_search_params p = {o.k, o.efs[e], VALORI_SEARCH_HNSW, 0, NULL};
      size_t n = 0;
      check(valori_search(db, s, ds.queries + q * ds.dim, &p, hits, &n), "valori_search");
      for (size_t j = 0; j < o.k; j++) row[j] = j < n ? (int32_t)(hits[j].id - first) : -1;
      if (fwrite(row, sizeof *row, o.k, f) != o.k) return 1;
    }
  if (fclose(f) != 0) return 1;
  printf("{\"state_root\":\"%s\",\"index_digest\":\"%s\",\"build_s\":%.3f,\"n\":%zu,\"nq\":%zu,\"version\":\"%s\"}\n",
         root_hex, digest_hex, build_s, ds.n, nq, VALORI_VERSION_STRING);
  fprintf(stderr, "valori_native_check: %zu records built natively in %.1f s, %zu queries x %zu ef searched\n", ds.n,
          build_s, nq, o.nef);
  valori_searcher_free(s);
  check(valori_close(db), "valori_close");
  free(tags), free(hits), free(row);
  bench_dataset_free(&ds);
  return 0;
}
