/*
** test_sha256.c: SHA-256 against the FIPS 180-4 / NIST CAVS example vectors, incremental updates
** at every split point, padding boundaries (golden from Python hashlib), and, when OpenSSL is
** available, 2,000 seeded random messages cross-checked against OpenSSL's SHA256(). Every
** compression kernel this build and CPU have (SHA-NI, one stream and two interleaved) must give the
** scalar reference's state; the two-message update and final give each message's own digest.
*/
#include "cpu.h" /* VL_CPU_SHA_DISPATCH: the SHA-NI kernels are compiled in */
#include "sha256.h"
#include "vt.h"

#ifdef VALORI_HAVE_OPENSSL
#include <openssl/sha.h>
#endif

static void hex32(const uint8_t d[32], char out[65]) {
  static const char *hx = "0123456789abcdef";
  int i;
  for (i = 0; i < 32; i++) {
    out[2 * i] = hx[d[i] >> 4];
    out[2 * i + 1] = hx[d[i] & 15];
  }
  out[64] = 0;
}

static int digest_is(const uint8_t d[32], const char *hex) {
  char h[65];
  hex32(d, h);
  if (strcmp(h, hex) != 0) {
    fprintf(stderr, "  got      %s\n  expected %s\n", h, hex);
    return 0;
  }
  return 1;
}

static void test_fips_vectors(void) {
  static const struct { const char *msg, *hex; } v[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
  };
  size_t i;
  uint8_t d[32];
  for (i = 0; i < sizeof v / sizeof v[0]; i++) {
    vl_sha256(v[i].msg, strlen(v[i].msg), d);
    VT_CHECK(digest_is(d, v[i].hex));
  }
  /* NULL with length 0 is allowed. */
  vl_sha256(NULL, 0, d);
  VT_CHECK(digest_is(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}

static void test_million_a(void) {
  static uint8_t big[1000000];
  uint8_t chunk[1000], d[32];
  vl_sha256_ctx s;
  int i;
  memset(chunk, 'a', sizeof chunk);
  vl_sha256_init(&s);
  for (i = 0; i < 1000; i++) vl_sha256_update(&s, chunk, sizeof chunk);
  vl_sha256_final(&s, d);
  VT_CHECK(digest_is(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
  memset(big, 'a', sizeof big);
  vl_sha256(big, sizeof big, d);
  VT_CHECK(digest_is(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
}

static void test_incremental_splits(void) {
  uint8_t msg[200], one[32], d[32];
  uint64_t seed = 42;
  size_t i, cut, cut2;
  vl_sha256_ctx s;
  for (i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)vt_rand(&seed);
  vl_sha256(msg, sizeof msg, one);
  for (cut = 0; cut <= sizeof msg; cut++) {
    vl_sha256_init(&s);
    vl_sha256_update(&s, msg, cut);
    vl_sha256_update(&s, msg + cut, sizeof msg - cut);
    vl_sha256_final(&s, d);
    VT_CHECK(memcmp(d, one, 32) == 0);
  }
  /* three pieces, every pair of cut points */
  for (cut = 0; cut <= sizeof msg; cut += 3) {
    for (cut2 = cut; cut2 <= sizeof msg; cut2 += 7) {
      vl_sha256_init(&s);
      vl_sha256_update(&s, msg, cut);
      vl_sha256_update(&s, msg + cut, cut2 - cut);
      vl_sha256_update(&s, msg + cut2, sizeof msg - cut2);
      vl_sha256_final(&s, d);
      VT_CHECK(memcmp(d, one, 32) == 0);
    }
  }
  /* byte at a time */
  vl_sha256_init(&s);
  for (i = 0; i < sizeof msg; i++) vl_sha256_update(&s, msg + i, 1);
  vl_sha256_final(&s, d);
  VT_CHECK(memcmp(d, one, 32) == 0);
}

/* Every length 0..300 (all padding cases: 55/56/63/64/119/120 ...) without OpenSSL: the SHA-256 of
** the concatenation of SHA-256(m_L), m_L[i] = (i*7 + L) & 0xFF. The expected value was computed
** with Python's hashlib:
**   acc = b"".join(sha256(bytes((i*7+L) & 0xff for i in range(L))).digest() for L in range(301))
**   sha256(acc).hexdigest() */
static void test_lengths_golden(void) {
  uint8_t msg[300], d[32], all[32];
  vl_sha256_ctx acc;
  size_t len, i;
  vl_sha256_init(&acc);
  for (len = 0; len <= 300; len++) {
    for (i = 0; i < len; i++) msg[i] = (uint8_t)(i * 7 + len);
    vl_sha256(msg, len, d);
    vl_sha256_update(&acc, d, 32);
  }
  vl_sha256_final(&acc, all);
  VT_CHECK(digest_is(all, "60d63ff40b5558727a9b786ac0be9300f7ca58fd9ddd3b2f3681b369018a87dc"));
}

/* Unaligned input pointers give the same digest. */
static void test_unaligned(void) {
  uint8_t raw[600], ref[32], d[32];
  uint64_t seed = 7;
  size_t i, off;
  for (i = 0; i < sizeof raw; i++) raw[i] = (uint8_t)vt_rand(&seed);
  vl_sha256(raw + 8, 500, ref);
  for (off = 0; off < 8; off++) {
    uint8_t tmp[600];
    memcpy(tmp + off, raw + 8, 500);
    vl_sha256(tmp + off, 500, d);
    VT_CHECK(memcmp(d, ref, 32) == 0);
  }
}

#ifdef VALORI_HAVE_OPENSSL
static void test_openssl_cross(void) {
  static uint8_t msg[5001];
  uint8_t mine[32], theirs[32], inc[32];
  uint64_t seed = 0x5EED5A256ull;
  int t, bad = 0;
  for (t = 0; t < 2000; t++) {
    size_t len = (size_t)(vt_rand(&seed) % 5001u), i, pos;
    vl_sha256_ctx s;
    for (i = 0; i < len; i++) msg[i] = (uint8_t)vt_rand(&seed);
    vl_sha256(msg, len, mine);
    SHA256(msg, len, theirs);
    if (memcmp(mine, theirs, 32) != 0) bad++;
    /* the same message in random-sized pieces */
    vl_sha256_init(&s);
    for (pos = 0; pos < len;) {
      size_t k = (size_t)(vt_rand(&seed) % 200u);
      if (k > len - pos) k = len - pos;
      vl_sha256_update(&s, msg + pos, k);
      pos += k;
    }
    vl_sha256_final(&s, inc);
    if (memcmp(inc, theirs, 32) != 0) bad++;
  }
  VT_EQ_INT(bad, 0);
}
#endif

/* The hardware compression function equals the scalar one on random states and block runs, at
** aligned and unaligned addresses. */
static void test_kernels_equal_scalar(void) {
  static uint8_t buf[64 * 40 + 3];
  uint64_t seed = 0x5A256C0Eull;
  int t, bad = 0, compared = 0;
  const char *kern = vl_sha256_kernel();
  printf("  compression kernel in use: %s\n", kern);
  for (t = 0; t < 2000; t++) {
    uint32_t a[8], b[8];
    size_t nb = 1 + (size_t)(vt_rand(&seed) % 40u), i;
    uint8_t *msg = buf + (t % 4);
    for (i = 0; i < 8; i++) a[i] = b[i] = (uint32_t)vt_rand(&seed);
    for (i = 0; i < nb * 64; i++) msg[i] = (uint8_t)vt_rand(&seed);
    vl_sha256_blocks_scalar(a, msg, nb);
#if defined(VL_CPU_SHA_DISPATCH)
    if (strcmp(kern, "sha-ni") == 0) {
      uint32_t c[8], d[8];
      vl_sha256_blocks_shani(b, msg, nb);
      bad += memcmp(a, b, sizeof a) != 0;
      /* two streams interleaved: each the state one stream alone gives (the second one shifted) */
      for (i = 0; i < 8; i++) c[i] = d[i] = (uint32_t)vt_rand(&seed);
      memcpy(b, a, sizeof b);
      for (i = 0; i < 8; i++) b[i] ^= c[i]; /* a different first state */
      memcpy(a, b, sizeof a);
      vl_sha256_blocks_scalar(a, msg, nb);
      vl_sha256_blocks_scalar(c, buf + 64 * 40 + 3 - nb * 64, nb);
      vl_sha256_blocks_shani_x2(b, msg, d, buf + 64 * 40 + 3 - nb * 64, nb);
      bad += memcmp(a, b, sizeof a) != 0 || memcmp(c, d, sizeof c) != 0;
      compared++;
    }
#endif
  }
  printf("  %d block runs compared with the scalar kernel\n", compared);
  if (strcmp(kern, "scalar") != 0) VT_EQ_INT(compared, 2000);
  VT_EQ_INT(bad, 0);
}

/* vl_sha256_update2 / vl_sha256_final2 give each message's own digest: pairs of one length fed in
** the same random pieces (the interleaved path), pairs whose contexts sit at different offsets
** (absorbed one at a time), and every final padding case (one block, two blocks, mixed). */
static void test_update2(void) {
  static uint8_t m0[3000], m1[3000];
  uint64_t seed = 0x2A2A5EEDull;
  int t, bad = 0;
  for (t = 0; t < 3000; t++) {
    size_t len = (size_t)(vt_rand(&seed) % 3000u), i, pos;
    size_t skew = (t % 3 == 0) ? (size_t)(vt_rand(&seed) % 64u) : 0; /* s1 absorbs a prefix first */
    uint8_t want0[32], want1[32], got0[32], got1[32];
    vl_sha256_ctx s0, s1, r1;
    for (i = 0; i < len; i++) {
      m0[i] = (uint8_t)vt_rand(&seed);
      m1[i] = (uint8_t)vt_rand(&seed);
    }
    if (skew > len) skew = len;
    vl_sha256(m0, len, want0);
    vl_sha256_init(&r1);
    vl_sha256_update(&r1, m1, skew);
    vl_sha256_update(&r1, m1 + skew, len - skew);
    vl_sha256_update(&r1, m1, skew);
    vl_sha256_final(&r1, want1);
    vl_sha256_init(&s0);
    vl_sha256_init(&s1);
    vl_sha256_update(&s1, m1, skew);
    for (pos = 0; pos < len - skew;) {
      size_t k = (size_t)(vt_rand(&seed) % 300u);
      if (k > len - skew - pos) k = len - skew - pos;
      vl_sha256_update2(&s0, m0 + pos, &s1, m1 + skew + pos, k);
      pos += k;
    }
    vl_sha256_update(&s0, m0 + len - skew, skew); /* both now hold len (+ skew) bytes */
    vl_sha256_update(&s1, m1, skew);
    vl_sha256_final2(&s0, got0, &s1, got1);
    bad += memcmp(got0, want0, 32) != 0 || memcmp(got1, want1, 32) != 0;
  }
  VT_EQ_INT(bad, 0);
}

int main(void) {
  VT_RUN(test_fips_vectors);
  VT_RUN(test_kernels_equal_scalar);
  VT_RUN(test_million_a);
  VT_RUN(test_incremental_splits);
  VT_RUN(test_lengths_golden);
  VT_RUN(test_unaligned);
  VT_RUN(test_update2);
#ifdef VALORI_HAVE_OPENSSL
  VT_RUN(test_openssl_cross);
#else
  printf("%-48s %s\n", "test_openssl_cross", "skipped (no OpenSSL)");
#endif
  return VT_DONE();
}
