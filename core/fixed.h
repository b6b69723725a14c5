/*
** fixed.h: Q16.16 fixed point at the input boundary (docs/DETERMINISM.md, rule 1).
*/
#ifndef VL_FIXED_H
#define VL_FIXED_H
#include "vl_int.h"

/* binary32 bit pattern -> Q16.16, round half to even. ENAN / EINF / ERANGE, *out untouched. */
int vl_f32bits_to_q16(uint32_t bits, int32_t *out);
/* Q16.16 -> binary32 bit pattern, exact for |q| <= 2^24. */
uint32_t vl_q16_to_f32bits(int32_t q);
/* Converts dim floats. On a bad component returns the code of the first one (as
** vl_f32bits_to_q16 would) with dst partly written. */
int vl_vec_from_f32(const float *src, uint32_t dim, int32_t *dst);

/* The same conversion without branches, for loops over whole vectors (input zeros and signs are
** unpredictable, so a branchy loop mispredicts a lot). Returns q for a good input; for NaN, Inf or
** |x| > 256 it sets *bad to nonzero and returns an unspecified value: callers then re-run
** vl_f32bits_to_q16 to find the first bad component and its code. test_fixed.c checks that it
** equals vl_f32bits_to_q16 on every input the reference accepts and flags every one it rejects. */
static inline int32_t vl_q16_of_bits(uint32_t bits, uint32_t *bad) {
  uint32_t exp = (bits >> 23) & 0xFFu, sign = bits >> 31;
  uint32_t m = ((bits & 0x7FFFFFu) | 0x800000u) & (0u - (uint32_t)(exp != 0)); /* zero/subnormal -> 0 */
  int32_t sh = (int32_t)exp - 134;      /* q = m * 2^sh before rounding */
  uint32_t up = (uint32_t)(sh > 0), q, rem, half, inc;
  uint32_t r = (uint32_t)-sh & (0u - (uint32_t)(sh < 0)); /* right shift, 0 when sh >= 0 */
  r = r > 31u ? 31u : r;                /* m < 2^24: r >= 25 already rounds to 0 */
  q = (m >> r) << up;                   /* sh == 1 is valid only for m == 2^23 (256.0) */
  rem = m & ((1u << r) - 1u);
  half = (1u << r) >> 1;
  inc = ((uint32_t)(rem > half) | ((uint32_t)(rem == half) & q)) & 1u & (uint32_t)(r != 0);
  q += inc;
  *bad |= (uint32_t)(exp == 0xFFu) | (uint32_t)(sh > 1) | ((uint32_t)(sh == 1) & (uint32_t)(m != 0x800000u));
  return (int32_t)((q ^ (0u - sign)) + sign);
}
/* True when a Q16.16 component is inside the supported range. */
static inline int vl_q16_ok(int32_t q) { return q >= -VALORI_Q16_MAX && q <= VALORI_Q16_MAX; }

#endif
