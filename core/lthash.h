/*
** lthash.h: LtHash16, the incremental homomorphic multiset hash of Lewi et al. 2019 ("Securing
** Update Propagation with Homomorphic Hashing"). The state is 1024 uint16 lanes. An element is
** identified by a 32-byte digest (normally its SHA-256); its contribution is the 2048-byte ChaCha20
** keystream (RFC 8439 block function, key = digest, nonce = 12 zero bytes, block counters 0..31)
** read as 1024 little-endian uint16. add/sub are lane-wise addition/subtraction mod 2^16, so the
** state depends only on the multiset of elements, never on the order they were added or removed.
** Portable C11: no allocation, no floating point, no global state, any host byte order.
*/
#ifndef VL_LTHASH_H
#define VL_LTHASH_H

#include <stddef.h>
#include <stdint.h>

#define VL_LTHASH_LANES 1024
#define VL_LTHASH_BYTES 2048

typedef struct vl_lthash {
  uint16_t lane[VL_LTHASH_LANES];
} vl_lthash;

/* The empty multiset: every lane 0. */
void vl_lthash_zero(vl_lthash *h);
/* Adds / removes one element, identified by its 32-byte digest. */
void vl_lthash_add(vl_lthash *h, const uint8_t digest[32]);
void vl_lthash_sub(vl_lthash *h, const uint8_t digest[32]);
/* h += other, lane-wise mod 2^16: the multiset union of the two (order-free, so a set of elements
** split into parts folded separately and combined gives the same lanes as folding them all). */
void vl_lthash_combine(vl_lthash *h, const vl_lthash *other);
/* Canonical encoding: lane i as little-endian u16 at byte 2*i. */
void vl_lthash_serialize(const vl_lthash *h, uint8_t out[VL_LTHASH_BYTES]);
void vl_lthash_deserialize(vl_lthash *h, const uint8_t in[VL_LTHASH_BYTES]);

/* The fold kernel add/sub use: "avx512", "avx2", "sse2" (x86, WebAssembly SIMD) or "scalar". */
const char *vl_lthash_kernel(void);
/* The folds themselves (sign 0: add, 1: subtract), exposed for the tests: every one must give the
** scalar reference's lanes. vl_lthash_fold_sse2 exists on SSE2 builds, vl_lthash_fold_avx2 and
** vl_lthash_fold_avx512 on x86 GCC/Clang builds (call them only where the CPU has AVX2 / AVX-512F:
** vl_cpu_avx2 / vl_cpu_avx512f in cpu.h). */
void vl_lthash_fold_scalar(vl_lthash *h, const uint8_t digest[32], int sign);
void vl_lthash_fold_sse2(vl_lthash *h, const uint8_t digest[32], int sign);
void vl_lthash_fold_avx2(vl_lthash *h, const uint8_t digest[32], int sign);
void vl_lthash_fold_avx512(vl_lthash *h, const uint8_t digest[32], int sign);

/* The ChaCha20 block function of RFC 8439 section 2.3 (20 rounds, 32-bit block counter, 96-bit
** nonce): writes the 64-byte keystream block. Exposed for its test vector. */
void vl_chacha20_block(const uint8_t key[32], uint32_t counter, const uint8_t nonce[12], uint8_t out[64]);

#endif /* VL_LTHASH_H */
