/*
** crc32c.h: CRC-32C (Castagnoli; reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF),
** the checksum of iSCSI/ext4/SSE4.2. Portable C11, slicing-by-8, constant tables, no state.
*/
#ifndef VL_CRC32C_H
#define VL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends the checksum `crc` (0 to start; otherwise a previous result) with n bytes, so that
** vl_crc32c(vl_crc32c(0, a, na), b, nb) == vl_crc32c(0, a||b, na + nb). data may be NULL when
** n == 0. Check value: vl_crc32c(0, "123456789", 9) == 0xE3069283. */
uint32_t vl_crc32c(uint32_t crc, const void *data, size_t n);

#endif /* VL_CRC32C_H */
