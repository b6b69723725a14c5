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
    return vl_parse20(name + 4, height) ? VL_NAME_SEGMENT : VL_NAME_OTHER;
  if (n == 5 + 20 + 6 && memcmp(name, "snap-", 5) == 0 && memcmp(name + 25, ".vsnap", 6) == 0)
    return vl_parse20(name + 5, height) ? VL_NAME_SNAPSHOT : VL_NAME_OTHER;
  if (n == 5 + 20 + 10 && memcmp(name, "snap-", 5) == 0 && memcmp(name + 25, ".vsnap.tmp", 10) == 0)
    return vl_parse20(name + 5, height) ? VL_NAME_SNAPSHOT_TMP : VL_NAME_OTHER;
  if (strcmp(name, VL_HEAD_NAME) == 0) return VL_NAME_HEAD;
  if (strcmp(name, VL_HEAD_TMP_NAME) == 0) return VL_NAME_HEAD_TMP;
  if (strcmp(name, "LOCK") == 0) return VL_NAME_LOCK;
  return VL_NAME_OTHER;
}

/* Field-by-field equality of two configurations. */
int vl_config_eq(const vl_config *x, const vl_config *y) {
  return x->dim == y->dim && x->metric == y->metric && x->hnsw_m == y->hnsw_m &&
         x->hnsw_ef_construction == y->hnsw_ef_construction && x->hnsw_ef_search == y->hnsw_ef_search &&
         x->traversal == y->traversal;
}

/* Encodes the five configuration fields (20 bytes). */
static void vl_cfg_put(uint8_t *p, const vl_config *c) {
  vl_put32(p, c->dim);
  vl_put32(p + 4, c->metric);
  vl_put32(p + 8, c->hnsw_m);
  vl_put32(p + 12, c->hnsw_ef_construction);
  vl_put32(p + 16, c->hnsw_ef_search);
}
/* Decodes the five configuration fields (20 bytes); the traversal word, which each header keeps
** elsewhere (log.h), is 0 until its decoder reads it. */
static void vl_cfg_get(const uint8_t *p, vl_config *c) {
  c->traversal = 0;
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
  vl_put32(out + VL_SEG_OFF_VERSION, vl_config_format_version(&h->cfg));
  vl_put32(out + VL_SEG_OFF_SIZE, VL_SEG_HDR);
  vl_cfg_put(out + VL_SEG_OFF_CONFIG, &h->cfg);
  vl_put32(out + VL_SEG_OFF_TRAVERSAL, h->cfg.traversal);
  vl_put64(out + VL_SEG_OFF_FIRST, h->first_height);
  memcpy(out + VL_SEG_OFF_CHAIN, h->chain_in, 32);
  vl_put32(out + VL_SEG_OFF_CRC, vl_crc32c(0, out, VL_SEG_OFF_CRC));
}

/* Decodes a segment header; see log.h. */
int vl_seg_hdr_decode(const uint8_t *p, size_t n, vl_seg_hdr *h, const char **what) {
  size_t i;
  if (n < VL_SEG_HDR) { *what = "segment shorter than its header"; return VALORI_ECORRUPT; }
  if (memcmp(p, VL_SEG_MAGIC, 8) != 0) { *what = "bad segment magic"; return VALORI_ECORRUPT; }
  if (vl_crc32c(0, p, VL_SEG_OFF_CRC) != vl_get32(p + VL_SEG_OFF_CRC)) { *what = "bad segment header checksum"; return VALORI_ECORRUPT; }
  h->version = vl_get32(p + VL_SEG_OFF_VERSION);
  if (h->version > VL_FORMAT_VERSION_MAX) { *what = "segment format version is newer than this library"; return VALORI_EVERSION; }
  if (h->version == 0 || vl_get32(p + VL_SEG_OFF_SIZE) != VL_SEG_HDR || vl_get32(p + VL_SEG_OFF_FLAGS) != 0) {
    *what = "bad segment header fields";
    return VALORI_ECORRUPT;
  }
  for (i = VL_SEG_OFF_RESERVED; i < VL_SEG_OFF_CRC; i++)
    if (p[i]) { *what = "bad segment header fields"; return VALORI_ECORRUPT; }
  vl_cfg_get(p + VL_SEG_OFF_CONFIG, &h->cfg);
  h->cfg.traversal = vl_get32(p + VL_SEG_OFF_TRAVERSAL);
  if (vl_config_check(&h->cfg)) { *what = "invalid configuration in the segment header"; return VALORI_ECORRUPT; }
  if (h->version != vl_config_format_version(&h->cfg)) { *what = "segment version does not match its configuration"; return VALORI_ECORRUPT; }
  h->first_height = vl_get64(p + VL_SEG_OFF_FIRST);
  memcpy(h->chain_in, p + VL_SEG_OFF_CHAIN, 32);
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
  vl_chain_next(prev_chain, height, root, ev, len, chain_out);
  vl_rec_frame(hdr, height, synced, root, chain_out, ev, len);
}

/* Encodes a record header whose chain value is already known; see log.h. */
void vl_rec_frame(uint8_t hdr[VL_REC_HDR], uint64_t height, uint64_t synced, const uint8_t root[32],
                  const uint8_t chain[32], const uint8_t *ev, uint32_t len) {
  uint32_t crc;
  vl_put32(hdr, len);
  vl_put64(hdr + VL_REC_OFF_HEIGHT, height);
  vl_put64(hdr + VL_REC_OFF_SYNCED, synced);
  memcpy(hdr + VL_REC_OFF_ROOT, root, 32);
  memcpy(hdr + VL_REC_OFF_CHAIN, chain, 32);
  crc = vl_crc32c(0, hdr, VL_REC_OFF_CRC);
  crc = vl_crc32c(crc, hdr + VL_REC_OFF_HEIGHT, VL_REC_HDR - VL_REC_OFF_HEIGHT);
  crc = vl_crc32c(crc, ev, len);
  vl_put32(hdr + VL_REC_OFF_CRC, crc);
}

/* Decodes one record (length bound and CRC); see log.h. */
int vl_rec_decode(const uint8_t *p, size_t n, vl_rec *r, const char **what) {
  uint32_t len, crc;
  if (n < VL_REC_HDR) { *what = "truncated record header"; return VALORI_ECORRUPT; }
  len = vl_get32(p);
  if (len > VALORI_MAX_EVENT) { *what = "record length out of range"; return VALORI_ECORRUPT; }
  if ((size_t)len > n - VL_REC_HDR) { *what = "truncated record"; return VALORI_ECORRUPT; }
  crc = vl_crc32c(0, p, VL_REC_OFF_CRC);
  crc = vl_crc32c(crc, p + VL_REC_OFF_HEIGHT, VL_REC_HDR - VL_REC_OFF_HEIGHT);
  crc = vl_crc32c(crc, p + VL_REC_HDR, len);
  if (crc != vl_get32(p + VL_REC_OFF_CRC)) { *what = "bad record checksum"; return VALORI_ECORRUPT; }
  r->len = len;
  r->height = vl_get64(p + VL_REC_OFF_HEIGHT);
  r->synced = vl_get64(p + VL_REC_OFF_SYNCED);
  r->root = p + VL_REC_OFF_ROOT;
  r->chain = p + VL_REC_OFF_CHAIN;
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
    uint64_t rh = vl_get64(p + y + VL_REC_OFF_HEIGHT), syn = vl_get64(p + y + VL_REC_OFF_SYNCED);
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
  vl_put32(out + VL_SNAP_OFF_VERSION, vl_config_format_version(&h->cfg));
  vl_put32(out + VL_SNAP_OFF_SIZE, VL_SNAP_HDR);
  vl_cfg_put(out + VL_SNAP_OFF_CONFIG, &h->cfg);
  vl_put32(out + VL_SNAP_OFF_TRAVERSAL, h->cfg.traversal);
  vl_put64(out + VL_SNAP_OFF_HEIGHT, h->height);
  vl_put64(out + VL_SNAP_OFF_LEN, h->payload_len);
  memcpy(out + VL_SNAP_OFF_ROOT, h->root, 32);
  memcpy(out + VL_SNAP_OFF_CHAIN, h->chain, 32);
  vl_put32(out + VL_SNAP_OFF_PCRC, h->payload_crc);
  vl_put32(out + VL_SNAP_OFF_CRC, vl_crc32c(0, out, VL_SNAP_OFF_CRC));
}

/* Checks a snapshot file header alone; see log.h. */
int vl_snap_hdr_decode(const uint8_t *p, size_t n, vl_snap_hdr *h, const char **what) {
  if (n < VL_SNAP_HDR) { *what = "snapshot shorter than its header"; return VALORI_ECORRUPT; }
  if (memcmp(p, VL_SNAP_MAGIC, 8) != 0) { *what = "bad snapshot magic"; return VALORI_ECORRUPT; }
  if (vl_crc32c(0, p, VL_SNAP_OFF_CRC) != vl_get32(p + VL_SNAP_OFF_CRC)) { *what = "bad snapshot header checksum"; return VALORI_ECORRUPT; }
  h->version = vl_get32(p + VL_SNAP_OFF_VERSION);
  if (h->version > VL_FORMAT_VERSION_MAX) { *what = "snapshot format version is newer than this library"; return VALORI_EVERSION; }
  if (h->version == 0 || vl_get32(p + VL_SNAP_OFF_SIZE) != VL_SNAP_HDR) {
    *what = "bad snapshot header fields";
    return VALORI_ECORRUPT;
  }
  vl_cfg_get(p + VL_SNAP_OFF_CONFIG, &h->cfg);
  h->cfg.traversal = vl_get32(p + VL_SNAP_OFF_TRAVERSAL); /* zero in versions 1 and 2 (checked below) */
  if (vl_config_check(&h->cfg)) { *what = "invalid configuration in the snapshot header"; return VALORI_ECORRUPT; }
  if (h->version != vl_config_format_version(&h->cfg)) { *what = "snapshot version does not match its configuration"; return VALORI_ECORRUPT; }
  h->height = vl_get64(p + VL_SNAP_OFF_HEIGHT);
  h->payload_len = vl_get64(p + VL_SNAP_OFF_LEN);
  memcpy(h->root, p + VL_SNAP_OFF_ROOT, 32);
  memcpy(h->chain, p + VL_SNAP_OFF_CHAIN, 32);
  h->payload_crc = vl_get32(p + VL_SNAP_OFF_PCRC);
  return VALORI_OK;
}

/* Checks a snapshot file image; see log.h. */
int vl_snap_file_check(const uint8_t *p, size_t n, vl_snap_hdr *h, const char **what, uint64_t *off) {
  int rc;
  *off = 0;
  rc = vl_snap_hdr_decode(p, n, h, what);
  if (rc != VALORI_OK) return rc;
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

/* Encodes HEAD (layout in log.h). */
void vl_head_encode(const vl_head *h, uint8_t out[VL_HEAD_SIZE]) {
  memset(out, 0, VL_HEAD_SIZE);
  memcpy(out, VL_HEAD_MAGIC, 8);
  vl_put32(out + VL_HEAD_OFF_VERSION, vl_head_version(&h->cfg));
  vl_put32(out + VL_HEAD_OFF_SIZE, VL_HEAD_SIZE);
  vl_cfg_put(out + VL_HEAD_OFF_CONFIG, &h->cfg);
  vl_put32(out + VL_HEAD_OFF_TRAVERSAL, h->cfg.traversal);
  vl_put32(out + VL_HEAD_OFF_REASON, h->reason);
  vl_put64(out + VL_HEAD_OFF_NEWEST, h->newest_segment);
  vl_put64(out + VL_HEAD_OFF_FLOOR, h->floor);
  memcpy(out + VL_HEAD_OFF_CHAIN, h->chain, 32);
  vl_put32(out + VL_HEAD_OFF_CRC, vl_crc32c(0, out, VL_HEAD_OFF_CRC));
}

/* Decodes HEAD; see log.h. Every field is checked, so a HEAD that passes describes a possible
** state of a store (the recovery then checks it against the log). */
int vl_head_decode(const uint8_t *p, size_t n, vl_head *h, const char **what, uint64_t *off) {
  size_t i;
  *off = 0;
  /* a later version may be longer: with our magic and a newer version number, refuse as newer */
  if (n != VL_HEAD_SIZE && n >= VL_HEAD_OFF_SIZE && memcmp(p, VL_HEAD_MAGIC, 8) == 0 &&
      vl_get32(p + VL_HEAD_OFF_VERSION) > VL_HEAD_VERSION) {
    *what = "HEAD format version is newer than this library";
    *off = VL_HEAD_OFF_VERSION;
    return VALORI_EVERSION;
  }
  if (n != VL_HEAD_SIZE) {
    *what = n < VL_HEAD_SIZE ? "HEAD is shorter than its format" : "HEAD is longer than its format";
    *off = n < VL_HEAD_SIZE ? n : VL_HEAD_SIZE;
    return VALORI_ECORRUPT;
  }
  if (memcmp(p, VL_HEAD_MAGIC, 8) != 0) { *what = "bad HEAD magic"; return VALORI_ECORRUPT; }
  if (vl_crc32c(0, p, VL_HEAD_OFF_CRC) != vl_get32(p + VL_HEAD_OFF_CRC)) {
    *what = "bad HEAD checksum";
    *off = VL_HEAD_OFF_CRC;
    return VALORI_ECORRUPT;
  }
  *off = VL_HEAD_OFF_VERSION;
  if (vl_get32(p + VL_HEAD_OFF_VERSION) > VL_HEAD_VERSION) { *what = "HEAD format version is newer than this library"; return VALORI_EVERSION; }
  if (vl_get32(p + VL_HEAD_OFF_VERSION) == 0 || vl_get32(p + VL_HEAD_OFF_SIZE) != VL_HEAD_SIZE) {
    *what = "bad HEAD header fields";
    return VALORI_ECORRUPT;
  }
  *off = VL_HEAD_OFF_RESERVED;
  for (i = VL_HEAD_OFF_RESERVED; i < VL_HEAD_OFF_CRC; i++)
    if (p[i]) { *what = "bad HEAD reserved bytes"; return VALORI_ECORRUPT; }
  *off = VL_HEAD_OFF_CONFIG;
  vl_cfg_get(p + VL_HEAD_OFF_CONFIG, &h->cfg);
  h->cfg.traversal = vl_get32(p + VL_HEAD_OFF_TRAVERSAL);
  if (vl_config_check(&h->cfg)) { *what = "invalid configuration in HEAD"; return VALORI_ECORRUPT; }
  if (vl_get32(p + VL_HEAD_OFF_VERSION) != vl_head_version(&h->cfg)) {
    *off = VL_HEAD_OFF_VERSION;
    *what = "HEAD version does not match its configuration";
    return VALORI_ECORRUPT;
  }
  *off = VL_HEAD_OFF_REASON;
  h->reason = vl_get32(p + VL_HEAD_OFF_REASON);
  if (h->reason < VL_HEAD_OPEN || h->reason > VL_HEAD_CLOSE) { *what = "bad HEAD reason"; return VALORI_ECORRUPT; }
  *off = VL_HEAD_OFF_NEWEST;
  h->newest_segment = vl_get64(p + VL_HEAD_OFF_NEWEST);
  h->floor = vl_get64(p + VL_HEAD_OFF_FLOOR);
  memcpy(h->chain, p + VL_HEAD_OFF_CHAIN, 32);
  if (h->newest_segment == 0 || h->floor == UINT64_MAX || h->newest_segment > h->floor + 1u) {
    *what = "HEAD names a newest segment that starts above its floor";
    return VALORI_ECORRUPT;
  }
  *off = 0;
  return VALORI_OK;
}
