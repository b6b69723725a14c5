/*
** sha256.c: SHA-256 per FIPS 180-4. Full 64-byte blocks are compressed straight from the caller's
** buffer; only a trailing partial block is copied. Rounds are fully unrolled by macros with the
** message schedule kept in a 16-word ring. Big-endian loads/stores are byte-wise, so the code is
** the same on every host.
**
** On x86 CPUs with the SHA extensions (SHA-NI; chosen at run time, GCC builds) the compression
** function runs on sha256rnds2 / sha256msg1 / sha256msg2 instead: the same function computed by
** the CPU, several times faster, which matters because every inserted record is hashed (its digest
** feeds the state hash; bench/valori_bench --tests append shows the digest's cost per record). test_sha256.c checks both against the FIPS vectors, each other and OpenSSL.
*/
#include "sha256.h"

#include <string.h>

#include "cpu.h"

#if defined(VL_CPU_SHA_DISPATCH)
#define VL_SHA_NI 1 /* compiled with a target attribute, chosen at run time by CPU support */
#include <immintrin.h>
#endif

static const uint32_t vl_sha256_k[64] = {
  0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
  0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
  0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
  0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
  0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
  0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
  0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
  0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u
};

static uint32_t vl_sha_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
static void vl_sha_put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

#define VL_ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define VL_CH(x, y, z) (((x) & ((y) ^ (z))) ^ (z))
#define VL_MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))
#define VL_BS0(x) (VL_ROTR(x, 2) ^ VL_ROTR(x, 13) ^ VL_ROTR(x, 22))
#define VL_BS1(x) (VL_ROTR(x, 6) ^ VL_ROTR(x, 11) ^ VL_ROTR(x, 25))
#define VL_SS0(x) (VL_ROTR(x, 7) ^ VL_ROTR(x, 18) ^ ((x) >> 3))
#define VL_SS1(x) (VL_ROTR(x, 17) ^ VL_ROTR(x, 19) ^ ((x) >> 10))

/* Schedule word i (0..63) in the 16-word ring w; i is a constant after unrolling. */
#define VL_W(i)                                                                          \
  ((i) < 16 ? w[(i) & 15]                                                                \
            : (w[(i) & 15] += VL_SS1(w[((i) - 2) & 15]) + w[((i) - 7) & 15] +            \
                              VL_SS0(w[((i) - 15) & 15])))

#define VL_RND(a, b, c, d, e, f, g, h, i)                                                \
  do {                                                                                   \
    uint32_t t1_ = (h) + VL_BS1(e) + VL_CH(e, f, g) + vl_sha256_k[i] + VL_W(i);          \
    uint32_t t2_ = VL_BS0(a) + VL_MAJ(a, b, c);                                          \
    (d) += t1_;                                                                          \
    (h) = t1_ + t2_;                                                                     \
  } while (0)

#define VL_RND8(i)                                  \
  VL_RND(a, b, c, d, e, f, g, h, (i) + 0);          \
  VL_RND(h, a, b, c, d, e, f, g, (i) + 1);          \
  VL_RND(g, h, a, b, c, d, e, f, (i) + 2);          \
  VL_RND(f, g, h, a, b, c, d, e, (i) + 3);          \
  VL_RND(e, f, g, h, a, b, c, d, (i) + 4);          \
  VL_RND(d, e, f, g, h, a, b, c, (i) + 5);          \
  VL_RND(c, d, e, f, g, h, a, b, (i) + 6);          \
  VL_RND(b, c, d, e, f, g, h, a, (i) + 7)

/* Compresses nblocks consecutive 64-byte blocks starting at p into st: the reference. */
void vl_sha256_blocks_scalar(uint32_t st[8], const uint8_t *p, size_t nblocks) {
  uint32_t w[16];
  while (nblocks--) {
    uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
    uint32_t e = st[4], f = st[5], g = st[6], h = st[7];
    int i;
    for (i = 0; i < 16; i++) w[i] = vl_sha_be32(p + 4 * i);
    VL_RND8(0);
    VL_RND8(8);
    VL_RND8(16);
    VL_RND8(24);
    VL_RND8(32);
    VL_RND8(40);
    VL_RND8(48);
    VL_RND8(56);
    st[0] += a; st[1] += b; st[2] += c; st[3] += d;
    st[4] += e; st[5] += f; st[6] += g; st[7] += h;
    p += 64;
  }
}

#if defined(VL_SHA_NI)
/* Four rounds: message words w (plus their constants) into the state halves abef / cdgh. */
#define VL_SHA_NI_4ROUNDS(w, k)                                 \
  do {                                                          \
    __m128i m_ = _mm_add_epi32((w), (k));                       \
    cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m_);               \
    abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(m_, 0x0E)); \
  } while (0)

__attribute__((target("sha,sse4.1"))) static void sha256_blocks_shani(uint32_t st[8], const uint8_t *p,
                                                                       size_t nblocks) {
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
  __m128i abef, cdgh, t;
  t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)st), 0xB1);        /* C D A B */
  cdgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)(st + 4)), 0x1B); /* E F G H */
  abef = _mm_alignr_epi8(t, cdgh, 8);
  cdgh = _mm_blend_epi16(cdgh, t, 0xF0);
  while (nblocks--) {
    __m128i w[4], abef0 = abef, cdgh0 = cdgh;
    int i;
    for (i = 0; i < 4; i++) {
      w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i)), bswap);
      VL_SHA_NI_4ROUNDS(w[i], _mm_loadu_si128((const __m128i *)(const void *)(vl_sha256_k + 4 * i)));
    }
    for (i = 4; i < 16; i++) { /* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], four at a time */
      __m128i x = _mm_sha256msg1_epu32(w[i & 3], w[(i + 1) & 3]);
      x = _mm_add_epi32(x, _mm_alignr_epi8(w[(i + 3) & 3], w[(i + 2) & 3], 4));
      w[i & 3] = _mm_sha256msg2_epu32(x, w[(i + 3) & 3]);
      VL_SHA_NI_4ROUNDS(w[i & 3], _mm_loadu_si128((const __m128i *)(const void *)(vl_sha256_k + 4 * i)));
    }
    abef = _mm_add_epi32(abef, abef0);
    cdgh = _mm_add_epi32(cdgh, cdgh0);
    p += 64;
  }
  t = _mm_shuffle_epi32(abef, 0x1B);    /* F E B A */
  cdgh = _mm_shuffle_epi32(cdgh, 0xB1); /* D C H G */
  _mm_storeu_si128((__m128i *)(void *)st, _mm_blend_epi16(t, cdgh, 0xF0));       /* D C B A */
  _mm_storeu_si128((__m128i *)(void *)(st + 4), _mm_alignr_epi8(cdgh, t, 8));   /* H G F E */
}
#undef VL_SHA_NI_4ROUNDS

/* Two independent streams of nblocks blocks each, interleaved: sha256rnds2 has a latency of several
** cycles and a throughput of about one per cycle, so one stream leaves the unit mostly idle; two
** streams in one loop keep it busy (the record digests of a batch are independent messages). Each
** stream's state is exactly what sha256_blocks_shani gives it alone. */
#define VL_SHA_NI_LOAD(st, abef, cdgh)                                                                  \
  do {                                                                                                  \
    __m128i t_ = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)(st)), 0xB1);         \
    cdgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(const void *)((st) + 4)), 0x1B);        \
    abef = _mm_alignr_epi8(t_, cdgh, 8);                                                                \
    cdgh = _mm_blend_epi16(cdgh, t_, 0xF0);                                                             \
  } while (0)
#define VL_SHA_NI_STORE(st, abef, cdgh)                                                                 \
  do {                                                                                                  \
    __m128i t_ = _mm_shuffle_epi32(abef, 0x1B), u_ = _mm_shuffle_epi32(cdgh, 0xB1);                     \
    _mm_storeu_si128((__m128i *)(void *)(st), _mm_blend_epi16(t_, u_, 0xF0));                           \
    _mm_storeu_si128((__m128i *)(void *)((st) + 4), _mm_alignr_epi8(u_, t_, 8));                        \
  } while (0)
#define VL_SHA_NI_4ROUNDS2(w, x, k)                                                                     \
  do {                                                                                                  \
    __m128i m_ = _mm_add_epi32((w), (k)), n_ = _mm_add_epi32((x), (k));                                \
    cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m_);                                                       \
    cdgh1 = _mm_sha256rnds2_epu32(cdgh1, abef1, n_);                                                    \
    abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(m_, 0x0E));                              \
    abef1 = _mm_sha256rnds2_epu32(abef1, cdgh1, _mm_shuffle_epi32(n_, 0x0E));                           \
  } while (0)
#define VL_SHA_NI_SCHED(w, i)                                                                           \
  do {                                                                                                  \
    __m128i x_ = _mm_sha256msg1_epu32(w[(i) & 3], w[((i) + 1) & 3]);                                    \
    x_ = _mm_add_epi32(x_, _mm_alignr_epi8(w[((i) + 3) & 3], w[((i) + 2) & 3], 4));                     \
    w[(i) & 3] = _mm_sha256msg2_epu32(x_, w[((i) + 3) & 3]);                                            \
  } while (0)
__attribute__((target("sha,sse4.1"))) static void sha256_blocks_shani_x2(uint32_t st0[8], const uint8_t *p0,
                                                                          uint32_t st1[8], const uint8_t *p1,
                                                                          size_t nblocks) {
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
  __m128i abef, cdgh, abef1, cdgh1;
  VL_SHA_NI_LOAD(st0, abef, cdgh);
  VL_SHA_NI_LOAD(st1, abef1, cdgh1);
  while (nblocks--) {
    __m128i w[4], v[4], abef0 = abef, cdgh0 = cdgh, abef10 = abef1, cdgh10 = cdgh1;
    int i;
    for (i = 0; i < 4; i++) {
      w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p0 + 16 * i)), bswap);
      v[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p1 + 16 * i)), bswap);
      VL_SHA_NI_4ROUNDS2(w[i], v[i], _mm_loadu_si128((const __m128i *)(const void *)(vl_sha256_k + 4 * i)));
    }
    for (i = 4; i < 16; i++) {
      VL_SHA_NI_SCHED(w, i);
      VL_SHA_NI_SCHED(v, i);
      VL_SHA_NI_4ROUNDS2(w[i & 3], v[i & 3], _mm_loadu_si128((const __m128i *)(const void *)(vl_sha256_k + 4 * i)));
    }
    abef = _mm_add_epi32(abef, abef0);
    cdgh = _mm_add_epi32(cdgh, cdgh0);
    abef1 = _mm_add_epi32(abef1, abef10);
    cdgh1 = _mm_add_epi32(cdgh1, cdgh10);
    p0 += 64;
    p1 += 64;
  }
  VL_SHA_NI_STORE(st0, abef, cdgh);
  VL_SHA_NI_STORE(st1, abef1, cdgh1);
}
#undef VL_SHA_NI_4ROUNDS2
#undef VL_SHA_NI_SCHED
#undef VL_SHA_NI_LOAD
#undef VL_SHA_NI_STORE
void vl_sha256_blocks_shani_x2(uint32_t st0[8], const uint8_t *p0, uint32_t st1[8], const uint8_t *p1, size_t nblocks) {
  sha256_blocks_shani_x2(st0, p0, st1, p1, nblocks);
}

/* Exposed for the tests; only call it where vl_sha256_kernel() says "sha-ni". */
void vl_sha256_blocks_shani(uint32_t st[8], const uint8_t *p, size_t nblocks) { sha256_blocks_shani(st, p, nblocks); }
static void vl_sha256_blocks(uint32_t st[8], const uint8_t *p, size_t nblocks) {
  if (vl_cpu_sha_ni()) sha256_blocks_shani(st, p, nblocks);
  else vl_sha256_blocks_scalar(st, p, nblocks);
}
static void vl_sha256_blocks2(uint32_t st0[8], const uint8_t *p0, uint32_t st1[8], const uint8_t *p1, size_t nblocks) {
  if (vl_cpu_sha_ni()) {
    sha256_blocks_shani_x2(st0, p0, st1, p1, nblocks);
  } else {
    vl_sha256_blocks_scalar(st0, p0, nblocks);
    vl_sha256_blocks_scalar(st1, p1, nblocks);
  }
}
const char *vl_sha256_kernel(void) { return vl_cpu_sha_ni() ? "sha-ni" : "scalar"; }
#else
static void vl_sha256_blocks(uint32_t st[8], const uint8_t *p, size_t nblocks) { vl_sha256_blocks_scalar(st, p, nblocks); }
static void vl_sha256_blocks2(uint32_t st0[8], const uint8_t *p0, uint32_t st1[8], const uint8_t *p1, size_t nblocks) {
  vl_sha256_blocks_scalar(st0, p0, nblocks);
  vl_sha256_blocks_scalar(st1, p1, nblocks);
}
const char *vl_sha256_kernel(void) { return "scalar"; }
#endif

void vl_sha256_init(vl_sha256_ctx *s) {
  s->h[0] = 0x6a09e667u; s->h[1] = 0xbb67ae85u; s->h[2] = 0x3c6ef372u; s->h[3] = 0xa54ff53au;
  s->h[4] = 0x510e527fu; s->h[5] = 0x9b05688cu; s->h[6] = 0x1f83d9abu; s->h[7] = 0x5be0cd19u;
  s->total = 0;
  s->nbuf = 0;
  memset(s->buf, 0, sizeof s->buf);
}

void vl_sha256_update(vl_sha256_ctx *s, const void *data, size_t n) {
  const uint8_t *p = (const uint8_t *)data;
  size_t nblocks;
  if (n == 0) return;
  s->total += (uint64_t)n;
  if (s->nbuf) {
    size_t take = 64u - s->nbuf;
    if (take > n) take = n;
    memcpy(s->buf + s->nbuf, p, take);
    s->nbuf += (uint32_t)take;
    p += take;
    n -= take;
    if (s->nbuf < 64u) return;
    vl_sha256_blocks(s->h, s->buf, 1);
    s->nbuf = 0;
  }
  nblocks = n / 64u;
  if (nblocks) {
    vl_sha256_blocks(s->h, p, nblocks);
    p += nblocks * 64u;
    n -= nblocks * 64u;
  }
  if (n) {
    memcpy(s->buf, p, n);
    s->nbuf = (uint32_t)n;
  }
}

void vl_sha256_final(vl_sha256_ctx *s, uint8_t out[32]) {
  uint64_t bits = s->total << 3;
  uint32_t n = s->nbuf;
  int i;
  s->buf[n++] = 0x80;
  if (n > 56u) {
    memset(s->buf + n, 0, 64u - n);
    vl_sha256_blocks(s->h, s->buf, 1);
    n = 0;
  }
  memset(s->buf + n, 0, 56u - n);
  vl_sha_put_be32(s->buf + 56, (uint32_t)(bits >> 32));
  vl_sha_put_be32(s->buf + 60, (uint32_t)bits);
  vl_sha256_blocks(s->h, s->buf, 1);
  for (i = 0; i < 8; i++) vl_sha_put_be32(out + 4 * i, s->h[i]);
  s->nbuf = 0;
}

void vl_sha256_update2(vl_sha256_ctx *s0, const void *d0, vl_sha256_ctx *s1, const void *d1, size_t n) {
  const uint8_t *p0 = (const uint8_t *)d0, *p1 = (const uint8_t *)d1;
  size_t nblocks;
  if (n == 0) return;
  if (s0->nbuf != s1->nbuf) { /* not at the same offset in a block: one at a time */
    vl_sha256_update(s0, d0, n);
    vl_sha256_update(s1, d1, n);
    return;
  }
  s0->total += (uint64_t)n;
  s1->total += (uint64_t)n;
  if (s0->nbuf) {
    size_t take = 64u - s0->nbuf;
    if (take > n) take = n;
    memcpy(s0->buf + s0->nbuf, p0, take);
    memcpy(s1->buf + s1->nbuf, p1, take);
    s0->nbuf += (uint32_t)take;
    s1->nbuf = s0->nbuf;
    p0 += take;
    p1 += take;
    n -= take;
    if (s0->nbuf < 64u) return;
    vl_sha256_blocks2(s0->h, s0->buf, s1->h, s1->buf, 1);
    s0->nbuf = s1->nbuf = 0;
  }
  nblocks = n / 64u;
  if (nblocks) {
    vl_sha256_blocks2(s0->h, p0, s1->h, p1, nblocks);
    p0 += nblocks * 64u;
    p1 += nblocks * 64u;
    n -= nblocks * 64u;
  }
  if (n) {
    memcpy(s0->buf, p0, n);
    memcpy(s1->buf, p1, n);
    s0->nbuf = s1->nbuf = (uint32_t)n;
  }
}

/* The padding of a context whose last block has room for it (nbuf <= 55): one block in buf. */
static void pad_one(vl_sha256_ctx *s) {
  uint64_t bits = s->total << 3;
  uint32_t n = s->nbuf;
  s->buf[n++] = 0x80;
  memset(s->buf + n, 0, 56u - n);
  vl_sha_put_be32(s->buf + 56, (uint32_t)(bits >> 32));
  vl_sha_put_be32(s->buf + 60, (uint32_t)bits);
}

void vl_sha256_final2(vl_sha256_ctx *s0, uint8_t out0[32], vl_sha256_ctx *s1, uint8_t out1[32]) {
  int i;
  if (s0->nbuf > 55u || s1->nbuf > 55u) { /* a padding of two blocks: one at a time */
    vl_sha256_final(s0, out0);
    vl_sha256_final(s1, out1);
    return;
  }
  pad_one(s0);
  pad_one(s1);
  vl_sha256_blocks2(s0->h, s0->buf, s1->h, s1->buf, 1);
  for (i = 0; i < 8; i++) {
    vl_sha_put_be32(out0 + 4 * i, s0->h[i]);
    vl_sha_put_be32(out1 + 4 * i, s1->h[i]);
  }
  s0->nbuf = s1->nbuf = 0;
}

void vl_sha256(const void *data, size_t n, uint8_t out[32]) {
  vl_sha256_ctx s;
  vl_sha256_init(&s);
  vl_sha256_update(&s, data, n);
  vl_sha256_final(&s, out);
}
