/*
** dist.h: exact distance kernels over Q16.16 vectors (docs/DETERMINISM.md, rule 2).
**
** Bounds: |component| <= 2^24 and dim <= 4096 = 2^12. L2: |a-b| <= 2^25, (a-b)^2 <= 2^50, sum
** <= 2^62 < 2^63. IP: |a*b| <= 2^48, |sum| <= 2^60. So int64 accumulation cannot overflow.
** The SIMD paths (SSE2 and, when the CPU has it, AVX2 on x86; NEON on aarch64) compute the same integers as the scalar reference;
** tests/unit/test_dist.c checks them against each other.
*/
#ifndef VL_DIST_H
#define VL_DIST_H
#include "vl_int.h"

int64_t vl_l2sq_scalar(const int32_t *a, const int32_t *b, uint32_t dim);
int64_t vl_dot_scalar(const int32_t *a, const int32_t *b, uint32_t dim);
int64_t vl_l2sq(const int32_t *a, const int32_t *b, uint32_t dim);
int64_t vl_dot(const int32_t *a, const int32_t *b, uint32_t dim);
#if defined(__SSE2__) || defined(_M_X64)
int64_t vl_l2sq_sse2(const int32_t *a, const int32_t *b, uint32_t dim);
int64_t vl_dot_sse2(const int32_t *a, const int32_t *b, uint32_t dim);
#endif
/* Name of the kernel in use ("scalar", "sse2", "neon"). */
const char *vl_dist_kernel(void);

/* The store's distance: L2 -> squared L2; IP -> negated inner product (smaller is closer). */
static inline int64_t vl_distance(uint32_t metric, const int32_t *a, const int32_t *b, uint32_t dim) {
  return metric == VALORI_METRIC_IP ? -vl_dot(a, b, dim) : vl_l2sq(a, b, dim);
}
#endif
