/*
** search_probe.c: the same search loop compiled natively and with emcc, on the same index, to see
** how much of the wasm/native search gap is the compiled core itself (kernels, compiler, V8's code)
** and how much is the JS binding around it. Two steps:
**   search_probe --build EXPORT.bin --snap S.bin --queries Q.f32 [--nq N --M M --efc EFC --batch B]
**       builds the store valori_native_check builds (same batches and tags), saves its snapshot
**       and the first N queries (raw float32);
**   search_probe --snap S.bin --queries Q.f32 [--ef LIST --k K --runs R]
**       loads the snapshot, prints its state root, then per ef: QPS (median of R timed passes after
**       one untimed pass), queries per CPU-second (best of R: steadier on a loaded machine) and
**       an FNV-1a hash of every (id, distance) returned, which must be equal
**       in both builds. --label NAME adds "engine":"probe","build":NAME and a "kind" to each line
**       (bench/run.sh --full runs it so, natively with and without the AVX kernels and in wasm,
**       and bench/report.py puts the lines in the report's goal 5 section).
** Native: built with the drivers (target search_probe; the core's own flags and kernel dispatch).
** WebAssembly (after scripts/build-wasm.sh), run with the real filesystem:
**   NODE_PATH=/usr/share/nodejs emcc -std=c11 -O3 -msimd128 -msse2 -ffp-contract=off -DNDEBUG \
**     -DBENCH_NO_EXPORT -Icore/include -Icore bench/js/search_probe.c build-wasm/libvalori_core_wasm.a \
**     -o probe.cjs -sNODERAWFS=1 -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sWASM_BIGINT=1
**   node --no-experimental-fetch probe.cjs --snap S.bin --queries Q.f32
** (BENCH_NO_EXPORT leaves out the --build step, which needs bench/data.c.) bench/js/bench.mjs is
** the package-level benchmark (the JS API on top of the same core).
*/
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "valori.h"
#include "dist.h" /* vl_dist_kernel: which kernel this build runs (internal header) */

#ifndef BENCH_NO_EXPORT
#include "common.h"
#include "data.h"
#endif

static void check(int rc, const char *what) {
  if (rc != VALORI_OK) {
    fprintf(stderr, "search_probe: %s failed: %s\n", what, valori_code_name(rc));
    exit(1);
  }
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CPU seconds of this process: on a loaded machine queries per CPU-second are far steadier than
** wall-clock QPS. Under Node, process.cpuUsage() (user + system, all of Node's threads). */
#if defined(__EMSCRIPTEN__)
#include <emscripten.h>
EM_JS(double, probe_cpu_js, (void), { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; });
static double cpu(void) { return probe_cpu_js(); }
#else
static double cpu(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
#endif

static uint8_t *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) { fprintf(stderr, "search_probe: cannot open %s\n", path); exit(1); }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)n ? (size_t)n : 1);
  if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) { fprintf(stderr, "search_probe: cannot read %s\n", path); exit(1); }
  fclose(f);
  *len = (size_t)n;
  return b;
}

static const char *arg(int argc, char **argv, const char *name, const char *def) {
  for (int i = 1; i + 1 < argc; i++)
    if (!strcmp(argv[i], name)) return argv[i + 1];
  return def;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  const char *snap = arg(argc, argv, "--snap", NULL), *qpath = arg(argc, argv, "--queries", NULL);
  if (!snap || !qpath) { fprintf(stderr, "usage: see the header of bench/js/search_probe.c\n"); return 2; }
#ifndef BENCH_NO_EXPORT
  const char *from = arg(argc, argv, "--build", NULL);
  if (from) {
    bench_dataset ds;
    if (bench_dataset_read_export(from, &ds)) return 1;
    size_t nq = (size_t)atol(arg(argc, argv, "--nq", "0")), batch = (size_t)atol(arg(argc, argv, "--batch", "1000"));
    if (!nq || nq > ds.nq) nq = ds.nq;
    valori_options opt;
    valori_db *db = NULL;
    valori_options_init(&opt);
    opt.dim = (uint32_t)ds.dim;
    opt.metric = ds.metric == BENCH_IP ? VALORI_METRIC_IP : VALORI_METRIC_L2;
    opt.hnsw_m = (uint32_t)atol(arg(argc, argv, "--M", "16"));
    opt.hnsw_ef_construction = (uint32_t)atol(arg(argc, argv, "--efc", "200"));
    opt.flags = VALORI_OPEN_CREATE;
    check(valori_open(":memory:", &opt, &db), "valori_open");
    uint64_t *tags = malloc(batch * sizeof *tags), id;
    double t0 = now();
    for (size_t i = 0; i < ds.n; i += batch) {
      size_t nb = ds.n - i < batch ? ds.n - i : batch;
      for (size_t j = 0; j < nb; j++) tags[j] = bench_tag_class(i + j);
      check(valori_insert_batch(db, nb, ds.base + i * ds.dim, tags, NULL, NULL, &id), "valori_insert_batch");
    }
    fprintf(stderr, "search_probe: built %zu records in %.1f s\n", ds.n, now() - t0);
    uint8_t *buf;
    size_t len;
    check(valori_snapshot_save(db, &buf, &len), "valori_snapshot_save");
    FILE *f = fopen(snap, "wb"), *g = fopen(qpath, "wb");
    if (!f || !g || fwrite(buf, 1, len, f) != len || fwrite(ds.queries, sizeof(float) * ds.dim, nq, g) != nq) return 1;
    fclose(f), fclose(g);
    valori_buffer_free(db, buf, len);
    check(valori_close(db), "valori_close");
    free(tags);
    bench_dataset_free(&ds);
    return 0;
  }
#endif
  size_t slen, qlen;
  uint8_t *sb = slurp(snap, &slen);
  float *qs = (float *)(void *)slurp(qpath, &qlen);
  valori_db *db = NULL;
  double t0 = now();
  check(valori_snapshot_load(sb, slen, NULL, &db), "valori_snapshot_load");
  double load_s = now() - t0;
  free(sb);
  valori_stats st;
  check(valori_stats_get(db, &st), "valori_stats_get");
  size_t dim = st.dim, nq = qlen / (sizeof(float) * dim);
  uint32_t k = (uint32_t)atol(arg(argc, argv, "--k", "10"));
  int runs = atoi(arg(argc, argv, "--runs", "3"));
  if (runs < 1) runs = 1;
  char efl[256];
  snprintf(efl, sizeof efl, "%s", arg(argc, argv, "--ef", "10,20,40"));
  uint8_t root[32];
  check(valori_state_root(db, root), "valori_state_root");
  /* --label NAME: the lines carry engine/kind/build fields, as bench/run.sh's results do */
  const char *label = arg(argc, argv, "--label", NULL);
  char pre[160] = "{";
  if (label && (!*label || strlen(label) > 32 || strspn(label, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(label))) {
    fprintf(stderr, "search_probe: --label: 1-32 of a-z, 0-9 and '-' (it goes into JSON unquoted)\n");
    return 2;
  }
  if (label) snprintf(pre, sizeof pre, "{\"engine\":\"probe\",\"build\":\"%s\",\"kind\":", label);
  printf("%s%s\"kernel\":\"%s\",\"load_s\":%.2f,\"nq\":%zu,\"root\":\"", pre, label ? "\"probe-root\"," : "",
         vl_dist_kernel(), load_s, nq);
  for (int i = 0; i < 32; i++) printf("%02x", root[i]);
  printf("\"}\n");
  valori_searcher *s = NULL;
  check(valori_searcher_create(db, &s), "valori_searcher_create");
  valori_hit *hits = malloc(k * sizeof *hits);
  double *t = malloc((size_t)runs * sizeof *t), *c = malloc((size_t)runs * sizeof *c);
  for (char *e = strtok(efl, ","); e; e = strtok(NULL, ",")) {
    uint32_t ef = (uint32_t)atol(e);
    uint64_t h = 1469598103934665603ull;
    for (int r = -1; r < runs; r++) {
      double a = now(), ac = cpu();
      for (size_t q = 0; q < nq; q++) {
        valori_search_params p = {k, ef, VALORI_SEARCH_HNSW, 0, NULL};
        size_t n = 0;
        check(valori_search(db, s, qs + q * dim, &p, hits, &n), "valori_search");
        if (r == -1)
          for (size_t j = 0; j < n; j++) {
            h = (h ^ hits[j].id) * 1099511628211ull;
            h = (h ^ (uint64_t)hits[j].distance) * 1099511628211ull;
          }
      }
      if (r >= 0) t[r] = now() - a, c[r] = cpu() - ac;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_d);
    qsort(c, (size_t)runs, sizeof *c, cmp_d);
    printf("%s%s\"kernel\":\"%s\",\"k\":%u,\"ef\":%u,\"qps\":%.0f,\"qps_cpu\":%.0f,\"hash\":\"%016llx\"}\n", pre,
           label ? "\"probe\"," : "", vl_dist_kernel(), k, ef, (double)nq / t[runs / 2], (double)nq / c[0],
           (unsigned long long)h);
    fflush(stdout);
  }
  valori_searcher_free(s);
  check(valori_close(db), "valori_close");
  free(hits), free(t), free(c), free(qs);
  return 0;
}
