/*
** native_bench.c <data.bin> <n> <nq> <dim> <k> <ef>: the native half of wasm-vs-native.mjs. Reads n
** base and nq query vectors (binary32, row-major), inserts the base one record at a time into an
** in-memory database (M 16, ef_construction 100), then runs the queries (best of three passes); prints one JSON line with
** insert/s, search/s and the state root (which must equal the wasm run's).
*/
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "valori.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  FILE *f;
  float *data;
  size_t n, nq, dim, k, ef, i;
  valori_options o;
  valori_db *db;
  valori_searcher *s;
  valori_hit *hits;
  valori_search_params p = {0};
  uint8_t root[32];
  uint64_t id, checksum = 0;
  double t0, t1, t2, t1_ins, best;
  int rep;
  if (argc != 7) return 2;
  n = strtoul(argv[2], 0, 10); nq = strtoul(argv[3], 0, 10); dim = strtoul(argv[4], 0, 10);
  k = strtoul(argv[5], 0, 10); ef = strtoul(argv[6], 0, 10);
  data = malloc((n + nq) * dim * sizeof(float));
  hits = malloc(k * sizeof *hits);
  f = fopen(argv[1], "rb");
  if (!f || !data || !hits || fread(data, sizeof(float), (n + nq) * dim, f) != (n + nq) * dim) return 3;
  fclose(f);
  valori_options_init(&o);
  o.dim = (uint32_t)dim;
  o.hnsw_m = 16;
  o.hnsw_ef_construction = 100;
  if (valori_open(":memory:", &o, &db)) return 4;
  t0 = now();
  for (i = 0; i < n; i++) if (valori_insert(db, data + i * dim, i % 10, NULL, 0, &id)) return 5;
  t1_ins = now();
  if (valori_searcher_create(db, &s)) return 6;
  p.k = (uint32_t)k;
  p.ef = (uint32_t)ef;
  best = 1e30;
  for (rep = 0; rep < 3; rep++) { /* best of three passes over the queries, as in the wasm run */
    checksum = 0;
    t1 = now();
    for (i = 0; i < nq; i++) {
      size_t got = 0;
      if (valori_search(db, s, data + (n + i) * dim, &p, hits, &got)) return 7;
      checksum += hits[0].id;
    }
    t2 = now();
    if (t2 - t1 < best) best = t2 - t1;
  }
  valori_state_root(db, root);
  printf("{\"insert_per_s\":%.1f,\"search_per_s\":%.1f,\"checksum\":%llu,\"root\":\"", n / (t1_ins - t0), nq / best,
         (unsigned long long)checksum);
  for (i = 0; i < 32; i++) printf("%02x", root[i]);
  printf("\"}\n");
  valori_searcher_free(s);
  valori_close(db);
  free(data);
  free(hits);
  return 0;
}
