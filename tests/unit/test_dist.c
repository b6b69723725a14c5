/*
** test_dist.c: every distance kernel this CPU can run (vl_dist_kernels: SSE2, AVX2, AVX-512F,
** NEON or wasm SIMD128) and the dispatched one return exactly the scalar reference, for random and extreme vectors of every dimension 1..130 and
** 4096, including the documented worst case that reaches 2^62.
*/
#include "dist.h"
#include "vt.h"

static int32_t a[4096], b[4096];

static void fill(uint64_t *s, int32_t *v, uint32_t n, int mode) {
  uint32_t i;
  for (i = 0; i < n; i++) {
    uint64_t r = vt_rand(s);
    if (mode == 0) v[i] = (int32_t)(r % (2u * (1u << 24) + 1)) - (1 << 24);
    else if (mode == 1) v[i] = (r & 1) ? (1 << 24) : -(1 << 24);
    else v[i] = (int32_t)(r % 7) - 3;
  }
}

static void test_kernels_match_scalar(void) {
  vl_kernel ks[8];
  size_t nk = vl_dist_kernels(ks), k;
  uint64_t s = 42;
  uint32_t dim;
  int mode, rep;
  long bad = 0;
  printf("  kernel in use: %s; checked:", vl_dist_kernel());
  for (k = 0; k < nk; k++) printf(" %s", ks[k].name);
  printf("\n");
  VT_CHECK(strcmp(ks[nk - 1].name, vl_dist_kernel()) == 0);
  for (mode = 0; mode < 3; mode++)
    for (rep = 0; rep < 20; rep++)
      for (dim = 1; dim <= 130; dim++) {
        int64_t l, d;
        fill(&s, a, dim, mode);
        fill(&s, b, dim, mode);
        l = vl_l2sq_scalar(a, b, dim);
        d = vl_dot_scalar(a, b, dim);
        if (vl_l2sq(a, b, dim) != l || vl_dot(a, b, dim) != d) bad++;
        for (k = 1; k < nk; k++)
          if (ks[k].l2sq(a, b, dim) != l || ks[k].dot(a, b, dim) != d) bad++;
      }
  VT_EQ_INT(bad, 0);
}

static void test_worst_case_bounds(void) {
  uint32_t i;
  for (i = 0; i < 4096; i++) { a[i] = 1 << 24; b[i] = -(1 << 24); }
  VT_CHECK(vl_l2sq(a, b, 4096) == (int64_t)1 << 62);
  VT_CHECK(vl_l2sq_scalar(a, b, 4096) == (int64_t)1 << 62);
  VT_CHECK(vl_dot(a, b, 4096) == -((int64_t)1 << 60));
  VT_CHECK(vl_dot(a, a, 4096) == (int64_t)1 << 60);
  VT_CHECK(vl_distance(VALORI_METRIC_IP, a, a, 4096) == -((int64_t)1 << 60));
  {
    vl_kernel ks[8];
    size_t nk = vl_dist_kernels(ks), k;
    for (k = 0; k < nk; k++) {
      VT_CHECK(ks[k].l2sq(a, b, 4096) == (int64_t)1 << 62);
      VT_CHECK(ks[k].dot(a, b, 4096) == -((int64_t)1 << 60));
    }
  }
}

int main(void) {
  VT_RUN(test_kernels_match_scalar);
  VT_RUN(test_worst_case_bounds);
  return VT_DONE();
}
