/*
** compact.c: the compact traversal copy's integer rules (see compact.h).
*/
#include "compact.h"

int vl_trav_quantize(const int32_t *v, uint32_t dim, uint32_t w, int8_t *out) {
  uint32_t i, s = vl_trav_shift(w);
  int32_t c = vl_trav_center(w);
  int exact = 1;
  for (i = 0; i < dim; i++) {
    out[i] = vl_trav_q(v[i], s, c);
    exact &= vl_trav_lossless(v[i], out[i], s, c);
  }
  return exact;
}

uint32_t vl_trav_for_range(int32_t lo, int32_t hi) {
  int64_t range = (int64_t)hi - (int64_t)lo;
  uint32_t s;
  for (s = 0; s < 31; s++) {
    int64_t c = vl_trav_rha(lo, s) + 128;
    if (range <= ((int64_t)255 << s) && c >= -32768 && c <= 32767) break;
  }
  return vl_trav_word(s, (int32_t)(vl_trav_rha(lo, s) + 128));
}
