/*
** kernel_bench.c: what Valori's determinism costs per distance. Times, in ns per distance on real
** Fashion-MNIST vectors held in cache (128 base rows x 16 queries), four scalar kernels written as
** plain C loops:
**   float-l2 / float-ip   float32 accumulation, the obvious loop a float engine starts from;
**   fixed-l2 / fixed-ip   Valori's arithmetic: components converted to Q16.16 (int32), differences
**                         and products accumulated in int64, exact (no rounding at all);
** and the float -> Q16.16 boundary conversion itself (ns per component). The fixed-point loops are a
** local copy of the engine's scalar kernel so this runs without the core. With valori_core linked
** (BENCH_HAVE_VALORI) it also times the core's own kernels (core/dist.h: the scalar reference and
** every SIMD kernel the CPU runs), after checking that they return exactly the local loop's
** integers; the per-component conversion is the core's valori_f32_to_q16 instead of the local copy
** below (same contract: round half to even on the float's bits, |x| <= 256), and the core's
** whole-vector conversion (vl_vec_from_f32, what queries and inserts use) is timed as well.
** It also checks the fixed-point results against the float64 reference (max relative error: to
** |d| for L2, to sum |a_j b_j| for IP), so a wrong kernel cannot produce a fast number. JSON lines on stdout, progress on stderr.
** Usage: kernel_bench [--dataset NAME] [--runs R]
*/
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "data.h"

#ifdef BENCH_HAVE_VALORI
#include "valori.h"
/* The engine's own kernels and its whole-vector conversion (core-internal headers): the scalar
** reference and every SIMD kernel this CPU runs (SSE2 / AVX2 / AVX-512F / NEON; the engine uses
** the last of vl_dist_kernels, named by vl_dist_kernel()). */
#include "dist.h"
#include "fixed.h"
#endif

#ifndef BENCH_KERNEL_FLAGS
#define BENCH_KERNEL_FLAGS "unknown"
#endif

#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

#define NV 128 /* base vectors in the working set */
#define NQ 16  /* queries in the working set */

/* ---- kernels */
NOINLINE static float float_l2(const float *a, const float *b, size_t dim) {
  float s = 0;
  for (size_t j = 0; j < dim; j++) {
    float d = a[j] - b[j];
    s += d * d;
  }
  return s;
}
NOINLINE static float float_ip(const float *a, const float *b, size_t dim) {
  float s = 0;
  for (size_t j = 0; j < dim; j++) s += a[j] * b[j];
  return -s;
}
/* |a|,|b| <= 2^24, so (a-b)^2 <= 2^50 and dim <= 4096 terms stay below 2^62: no overflow. */
NOINLINE static int64_t fixed_l2(const int32_t *a, const int32_t *b, size_t dim) {
  int64_t s = 0;
  for (size_t j = 0; j < dim; j++) {
    int64_t d = (int64_t)a[j] - (int64_t)b[j];
    s += d * d;
  }
  return s;
}
NOINLINE static int64_t fixed_ip(const int32_t *a, const int32_t *b, size_t dim) {
  int64_t s = 0;
  for (size_t j = 0; j < dim; j++) s += (int64_t)a[j] * (int64_t)b[j];
  return -s;
}

/* ---- float -> Q16.16 */
#ifdef BENCH_HAVE_VALORI
#define to_q16 valori_f32_to_q16
#define CONVERTER "valori_f32_to_q16"
#else
#define CONVERTER "local copy"
/* Local stand-in for valori_f32_to_q16: x * 65536 rounded half to even, computed on the bits.
** Returns 0, or nonzero for NaN, infinity or |x| > 256. */
static int to_q16(float x, int32_t *out) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  uint32_t e = (u >> 23) & 0xffu, m = u & 0x7fffffu;
  uint64_t q;
  if (e == 0xffu) return 1;
  if (e == 0) { /* zero or subnormal: far below 2^-17, rounds to 0 */
    *out = 0;
    return 0;
  }
  m |= 0x800000u; /* |x| = m * 2^(e-150), so q = m * 2^(e-134) */
  int sh = (int)e - 134;
  if (sh >= 0) {
    if (sh > 8) return 1;
    q = (uint64_t)m << sh;
  } else if (-sh > 31) {
    q = 0;
  } else {
    int r = -sh;
    uint32_t rem = m & ((1u << r) - 1u), half = 1u << (r - 1);
    q = m >> r;
    if (rem > half || (rem == half && (q & 1u))) q++;
  }
  if (q > (1u << 24)) return 1;
  *out = (u >> 31) ? -(int32_t)q : (int32_t)q;
  return 0;
}
#endif

static volatile double g_sink;

/* Runs body(reps) with reps doubling until one pass takes >= 0.2 s; returns seconds per unit. */
typedef double (*pass_fn)(size_t reps, const void *ctx);
static double time_per_unit(pass_fn fn, const void *ctx, size_t units_per_rep, int runs) {
  size_t reps = 1;
  double el, t[16];
  for (;;) {
    double ts = bench_now();
    g_sink = g_sink + fn(reps, ctx);
    el = bench_now() - ts;
    if (el >= 0.2) break;
    reps *= 2;
  }
  if (runs > 16) runs = 16;
  t[0] = el;
  for (int r = 1; r < runs; r++) {
    double ts = bench_now();
    g_sink = g_sink + fn(reps, ctx);
    t[r] = bench_now() - ts;
  }
  return bench_median(t, (size_t)runs) / (double)(reps * units_per_rep);
}

typedef struct ctx {
  size_t dim;
  const float *fb, *fq;
  const int32_t *ib, *iq;
  int ip;
} ctx;

static double pass_float(size_t reps, const void *p) {
  const ctx *c = p;
  float acc = 0;
  for (size_t r = 0; r < reps; r++)
    for (size_t q = 0; q < NQ; q++)
      for (size_t v = 0; v < NV; v++)
        acc += c->ip ? float_ip(c->fq + q * c->dim, c->fb + v * c->dim, c->dim)
                     : float_l2(c->fq + q * c->dim, c->fb + v * c->dim, c->dim);
  return acc;
}
static double pass_fixed(size_t reps, const void *p) {
  const ctx *c = p;
  int64_t acc = 0;
  for (size_t r = 0; r < reps; r++)
    for (size_t q = 0; q < NQ; q++)
      for (size_t v = 0; v < NV; v++)
        acc ^= c->ip ? fixed_ip(c->iq + q * c->dim, c->ib + v * c->dim, c->dim)
                     : fixed_l2(c->iq + q * c->dim, c->ib + v * c->dim, c->dim);
  return (double)acc;
}
#if defined(BENCH_HAVE_VALORI) && !defined(BENCH_KERNEL_NATIVE)
typedef struct core_ctx {
  const ctx *c;
  vl_kernel k;
  int whole; /* time the whole-valued kernels (dist.h), for data whose every vector is whole-valued */
} core_ctx;
static double pass_core(size_t reps, const void *p) {
  const core_ctx *cc = p;
  const ctx *c = cc->c;
  int64_t acc = 0;
  const uint32_t d = (uint32_t)c->dim;
  const vl_dist_fn f = cc->whole ? (c->ip ? cc->k.dot_whole : cc->k.l2sq_whole) : (c->ip ? cc->k.dot : cc->k.l2sq);
  for (size_t r = 0; r < reps; r++)
    for (size_t q = 0; q < NQ; q++)
      for (size_t v = 0; v < NV; v++) {
        int64_t x = f(c->iq + q * c->dim, c->ib + v * c->dim, d);
        acc ^= c->ip ? -x : x;
      }
  return (double)acc;
}
/* The engine's conversion of whole vectors (queries, event encoding): vl_vec_from_f32. */
static double pass_convert_vec(size_t reps, const void *p) {
  const ctx *c = p;
  int32_t out[4096], acc = 0;
  for (size_t r = 0; r < reps; r++)
    for (size_t i = 0; i < NV; i++) {
      if (vl_vec_from_f32(c->fb + i * c->dim, (uint32_t)c->dim, out)) {
        fprintf(stderr, "kernel_bench: vl_vec_from_f32 refused a vector that converted before\n");
        exit(1);
      }
      acc ^= out[i % c->dim];
    }
  return acc;
}
#endif

static double pass_convert(size_t reps, const void *p) {
  const ctx *c = p;
  int32_t out, acc = 0;
  for (size_t r = 0; r < reps; r++)
    for (size_t i = 0; i < NV * c->dim; i++) {
      to_q16(c->fb[i], &out);
      acc ^= out;
    }
  return acc;
}

int main(int argc, char **argv) {
  bench_opts o;
  bench_dataset ds;
  char head[1024];
  if (bench_opts_parse(argc, argv, &o, "kernel_bench")) return 2;
  fprintf(stderr, "kernel_bench: %s (flags: %s)\n", o.dataset, BENCH_KERNEL_FLAGS);
  if (bench_dataset_load(o.dataset, o.src_dir, NV, NQ, NULL, 1, &ds)) return 1;
  const size_t dim = ds.dim;
  int32_t *ib = malloc(NV * dim * sizeof *ib), *iq = malloc(NQ * dim * sizeof *iq);
  if (!ib || !iq) return 1;
  for (size_t i = 0; i < NV * dim; i++)
    if (to_q16(ds.base[i], &ib[i])) return fprintf(stderr, "kernel_bench: value out of Q16.16 range\n"), 1;
  for (size_t i = 0; i < NQ * dim; i++)
    if (to_q16(ds.queries[i], &iq[i])) return fprintf(stderr, "kernel_bench: value out of Q16.16 range\n"), 1;

  /* Correctness: fixed-point distance / 2^32 against the float64 distance of the original floats.
  ** The only difference left is the Q16.16 rounding of the inputs (zero for integer pixels). */
  double max_rel[2] = {0, 0};
  for (int ip = 0; ip < 2; ip++)
    for (size_t q = 0; q < NQ; q++)
      for (size_t v = 0; v < NV; v++) {
        int64_t f = ip ? fixed_ip(iq + q * dim, ib + v * dim, dim) : fixed_l2(iq + q * dim, ib + v * dim, dim);
        const float *fa = ds.queries + q * dim, *fb = ds.base + v * dim;
        double ref = bench_dist(fa, fb, dim, ip ? BENCH_IP : BENCH_L2);
        /* relative to |ref| for L2; to sum |a_j b_j| for IP, whose value can cancel to ~0 */
        double den = fabs(ref);
        if (ip) {
          den = 0;
          for (size_t j = 0; j < dim; j++) den += fabs((double)fa[j] * fb[j]);
        }
        if (den < 1e-300) den = 1.0;
        double got = (double)f / 4294967296.0;
        if (fabs(got - ref) / den > max_rel[ip]) max_rel[ip] = fabs(got - ref) / den;
      }

#ifdef BENCH_KERNEL_NATIVE
  const char *variant = "native"; /* built with -march=native */
#else
  const char *variant = "project"; /* built with valori_core's flags */
#endif
  for (int ip = 0; ip < 2; ip++) {
    ctx c = {dim, ds.base, ds.queries, ib, iq, ip};
    double nf = time_per_unit(pass_float, &c, NQ * NV, o.runs) * 1e9;
    double nx = time_per_unit(pass_fixed, &c, NQ * NV, o.runs) * 1e9;
    const char *mt = ip ? "ip" : "l2";
    fprintf(stderr, "  %s %zu-d: float %.2f ns, fixed %.2f ns per distance (fixed/float %.2f, max rel err %.2g)\n",
            mt, dim, nf, nx, nx / nf, max_rel[ip]);
    bench_json_head(head, sizeof head, &o, &ds, "kernel", "kernel");
    bench_emit("%s,\"impl\":\"float-plain\",\"build\":\"%s\",\"kernel_metric\":\"%s\",\"ns_per_distance\":%.3f,"
               "\"ns_per_component\":%.4f,\"flags\":\"%s\"}\n", head, variant, mt, nf, nf / (double)dim,
               BENCH_KERNEL_FLAGS);
    bench_emit("%s,\"impl\":\"fixed-q16-int64\",\"build\":\"%s\",\"kernel_metric\":\"%s\",\"ns_per_distance\":%.3f,"
               "\"ns_per_component\":%.4f,\"max_rel_err\":%.3g,\"flags\":\"%s\"}\n", head, variant, mt, nx,
               nx / (double)dim, max_rel[ip], BENCH_KERNEL_FLAGS);
#ifdef BENCH_HAVE_VALORI
    /* Every core kernel must give exactly the local loop's integers; then each is timed. The core is
    ** compiled with its own flags whichever kernel_bench variant this is, so only the project
    ** variant reports the timings (once per run, not twice). */
    vl_kernel ks[8];
    size_t nk = vl_dist_kernels(ks);
    int whole = 1; /* every vector whole-valued: the _whole kernels apply (and are checked, timed) */
    for (size_t v = 0; v < NV; v++) whole &= vl_vec_whole(ib + v * dim, (uint32_t)dim);
    for (size_t q = 0; q < NQ; q++) whole &= vl_vec_whole(iq + q * dim, (uint32_t)dim);
    for (size_t ki = 0; ki < nk; ki++) {
      for (size_t q = 0; q < NQ; q++)
        for (size_t v = 0; v < NV; v++) {
          const int32_t *a = iq + q * dim, *b = ib + v * dim;
          int64_t want = ip ? fixed_ip(a, b, dim) : fixed_l2(a, b, dim);
          int64_t got = ip ? -ks[ki].dot(a, b, (uint32_t)dim) : ks[ki].l2sq(a, b, (uint32_t)dim);
          int64_t gotw = !whole ? want : ip ? -ks[ki].dot_whole(a, b, (uint32_t)dim) : ks[ki].l2sq_whole(a, b, (uint32_t)dim);
          if (got != want || gotw != want) {
            fprintf(stderr, "kernel_bench: core kernel %s%s disagrees with the reference loop\n", ks[ki].name,
                    got != want ? "" : " (whole-valued)");
            return 1;
          }
        }
#ifndef BENCH_KERNEL_NATIVE
      {
        core_ctx cc = {&c, ks[ki], 0};
        double ns = time_per_unit(pass_core, &cc, NQ * NV, o.runs) * 1e9;
        fprintf(stderr, "  %s %zu-d: core %s %.2f ns per distance%s\n", mt, dim, ks[ki].name, ns,
                ki + 1 == nk ? " (the one the engine uses)" : "");
        bench_emit("%s,\"impl\":\"core-%s\",\"build\":\"core\",\"kernel_metric\":\"%s\",\"ns_per_distance\":%.3f,"
                   "\"ns_per_component\":%.4f,\"max_rel_err\":%.3g,\"in_use\":%s}\n", head, ks[ki].name, mt, ns,
                   ns / (double)dim, max_rel[ip], ki + 1 == nk ? "true" : "false");
        if (whole) {
          cc.whole = 1;
          ns = time_per_unit(pass_core, &cc, NQ * NV, o.runs) * 1e9;
          fprintf(stderr, "  %s %zu-d: core %s whole-valued %.2f ns per distance%s\n", mt, dim, ks[ki].name, ns,
                  ki + 1 == nk ? " (the one the engine uses for whole-valued vectors)" : "");
          bench_emit("%s,\"impl\":\"core-%s-whole\",\"build\":\"core\",\"kernel_metric\":\"%s\",\"ns_per_distance\":%.3f,"
                     "\"ns_per_component\":%.4f,\"max_rel_err\":%.3g,\"in_use\":%s}\n", head, ks[ki].name, mt, ns,
                     ns / (double)dim, max_rel[ip], ki + 1 == nk ? "true" : "false");
        }
      }
#endif
    }
#endif
  }
  ctx c = {dim, ds.base, ds.queries, ib, iq, 0};
  double nc = time_per_unit(pass_convert, &c, NV * dim, o.runs) * 1e9;
  fprintf(stderr, "  f32 -> q16 (%s): %.3f ns per component\n", CONVERTER, nc);
  bench_json_head(head, sizeof head, &o, &ds, "kernel", "kernel");
  bench_emit("%s,\"impl\":\"f32-to-q16\",\"converter\":\"%s\",\"build\":\"%s\",\"ns_per_component\":%.4f,"
             "\"ns_per_vector\":%.2f,\"flags\":\"%s\"}\n", head, CONVERTER, variant, nc, nc * (double)dim,
             BENCH_KERNEL_FLAGS);
#if defined(BENCH_HAVE_VALORI) && !defined(BENCH_KERNEL_NATIVE)
  {
    double nv = time_per_unit(pass_convert_vec, &c, NV * dim, o.runs) * 1e9;
    fprintf(stderr, "  f32 -> q16 (vl_vec_from_f32, whole vectors): %.3f ns per component\n", nv);
    bench_emit("%s,\"impl\":\"f32-to-q16\",\"converter\":\"vl_vec_from_f32\",\"build\":\"core\",\"ns_per_component\":%.4f,"
               "\"ns_per_vector\":%.2f,\"flags\":\"core\"}\n", head, nv, nv * (double)dim);
  }
#endif
  free(ib), free(iq);
  bench_dataset_free(&ds);
  return 0;
}
