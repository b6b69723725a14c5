/*
** frame.c: the frames of the replication stream and long poll (docs/REPLICATION.md section 5;
** valori.h valori_frame_*): u8 type | u8 version | u16 flags | u32 len | payload | u32 CRC-32C of
** the header and payload. The decoder is pure and bounded (the fuzz target fuzz_frame.c drives it):
** it judges the 8 header bytes before the payload is there, so a hostile length is refused before
** a reader buffers anything for it, and it never reads outside the caller's n bytes.
*/
#include "crc32c.h"
#include "log.h"

#define FRAME_HDR 8u

/* The payload length range of a frame type: [*lo, *hi]; 0 for an unknown type. */
static int frame_len_range(uint32_t type, uint64_t *lo, uint64_t *hi) {
  switch (type) {
    case VALORI_FRAME_HELLO: *lo = *hi = VALORI_FRAME_HELLO_LEN; return 1;
    case VALORI_FRAME_HEARTBEAT: *lo = *hi = VALORI_FRAME_HEARTBEAT_LEN; return 1;
    case VALORI_FRAME_RECORD: *lo = VL_REC_HDR; *hi = (uint64_t)VL_REC_HDR + VALORI_MAX_EVENT; return 1;
    case VALORI_FRAME_ERROR: *lo = 4; *hi = 4u + VALORI_FRAME_MAX_MESSAGE; return 1;
    default: return 0;
  }
}

int valori_frame_decode(const uint8_t *buf, size_t n, valori_frame *f, size_t *used) {
  uint64_t lo, hi, len, size;
  const uint8_t *p;
  uint32_t type;
  if (!buf || !f || !used) return VALORI_EINVAL;
  memset(f, 0, sizeof *f);
  *used = 0;
  f->size = FRAME_HDR;
  if (n < FRAME_HDR) return VALORI_OK;
  type = buf[0];
  if (buf[1] != VALORI_FRAME_VERSION) return VALORI_EVERSION;
  if (!frame_len_range(type, &lo, &hi) || buf[2] || buf[3]) return VALORI_ECORRUPT;
  len = vl_get32(buf + 4);
  if (len < lo || len > hi) return VALORI_ECORRUPT;
  size = len + VALORI_FRAME_OVERHEAD;
  f->size = size;
  f->type = type;
  if ((uint64_t)n < size) return VALORI_OK;
  p = buf + FRAME_HDR;
  if (vl_crc32c(0, buf, (size_t)(FRAME_HDR + len)) != vl_get32(p + len)) return VALORI_ECORRUPT;
  switch (type) {
    case VALORI_FRAME_HELLO: {
      uint32_t i;
      f->from = vl_get64(p);
      f->leader_height = vl_get64(p + 8);
      f->log_first_height = vl_get64(p + 16);
      for (i = 0; i < 5; i++) f->config[i] = vl_get32(p + 24 + 4 * i);
      memcpy(f->root, p + 44, 32);
      f->time_ms = vl_get64(p + 76);
      f->heartbeat_ms = vl_get32(p + 84);
      if (vl_get32(p + 88) != 0) return VALORI_ECORRUPT;
      break;
    }
    case VALORI_FRAME_HEARTBEAT:
      f->leader_height = vl_get64(p);
      f->time_ms = vl_get64(p + 8);
      memcpy(f->root, p + 16, 32);
      break;
    case VALORI_FRAME_RECORD:
      if ((uint64_t)vl_get32(p) + VL_REC_HDR != len) return VALORI_ECORRUPT;
      f->data = p;
      f->data_len = len;
      f->height = vl_get64(p + VL_REC_OFF_HEIGHT);
      break;
    default: /* ERROR */
      f->code = vl_get32(p);
      f->data = p + 4;
      f->data_len = len - 4;
      if (memchr(f->data, 0, (size_t)f->data_len)) return VALORI_ECORRUPT;
      break;
  }
  *used = (size_t)size;
  return VALORI_OK;
}

int valori_frame_encode(const valori_frame *f, uint8_t *out, size_t cap, size_t *len) {
  uint64_t lo, hi, plen;
  uint8_t *p;
  uint32_t i;
  if (!f || !len || (cap && !out) || !frame_len_range(f->type, &lo, &hi)) return VALORI_EINVAL;
  switch (f->type) {
    case VALORI_FRAME_HELLO: plen = VALORI_FRAME_HELLO_LEN; break;
    case VALORI_FRAME_HEARTBEAT: plen = VALORI_FRAME_HEARTBEAT_LEN; break;
    case VALORI_FRAME_RECORD:
      plen = f->data_len;
      if (!f->data || plen < lo || plen > hi || (uint64_t)vl_get32(f->data) + VL_REC_HDR != plen) return VALORI_EINVAL;
      break;
    default:
      plen = 4u + f->data_len;
      if ((f->data_len && !f->data) || plen > hi || (f->data_len && memchr(f->data, 0, (size_t)f->data_len)))
        return VALORI_EINVAL;
      break;
  }
  *len = (size_t)(plen + VALORI_FRAME_OVERHEAD);
  if (cap < *len) return VALORI_EBUFSIZE;
  out[0] = (uint8_t)f->type;
  out[1] = VALORI_FRAME_VERSION;
  out[2] = out[3] = 0;
  vl_put32(out + 4, (uint32_t)plen);
  p = out + FRAME_HDR;
  switch (f->type) {
    case VALORI_FRAME_HELLO:
      vl_put64(p, f->from);
      vl_put64(p + 8, f->leader_height);
      vl_put64(p + 16, f->log_first_height);
      for (i = 0; i < 5; i++) vl_put32(p + 24 + 4 * i, f->config[i]);
      memcpy(p + 44, f->root, 32);
      vl_put64(p + 76, f->time_ms);
      vl_put32(p + 84, f->heartbeat_ms);
      vl_put32(p + 88, 0);
      break;
    case VALORI_FRAME_HEARTBEAT:
      vl_put64(p, f->leader_height);
      vl_put64(p + 8, f->time_ms);
      memcpy(p + 16, f->root, 32);
      break;
    case VALORI_FRAME_RECORD: memcpy(p, f->data, (size_t)plen); break;
    default:
      vl_put32(p, f->code);
      if (f->data_len) memcpy(p + 4, f->data, (size_t)f->data_len);
      break;
  }
  vl_put32(p + plen, vl_crc32c(0, out, (size_t)(FRAME_HDR + plen)));
  return VALORI_OK;
}
