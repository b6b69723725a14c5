/*
** dist.c: exact integer distance kernels. The scalar loops are the reference; the SIMD loops
** reorder an integer sum, which is associative, so they return exactly the same value.
*/
#include "dist.h"

#if !defined(VALORI_NO_SIMD) && (defined(__SSE2__) || defined(_M_X64))
#define VL_SSE2 1
#include <emmintrin.h>
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define VL_AVX2 1 /* compiled with a target attribute, chosen at run time by CPU support */
#include <immintrin.h>
#endif
#elif !defined(VALORI_NO_SIMD) && defined(__aarch64__) && defined(__ARM_NEON)
#define VL_NEON 1
#include <arm_neon.h>
#endif

int64_t vl_l2sq_scalar(const int32_t *a, const int32_t *b, uint32_t dim) {
  int64_t s = 0;
  uint32_t i;
  for (i = 0; i < dim; i++) {
    int64_t d = (int64_t)a[i] - (int64_t)b[i];
    s += d * d;
  }
  return s;
}

int64_t vl_dot_scalar(const int32_t *a, const int32_t *b, uint32_t dim) {
  int64_t s = 0;
  uint32_t i;
  for (i = 0; i < dim; i++) s += (int64_t)a[i] * (int64_t)b[i];
  return s;
}

#if defined(VL_AVX2)
__attribute__((target("avx2"))) static int64_t l2sq_avx2(const int32_t *a, const int32_t *b, uint32_t dim) {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  uint32_t i = 0;
  uint64_t t[4];
  for (; i + 8 <= dim; i += 8) {
    __m256i d = _mm256_abs_epi32(_mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(a + i)),
                                                  _mm256_loadu_si256((const __m256i *)(b + i))));
    acc0 = _mm256_add_epi64(acc0, _mm256_mul_epu32(d, d));
    d = _mm256_srli_epi64(d, 32);
    acc1 = _mm256_add_epi64(acc1, _mm256_mul_epu32(d, d));
  }
  _mm256_storeu_si256((__m256i *)t, _mm256_add_epi64(acc0, acc1));
  return (int64_t)(t[0] + t[1] + t[2] + t[3]) + vl_l2sq_scalar(a + i, b + i, dim - i);
}
/* vpmuldq multiplies the sign-extended low 32 bits of each 64-bit lane: exact signed products. */
__attribute__((target("avx2"))) static int64_t dot_avx2(const int32_t *a, const int32_t *b, uint32_t dim) {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  uint32_t i = 0;
  uint64_t t[4];
  for (; i + 8 <= dim; i += 8) {
    __m256i x = _mm256_loadu_si256((const __m256i *)(a + i)), y = _mm256_loadu_si256((const __m256i *)(b + i));
    acc0 = _mm256_add_epi64(acc0, _mm256_mul_epi32(x, y));
    acc1 = _mm256_add_epi64(acc1, _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(y, 32)));
  }
  _mm256_storeu_si256((__m256i *)t, _mm256_add_epi64(acc0, acc1));
  return (int64_t)(t[0] + t[1] + t[2] + t[3]) + vl_dot_scalar(a + i, b + i, dim - i);
}
static int have_avx2(void) { return __builtin_cpu_supports("avx2") != 0; }
#endif

#if defined(VL_SSE2)
/* |a-b| fits in 26 bits, so the unsigned 32x32->64 multiply (pmuludq) of |d| by itself is exact. */
static int64_t l2sq_sse2(const int32_t *a, const int32_t *b, uint32_t dim) {
  __m128i acc0 = _mm_setzero_si128(), acc1 = _mm_setzero_si128();
  uint32_t i = 0;
  uint64_t t[2];
  for (; i + 4 <= dim; i += 4) {
    __m128i d = _mm_sub_epi32(_mm_loadu_si128((const __m128i *)(a + i)), _mm_loadu_si128((const __m128i *)(b + i)));
    __m128i s = _mm_srai_epi32(d, 31);
    d = _mm_sub_epi32(_mm_xor_si128(d, s), s);
    acc0 = _mm_add_epi64(acc0, _mm_mul_epu32(d, d));
    d = _mm_srli_epi64(d, 32);
    acc1 = _mm_add_epi64(acc1, _mm_mul_epu32(d, d));
  }
  _mm_storeu_si128((__m128i *)t, _mm_add_epi64(acc0, acc1));
  return (int64_t)(t[0] + t[1]) + vl_l2sq_scalar(a + i, b + i, dim - i);
}
/* Signed products from unsigned ones: multiply magnitudes, then negate lanes whose signs differ. */
static int64_t dot_sse2(const int32_t *a, const int32_t *b, uint32_t dim) {
  __m128i acc = _mm_setzero_si128();
  uint32_t i = 0;
  uint64_t t[2];
  for (; i + 4 <= dim; i += 4) {
    __m128i x = _mm_loadu_si128((const __m128i *)(a + i)), y = _mm_loadu_si128((const __m128i *)(b + i));
    __m128i sx = _mm_srai_epi32(x, 31), sy = _mm_srai_epi32(y, 31);
    __m128i ax = _mm_sub_epi32(_mm_xor_si128(x, sx), sx), ay = _mm_sub_epi32(_mm_xor_si128(y, sy), sy);
    __m128i sg = _mm_xor_si128(sx, sy);
    __m128i p0 = _mm_mul_epu32(ax, ay);
    __m128i p1 = _mm_mul_epu32(_mm_srli_epi64(ax, 32), _mm_srli_epi64(ay, 32));
    __m128i m0 = _mm_shuffle_epi32(sg, _MM_SHUFFLE(2, 2, 0, 0));
    __m128i m1 = _mm_shuffle_epi32(sg, _MM_SHUFFLE(3, 3, 1, 1));
    p0 = _mm_sub_epi64(_mm_xor_si128(p0, m0), m0);
    p1 = _mm_sub_epi64(_mm_xor_si128(p1, m1), m1);
    acc = _mm_add_epi64(acc, _mm_add_epi64(p0, p1));
  }
  _mm_storeu_si128((__m128i *)t, acc);
  return (int64_t)(t[0] + t[1]) + vl_dot_scalar(a + i, b + i, dim - i);
}
#if defined(VL_AVX2)
int64_t vl_l2sq(const int32_t *a, const int32_t *b, uint32_t dim) {
  return have_avx2() ? l2sq_avx2(a, b, dim) : l2sq_sse2(a, b, dim);
}
int64_t vl_dot(const int32_t *a, const int32_t *b, uint32_t dim) {
  return have_avx2() ? dot_avx2(a, b, dim) : dot_sse2(a, b, dim);
}
const char *vl_dist_kernel(void) { return have_avx2() ? "avx2" : "sse2"; }
#else
int64_t vl_l2sq(const int32_t *a, const int32_t *b, uint32_t dim) { return l2sq_sse2(a, b, dim); }
int64_t vl_dot(const int32_t *a, const int32_t *b, uint32_t dim) { return dot_sse2(a, b, dim); }
const char *vl_dist_kernel(void) { return "sse2"; }
#endif
/* Exposed for the kernel tests: every path must equal the scalar reference. */
int64_t vl_l2sq_sse2(const int32_t *a, const int32_t *b, uint32_t dim) { return l2sq_sse2(a, b, dim); }
int64_t vl_dot_sse2(const int32_t *a, const int32_t *b, uint32_t dim) { return dot_sse2(a, b, dim); }
#elif defined(VL_NEON)
int64_t vl_l2sq(const int32_t *a, const int32_t *b, uint32_t dim) {
  int64x2_t acc0 = vdupq_n_s64(0), acc1 = vdupq_n_s64(0);
  uint32_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    int32x4_t d = vsubq_s32(vld1q_s32(a + i), vld1q_s32(b + i));
    acc0 = vmlal_s32(acc0, vget_low_s32(d), vget_low_s32(d));
    acc1 = vmlal_s32(acc1, vget_high_s32(d), vget_high_s32(d));
  }
  return vaddvq_s64(vaddq_s64(acc0, acc1)) + vl_l2sq_scalar(a + i, b + i, dim - i);
}
int64_t vl_dot(const int32_t *a, const int32_t *b, uint32_t dim) {
  int64x2_t acc0 = vdupq_n_s64(0), acc1 = vdupq_n_s64(0);
  uint32_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    int32x4_t x = vld1q_s32(a + i), y = vld1q_s32(b + i);
    acc0 = vmlal_s32(acc0, vget_low_s32(x), vget_low_s32(y));
    acc1 = vmlal_s32(acc1, vget_high_s32(x), vget_high_s32(y));
  }
  return vaddvq_s64(vaddq_s64(acc0, acc1)) + vl_dot_scalar(a + i, b + i, dim - i);
}
const char *vl_dist_kernel(void) { return "neon"; }
#else
int64_t vl_l2sq(const int32_t *a, const int32_t *b, uint32_t dim) { return vl_l2sq_scalar(a, b, dim); }
int64_t vl_dot(const int32_t *a, const int32_t *b, uint32_t dim) { return vl_dot_scalar(a, b, dim); }
const char *vl_dist_kernel(void) { return "scalar"; }
#endif
