/*
** lthash.c: LtHash16 over a ChaCha20 keystream (see lthash.h). add/sub generate the 32 keystream
** blocks one at a time as sixteen 32-bit words and fold them into the lanes at once: keystream word
** j of block b is bytes 4j..4j+3 of that block in little-endian order, so its low half is lane
** 32b+2j and its high half lane 32b+2j+1, with no byte serialization and no host-order dependence.
**
** The fold is where an index-less store spends most of an insert, so it has SIMD versions that
** compute several blocks at once, one block per vector lane ("word-sliced": vector i holds state
** word i of 4 or 8 consecutive blocks), then transpose 4x4 words so that each block's keystream
** lands on its own 32 lanes: SSE2 (x86 and, through Emscripten's SSE2 mapping, WebAssembly SIMD128)
** 4 blocks at a time, AVX2 8 and AVX-512F 16 blocks at a time where the CPU has them (chosen at
** run time). The
** ChaCha20 rounds are the same 32-bit additions, xors and rotations, and a lane-wise 16-bit add of
** a little-endian word vector is exactly the lane update above (SSE2 and wasm are little-endian), so
** every version gives the scalar one's lanes bit for bit; test_lthash.c compares them on random
** digests, and the identity suite compares targets with and without SIMD.
*/
#include "lthash.h"

#include "cpu.h"
#include "vl_int.h"

#if !defined(VALORI_NO_SIMD) && (defined(__SSE2__) || defined(_M_X64))
#define VL_LT_SSE2 1
#include <emmintrin.h>
#if defined(VL_CPU_DISPATCH)
#define VL_LT_AVX2 1 /* compiled with a target attribute, chosen at run time by CPU support */
#include <immintrin.h>
#endif
#endif

#define VL_ROTL32(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
#define VL_QR(a, b, c, d)                      \
  do {                                         \
    a += b; d ^= a; d = VL_ROTL32(d, 16);      \
    c += d; b ^= c; b = VL_ROTL32(b, 12);      \
    a += b; d ^= a; d = VL_ROTL32(d, 8);       \
    c += d; b ^= c; b = VL_ROTL32(b, 7);       \
  } while (0)

/* in: the 16-word initial state; out: the keystream block as 16 words (state after 20 rounds
** plus the initial state). */
static void vl_chacha20_core(const uint32_t in[16], uint32_t out[16]) {
  uint32_t x0 = in[0], x1 = in[1], x2 = in[2], x3 = in[3];
  uint32_t x4 = in[4], x5 = in[5], x6 = in[6], x7 = in[7];
  uint32_t x8 = in[8], x9 = in[9], x10 = in[10], x11 = in[11];
  uint32_t x12 = in[12], x13 = in[13], x14 = in[14], x15 = in[15];
  int r;
  for (r = 0; r < 10; r++) {
    VL_QR(x0, x4, x8, x12);
    VL_QR(x1, x5, x9, x13);
    VL_QR(x2, x6, x10, x14);
    VL_QR(x3, x7, x11, x15);
    VL_QR(x0, x5, x10, x15);
    VL_QR(x1, x6, x11, x12);
    VL_QR(x2, x7, x8, x13);
    VL_QR(x3, x4, x9, x14);
  }
  out[0] = x0 + in[0]; out[1] = x1 + in[1]; out[2] = x2 + in[2]; out[3] = x3 + in[3];
  out[4] = x4 + in[4]; out[5] = x5 + in[5]; out[6] = x6 + in[6]; out[7] = x7 + in[7];
  out[8] = x8 + in[8]; out[9] = x9 + in[9]; out[10] = x10 + in[10]; out[11] = x11 + in[11];
  out[12] = x12 + in[12]; out[13] = x13 + in[13]; out[14] = x14 + in[14]; out[15] = x15 + in[15];
}

/* Initial state: "expand 32-byte k", key, counter, nonce (all words little-endian). */
static void vl_chacha20_setup(uint32_t st[16], const uint8_t key[32], uint32_t counter, const uint8_t nonce[12]) {
  int i;
  st[0] = 0x61707865u; st[1] = 0x3320646eu; st[2] = 0x79622d32u; st[3] = 0x6b206574u;
  for (i = 0; i < 8; i++) st[4 + i] = vl_get32(key + 4 * i);
  st[12] = counter;
  st[13] = vl_get32(nonce);
  st[14] = vl_get32(nonce + 4);
  st[15] = vl_get32(nonce + 8);
}

void vl_chacha20_block(const uint8_t key[32], uint32_t counter, const uint8_t nonce[12], uint8_t out[64]) {
  uint32_t st[16], ks[16];
  int i;
  vl_chacha20_setup(st, key, counter, nonce);
  vl_chacha20_core(st, ks);
  for (i = 0; i < 16; i++) vl_put32(out + 4 * i, ks[i]);
}

void vl_lthash_zero(vl_lthash *h) {
  memset(h->lane, 0, sizeof h->lane);
}

/* sign 0: add, 1: subtract. The reference fold: one block at a time. */
void vl_lthash_fold_scalar(vl_lthash *h, const uint8_t digest[32], int sign) {
  static const uint8_t zero_nonce[12] = {0};
  uint32_t st[16], ks[16];
  uint16_t *lane = h->lane;
  uint32_t blk;
  int j;
  vl_chacha20_setup(st, digest, 0, zero_nonce);
  for (blk = 0; blk < VL_LTHASH_BYTES / 64; blk++) {
    st[12] = blk;
    vl_chacha20_core(st, ks);
    if (!sign) {
      for (j = 0; j < 16; j++) {
        lane[2 * j] = (uint16_t)(lane[2 * j] + (uint16_t)ks[j]);
        lane[2 * j + 1] = (uint16_t)(lane[2 * j + 1] + (uint16_t)(ks[j] >> 16));
      }
    } else {
      for (j = 0; j < 16; j++) {
        lane[2 * j] = (uint16_t)(lane[2 * j] - (uint16_t)ks[j]);
        lane[2 * j + 1] = (uint16_t)(lane[2 * j + 1] - (uint16_t)(ks[j] >> 16));
      }
    }
    lane += 32;
  }
}

#if defined(VL_LT_SSE2)
#define VL_LT_ROTL(x, n) _mm_or_si128(_mm_slli_epi32((x), (n)), _mm_srli_epi32((x), 32 - (n)))
#define VL_LT_QR(a, b, c, d)                                              \
  do {                                                                    \
    a = _mm_add_epi32(a, b); d = _mm_xor_si128(d, a); d = VL_LT_ROTL(d, 16); \
    c = _mm_add_epi32(c, d); b = _mm_xor_si128(b, c); b = VL_LT_ROTL(b, 12); \
    a = _mm_add_epi32(a, b); d = _mm_xor_si128(d, a); d = VL_LT_ROTL(d, 8);  \
    c = _mm_add_epi32(c, d); b = _mm_xor_si128(b, c); b = VL_LT_ROTL(b, 7);  \
  } while (0)

/* Adds (sign 0) or subtracts the 4x4 word block w[0..3] (vector i = word q+i of blocks 0..3) to
** the lanes of blocks 0..3 at words q..q+3: transposed so that each block's 4 words are adjacent. */
static void lt_put4_sse2(uint16_t *lane, const __m128i w[4], uint32_t q, int sign) {
  __m128i t0 = _mm_unpacklo_epi32(w[0], w[1]), t1 = _mm_unpacklo_epi32(w[2], w[3]);
  __m128i t2 = _mm_unpackhi_epi32(w[0], w[1]), t3 = _mm_unpackhi_epi32(w[2], w[3]);
  __m128i b[4];
  int k;
  b[0] = _mm_unpacklo_epi64(t0, t1);
  b[1] = _mm_unpackhi_epi64(t0, t1);
  b[2] = _mm_unpacklo_epi64(t2, t3);
  b[3] = _mm_unpackhi_epi64(t2, t3);
  for (k = 0; k < 4; k++) {
    __m128i *p = (__m128i *)(void *)(lane + 32 * k + 2 * q);
    __m128i x = _mm_loadu_si128(p);
    _mm_storeu_si128(p, sign ? _mm_sub_epi16(x, b[k]) : _mm_add_epi16(x, b[k]));
  }
}

void vl_lthash_fold_sse2(vl_lthash *h, const uint8_t digest[32], int sign) {
  static const uint8_t zero_nonce[12] = {0};
  uint32_t st[16], blk;
  __m128i in[16], x[16];
  int i, r;
  vl_chacha20_setup(st, digest, 0, zero_nonce);
  for (i = 0; i < 16; i++) in[i] = _mm_set1_epi32((int)st[i]);
  for (blk = 0; blk < VL_LTHASH_BYTES / 64; blk += 4) {
    in[12] = _mm_set_epi32((int)(blk + 3), (int)(blk + 2), (int)(blk + 1), (int)blk);
    for (i = 0; i < 16; i++) x[i] = in[i];
    for (r = 0; r < 10; r++) {
      VL_LT_QR(x[0], x[4], x[8], x[12]);
      VL_LT_QR(x[1], x[5], x[9], x[13]);
      VL_LT_QR(x[2], x[6], x[10], x[14]);
      VL_LT_QR(x[3], x[7], x[11], x[15]);
      VL_LT_QR(x[0], x[5], x[10], x[15]);
      VL_LT_QR(x[1], x[6], x[11], x[12]);
      VL_LT_QR(x[2], x[7], x[8], x[13]);
      VL_LT_QR(x[3], x[4], x[9], x[14]);
    }
    for (i = 0; i < 16; i++) x[i] = _mm_add_epi32(x[i], in[i]);
    for (i = 0; i < 16; i += 4) lt_put4_sse2(h->lane + 32 * blk, x + i, (uint32_t)i, sign);
  }
}
#undef VL_LT_QR
#undef VL_LT_ROTL
#endif

#if defined(VL_LT_AVX2)
/* As the SSE2 fold, 8 blocks at a time; rotations by 16 and 8 are byte shuffles. The 256-bit
** unpacks work within each 128-bit half, so the same 4x4 transpose yields blocks 0..3 in the low
** halves and blocks 4..7 in the high halves. */
#define VL_LT_ROTL8(x, n) _mm256_or_si256(_mm256_slli_epi32((x), (n)), _mm256_srli_epi32((x), 32 - (n)))
#define VL_LT_QR8(a, b, c, d)                                                                  \
  do {                                                                                         \
    a = _mm256_add_epi32(a, b); d = _mm256_xor_si256(d, a); d = _mm256_shuffle_epi8(d, r16);   \
    c = _mm256_add_epi32(c, d); b = _mm256_xor_si256(b, c); b = VL_LT_ROTL8(b, 12);            \
    a = _mm256_add_epi32(a, b); d = _mm256_xor_si256(d, a); d = _mm256_shuffle_epi8(d, r8);    \
    c = _mm256_add_epi32(c, d); b = _mm256_xor_si256(b, c); b = VL_LT_ROTL8(b, 7);             \
  } while (0)

__attribute__((target("avx2"))) static void lt_put8_avx2(uint16_t *lane, const __m256i *w, uint32_t q, int sign) {
  __m256i t0 = _mm256_unpacklo_epi32(w[0], w[1]), t1 = _mm256_unpacklo_epi32(w[2], w[3]);
  __m256i t2 = _mm256_unpackhi_epi32(w[0], w[1]), t3 = _mm256_unpackhi_epi32(w[2], w[3]);
  __m256i b[4];
  int k;
  b[0] = _mm256_unpacklo_epi64(t0, t1);
  b[1] = _mm256_unpackhi_epi64(t0, t1);
  b[2] = _mm256_unpacklo_epi64(t2, t3);
  b[3] = _mm256_unpackhi_epi64(t2, t3);
  for (k = 0; k < 4; k++) {
    __m128i *lo = (__m128i *)(void *)(lane + 32 * k + 2 * q), *hi = (__m128i *)(void *)(lane + 32 * (k + 4) + 2 * q);
    __m128i bl = _mm256_castsi256_si128(b[k]), bh = _mm256_extracti128_si256(b[k], 1);
    __m128i xl = _mm_loadu_si128(lo), xh = _mm_loadu_si128(hi);
    _mm_storeu_si128(lo, sign ? _mm_sub_epi16(xl, bl) : _mm_add_epi16(xl, bl));
    _mm_storeu_si128(hi, sign ? _mm_sub_epi16(xh, bh) : _mm_add_epi16(xh, bh));
  }
}

__attribute__((target("avx2"))) static void lt_fold_avx2(vl_lthash *h, const uint8_t digest[32], int sign) {
  static const uint8_t zero_nonce[12] = {0};
  uint32_t st[16], blk;
  __m256i in[16], x[16];
  const __m256i r16 = _mm256_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2, 13, 12, 15, 14, 9, 8, 11,
                                      10, 5, 4, 7, 6, 1, 0, 3, 2);
  const __m256i r8 = _mm256_set_epi8(14, 13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3, 14, 13, 12, 15, 10, 9, 8,
                                     11, 6, 5, 4, 7, 2, 1, 0, 3);
  int i, r;
  vl_chacha20_setup(st, digest, 0, zero_nonce);
  for (i = 0; i < 16; i++) in[i] = _mm256_set1_epi32((int)st[i]);
  for (blk = 0; blk < VL_LTHASH_BYTES / 64; blk += 8) {
    in[12] = _mm256_set_epi32((int)(blk + 7), (int)(blk + 6), (int)(blk + 5), (int)(blk + 4), (int)(blk + 3),
                              (int)(blk + 2), (int)(blk + 1), (int)blk);
    for (i = 0; i < 16; i++) x[i] = in[i];
    for (r = 0; r < 10; r++) {
      VL_LT_QR8(x[0], x[4], x[8], x[12]);
      VL_LT_QR8(x[1], x[5], x[9], x[13]);
      VL_LT_QR8(x[2], x[6], x[10], x[14]);
      VL_LT_QR8(x[3], x[7], x[11], x[15]);
      VL_LT_QR8(x[0], x[5], x[10], x[15]);
      VL_LT_QR8(x[1], x[6], x[11], x[12]);
      VL_LT_QR8(x[2], x[7], x[8], x[13]);
      VL_LT_QR8(x[3], x[4], x[9], x[14]);
    }
    for (i = 0; i < 16; i++) x[i] = _mm256_add_epi32(x[i], in[i]);
    for (i = 0; i < 16; i += 4) lt_put8_avx2(h->lane + 32 * blk, x + i, (uint32_t)i, sign);
  }
}
#undef VL_LT_QR8
#undef VL_LT_ROTL8

/* AVX-512F: as the AVX2 fold, 16 blocks at a time, with the native 32-bit rotation (vprold). The
** 512-bit unpacks work within each 128-bit quarter, so the 4x4 transpose yields blocks 4j..4j+3
** in quarter j. */
#define VL_LT_QR16(a, b, c, d)                                                                        \
  do {                                                                                                \
    a = _mm512_add_epi32(a, b); d = _mm512_xor_si512(d, a); d = _mm512_rol_epi32(d, 16);            \
    c = _mm512_add_epi32(c, d); b = _mm512_xor_si512(b, c); b = _mm512_rol_epi32(b, 12);            \
    a = _mm512_add_epi32(a, b); d = _mm512_xor_si512(d, a); d = _mm512_rol_epi32(d, 8);             \
    c = _mm512_add_epi32(c, d); b = _mm512_xor_si512(b, c); b = _mm512_rol_epi32(b, 7);             \
  } while (0)

__attribute__((target("avx512f"))) static void lt_put16_avx512(uint16_t *lane, const __m512i *w, uint32_t q, int sign) {
  __m512i t0 = _mm512_unpacklo_epi32(w[0], w[1]), t1 = _mm512_unpacklo_epi32(w[2], w[3]);
  __m512i t2 = _mm512_unpackhi_epi32(w[0], w[1]), t3 = _mm512_unpackhi_epi32(w[2], w[3]);
  __m512i b[4];
  int k;
  b[0] = _mm512_unpacklo_epi64(t0, t1);
  b[1] = _mm512_unpackhi_epi64(t0, t1);
  b[2] = _mm512_unpacklo_epi64(t2, t3);
  b[3] = _mm512_unpackhi_epi64(t2, t3);
  for (k = 0; k < 4; k++) {
    __m128i q0 = _mm512_extracti32x4_epi32(b[k], 0), q1 = _mm512_extracti32x4_epi32(b[k], 1);
    __m128i q2 = _mm512_extracti32x4_epi32(b[k], 2), q3 = _mm512_extracti32x4_epi32(b[k], 3);
    __m128i *p0 = (__m128i *)(void *)(lane + 32 * k + 2 * q), *p1 = (__m128i *)(void *)(lane + 32 * (k + 4) + 2 * q);
    __m128i *p2 = (__m128i *)(void *)(lane + 32 * (k + 8) + 2 * q), *p3 = (__m128i *)(void *)(lane + 32 * (k + 12) + 2 * q);
    __m128i x0 = _mm_loadu_si128(p0), x1 = _mm_loadu_si128(p1), x2 = _mm_loadu_si128(p2), x3 = _mm_loadu_si128(p3);
    _mm_storeu_si128(p0, sign ? _mm_sub_epi16(x0, q0) : _mm_add_epi16(x0, q0));
    _mm_storeu_si128(p1, sign ? _mm_sub_epi16(x1, q1) : _mm_add_epi16(x1, q1));
    _mm_storeu_si128(p2, sign ? _mm_sub_epi16(x2, q2) : _mm_add_epi16(x2, q2));
    _mm_storeu_si128(p3, sign ? _mm_sub_epi16(x3, q3) : _mm_add_epi16(x3, q3));
  }
}

__attribute__((target("avx512f"))) static void lt_fold_avx512(vl_lthash *h, const uint8_t digest[32], int sign) {
  static const uint8_t zero_nonce[12] = {0};
  uint32_t st[16], blk;
  __m512i in[16], x[16];
  int i, r;
  vl_chacha20_setup(st, digest, 0, zero_nonce);
  for (i = 0; i < 16; i++) in[i] = _mm512_set1_epi32((int)st[i]);
  for (blk = 0; blk < VL_LTHASH_BYTES / 64; blk += 16) {
    in[12] = _mm512_add_epi32(_mm512_set1_epi32((int)blk),
                              _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
    for (i = 0; i < 16; i++) x[i] = in[i];
    for (r = 0; r < 10; r++) {
      VL_LT_QR16(x[0], x[4], x[8], x[12]);
      VL_LT_QR16(x[1], x[5], x[9], x[13]);
      VL_LT_QR16(x[2], x[6], x[10], x[14]);
      VL_LT_QR16(x[3], x[7], x[11], x[15]);
      VL_LT_QR16(x[0], x[5], x[10], x[15]);
      VL_LT_QR16(x[1], x[6], x[11], x[12]);
      VL_LT_QR16(x[2], x[7], x[8], x[13]);
      VL_LT_QR16(x[3], x[4], x[9], x[14]);
    }
    for (i = 0; i < 16; i++) x[i] = _mm512_add_epi32(x[i], in[i]);
    for (i = 0; i < 16; i += 4) lt_put16_avx512(h->lane + 32 * blk, x + i, (uint32_t)i, sign);
  }
}
#undef VL_LT_QR16

/* Exposed for the tests; only call them where the CPU has AVX2 / AVX-512F (cpu.h). */
void vl_lthash_fold_avx2(vl_lthash *h, const uint8_t digest[32], int sign) { lt_fold_avx2(h, digest, sign); }
void vl_lthash_fold_avx512(vl_lthash *h, const uint8_t digest[32], int sign) { lt_fold_avx512(h, digest, sign); }
static void vl_lthash_fold(vl_lthash *h, const uint8_t digest[32], int sign) {
  if (vl_cpu_avx512f()) lt_fold_avx512(h, digest, sign);
  else if (vl_cpu_avx2()) lt_fold_avx2(h, digest, sign);
  else vl_lthash_fold_sse2(h, digest, sign);
}
const char *vl_lthash_kernel(void) { return vl_cpu_avx512f() ? "avx512" : vl_cpu_avx2() ? "avx2" : "sse2"; }
#elif defined(VL_LT_SSE2)
static void vl_lthash_fold(vl_lthash *h, const uint8_t digest[32], int sign) { vl_lthash_fold_sse2(h, digest, sign); }
const char *vl_lthash_kernel(void) { return "sse2"; }
#else
static void vl_lthash_fold(vl_lthash *h, const uint8_t digest[32], int sign) { vl_lthash_fold_scalar(h, digest, sign); }
const char *vl_lthash_kernel(void) { return "scalar"; }
#endif

void vl_lthash_add(vl_lthash *h, const uint8_t digest[32]) { vl_lthash_fold(h, digest, 0); }
void vl_lthash_sub(vl_lthash *h, const uint8_t digest[32]) { vl_lthash_fold(h, digest, 1); }

void vl_lthash_combine(vl_lthash *h, const vl_lthash *other) {
  int i;
  for (i = 0; i < VL_LTHASH_LANES; i++) h->lane[i] = (uint16_t)(h->lane[i] + other->lane[i]);
}

void vl_lthash_serialize(const vl_lthash *h, uint8_t out[VL_LTHASH_BYTES]) {
  int i;
  for (i = 0; i < VL_LTHASH_LANES; i++) vl_put16(out + 2 * i, h->lane[i]);
}

void vl_lthash_deserialize(vl_lthash *h, const uint8_t in[VL_LTHASH_BYTES]) {
  int i;
  for (i = 0; i < VL_LTHASH_LANES; i++) h->lane[i] = vl_get16(in + 2 * i);
}
