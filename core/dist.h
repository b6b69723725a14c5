/*
** dist.h: exact distance kernels over Q16.16 vectors (docs/DETERMINISM.md, rule 2).
**
** Bounds: |component| <= 2^24 and dim <= 4096 = 2^12. L2: |a-b| <= 2^25, (a-b)^2 <= 2^50, sum
** <= 2^62 < 2^63. IP: |a*b| <= 2^48, |sum| <= 2^60. So int64 accumulation cannot overflow.
** The SIMD kernels (x86: SSE2, and AVX2 / AVX-512F when the CPU has them, chosen at run time;
** aarch64: NEON; WebAssembly: SIMD128) reorder an integer sum, which is associative, so they return
** exactly the scalar reference's value; tests/unit/test_dist.c checks every kernel this CPU can run.
*/
#ifndef VL_DIST_H
#define VL_DIST_H
#include "vl_int.h"

typedef int64_t (*vl_dist_fn)(const int32_t *a, const int32_t *b, uint32_t dim);
typedef int64_t (*vl_dist_i8_fn)(const int8_t *a, const int8_t *b, uint32_t dim);

/* One kernel family: squared L2 and the plain (not negated) dot product, and the same two for
** whole-valued vectors (below): l2sq_whole / dot_whole equal l2sq / dot whenever both inputs are
** whole-valued (vl_vec_whole), and are not to be called otherwise. */
typedef struct vl_kernel {
  const char *name; /* "scalar", "sse2", "avx2", "avx512", "neon", "wasm-simd128" */
  vl_dist_fn l2sq;
  vl_dist_fn dot;
  vl_dist_fn l2sq_whole;
  vl_dist_fn dot_whole;
  vl_dist_i8_fn l2sq_i8; /* the compact traversal copies' kernels (compact.h), below */
  vl_dist_i8_fn dot_i8;
} vl_kernel;

/* The kernels compiled in that this CPU can run: out[0] is the scalar reference, the last one is
** what vl_l2sq / vl_dot use. Returns the count (1 + up to 3). */
size_t vl_dist_kernels(vl_kernel *out);

int64_t vl_l2sq_scalar(const int32_t *a, const int32_t *b, uint32_t dim);
int64_t vl_dot_scalar(const int32_t *a, const int32_t *b, uint32_t dim);
/* The best kernel for this CPU. */
int64_t vl_l2sq(const int32_t *a, const int32_t *b, uint32_t dim);
int64_t vl_dot(const int32_t *a, const int32_t *b, uint32_t dim);
/* Whole-valued vectors: every component has its low 16 bits zero (x = h * 2^16, the binary32
** input was an integer, as for pixel data), which vl_vec_whole tests exactly. For two such vectors
** vl_l2sq_whole / vl_dot_whole return exactly vl_l2sq / vl_dot with 16-bit multiply-adds into
** 32-bit lanes (docs/DETERMINISM.md, rule 2); for any other input their value is unspecified.
** Scalar-only builds use the scalar reference for both. */
int vl_vec_whole(const int32_t *v, uint32_t dim);
int64_t vl_l2sq_whole(const int32_t *a, const int32_t *b, uint32_t dim);
int64_t vl_dot_whole(const int32_t *a, const int32_t *b, uint32_t dim);
/* Packed whole-valued query: a query q that is whole-valued and is compared with many whole-valued
** vectors (a search, an insert's neighbour search) is packed once into 16-bit values, so each
** distance reads half the query bytes and needs fewer instructions per component. Layout: for each
** block of 8 components starting at c (c a multiple of 8, c + 8 <= dim), out[c + 2j] = h[c + 4 + j]
** and out[c + 2j + 1] = h[c + j] (j = 0..3; h = component / 2^16, |h| <= 2^8), which is what a
** 32-bit lane of "y[c + j] OR (y[c + 4 + j] >> 16, logical)" holds for a whole-valued y (little-
** endian 16-bit halves: low h[c + 4 + j], high h[c + j]). The dim % 8 tail is not packed; the
** kernels read it from q itself. vl_l2sq_whole_qp / vl_dot_whole_qp (qp = vl_qpack(q), q and y
** whole-valued) return exactly vl_l2sq_whole / vl_dot_whole (q, y). VL_QPACK says the build has a
** SIMD version worth the packing (WebAssembly SIMD128: its 128-bit vectors are all the host gets,
** where the x86 kernels have AVX2 / AVX-512); elsewhere the functions are the scalar reference
** of the layout, for the tests. */
#if !defined(VALORI_NO_SIMD) && defined(__wasm_simd128__)
#define VL_QPACK 1
#endif
void vl_qpack(const int32_t *q, uint32_t dim, int16_t *out);
int64_t vl_l2sq_whole_qp(const int16_t *qp, const int32_t *q, const int32_t *y, uint32_t dim);
int64_t vl_dot_whole_qp(const int16_t *qp, const int32_t *q, const int32_t *y, uint32_t dim);
/* int8 vectors (the compact traversal copy, compact.h): squared L2 and dot product. |a - b| <= 255,
** so a sum of dim <= 2^12 squares is below 2^28 and a dot product below 2^26 in magnitude: every
** kernel sums exactly in 32-bit lanes (16-bit multiply-adds of the sign-extended bytes) and
** returns the scalar reference's value. */
int64_t vl_l2sq_i8_scalar(const int8_t *a, const int8_t *b, uint32_t dim);
int64_t vl_dot_i8_scalar(const int8_t *a, const int8_t *b, uint32_t dim);
int64_t vl_l2sq_i8(const int8_t *a, const int8_t *b, uint32_t dim);
int64_t vl_dot_i8(const int8_t *a, const int8_t *b, uint32_t dim);
/* The store's distance on compact copies (smaller is closer, as vl_distance). */
static inline int64_t vl_distance_i8(uint32_t metric, const int8_t *a, const int8_t *b, uint32_t dim) {
  return metric == VALORI_METRIC_IP ? -vl_dot_i8(a, b, dim) : vl_l2sq_i8(a, b, dim);
}
/* Name of the kernel vl_l2sq / vl_dot use. */
const char *vl_dist_kernel(void);

/* The store's distance: L2 -> squared L2; IP -> negated inner product (smaller is closer). */
static inline int64_t vl_distance(uint32_t metric, const int32_t *a, const int32_t *b, uint32_t dim) {
  return metric == VALORI_METRIC_IP ? -vl_dot(a, b, dim) : vl_l2sq(a, b, dim);
}
/* The same from a packed whole-valued query (vl_qpack(q) = qp) to a whole-valued y. */
static inline int64_t vl_distance_whole_qp(uint32_t metric, const int16_t *qp, const int32_t *q, const int32_t *y,
                                           uint32_t dim) {
  return metric == VALORI_METRIC_IP ? -vl_dot_whole_qp(qp, q, y, dim) : vl_l2sq_whole_qp(qp, q, y, dim);
}
/* The same for two whole-valued vectors (exactly equal to vl_distance for them). */
static inline int64_t vl_distance_whole(uint32_t metric, const int32_t *a, const int32_t *b, uint32_t dim) {
  return metric == VALORI_METRIC_IP ? -vl_dot_whole(a, b, dim) : vl_l2sq_whole(a, b, dim);
}
#endif
