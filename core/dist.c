/*
** dist.c: exact integer distance kernels. The scalar loops are the reference; the SIMD loops
** reorder an integer sum, which is associative, so they return exactly the same value. x86 picks
** the widest kernel the CPU supports on every call (cpu.h: a flag libgcc sets once at start-up), so
** one binary runs everywhere and no global is written after start-up.
*/
#include "dist.h"

#include "cpu.h"

#if !defined(VALORI_NO_SIMD) && defined(__wasm_simd128__)
#define VL_WASM 1
#include <wasm_simd128.h>
#elif !defined(VALORI_NO_SIMD) && (defined(__SSE2__) || defined(_M_X64))
#define VL_SSE2 1
#include <emmintrin.h>
#if defined(VL_CPU_DISPATCH)
#define VL_AVX 1 /* AVX2 and AVX-512F kernels compiled with target attributes, chosen at run time */
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

int64_t vl_l2sq_i8_scalar(const int8_t *a, const int8_t *b, uint32_t dim) {
  int64_t s = 0;
  uint32_t i;
  for (i = 0; i < dim; i++) {
    int32_t d = (int32_t)a[i] - (int32_t)b[i];
    s += d * d;
  }
  return s;
}

int64_t vl_dot_i8_scalar(const int8_t *a, const int8_t *b, uint32_t dim) {
  int64_t s = 0;
  uint32_t i;
  for (i = 0; i < dim; i++) s += (int32_t)a[i] * (int32_t)b[i];
  return s;
}

int vl_vec_whole(const int32_t *v, uint32_t dim) {
  uint32_t i, m = 0;
  for (i = 0; i < dim; i++) m |= (uint32_t)v[i];
  return (m & 0xFFFFu) == 0;
}

/* Whole-valued kernels (dist.h): x = h * 2^16 with |h| <= 2^8, so the 32-bit lane x read as two
** 16-bit halves is (low 0, high h), and so is x - y = (hx - hy) * 2^16 with |hx - hy| <= 2^9. A
** multiply-add of 16-bit pairs into a 32-bit lane (pmaddwd, vmlal_s16, i32x4.dot_i16x8_s) gives
** 0 * 0 + hx * hy, or (hx - hy)^2, exactly; the 32-bit sums are bounded by 2^28 (dot) and 2^30
** (L2) for dim <= 2^12, so they never overflow, and the result is that sum times 2^32. */
#define VL_TIMES_2_32(s) ((int64_t)(s) * ((int64_t)1 << 32))

#if defined(VL_AVX)
__attribute__((target("avx2"))) static int64_t l2sq_avx2(const int32_t *a, const int32_t *b, uint32_t dim) {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  uint32_t i = 0;
  uint64_t t[4];
  for (; i + 8 <= dim; i += 8) {
    __m256i d = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(a + i)), _mm256_loadu_si256((const __m256i *)(b + i)));
    acc0 = _mm256_add_epi64(acc0, _mm256_mul_epi32(d, d));
    d = _mm256_srli_epi64(d, 32);
    acc1 = _mm256_add_epi64(acc1, _mm256_mul_epi32(d, d));
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
__attribute__((target("avx2"))) static int64_t l2sq_whole_avx2(const int32_t *a, const int32_t *b, uint32_t dim) {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  uint32_t i = 0;
  int32_t t[8];
  for (; i + 16 <= dim; i += 16) {
    __m256i d0 = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(a + i)), _mm256_loadu_si256((const __m256i *)(b + i)));
    __m256i d1 = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(a + i + 8)),
                                  _mm256_loadu_si256((const __m256i *)(b + i + 8)));
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(d0, d0));
    acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(d1, d1));
  }
  _mm256_storeu_si256((__m256i *)t, _mm256_add_epi32(acc0, acc1));
  return VL_TIMES_2_32(t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7]) + vl_l2sq_scalar(a + i, b + i, dim - i);
}
__attribute__((target("avx2"))) static int64_t dot_whole_avx2(const int32_t *a, const int32_t *b, uint32_t dim) {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  uint32_t i = 0;
  int32_t t[8];
  for (; i + 16 <= dim; i += 16) {
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(a + i)),
                                                    _mm256_loadu_si256((const __m256i *)(b + i))));
    acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(a + i + 8)),
                                                    _mm256_loadu_si256((const __m256i *)(b + i + 8))));
  }
  _mm256_storeu_si256((__m256i *)t, _mm256_add_epi32(acc0, acc1));
  return VL_TIMES_2_32(t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7]) + vl_dot_scalar(a + i, b + i, dim - i);
}
/* AVX-512F: 16 lanes per step, otherwise as the AVX2 kernels. */
__attribute__((target("avx512f"))) static int64_t l2sq_avx512(const int32_t *a, const int32_t *b, uint32_t dim) {
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
  uint32_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    __m512i d = _mm512_sub_epi32(_mm512_loadu_si512((const void *)(a + i)), _mm512_loadu_si512((const void *)(b + i)));
    acc0 = _mm512_add_epi64(acc0, _mm512_mul_epi32(d, d));
    d = _mm512_srli_epi64(d, 32);
    acc1 = _mm512_add_epi64(acc1, _mm512_mul_epi32(d, d));
  }
  return (int64_t)_mm512_reduce_add_epi64(_mm512_add_epi64(acc0, acc1)) + vl_l2sq_scalar(a + i, b + i, dim - i);
}
__attribute__((target("avx512f"))) static int64_t dot_avx512(const int32_t *a, const int32_t *b, uint32_t dim) {
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
  uint32_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    __m512i x = _mm512_loadu_si512((const void *)(a + i)), y = _mm512_loadu_si512((const void *)(b + i));
    acc0 = _mm512_add_epi64(acc0, _mm512_mul_epi32(x, y));
    acc1 = _mm512_add_epi64(acc1, _mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(y, 32)));
  }
  return (int64_t)_mm512_reduce_add_epi64(_mm512_add_epi64(acc0, acc1)) + vl_dot_scalar(a + i, b + i, dim - i);
}
/* vpmaddwd on 512 bits is AVX-512BW. */
__attribute__((target("avx512f,avx512bw"))) static int64_t l2sq_whole_avx512(const int32_t *a, const int32_t *b, uint32_t dim) {
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
  uint32_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    __m512i d0 = _mm512_sub_epi32(_mm512_loadu_si512((const void *)(a + i)), _mm512_loadu_si512((const void *)(b + i)));
    __m512i d1 = _mm512_sub_epi32(_mm512_loadu_si512((const void *)(a + i + 16)),
                                  _mm512_loadu_si512((const void *)(b + i + 16)));
    acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(d0, d0));
    acc1 = _mm512_add_epi32(acc1, _mm512_madd_epi16(d1, d1));
  }
  if (i + 16 <= dim) {
    __m512i d0 = _mm512_sub_epi32(_mm512_loadu_si512((const void *)(a + i)), _mm512_loadu_si512((const void *)(b + i)));
    acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(d0, d0));
    i += 16;
  }
  return VL_TIMES_2_32(_mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1))) + vl_l2sq_scalar(a + i, b + i, dim - i);
}
__attribute__((target("avx512f,avx512bw"))) static int64_t dot_whole_avx512(const int32_t *a, const int32_t *b, uint32_t dim) {
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
  uint32_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(_mm512_loadu_si512((const void *)(a + i)),
                                                    _mm512_loadu_si512((const void *)(b + i))));
    acc1 = _mm512_add_epi32(acc1, _mm512_madd_epi16(_mm512_loadu_si512((const void *)(a + i + 16)),
                                                    _mm512_loadu_si512((const void *)(b + i + 16))));
  }
  if (i + 16 <= dim) {
    acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(_mm512_loadu_si512((const void *)(a + i)),
                                                    _mm512_loadu_si512((const void *)(b + i))));
    i += 16;
  }
  return VL_TIMES_2_32(_mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1))) + vl_dot_scalar(a + i, b + i, dim - i);
}

/* int8 kernels (dist.h): bytes sign-extended to 16 bits (vpmovsxbw), 16-bit differences (|d| <=
** 255) or plain values, multiply-added in pairs into 32-bit lanes. */
__attribute__((target("avx2"))) static int64_t l2sq_i8_avx2(const int8_t *a, const int8_t *b, uint32_t dim) {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  uint32_t i = 0;
  int32_t t[8];
  for (; i + 32 <= dim; i += 32) {
    __m256i d0 = _mm256_sub_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i))),
                                  _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i))));
    __m256i d1 = _mm256_sub_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i + 16))),
                                  _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i + 16))));
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(d0, d0));
    acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(d1, d1));
  }
  if (i + 16 <= dim) { /* 784 = 24 x 32 + 16 */
    __m256i d0 = _mm256_sub_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i))),
                                  _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i))));
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(d0, d0));
    i += 16;
  }
  _mm256_storeu_si256((__m256i *)t, _mm256_add_epi32(acc0, acc1));
  return (int64_t)(t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7]) + vl_l2sq_i8_scalar(a + i, b + i, dim - i);
}
__attribute__((target("avx2"))) static int64_t dot_i8_avx2(const int8_t *a, const int8_t *b, uint32_t dim) {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  uint32_t i = 0;
  int32_t t[8];
  for (; i + 32 <= dim; i += 32) {
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i))),
                                                    _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i)))));
    acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i + 16))),
                                                    _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i + 16)))));
  }
  if (i + 16 <= dim) {
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i))),
                                                    _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i)))));
    i += 16;
  }
  _mm256_storeu_si256((__m256i *)t, _mm256_add_epi32(acc0, acc1));
  return (int64_t)(t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7]) + vl_dot_i8_scalar(a + i, b + i, dim - i);
}
__attribute__((target("avx512f,avx512bw"))) static int64_t l2sq_i8_avx512(const int8_t *a, const int8_t *b, uint32_t dim) {
  __m512i acc = _mm512_setzero_si512();
  uint32_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    __m512i d = _mm512_sub_epi16(_mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(a + i))),
                                 _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(b + i))));
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(d, d));
  }
  if (i + 16 <= dim) { /* a 256-bit step (AVX-512F implies AVX2) */
    __m256i d = _mm256_sub_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i))),
                                 _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i))));
    acc = _mm512_add_epi32(acc, _mm512_zextsi256_si512(_mm256_madd_epi16(d, d)));
    i += 16;
  }
  return (int64_t)_mm512_reduce_add_epi32(acc) + vl_l2sq_i8_scalar(a + i, b + i, dim - i);
}
__attribute__((target("avx512f,avx512bw"))) static int64_t dot_i8_avx512(const int8_t *a, const int8_t *b, uint32_t dim) {
  __m512i acc = _mm512_setzero_si512();
  uint32_t i = 0;
  for (; i + 32 <= dim; i += 32)
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(a + i))),
                                                  _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(b + i)))));
  if (i + 16 <= dim) {
    __m256i p = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i))),
                                  _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i))));
    acc = _mm512_add_epi32(acc, _mm512_zextsi256_si512(p));
    i += 16;
  }
  return (int64_t)_mm512_reduce_add_epi32(acc) + vl_dot_i8_scalar(a + i, b + i, dim - i);
}
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
static int64_t l2sq_whole_sse2(const int32_t *a, const int32_t *b, uint32_t dim) {
  __m128i acc0 = _mm_setzero_si128(), acc1 = _mm_setzero_si128();
  uint32_t i = 0;
  int32_t t[4];
  for (; i + 8 <= dim; i += 8) {
    __m128i d0 = _mm_sub_epi32(_mm_loadu_si128((const __m128i *)(a + i)), _mm_loadu_si128((const __m128i *)(b + i)));
    __m128i d1 = _mm_sub_epi32(_mm_loadu_si128((const __m128i *)(a + i + 4)), _mm_loadu_si128((const __m128i *)(b + i + 4)));
    acc0 = _mm_add_epi32(acc0, _mm_madd_epi16(d0, d0));
    acc1 = _mm_add_epi32(acc1, _mm_madd_epi16(d1, d1));
  }
  _mm_storeu_si128((__m128i *)t, _mm_add_epi32(acc0, acc1));
  return VL_TIMES_2_32(t[0] + t[1] + t[2] + t[3]) + vl_l2sq_scalar(a + i, b + i, dim - i);
}
static int64_t dot_whole_sse2(const int32_t *a, const int32_t *b, uint32_t dim) {
  __m128i acc0 = _mm_setzero_si128(), acc1 = _mm_setzero_si128();
  uint32_t i = 0;
  int32_t t[4];
  for (; i + 8 <= dim; i += 8) {
    acc0 = _mm_add_epi32(acc0, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(a + i)), _mm_loadu_si128((const __m128i *)(b + i))));
    acc1 = _mm_add_epi32(acc1, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(a + i + 4)),
                                              _mm_loadu_si128((const __m128i *)(b + i + 4))));
  }
  _mm_storeu_si128((__m128i *)t, _mm_add_epi32(acc0, acc1));
  return VL_TIMES_2_32(t[0] + t[1] + t[2] + t[3]) + vl_dot_scalar(a + i, b + i, dim - i);
}
/* Sign-extends the low / high 8 bytes of x to 16 bits (SSE2 has no pmovsxbw): each byte paired
** with itself, then shifted right arithmetically by 8. */
static inline __m128i i8lo(__m128i x) { return _mm_srai_epi16(_mm_unpacklo_epi8(x, x), 8); }
static inline __m128i i8hi(__m128i x) { return _mm_srai_epi16(_mm_unpackhi_epi8(x, x), 8); }
static int64_t l2sq_i8_sse2(const int8_t *a, const int8_t *b, uint32_t dim) {
  __m128i acc0 = _mm_setzero_si128(), acc1 = _mm_setzero_si128();
  uint32_t i = 0;
  int32_t t[4];
  for (; i + 16 <= dim; i += 16) {
    __m128i x = _mm_loadu_si128((const __m128i *)(a + i)), y = _mm_loadu_si128((const __m128i *)(b + i));
    __m128i d0 = _mm_sub_epi16(i8lo(x), i8lo(y)), d1 = _mm_sub_epi16(i8hi(x), i8hi(y));
    acc0 = _mm_add_epi32(acc0, _mm_madd_epi16(d0, d0));
    acc1 = _mm_add_epi32(acc1, _mm_madd_epi16(d1, d1));
  }
  _mm_storeu_si128((__m128i *)t, _mm_add_epi32(acc0, acc1));
  return (int64_t)(t[0] + t[1] + t[2] + t[3]) + vl_l2sq_i8_scalar(a + i, b + i, dim - i);
}
static int64_t dot_i8_sse2(const int8_t *a, const int8_t *b, uint32_t dim) {
  __m128i acc0 = _mm_setzero_si128(), acc1 = _mm_setzero_si128();
  uint32_t i = 0;
  int32_t t[4];
  for (; i + 16 <= dim; i += 16) {
    __m128i x = _mm_loadu_si128((const __m128i *)(a + i)), y = _mm_loadu_si128((const __m128i *)(b + i));
    acc0 = _mm_add_epi32(acc0, _mm_madd_epi16(i8lo(x), i8lo(y)));
    acc1 = _mm_add_epi32(acc1, _mm_madd_epi16(i8hi(x), i8hi(y)));
  }
  _mm_storeu_si128((__m128i *)t, _mm_add_epi32(acc0, acc1));
  return (int64_t)(t[0] + t[1] + t[2] + t[3]) + vl_dot_i8_scalar(a + i, b + i, dim - i);
}
static const vl_kernel k_sse2 = {"sse2", l2sq_sse2, dot_sse2, l2sq_whole_sse2, dot_whole_sse2, l2sq_i8_sse2, dot_i8_sse2};
#if defined(VL_AVX)
static const vl_kernel k_avx2 = {"avx2", l2sq_avx2, dot_avx2, l2sq_whole_avx2, dot_whole_avx2, l2sq_i8_avx2, dot_i8_avx2};
static const vl_kernel k_avx512 = {"avx512", l2sq_avx512, dot_avx512, l2sq_whole_avx512, dot_whole_avx512, l2sq_i8_avx512, dot_i8_avx512};
int64_t vl_l2sq(const int32_t *a, const int32_t *b, uint32_t dim) {
  return vl_cpu_avx512f() ? l2sq_avx512(a, b, dim) : vl_cpu_avx2() ? l2sq_avx2(a, b, dim) : l2sq_sse2(a, b, dim);
}
int64_t vl_dot(const int32_t *a, const int32_t *b, uint32_t dim) {
  return vl_cpu_avx512f() ? dot_avx512(a, b, dim) : vl_cpu_avx2() ? dot_avx2(a, b, dim) : dot_sse2(a, b, dim);
}
int64_t vl_l2sq_whole(const int32_t *a, const int32_t *b, uint32_t dim) {
  return vl_cpu_avx512bw() ? l2sq_whole_avx512(a, b, dim) : vl_cpu_avx2() ? l2sq_whole_avx2(a, b, dim) : l2sq_whole_sse2(a, b, dim);
}
int64_t vl_dot_whole(const int32_t *a, const int32_t *b, uint32_t dim) {
  return vl_cpu_avx512bw() ? dot_whole_avx512(a, b, dim) : vl_cpu_avx2() ? dot_whole_avx2(a, b, dim) : dot_whole_sse2(a, b, dim);
}
int64_t vl_l2sq_i8(const int8_t *a, const int8_t *b, uint32_t dim) {
  return vl_cpu_avx512bw() ? l2sq_i8_avx512(a, b, dim) : vl_cpu_avx2() ? l2sq_i8_avx2(a, b, dim) : l2sq_i8_sse2(a, b, dim);
}
int64_t vl_dot_i8(const int8_t *a, const int8_t *b, uint32_t dim) {
  return vl_cpu_avx512bw() ? dot_i8_avx512(a, b, dim) : vl_cpu_avx2() ? dot_i8_avx2(a, b, dim) : dot_i8_sse2(a, b, dim);
}
const char *vl_dist_kernel(void) { return vl_cpu_avx512f() ? "avx512" : vl_cpu_avx2() ? "avx2" : "sse2"; }
static size_t simd_kernels(vl_kernel *out) {
  size_t n = 0;
  out[n++] = k_sse2;
  if (vl_cpu_avx2()) out[n++] = k_avx2;
  if (vl_cpu_avx512f()) {
    out[n] = k_avx512;
    if (!vl_cpu_avx512bw()) { /* the whole-valued kernels need AVX-512BW: AVX2 ones, as vl_l2sq_whole uses */
      out[n].l2sq_whole = l2sq_whole_avx2;
      out[n].dot_whole = dot_whole_avx2;
      out[n].l2sq_i8 = l2sq_i8_avx2;
      out[n].dot_i8 = dot_i8_avx2;
    }
    n++;
  }
  return n;
}
#else
int64_t vl_l2sq(const int32_t *a, const int32_t *b, uint32_t dim) { return l2sq_sse2(a, b, dim); }
int64_t vl_dot(const int32_t *a, const int32_t *b, uint32_t dim) { return dot_sse2(a, b, dim); }
int64_t vl_l2sq_whole(const int32_t *a, const int32_t *b, uint32_t dim) { return l2sq_whole_sse2(a, b, dim); }
int64_t vl_dot_whole(const int32_t *a, const int32_t *b, uint32_t dim) { return dot_whole_sse2(a, b, dim); }
int64_t vl_l2sq_i8(const int8_t *a, const int8_t *b, uint32_t dim) { return l2sq_i8_sse2(a, b, dim); }
int64_t vl_dot_i8(const int8_t *a, const int8_t *b, uint32_t dim) { return dot_i8_sse2(a, b, dim); }
const char *vl_dist_kernel(void) { return "sse2"; }
static size_t simd_kernels(vl_kernel *out) { out[0] = k_sse2; return 1; }
#endif
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
/* The high 16-bit halves of eight 32-bit lanes (little-endian: the odd 16-bit elements). */
static inline int16x8_t hi16(int32x4_t x, int32x4_t y) { return vuzp2q_s16(vreinterpretq_s16_s32(x), vreinterpretq_s16_s32(y)); }
int64_t vl_l2sq_whole(const int32_t *a, const int32_t *b, uint32_t dim) {
  int32x4_t acc0 = vdupq_n_s32(0), acc1 = vdupq_n_s32(0);
  uint32_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    int16x8_t d = hi16(vsubq_s32(vld1q_s32(a + i), vld1q_s32(b + i)), vsubq_s32(vld1q_s32(a + i + 4), vld1q_s32(b + i + 4)));
    acc0 = vmlal_s16(acc0, vget_low_s16(d), vget_low_s16(d));
    acc1 = vmlal_high_s16(acc1, d, d);
  }
  return VL_TIMES_2_32(vaddvq_s32(vaddq_s32(acc0, acc1))) + vl_l2sq_scalar(a + i, b + i, dim - i);
}
int64_t vl_dot_whole(const int32_t *a, const int32_t *b, uint32_t dim) {
  int32x4_t acc0 = vdupq_n_s32(0), acc1 = vdupq_n_s32(0);
  uint32_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    int16x8_t x = hi16(vld1q_s32(a + i), vld1q_s32(a + i + 4)), y = hi16(vld1q_s32(b + i), vld1q_s32(b + i + 4));
    acc0 = vmlal_s16(acc0, vget_low_s16(x), vget_low_s16(y));
    acc1 = vmlal_high_s16(acc1, x, y);
  }
  return VL_TIMES_2_32(vaddvq_s32(vaddq_s32(acc0, acc1))) + vl_dot_scalar(a + i, b + i, dim - i);
}
/* int8: vsubl_s8 widens the byte differences to 16 bits, vmlal_s16 multiply-adds into 32 bits. */
int64_t vl_l2sq_i8(const int8_t *a, const int8_t *b, uint32_t dim) {
  int32x4_t acc0 = vdupq_n_s32(0), acc1 = vdupq_n_s32(0);
  uint32_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    int8x16_t x = vld1q_s8(a + i), y = vld1q_s8(b + i);
    int16x8_t d0 = vsubl_s8(vget_low_s8(x), vget_low_s8(y)), d1 = vsubl_high_s8(x, y);
    acc0 = vmlal_s16(acc0, vget_low_s16(d0), vget_low_s16(d0));
    acc1 = vmlal_high_s16(acc1, d0, d0);
    acc0 = vmlal_s16(acc0, vget_low_s16(d1), vget_low_s16(d1));
    acc1 = vmlal_high_s16(acc1, d1, d1);
  }
  return (int64_t)vaddvq_s32(vaddq_s32(acc0, acc1)) + vl_l2sq_i8_scalar(a + i, b + i, dim - i);
}
int64_t vl_dot_i8(const int8_t *a, const int8_t *b, uint32_t dim) {
  int32x4_t acc0 = vdupq_n_s32(0), acc1 = vdupq_n_s32(0);
  uint32_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    int8x16_t x = vld1q_s8(a + i), y = vld1q_s8(b + i);
    int16x8_t x0 = vmovl_s8(vget_low_s8(x)), y0 = vmovl_s8(vget_low_s8(y));
    int16x8_t x1 = vmovl_high_s8(x), y1 = vmovl_high_s8(y);
    acc0 = vmlal_s16(acc0, vget_low_s16(x0), vget_low_s16(y0));
    acc1 = vmlal_high_s16(acc1, x0, y0);
    acc0 = vmlal_s16(acc0, vget_low_s16(x1), vget_low_s16(y1));
    acc1 = vmlal_high_s16(acc1, x1, y1);
  }
  return (int64_t)vaddvq_s32(vaddq_s32(acc0, acc1)) + vl_dot_i8_scalar(a + i, b + i, dim - i);
}
const char *vl_dist_kernel(void) { return "neon"; }
static size_t simd_kernels(vl_kernel *out) {
  static const vl_kernel k = {"neon", vl_l2sq, vl_dot, vl_l2sq_whole, vl_dot_whole, vl_l2sq_i8, vl_dot_i8};
  out[0] = k;
  return 1;
}
#elif defined(VL_WASM)
/* i64x2.extmul_{low,high}_i32x4_s: exact signed 32x32 -> 64 products of two lanes each. */
int64_t vl_l2sq(const int32_t *a, const int32_t *b, uint32_t dim) {
  v128_t acc0 = wasm_i64x2_splat(0), acc1 = wasm_i64x2_splat(0);
  uint32_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    v128_t d = wasm_i32x4_sub(wasm_v128_load(a + i), wasm_v128_load(b + i));
    acc0 = wasm_i64x2_add(acc0, wasm_i64x2_extmul_low_i32x4(d, d));
    acc1 = wasm_i64x2_add(acc1, wasm_i64x2_extmul_high_i32x4(d, d));
  }
  acc0 = wasm_i64x2_add(acc0, acc1);
  return wasm_i64x2_extract_lane(acc0, 0) + wasm_i64x2_extract_lane(acc0, 1) + vl_l2sq_scalar(a + i, b + i, dim - i);
}
int64_t vl_dot(const int32_t *a, const int32_t *b, uint32_t dim) {
  v128_t acc0 = wasm_i64x2_splat(0), acc1 = wasm_i64x2_splat(0);
  uint32_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    v128_t x = wasm_v128_load(a + i), y = wasm_v128_load(b + i);
    acc0 = wasm_i64x2_add(acc0, wasm_i64x2_extmul_low_i32x4(x, y));
    acc1 = wasm_i64x2_add(acc1, wasm_i64x2_extmul_high_i32x4(x, y));
  }
  acc0 = wasm_i64x2_add(acc0, acc1);
  return wasm_i64x2_extract_lane(acc0, 0) + wasm_i64x2_extract_lane(acc0, 1) + vl_dot_scalar(a + i, b + i, dim - i);
}
int64_t vl_l2sq_whole(const int32_t *a, const int32_t *b, uint32_t dim) {
  v128_t acc0 = wasm_i32x4_splat(0), acc1 = wasm_i32x4_splat(0);
  uint32_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    v128_t d0 = wasm_i32x4_sub(wasm_v128_load(a + i), wasm_v128_load(b + i));
    v128_t d1 = wasm_i32x4_sub(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4));
    acc0 = wasm_i32x4_add(acc0, wasm_i32x4_dot_i16x8(d0, d0));
    acc1 = wasm_i32x4_add(acc1, wasm_i32x4_dot_i16x8(d1, d1));
  }
  acc0 = wasm_i32x4_add(acc0, acc1);
  return VL_TIMES_2_32(wasm_i32x4_extract_lane(acc0, 0) + wasm_i32x4_extract_lane(acc0, 1) +
                       wasm_i32x4_extract_lane(acc0, 2) + wasm_i32x4_extract_lane(acc0, 3)) +
         vl_l2sq_scalar(a + i, b + i, dim - i);
}
int64_t vl_dot_whole(const int32_t *a, const int32_t *b, uint32_t dim) {
  v128_t acc0 = wasm_i32x4_splat(0), acc1 = wasm_i32x4_splat(0);
  uint32_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    acc0 = wasm_i32x4_add(acc0, wasm_i32x4_dot_i16x8(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    acc1 = wasm_i32x4_add(acc1, wasm_i32x4_dot_i16x8(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4)));
  }
  acc0 = wasm_i32x4_add(acc0, acc1);
  return VL_TIMES_2_32(wasm_i32x4_extract_lane(acc0, 0) + wasm_i32x4_extract_lane(acc0, 1) +
                       wasm_i32x4_extract_lane(acc0, 2) + wasm_i32x4_extract_lane(acc0, 3)) +
         vl_dot_scalar(a + i, b + i, dim - i);
}
/* int8: bytes sign-extended to 16 bits (i16x8.extend_{low,high}_i8x16_s), then i32x4.dot_i16x8_s. */
static inline int32_t wasm_sum4(v128_t x) {
  return wasm_i32x4_extract_lane(x, 0) + wasm_i32x4_extract_lane(x, 1) + wasm_i32x4_extract_lane(x, 2) +
         wasm_i32x4_extract_lane(x, 3);
}
int64_t vl_l2sq_i8(const int8_t *a, const int8_t *b, uint32_t dim) {
  v128_t acc0 = wasm_i32x4_splat(0), acc1 = wasm_i32x4_splat(0);
  uint32_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    v128_t x = wasm_v128_load(a + i), y = wasm_v128_load(b + i);
    v128_t d0 = wasm_i16x8_sub(wasm_i16x8_extend_low_i8x16(x), wasm_i16x8_extend_low_i8x16(y));
    v128_t d1 = wasm_i16x8_sub(wasm_i16x8_extend_high_i8x16(x), wasm_i16x8_extend_high_i8x16(y));
    acc0 = wasm_i32x4_add(acc0, wasm_i32x4_dot_i16x8(d0, d0));
    acc1 = wasm_i32x4_add(acc1, wasm_i32x4_dot_i16x8(d1, d1));
  }
  return (int64_t)wasm_sum4(wasm_i32x4_add(acc0, acc1)) + vl_l2sq_i8_scalar(a + i, b + i, dim - i);
}
int64_t vl_dot_i8(const int8_t *a, const int8_t *b, uint32_t dim) {
  v128_t acc0 = wasm_i32x4_splat(0), acc1 = wasm_i32x4_splat(0);
  uint32_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    v128_t x = wasm_v128_load(a + i), y = wasm_v128_load(b + i);
    acc0 = wasm_i32x4_add(acc0, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(x), wasm_i16x8_extend_low_i8x16(y)));
    acc1 = wasm_i32x4_add(acc1, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(x), wasm_i16x8_extend_high_i8x16(y)));
  }
  return (int64_t)wasm_sum4(wasm_i32x4_add(acc0, acc1)) + vl_dot_i8_scalar(a + i, b + i, dim - i);
}
const char *vl_dist_kernel(void) { return "wasm-simd128"; }
static size_t simd_kernels(vl_kernel *out) {
  static const vl_kernel k = {"wasm-simd128", vl_l2sq, vl_dot, vl_l2sq_whole, vl_dot_whole, vl_l2sq_i8, vl_dot_i8};
  out[0] = k;
  return 1;
}
#else
int64_t vl_l2sq(const int32_t *a, const int32_t *b, uint32_t dim) { return vl_l2sq_scalar(a, b, dim); }
int64_t vl_dot(const int32_t *a, const int32_t *b, uint32_t dim) { return vl_dot_scalar(a, b, dim); }
int64_t vl_l2sq_whole(const int32_t *a, const int32_t *b, uint32_t dim) { return vl_l2sq_scalar(a, b, dim); }
int64_t vl_dot_whole(const int32_t *a, const int32_t *b, uint32_t dim) { return vl_dot_scalar(a, b, dim); }
int64_t vl_l2sq_i8(const int8_t *a, const int8_t *b, uint32_t dim) { return vl_l2sq_i8_scalar(a, b, dim); }
int64_t vl_dot_i8(const int8_t *a, const int8_t *b, uint32_t dim) { return vl_dot_i8_scalar(a, b, dim); }
const char *vl_dist_kernel(void) { return "scalar"; }
static size_t simd_kernels(vl_kernel *out) { VL_UNUSED(out); return 0; }
#endif

/* Packed whole-valued queries (dist.h). The high 16 bits of a whole-valued component are h. */
void vl_qpack(const int32_t *q, uint32_t dim, int16_t *out) {
  uint32_t c, j;
  for (c = 0; c + 8 <= dim; c += 8)
    for (j = 0; j < 4; j++) {
      out[c + 2 * j] = (int16_t)(q[c + 4 + j] >> 16);
      out[c + 2 * j + 1] = (int16_t)(q[c + j] >> 16);
    }
}

#if defined(VL_QPACK)
/* Per block of 8: the OR of y[c..c+3] with y[c+4..c+7] shifted down 16 (logical) puts the eight h
** of y in the order of qp; an i16 subtract is exact (|hq - hy| <= 2^9) and i32x4.dot_i16x8_s adds
** two squares (or products) per lane: 2^19 per lane and block at most, 2^28 over 512 blocks. */
int64_t vl_l2sq_whole_qp(const int16_t *qp, const int32_t *q, const int32_t *y, uint32_t dim) {
  v128_t acc0 = wasm_i32x4_splat(0), acc1 = wasm_i32x4_splat(0);
  uint32_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    v128_t y0 = wasm_v128_or(wasm_v128_load(y + i), wasm_u32x4_shr(wasm_v128_load(y + i + 4), 16));
    v128_t y1 = wasm_v128_or(wasm_v128_load(y + i + 8), wasm_u32x4_shr(wasm_v128_load(y + i + 12), 16));
    v128_t d0 = wasm_i16x8_sub(wasm_v128_load(qp + i), y0), d1 = wasm_i16x8_sub(wasm_v128_load(qp + i + 8), y1);
    acc0 = wasm_i32x4_add(acc0, wasm_i32x4_dot_i16x8(d0, d0));
    acc1 = wasm_i32x4_add(acc1, wasm_i32x4_dot_i16x8(d1, d1));
  }
  if (i + 8 <= dim) {
    v128_t d0 = wasm_i16x8_sub(wasm_v128_load(qp + i),
                               wasm_v128_or(wasm_v128_load(y + i), wasm_u32x4_shr(wasm_v128_load(y + i + 4), 16)));
    acc0 = wasm_i32x4_add(acc0, wasm_i32x4_dot_i16x8(d0, d0));
    i += 8;
  }
  acc0 = wasm_i32x4_add(acc0, acc1);
  return VL_TIMES_2_32(wasm_i32x4_extract_lane(acc0, 0) + wasm_i32x4_extract_lane(acc0, 1) +
                       wasm_i32x4_extract_lane(acc0, 2) + wasm_i32x4_extract_lane(acc0, 3)) +
         vl_l2sq_scalar(q + i, y + i, dim - i);
}
int64_t vl_dot_whole_qp(const int16_t *qp, const int32_t *q, const int32_t *y, uint32_t dim) {
  v128_t acc0 = wasm_i32x4_splat(0), acc1 = wasm_i32x4_splat(0);
  uint32_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    v128_t y0 = wasm_v128_or(wasm_v128_load(y + i), wasm_u32x4_shr(wasm_v128_load(y + i + 4), 16));
    v128_t y1 = wasm_v128_or(wasm_v128_load(y + i + 8), wasm_u32x4_shr(wasm_v128_load(y + i + 12), 16));
    acc0 = wasm_i32x4_add(acc0, wasm_i32x4_dot_i16x8(wasm_v128_load(qp + i), y0));
    acc1 = wasm_i32x4_add(acc1, wasm_i32x4_dot_i16x8(wasm_v128_load(qp + i + 8), y1));
  }
  if (i + 8 <= dim) {
    v128_t y0 = wasm_v128_or(wasm_v128_load(y + i), wasm_u32x4_shr(wasm_v128_load(y + i + 4), 16));
    acc0 = wasm_i32x4_add(acc0, wasm_i32x4_dot_i16x8(wasm_v128_load(qp + i), y0));
    i += 8;
  }
  acc0 = wasm_i32x4_add(acc0, acc1);
  return VL_TIMES_2_32(wasm_i32x4_extract_lane(acc0, 0) + wasm_i32x4_extract_lane(acc0, 1) +
                       wasm_i32x4_extract_lane(acc0, 2) + wasm_i32x4_extract_lane(acc0, 3)) +
         vl_dot_scalar(q + i, y + i, dim - i);
}
#else
/* The scalar reference of the layout: the packed blocks from qp, the tail from q. */
int64_t vl_l2sq_whole_qp(const int16_t *qp, const int32_t *q, const int32_t *y, uint32_t dim) {
  int64_t s = 0;
  uint32_t c, j;
  for (c = 0; c + 8 <= dim; c += 8)
    for (j = 0; j < 4; j++) {
      int64_t d0 = (int64_t)qp[c + 2 * j] - (y[c + 4 + j] >> 16), d1 = (int64_t)qp[c + 2 * j + 1] - (y[c + j] >> 16);
      s += d0 * d0 + d1 * d1;
    }
  return VL_TIMES_2_32(s) + vl_l2sq_scalar(q + c, y + c, dim - c);
}
int64_t vl_dot_whole_qp(const int16_t *qp, const int32_t *q, const int32_t *y, uint32_t dim) {
  int64_t s = 0;
  uint32_t c, j;
  for (c = 0; c + 8 <= dim; c += 8)
    for (j = 0; j < 4; j++) s += (int64_t)qp[c + 2 * j] * (y[c + 4 + j] >> 16) + (int64_t)qp[c + 2 * j + 1] * (y[c + j] >> 16);
  return VL_TIMES_2_32(s) + vl_dot_scalar(q + c, y + c, dim - c);
}
#endif

size_t vl_dist_kernels(vl_kernel *out) {
  static const vl_kernel scalar = {"scalar",         vl_l2sq_scalar,    vl_dot_scalar, vl_l2sq_scalar,
                                   vl_dot_scalar,    vl_l2sq_i8_scalar, vl_dot_i8_scalar};
  out[0] = scalar;
  return 1 + simd_kernels(out + 1);
}
