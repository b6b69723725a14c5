/*
** sha256.h: SHA-256 (FIPS 180-4), portable C11: no OS calls, no allocation, no floating point,
** independent of host endianness and alignment. Used for record digests and the state hash.
*/
#ifndef VL_SHA256_H
#define VL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define VL_SHA256_BYTES 32

typedef struct vl_sha256_ctx {
  uint32_t h[8];     /* chaining state */
  uint64_t total;    /* bytes absorbed so far */
  uint8_t buf[64];   /* partial block */
  uint32_t nbuf;     /* bytes in buf (0..63) */
} vl_sha256_ctx;

void vl_sha256_init(vl_sha256_ctx *s);
/* Absorbs n bytes; data may be NULL when n == 0. */
void vl_sha256_update(vl_sha256_ctx *s, const void *data, size_t n);
/* Writes the digest. The context must be re-initialized before reuse. */
void vl_sha256_final(vl_sha256_ctx *s, uint8_t out[32]);
/* Two messages at once: exactly vl_sha256_update(s0, d0, n) and vl_sha256_update(s1, d1, n), and
** vl_sha256_final of each. When both contexts are at the same offset in a block (the same number
** of bytes absorbed modulo 64: messages of one layout), their blocks are compressed together,
** which on SHA-NI runs the two streams interleaved (sha256rnds2's latency is hidden by the other
** stream); otherwise one after the other. */
void vl_sha256_update2(vl_sha256_ctx *s0, const void *d0, vl_sha256_ctx *s1, const void *d1, size_t n);
void vl_sha256_final2(vl_sha256_ctx *s0, uint8_t out0[32], vl_sha256_ctx *s1, uint8_t out1[32]);
/* One-shot digest of n bytes. */
void vl_sha256(const void *data, size_t n, uint8_t out[32]);

/* The compression kernel in use: "sha-ni" (x86 SHA extensions) or "scalar". */
const char *vl_sha256_kernel(void);
/* The compression functions (nblocks 64-byte blocks at p into the state st), exposed for the tests:
** every kernel must give the scalar reference's state. vl_sha256_blocks_shani exists on x86 GCC
** builds; call it only where vl_sha256_kernel() is "sha-ni". */
void vl_sha256_blocks_scalar(uint32_t st[8], const uint8_t *p, size_t nblocks);
void vl_sha256_blocks_shani(uint32_t st[8], const uint8_t *p, size_t nblocks);
/* Two streams of nblocks blocks each, interleaved (SHA-NI): the states sha256_blocks_shani gives. */
void vl_sha256_blocks_shani_x2(uint32_t st0[8], const uint8_t *p0, uint32_t st1[8], const uint8_t *p1, size_t nblocks);

#endif /* VL_SHA256_H */
