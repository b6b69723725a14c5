/*
** log.c: the byte formats of the durable store: file names, segment headers, log records and
** snapshot file headers (layouts in log.h and docs/STORAGE.md), and the segment scanner that
** decides, for a damaged segment, whether the damage is a torn tail (writes that were never
** synced, safe to trim) or corruption of bytes that had been durable (reported, never trimmed).
**
** The classification rests on the `synced` field every record carries: the segment offset that
** was durable when the record was written. A crash can only damage bytes at or after the last
** durable offset, so a valid record that says "offset X was durable when I was written" proves
** that damage at X is not a crash artefact. Everything here is pure and bounded: hostile bytes
** give a classification or ECORRUPT, never an out-of-bounds read (the fuzz targets call these).
*/
#include "log.h"

#include "crc32c.h"
#include "sha256.h"

/* Writes "<prefix><20 digits><suffix>" into out (callers pass fixed short literals). */
static void vl_name_fmt(char out[VL_NAME_MAX], const char *prefix, uint64_t h, const char *suffix) {
  size_t k = 0, i;
  char d[20];
  for (i = 0; prefix[i]; i++) out[k++] = prefix[i];
  for (i = 0; i < 20; i++) {
    d[19 - i] = (char)('0' + (int)(h % 10u));
    h /= 10u;
  }
  for (i = 0; i < 20; i++) out[k++] = d[i];
  for (i = 0; suffix[i]; i++) out[k++] = suffix[i];
  out[k] = '\0';
}

/* Names the segment whose first record has height first_height. */
void vl_name_segment(char out[VL_NAME_MAX], uint64_t first_height) {
  vl_name_fmt(out, "log-", first_height, ".vlog");
}
/* Names the published snapshot at `height`. */
void vl_name_snapshot(char out[VL_NAME_MAX], uint64_t height) { vl_name_fmt(out, "snap-", height, ".vsnap"); }
/* Names the temporary file a snapshot is written to before its atomic rename. */
void vl_name_snapshot_tmp(char out[VL_NAME_MAX], uint64_t height) {
  vl_name_fmt(out, "snap-", height, ".vsnap.tmp");
}

/* Parses exactly 20 decimal digits at s into *h; returns 1 on success. */
static int vl_parse20(const char *s, uint64_t *h) {
  uint64_t v = 0;
  int i;
  for (i = 0; i < 20; i++) {
    unsigned dg;
    if (s[i] < '0' || s[i] > '9') return 0;
    dg = (unsigned)(s[i] - '0');
    if (v > (UINT64_MAX - dg) / 10u) return 0;
    v = v * 10u + dg;
  }
  *h = v;
  return 1;
}

/* Classifies a directory entry by its exact name; see log.h. */
int vl_name_parse(const char *name, uint64_t *height) {
  size_t n = strlen(name);
  if (n == 4 + 20 + 5 && memcmp(name, "log-", 4) == 0 && memcmp(name + 24, ".vlog", 5) == 0)
    return vl_parse20(name + 4, height) ? 1 : 0;
  if (n == 5 + 20 + 6 && memcmp(name, "snap-", 5) == 0 && memcmp(name + 25, ".vsnap", 6) == 0)
    return vl_parse20(name + 5, height) ? 2 : 0;
  if (n == 5 + 20 + 10 && memcmp(name, "snap-", 5) == 0 && memcmp(name + 25, ".vsnap.tmp", 10) == 0)
    return vl_parse20(name + 5, height) ? 3 : 0;
  return 0;
}

/* Field-by-field equality of two configurations. */
int vl_config_eq(const vl_config *x, const vl_config *y) {
  return x->dim == y->dim && x->metric == y->metric && x->hnsw_m == y->hnsw_m &&
         x->hnsw_ef_construction == y->hnsw_ef_construction && x->hnsw_ef_search == y->hnsw_ef_search;
}

/* Encodes the five configuration fields (20 bytes). */
static void vl_cfg_put(uint8_t *p, const vl_config *c) {
  vl_put32(p, c->dim);
  vl_put32(p + 4, c->metric);
  vl_put32(p + 8, c->hnsw_m);
  vl_put32(p + 12, c->hnsw_ef_construction);
  vl_put32(p + 16, c->hnsw_ef_search);
}
/* Decodes the five configuration fields (20 bytes). */
static void vl_cfg_get(const uint8_t *p, vl_config *c) {
  c->dim = vl_get32(p);
  c->metric = vl_get32(p + 4);
  c->hnsw_m = vl_get32(p + 8);
  c->hnsw_ef_construction = vl_get32(p + 12);
  c->hnsw_ef_search = vl_get32(p + 16);
}

/* Encodes a segment header (layout in log.h). */
void vl_seg_hdr_encode(const vl_seg_hdr *h, uint8_t out[VL_SEG_HDR]) {
  memset(out, 0, VL_SEG_HDR);
  memcpy(out, VL_SEG_MAGIC, 8);
  vl_put32(out + 8, vl_config_format_version(&h->cfg));
  vl_put32(out + 12, VL_SEG_HDR);
  vl_cfg_put(out + 16, &h->cfg);
  vl_put64(out + 40, h->first_height);
  memcpy(out + 48, h->chain_in, 32);
  vl_put32(out + 92, vl_crc32c(0, out, 92));
}

/* Decodes a segment header; see log.h. */
int vl_seg_hdr_decode(const uint8_t *p, size_t n, vl_seg_hdr *h, const char **what) {
  size_t i;
  if (n < VL_SEG_HDR) { *what = "segment shorter than its header"; return VALORI_ECORRUPT; }
  if (memcmp(p, VL_SEG_MAGIC, 8) != 0) { *what = "bad segment magic"; return VALORI_ECORRUPT; }
  if (vl_crc32c(0, p, 92) != vl_get32(p + 92)) { *what = "bad segment header checksum"; return VALORI_ECORRUPT; }
  h->version = vl_get32(p + 8);
  if (h->version > VL_FORMAT_VERSION_MAX) { *what = "segment format version is newer than this library"; return VALORI_EVERSION; }
  if (h->version == 0 || vl_get32(p + 12) != VL_SEG_HDR || vl_get32(p + 36) != 0) {
    *what = "bad segment header fields";
    return VALORI_ECORRUPT;
  }
  for (i = 80; i < 92; i++)
    if (p[i]) { *what = "bad segment header fields"; return VALORI_ECORRUPT; }
  vl_cfg_get(p + 16, &h->cfg);
  if (vl_config_check(&h->cfg)) { *what = "invalid configuration in the segment header"; return VALORI_ECORRUPT; }
  if (h->version != vl_config_format_version(&h->cfg)) { *what = "segment version does not match its configuration"; return VALORI_ECORRUPT; }
  h->first_height = vl_get64(p + 40);
  memcpy(h->chain_in, p + 48, 32);
  if (h->first_height == 0) { *what = "segment first height is 0"; return VALORI_ECORRUPT; }
  return VALORI_OK;
}

/* Computes the next chain value; see log.h. */
void vl_chain_next(const uint8_t prev[32], uint64_t height, const uint8_t root[32], const uint8_t *ev,
                   size_t len, uint8_t out[32]) {
  vl_sha256_ctx s;
  uint8_t hb[8];
  vl_put64(hb, height);
  vl_sha256_init(&s);
  vl_sha256_update(&s, prev, 32);
  vl_sha256_update(&s, hb, 8);
  vl_sha256_update(&s, root, 32);
  vl_sha256_update(&s, ev, len);
  vl_sha256_final(&s, out);
}

/* Encodes a record header; see log.h. */
void vl_rec_encode(uint8_t hdr[VL_REC_HDR], const uint8_t prev_chain[32], uint64_t height,
                   uint64_t synced, const uint8_t root[32], const uint8_t *ev, uint32_t len,
                   uint8_t chain_out[32]) {
  uint32_t crc;
  vl_chain_next(prev_chain, height, root, ev, len, chain_out);
  vl_put32(hdr, len);
  vl_put64(hdr + 8, height);
  vl_put64(hdr + 16, synced);
  memcpy(hdr + 24, root, 32);
  memcpy(hdr + 56, chain_out, 32);
  crc = vl_crc32c(0, hdr, 4);
  crc = vl_crc32c(crc, hdr + 8, VL_REC_HDR - 8);
  crc = vl_crc32c(crc, ev, len);
  vl_put32(hdr + 4, crc);
}

/* Decodes one record (length bound and CRC); see log.h. */
int vl_rec_decode(const uint8_t *p, size_t n, vl_rec *r, const char **what) {
  uint32_t len, crc;
  if (n < VL_REC_HDR) { *what = "truncated record header"; return VALORI_ECORRUPT; }
  len = vl_get32(p);
  if (len > VALORI_MAX_EVENT) { *what = "record length out of range"; return VALORI_ECORRUPT; }
  if ((size_t)len > n - VL_REC_HDR) { *what = "truncated record"; return VALORI_ECORRUPT; }
  crc = vl_crc32c(0, p, 4);
  crc = vl_crc32c(crc, p + 8, VL_REC_HDR - 8);
  crc = vl_crc32c(crc, p + VL_REC_HDR, len);
  if (crc != vl_get32(p + 4)) { *what = "bad record checksum"; return VALORI_ECORRUPT; }
  r->len = len;
  r->height = vl_get64(p + 8);
  r->synced = vl_get64(p + 16);
  r->root = p + 24;
  r->chain = p + 56;
  r->ev = p + VL_REC_HDR;
  return VALORI_OK;
}

/* Decides whether damage at `bad` (expected next height h) is a torn tail or corruption: looks at
** every later offset for a record that is valid and whose synced field lies beyond `bad`. Cheap
** field checks come before the CRC, so random bytes cost a few comparisons per offset. */
static int vl_seg_classify(const uint8_t *p, size_t n, size_t bad, uint64_t h) {
  size_t y;
  uint64_t span = (uint64_t)(n - bad) / VL_REC_HDR + 1u;
  for (y = bad + 1; y + VL_REC_HDR <= n; y++) {
    uint32_t len = vl_get32(p + y);
    uint64_t rh = vl_get64(p + y + 8), syn = vl_get64(p + y + 16);
    vl_rec r;
    const char *what;
    if (len > VALORI_MAX_EVENT || (size_t)len > n - y - VL_REC_HDR) continue;
    if (rh < h || rh - h > span) continue;
    if (syn <= bad || syn > y) continue;
    if (vl_rec_decode(p + y, n - y, &r, &what) == VALORI_OK) return VL_SEG_CORRUPT;
  }
  return VL_SEG_TORN;
}

/* Scans a segment image; see log.h. */
int vl_seg_scan_run(const uint8_t *p, size_t n, vl_rec_cb cb, void *arg, vl_seg_scan *out) {
  const char *what = "";
  size_t off;
  int rc;
  memset(out, 0, sizeof *out);
  out->what = "";
  rc = vl_seg_hdr_decode(p, n, &out->hdr, &what);
  if (rc == VALORI_EVERSION) { out->state = VL_SEG_BADHDR; out->what = what; return rc; }
  if (rc != VALORI_OK) {
    out->state = VL_SEG_BADHDR;
    out->what = what;
    return VALORI_OK;
  }
  off = VL_SEG_HDR;
  out->end = off;
  out->last_height = out->hdr.first_height - 1u;
  memcpy(out->chain, out->hdr.chain_in, 32);
  while (off < n) {
    vl_rec r;
    uint8_t next[32];
    int bad = 0;
    if (vl_rec_decode(p + off, n - off, &r, &what) != VALORI_OK) {
      bad = 1;
    } else if (r.height != out->last_height + 1u) {
      what = "record height out of sequence";
      bad = 1;
    } else if (r.synced < VL_SEG_HDR || r.synced > off) {
      what = "record synced offset out of range";
      bad = 1;
    } else {
      vl_chain_next(out->chain, r.height, r.root, r.ev, r.len, next);
      if (memcmp(next, r.chain, 32) != 0) {
        what = "record chain mismatch";
        bad = 1;
      }
    }
    if (bad) {
      out->bad_off = off;
      out->what = what;
      out->state = vl_seg_classify(p, n, off, out->last_height + 1u);
      return VALORI_OK;
    }
    if (cb) {
      rc = cb(arg, &r, off);
      if (rc != VALORI_OK) {
        out->cb_off = off;
        return rc;
      }
    }
    memcpy(out->chain, r.chain, 32);
    out->last_height = r.height;
    out->nrec++;
    off += VL_REC_HDR + (size_t)r.len;
    out->end = off;
  }
  out->state = VL_SEG_CLEAN;
  return VALORI_OK;
}

/* Encodes a snapshot file header (layout in log.h). */
void vl_snap_hdr_encode(const vl_snap_hdr *h, uint8_t out[VL_SNAP_HDR]) {
  memset(out, 0, VL_SNAP_HDR);
  memcpy(out, VL_SNAP_MAGIC, 8);
  vl_put32(out + 8, vl_config_format_version(&h->cfg));
  vl_put32(out + 12, VL_SNAP_HDR);
  vl_cfg_put(out + 16, &h->cfg);
  vl_put64(out + 40, h->height);
  vl_put64(out + 48, h->payload_len);
  memcpy(out + 56, h->root, 32);
  memcpy(out + 88, h->chain, 32);
  vl_put32(out + 120, h->payload_crc);
  vl_put32(out + 124, vl_crc32c(0, out, 124));
}

/* Checks a snapshot file image; see log.h. */
int vl_snap_file_check(const uint8_t *p, size_t n, vl_snap_hdr *h, const char **what, uint64_t *off) {
  *off = 0;
  if (n < VL_SNAP_HDR) { *what = "snapshot shorter than its header"; return VALORI_ECORRUPT; }
  if (memcmp(p, VL_SNAP_MAGIC, 8) != 0) { *what = "bad snapshot magic"; return VALORI_ECORRUPT; }
  if (vl_crc32c(0, p, 124) != vl_get32(p + 124)) { *what = "bad snapshot header checksum"; return VALORI_ECORRUPT; }
  h->version = vl_get32(p + 8);
  if (h->version > VL_FORMAT_VERSION_MAX) { *what = "snapshot format version is newer than this library"; return VALORI_EVERSION; }
  if (h->version == 0 || vl_get32(p + 12) != VL_SNAP_HDR || vl_get32(p + 36) != 0) {
    *what = "bad snapshot header fields";
    return VALORI_ECORRUPT;
  }
  vl_cfg_get(p + 16, &h->cfg);
  if (vl_config_check(&h->cfg)) { *what = "invalid configuration in the snapshot header"; return VALORI_ECORRUPT; }
  if (h->version != vl_config_format_version(&h->cfg)) { *what = "snapshot version does not match its configuration"; return VALORI_ECORRUPT; }
  h->height = vl_get64(p + 40);
  h->payload_len = vl_get64(p + 48);
  memcpy(h->root, p + 56, 32);
  memcpy(h->chain, p + 88, 32);
  h->payload_crc = vl_get32(p + 120);
  *off = VL_SNAP_HDR;
  if (h->payload_len != (uint64_t)(n - VL_SNAP_HDR)) {
    *what = h->payload_len > (uint64_t)(n - VL_SNAP_HDR) ? "truncated snapshot" : "trailing bytes after snapshot";
    *off = n;
    return VALORI_ECORRUPT;
  }
  if (vl_crc32c(0, p + VL_SNAP_HDR, n - VL_SNAP_HDR) != h->payload_crc) {
    *what = "bad snapshot payload checksum";
    return VALORI_ECORRUPT;
  }
  return VALORI_OK;
}
