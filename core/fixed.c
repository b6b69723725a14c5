/*
** fixed.c: the input boundary. binary32 -> Q16.16 by integer operations on the float's bits, so the
** conversion needs no FPU and cannot vary between targets. Rounding is round-half-to-even on the
** exact binary value; NaN, infinities and |x| > 256 are rejected, never clamped. The inverse builds
** the binary32 bit pattern directly (exact for every |q| <= 2^24).
*/
#include "fixed.h"

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

int vl_vec_from_f32(const float *src, uint32_t dim, int32_t *dst) {
  uint32_t i, bits, bad = 0;
  for (i = 0; i < dim; i++) {
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
