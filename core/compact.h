/*
** compact.h: the compact traversal copy (docs/DETERMINISM.md, "Compact traversal copy").
**
** A store configured with a traversal word (valori_traversal_int8) keeps, next to each slot's
** Q16.16 vector, an int8 copy derived from it by integer operations only:
**   q = clamp(rha(v / 2^s) - c, -128, 127)
** where rha(x / 2^s) rounds half away from zero (s = 0: x itself). HNSW searches walk the graph on
** these copies (dist.h, vl_l2sq_i8 / vl_dot_i8) and re-rank the candidates with the exact distance.
** The copy is derived state: rebuilt whenever a slot's vector is written (insert, update, restore
** from a snapshot, replay); it is never stored, so snapshots and the index digest do not hold it.
**
** Traversal word (u32): bits 0..7 kind (1 = int8), bits 8..12 s (0..31), bits 13..15 zero,
** bits 16..31 c (two's-complement int16). 0 = no compact copy.
*/
#ifndef VL_COMPACT_H
#define VL_COMPACT_H
#include "vl_int.h"

#define VL_TRAV_INT8 1u

static inline uint32_t vl_trav_kind(uint32_t w) { return w & 0xFFu; }
static inline uint32_t vl_trav_shift(uint32_t w) { return (w >> 8) & 31u; }
static inline int32_t vl_trav_center(uint32_t w) { return (int32_t)(int16_t)(uint16_t)(w >> 16); }
static inline uint32_t vl_trav_word(uint32_t s, int32_t c) {
  return VL_TRAV_INT8 | (s << 8) | ((uint32_t)(uint16_t)(int16_t)c << 16);
}
/* VALORI_OK for 0 and for every well-formed int8 word, else VALORI_EINVAL. */
static inline int vl_trav_check(uint32_t w) {
  if (w == 0) return VALORI_OK;
  return vl_trav_kind(w) == VL_TRAV_INT8 && (w & 0xE000u) == 0 ? VALORI_OK : VALORI_EINVAL;
}
/* rha(v / 2^s): v / 2^s rounded to the nearest integer, halves away from zero. */
static inline int64_t vl_trav_rha(int32_t v, uint32_t s) {
  int64_t x = v, h;
  if (s == 0) return x;
  h = (int64_t)1 << (s - 1);
  return x >= 0 ? (x + h) >> s : -((-x + h) >> s);
}
/* One component of the copy. */
static inline int8_t vl_trav_q(int32_t v, uint32_t s, int32_t c) {
  int64_t q = vl_trav_rha(v, s) - c;
  return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
}
/* Whether q is v exactly: v = (q + c) * 2^s (no rounding, no clamping). */
static inline int vl_trav_lossless(int32_t v, int8_t q, uint32_t s, int32_t c) {
  return (int64_t)v == ((int64_t)q + c) * ((int64_t)1 << s);
}
/* The copy of dim components under traversal word w (w != 0). Returns 1 when the copy is lossless
** (every component vl_trav_lossless), else 0. For two lossless copies qa, qb of the same word, the
** exact distance is the copies' distance times 2^(2s): L2, va - vb = (qa - qb) * 2^s; inner
** product (centre 0 only, valori.h), va * vb = qa * qb * 2^(2s). vl_trav_exact uses that. */
int vl_trav_quantize(const int32_t *v, uint32_t dim, uint32_t w, int8_t *out);
/* The exact distance (dist.h units) of two vectors whose copies under w are both lossless, from
** the copies' distance d8 (vl_distance_i8): d8 * 2^(2s), computed modulo 2^64 as the exact kernels'
** int64 sums are, so the two agree bit for bit. */
static inline int64_t vl_trav_exact(int64_t d8, uint32_t w) {
  return (int64_t)((uint64_t)d8 << (2u * vl_trav_shift(w)));
}
/* The int8 word for the Q16.16 range [lo, hi] (lo <= hi): s is the smallest shift in 0..31 with
** hi - lo <= 255 * 2^s and c = rha(lo / 2^s) + 128 inside int16. Then q(lo) = -128, and when s > 0
** was set by the range, (hi - lo) / 2^s > 127.5, so q(hi) >= -1: [lo, hi] uses at least 128 of
** the 256 codes (all of them when hi - lo = 255 * 2^s, as for pixels, [0, 255]). */
uint32_t vl_trav_for_range(int32_t lo, int32_t hi);
#endif
