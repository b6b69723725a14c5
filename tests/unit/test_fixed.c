/*
** test_fixed.c: the binary32 -> Q16.16 boundary against an independent oracle (double arithmetic
** with explicit half-to-even), across boundary cases, a strided sweep of all 2^32 bit patterns, and
** the exact inverse for every Q16.16 value in range.
*/
#include "fixed.h"
#include "vt.h"

/* Oracle: x * 65536 is exact in double; round half to even by hand; NaN/Inf/range by value. */
static int oracle(uint32_t bits, int32_t *q) {
  float f;
  double v, t;
  int64_t ti;
  memcpy(&f, &bits, 4);
  if (f != f) return VALORI_ENAN;
  if (((bits >> 23) & 0xFFu) == 0xFFu) return VALORI_EINF; /* NaN handled above */
  if (f > 256.0f || f < -256.0f) return VALORI_ERANGE;
  v = (double)f * 65536.0;
  ti = (int64_t)v; /* truncates toward zero */
  t = v - (double)ti;
  if (t > 0.5 || (t == 0.5 && (ti & 1))) ti++;
  if (t < -0.5 || (t == -0.5 && (ti & 1))) ti--;
  *q = (int32_t)ti;
  return VALORI_OK;
}

static uint32_t fbits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }

static void test_boundaries(void) {
  int32_t q = 12345;
  VT_EQ_INT(vl_f32bits_to_q16(fbits(256.0f), &q), VALORI_OK); VT_EQ_INT(q, 1 << 24);
  VT_EQ_INT(vl_f32bits_to_q16(fbits(-256.0f), &q), VALORI_OK); VT_EQ_INT(q, -(1 << 24));
  VT_EQ_INT(vl_f32bits_to_q16(fbits(256.0f) + 1, &q), VALORI_ERANGE);
  VT_EQ_INT(vl_f32bits_to_q16(0x7F800000u, &q), VALORI_EINF);
  VT_EQ_INT(vl_f32bits_to_q16(0xFF800000u, &q), VALORI_EINF);
  VT_EQ_INT(vl_f32bits_to_q16(0x7FC00000u, &q), VALORI_ENAN);
  VT_EQ_INT(vl_f32bits_to_q16(0xFF800001u, &q), VALORI_ENAN);
  VT_EQ_INT(vl_f32bits_to_q16(0x7F7FFFFFu, &q), VALORI_ERANGE); /* FLT_MAX */
  q = 7;
  VT_EQ_INT(vl_f32bits_to_q16(0x80000000u, &q), VALORI_OK); VT_EQ_INT(q, 0); /* -0 */
  VT_EQ_INT(vl_f32bits_to_q16(0x00000001u, &q), VALORI_OK); VT_EQ_INT(q, 0); /* subnormal */
  /* ties: 0.5, 1.5, 2.5 units of 2^-16 round to even */
  VT_EQ_INT(vl_f32bits_to_q16(fbits(0.5f / 65536), &q), VALORI_OK); VT_EQ_INT(q, 0);
  VT_EQ_INT(vl_f32bits_to_q16(fbits(1.5f / 65536), &q), VALORI_OK); VT_EQ_INT(q, 2);
  VT_EQ_INT(vl_f32bits_to_q16(fbits(2.5f / 65536), &q), VALORI_OK); VT_EQ_INT(q, 2);
  VT_EQ_INT(vl_f32bits_to_q16(fbits(-2.5f / 65536), &q), VALORI_OK); VT_EQ_INT(q, -2);
  VT_EQ_INT(vl_f32bits_to_q16(fbits(-3.5f / 65536), &q), VALORI_OK); VT_EQ_INT(q, -4);
  VT_EQ_INT(vl_f32bits_to_q16(fbits(0.75f / 65536), &q), VALORI_OK); VT_EQ_INT(q, 1);
  VT_EQ_INT(vl_f32bits_to_q16(fbits(0.1f), &q), VALORI_OK); VT_EQ_INT(q, 6554);
  VT_EQ_INT(vl_f32bits_to_q16(fbits(-1.0f), &q), VALORI_OK); VT_EQ_INT(q, -65536);
  VT_EQ_INT(vl_f32bits_to_q16(fbits(255.99998f), &q), VALORI_OK); VT_EQ_INT(q, (1 << 24) - 1);
  /* rejected input leaves the output untouched */
  q = 99;
  vl_f32bits_to_q16(0x7FC00000u, &q);
  VT_EQ_INT(q, 99);
}

static void test_sweep_against_oracle(void) {
  uint64_t b;
  long bad = 0, n = 0;
  for (b = 0; b <= 0xFFFFFFFFull; b += 977) { /* ~4.4 million patterns, every exponent */
    int32_t q1 = 0, q2 = 0;
    int r1 = vl_f32bits_to_q16((uint32_t)b, &q1), r2 = oracle((uint32_t)b, &q2);
    n++;
    if (r1 != r2 || (r1 == VALORI_OK && q1 != q2)) {
      if (bad++ < 5) fprintf(stderr, "bits %08x: got %d/%d want %d/%d\n", (unsigned)b, r1, q1, r2, q2);
    }
  }
  printf("  %ld patterns checked\n", n);
  VT_EQ_INT(bad, 0);
}

static void test_inverse_exact(void) {
  int32_t q;
  long bad = 0;
  for (q = -(1 << 24); q <= (1 << 24); q++) {
    int32_t back = 0;
    uint32_t bits = vl_q16_to_f32bits(q);
    float f;
    memcpy(&f, &bits, 4);
    if (vl_f32bits_to_q16(bits, &back) != VALORI_OK || back != q || (double)f != (double)q / 65536.0) bad++;
  }
  VT_EQ_INT(bad, 0);
}

/* The branch-free whole-vector conversion must agree with the reference on every accepted input
** and flag every rejected one. Sweeps: all bit patterns with a stride, and, denser, the exponents
** where rounding happens (values 2^-27 .. 2^9, both signs). VALORI_FIXED_EXHAUSTIVE=1 checks all
** 2^32 patterns instead (by hand; about a minute). */
static long branchless_sweep(uint64_t from, uint64_t to, uint64_t step, long *bad) {
  uint64_t b;
  long n = 0;
  for (b = from; b < to; b += step) {
    uint32_t bits = (uint32_t)b, flagged = 0;
    int32_t q1 = 0, q2 = vl_q16_of_bits(bits, &flagged);
    int r1 = vl_f32bits_to_q16(bits, &q1);
    n++;
    if ((r1 != VALORI_OK) != (flagged != 0) || (r1 == VALORI_OK && q1 != q2))
      if ((*bad)++ < 5) fprintf(stderr, "bits %08x: ref %d/%d branchless %u/%d\n", (unsigned)bits, r1, q1, flagged, q2);
  }
  return n;
}

static void test_branchless_equals_reference(void) {
  long bad = 0, n = 0;
  if (getenv("VALORI_FIXED_EXHAUSTIVE")) {
    n = branchless_sweep(0, 1ull << 32, 1, &bad);
  } else {
    n += branchless_sweep(0, 1ull << 32, 977, &bad);
    n += branchless_sweep(100ull << 23, 137ull << 23, 331, &bad);
    n += branchless_sweep((100ull << 23) | 0x80000000u, (137ull << 23) | 0x80000000u, 331, &bad);
  }
  printf("  %ld patterns checked\n", n);
  VT_EQ_INT(bad, 0);
}

/* vl_vec_from_f32 (SIMD where the CPU has it, 8 lanes at a time) against the reference, 64
** patterns per call: equal outputs when all are good, else the first bad one's code. */
static long vector_sweep(uint64_t from, uint64_t to, uint64_t step, long *bad) {
  uint64_t b = from;
  long n = 0;
  while (b < to) {
    float f[64];
    int32_t want[64], got[64];
    int first = VALORI_OK, rc;
    uint32_t i, m = 0;
    for (; m < 64 && b < to; m++, b += step) {
      uint32_t bits = (uint32_t)b;
      int r = vl_f32bits_to_q16(bits, &want[m]);
      if (r != VALORI_OK && first == VALORI_OK) first = r;
      memcpy(&f[m], &bits, 4);
    }
    rc = vl_vec_from_f32(f, m, got);
    n += m;
    if (rc != first) {
      if ((*bad)++ < 5) fprintf(stderr, "batch at %08x: code %d, want %d\n", (unsigned)(b - m * step), rc, first);
    } else if (rc == VALORI_OK) {
      for (i = 0; i < m; i++)
        if (got[i] != want[i] && (*bad)++ < 5) fprintf(stderr, "vector lane %u: %d want %d\n", i, got[i], want[i]);
    }
  }
  return n;
}

static void test_vector_equals_reference(void) {
  long bad = 0, n = 0;
  if (getenv("VALORI_FIXED_EXHAUSTIVE")) {
    n = vector_sweep(0, 1ull << 32, 1, &bad);
  } else {
    n += vector_sweep(0, 1ull << 32, 977, &bad);
    n += vector_sweep(100ull << 23, 137ull << 23, 331, &bad); /* accepted values, rounding cases */
    n += vector_sweep((100ull << 23) | 0x80000000u, (137ull << 23) | 0x80000000u, 331, &bad);
  }
  printf("  %ld patterns checked\n", n);
  VT_EQ_INT(bad, 0);
}

/* vl_vec_from_f32 reports the code of the first bad component, wherever it is. */
static void test_vector_first_error(void) {
  float v[40];
  int32_t q[40];
  uint32_t i, nan = 0x7FC00000u, inf = 0x7F800000u;
  for (i = 0; i < 40; i++) v[i] = (float)i * 0.25f - 3.0f;
  VT_EQ_INT(vl_vec_from_f32(v, 40, q), VALORI_OK);
  for (i = 0; i < 40; i++) VT_EQ_INT(q[i], (int32_t)i * 16384 - 3 * 65536);
  v[30] = 300.0f;
  memcpy(&v[31], &nan, 4);
  VT_EQ_INT(vl_vec_from_f32(v, 40, q), VALORI_ERANGE);
  memcpy(&v[7], &inf, 4);
  VT_EQ_INT(vl_vec_from_f32(v, 40, q), VALORI_EINF);
  memcpy(&v[2], &nan, 4);
  VT_EQ_INT(vl_vec_from_f32(v, 40, q), VALORI_ENAN);
}

int main(void) {
  VT_RUN(test_boundaries);
  VT_RUN(test_branchless_equals_reference);
  VT_RUN(test_vector_equals_reference);
  VT_RUN(test_vector_first_error);
  VT_RUN(test_sweep_against_oracle);
  VT_RUN(test_inverse_exact);
  return VT_DONE();
}
