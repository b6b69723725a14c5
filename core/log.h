/*
** log.h: private contract of the on-disk formats of the durable store (docs/STORAGE.md): log
** segment headers, log records (framing, checksum, chaining), snapshot file headers, file names,
** and the segment scanner that recovery, `valori verify` and the fuzz targets share.
**
** Everything here is pure: functions encode into caller buffers or decode from caller buffers.
** No I/O, no allocation. The store (store.c, recover.c) does the I/O through the valori_vfs.
**
** Integers are little-endian. CRCs are CRC-32C (crc32c.h). The chain is SHA-256 (sha256.h).
*/
#ifndef VL_LOG_H
#define VL_LOG_H

#include "engine.h"

/* Format versions: vl_config_format_version (engine.h) of the recorded configuration.
**
** ---- Segment header: 96 bytes at offset 0 of every log-<first height>.vlog file.
**   0  8  magic "VALORLOG"          40  8  first_height (height of the segment's first record)
**   8  4  format version (1..3)     48 32  chain_in (chain value before the first record)
**  12  4  header size (96)          80  4  traversal word (version 3; zero in versions 1 and 2)
**  16 20  config: dim, metric,      84  8  reserved, zero
**         hnsw_m, ef_construction, ef_search
**  36  4  flags, zero               92  4  CRC-32C of bytes 0..91 */
#define VL_SEG_MAGIC "VALORLOG"
#define VL_SEG_HDR 96u
#define VL_SEG_OFF_VERSION 8u
#define VL_SEG_OFF_SIZE 12u
#define VL_SEG_OFF_CONFIG 16u
#define VL_SEG_OFF_FLAGS 36u
#define VL_SEG_OFF_FIRST 40u
#define VL_SEG_OFF_CHAIN 48u
#define VL_SEG_OFF_TRAVERSAL 80u
#define VL_SEG_OFF_RESERVED 84u
#define VL_SEG_OFF_CRC 92u

/* ---- Record: 88-byte header then the event bytes.
**   0  4  len: event bytes (<= VALORI_MAX_EVENT)
**   4  4  crc: CRC-32C of bytes 0..3 followed by bytes 8..88+len-1 (everything but itself)
**   8  8  height: the engine height after applying the event (previous record's height + 1)
**  16  8  synced: the segment offset that was durable when this record was written
**  24 32  root: the state root after the event
**  56 32  chain: SHA-256(previous chain || height (u64 LE) || root || event)
**  88     event bytes (event.h) */
#define VL_REC_HDR 88u
#define VL_REC_OFF_CRC 4u
#define VL_REC_OFF_HEIGHT 8u
#define VL_REC_OFF_SYNCED 16u
#define VL_REC_OFF_ROOT 24u
#define VL_REC_OFF_CHAIN 56u

/* ---- Snapshot file: 128-byte header then the engine snapshot (vl_engine_snapshot_save bytes).
**   0  8  magic "VALORSNP"          48  8  payload length
**   8  4  format version (1..3)     56 32  state root at `height`
**  12  4  header size (128)         88 32  chain at `height` (the log record chain value)
**  16 20  config                   120  4  CRC-32C of the payload
**  36  4  traversal word (version 3; 124  4  CRC-32C of bytes 0..123
**         the zero flags of versions 1 and 2)
**  40  8  height */
#define VL_SNAP_MAGIC "VALORSNP"
#define VL_SNAP_HDR 128u
#define VL_SNAP_OFF_VERSION 8u
#define VL_SNAP_OFF_SIZE 12u
#define VL_SNAP_OFF_CONFIG 16u
#define VL_SNAP_OFF_TRAVERSAL 36u
#define VL_SNAP_OFF_HEIGHT 40u
#define VL_SNAP_OFF_LEN 48u
#define VL_SNAP_OFF_ROOT 56u
#define VL_SNAP_OFF_CHAIN 88u
#define VL_SNAP_OFF_PCRC 120u
#define VL_SNAP_OFF_CRC 124u

/* ---- HEAD: the store's manifest, 100 bytes, in the file HEAD (docs/FORMAT.md "HEAD"). Written
** whole as HEAD.tmp, synced, renamed over HEAD, directory synced; never edited in place.
**   0  8  magic "VALORHED"          40  8  newest_segment: first height of the newest segment
**   8  4  format version (1; 2 with  48  8  floor: a height the log had durably reached
**          a traversal word)        56 32  chain at `floor` (32 zero bytes at floor 0)
**  16 20  config                    88  4  traversal word (version 2; zero in version 1)
**                                   92  4  reserved, zero
**  36  4  reason: 1 open, 2 rotation, 3 clean close          96  4  CRC-32C of bytes 0..95
** Invariant: 1 <= newest_segment <= floor + 1 (the newest segment starts at or below floor + 1). */
#define VL_HEAD_MAGIC "VALORHED"
#define VL_HEAD_SIZE 100u
#define VL_HEAD_VERSION 2u /* the newest this library reads */
static inline uint32_t vl_head_version(const vl_config *c) { return c->traversal ? 2u : 1u; }
#define VL_HEAD_OFF_VERSION 8u
#define VL_HEAD_OFF_SIZE 12u
#define VL_HEAD_OFF_CONFIG 16u
#define VL_HEAD_OFF_REASON 36u
#define VL_HEAD_OFF_NEWEST 40u
#define VL_HEAD_OFF_FLOOR 48u
#define VL_HEAD_OFF_CHAIN 56u
#define VL_HEAD_OFF_TRAVERSAL 88u
#define VL_HEAD_OFF_RESERVED 92u
#define VL_HEAD_OFF_CRC 96u
#define VL_HEAD_NAME "HEAD"
#define VL_HEAD_TMP_NAME "HEAD.tmp"

/* File names: 20 decimal digits so that names sort like heights. */
#define VL_NAME_MAX 48u
void vl_name_segment(char out[VL_NAME_MAX], uint64_t first_height); /* log-%020llu.vlog */
void vl_name_snapshot(char out[VL_NAME_MAX], uint64_t height);      /* snap-%020llu.vsnap */
void vl_name_snapshot_tmp(char out[VL_NAME_MAX], uint64_t height);  /* snap-%020llu.vsnap.tmp */
/* Classifies a directory entry: returns VL_NAME_SEGMENT, VL_NAME_SNAPSHOT or VL_NAME_SNAPSHOT_TMP
** with *height set, VL_NAME_HEAD / VL_NAME_HEAD_TMP / VL_NAME_LOCK, or VL_NAME_OTHER (0) for
** anything else (foreign files: ignored by the store). */
enum {
  VL_NAME_OTHER = 0, VL_NAME_SEGMENT = 1, VL_NAME_SNAPSHOT = 2, VL_NAME_SNAPSHOT_TMP = 3,
  VL_NAME_HEAD = 4, VL_NAME_HEAD_TMP = 5, VL_NAME_LOCK = 6
};
int vl_name_parse(const char *name, uint64_t *height);

/* ---- Segment header codec. */
typedef struct vl_seg_hdr {
  uint32_t version;
  vl_config cfg;
  uint64_t first_height;
  uint8_t chain_in[32];
} vl_seg_hdr;
void vl_seg_hdr_encode(const vl_seg_hdr *h, uint8_t out[VL_SEG_HDR]);
/* Decodes and checks magic, size, reserved bytes and CRC: VALORI_OK, VALORI_EVERSION (a newer
** version with a valid CRC) or VALORI_ECORRUPT (*what names the problem). */
int vl_seg_hdr_decode(const uint8_t *p, size_t n, vl_seg_hdr *h, const char **what);

/* ---- Record codec. */
typedef struct vl_rec {
  uint64_t height;
  uint64_t synced;
  const uint8_t *root;  /* 32 bytes, points into the decoded buffer */
  const uint8_t *chain; /* 32 bytes */
  const uint8_t *ev;
  uint32_t len;
} vl_rec;

/* The chain value after a record: SHA-256(prev || height || root || ev). */
void vl_chain_next(const uint8_t prev[32], uint64_t height, const uint8_t root[32], const uint8_t *ev,
                   size_t len, uint8_t out[32]);
/* Fills the 88-byte record header (computing the chain from prev and the CRC). *chain_out
** receives the new chain value. len must be <= VALORI_MAX_EVENT. */
void vl_rec_encode(uint8_t hdr[VL_REC_HDR], const uint8_t prev_chain[32], uint64_t height,
                   uint64_t synced, const uint8_t root[32], const uint8_t *ev, uint32_t len,
                   uint8_t chain_out[32]);
/* The same header for a chain value the caller already computed (vl_chain_next of the previous
** chain): what a follower appends after it checked a replicated record's chain. */
void vl_rec_frame(uint8_t hdr[VL_REC_HDR], uint64_t height, uint64_t synced, const uint8_t root[32],
                  const uint8_t chain[32], const uint8_t *ev, uint32_t len);
/* Decodes the record at p (n bytes available): checks the length bound and the CRC only (not the
** height sequence or the chain, which need context). VALORI_OK with *r set, else VALORI_ECORRUPT
** with *what. Pure, bounded: the fuzz target for log records calls this. */
int vl_rec_decode(const uint8_t *p, size_t n, vl_rec *r, const char **what);

/* ---- Segment scan: validates a whole segment image in memory and calls cb for each valid record
** in order (cb may be NULL). Stops at the first damaged byte and classifies it:
** - VL_SEG_CLEAN: every byte after the header belongs to a valid record.
** - VL_SEG_TORN: damage at bad_off and no record after it that claims bad_off was durable; the
**   bytes from bad_off on can only be writes that were never synced (a crash), so the store trims
**   them when this is the last segment.
** - VL_SEG_CORRUPT: damage at bad_off followed by a valid record whose `synced` field is beyond
**   bad_off: bytes that were durable changed. Never trimmed.
** - VL_SEG_BADHDR: the header is invalid (bad_off 0); size says whether records could follow.
** Records are valid when their CRC holds, their height is the next one, their synced field is in
** [VL_SEG_HDR, offset] and their chain equals vl_chain_next of the previous. */
enum { VL_SEG_CLEAN = 0, VL_SEG_TORN = 1, VL_SEG_CORRUPT = 2, VL_SEG_BADHDR = 3 };
typedef struct vl_seg_scan {
  vl_seg_hdr hdr;
  int state;            /* VL_SEG_* */
  uint64_t end;         /* offset just past the last valid record (VL_SEG_HDR if none) */
  uint64_t nrec;        /* valid records */
  uint64_t last_height; /* height of the last valid record (first_height - 1 if none) */
  uint8_t chain[32];    /* chain after the last valid record (chain_in if none) */
  uint64_t bad_off;     /* where the damage starts (state != CLEAN) */
  uint64_t cb_off;      /* offset of the record whose callback failed */
  const char *what;     /* static reason for the damage, "" when clean */
} vl_seg_scan;
typedef int (*vl_rec_cb)(void *arg, const vl_rec *r, uint64_t off);
/* Returns VALORI_OK after classifying (see state), VALORI_EVERSION for a newer header version, or
** the first non-OK code returned by cb (then cb_off says which record). */
int vl_seg_scan_run(const uint8_t *p, size_t n, vl_rec_cb cb, void *arg, vl_seg_scan *out);

/* ---- Snapshot file header codec. */
typedef struct vl_snap_hdr {
  uint32_t version;
  vl_config cfg;
  uint64_t height;
  uint64_t payload_len;
  uint8_t root[32];
  uint8_t chain[32];
  uint32_t payload_crc;
} vl_snap_hdr;
void vl_snap_hdr_encode(const vl_snap_hdr *h, uint8_t out[VL_SNAP_HDR]);
/* Checks the header alone (n >= VL_SNAP_HDR bytes of it): magic, size, CRC, version, flags,
** configuration. VALORI_OK, VALORI_EVERSION or VALORI_ECORRUPT with *what. */
int vl_snap_hdr_decode(const uint8_t *p, size_t n, vl_snap_hdr *h, const char **what);
/* Checks the header (vl_snap_hdr_decode), that the image is exactly header + payload_len bytes,
** and the payload CRC. VALORI_OK, VALORI_EVERSION or VALORI_ECORRUPT with *what and *off (offset
** of the problem in the file). */
int vl_snap_file_check(const uint8_t *p, size_t n, vl_snap_hdr *h, const char **what, uint64_t *off);

/* ---- HEAD codec. */
enum { VL_HEAD_OPEN = 1, VL_HEAD_ROTATION = 2, VL_HEAD_CLOSE = 3 };
typedef struct vl_head {
  vl_config cfg;
  uint32_t reason;          /* VL_HEAD_* */
  uint64_t newest_segment;  /* first height of the newest segment when written */
  uint64_t floor;           /* height the log had durably reached when written */
  uint8_t chain[32];        /* chain value at floor */
} vl_head;
void vl_head_encode(const vl_head *h, uint8_t out[VL_HEAD_SIZE]);
/* Checks magic, size, CRC, reserved bytes, reason, configuration and the invariant. VALORI_OK,
** VALORI_EVERSION (a newer version with a valid CRC) or VALORI_ECORRUPT with *what and *off. */
int vl_head_decode(const uint8_t *p, size_t n, vl_head *h, const char **what, uint64_t *off);

int vl_config_eq(const vl_config *x, const vl_config *y);

#endif /* VL_LOG_H */
