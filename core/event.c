/*
** event.c: decoding (with complete structural validation) and encoding of events. The decoder is
** a fuzz target: it must accept exactly the encodings described in event.h and reject everything
** else with ECORRUPT, EOPCODE, ERANGE or ETOOBIG, without reading outside the input.
*/
#include "event.h"
#include "fixed.h"

static int check_vec(const uint8_t *p, uint32_t dim) {
  uint32_t i;
  for (i = 0; i < dim; i++)
    if (!vl_q16_ok((int32_t)vl_get32(p + 4u * i))) return VALORI_ERANGE;
  return VALORI_OK;
}

void vl_ev_vec(const uint8_t *p, uint32_t dim, int32_t *out) {
#if defined(VL_HOST_LE)
  memcpy(out, p, (size_t)dim * 4);
#else
  uint32_t i;
  for (i = 0; i < dim; i++) out[i] = (int32_t)vl_get32(p + 4u * i);
#endif
}

void vl_ev_rec_next(const uint8_t **cursor, uint32_t dim, vl_ev_rec *r) {
  const uint8_t *p = *cursor;
  r->tag = vl_get64(p);
  r->meta_len = vl_get32(p + 8);
  r->vec = p + 12;
  r->meta = p + 12 + (size_t)dim * 4;
  *cursor = r->meta + r->meta_len;
}

/* Validates `count` records laid out back to back in rd. */
static int check_records(vl_rd *rd, uint32_t count, uint32_t dim) {
  uint32_t i;
  for (i = 0; i < count; i++) {
    const uint8_t *v;
    uint32_t ml;
    vl_rd_u64(rd);
    ml = vl_rd_u32(rd);
    v = vl_rd_take(rd, (size_t)dim * 4);
    if (rd->bad) return VALORI_ECORRUPT;
    VL_TRY(check_vec(v, dim)); /* the vector before the metadata size: valori.h's order */
    if (ml > VALORI_MAX_META) return VALORI_ETOOBIG;
    if (!vl_rd_take(rd, ml)) return VALORI_ECORRUPT;
  }
  return VALORI_OK;
}

int vl_event_decode(const uint8_t *p, size_t n, uint32_t dim, vl_event *ev) {
  vl_rd rd;
  uint32_t blen;
  if (!p || n < VL_EV_HEADER) return VALORI_ECORRUPT;
  if (n > VALORI_MAX_EVENT) return VALORI_ETOOBIG;
  memset(ev, 0, sizeof *ev);
  ev->op = vl_get16(p);
  if (vl_get16(p + 2) != 0) return VALORI_ECORRUPT;
  blen = vl_get32(p + 4);
  if ((size_t)blen != n - VL_EV_HEADER) return VALORI_ECORRUPT;
  vl_rd_init(&rd, p + VL_EV_HEADER, blen);
  switch (ev->op) {
    case VALORI_OP_INSERT:
      ev->count = 1;
      ev->recs = rd.p;
      VL_TRY(check_records(&rd, 1, dim));
      break;
    case VALORI_OP_INSERT_BATCH:
      ev->count = vl_rd_u32(&rd);
      if (vl_rd_u32(&rd) != 0 || rd.bad) return VALORI_ECORRUPT;
      if (ev->count == 0) return VALORI_EEMPTY;
      if (ev->count > VALORI_MAX_BATCH) return VALORI_ETOOBIG;
      ev->recs = rd.p;
      VL_TRY(check_records(&rd, ev->count, dim));
      break;
    case VALORI_OP_DELETE:
    case VALORI_OP_NODE_DELETE:
    case VALORI_OP_EDGE_DELETE:
      ev->id = vl_rd_u64(&rd);
      break;
    case VALORI_OP_UPDATE:
    case VALORI_OP_UPDATE_RECORD: { /* UPDATE's third word is a reserved 0 where UPDATE_RECORD has meta_len */
      const uint32_t allowed = ev->op == VALORI_OP_UPDATE ? (VL_UPD_VECTOR | VL_UPD_TAG) : VL_UPD_ALL;
      ev->id = vl_rd_u64(&rd);
      ev->fields = vl_rd_u32(&rd);
      ev->nbytes = vl_rd_u32(&rd);
      if (rd.bad || ev->fields == 0 || (ev->fields & ~allowed) || (ev->nbytes && !(ev->fields & VL_UPD_META)))
        return VALORI_ECORRUPT;
      if (ev->fields & VL_UPD_TAG) ev->tag = vl_rd_u64(&rd);
      if (ev->fields & VL_UPD_VECTOR) {
        ev->vec = vl_rd_take(&rd, (size_t)dim * 4);
        if (rd.bad) return VALORI_ECORRUPT;
        VL_TRY(check_vec(ev->vec, dim));
      }
      if (ev->nbytes > VALORI_MAX_META) return VALORI_ETOOBIG; /* after the vector: valori.h's order */
      ev->bytes = vl_rd_take(&rd, ev->nbytes);
      break;
    }
    case VALORI_OP_SET_META:
      ev->fields = VL_UPD_META;
      ev->id = vl_rd_u64(&rd);
      ev->nbytes = vl_rd_u32(&rd);
      if (rd.bad) return VALORI_ECORRUPT;
      if (ev->nbytes > VALORI_MAX_META) return VALORI_ETOOBIG;
      ev->bytes = vl_rd_take(&rd, ev->nbytes);
      break;
    case VALORI_OP_NODE_CREATE:
      ev->kind = vl_rd_u32(&rd);
      ev->nbytes = vl_rd_u32(&rd);
      ev->record_id = vl_rd_u64(&rd);
      if (rd.bad) return VALORI_ECORRUPT;
      if (ev->nbytes > VALORI_MAX_META) return VALORI_ETOOBIG;
      ev->bytes = vl_rd_take(&rd, ev->nbytes);
      break;
    case VALORI_OP_EDGE_CREATE:
      ev->from = vl_rd_u64(&rd);
      ev->to = vl_rd_u64(&rd);
      ev->kind = vl_rd_u32(&rd);
      ev->has_weight = vl_rd_u32(&rd);
      ev->weight = (int32_t)vl_rd_u32(&rd);
      if (rd.bad || ev->has_weight > 1 || (!ev->has_weight && ev->weight != 0)) return VALORI_ECORRUPT;
      if (!vl_q16_ok(ev->weight)) return VALORI_ERANGE;
      break;
    default:
      return VALORI_EOPCODE;
  }
  if (rd.bad || rd.n != 0) return VALORI_ECORRUPT;
  return VALORI_OK;
}

int vl_ev_begin(vl_buf *b, uint32_t op, size_t *mark) {
  uint8_t h[VL_EV_HEADER];
  *mark = b->len;
  vl_put16(h, (uint16_t)op);
  vl_put16(h + 2, 0);
  vl_put32(h + 4, 0);
  return vl_buf_put(b, h, sizeof h);
}

void vl_ev_end(vl_buf *b, size_t mark) { vl_put32(b->p + mark + 4, (uint32_t)(b->len - mark - VL_EV_HEADER)); }

int vl_ev_put_vec(vl_buf *b, const float *vec, uint32_t dim) {
  VL_TRY(vl_buf_reserve(b, (size_t)dim * 4));
  VL_TRY(vl_ev_write_vec(b->p + b->len, vec, dim));
  b->len += (size_t)dim * 4;
  return VALORI_OK;
}

int vl_ev_write_vec(uint8_t *p, const float *vec, uint32_t dim) {
  int32_t tmp[64];
  uint32_t i, j, n;
#if defined(VL_HOST_LE)
  if (((uintptr_t)p & 3u) == 0) /* aligned (no metadata before it): converted in place, no copy */
    return vl_vec_from_f32(vec, dim, (int32_t *)(void *)p);
#endif
  for (i = 0; i < dim; i += n) { /* chunks in order: the first bad component decides the code */
    n = dim - i < 64 ? dim - i : 64;
    VL_TRY(vl_vec_from_f32(vec + i, n, tmp));
#if defined(VL_HOST_LE)
    VL_UNUSED(j);
    memcpy(p + (size_t)i * 4, tmp, (size_t)n * 4);
#else
    for (j = 0; j < n; j++) vl_put32(p + (size_t)(i + j) * 4, (uint32_t)tmp[j]);
#endif
  }
  return VALORI_OK;
}

int vl_ev_put_record(vl_buf *b, const float *vec, uint32_t dim, uint64_t tag, const void *meta, size_t meta_len) {
  const size_t start = b->len, ml = VL_MIN(meta_len, (size_t)VALORI_MAX_META + 1);
  int rc;
  if (!vec) return VALORI_EINVAL;
  rc = vl_buf_reserve(b, 12 + (size_t)dim * 4 + ml);
  if (rc) return rc;
  vl_buf_u64(b, tag);
  vl_buf_u32(b, (uint32_t)ml); /* a size over the limit is refused below, after the vector */
  rc = vl_ev_put_vec(b, vec, dim);
  if (!rc && meta_len && !meta) rc = VALORI_EINVAL;
  if (!rc && meta_len > VALORI_MAX_META) rc = VALORI_ETOOBIG;
  if (rc) {
    b->len = start;
    return rc;
  }
  vl_buf_put(b, meta, meta_len); /* reserved above */
  return VALORI_OK;
}

int vl_ev_put_update(vl_buf *b, uint32_t op, uint64_t id, uint32_t fields, uint32_t dim, const float *vec,
                     uint64_t tag, const void *meta, size_t meta_len) {
  const uint32_t allowed = op == VALORI_OP_UPDATE ? (VL_UPD_VECTOR | VL_UPD_TAG) : VL_UPD_ALL;
  const size_t start = b->len, ml = (fields & VL_UPD_META) ? meta_len : 0;
  size_t mark;
  int rc;
  if (fields == 0 || (fields & ~allowed) || ((fields & VL_UPD_VECTOR) && !vec)) return VALORI_EINVAL;
  rc = vl_ev_begin(b, op, &mark);
  if (!rc) rc = vl_buf_u64(b, id);
  if (!rc) rc = vl_buf_u32(b, fields);
  if (!rc) rc = vl_buf_u32(b, (uint32_t)VL_MIN(ml, (size_t)VALORI_MAX_META + 1)); /* checked below */
  if (!rc && (fields & VL_UPD_TAG)) rc = vl_buf_u64(b, tag);
  if (!rc && (fields & VL_UPD_VECTOR)) rc = vl_ev_put_vec(b, vec, dim); /* the vector before the metadata */
  if (!rc && ml && !meta) rc = VALORI_EINVAL;
  if (!rc && ml > VALORI_MAX_META) rc = VALORI_ETOOBIG;
  if (!rc) rc = vl_buf_put(b, meta, ml);
  if (rc) {
    b->len = start;
    return rc;
  }
  vl_ev_end(b, mark);
  return VALORI_OK;
}
