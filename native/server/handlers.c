/*
** handlers.c: the endpoints of docs/HTTP.md, one function each, and the route table. A handler
** decodes its body (decode.c) before taking any lock, takes a collection reference, runs the
** valori.h call under the collection's shared (reads) or exclusive (writes) lock, and writes its
** JSON answer. Writes then wait for durability with vs_reply_when_durable (the connection is
** suspended, no thread waits), so the answer goes out only once the write's fsync is done.
*/
#define _GNU_SOURCE 1
#include "server.h"

#include "follower.h"

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- answers */

static const char *reason_json = "application/json";

void vs_reply_error(vs_req *q, const vs_err *e) {
  vb_free(&q->out);
  q->fd = -1;
  q->status = vs_code_status(e->code);
  q->ctype = reason_json;
  vb_puts(&q->out, "{\"error\":{\"code\":");
  vb_json_str(&q->out, vs_code_name(e->code));
  vb_puts(&q->out, ",\"message\":");
  vb_json_str(&q->out, e->msg);
  if (e->file[0]) {
    vb_puts(&q->out, ",\"file\":");
    vb_json_str(&q->out, e->file);
    vb_printf(&q->out, ",\"offset\":%llu,\"height\":%llu", e->offset, e->height);
  }
  if (e->extra[0]) vb_puts(&q->out, e->extra);
  vb_puts(&q->out, "}}");
  if (q->status == 503 || q->status == 429) {
    int i, has = 0;
    for (i = 0; i < q->nh; i++)
      if (strcmp(q->hname[i], "Retry-After") == 0) has = 1;
    if (!has) vs_header(q, "Retry-After", "1");
  }
}

void vs_reply_code(vs_req *q, int code, const char *fmt, ...) {
  vs_err e;
  va_list ap;
  memset(&e, 0, sizeof e);
  e.code = code;
  va_start(ap, fmt);
  vsnprintf(e.msg, sizeof e.msg, fmt, ap);
  va_end(ap);
  vs_reply_error(q, &e);
}

static void reply_json(vs_req *q, int status) {
  q->status = status;
  q->ctype = reason_json;
}

/* {"id": "...", "height": H, "root": "..."} */
static void write_ack(vbuf *b, const char *idkey, uint64_t id, uint64_t h, const uint8_t root[32]) {
  vb_puts(b, "{");
  if (idkey) {
    vb_json_key(b, idkey);
    vb_json_u64str(b, id);
    vb_puts(b, ",");
  }
  vb_printf(b, "\"height\":%llu,\"root\":", (unsigned long long)h);
  vb_json_hex(b, root, 32);
}

/* ---- common steps */

static const char *seg(vs_req *q, int i) { return i < q->nsegs ? q->segs[i] : ""; }

/* The collection named in the path; on failure the error answer is set and 0 returned. */
static int acquire(vs_req *q, vs_coll **c);
int vs_acquire(vs_req *q, vs_coll **c) { return acquire(q, c); }
static int acquire(vs_req *q, vs_coll **c) {
  vs_err e;
  if (vs_coll_acquire(q->srv->reg, seg(q, 2), c, &e) != VALORI_OK) {
    vs_reply_error(q, &e);
    return 0;
  }
  return 1;
}

static void release(vs_req *q, vs_coll *c) { vs_coll_release(q->srv->reg, c); }

/* The shared lock for a read; refused (0, answer set) while the collection is poisoned, since its
** memory may then hold a write that never reached the log. */
static int rdlock(vs_req *q, vs_coll *c) {
  vs_coll_rdlock(c);
  if (!vs_coll_poisoned(c)) return 1;
  vs_coll_unlock(c);
  vs_reply_code(q, VALORI_EPOISONED, "collection '%s' is being reopened from its log after a failed write; retry",
                vs_coll_name(c));
  return 0;
}

static uint32_t coll_dim(vs_coll *c) {
  vs_summary s;
  vs_coll_summary(c, &s);
  return s.st.dim;
}

static int path_id(vs_req *q, int i, const char *what, uint64_t *id) {
  const char *s = seg(q, i);
  if (!vs_parse_u64_text(s, strlen(s), id)) {
    vs_reply_code(q, VALORI_EINVAL, "%s id: expected decimal digits, got '%.40s'", what, s);
    return 0;
  }
  return 1;
}

static int parse_body(vs_req *q, cJSON **j) {
  vs_err e;
  if (vs_json_parse(q->body.p ? q->body.p : "", q->body.len, j, &e) != VALORI_OK) {
    vs_reply_error(q, &e);
    return 0;
  }
  return 1;
}

static int no_query(vs_req *q) {
  static const char *const none[] = {NULL};
  vs_err e;
  if (vs_query_check(q, none, &e) != VALORI_OK) {
    vs_reply_error(q, &e);
    return 0;
  }
  return 1;
}

/* A write's answer: ack JSON with the new height and root, sent once durable. */
static void write_done(vs_req *q, vs_coll *c, int status, const char *idkey, uint64_t id) {
  uint64_t h;
  uint8_t root[32];
  vs_coll_wrote(c, &h, root);
  write_ack(&q->out, idkey, id, h, root);
  vb_puts(&q->out, "}");
  reply_json(q, status);
  q->w.height = h;
}

/* ---- collections */

static const char *metric_name(uint32_t m) { return m == VALORI_METRIC_IP ? "ip" : "l2"; }
static const char *index_name(uint32_t i) { return i == VALORI_INDEX_NONE ? "none" : "hnsw"; }

static void write_describe(vbuf *b, const vs_summary *s, uint64_t disk) {
  const valori_stats *st = &s->st;
  vb_puts(b, "{\"name\":");
  vb_json_str(b, s->name);
  vb_printf(b, ",\"dim\":%u,\"metric\":\"%s\",\"index\":\"%s\",\"hnsw\":", st->dim, metric_name(st->metric),
            index_name(st->index));
  if (st->index == VALORI_INDEX_NONE) vb_puts(b, "null");
  else
    vb_printf(b, "{\"m\":%u,\"ef_construction\":%u,\"ef_search\":%u}", st->hnsw_m, st->hnsw_ef_construction,
              st->hnsw_ef_search);
  /* the compact traversal copy (valori_stats.traversal*), as the embedded stats().traversal: the
  ** components the int8 codes -128..127 stand for, (c - 128) * 2^(s-16) .. (c + 127) * 2^(s-16),
  ** exact in a double; null without one */
  if (!st->traversal) vb_puts(b, ",\"traversal\":null");
  else
    vb_printf(b, ",\"traversal\":{\"int8\":[%.17g,%.17g],\"shift\":%u,\"center\":%d,\"word\":%u}",
              ((double)st->traversal_center - 128) * (double)(1ull << st->traversal_shift) / 65536.0,
              ((double)st->traversal_center + 127) * (double)(1ull << st->traversal_shift) / 65536.0,
              st->traversal_shift, st->traversal_center, st->traversal);
  vb_printf(b, ",\"records\":%llu,\"nodes\":%llu,\"edges\":%llu,\"next_id\":", (unsigned long long)st->records,
            (unsigned long long)st->nodes, (unsigned long long)st->edges);
  vb_json_u64str(b, st->next_record_id);
  vb_puts(b, ",\"next_node_id\":");
  vb_json_u64str(b, st->next_node_id);
  vb_puts(b, ",\"next_edge_id\":");
  vb_json_u64str(b, st->next_edge_id);
  vb_printf(b, ",\"height\":%llu,\"root\":", (unsigned long long)st->height);
  vb_json_hex(b, s->root, 32);
  vb_printf(b, ",\"durable_height\":%llu,\"snapshot_height\":%llu,\"disk_bytes\":%llu",
            (unsigned long long)s->durable_height, (unsigned long long)s->snapshot_height, (unsigned long long)disk);
  /* valori_stats' index and memory counters, as the embedded stats report them */
  vb_printf(b, ",\"index_tombstones\":%llu,\"vector_bytes\":%llu,\"index_bytes\":%llu,\"other_bytes\":%llu}",
            (unsigned long long)st->index_tombstones, (unsigned long long)st->vector_bytes,
            (unsigned long long)st->index_bytes, (unsigned long long)st->other_bytes);
}

static void h_coll_create(vs_req *q) {
  cJSON *j = NULL;
  vs_create_req req;
  vs_summary s;
  vs_err e;
  if (!no_query(q) || !parse_body(q, &j)) return;
  if (vs_decode_create(j, &q->srv->cfg.lim, &req, &e) != VALORI_OK ||
      vs_coll_create(q->srv->reg, &req, &s, &e) != VALORI_OK) {
    cJSON_Delete(j);
    vs_reply_error(q, &e);
    return;
  }
  cJSON_Delete(j);
  write_describe(&q->out, &s, vs_coll_disk_bytes(q->srv->reg, s.name));
  reply_json(q, 201);
}

typedef struct list_ctx {
  vbuf *b;
  int n;
  char last[VS_MAX_NAME + 1];
} list_ctx;

static void list_cb(void *arg, const vs_summary *s) {
  list_ctx *l = (list_ctx *)arg;
  vbuf *b = l->b;
  if (l->n++) vb_puts(b, ",");
  vb_puts(b, "{\"name\":");
  vb_json_str(b, s->name);
  if (s->known) {
    vb_printf(b, ",\"dim\":%u,\"metric\":\"%s\",\"index\":\"%s\",\"records\":%llu,\"height\":%llu,\"root\":", s->st.dim,
              metric_name(s->st.metric), index_name(s->st.index), (unsigned long long)s->st.records,
              (unsigned long long)s->st.height);
    vb_json_hex(b, s->root, 32);
  } else {
    vb_puts(b, ",\"error\":");
    vb_json_str(b, vs_code_name(s->last_error));
  }
  vb_puts(b, "}");
  snprintf(l->last, sizeof l->last, "%s", s->name);
}

static void h_coll_list(vs_req *q) {
  static const char *const allowed[] = {"limit", "after", NULL};
  const char *lim = vs_query(q, "limit"), *after = vs_query(q, "after");
  uint64_t limit = 1000;
  list_ctx l;
  int more = 0;
  vs_err e;
  if (vs_query_check(q, allowed, &e) != VALORI_OK) {
    vs_reply_error(q, &e);
    return;
  }
  if (lim && (!vs_parse_u64_text(lim, strlen(lim), &limit) || limit < 1 || limit > 10000)) {
    vs_reply_code(q, VALORI_EINVAL, "limit: expected 1..10000");
    return;
  }
  memset(&l, 0, sizeof l);
  l.b = &q->out;
  vb_puts(&q->out, "{\"collections\":[");
  vs_reg_list(q->srv->reg, after, (uint32_t)limit, list_cb, &l, &more);
  vb_puts(&q->out, "],\"next\":");
  if (more) vb_json_str(&q->out, l.last);
  else vb_puts(&q->out, "null");
  vb_puts(&q->out, "}");
  reply_json(q, 200);
}

static void h_coll_get(vs_req *q) {
  vs_coll *c;
  vs_summary s;
  if (!no_query(q) || !acquire(q, &c)) return;
  vs_coll_summary(c, &s);
  release(q, c);
  write_describe(&q->out, &s, vs_coll_disk_bytes(q->srv->reg, s.name));
  reply_json(q, 200);
}

static void h_coll_delete(vs_req *q) {
  vs_err e;
  if (!no_query(q)) return;
  if (vs_coll_delete(q->srv->reg, seg(q, 2), &e) != VALORI_OK) {
    vs_reply_error(q, &e);
    return;
  }
  vb_puts(&q->out, "{\"deleted\":");
  vb_json_str(&q->out, seg(q, 2));
  vb_puts(&q->out, "}");
  reply_json(q, 200);
}

/* ---- records */

/* want_first (batches; 0 = any): apply only if the batch's first id would be want_first, so that
** a client resuming an import can never add a batch twice (docs/HTTP.md section 7, `first_id`). */
static void insert_records(vs_req *q, vs_coll *c, vs_records *r, int single, uint64_t want_first) {
  uint64_t first = 0;
  int rc;
  vs_coll_wrlock(c);
  if (want_first) {
    valori_stats st;
    if (valori_stats_get(vs_coll_db(c), &st) == VALORI_OK && st.next_record_id != want_first) {
      vs_coll_unlock(c);
      vs_reply_code(q, VALORI_EEXIST, "first_id: the batch would get ids from %llu, not %llu",
                    (unsigned long long)st.next_record_id, (unsigned long long)want_first);
      return;
    }
  }
  if (single)
    rc = valori_insert(vs_coll_db(c), r->vecs, r->tags[0], r->metas ? r->metas[0] : NULL, r->meta_lens ? r->meta_lens[0] : 0,
                       &first);
  else
    rc = valori_insert_batch(vs_coll_db(c), r->n, r->vecs, r->tags, r->has_meta ? (const void *const *)r->metas : NULL,
                             r->has_meta ? r->meta_lens : NULL, &first);
  if (rc != VALORI_OK) vs_coll_write_failed(c);
  if (rc == VALORI_OK) {
    uint64_t h;
    uint8_t root[32];
    vs_coll_wrote(c, &h, root);
    vs_coll_unlock(c);
    if (single) {
      write_ack(&q->out, "id", first, h, root);
    } else {
      vb_puts(&q->out, "{\"first_id\":");
      vb_json_u64str(&q->out, first);
      vb_printf(&q->out, ",\"count\":%zu,\"height\":%llu,\"root\":", r->n, (unsigned long long)h);
      vb_json_hex(&q->out, root, 32);
    }
    vb_puts(&q->out, "}");
    reply_json(q, 201);
    vs_reply_when_durable(q, c, h);
    return;
  }
  vs_coll_unlock(c);
  vs_reply_code(q, rc, "%s", valori_strerror(rc));
}

static void h_rec_insert(vs_req *q) {
  vs_coll *c;
  cJSON *j = NULL;
  vs_records r;
  vs_err e;
  if (!no_query(q) || !parse_body(q, &j)) return;
  if (!acquire(q, &c)) {
    cJSON_Delete(j);
    return;
  }
  if (vs_decode_insert(j, coll_dim(c), &r, &e) != VALORI_OK) {
    vs_reply_error(q, &e);
  } else {
    insert_records(q, c, &r, 1, 0);
    vs_records_free(&r);
  }
  cJSON_Delete(j);
  release(q, c);
}

static void h_rec_batch(vs_req *q) {
  static const char *const allowed[] = {"first_id", NULL};
  const char *want = vs_query(q, "first_id");
  uint64_t want_first = 0;
  vs_coll *c;
  vs_records r;
  vs_err e;
  int rc;
  cJSON *j = NULL;
  if (vs_query_check(q, allowed, &e) != VALORI_OK) {
    vs_reply_error(q, &e);
    return;
  }
  if (want && (!vs_parse_u64_text(want, strlen(want), &want_first) || want_first == 0)) {
    vs_reply_code(q, VALORI_EINVAL, "first_id: expected a decimal number in 1..18446744073709551615");
    return;
  }
  if (q->body_kind == VS_BODY_JSON && !parse_body(q, &j)) return;
  if (!acquire(q, &c)) {
    cJSON_Delete(j);
    return;
  }
  if (q->body_kind == VS_BODY_JSON) rc = vs_decode_batch(j, coll_dim(c), q->srv->cfg.lim.max_batch, &r, &e);
  else
    rc = vs_decode_binary((const uint8_t *)q->body.p, q->body.len, coll_dim(c), q->srv->cfg.lim.max_batch, &r, &e);
  cJSON_Delete(j);
  if (rc != VALORI_OK) vs_reply_error(q, &e);
  else {
    insert_records(q, c, &r, 0, want_first);
    vs_records_free(&r);
  }
  release(q, c);
}

static void h_rec_get(vs_req *q) {
  vs_coll *c;
  uint64_t id, tag = 0, node = 0, h;
  int32_t *vec;
  uint8_t *meta;
  size_t mlen = 0;
  uint32_t dim, i;
  int rc, has_node;
  vs_summary s;
  if (!no_query(q) || !path_id(q, 4, "record", &id) || !acquire(q, &c)) return;
  dim = coll_dim(c);
  vec = (int32_t *)malloc((size_t)dim * sizeof(int32_t));
  meta = (uint8_t *)malloc(VALORI_MAX_META);
  if (!vec || !meta) {
    free(vec);
    free(meta);
    release(q, c);
    vs_reply_code(q, VALORI_ENOMEM, "out of memory");
    return;
  }
  if (!rdlock(q, c)) {
    free(vec);
    free(meta);
    release(q, c);
    return;
  }
  rc = valori_get_q16(vs_coll_db(c), id, vec);
  if (rc == VALORI_OK) rc = valori_get(vs_coll_db(c), id, NULL, &tag, meta, VALORI_MAX_META, &mlen);
  has_node = rc == VALORI_OK && valori_node_of_record(vs_coll_db(c), id, &node) == VALORI_OK;
  vs_coll_summary(c, &s);
  h = s.st.height;
  vs_coll_unlock(c);
  release(q, c);
  if (rc == VALORI_ENOTFOUND) vs_reply_code(q, rc, "no record %llu", (unsigned long long)id);
  else if (rc != VALORI_OK) vs_reply_code(q, rc, "%s", valori_strerror(rc));
  else {
    vb_puts(&q->out, "{\"id\":");
    vb_json_u64str(&q->out, id);
    vb_puts(&q->out, ",\"vector\":[");
    for (i = 0; i < dim; i++) {
      if (i) vb_puts(&q->out, ",");
      vb_json_q16(&q->out, vec[i]);
    }
    vb_puts(&q->out, "],\"tag\":");
    vb_json_u64str(&q->out, tag);
    vb_puts(&q->out, ",\"meta\":");
    if (mlen) vb_json_base64(&q->out, meta, mlen);
    else vb_puts(&q->out, "null");
    vb_puts(&q->out, ",\"node\":");
    if (has_node) vb_json_u64str(&q->out, node);
    else vb_puts(&q->out, "null");
    vb_printf(&q->out, ",\"height\":%llu}", (unsigned long long)h);
    reply_json(q, 200);
  }
  free(vec);
  free(meta);
}

/* All given fields in one event (valori_update_record): all or nothing. */
static int apply_update(valori_db *db, uint64_t id, const vs_update_req *u) {
  valori_update_fields f;
  memset(&f, 0, sizeof f);
  if (u->fields & VS_UPD_VECTOR) f.fields |= VALORI_UPDATE_VECTOR;
  if (u->fields & VS_UPD_TAG) f.fields |= VALORI_UPDATE_TAG;
  if (u->fields & VS_UPD_META) f.fields |= VALORI_UPDATE_META;
  f.vec = u->vec;
  f.tag = u->tag;
  f.meta = u->meta;
  f.meta_len = u->meta_len;
  return valori_update_record(db, id, &f);
}

static void h_rec_update(vs_req *q) {
  vs_coll *c;
  cJSON *j = NULL;
  vs_update_req u;
  vs_err e;
  uint64_t id;
  int rc;
  if (!no_query(q) || !path_id(q, 4, "record", &id) || !parse_body(q, &j)) return;
  if (!acquire(q, &c)) {
    cJSON_Delete(j);
    return;
  }
  rc = vs_decode_update(j, coll_dim(c), &u, &e);
  cJSON_Delete(j);
  if (rc != VALORI_OK) {
    vs_reply_error(q, &e);
    release(q, c);
    return;
  }
  vs_coll_wrlock(c);
  rc = apply_update(vs_coll_db(c), id, &u);
  if (rc == VALORI_OK) write_done(q, c, 200, "id", id);
  else vs_coll_write_failed(c);
  vs_coll_unlock(c);
  vs_update_free(&u);
  if (rc == VALORI_OK) vs_reply_when_durable(q, c, q->w.height);
  else if (rc == VALORI_ENOTFOUND) vs_reply_code(q, rc, "no record %llu", (unsigned long long)id);
  else vs_reply_code(q, rc, "%s", valori_strerror(rc));
  release(q, c);
}

/* DELETE of a record, node or edge: one id event. */
static void delete_by_id(vs_req *q, const char *what, int (*fn)(valori_db *, uint64_t)) {
  vs_coll *c;
  uint64_t id;
  int rc;
  if (!no_query(q) || !path_id(q, 4, what, &id) || !acquire(q, &c)) return;
  vs_coll_wrlock(c);
  rc = fn(vs_coll_db(c), id);
  if (rc == VALORI_OK) write_done(q, c, 200, "id", id);
  else vs_coll_write_failed(c);
  vs_coll_unlock(c);
  if (rc == VALORI_OK) vs_reply_when_durable(q, c, q->w.height);
  else if (rc == VALORI_ENOTFOUND) vs_reply_code(q, rc, "no %s %llu", what, (unsigned long long)id);
  else vs_reply_code(q, rc, "%s", valori_strerror(rc));
  release(q, c);
}

static void h_rec_delete(vs_req *q) { delete_by_id(q, "record", valori_delete); }
static void h_node_delete(vs_req *q) { delete_by_id(q, "node", valori_node_delete); }
static void h_edge_delete(vs_req *q) { delete_by_id(q, "edge", valori_edge_delete); }

/* ---- search and graph reads */

static void write_reach(vbuf *b, const valori_reach *n, size_t count) {
  size_t i;
  vb_puts(b, "[");
  for (i = 0; i < count; i++) {
    vb_puts(b, i ? ",{\"node\":" : "{\"node\":");
    vb_json_u64str(b, n[i].node_id);
    vb_puts(b, ",\"via\":");
    vb_json_u64str(b, n[i].via_edge);
    vb_printf(b, ",\"depth\":%u}", n[i].depth);
  }
  vb_puts(b, "]");
}

static void h_search(vs_req *q) {
  vs_coll *c;
  cJSON *j = NULL;
  vs_search_req sr;
  vs_err e;
  valori_hit *hits;
  valori_reach *nodes = NULL;
  uint8_t *meta = NULL;
  size_t nh = 0, nn = 0, i;
  valori_searcher *se;
  uint64_t h;
  int rc;
  vs_summary s;
  if (!no_query(q) || !parse_body(q, &j)) return;
  if (!acquire(q, &c)) {
    cJSON_Delete(j);
    return;
  }
  rc = vs_decode_search(j, coll_dim(c), &q->srv->cfg.lim, &sr, &e);
  cJSON_Delete(j);
  if (rc != VALORI_OK) {
    vs_reply_error(q, &e);
    release(q, c);
    return;
  }
  hits = (valori_hit *)malloc(sr.p.k * sizeof *hits);
  if (sr.expand) nodes = (valori_reach *)malloc(sr.max_nodes * sizeof *nodes);
  if (sr.with_meta) meta = (uint8_t *)malloc(VALORI_MAX_META);
  if (!hits || (sr.expand && !nodes) || (sr.with_meta && !meta)) {
    vs_reply_code(q, VALORI_ENOMEM, "out of memory");
    goto out;
  }
  if (!rdlock(q, c)) goto out;
  se = vs_coll_searcher_get(c);
  if (sr.expand)
    rc = valori_search_expand(vs_coll_db(c), se, sr.vec, &sr.p, sr.hops, sr.dir, sr.max_nodes, hits, &nh, nodes,
                              sr.max_nodes, &nn);
  else
    rc = valori_search(vs_coll_db(c), se, sr.vec, &sr.p, hits, &nh);
  vs_coll_searcher_put(c, se);
  if (rc == VALORI_OK) {
    vb_puts(&q->out, "{\"hits\":[");
    for (i = 0; i < nh; i++) {
      uint64_t tag = 0;
      size_t ml = 0;
      valori_get(vs_coll_db(c), hits[i].id, NULL, &tag, meta, meta ? VALORI_MAX_META : 0, &ml);
      vb_puts(&q->out, i ? ",{\"id\":" : "{\"id\":");
      vb_json_u64str(&q->out, hits[i].id);
      vb_puts(&q->out, ",\"distance\":");
      vb_json_double(&q->out, (double)hits[i].distance / 4294967296.0);
      vb_puts(&q->out, ",\"distance_raw\":");
      vb_json_i64str(&q->out, hits[i].distance);
      vb_puts(&q->out, ",\"tag\":");
      vb_json_u64str(&q->out, tag);
      if (sr.with_meta) {
        vb_puts(&q->out, ",\"meta\":");
        if (ml) vb_json_base64(&q->out, meta, ml);
        else vb_puts(&q->out, "null");
      }
      vb_puts(&q->out, "}");
    }
    vb_puts(&q->out, "]");
    if (sr.expand) {
      vb_puts(&q->out, ",\"nodes\":");
      write_reach(&q->out, nodes, nn < sr.max_nodes ? nn : sr.max_nodes);
    }
  }
  vs_coll_summary(c, &s);
  h = s.st.height;
  vs_coll_unlock(c);
  if (rc == VALORI_OK) {
    vb_printf(&q->out, ",\"height\":%llu}", (unsigned long long)h);
    reply_json(q, 200);
  } else if (rc == VALORI_EINVAL && sr.p.mode == VALORI_SEARCH_HNSW) {
    vs_reply_code(q, rc, "mode: \"hnsw\" needs an HNSW index; this collection has none");
  } else {
    vs_reply_code(q, rc, "%s", valori_strerror(rc));
  }
out:
  free(hits);
  free(nodes);
  free(meta);
  vs_search_free(&sr);
  release(q, c);
}

static void h_expand(vs_req *q) {
  vs_coll *c;
  cJSON *j = NULL;
  vs_expand_req x;
  vs_err e;
  valori_reach *nodes;
  size_t nn = 0;
  uint64_t h;
  int rc;
  vs_summary s;
  if (!no_query(q) || !parse_body(q, &j)) return;
  rc = vs_decode_expand(j, &x, &e);
  cJSON_Delete(j);
  if (rc != VALORI_OK) {
    vs_reply_error(q, &e);
    return;
  }
  if (!acquire(q, &c)) {
    vs_expand_free(&x);
    return;
  }
  nodes = (valori_reach *)malloc(x.max_nodes * sizeof *nodes);
  if (!nodes) {
    vs_reply_code(q, VALORI_ENOMEM, "out of memory");
  } else if (rdlock(q, c)) {
    rc = valori_expand(vs_coll_db(c), x.seeds, x.nseeds, x.hops, x.dir, x.max_nodes, nodes, x.max_nodes, &nn);
    vs_coll_summary(c, &s);
    h = s.st.height;
    if (rc == VALORI_ENOTFOUND) {
      size_t i;
      for (i = 0; i < x.nseeds; i++)
        if (valori_node_get(vs_coll_db(c), x.seeds[i], NULL, NULL, 0, NULL) == VALORI_ENOTFOUND) break;
      vs_reply_code(q, rc, "no node %llu", (unsigned long long)(i < x.nseeds ? x.seeds[i] : 0));
    }
    vs_coll_unlock(c);
    if (rc == VALORI_OK) {
      vb_puts(&q->out, "{\"nodes\":");
      write_reach(&q->out, nodes, nn < x.max_nodes ? nn : x.max_nodes);
      vb_printf(&q->out, ",\"visited\":%zu,\"height\":%llu}", nn, (unsigned long long)h);
      reply_json(q, 200);
    } else if (rc != VALORI_ENOTFOUND) {
      vs_reply_code(q, rc, "%s", valori_strerror(rc));
    }
  }
  free(nodes);
  vs_expand_free(&x);
  release(q, c);
}

static void h_node_create(vs_req *q) {
  vs_coll *c;
  cJSON *j = NULL;
  vs_node_req n;
  vs_err e;
  uint64_t id = 0;
  int rc;
  if (!no_query(q) || !parse_body(q, &j)) return;
  rc = vs_decode_node(j, &n, &e);
  cJSON_Delete(j);
  if (rc != VALORI_OK) {
    vs_reply_error(q, &e);
    return;
  }
  if (!acquire(q, &c)) {
    vs_node_free(&n);
    return;
  }
  vs_coll_wrlock(c);
  rc = valori_node_create(vs_coll_db(c), n.kind, n.record, n.label, n.label_len, &id);
  if (rc == VALORI_OK) write_done(q, c, 201, "id", id);
  else vs_coll_write_failed(c);
  vs_coll_unlock(c);
  if (rc == VALORI_OK) vs_reply_when_durable(q, c, q->w.height);
  else if (rc == VALORI_EEXIST) vs_reply_code(q, rc, "record %llu already has a node", (unsigned long long)n.record);
  else if (rc == VALORI_ENOTFOUND) vs_reply_code(q, rc, "no record %llu", (unsigned long long)n.record);
  else vs_reply_code(q, rc, "%s", valori_strerror(rc));
  vs_node_free(&n);
  release(q, c);
}

static void h_node_get(vs_req *q) {
  vs_coll *c;
  uint64_t id, h;
  valori_node n;
  uint8_t *label;
  size_t ll = 0;
  int rc;
  vs_summary s;
  if (!no_query(q) || !path_id(q, 4, "node", &id) || !acquire(q, &c)) return;
  label = (uint8_t *)malloc(VALORI_MAX_META);
  if (!label) {
    release(q, c);
    vs_reply_code(q, VALORI_ENOMEM, "out of memory");
    return;
  }
  if (!rdlock(q, c)) {
    free(label);
    release(q, c);
    return;
  }
  rc = valori_node_get(vs_coll_db(c), id, &n, label, VALORI_MAX_META, &ll);
  vs_coll_summary(c, &s);
  h = s.st.height;
  vs_coll_unlock(c);
  release(q, c);
  if (rc == VALORI_ENOTFOUND) vs_reply_code(q, rc, "no node %llu", (unsigned long long)id);
  else if (rc != VALORI_OK) vs_reply_code(q, rc, "%s", valori_strerror(rc));
  else {
    vb_puts(&q->out, "{\"id\":");
    vb_json_u64str(&q->out, id);
    vb_printf(&q->out, ",\"kind\":%u,\"record\":", n.kind);
    if (n.record_id) vb_json_u64str(&q->out, n.record_id);
    else vb_puts(&q->out, "null");
    vb_puts(&q->out, ",\"label\":");
    if (ll) vb_json_base64(&q->out, label, ll);
    else vb_puts(&q->out, "null");
    vb_printf(&q->out, ",\"height\":%llu}", (unsigned long long)h);
    reply_json(q, 200);
  }
  free(label);
}

static void h_neighbors(vs_req *q) {
  static const char *const allowed[] = {"dir", "kind", "limit", NULL};
  const char *d = vs_query(q, "dir"), *k = vs_query(q, "kind"), *l = vs_query(q, "limit");
  uint32_t dir = VALORI_DIR_OUT, kind = 0;
  uint64_t limit = 1000, id, h, v;
  valori_edge *edges;
  size_t total = 0, i;
  vs_coll *c;
  vs_err e;
  int rc;
  vs_summary s;
  if (vs_query_check(q, allowed, &e) != VALORI_OK) {
    vs_reply_error(q, &e);
    return;
  }
  if (d && !vs_parse_dir(d, &dir)) {
    vs_reply_code(q, VALORI_EINVAL, "dir: expected out, in or both");
    return;
  }
  if (k) {
    if (!vs_parse_u64_text(k, strlen(k), &v) || v > UINT32_MAX) {
      vs_reply_code(q, VALORI_EINVAL, "kind: expected 0..4294967295");
      return;
    }
    kind = (uint32_t)v;
  }
  if (l && (!vs_parse_u64_text(l, strlen(l), &limit) || limit < 1 || limit > VS_MAX_NEIGHBORS)) {
    vs_reply_code(q, VALORI_EINVAL, "limit: expected 1..%u", VS_MAX_NEIGHBORS);
    return;
  }
  if (!path_id(q, 4, "node", &id) || !acquire(q, &c)) return;
  edges = (valori_edge *)malloc((size_t)limit * sizeof *edges);
  if (!edges) {
    release(q, c);
    vs_reply_code(q, VALORI_ENOMEM, "out of memory");
    return;
  }
  if (!rdlock(q, c)) {
    free(edges);
    release(q, c);
    return;
  }
  rc = valori_neighbors(vs_coll_db(c), id, dir, k ? &kind : NULL, edges, (size_t)limit, &total);
  vs_coll_summary(c, &s);
  h = s.st.height;
  vs_coll_unlock(c);
  release(q, c);
  if (rc == VALORI_ENOTFOUND) vs_reply_code(q, rc, "no node %llu", (unsigned long long)id);
  else if (rc != VALORI_OK) vs_reply_code(q, rc, "%s", valori_strerror(rc));
  else {
    size_t n = total < limit ? total : (size_t)limit;
    vb_puts(&q->out, "{\"edges\":[");
    for (i = 0; i < n; i++) {
      vb_puts(&q->out, i ? ",{\"id\":" : "{\"id\":");
      vb_json_u64str(&q->out, edges[i].id);
      vb_puts(&q->out, ",\"from\":");
      vb_json_u64str(&q->out, edges[i].from);
      vb_puts(&q->out, ",\"to\":");
      vb_json_u64str(&q->out, edges[i].to);
      vb_printf(&q->out, ",\"kind\":%u,\"weight\":", edges[i].kind);
      if (edges[i].has_weight) vb_json_q16(&q->out, edges[i].weight_q16);
      else vb_puts(&q->out, "null");
      vb_puts(&q->out, "}");
    }
    vb_printf(&q->out, "],\"total\":%zu,\"height\":%llu}", total, (unsigned long long)h);
    reply_json(q, 200);
  }
  free(edges);
}

static void h_edge_create(vs_req *q) {
  vs_coll *c;
  cJSON *j = NULL;
  vs_edge_req x;
  vs_err e;
  uint64_t id = 0;
  int rc;
  if (!no_query(q) || !parse_body(q, &j)) return;
  rc = vs_decode_edge(j, &x, &e);
  cJSON_Delete(j);
  if (rc != VALORI_OK) {
    vs_reply_error(q, &e);
    return;
  }
  if (!acquire(q, &c)) return;
  vs_coll_wrlock(c);
  rc = valori_edge_create(vs_coll_db(c), x.from, x.to, x.kind, x.has_weight ? &x.weight : NULL, &id);
  if (rc == VALORI_OK) write_done(q, c, 201, "id", id);
  else vs_coll_write_failed(c);
  if (rc == VALORI_ENOTFOUND) {
    uint64_t missing = valori_node_get(vs_coll_db(c), x.from, NULL, NULL, 0, NULL) == VALORI_ENOTFOUND ? x.from : x.to;
    vs_reply_code(q, rc, "no node %llu", (unsigned long long)missing);
  }
  vs_coll_unlock(c);
  if (rc == VALORI_OK) vs_reply_when_durable(q, c, q->w.height);
  else if (rc != VALORI_ENOTFOUND) vs_reply_code(q, rc, "%s", valori_strerror(rc));
  release(q, c);
}

/* ---- state, snapshots, checkpoint, verify, events */

static void h_state(vs_req *q) {
  vs_coll *c;
  uint8_t root[32], dig[32];
  vs_summary s;
  if (!no_query(q) || !acquire(q, &c)) return;
  if (!rdlock(q, c)) {
    release(q, c);
    return;
  }
  valori_state_root(vs_coll_db(c), root);
  valori_index_digest(vs_coll_db(c), dig);
  vs_coll_summary(c, &s);
  vs_coll_unlock(c);
  release(q, c);
  vb_printf(&q->out, "{\"height\":%llu,\"root\":", (unsigned long long)s.st.height);
  vb_json_hex(&q->out, root, 32);
  vb_puts(&q->out, ",\"index_digest\":");
  vb_json_hex(&q->out, dig, 32);
  vb_printf(&q->out, ",\"durable_height\":%llu,\"snapshot_height\":%llu}", (unsigned long long)s.durable_height,
            (unsigned long long)s.snapshot_height);
  reply_json(q, 200);
}

static void h_snapshot(vs_req *q) {
  vs_coll *c;
  vs_err e;
  int fd;
  uint64_t size, h;
  uint8_t root[32], chain[32];
  char hex[65], num[24];
  if (!no_query(q) || !acquire(q, &c)) return;
  if (vs_coll_snapshot_file(q->srv->reg, c, &fd, &size, &h, root, chain, &e) != VALORI_OK) {
    release(q, c);
    vs_reply_error(q, &e);
    return;
  }
  release(q, c);
  q->fd = fd;
  q->fd_size = size;
  q->status = 200;
  q->ctype = "application/vnd.valori.snapshot";
  snprintf(num, sizeof num, "%llu", (unsigned long long)h);
  vs_hex(hex, root, 32);
  vs_header(q, "X-Valori-Height", num);
  vs_header(q, "X-Valori-Root", hex);
}

static void h_checkpoint(vs_req *q) {
  vs_coll *c;
  vs_err e;
  uint64_t sh = 0;
  vs_summary s;
  if (!no_query(q) || !acquire(q, &c)) return;
  if (vs_coll_checkpoint(q->srv->reg, c, &sh, &e) != VALORI_OK) {
    release(q, c);
    vs_reply_error(q, &e);
    return;
  }
  vs_coll_summary(c, &s);
  release(q, c);
  vb_printf(&q->out, "{\"snapshot_height\":%llu,\"height\":%llu,\"root\":", (unsigned long long)sh,
            (unsigned long long)s.st.height);
  vb_json_hex(&q->out, s.root, 32);
  vb_puts(&q->out, "}");
  reply_json(q, 200);
}

static void h_verify(vs_req *q) {
  vs_coll *c;
  vs_err e;
  uint64_t lh = 0;
  uint8_t root[32];
  valori_recovery rep;
  vs_summary s;
  if (!no_query(q) || !acquire(q, &c)) return;
  memset(&rep, 0, sizeof rep);
  if (vs_coll_verify(q->srv->reg, c, &lh, root, &rep, &e) != VALORI_OK) {
    release(q, c);
    vs_reply_error(q, &e);
    return;
  }
  vs_coll_summary(c, &s);
  release(q, c);
  vb_printf(&q->out, "{\"ok\":true,\"height\":%llu,\"root\":", (unsigned long long)s.st.height);
  vb_json_hex(&q->out, root, 32);
  vb_printf(&q->out, ",\"log_height\":%llu,\"segments\":%u,\"replayed\":%llu}", (unsigned long long)lh, rep.segments,
            (unsigned long long)rep.replayed);
  reply_json(q, 200);
}

static void h_events(vs_req *q) {
  vs_coll *c;
  uint64_t id = 0;
  int rc;
  if (!no_query(q) || !acquire(q, &c)) return;
  if (q->body.len == 0) {
    release(q, c);
    vs_reply_code(q, VS_EBINARY, "the body must be one encoded event");
    return;
  }
  vs_coll_wrlock(c);
  rc = valori_apply(vs_coll_db(c), (const uint8_t *)q->body.p, q->body.len, &id);
  if (rc == VALORI_OK) write_done(q, c, 201, "id", id);
  else vs_coll_write_failed(c);
  vs_coll_unlock(c);
  if (rc == VALORI_OK) vs_reply_when_durable(q, c, q->w.height);
  else if (rc == VALORI_ECORRUPT) /* bad input here, not damaged data */
    vs_reply_code(q, VS_EBINARY, "the body is not a well-formed event (docs/FORMAT.md, Events)");
  else vs_reply_code(q, rc, "%s", valori_strerror(rc));
  release(q, c);
}

/* ---- server endpoints */

static void h_healthz(vs_req *q) {
  vb_puts(&q->out, "{\"status\":\"ok\"}");
  reply_json(q, 200);
}

static void h_readyz(vs_req *q) {
  uint64_t n = 0, open = 0;
  if (q->srv->stopping || !q->srv->ready) {
    vb_printf(&q->out, "{\"status\":\"%s\"}", q->srv->stopping ? "stopping" : "starting");
    reply_json(q, 503);
    return;
  }
  vs_reg_counts(q->srv->reg, &n, &open);
  vb_printf(&q->out, "{\"status\":\"ready\",\"collections\":%llu}", (unsigned long long)n);
  reply_json(q, 200);
}

static void h_info(vs_req *q) {
  const vs_config *c = &q->srv->cfg;
  if (!no_query(q)) return;
  vb_printf(&q->out,
            "{\"version\":\"%s\",\"auth\":%s,\"limits\":{\"max_body\":%llu,\"max_batch\":%u,\"max_k\":%u,\"max_ef\":%u,"
            "\"max_dim\":%u,\"max_meta\":%d,\"max_tags\":%d,\"max_hops\":%d,\"max_collections\":%u}}",
            VALORI_VERSION_STRING, q->srv->ntokens ? "true" : "false", (unsigned long long)c->max_body, c->lim.max_batch,
            c->lim.max_k, c->lim.max_ef, c->lim.max_dim, VALORI_MAX_META, VALORI_MAX_TAGS, VALORI_MAX_HOPS,
            c->max_collections);
  reply_json(q, 200);
}

/* GET /v1/constants: valori_constants_json() unchanged, plus the server's codes (docs/HTTP.md,
** section 12), so clients take every number from here. */
static void h_constants(vs_req *q) {
  const char *c = valori_constants_json();
  size_t n = strlen(c);
  if (!no_query(q)) return;
  while (n && c[n - 1] != '}') n--; /* the object's closing brace */
  if (!n) {
    vs_err e;
    vs_fail(&e, VALORI_EINVAL, "the library's constants are not a JSON object");
    vs_reply_error(q, &e);
    return;
  }
  vb_printf(&q->out, "%.*s,\"server_codes\":{", (int)(n - 1), c);
#define VS_X_CODE(name, num, status) vb_printf(&q->out, "%s\"" #name "\":%d", num == VS_EJSON ? "" : ",", num);
  VS_SERVER_CODES(VS_X_CODE)
#undef VS_X_CODE
  vb_puts(&q->out, "}}");
  reply_json(q, 200);
}

typedef struct metrics_ctx {
  vbuf rec, height, disk, age_ev, age_s;
  uint64_t total_records, total_disk;
} metrics_ctx;

static void label(vbuf *b, const char *metric, const char *name) {
  vb_printf(b, "%s{collection=\"%s\"} ", metric, name); /* names are [A-Za-z0-9_-]: nothing to escape */
}

static void metrics_cb(void *arg, const vs_summary *s, uint64_t disk, double age) {
  metrics_ctx *m = (metrics_ctx *)arg;
  m->total_disk += disk;
  label(&m->disk, "valori_collection_disk_bytes", s->name);
  vb_printf(&m->disk, "%llu\n", (unsigned long long)disk);
  if (!s->known) return;
  m->total_records += s->st.records;
  label(&m->rec, "valori_collection_records", s->name);
  vb_printf(&m->rec, "%llu\n", (unsigned long long)s->st.records);
  label(&m->height, "valori_collection_height", s->name);
  vb_printf(&m->height, "%llu\n", (unsigned long long)s->st.height);
  label(&m->age_ev, "valori_collection_snapshot_age_events", s->name);
  vb_printf(&m->age_ev, "%llu\n", (unsigned long long)(s->st.height - s->snapshot_height));
  if (age >= 0) {
    label(&m->age_s, "valori_collection_snapshot_age_seconds", s->name);
    vb_printf(&m->age_s, "%.0f\n", age);
  }
}

static void gauge(vbuf *b, const char *name, const char *help, const vbuf *body) {
  vb_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
  if (body->len) vb_put(b, body->p, body->len);
}

static void h_metrics(vs_req *q) {
  metrics_ctx m;
  uint64_t n = 0, open = 0;
  if (!no_query(q)) return;
  memset(&m, 0, sizeof m);
  vs_metrics_write(&q->out, q->srv->ready && !q->srv->stopping);
  vs_reg_counts(q->srv->reg, &n, &open);
  vs_reg_each(q->srv->reg, metrics_cb, &m);
  vb_printf(&q->out, "# HELP valori_collections Collections in the data directory\n# TYPE valori_collections gauge\n"
                     "valori_collections %llu\n",
            (unsigned long long)n);
  vb_printf(&q->out, "# HELP valori_collections_open Collections held open\n# TYPE valori_collections_open gauge\n"
                     "valori_collections_open %llu\n",
            (unsigned long long)open);
  vb_printf(&q->out, "# HELP valori_records Live records in all collections\n# TYPE valori_records gauge\n"
                     "valori_records %llu\n",
            (unsigned long long)m.total_records);
  vb_printf(&q->out, "# HELP valori_disk_bytes Bytes of all collections' files\n# TYPE valori_disk_bytes gauge\n"
                     "valori_disk_bytes %llu\n",
            (unsigned long long)m.total_disk);
  gauge(&q->out, "valori_collection_records", "Live records of a collection", &m.rec);
  gauge(&q->out, "valori_collection_height", "Height (events applied) of a collection", &m.height);
  gauge(&q->out, "valori_collection_disk_bytes", "Bytes of a collection's files", &m.disk);
  gauge(&q->out, "valori_collection_snapshot_age_events", "Height minus the newest snapshot's height", &m.age_ev);
  gauge(&q->out, "valori_collection_snapshot_age_seconds", "Seconds since the newest snapshot was written", &m.age_s);
  vs_repl_metrics(q->srv, &q->out); /* docs/REPLICATION.md section 11 */
  if (q->srv->fol) vs_follower_metrics(q->srv->fol, &q->out);
  vb_free(&m.rec);
  vb_free(&m.height);
  vb_free(&m.disk);
  vb_free(&m.age_ev);
  vb_free(&m.age_s);
  q->status = 200;
  q->ctype = "text/plain; version=0.0.4; charset=utf-8";
}

/* ---- static files and the status page */

static const char *ctype_for(const char *path) {
  static const struct {
    const char *ext, *type;
  } types[] = {{".html", "text/html; charset=utf-8"},
               {".js", "text/javascript; charset=utf-8"},
               {".mjs", "text/javascript; charset=utf-8"},
               {".wasm", "application/wasm"},
               {".css", "text/css; charset=utf-8"},
               {".png", "image/png"},
               {".json", "application/json"},
               {".svg", "image/svg+xml"},
               {".txt", "text/plain; charset=utf-8"}};
  const char *dot = strrchr(path, '.');
  size_t i;
  if (dot && !strchr(dot, '/'))
    for (i = 0; i < sizeof types / sizeof types[0]; i++)
      if (strcmp(dot, types[i].ext) == 0) return types[i].type;
  return "application/octet-stream";
}

static void status_page(vs_req *q) {
  uint64_t n = 0, open = 0;
  if (q->srv->reg) vs_reg_counts(q->srv->reg, &n, &open);
  vb_printf(&q->out,
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Valori</title></head><body>\n"
            "<h1>Valori %s</h1>\n<p>Status: %s. Collections: %llu (%llu open).</p>\n"
            "<p>API: <a href=\"/v1/collections\">/v1/collections</a>, <a href=\"/metrics\">/metrics</a>, "
            "<a href=\"/healthz\">/healthz</a>, <a href=\"/readyz\">/readyz</a>. Documentation: docs/HTTP.md.</p>\n"
            "</body></html>\n",
            VALORI_VERSION_STRING, q->srv->stopping ? "stopping" : q->srv->ready ? "ready" : "starting",
            (unsigned long long)n, (unsigned long long)open);
  q->status = 200;
  q->ctype = "text/html; charset=utf-8";
}

void vs_h_static(vs_req *q) {
  vs_server *s = q->srv;
  char path[8192], real[PATH_MAX];
  struct stat st;
  int i, fd;
  size_t rl;
  if (!s->static_real[0]) {
    if (q->nsegs == 0) status_page(q);
    else vs_reply_code(q, VS_ENOROUTE, "no endpoint GET %.200s", q->url);
    return;
  }
  for (i = 0; i < q->nsegs; i++)
    if (q->segs[i][0] == '.' || q->segs[i][0] == 0) {
      vs_reply_code(q, VS_ENOROUTE, "no file %.200s", q->url);
      return;
    }
  snprintf(path, sizeof path, "%s%s", s->static_real, q->nsegs == 0 ? "/index.html" : q->url);
  rl = strlen(s->static_real);
  if (!realpath(path, real) || strncmp(real, s->static_real, rl) != 0 || (real[rl] != '/' && real[rl] != 0) ||
      (fd = open(real, O_RDONLY | O_CLOEXEC)) < 0) {
    vs_reply_code(q, VS_ENOROUTE, "no file %.200s", q->url);
    return;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    vs_reply_code(q, VS_ENOROUTE, "no file %.200s", q->url);
    return;
  }
  q->fd = fd;
  q->fd_size = (uint64_t)st.st_size;
  q->status = 200;
  q->ctype = ctype_for(real);
}

/* ---- the route table (docs/HTTP.md); order matters only for the Allow header */

#define R(m, p, fn, auth, body, flags) {m, p, m " " p, fn, auth, body, flags}
#define RD (VS_RF_MINH | VS_RF_DATA)
const vs_route vs_routes[] = {
    R("GET", "/healthz", h_healthz, VS_AUTH_NONE, 0, 0),
    R("GET", "/readyz", h_readyz, VS_AUTH_NONE, 0, 0),
    R("GET", "/metrics", h_metrics, VS_AUTH_READ, 0, 0),
    R("GET", "/v1", h_info, VS_AUTH_READ, 0, 0),
    R("GET", "/v1/constants", h_constants, VS_AUTH_NONE, 0, 0),
    R("GET", "/v1/collections", h_coll_list, VS_AUTH_READ, 0, 0),
    R("POST", "/v1/collections", h_coll_create, VS_AUTH_WRITE, VS_BODY_JSON, 0),
    R("GET", "/v1/collections/{name}", h_coll_get, VS_AUTH_READ, 0, RD),
    R("DELETE", "/v1/collections/{name}", h_coll_delete, VS_AUTH_WRITE, 0, 0),
    R("POST", "/v1/collections/{name}/records", h_rec_insert, VS_AUTH_WRITE, VS_BODY_JSON, 0),
    R("POST", "/v1/collections/{name}/records/batch", h_rec_batch, VS_AUTH_WRITE, VS_BODY_JSON | VS_BODY_VECTORS, 0),
    R("GET", "/v1/collections/{name}/records/{id}", h_rec_get, VS_AUTH_READ, 0, RD),
    R("PATCH", "/v1/collections/{name}/records/{id}", h_rec_update, VS_AUTH_WRITE, VS_BODY_JSON, 0),
    R("DELETE", "/v1/collections/{name}/records/{id}", h_rec_delete, VS_AUTH_WRITE, 0, 0),
    R("POST", "/v1/collections/{name}/search", h_search, VS_AUTH_READ, VS_BODY_JSON, RD),
    R("POST", "/v1/collections/{name}/nodes", h_node_create, VS_AUTH_WRITE, VS_BODY_JSON, 0),
    R("GET", "/v1/collections/{name}/nodes/{id}", h_node_get, VS_AUTH_READ, 0, RD),
    R("DELETE", "/v1/collections/{name}/nodes/{id}", h_node_delete, VS_AUTH_WRITE, 0, 0),
    R("GET", "/v1/collections/{name}/nodes/{id}/neighbors", h_neighbors, VS_AUTH_READ, 0, RD),
    R("POST", "/v1/collections/{name}/edges", h_edge_create, VS_AUTH_WRITE, VS_BODY_JSON, 0),
    R("DELETE", "/v1/collections/{name}/edges/{id}", h_edge_delete, VS_AUTH_WRITE, 0, 0),
    R("POST", "/v1/collections/{name}/expand", h_expand, VS_AUTH_READ, VS_BODY_JSON, RD),
    R("GET", "/v1/collections/{name}/state", h_state, VS_AUTH_READ, 0, VS_RF_MINH),
    R("GET", "/v1/collections/{name}/snapshot", h_snapshot, VS_AUTH_READ, 0, VS_RF_DATA),
    R("POST", "/v1/collections/{name}/checkpoint", h_checkpoint, VS_AUTH_WRITE, 0, VS_RF_LOCAL),
    R("POST", "/v1/collections/{name}/verify", h_verify, VS_AUTH_WRITE, 0, VS_RF_LOCAL),
    R("POST", "/v1/collections/{name}/events", h_events, VS_AUTH_WRITE, VS_BODY_EVENT, 0),
    R("GET", "/v1/collections/{name}/replication", vs_h_repl_position, VS_AUTH_READ, 0, VS_RF_MINH),
    R("GET", "/v1/collections/{name}/replication/snapshot", vs_h_repl_snapshot, VS_AUTH_READ, 0, VS_RF_DATA),
    R("GET", "/v1/collections/{name}/replication/stream", vs_h_repl_stream, VS_AUTH_READ, 0, VS_RF_DATA),
    R("GET", "/v1/collections/{name}/replication/log", vs_h_repl_log, VS_AUTH_READ, 0, VS_RF_DATA),
    R("POST", "/v1/collections/{name}/replication/ack", vs_h_repl_ack, VS_AUTH_READ, VS_BODY_JSON, 0),
    R("POST", "/v1/collections/{name}/replication/rebootstrap", vs_h_repl_rebootstrap, VS_AUTH_WRITE, 0, VS_RF_LOCAL),
};
const int vs_nroutes = (int)(sizeof vs_routes / sizeof vs_routes[0]);
