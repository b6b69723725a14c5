/*
** test_crc32c.c: CRC-32C check value, published vectors (RFC 3720 appendix B.4), the chaining
** property at every split point, the slicing-by-8 path against a bitwise reference at every length
** and alignment, and the constant tables against their definition.
*/
#include "crc32c.h"
#include "vt.h"

/* Bit-at-a-time reference, straight from the definition. */
static uint32_t ref_crc32c(uint32_t crc, const uint8_t *p, size_t n) {
  uint32_t c = ~crc;
  size_t i;
  int k;
  for (i = 0; i < n; i++) {
    c ^= p[i];
    for (k = 0; k < 8; k++) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}

static void test_check_value(void) {
  VT_EQ_INT(vl_crc32c(0, "123456789", 9), 0xE3069283u);
  VT_EQ_INT(vl_crc32c(0, NULL, 0), 0);
  VT_EQ_INT(vl_crc32c(0x12345678u, NULL, 0), 0x12345678u);
  VT_EQ_INT(vl_crc32c(0, "a", 1), 0xC1D04330u);
}

static void test_rfc3720_vectors(void) {
  uint8_t b[48];
  int i;
  memset(b, 0, 32);
  VT_EQ_INT(vl_crc32c(0, b, 32), 0x8A9136AAu);
  memset(b, 0xFF, 32);
  VT_EQ_INT(vl_crc32c(0, b, 32), 0x62A8AB43u);
  for (i = 0; i < 32; i++) b[i] = (uint8_t)i;
  VT_EQ_INT(vl_crc32c(0, b, 32), 0x46DD794Eu);
  for (i = 0; i < 32; i++) b[i] = (uint8_t)(31 - i);
  VT_EQ_INT(vl_crc32c(0, b, 32), 0x113FDB5Cu);
  /* iSCSI SCSI Read (10) command PDU */
  {
    static const uint8_t pdu[48] = {
      0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
      0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    VT_EQ_INT(vl_crc32c(0, pdu, sizeof pdu), 0xD9963A56u);
  }
}

static void test_chaining(void) {
  uint8_t msg[300];
  uint64_t seed = 3;
  size_t i, cut;
  uint32_t whole;
  int bad = 0;
  for (i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)vt_rand(&seed);
  whole = vl_crc32c(0, msg, sizeof msg);
  for (cut = 0; cut <= sizeof msg; cut++)
    if (vl_crc32c(vl_crc32c(0, msg, cut), msg + cut, sizeof msg - cut) != whole) bad++;
  VT_EQ_INT(bad, 0);
  /* byte at a time */
  {
    uint32_t c = 0;
    for (i = 0; i < sizeof msg; i++) c = vl_crc32c(c, msg + i, 1);
    VT_EQ_INT(c, whole);
  }
}

static void test_against_reference(void) {
  uint8_t buf[1100];
  uint64_t seed = 99;
  size_t i, len, off;
  int bad = 0;
  for (i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)vt_rand(&seed);
  for (off = 0; off < 8; off++)
    for (len = 0; len <= 1024 + 17; len++)
      if (vl_crc32c(0, buf + off, len) != ref_crc32c(0, buf + off, len)) bad++;
  /* nonzero starting values */
  for (i = 0; i < 200; i++) {
    uint32_t start = (uint32_t)vt_rand(&seed);
    len = (size_t)(vt_rand(&seed) % 1000u);
    if (vl_crc32c(start, buf, len) != ref_crc32c(start, buf, len)) bad++;
  }
  VT_EQ_INT(bad, 0);
}

/* The pasted tables match their definition. In the 8-byte step, table 7-k is indexed by byte k of
** the first word (xored with the running state) and table 3-k by byte k of the second word, so the
** 8-byte messages with one byte varied over 0..255 (the others fixed) look up every entry of every
** table; each result is compared with the bitwise reference, so any wrong entry is caught. */
static void test_tables_every_entry(void) {
  uint8_t m[8];
  int pos, v, bad = 0;
  for (pos = 0; pos < 8; pos++)
    for (v = 0; v < 256; v++) {
      memset(m, 0, 8);
      m[pos] = (uint8_t)v;
      if (vl_crc32c(0, m, 8) != ref_crc32c(0, m, 8)) bad++;
      memset(m, 0xFF, 8);
      m[pos] = (uint8_t)v;
      if (vl_crc32c(0, m, 8) != ref_crc32c(0, m, 8)) bad++;
    }
  VT_EQ_INT(bad, 0);
}

int main(void) {
  VT_RUN(test_check_value);
  VT_RUN(test_rfc3720_vectors);
  VT_RUN(test_chaining);
  VT_RUN(test_against_reference);
  VT_RUN(test_tables_every_entry);
  return VT_DONE();
}
