/*
** test_event.c: the event decoder accepts exactly the documented encodings: valid events of every
** opcode (UPDATE_RECORD in all seven field combinations) decode; every truncation and extension is
** rejected; every single-bit flip of a valid event either decodes to a valid event or fails
** cleanly (run under ASan/UBSan), and a flipped UPDATE_RECORD that still decodes is the canonical
** encoding of what it decodes to (events carry no checksum of their own: the log record's CRC and
** chain catch payload flips); specific malformations give their specific codes.
*/
#include "event.h"
#include "vt.h"

#define DIM 4

static const valori_allocator *A(void) { return valori_libc_allocator(); }

/* UPDATE_RECORD of record 5 with fields f: tag 9, the vector below, metadata "meta". */
static void build_update_record(vl_buf *b, uint32_t f) {
  static const float v[DIM] = {-0.5f, 3.75f, -256.0f, 100.0f};
  vl_buf_init(b, A());
  VT_EQ_INT(vl_ev_put_update(b, VALORI_OP_UPDATE_RECORD, 5, f, DIM, v, 9, "meta", 4), VALORI_OK);
}

/* Builds one valid event of each opcode into bufs; returns how many. */
static int build_all(vl_buf *bufs) {
  static const float v[DIM] = {1.5f, -2.25f, 0.0f, 255.0f};
  size_t m;
  int i = 0;
#define NEXT (vl_buf_init(&bufs[i], A()), &bufs[i++])
  { vl_buf *b = NEXT; vl_ev_begin(b, VALORI_OP_INSERT, &m); vl_ev_put_record(b, v, DIM, 7, "meta", 4); vl_ev_end(b, m); }
  { vl_buf *b = NEXT; vl_ev_begin(b, VALORI_OP_INSERT_BATCH, &m); vl_buf_u32(b, 2); vl_buf_u32(b, 0);
    vl_ev_put_record(b, v, DIM, 1, NULL, 0); vl_ev_put_record(b, v, DIM, 2, "x", 1); vl_ev_end(b, m); }
  { vl_buf *b = NEXT; vl_ev_begin(b, VALORI_OP_DELETE, &m); vl_buf_u64(b, 5); vl_ev_end(b, m); }
  { vl_buf *b = NEXT; vl_ev_begin(b, VALORI_OP_UPDATE, &m); vl_buf_u64(b, 5); vl_buf_u32(b, 3); vl_buf_u32(b, 0);
    vl_buf_u64(b, 9); vl_ev_put_vec(b, v, DIM); vl_ev_end(b, m); }
  { vl_buf *b = NEXT; vl_ev_begin(b, VALORI_OP_SET_META, &m); vl_buf_u64(b, 5); vl_buf_u32(b, 3); vl_buf_put(b, "abc", 3); vl_ev_end(b, m); }
  { vl_buf *b = NEXT; vl_ev_begin(b, VALORI_OP_NODE_CREATE, &m); vl_buf_u32(b, 1); vl_buf_u32(b, 2); vl_buf_u64(b, 0);
    vl_buf_put(b, "hi", 2); vl_ev_end(b, m); }
  { vl_buf *b = NEXT; vl_ev_begin(b, VALORI_OP_NODE_DELETE, &m); vl_buf_u64(b, 1); vl_ev_end(b, m); }
  { vl_buf *b = NEXT; vl_ev_begin(b, VALORI_OP_EDGE_CREATE, &m); vl_buf_u64(b, 1); vl_buf_u64(b, 2); vl_buf_u32(b, 3);
    vl_buf_u32(b, 1); vl_buf_u32(b, 65536); vl_ev_end(b, m); }
  { vl_buf *b = NEXT; vl_ev_begin(b, VALORI_OP_EDGE_DELETE, &m); vl_buf_u64(b, 1); vl_ev_end(b, m); }
  { uint32_t f;
    for (f = 1; f <= VL_UPD_ALL; f++) build_update_record(NEXT, f); }
#undef NEXT
  return i;
}

/* Re-encodes a decoded UPDATE / UPDATE_RECORD view byte for byte. */
static void reencode_update(const vl_event *ev, uint32_t dim, vl_buf *b) {
  size_t m;
  vl_ev_begin(b, ev->op, &m);
  vl_buf_u64(b, ev->id);
  vl_buf_u32(b, ev->fields);
  vl_buf_u32(b, ev->nbytes);
  if (ev->fields & VL_UPD_TAG) vl_buf_u64(b, ev->tag);
  if (ev->fields & VL_UPD_VECTOR) vl_buf_put(b, ev->vec, (size_t)dim * 4);
  if (ev->fields & VL_UPD_META) vl_buf_put(b, ev->bytes, ev->nbytes);
  vl_ev_end(b, m);
}

/* Every bit flip of an UPDATE_RECORD event of every field combination: rejected, or decoded to a
** valid event whose canonical encoding is exactly the flipped bytes (so no flip is misread as a
** different layout); flips of the flags, the body length and, where the layout would change, the
** fields and meta_len words are all rejected. */
static void test_update_record_flips(void) {
  uint32_t f;
  long rejected = 0, payload = 0, reencoded_bad = 0, structural_accepted = 0;
  for (f = 1; f <= VL_UPD_ALL; f++) {
    vl_buf b, r;
    vl_event ev;
    size_t bit;
    uint8_t *copy;
    build_update_record(&b, f);
    copy = (uint8_t *)malloc(b.len);
    vl_buf_init(&r, A());
    for (bit = 0; bit < b.len * 8; bit++) {
      size_t byte = bit / 8;
      int rc;
      memcpy(copy, b.p, b.len);
      copy[byte] ^= (uint8_t)(1u << (bit % 8));
      rc = vl_event_decode(copy, b.len, DIM, &ev);
      if (rc != VALORI_OK) {
        VT_CHECK(rc == VALORI_ECORRUPT || rc == VALORI_EOPCODE || rc == VALORI_ERANGE || rc == VALORI_ETOOBIG ||
                 rc == VALORI_EEMPTY);
        rejected++;
        continue;
      }
      if (byte >= 2 && byte < 8) structural_accepted++; /* flags and body length: never */
      if (byte >= 16 && byte < 24) {
        /* fields / meta_len still valid: only where the layout stays the same, i.e. the META bit
        ** added with meta_len 0 (an update that also clears the metadata) */
        VT_CHECK(ev.op == VALORI_OP_UPDATE_RECORD && ev.fields == (f | VL_UPD_META) && !(f & VL_UPD_META) &&
                 ev.nbytes == 0);
      }
      if (ev.op == VALORI_OP_UPDATE || ev.op == VALORI_OP_UPDATE_RECORD) {
        r.len = 0;
        reencode_update(&ev, DIM, &r);
        if (r.len != b.len || memcmp(r.p, copy, b.len) != 0) reencoded_bad++;
        if (ev.op == VALORI_OP_UPDATE) VT_CHECK(byte == 0 && !(f & VL_UPD_META)); /* opcode 6 -> 4, same body */
      }
      payload++;
    }
    VT_EQ_INT(reencoded_bad, 0);
    VT_EQ_INT(structural_accepted, 0);
    free(copy);
    vl_buf_free(&r);
    vl_buf_free(&b);
  }
  printf("  UPDATE_RECORD flips: %ld rejected, %ld decode to the event they canonically encode\n", rejected, payload);
  VT_CHECK(rejected > 0 && payload > 0);
}

static void test_valid_and_truncated(void) {
  vl_buf bufs[24];
  vl_event ev;
  int n = build_all(bufs), i;
  for (i = 0; i < n; i++) {
    size_t len;
    uint8_t *copy;
    VT_EQ_INT(vl_event_decode(bufs[i].p, bufs[i].len, DIM, &ev), VALORI_OK);
    for (len = 0; len < bufs[i].len; len++) { /* exact-size heap copies so ASan sees overreads */
      copy = (uint8_t *)malloc(len ? len : 1);
      memcpy(copy, bufs[i].p, len);
      VT_CHECK(vl_event_decode(copy, len, DIM, &ev) != VALORI_OK);
      free(copy);
    }
    copy = (uint8_t *)malloc(bufs[i].len + 1);
    memcpy(copy, bufs[i].p, bufs[i].len);
    copy[bufs[i].len] = 0;
    VT_CHECK(vl_event_decode(copy, bufs[i].len + 1, DIM, &ev) != VALORI_OK); /* trailing byte */
    free(copy);
    vl_buf_free(&bufs[i]);
  }
}

static void test_bit_flips(void) {
  vl_buf bufs[24];
  vl_event ev;
  int n = build_all(bufs), i;
  long ok = 0, rejected = 0;
  for (i = 0; i < n; i++) {
    size_t bit;
    uint8_t *copy = (uint8_t *)malloc(bufs[i].len);
    for (bit = 0; bit < bufs[i].len * 8; bit++) {
      memcpy(copy, bufs[i].p, bufs[i].len);
      copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      if (vl_event_decode(copy, bufs[i].len, DIM, &ev) == VALORI_OK) ok++; else rejected++;
    }
    free(copy);
    vl_buf_free(&bufs[i]);
  }
  printf("  flips: %ld still valid (payload bits), %ld rejected\n", ok, rejected);
  VT_CHECK(rejected > 0 && ok > 0);
}

static void test_specific_codes(void) {
  vl_buf b;
  vl_event ev;
  size_t m;
  static const float v[DIM] = {1, 2, 3, 4};
  vl_buf_init(&b, A());
  /* unknown opcode */
  vl_ev_begin(&b, 99, &m); vl_buf_u64(&b, 1); vl_ev_end(&b, m);
  VT_EQ_INT(vl_event_decode(b.p, b.len, DIM, &ev), VALORI_EOPCODE);
  /* nonzero flags */
  b.p[2] = 1;
  VT_EQ_INT(vl_event_decode(b.p, b.len, DIM, &ev), VALORI_ECORRUPT);
  /* empty batch */
  b.len = 0; vl_ev_begin(&b, VALORI_OP_INSERT_BATCH, &m); vl_buf_u32(&b, 0); vl_buf_u32(&b, 0); vl_ev_end(&b, m);
  VT_EQ_INT(vl_event_decode(b.p, b.len, DIM, &ev), VALORI_EEMPTY);
  /* component out of range (raw int beyond 2^24) */
  b.len = 0; vl_ev_begin(&b, VALORI_OP_INSERT, &m); vl_ev_put_record(&b, v, DIM, 0, NULL, 0); vl_ev_end(&b, m);
  vl_put32(b.p + 8 + 12, (1u << 24) + 1);
  VT_EQ_INT(vl_event_decode(b.p, b.len, DIM, &ev), VALORI_ERANGE);
  /* wrong dimension: a valid dim-4 insert read by a dim-5 store */
  vl_put32(b.p + 8 + 12, 0);
  VT_EQ_INT(vl_event_decode(b.p, b.len, DIM, &ev), VALORI_OK);
  VT_EQ_INT(vl_event_decode(b.p, b.len, DIM + 1, &ev), VALORI_ECORRUPT);
  /* oversize metadata claimed */
  b.len = 0; vl_ev_begin(&b, VALORI_OP_SET_META, &m); vl_buf_u64(&b, 1); vl_buf_u32(&b, VALORI_MAX_META + 1); vl_ev_end(&b, m);
  VT_EQ_INT(vl_event_decode(b.p, b.len, DIM, &ev), VALORI_ETOOBIG);
  /* update with no fields / unknown field bits */
  b.len = 0; vl_ev_begin(&b, VALORI_OP_UPDATE, &m); vl_buf_u64(&b, 1); vl_buf_u32(&b, 0); vl_buf_u32(&b, 0); vl_ev_end(&b, m);
  VT_EQ_INT(vl_event_decode(b.p, b.len, DIM, &ev), VALORI_ECORRUPT);
  /* UPDATE_RECORD: no field, unknown field bits, meta_len without META, oversize metadata, a raw
  ** component out of range (checked before the metadata size), wrong dimension; UPDATE (4) takes
  ** no META bit and no meta_len */
  {
    static const uint32_t bad_fields[] = {0, 8, 0x10, 0x80000000u, 0xFFu};
    size_t k;
    for (k = 0; k < sizeof bad_fields / sizeof bad_fields[0]; k++) {
      b.len = 0; vl_ev_begin(&b, VALORI_OP_UPDATE_RECORD, &m); vl_buf_u64(&b, 1); vl_buf_u32(&b, bad_fields[k]);
      vl_buf_u32(&b, 0); vl_ev_end(&b, m);
      VT_EQ_INT(vl_event_decode(b.p, b.len, DIM, &ev), VALORI_ECORRUPT);
    }
    b.len = 0; vl_ev_begin(&b, VALORI_OP_UPDATE_RECORD, &m); vl_buf_u64(&b, 1); vl_buf_u32(&b, VL_UPD_TAG);
    vl_buf_u32(&b, 2); vl_buf_u64(&b, 3); vl_buf_put(&b, "ab", 2); vl_ev_end(&b, m);
    VT_EQ_INT(vl_event_decode(b.p, b.len, DIM, &ev), VALORI_ECORRUPT);
    b.len = 0; vl_ev_begin(&b, VALORI_OP_UPDATE_RECORD, &m); vl_buf_u64(&b, 1); vl_buf_u32(&b, VL_UPD_META);
    vl_buf_u32(&b, VALORI_MAX_META + 1); vl_ev_end(&b, m);
    VT_EQ_INT(vl_event_decode(b.p, b.len, DIM, &ev), VALORI_ETOOBIG);
    b.len = 0; vl_ev_begin(&b, VALORI_OP_UPDATE_RECORD, &m); vl_buf_u64(&b, 1); vl_buf_u32(&b, VL_UPD_VECTOR | VL_UPD_META);
    vl_buf_u32(&b, VALORI_MAX_META + 1); vl_buf_u32(&b, 0); vl_buf_u32(&b, (1u << 24) + 1); vl_buf_u32(&b, 0);
    vl_buf_u32(&b, 0); vl_ev_end(&b, m);
    VT_EQ_INT(vl_event_decode(b.p, b.len, DIM, &ev), VALORI_ERANGE);
    b.len = 0;
    VT_EQ_INT(vl_ev_put_update(&b, VALORI_OP_UPDATE_RECORD, 1, VL_UPD_ALL, DIM, v, 2, "xyz", 3), VALORI_OK);
    VT_EQ_INT(vl_event_decode(b.p, b.len, DIM, &ev), VALORI_OK);
    VT_CHECK(ev.id == 1 && ev.fields == VL_UPD_ALL && ev.tag == 2 && ev.nbytes == 3 && memcmp(ev.bytes, "xyz", 3) == 0);
    VT_EQ_INT(vl_event_decode(b.p, b.len, DIM + 1, &ev), VALORI_ECORRUPT);
    VT_EQ_INT(vl_event_decode(b.p, b.len, DIM - 1, &ev), VALORI_ECORRUPT);
    b.len = 0; vl_ev_begin(&b, VALORI_OP_UPDATE, &m); vl_buf_u64(&b, 1); vl_buf_u32(&b, VL_UPD_META);
    vl_buf_u32(&b, 0); vl_ev_end(&b, m);
    VT_EQ_INT(vl_event_decode(b.p, b.len, DIM, &ev), VALORI_ECORRUPT);
    b.len = 0; vl_ev_begin(&b, VALORI_OP_UPDATE, &m); vl_buf_u64(&b, 1); vl_buf_u32(&b, VL_UPD_TAG);
    vl_buf_u32(&b, 1); vl_buf_u64(&b, 3); vl_buf_put(&b, "a", 1); vl_ev_end(&b, m);
    VT_EQ_INT(vl_event_decode(b.p, b.len, DIM, &ev), VALORI_ECORRUPT);
    /* SET_META decodes as an update of the metadata alone */
    b.len = 0; vl_ev_begin(&b, VALORI_OP_SET_META, &m); vl_buf_u64(&b, 4); vl_buf_u32(&b, 1); vl_buf_put(&b, "z", 1);
    vl_ev_end(&b, m);
    VT_EQ_INT(vl_event_decode(b.p, b.len, DIM, &ev), VALORI_OK);
    VT_CHECK(ev.fields == VL_UPD_META && ev.id == 4 && ev.nbytes == 1);
    /* the encoder: vector before metadata, restored buffer on error */
    {
      float bad[DIM] = {1, 0, 0, 0};
      uint32_t inf = 0x7F800000u;
      memcpy(&bad[1], &inf, 4);
      b.len = 0;
      VT_EQ_INT(vl_ev_put_update(&b, VALORI_OP_UPDATE_RECORD, 1, VL_UPD_ALL, DIM, bad, 0, NULL, VALORI_MAX_META + 1),
                VALORI_EINF);
      VT_EQ_INT(b.len, 0);
      VT_EQ_INT(vl_ev_put_update(&b, VALORI_OP_UPDATE_RECORD, 1, VL_UPD_ALL, DIM, v, 0, NULL, 1), VALORI_EINVAL);
      VT_EQ_INT(vl_ev_put_update(&b, VALORI_OP_UPDATE_RECORD, 1, VL_UPD_ALL, DIM, v, 0, "x", VALORI_MAX_META + 1),
                VALORI_ETOOBIG);
      VT_EQ_INT(vl_ev_put_update(&b, VALORI_OP_UPDATE, 1, VL_UPD_META, DIM, v, 0, "x", 1), VALORI_EINVAL);
      VT_EQ_INT(vl_ev_put_update(&b, VALORI_OP_UPDATE_RECORD, 1, VL_UPD_VECTOR, DIM, NULL, 0, NULL, 0), VALORI_EINVAL);
      VT_EQ_INT(b.len, 0);
    }
  }
  /* unweighted edge with a weight value */
  b.len = 0; vl_ev_begin(&b, VALORI_OP_EDGE_CREATE, &m); vl_buf_u64(&b, 1); vl_buf_u64(&b, 2); vl_buf_u32(&b, 0);
  vl_buf_u32(&b, 0); vl_buf_u32(&b, 5); vl_ev_end(&b, m);
  VT_EQ_INT(vl_event_decode(b.p, b.len, DIM, &ev), VALORI_ECORRUPT);
  /* encoder: NaN and oversize are refused at the boundary and leave the buffer as it was */
  {
    float bad[DIM] = {1, 0, 0, 0};
    size_t before;
    uint32_t nan = 0x7FC00000u;
    memcpy(&bad[2], &nan, 4);
    b.len = 0; vl_ev_begin(&b, VALORI_OP_INSERT, &m);
    before = b.len;
    VT_EQ_INT(vl_ev_put_record(&b, bad, DIM, 0, NULL, 0), VALORI_ENAN);
    VT_EQ_INT(b.len, before);
    VT_EQ_INT(vl_ev_put_record(&b, v, DIM, 0, "x", VALORI_MAX_META + 1), VALORI_ETOOBIG);
  }
  vl_buf_free(&b);
}

int main(void) {
  VT_RUN(test_valid_and_truncated);
  VT_RUN(test_bit_flips);
  VT_RUN(test_update_record_flips);
  VT_RUN(test_specific_codes);
  return VT_DONE();
}
