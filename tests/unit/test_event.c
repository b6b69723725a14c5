/*
** test_event.c: the event decoder accepts exactly the documented encodings: valid events of every
** opcode decode; every truncation and extension is rejected; every single-bit flip of a valid
** event either decodes to a valid event or fails cleanly (run under ASan/UBSan); specific
** malformations give their specific codes.
*/
#include "event.h"
#include "vt.h"

#define DIM 4

static const valori_allocator *A(void) { return valori_libc_allocator(); }

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
#undef NEXT
  return i;
}

static void test_valid_and_truncated(void) {
  vl_buf bufs[16];
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
  vl_buf bufs[16];
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
  VT_RUN(test_specific_codes);
  return VT_DONE();
}
