/*
** test_store_log.c: the log format layer of the durable store (core/log.h) on synthetic records:
** names, header codecs, record framing and chaining, and the segment scanner's torn-tail versus
** corruption classification under truncation and bit flips at every offset.
*/
#include "compact.h"
#include "crc32c.h"
#include "log.h"
#include "vt.h"

/* Builds a segment of n records with random events into a malloc'ed image. batch: records per
** sync (the `synced` field stays at the offset of the batch's first record). offs[i] receives the
** offset of record i. */
static uint8_t *build_segment(int n, int batch, uint64_t seed, size_t *len, size_t *offs) {
  size_t cap = VL_SEG_HDR + (size_t)n * (VL_REC_HDR + 64), off = VL_SEG_HDR;
  uint8_t *img = (uint8_t *)malloc(cap), chain[32];
  vl_seg_hdr h;
  uint64_t synced = VL_SEG_HDR, s = seed;
  int i;
  memset(&h, 0, sizeof h);
  h.version = 1;
  h.cfg.dim = 4; h.cfg.metric = 0; h.cfg.hnsw_m = 16; h.cfg.hnsw_ef_construction = 200; h.cfg.hnsw_ef_search = 64;
  h.first_height = 1;
  memset(h.chain_in, 0, 32);
  vl_seg_hdr_encode(&h, img);
  memcpy(chain, h.chain_in, 32);
  for (i = 0; i < n; i++) {
    uint8_t ev[64], root[32], next[32];
    uint32_t elen = (uint32_t)(8 + vt_rand(&s) % 56);
    uint32_t k;
    for (k = 0; k < elen; k++) ev[k] = (uint8_t)vt_rand(&s);
    for (k = 0; k < 32; k++) root[k] = (uint8_t)vt_rand(&s);
    if (i % batch == 0) synced = off;
    offs[i] = off;
    vl_rec_encode(img + off, chain, (uint64_t)i + 1, synced, root, ev, elen, next);
    memcpy(img + off + VL_REC_HDR, ev, elen);
    memcpy(chain, next, 32);
    off += VL_REC_HDR + elen;
  }
  *len = off;
  return img;
}

static void test_names(void) {
  char b[VL_NAME_MAX];
  uint64_t h = 0;
  vl_name_segment(b, 1);
  VT_CHECK(strcmp(b, "log-00000000000000000001.vlog") == 0);
  VT_EQ_INT(vl_name_parse(b, &h), 1);
  VT_EQ_INT(h, 1);
  vl_name_snapshot(b, UINT64_MAX);
  VT_EQ_INT(vl_name_parse(b, &h), 2);
  VT_CHECK(h == UINT64_MAX);
  vl_name_snapshot_tmp(b, 42);
  VT_EQ_INT(vl_name_parse(b, &h), 3);
  VT_EQ_INT(h, 42);
  VT_EQ_INT(vl_name_parse("LOCK", &h), VL_NAME_LOCK);
  VT_EQ_INT(vl_name_parse("HEAD", &h), VL_NAME_HEAD);
  VT_EQ_INT(vl_name_parse("HEAD.tmp", &h), VL_NAME_HEAD_TMP);
  VT_EQ_INT(vl_name_parse("HEAD2", &h), VL_NAME_OTHER);
  VT_EQ_INT(vl_name_parse("log-0000000000000000000x.vlog", &h), 0);
  VT_EQ_INT(vl_name_parse("snap-99999999999999999999.vsnap", &h), 0); /* overflows u64 */
}

static void test_seg_header_flips(void) {
  uint8_t img[VL_SEG_HDR];
  vl_seg_hdr h, d;
  const char *what;
  size_t i;
  int bit;
  memset(&h, 0, sizeof h);
  h.version = 1; h.cfg.dim = 7; h.first_height = 99; h.chain_in[3] = 5;
  vl_seg_hdr_encode(&h, img);
  VT_EQ_INT(vl_seg_hdr_decode(img, sizeof img, &d, &what), VALORI_OK);
  VT_EQ_INT(d.cfg.dim, 7);
  VT_EQ_INT(d.first_height, 99);
  for (i = 0; i < sizeof img; i++)
    for (bit = 0; bit < 8; bit++) {
      img[i] ^= (uint8_t)(1u << bit);
      VT_CHECK(vl_seg_hdr_decode(img, sizeof img, &d, &what) != VALORI_OK);
      img[i] ^= (uint8_t)(1u << bit);
    }
  for (i = 0; i < sizeof img; i++) VT_CHECK(vl_seg_hdr_decode(img, i, &d, &what) == VALORI_ECORRUPT);
}

static void test_scan_clean(void) {
  size_t len, offs[40];
  uint8_t *img = build_segment(40, 1, 1, &len, offs);
  vl_seg_scan sc;
  VT_EQ_INT(vl_seg_scan_run(img, len, NULL, NULL, &sc), VALORI_OK);
  VT_EQ_INT(sc.state, VL_SEG_CLEAN);
  VT_EQ_INT(sc.nrec, 40);
  VT_EQ_INT(sc.last_height, 40);
  VT_EQ_INT(sc.end, len);
  free(img);
}

/* Truncation at every offset is a torn tail (or a header too short), never corruption, and keeps
** exactly the records that fit. */
static void test_scan_truncation(void) {
  size_t len, offs[12], cut;
  uint8_t *img = build_segment(12, 1, 2, &len, offs);
  for (cut = 0; cut < len; cut++) {
    vl_seg_scan sc;
    uint64_t want = 0;
    int i;
    uint8_t *copy = (uint8_t *)malloc(cut ? cut : 1);
    memcpy(copy, img, cut);
    VT_EQ_INT(vl_seg_scan_run(copy, cut, NULL, NULL, &sc), VALORI_OK);
    if (cut < VL_SEG_HDR) {
      VT_EQ_INT(sc.state, VL_SEG_BADHDR);
    } else {
      for (i = 0; i < 12; i++)
        if (i + 1 < 12 ? offs[i + 1] <= cut : len <= cut) want = (uint64_t)i + 1;
      VT_EQ_INT(sc.nrec, want);
      VT_CHECK(sc.state == (sc.end == cut ? VL_SEG_CLEAN : VL_SEG_TORN));
    }
    free(copy);
  }
  free(img);
}

/* A bit flip in any record but the last (each record synced on its own) is corruption at that
** record's offset; in the last record it is indistinguishable from a torn write. */
static void test_scan_flips_synced_each(void) {
  size_t len, offs[10], i;
  uint8_t *img = build_segment(10, 1, 3, &len, offs);
  for (i = VL_SEG_HDR; i < len; i++) {
    vl_seg_scan sc;
    int rec = 0, bit = (int)(i % 8);
    while (rec + 1 < 10 && offs[rec + 1] <= i) rec++;
    img[i] ^= (uint8_t)(1u << bit);
    VT_EQ_INT(vl_seg_scan_run(img, len, NULL, NULL, &sc), VALORI_OK);
    VT_EQ_INT(sc.bad_off, offs[rec]);
    VT_EQ_INT(sc.nrec, rec);
    VT_EQ_INT(sc.state, rec == 9 ? VL_SEG_TORN : VL_SEG_CORRUPT);
    img[i] ^= (uint8_t)(1u << bit);
  }
  free(img);
}

/* Records written in one group commit (one sync for several records): damage inside the last
** group is a torn tail even when later records of the group are intact (unsynced writes need not
** reach the disk in order); damage in an earlier group is corruption. */
static void test_scan_group_commit(void) {
  size_t len, offs[12];
  uint8_t *img = build_segment(12, 4, 4, &len, offs);
  vl_seg_scan sc;
  img[offs[9] + 30] ^= 0x10; /* last group is records 8..11 */
  VT_EQ_INT(vl_seg_scan_run(img, len, NULL, NULL, &sc), VALORI_OK);
  VT_EQ_INT(sc.state, VL_SEG_TORN);
  VT_EQ_INT(sc.nrec, 9);
  img[offs[9] + 30] ^= 0x10;
  img[offs[5] + 2] ^= 0x01; /* middle group */
  VT_EQ_INT(vl_seg_scan_run(img, len, NULL, NULL, &sc), VALORI_OK);
  VT_EQ_INT(sc.state, VL_SEG_CORRUPT);
  VT_EQ_INT(sc.bad_off, offs[5]);
  free(img);
}

/* A chain break with valid CRCs (a record spliced in from another history) is detected. */
static void test_scan_chain(void) {
  size_t len, offs[6], len2, offs2[6];
  uint8_t *a = build_segment(6, 1, 5, &len, offs);
  uint8_t *b = build_segment(6, 1, 6, &len2, offs2);
  vl_seg_scan sc;
  /* splice record 3 of b into a at the same place when both have the same size */
  if (offs[4] - offs[3] == offs2[4] - offs2[3]) {
    memcpy(a + offs[3], b + offs2[3], offs[4] - offs[3]);
    VT_EQ_INT(vl_seg_scan_run(a, len, NULL, NULL, &sc), VALORI_OK);
    VT_CHECK(sc.state != VL_SEG_CLEAN);
    VT_EQ_INT(sc.nrec, 3);
  }
  free(a);
  free(b);
}

/* Random bytes never crash the record decoder or the scanner. */
static void test_random_bytes(void) {
  uint64_t s = 77;
  int t;
  for (t = 0; t < 2000; t++) {
    uint8_t buf[512];
    size_t n = (size_t)(vt_rand(&s) % sizeof buf), i;
    vl_rec r;
    vl_seg_scan sc;
    const char *what;
    for (i = 0; i < n; i++) buf[i] = (uint8_t)vt_rand(&s);
    if (n >= 8 && t % 2) memcpy(buf, VL_SEG_MAGIC, 8);
    (void)vl_rec_decode(buf, n, &r, &what);
    (void)vl_seg_scan_run(buf, n, NULL, NULL, &sc);
  }
  VT_CHECK(1);
}

static void test_snap_header(void) {
  uint8_t img[VL_SNAP_HDR + 5];
  vl_snap_hdr h, d;
  const char *what;
  uint64_t off;
  size_t i;
  memset(&h, 0, sizeof h);
  h.version = 1; h.cfg.dim = 3; h.height = 12; h.payload_len = 5;
  memcpy(img + VL_SNAP_HDR, "hello", 5);
  h.payload_crc = 0;
  h.payload_crc = vl_crc32c(0, "hello", 5);
  vl_snap_hdr_encode(&h, img);
  VT_EQ_INT(vl_snap_file_check(img, sizeof img, &d, &what, &off), VALORI_OK);
  VT_EQ_INT(d.height, 12);
  for (i = 0; i < sizeof img; i++) {
    img[i] ^= 4;
    VT_CHECK(vl_snap_file_check(img, sizeof img, &d, &what, &off) != VALORI_OK);
    img[i] ^= 4;
  }
  for (i = 0; i < sizeof img; i++) VT_CHECK(vl_snap_file_check(img, i, &d, &what, &off) == VALORI_ECORRUPT);
}

/* Segment and snapshot file headers carry the format version their configuration calls for (1 with
** an HNSW index, 2 index-less); a mismatch or an invalid configuration is ECORRUPT even with a valid
** checksum, a newer version EVERSION. */
static void test_header_versions(void) {
  static const uint32_t cfgs[][3] = {{16, 200, 64}, {0, 0, 0}, {0, 200, 0}, {0, 0, 64}, {1, 200, 64}};
  size_t c;
  for (c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++) {
    uint8_t seg[VL_SEG_HDR], snap[VL_SNAP_HDR];
    vl_seg_hdr h, d;
    vl_snap_hdr sh, sd;
    const char *what;
    uint64_t off;
    uint32_t want = cfgs[c][0] ? 1u : 2u;
    int valid = c < 2;
    memset(&h, 0, sizeof h);
    memset(&sh, 0, sizeof sh);
    h.cfg.dim = sh.cfg.dim = 7;
    h.cfg.hnsw_m = sh.cfg.hnsw_m = cfgs[c][0];
    h.cfg.hnsw_ef_construction = sh.cfg.hnsw_ef_construction = cfgs[c][1];
    h.cfg.hnsw_ef_search = sh.cfg.hnsw_ef_search = cfgs[c][2];
    h.first_height = 1;
    vl_seg_hdr_encode(&h, seg);
    vl_snap_hdr_encode(&sh, snap);
    VT_EQ_INT(vl_get32(seg + 8), want);
    VT_EQ_INT(vl_get32(snap + 8), want);
    VT_EQ_INT(vl_seg_hdr_decode(seg, sizeof seg, &d, &what), valid ? VALORI_OK : VALORI_ECORRUPT);
    VT_EQ_INT(vl_snap_file_check(snap, sizeof snap, &sd, &what, &off), valid ? VALORI_OK : VALORI_ECORRUPT);
    vl_put32(seg + 8, 3 - want); /* the other version, checksum valid */
    vl_put32(seg + 92, vl_crc32c(0, seg, 92));
    vl_put32(snap + 8, 3 - want);
    vl_put32(snap + 124, vl_crc32c(0, snap, 124));
    VT_EQ_INT(vl_seg_hdr_decode(seg, sizeof seg, &d, &what), VALORI_ECORRUPT);
    VT_EQ_INT(vl_snap_file_check(snap, sizeof snap, &sd, &what, &off), VALORI_ECORRUPT);
    vl_put32(seg + 8, 3); /* version 3 without a traversal word */
    vl_put32(seg + 92, vl_crc32c(0, seg, 92));
    vl_put32(snap + 8, 3);
    vl_put32(snap + 124, vl_crc32c(0, snap, 124));
    VT_EQ_INT(vl_seg_hdr_decode(seg, sizeof seg, &d, &what), VALORI_ECORRUPT);
    VT_EQ_INT(vl_snap_file_check(snap, sizeof snap, &sd, &what, &off), VALORI_ECORRUPT);
    vl_put32(seg + 8, VL_FORMAT_VERSION_MAX + 1u); /* newer than this library */
    vl_put32(seg + 92, vl_crc32c(0, seg, 92));
    vl_put32(snap + 8, VL_FORMAT_VERSION_MAX + 1u);
    vl_put32(snap + 124, vl_crc32c(0, snap, 124));
    VT_EQ_INT(vl_seg_hdr_decode(seg, sizeof seg, &d, &what), VALORI_EVERSION);
    VT_EQ_INT(vl_snap_file_check(snap, sizeof snap, &sd, &what, &off), VALORI_EVERSION);
  }
}

/* A traversal word (compact traversal copy): version 3 in segment and snapshot headers, version 2
** in HEAD, the word round-trips; the same bytes claiming an older version are refused, and a word
** on an index-less configuration or a malformed word is an invalid configuration. */
static void test_header_traversal(void) {
  uint8_t seg[VL_SEG_HDR], snap[VL_SNAP_HDR], head[VL_HEAD_SIZE];
  vl_seg_hdr h, d;
  vl_snap_hdr sh, sd;
  vl_head hh, hd;
  const char *what;
  uint64_t off;
  const uint32_t w = vl_trav_for_range(0, 255 << 16);
  memset(&h, 0, sizeof h);
  memset(&sh, 0, sizeof sh);
  memset(&hh, 0, sizeof hh);
  h.cfg.dim = 7;
  h.cfg.hnsw_m = 16;
  h.cfg.hnsw_ef_construction = 200;
  h.cfg.hnsw_ef_search = 64;
  h.cfg.traversal = w;
  h.first_height = 1;
  sh.cfg = hh.cfg = h.cfg;
  hh.reason = VL_HEAD_OPEN;
  hh.newest_segment = 1;
  vl_seg_hdr_encode(&h, seg);
  vl_snap_hdr_encode(&sh, snap);
  vl_head_encode(&hh, head);
  VT_EQ_INT(vl_get32(seg + 8), 3);
  VT_EQ_INT(vl_get32(snap + 8), 3);
  VT_EQ_INT(vl_get32(head + 8), 2);
  VT_EQ_INT(vl_seg_hdr_decode(seg, sizeof seg, &d, &what), VALORI_OK);
  VT_EQ_INT(vl_snap_file_check(snap, sizeof snap, &sd, &what, &off), VALORI_OK);
  VT_EQ_INT(vl_head_decode(head, sizeof head, &hd, &what, &off), VALORI_OK);
  VT_CHECK(vl_config_eq(&d.cfg, &h.cfg) && vl_config_eq(&sd.cfg, &h.cfg) && vl_config_eq(&hd.cfg, &h.cfg));
  vl_put32(seg + 8, 1);
  vl_put32(seg + 92, vl_crc32c(0, seg, 92));
  vl_put32(snap + 8, 1);
  vl_put32(snap + 124, vl_crc32c(0, snap, 124));
  vl_put32(head + 8, 1);
  vl_put32(head + VL_HEAD_OFF_CRC, vl_crc32c(0, head, VL_HEAD_OFF_CRC));
  VT_EQ_INT(vl_seg_hdr_decode(seg, sizeof seg, &d, &what), VALORI_ECORRUPT);
  VT_EQ_INT(vl_snap_file_check(snap, sizeof snap, &sd, &what, &off), VALORI_ECORRUPT);
  VT_EQ_INT(vl_head_decode(head, sizeof head, &hd, &what, &off), VALORI_ECORRUPT);
  h.cfg.traversal = w | 0x2000u; /* a reserved bit */
  vl_seg_hdr_encode(&h, seg);
  VT_EQ_INT(vl_seg_hdr_decode(seg, sizeof seg, &d, &what), VALORI_ECORRUPT);
  h.cfg.traversal = w;
  h.cfg.hnsw_m = h.cfg.hnsw_ef_construction = h.cfg.hnsw_ef_search = 0; /* index-less */
  vl_seg_hdr_encode(&h, seg);
  VT_EQ_INT(vl_seg_hdr_decode(seg, sizeof seg, &d, &what), VALORI_ECORRUPT);
}

/* HEAD: round trip, every bit flip and every truncation refused as ECORRUPT, field rules, and a
** newer version (valid CRC) refused as EVERSION. */
static void test_head_codec(void) {
  vl_head h, d;
  uint8_t b[VL_HEAD_SIZE], c[VL_HEAD_SIZE + 8];
  const char *what;
  uint64_t off;
  size_t i;
  int bit;
  memset(&h, 0, sizeof h);
  h.cfg.dim = 8;
  h.cfg.metric = 0;
  h.cfg.hnsw_m = 4;
  h.cfg.hnsw_ef_construction = 16;
  h.cfg.hnsw_ef_search = 16;
  h.reason = VL_HEAD_ROTATION;
  h.newest_segment = 41;
  h.floor = 40;
  for (i = 0; i < 32; i++) h.chain[i] = (uint8_t)(i * 7 + 1);
  vl_head_encode(&h, b);
  VT_EQ_INT(vl_head_decode(b, sizeof b, &d, &what, &off), VALORI_OK);
  VT_EQ_INT(d.newest_segment, 41);
  VT_EQ_INT(d.floor, 40);
  VT_EQ_INT(d.reason, VL_HEAD_ROTATION);
  VT_CHECK(memcmp(d.chain, h.chain, 32) == 0 && vl_config_eq(&d.cfg, &h.cfg));
  for (i = 0; i < sizeof b; i++)
    for (bit = 0; bit < 8; bit++) {
      memcpy(c, b, sizeof b);
      c[i] ^= (uint8_t)(1u << bit);
      VT_EQ_INT(vl_head_decode(c, sizeof b, &d, &what, &off), VALORI_ECORRUPT);
    }
  for (i = 0; i < sizeof b; i++) VT_EQ_INT(vl_head_decode(b, i, &d, &what, &off), VALORI_ECORRUPT);
  memcpy(c, b, sizeof b);
  memset(c + sizeof b, 0, 8);
  VT_EQ_INT(vl_head_decode(c, sizeof b + 8, &d, &what, &off), VALORI_ECORRUPT); /* trailing bytes */
  /* fields with a valid CRC: reason, invariant, configuration */
  {
    vl_head bad = h;
    bad.reason = 0;
    vl_head_encode(&bad, c);
    VT_EQ_INT(vl_head_decode(c, VL_HEAD_SIZE, &d, &what, &off), VALORI_ECORRUPT);
    VT_EQ_INT(off, VL_HEAD_OFF_REASON);
    bad = h;
    bad.newest_segment = bad.floor + 2u; /* the newest segment cannot start above floor + 1 */
    vl_head_encode(&bad, c);
    VT_EQ_INT(vl_head_decode(c, VL_HEAD_SIZE, &d, &what, &off), VALORI_ECORRUPT);
    bad = h;
    bad.newest_segment = 0;
    vl_head_encode(&bad, c);
    VT_EQ_INT(vl_head_decode(c, VL_HEAD_SIZE, &d, &what, &off), VALORI_ECORRUPT);
    bad = h;
    bad.cfg.hnsw_m = 1;
    vl_head_encode(&bad, c);
    VT_EQ_INT(vl_head_decode(c, VL_HEAD_SIZE, &d, &what, &off), VALORI_ECORRUPT);
    VT_EQ_INT(off, VL_HEAD_OFF_CONFIG);
  }
  /* a newer version with a valid CRC, same size or longer: EVERSION */
  memcpy(c, b, sizeof b);
  vl_put32(c + VL_HEAD_OFF_VERSION, VL_HEAD_VERSION + 1u);
  vl_put32(c + VL_HEAD_OFF_CRC, vl_crc32c(0, c, VL_HEAD_OFF_CRC));
  VT_EQ_INT(vl_head_decode(c, VL_HEAD_SIZE, &d, &what, &off), VALORI_EVERSION);
  VT_EQ_INT(vl_head_decode(c, VL_HEAD_SIZE + 8, &d, &what, &off), VALORI_EVERSION);
}

int main(void) {
  VT_RUN(test_names);
  VT_RUN(test_head_codec);
  VT_RUN(test_header_versions);
  VT_RUN(test_header_traversal);
  VT_RUN(test_seg_header_flips);
  VT_RUN(test_scan_clean);
  VT_RUN(test_scan_truncation);
  VT_RUN(test_scan_flips_synced_each);
  VT_RUN(test_scan_group_commit);
  VT_RUN(test_scan_chain);
  VT_RUN(test_random_bytes);
  VT_RUN(test_snap_header);
  return VT_DONE();
}
