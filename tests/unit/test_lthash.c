/*
** test_lthash.c: the ChaCha20 block function against RFC 8439 section 2.3.2, and LtHash16's
** properties (inverse, order independence, multiset semantics, serialization) plus one golden value
** computed by an independent implementation. With OpenSSL, an element's whole 2048-byte
** contribution is also cross-checked against OpenSSL's ChaCha20 keystream. Every SIMD fold this
** build and CPU have (SSE2, AVX2) must give the scalar reference's lanes exactly.
*/
#include "cpu.h"
#include "lthash.h"
#include "sha256.h"
#include "vt.h"

#ifdef VALORI_HAVE_OPENSSL
#include <openssl/evp.h>
#endif

static int is_zero(const vl_lthash *h) {
  int i;
  for (i = 0; i < VL_LTHASH_LANES; i++)
    if (h->lane[i]) return 0;
  return 1;
}

static int same(const vl_lthash *a, const vl_lthash *b) {
  uint8_t sa[VL_LTHASH_BYTES], sb[VL_LTHASH_BYTES];
  vl_lthash_serialize(a, sa);
  vl_lthash_serialize(b, sb);
  return memcmp(sa, sb, sizeof sa) == 0;
}

static void digest_of(const char *s, uint8_t d[32]) { vl_sha256(s, strlen(s), d); }

/* RFC 8439 section 2.3.2: key 00..1f, nonce 00:00:00:09:00:00:00:4a:00:00:00:00, counter 1. */
static void test_chacha20_rfc8439(void) {
  static const uint8_t expect[64] = {
    0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd, 0x1f, 0xa3, 0x20, 0x71, 0xc4,
    0xc7, 0xd1, 0xf4, 0xc7, 0x33, 0xc0, 0x68, 0x03, 0x04, 0x22, 0xaa, 0x9a, 0xc3, 0xd4, 0x6c, 0x4e,
    0xd2, 0x82, 0x64, 0x46, 0x07, 0x9f, 0xaa, 0x09, 0x14, 0xc2, 0xd7, 0x05, 0xd9, 0x8b, 0x02, 0xa2,
    0xb5, 0x12, 0x9c, 0xd1, 0xde, 0x16, 0x4e, 0xb9, 0xcb, 0xd0, 0x83, 0xe8, 0xa2, 0x50, 0x3c, 0x4e};
  static const uint8_t nonce[12] = {0, 0, 0, 0x09, 0, 0, 0, 0x4a, 0, 0, 0, 0};
  uint8_t key[32], out[64];
  int i;
  for (i = 0; i < 32; i++) key[i] = (uint8_t)i;
  vl_chacha20_block(key, 1, nonce, out);
  VT_CHECK(memcmp(out, expect, 64) == 0);
}

/* add(x) on the zero state equals the keystream blocks 0..31 of vl_chacha20_block, as LE u16. */
static void test_contribution_is_keystream(void) {
  static const uint8_t nonce[12] = {0};
  uint8_t d[32], ks[VL_LTHASH_BYTES], ser[VL_LTHASH_BYTES];
  vl_lthash h;
  uint32_t b;
  digest_of("contribution", d);
  for (b = 0; b < 32; b++) vl_chacha20_block(d, b, nonce, ks + 64 * b);
  vl_lthash_zero(&h);
  vl_lthash_add(&h, d);
  vl_lthash_serialize(&h, ser);
  VT_CHECK(memcmp(ser, ks, sizeof ks) == 0);
  VT_EQ_INT(h.lane[0], ks[0] | (ks[1] << 8));
  VT_EQ_INT(h.lane[1023], ks[2046] | (ks[2047] << 8));
}

static void test_add_sub_inverse(void) {
  uint8_t d[32];
  vl_lthash h;
  uint64_t seed = 1;
  int i, k;
  vl_lthash_zero(&h);
  VT_CHECK(is_zero(&h));
  digest_of("a", d);
  vl_lthash_add(&h, d);
  VT_CHECK(!is_zero(&h));
  vl_lthash_sub(&h, d);
  VT_CHECK(is_zero(&h));
  /* sub before add also cancels; many random elements added then removed in another order */
  vl_lthash_sub(&h, d);
  vl_lthash_add(&h, d);
  VT_CHECK(is_zero(&h));
  {
    uint8_t ds[50][32];
    for (i = 0; i < 50; i++)
      for (k = 0; k < 32; k++) ds[i][k] = (uint8_t)vt_rand(&seed);
    for (i = 0; i < 50; i++) vl_lthash_add(&h, ds[i]);
    for (i = 0; i < 50; i++) vl_lthash_sub(&h, ds[(i * 17) % 50]);
    VT_CHECK(is_zero(&h));
  }
}

static void test_order_independence(void) {
  static const int perm[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  uint8_t d[3][32];
  vl_lthash ref, h;
  int p, i;
  digest_of("a", d[0]);
  digest_of("b", d[1]);
  digest_of("c", d[2]);
  vl_lthash_zero(&ref);
  for (i = 0; i < 3; i++) vl_lthash_add(&ref, d[perm[0][i]]);
  for (p = 1; p < 6; p++) {
    vl_lthash_zero(&h);
    for (i = 0; i < 3; i++) vl_lthash_add(&h, d[perm[p][i]]);
    VT_CHECK(same(&h, &ref));
  }
  /* removing b from {a,b,c} gives {a,c} */
  {
    vl_lthash ac;
    vl_lthash_zero(&ac);
    vl_lthash_add(&ac, d[2]);
    vl_lthash_add(&ac, d[0]);
    h = ref;
    vl_lthash_sub(&h, d[1]);
    VT_CHECK(same(&h, &ac));
  }
}

static void test_multiset(void) {
  uint8_t a[32], b[32];
  vl_lthash one, two, ab;
  digest_of("a", a);
  digest_of("b", b);
  vl_lthash_zero(&one);
  vl_lthash_add(&one, a);
  two = one;
  vl_lthash_add(&two, a);
  VT_CHECK(!same(&one, &two));
  vl_lthash_zero(&ab);
  vl_lthash_add(&ab, a);
  vl_lthash_add(&ab, b);
  VT_CHECK(!same(&ab, &two));
  VT_CHECK(!same(&ab, &one));
  vl_lthash_sub(&two, a);
  VT_CHECK(same(&one, &two));
}

static void test_serialize_roundtrip(void) {
  uint8_t d[32], ser[VL_LTHASH_BYTES], ser2[VL_LTHASH_BYTES];
  vl_lthash h, g;
  uint64_t seed = 77;
  int i;
  vl_lthash_zero(&h);
  for (i = 0; i < 10; i++) {
    int k;
    for (k = 0; k < 32; k++) d[k] = (uint8_t)vt_rand(&seed);
    vl_lthash_add(&h, d);
  }
  vl_lthash_serialize(&h, ser);
  for (i = 0; i < VL_LTHASH_LANES; i++) {
    VT_REQUIRE(ser[2 * i] == (uint8_t)h.lane[i]); /* little-endian, lane order */
    VT_REQUIRE(ser[2 * i + 1] == (uint8_t)(h.lane[i] >> 8));
  }
  memset(&g, 0xA5, sizeof g);
  vl_lthash_deserialize(&g, ser);
  VT_CHECK(memcmp(g.lane, h.lane, sizeof h.lane) == 0);
  vl_lthash_serialize(&g, ser2);
  VT_CHECK(memcmp(ser, ser2, sizeof ser) == 0);
}

/* Golden value. Derivation: an independent implementation in Python 3 (hashlib.sha256 plus a
** ChaCha20 block function written from RFC 8439 section 2.3, itself checked against the 2.3.2
** vector), run once and not part of the repository:
**   lanes = [0] * 1024
**   for m in (b"a", b"b", b"c"):
**       ks = b"".join(chacha20_block(sha256(m).digest(), ctr, bytes(12)) for ctr in range(32))
**       lanes = [(lanes[j] + int.from_bytes(ks[2*j:2*j+2], "little")) & 0xffff for j in range(1024)]
**   sha256(struct.pack("<1024H", *lanes)).hexdigest()
** It also gave lanes[0..3] = 929, 3393, 37166, 8331. */
static void test_golden_abc(void) {
  static const char *expect = "392010df967805b1a55840f9b622f44c70e9518ff98837dbfe6e6cecaeb2bf8f";
  uint8_t d[32], ser[VL_LTHASH_BYTES], root[32];
  char hex[65];
  vl_lthash h;
  int i;
  vl_lthash_zero(&h);
  digest_of("a", d);
  vl_lthash_add(&h, d);
  digest_of("b", d);
  vl_lthash_add(&h, d);
  digest_of("c", d);
  vl_lthash_add(&h, d);
  VT_EQ_INT(h.lane[0], 929);
  VT_EQ_INT(h.lane[1], 3393);
  VT_EQ_INT(h.lane[2], 37166);
  VT_EQ_INT(h.lane[3], 8331);
  vl_lthash_serialize(&h, ser);
  vl_sha256(ser, sizeof ser, root);
  for (i = 0; i < 32; i++) sprintf(hex + 2 * i, "%02x", root[i]);
  VT_CHECK(strcmp(hex, expect) == 0);
  if (strcmp(hex, expect) != 0) fprintf(stderr, "  got %s\n", hex);
}

#ifdef VALORI_HAVE_OPENSSL
/* OpenSSL's EVP_chacha20 takes a 16-byte IV: 32-bit LE block counter, then the 12-byte nonce.
** Encrypting 2048 zero bytes yields the keystream an element contributes. */
static void test_openssl_keystream(void) {
  static const uint8_t zeros[VL_LTHASH_BYTES] = {0};
  uint8_t iv[16] = {0}, d[32], ks[VL_LTHASH_BYTES], ser[VL_LTHASH_BYTES];
  uint64_t seed = 2024;
  int t, k, len = 0, bad = 0;
  for (t = 0; t < 64; t++) {
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    vl_lthash h;
    VT_REQUIRE(c != NULL);
    for (k = 0; k < 32; k++) d[k] = (uint8_t)vt_rand(&seed);
    VT_REQUIRE(EVP_EncryptInit_ex(c, EVP_chacha20(), NULL, d, iv) == 1);
    VT_REQUIRE(EVP_EncryptUpdate(c, ks, &len, zeros, (int)sizeof zeros) == 1);
    EVP_CIPHER_CTX_free(c);
    VT_REQUIRE(len == VL_LTHASH_BYTES);
    vl_lthash_zero(&h);
    vl_lthash_add(&h, d);
    vl_lthash_serialize(&h, ser);
    if (memcmp(ser, ks, sizeof ks) != 0) bad++;
  }
  VT_EQ_INT(bad, 0);
}
#endif

/* Each SIMD fold equals the scalar reference on random states and digests, adding and subtracting;
** the fold add/sub use (vl_lthash_kernel) is one of them. */
static void test_simd_folds_equal_scalar(void) {
  static vl_lthash ref, got;
  uint64_t seed = 0x51D0F01Dull;
  uint8_t d[32];
  int t, k, kernels = 0, bad = 0;
  const char *kern = vl_lthash_kernel();
  printf("  fold kernel in use: %s\n", kern);
  for (t = 0; t < 3000; t++) {
    int sign = t & 1;
    for (k = 0; k < 32; k++) d[k] = (uint8_t)vt_rand(&seed);
    for (k = 0; k < VL_LTHASH_LANES; k++) ref.lane[k] = (uint16_t)vt_rand(&seed);
    got = ref;
    vl_lthash_fold_scalar(&ref, d, sign);
#if !defined(VALORI_NO_SIMD) && (defined(__SSE2__) || defined(_M_X64))
    {
      vl_lthash x = got;
      vl_lthash_fold_sse2(&x, d, sign);
      bad += memcmp(&x, &ref, sizeof x) != 0;
      if (t == 0) kernels++;
    }
#if defined(VL_CPU_DISPATCH)
    if (vl_cpu_avx2()) {
      vl_lthash x = got;
      vl_lthash_fold_avx2(&x, d, sign);
      bad += memcmp(&x, &ref, sizeof x) != 0;
      if (t == 0) kernels++;
    }
    if (vl_cpu_avx512f()) {
      vl_lthash x = got;
      vl_lthash_fold_avx512(&x, d, sign);
      bad += memcmp(&x, &ref, sizeof x) != 0;
      if (t == 0) kernels++;
    }
#endif
#endif
    if (sign) vl_lthash_sub(&got, d);
    else vl_lthash_add(&got, d);
    bad += memcmp(&got, &ref, sizeof got) != 0;
  }
  printf("  %d SIMD fold(s) compared with the scalar one on 3000 random digests\n", kernels);
  VT_EQ_INT(bad, 0);
#if !defined(VALORI_NO_SIMD) && defined(__x86_64__)
  VT_CHECK(kernels >= 1 && strcmp(kern, "scalar") != 0); /* x86-64 always has SSE2 */
#endif
}

int main(void) {
  VT_RUN(test_chacha20_rfc8439);
  VT_RUN(test_simd_folds_equal_scalar);
  VT_RUN(test_contribution_is_keystream);
  VT_RUN(test_add_sub_inverse);
  VT_RUN(test_order_independence);
  VT_RUN(test_multiset);
  VT_RUN(test_serialize_roundtrip);
  VT_RUN(test_golden_abc);
#ifdef VALORI_HAVE_OPENSSL
  VT_RUN(test_openssl_keystream);
#else
  printf("%-48s %s\n", "test_openssl_keystream", "skipped (no OpenSSL)");
#endif
  return VT_DONE();
}
