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
/* Converts dim floats; stops at the first bad component and returns its code. */
int vl_vec_from_f32(const float *src, uint32_t dim, int32_t *dst);
/* True when a Q16.16 component is inside the supported range. */
static inline int vl_q16_ok(int32_t q) { return q >= -VALORI_Q16_MAX && q <= VALORI_Q16_MAX; }

#endif
