/*
** test_dist.c: every distance kernel this CPU can run (vl_dist_kernels: SSE2, AVX2, AVX-512F,
** NEON or wasm SIMD128) and the dispatched one return exactly the scalar reference, for random and extreme vectors of every dimension 1..130 and
** 4096, including the documented worst case that reaches 2^62. The whole-valued kernels
** (l2sq_whole / dot_whole, vl_l2sq_whole / vl_dot_whole) likewise on every whole-valued input
** kind (random h * 2^16 for |h| <= 256, the extremes +-2^24, small values, mixed signs), and
** vl_vec_whole is exact: any set low bit anywhere makes a vector not whole-valued. The int8
** kernels of the compact traversal copy (l2sq_i8 / dot_i8) likewise on random and extreme bytes.
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

/* Whole-valued vectors: h * 2^16 with |h| <= 256. */
static void fill_whole(uint64_t *s, int32_t *v, uint32_t n, int mode) {
  uint32_t i;
  for (i = 0; i < n; i++) {
    uint64_t r = vt_rand(s);
    int32_t h;
    if (mode == 0) h = (int32_t)(r % 513) - 256;
    else if (mode == 1) h = (r & 1) ? 256 : -256;
    else if (mode == 2) h = (int32_t)(r % 7) - 3;
    else h = (int32_t)(r % 256); /* pixels: 0..255 */
    v[i] = h * 65536;
  }
}

static void test_whole_kernels_match_scalar(void) {
  vl_kernel ks[8];
  size_t nk = vl_dist_kernels(ks), k;
  uint64_t s = 7;
  uint32_t dim;
  int mode, rep;
  long bad = 0, checked = 0;
  for (mode = 0; mode < 4; mode++)
    for (rep = 0; rep < 20; rep++)
      for (dim = 1; dim <= 130; dim++) {
        int64_t l, d;
        fill_whole(&s, a, dim, mode);
        fill_whole(&s, b, dim, (mode + rep) % 4);
        if (!vl_vec_whole(a, dim) || !vl_vec_whole(b, dim)) bad++;
        l = vl_l2sq_scalar(a, b, dim);
        d = vl_dot_scalar(a, b, dim);
        if (vl_l2sq_whole(a, b, dim) != l || vl_dot_whole(a, b, dim) != d) bad++;
        if (vl_distance_whole(VALORI_METRIC_L2, a, b, dim) != vl_distance(VALORI_METRIC_L2, a, b, dim)) bad++;
        if (vl_distance_whole(VALORI_METRIC_IP, a, b, dim) != vl_distance(VALORI_METRIC_IP, a, b, dim)) bad++;
        for (k = 0; k < nk; k++) {
          if (ks[k].l2sq_whole(a, b, dim) != l || ks[k].dot_whole(a, b, dim) != d) bad++;
          checked++;
        }
      }
  for (dim = 4090; dim <= 4096; dim++)
    for (mode = 0; mode < 4; mode++) {
      fill_whole(&s, a, dim, mode);
      fill_whole(&s, b, dim, 3 - mode);
      for (k = 0; k < nk; k++)
        if (ks[k].l2sq_whole(a, b, dim) != vl_l2sq_scalar(a, b, dim) ||
            ks[k].dot_whole(a, b, dim) != vl_dot_scalar(a, b, dim))
          bad++;
    }
  VT_CHECK(checked > 0);
  VT_EQ_INT(bad, 0);
}

/* The packed-query kernels (dist.h, vl_qpack) equal the whole-valued ones on every length
** (tails of 0..15 components after the 8- and 16-component blocks) and every fill pattern. */
static void test_qpack_kernels_match_whole(void) {
  static int16_t qp[4096];
  static const uint32_t big[] = {100, 255, 511, 784, 1000, 2047, 4093, 4096};
  uint64_t s = 11;
  uint32_t dim, t;
  int mode, bad = 0;
  for (t = 0; t < 64 + sizeof big / sizeof big[0]; t++)
    for (dim = t < 64 ? t + 1 : big[t - 64], mode = 0; mode < 4; mode++) {
      fill_whole(&s, a, dim, mode);
      fill_whole(&s, b, dim, 3 - mode);
      vl_qpack(a, dim, qp);
      if (vl_l2sq_whole_qp(qp, a, b, dim) != vl_l2sq_scalar(a, b, dim)) bad++;
      if (vl_dot_whole_qp(qp, a, b, dim) != vl_dot_scalar(a, b, dim)) bad++;
      if (vl_distance_whole_qp(VALORI_METRIC_L2, qp, a, b, dim) != vl_distance(VALORI_METRIC_L2, a, b, dim)) bad++;
      if (vl_distance_whole_qp(VALORI_METRIC_IP, qp, a, b, dim) != vl_distance(VALORI_METRIC_IP, a, b, dim)) bad++;
    }
  VT_CHECK(bad == 0);
  /* The extremes: +-256 against -+256 in every component (|hq - hy| = 2^9, the i16 bound). */
  for (dim = 0; dim < 4096; dim++) a[dim] = (dim & 1 ? 256 : -256) * 65536, b[dim] = -a[dim];
  vl_qpack(a, 4096, qp);
  VT_CHECK(vl_l2sq_whole_qp(qp, a, b, 4096) == (int64_t)1 << 62);
  VT_CHECK(vl_dot_whole_qp(qp, a, b, 4096) == -((int64_t)1 << 60));
  VT_CHECK(vl_l2sq_whole_qp(qp, a, b, 4095) == vl_l2sq_scalar(a, b, 4095));
}

static void test_whole_worst_case(void) {
  vl_kernel ks[8];
  size_t nk = vl_dist_kernels(ks), k;
  uint32_t i;
  /* The largest 32-bit partial sums: (2^9)^2 per component over 4096 = 2^30 (L2); 2^16 per
  ** component = 2^28 (dot, both signs). */
  for (i = 0; i < 4096; i++) { a[i] = 1 << 24; b[i] = -(1 << 24); }
  VT_CHECK(vl_vec_whole(a, 4096) && vl_vec_whole(b, 4096));
  for (k = 0; k < nk; k++) {
    VT_CHECK(ks[k].l2sq_whole(a, b, 4096) == (int64_t)1 << 62);
    VT_CHECK(ks[k].dot_whole(a, b, 4096) == -((int64_t)1 << 60));
    VT_CHECK(ks[k].dot_whole(a, a, 4096) == (int64_t)1 << 60);
    VT_CHECK(ks[k].dot_whole(b, b, 4096) == (int64_t)1 << 60);
    VT_CHECK(ks[k].l2sq_whole(a, a, 4096) == 0);
  }
  VT_CHECK(vl_l2sq_whole(a, b, 4096) == (int64_t)1 << 62);
  VT_CHECK(vl_dot_whole(a, b, 4096) == -((int64_t)1 << 60));
}

static void test_vec_whole_rule(void) {
  uint32_t i, bit, dim = 37;
  long bad = 0;
  for (i = 0; i < dim; i++) a[i] = ((int32_t)i - 18) * 65536;
  VT_CHECK(vl_vec_whole(a, dim));
  VT_CHECK(vl_vec_whole(a, 0));
  for (i = 0; i < dim; i++)
    for (bit = 0; bit < 16; bit++) {
      int32_t keep = a[i];
      a[i] += (int32_t)(1u << bit);
      if (vl_vec_whole(a, dim)) bad++;
      a[i] = keep - (int32_t)(1u << bit);
      if (vl_vec_whole(a, dim)) bad++;
      a[i] = keep;
    }
  VT_EQ_INT(bad, 0);
  a[0] = -(1 << 24);
  a[1] = 1 << 24;
  a[2] = -65536;
  VT_CHECK(vl_vec_whole(a, dim));
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

/* int8 kernels (the compact traversal copy): random bytes of every kind (full range, the extremes
** -128 / 127, small values, non-negative), every dimension 1..130 and 4090..4096 (so every tail
** length of every kernel's step), against the scalar reference; and the largest sums. */
static int8_t ca[4096], cb[4096];
static void fill_i8(uint64_t *s, int8_t *v, uint32_t n, int mode) {
  uint32_t i;
  for (i = 0; i < n; i++) {
    uint64_t r = vt_rand(s);
    if (mode == 0) v[i] = (int8_t)(int32_t)(r % 256 - 128);
    else if (mode == 1) v[i] = (int8_t)((r & 1) ? 127 : -128);
    else if (mode == 2) v[i] = (int8_t)((int32_t)(r % 7) - 3);
    else v[i] = (int8_t)(r % 128);
  }
}
static void test_i8_kernels_match_scalar(void) {
  vl_kernel ks[8];
  size_t nk = vl_dist_kernels(ks), k;
  uint64_t s = 99;
  uint32_t dim;
  int mode, rep;
  long bad = 0, checked = 0;
  for (mode = 0; mode < 4; mode++)
    for (rep = 0; rep < 20; rep++)
      for (dim = 1; dim <= 130; dim++) {
        int64_t l, d;
        fill_i8(&s, ca, dim, mode);
        fill_i8(&s, cb, dim, (mode + rep) % 4);
        l = vl_l2sq_i8_scalar(ca, cb, dim);
        d = vl_dot_i8_scalar(ca, cb, dim);
        if (vl_l2sq_i8(ca, cb, dim) != l || vl_dot_i8(ca, cb, dim) != d) bad++;
        if (vl_distance_i8(VALORI_METRIC_L2, ca, cb, dim) != l || vl_distance_i8(VALORI_METRIC_IP, ca, cb, dim) != -d) bad++;
        for (k = 0; k < nk; k++) {
          if (ks[k].l2sq_i8(ca, cb, dim) != l || ks[k].dot_i8(ca, cb, dim) != d) bad++;
          checked++;
        }
      }
  for (dim = 4090; dim <= 4096; dim++)
    for (mode = 0; mode < 4; mode++) {
      fill_i8(&s, ca, dim, mode);
      fill_i8(&s, cb, dim, 3 - mode);
      for (k = 0; k < nk; k++)
        if (ks[k].l2sq_i8(ca, cb, dim) != vl_l2sq_i8_scalar(ca, cb, dim) ||
            ks[k].dot_i8(ca, cb, dim) != vl_dot_i8_scalar(ca, cb, dim))
          bad++;
    }
  VT_CHECK(checked > 0);
  VT_EQ_INT(bad, 0);
}
static void test_i8_worst_case(void) {
  vl_kernel ks[8];
  size_t nk = vl_dist_kernels(ks), k;
  uint32_t i;
  for (i = 0; i < 4096; i++) { ca[i] = 127; cb[i] = -128; }
  /* the scalar reference by hand: 255^2 * 4096, 127 * -128 * 4096, 128^2 * 4096 */
  VT_CHECK(vl_l2sq_i8_scalar(ca, cb, 4096) == (int64_t)255 * 255 * 4096);
  for (k = 0; k < nk; k++) {
    VT_CHECK(ks[k].l2sq_i8(ca, cb, 4096) == (int64_t)255 * 255 * 4096);
    VT_CHECK(ks[k].dot_i8(ca, cb, 4096) == (int64_t)127 * -128 * 4096);
    VT_CHECK(ks[k].dot_i8(cb, cb, 4096) == (int64_t)128 * 128 * 4096);
    VT_CHECK(ks[k].l2sq_i8(cb, cb, 4096) == 0);
  }
}

int main(void) {
  VT_RUN(test_i8_kernels_match_scalar);
  VT_RUN(test_i8_worst_case);
  VT_RUN(test_kernels_match_scalar);
  VT_RUN(test_worst_case_bounds);
  VT_RUN(test_whole_kernels_match_scalar);
  VT_RUN(test_whole_worst_case);
  VT_RUN(test_qpack_kernels_match_whole);
  VT_RUN(test_vec_whole_rule);
  return VT_DONE();
}
