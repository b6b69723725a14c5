/*
** fixed.c: the input boundary. binary32 -> Q16.16 by integer operations on the float's bits, so the
** conversion needs no FPU and cannot vary between targets. Rounding is round-half-to-even on the
** exact binary value; NaN, infinities and |x| > 256 are rejected, never clamped. The inverse builds
** the binary32 bit pattern directly (exact for every |q| <= 2^24).
*/
#include "fixed.h"

#include "cpu.h"

int vl_f32bits_to_q16(uint32_t bits, int32_t *out) {
  uint32_t sign = bits >> 31, exp = (bits >> 23) & 0xFFu, frac = bits & 0x7FFFFFu;
  uint32_t m, q;
  int sh;
  if (exp == 0xFFu) return frac ? VALORI_ENAN : VALORI_EINF;
  if (exp == 0) { /* zero or subnormal: |x| < 2^-126, rounds to 0 */
    *out = 0;
    return VALORI_OK;
  }
  m = frac | 0x800000u;            /* value = m * 2^(exp-150); q = value * 2^16 = m * 2^(exp-134) */
  sh = (int)exp - 134;
  if (sh >= 0) {
    if (sh > 1 || (sh == 1 && m != 0x800000u)) return VALORI_ERANGE; /* |x| > 256 */
    q = m << sh;                   /* exactly 2^24 (256.0) when sh == 1 */
  } else {
    int r = -sh;
    if (r >= 25) {
      q = 0;                       /* m < 2^24 <= 2^(r-1): below one half, rounds to 0 */
    } else {
      uint32_t rem = m & ((1u << r) - 1u), half = 1u << (r - 1);
      q = m >> r;
      if (rem > half || (rem == half && (q & 1u))) q++;
    }
  }
  *out = sign ? -(int32_t)q : (int32_t)q;
  return VALORI_OK;
}

uint32_t vl_q16_to_f32bits(int32_t q) {
  uint32_t sign = q < 0 ? 0x80000000u : 0u;
  uint32_t a = q < 0 ? (uint32_t)0 - (uint32_t)q : (uint32_t)q;
  uint32_t p = 0, mant;
  if (a == 0) return 0;
  while ((a >> p) > 1u) p++;       /* p = index of the most significant bit */
  mant = p <= 23 ? (a << (23 - p)) : (a >> (p - 23));
  return sign | ((p + 127u - 16u) << 23) | (mant & 0x7FFFFFu);
}

int valori_f32_to_q16(float x, int32_t *out) {
  uint32_t bits;
  if (!out) return VALORI_EINVAL;
  memcpy(&bits, &x, 4);
  return vl_f32bits_to_q16(bits, out);
}

float valori_q16_to_f32(int32_t q) {
  uint32_t bits = vl_q16_to_f32bits(q);
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

#if defined(VL_CPU_DISPATCH)
#define VL_CVT_AVX2 1
#include <immintrin.h>
/* vl_q16_of_bits on 8 lanes (AVX2 has per-lane variable shifts); returns nonzero if any lane is bad.
** Every intermediate is below 2^31, so signed compares are unsigned ones here. */
__attribute__((target("avx2"))) static int cvt8_avx2(const float *src, int32_t *dst) {
  const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
  __m256i bits = _mm256_loadu_si256((const __m256i *)(const void *)src);
  __m256i exp = _mm256_and_si256(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(0xFF));
  __m256i m = _mm256_and_si256(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x7FFFFF)),
                                               _mm256_set1_epi32(0x800000)),
                               _mm256_cmpgt_epi32(exp, zero));
  __m256i sh = _mm256_sub_epi32(exp, _mm256_set1_epi32(134));
  __m256i up = _mm256_and_si256(_mm256_cmpgt_epi32(sh, zero), one);
  __m256i r = _mm256_min_epu32(_mm256_and_si256(_mm256_sub_epi32(zero, sh), _mm256_cmpgt_epi32(zero, sh)),
                               _mm256_set1_epi32(31));
  __m256i q = _mm256_sllv_epi32(_mm256_srlv_epi32(m, r), up);
  __m256i unit = _mm256_sllv_epi32(one, r);
  __m256i rem = _mm256_and_si256(m, _mm256_sub_epi32(unit, one)), half = _mm256_srli_epi32(unit, 1);
  __m256i inc = _mm256_or_si256(_mm256_cmpgt_epi32(rem, half),
                                _mm256_and_si256(_mm256_cmpeq_epi32(rem, half),
                                                 _mm256_cmpeq_epi32(_mm256_and_si256(q, one), one)));
  __m256i smask = _mm256_srai_epi32(bits, 31);
  __m256i bad = _mm256_or_si256(
      _mm256_or_si256(_mm256_cmpeq_epi32(exp, _mm256_set1_epi32(0xFF)), _mm256_cmpgt_epi32(sh, one)),
      _mm256_andnot_si256(_mm256_cmpeq_epi32(m, _mm256_set1_epi32(0x800000)), _mm256_cmpeq_epi32(sh, one)));
  q = _mm256_sub_epi32(q, _mm256_andnot_si256(_mm256_cmpeq_epi32(r, zero), inc)); /* +1 where rounding up */
  _mm256_storeu_si256((__m256i *)(void *)dst, _mm256_sub_epi32(_mm256_xor_si256(q, smask), smask));
  return _mm256_movemask_epi8(bad) != 0;
}
#endif

int vl_vec_from_f32(const float *src, uint32_t dim, int32_t *dst) {
  uint32_t i = 0, bits, bad = 0;
#ifdef VL_CVT_AVX2
  if (vl_cpu_avx2())
    for (; i + 8 <= dim; i += 8) bad |= (uint32_t)cvt8_avx2(src + i, dst + i);
#endif
  for (; i < dim; i++) {
    memcpy(&bits, src + i, 4);
    dst[i] = vl_q16_of_bits(bits, &bad);
  }
  if (bad) /* rare: find the first bad component and its code */
    for (i = 0; i < dim; i++) {
      memcpy(&bits, src + i, 4);
      VL_TRY(vl_f32bits_to_q16(bits, dst + i));
    }
  return VALORI_OK;
}
