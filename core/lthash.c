/*
** lthash.c: LtHash16 over a ChaCha20 keystream (see lthash.h). add/sub generate the 32 keystream
** blocks one at a time as sixteen 32-bit words and fold them into the lanes at once: keystream word
** j of block b is bytes 4j..4j+3 of that block in little-endian order, so its low half is lane
** 32b+2j and its high half lane 32b+2j+1, with no byte serialization and no host-order dependence.
*/
#include "lthash.h"

#include "vl_int.h"

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

/* sign 0: add, 1: subtract. */
static void vl_lthash_fold(vl_lthash *h, const uint8_t digest[32], int sign) {
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

void vl_lthash_add(vl_lthash *h, const uint8_t digest[32]) { vl_lthash_fold(h, digest, 0); }
void vl_lthash_sub(vl_lthash *h, const uint8_t digest[32]) { vl_lthash_fold(h, digest, 1); }

void vl_lthash_serialize(const vl_lthash *h, uint8_t out[VL_LTHASH_BYTES]) {
  int i;
  for (i = 0; i < VL_LTHASH_LANES; i++) vl_put16(out + 2 * i, h->lane[i]);
}

void vl_lthash_deserialize(vl_lthash *h, const uint8_t in[VL_LTHASH_BYTES]) {
  int i;
  for (i = 0; i < VL_LTHASH_LANES; i++) h->lane[i] = vl_get16(in + 2 * i);
}
