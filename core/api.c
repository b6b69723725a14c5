/*
** api.c: the public C API (valori.h) over the engine and the durable store. Every mutation is
** encoded as one canonical event and passed through vl_db_submit, the single write path:
** engine apply (validates first; a rejected event changes nothing and is never logged), then log
** append and, in full sync mode, sync before the call returns. Reads go straight to the engine.
*/
#include "compact.h"
#include "db.h"
#include "engine_int.h"
#include "event.h"
#include "log.h"

#define VL_MAX_EXPAND (1u << 20)

struct valori_searcher {
  const valori_allocator *a;
  vl_scratch s;
  vl_cand *out;
  uint32_t out_cap;
};

/* The chain value after an event of an in-memory database, hashed on the engine's worker after the
** call that applied the event has returned (vl_db_submit): the event's bytes stay in the buffer
** they were encoded in, which the next event does not use. */
typedef struct chain_async {
  uint8_t prev[32], root[32];
  const uint8_t *ev;
  size_t len;
  uint64_t height;
  uint8_t *out; /* the database's chain */
} chain_async;

/* Event encoding buffers: writes are exclusive, so two per database are enough, ev[cur] for the next
** event and the other for the event whose chain may still be being hashed (pending). */
typedef struct vl_db_full {
  struct valori_db db;
  vl_buf ev[2];
  int cur;
  int pending; /* job runs or ran as the engine's async side work, not yet waited for */
  chain_async job;
} vl_db_full;

static vl_buf *evbuf(valori_db *db) {
  vl_db_full *f = (vl_db_full *)db;
  vl_buf *b = &f->ev[f->cur];
  b->len = 0;
  return b;
}

static void chain_async_run(void *arg) {
  chain_async *j = (chain_async *)arg;
  vl_chain_next(j->prev, j->height, j->root, j->ev, j->len, j->out);
}

/* vl_db_submit's hook: the event passed every check and its root is known; the commit follows. */
typedef struct chain_next_arg {
  valori_db *db;
  const uint8_t *ev;
  size_t len;
} chain_next_arg;

static void chain_start(void *arg, const uint8_t root[32]) {
  const chain_next_arg *next = (const chain_next_arg *)arg;
  valori_db *db = next->db;
  vl_db_full *f = (vl_db_full *)db;
  vl_db_chain_settle(db); /* the previous event's chain, whose job f->job still is (the apply
                          ** waited for it already, before its prediction) */
  f->job.ev = next->ev;
  f->job.len = next->len;
  f->job.height = vl_engine_height(db->e) + 1;
  memcpy(f->job.prev, db->chain, 32);
  memcpy(f->job.root, root, 32);
  f->job.out = db->chain;
  vl_engine_side_async(db->e, chain_async_run, &f->job);
  f->pending = 1;
}

void vl_db_chain_settle(valori_db *db) {
  vl_db_full *f = (vl_db_full *)db;
  if (!f->pending) return;
  vl_engine_side_wait(db->e);
  f->pending = 0;
}

void vl_db_chain_await(const valori_db *db) {
  const vl_db_full *f = (const vl_db_full *)db;
  if (f->pending) vl_engine_side_await(db->e);
}

void valori_options_init(valori_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o); /* HNSW parameters 0 = defaults (vl_config_from_options) */
  o->metric = VALORI_METRIC_L2;
  o->index = VALORI_INDEX_HNSW;
  o->sync_mode = VALORI_SYNC_FULL;
}

int valori_traversal_int8(float lo, float hi, uint32_t *out) {
  int32_t l, h;
  if (!out || valori_f32_to_q16(lo, &l) || valori_f32_to_q16(hi, &h) || l > h) return VALORI_EINVAL;
  *out = vl_trav_for_range(l, h);
  return VALORI_OK;
}

int vl_db_new(const valori_allocator *a, valori_db **out) {
  vl_db_full *f = (vl_db_full *)vl_calloc(a, 1, sizeof *f);
  if (!f) return VALORI_ENOMEM;
  f->db.a = a;
  f->db.chain_known = 1; /* zero bytes: the chain at height 0 */
  vl_buf_init(&f->ev[0], a);
  vl_buf_init(&f->ev[1], a);
  *out = &f->db;
  return VALORI_OK;
}

void vl_db_free(valori_db *db) {
  vl_db_full *f = (vl_db_full *)db;
  vl_engine_free(db->e); /* waits for a pending chain job (vl_par_free) */
  vl_buf_free(&f->ev[0]);
  vl_buf_free(&f->ev[1]);
  vl_free(db->a, f, sizeof *f);
}

int valori_open(const char *path, const valori_options *opt, valori_db **out) {
  const valori_allocator *a;
  valori_db *db;
  vl_config c;
  int rc;
  (void)path;
  if (!opt || !out || opt->sync_mode > VALORI_SYNC_RELAXED) return VALORI_EINVAL;
  if (opt->flags & ~(uint32_t)(VALORI_OPEN_CREATE | VALORI_OPEN_READONLY | VALORI_OPEN_THREADS)) return VALORI_EINVAL;
  a = opt->allocator ? opt->allocator : valori_libc_allocator();
  if (!a) return VALORI_EINVAL;
  VL_TRY(vl_config_from_options(opt, &c));
  VL_TRY(vl_db_new(a, &db));
  db->sync_mode = opt->sync_mode;
  db->readonly = (opt->flags & VALORI_OPEN_READONLY) != 0;
  if (!opt->vfs) {
    rc = vl_engine_new(a, &c, &db->e);
  } else {
    vl_store_opts so;
    vl_store_opts_resolve(opt, &so);
    rc = vl_store_open(a, opt->vfs, &c, &so, &db->store, &db->e);
  }
  if (!rc && (opt->flags & VALORI_OPEN_THREADS)) rc = vl_engine_set_threads(db->e, 1);
  if (rc) {
    if (db->store) (void)vl_store_close(db->store); /* opened, then no memory for the threads */
    vl_db_free(db);
    return rc;
  }
  *out = db;
  return VALORI_OK;
}

int vl_db_from_engine(const valori_allocator *a, vl_engine *e, const uint8_t chain[32], valori_db **out) {
  valori_db *db;
  VL_TRY(vl_db_new(a, &db));
  db->e = e;
  memcpy(db->chain, chain, 32);
  db->sync_mode = VALORI_SYNC_FULL;
  *out = db;
  return VALORI_OK;
}

int valori_close(valori_db *db) {
  int rc = VALORI_OK;
  if (!db) return VALORI_OK;
  if (db->store) rc = vl_store_close(db->store);
  vl_db_free(db);
  return rc;
}

int valori_flush(valori_db *db) {
  int rc;
  if (!db) return VALORI_EINVAL;
  if (!db->store) return VALORI_OK;
  if (VL_DB_POISONED(db)) return VALORI_EPOISONED;
  rc = vl_store_sync(db->store); /* a failure poisons the store */
  return rc;
}

/* The chain value after an event, computed alongside the engine's commit (VALORI_OPEN_THREADS):
** it needs the event's root and the chain before it, which the commit does not touch. */
typedef struct chain_job {
  const uint8_t *prev, *ev;
  size_t len;
  uint64_t height;
  uint8_t out[32];
} chain_job;

static void chain_side(void *arg, const uint8_t root[32]) {
  chain_job *j = (chain_job *)arg;
  vl_chain_next(j->prev, j->height, root, j->ev, j->len, j->out);
}

int vl_db_submit(valori_db *db, const uint8_t *ev, size_t len, uint64_t *out_id) {
  vl_db_full *f = (vl_db_full *)db;
  uint64_t id = 0;
  chain_job cj;
  int ran = 0;
  if (VL_DB_POISONED(db)) return VALORI_EPOISONED;
  if (db->readonly) return VALORI_EREADONLY;
  if (!db->store && db->chain_known && db->e->threads && len >= VL_PAR_MIN_SIDE_BYTES && ev == f->ev[f->cur].p) {
    /* in memory, a large event this database encoded: the chain is hashed on the worker while the
    ** caller goes on (the next event's encoding and checks), and waited for before anything reads it */
    chain_next_arg next;
    int rc;
    next.db = db;
    next.ev = ev;
    next.len = len;
    rc = vl_engine_apply_hook(db->e, ev, len, &id, chain_start, &next, &ran);
    if (rc) {
      if (ran) { /* the commit failed after the hash started: back to the chain before it */
        vl_db_chain_settle(db);
        memcpy(db->chain, f->job.prev, 32);
      }
      return rc;
    }
    f->cur ^= 1; /* the next event is encoded into the other buffer */
    if (out_id) *out_id = id;
    return VALORI_OK;
  }
  vl_db_chain_settle(db);
  cj.prev = db->store ? vl_store_chain(db->store, NULL) : db->chain_known ? db->chain : NULL;
  cj.ev = ev;
  cj.len = len;
  cj.height = vl_engine_height(db->e) + 1;
  VL_TRY(vl_engine_apply_side(db->e, ev, len, &id, cj.prev ? chain_side : NULL, &cj, &ran));
  VL_TRY(vl_db_logged(db, ev, len, ran ? cj.out : NULL));
  if (out_id) *out_id = id;
  return VALORI_OK;
}

int vl_db_logged(valori_db *db, const uint8_t *ev, size_t len, const uint8_t chain[32]) {
  uint8_t root[32];
  int rc;
  vl_engine_root(db->e, root);
  if (!db->store) {
    if (chain) memcpy(db->chain, chain, 32);
    else if (db->chain_known) vl_chain_next(db->chain, vl_engine_height(db->e), root, ev, len, db->chain);
    return VALORI_OK;
  }
  rc = vl_store_append_chained(db->store, ev, len, vl_engine_height(db->e), root, chain);
  if (!rc && db->sync_mode == VALORI_SYNC_FULL) rc = vl_store_sync(db->store);
  if (rc) {
    /* the engine is ahead of the durable log: every failed append or sync has poisoned the
    ** store, which refuses writes until reopen */
    (void)VL_ALWAYS(vl_store_poisoned(db->store));
    return rc;
  }
  /* never fails the durable write (its failures are in valori_store_status_get) */
  (void)VL_ALWAYS(vl_store_maybe_snapshot(db->store, db->e) == VALORI_OK);
  return VALORI_OK;
}

int valori_apply(valori_db *db, const uint8_t *event, size_t len, uint64_t *out_id) {
  if (!db || !event) return VALORI_EINVAL;
  return vl_db_submit(db, event, len, out_id);
}

/* ---- records */

int valori_insert(valori_db *db, const float *vec, uint64_t tag, const void *meta, size_t meta_len, uint64_t *out_id) {
  vl_buf *b;
  size_t mark;
  if (!db || !vec) return VALORI_EINVAL;
  b = evbuf(db);
  VL_TRY(vl_ev_begin(b, VALORI_OP_INSERT, &mark));
  VL_TRY(vl_ev_put_record(b, vec, db->e->cfg.dim, tag, meta, meta_len));
  vl_ev_end(b, mark);
  return vl_db_submit(db, b->p, b->len, out_id);
}

/* One half of a batch's records encoded (VALORI_OPEN_THREADS): records [from, to) written at
** base + their offsets, which the layout pass fixed; *bad / rc: the first record whose vector
** does not convert and its code (rc VALORI_OK: none). */
typedef struct enc_part {
  const float *vecs;
  const uint64_t *tags;
  const void *const *metas;
  const size_t *meta_lens;
  uint32_t dim;
  size_t from, to, bad, off;
  uint8_t *base;
  int rc;
} enc_part;

static void enc_records(void *arg) {
  enc_part *t = (enc_part *)arg;
  uint8_t *p = t->base + t->off;
  size_t i;
  t->rc = VALORI_OK;
  for (i = t->from; i < t->to; i++) {
    const size_t ml = t->meta_lens ? t->meta_lens[i] : 0;
    vl_put64(p, t->tags ? t->tags[i] : 0);
    vl_put32(p + 8, (uint32_t)ml);
    t->rc = vl_ev_write_vec(p + 12, t->vecs + i * t->dim, t->dim);
    if (t->rc) {
      t->bad = i;
      return;
    }
    if (ml) memcpy(p + 12 + (size_t)t->dim * 4, t->metas[i], ml);
    p += 12 + (size_t)t->dim * 4 + ml;
  }
}

/* The records of a batch encoded on two threads, each half into its own byte range: the same bytes
** as the serial loop, and the same code for bad input: the layout pass finds the first record whose
** metadata is refused or that would take the event over VALORI_MAX_EVENT (L), each half reports
** its first unconvertible vector, and the first failure in record order wins (within a record the
** vector comes first, as in vl_ev_put_record). Returns 1 with *rc when it ran, 0 when the caller is
** to use the serial loop (memory for the whole region could not be reserved at once). */
static int put_records_par(vl_par *par, vl_buf *b, size_t n, uint32_t dim, const float *vecs, const uint64_t *tags,
                           const void *const *metas, const size_t *meta_lens, int *rc) {
  const size_t rec = 12 + (size_t)dim * 4;
  size_t i, L = n, total = 0, len = b->len, h, off_h = 0;
  int codeL = VALORI_OK;
  enc_part x, y;
  for (i = 0; i < n; i++) {
    const size_t ml = meta_lens ? meta_lens[i] : 0;
    if (ml && !(metas && metas[i])) codeL = VALORI_EINVAL;
    else if (ml > VALORI_MAX_META) codeL = VALORI_ETOOBIG;
    else if (len + rec + ml > VALORI_MAX_EVENT) codeL = VALORI_ETOOBIG;
    if (codeL) {
      L = i;
      break;
    }
    len += rec + ml;
  }
  total = len - b->len;
  if (vl_buf_reserve(b, total + (L < n ? rec : 0))) return 0; /* record L's vector is converted too */
  h = L / 2; /* records [0, L) all fit and have acceptable metadata: split them in two */
  for (i = 0; i < h; i++) off_h += rec + (meta_lens ? meta_lens[i] : 0);
  memset(&x, 0, sizeof x);
  x.vecs = vecs, x.tags = tags, x.metas = metas, x.meta_lens = meta_lens, x.dim = dim;
  x.base = b->p + b->len;
  y = x;
  x.from = 0, x.to = h, x.off = 0;
  y.from = h, y.to = L, y.off = off_h;
  vl_par2(par, enc_records, &x, &y);
  if (x.rc) *rc = x.rc; /* the first failure in record order */
  else if (y.rc) *rc = y.rc;
  else if (L < n) { /* record L: its vector's code comes before its metadata or size refusal */
    int vr = vl_ev_write_vec(b->p + len + 12, vecs + L * dim, dim);
    *rc = vr ? vr : codeL;
  } else {
    *rc = VALORI_OK;
    b->len = len;
  }
  return 1;
}

int valori_insert_batch(valori_db *db, size_t n, const float *vecs, const uint64_t *tags, const void *const *metas,
                        const size_t *meta_lens, uint64_t *out_first_id) {
  vl_buf *b;
  size_t mark, i, dim;
  if (!db || !vecs) return VALORI_EINVAL;
  if (n == 0) return VALORI_EEMPTY;
  if (n > VALORI_MAX_BATCH) return VALORI_ETOOBIG;
  dim = db->e->cfg.dim;
  b = evbuf(db);
  VL_TRY(vl_ev_begin(b, VALORI_OP_INSERT_BATCH, &mark));
  VL_TRY(vl_buf_u32(b, (uint32_t)n));
  VL_TRY(vl_buf_u32(b, 0));
  if (db->e->threads && n >= 64 && !vl_engine_side_running(db->e)) { /* the worker is free (or soon) */
    int rc = VALORI_OK;
    vl_db_chain_settle(db);
    if (put_records_par(db->e->par, b, n, (uint32_t)dim, vecs, tags, metas, meta_lens, &rc)) {
      if (rc) return rc;
      vl_ev_end(b, mark);
      return vl_db_submit(db, b->p, b->len, out_first_id);
    }
  }
  for (i = 0; i < n; i++) {
    size_t ml = meta_lens ? meta_lens[i] : 0;
    VL_TRY(vl_ev_put_record(b, vecs + i * dim, (uint32_t)dim, tags ? tags[i] : 0, metas ? metas[i] : NULL, ml));
    if (b->len > VALORI_MAX_EVENT) return VALORI_ETOOBIG;
  }
  vl_ev_end(b, mark);
  return vl_db_submit(db, b->p, b->len, out_first_id);
}

static int id_event(valori_db *db, uint32_t op, uint64_t id) {
  vl_buf *b;
  size_t mark;
  if (!db) return VALORI_EINVAL;
  b = evbuf(db);
  VL_TRY(vl_ev_begin(b, op, &mark));
  VL_TRY(vl_buf_u64(b, id));
  vl_ev_end(b, mark);
  return vl_db_submit(db, b->p, b->len, NULL);
}

int valori_delete(valori_db *db, uint64_t id) { return id_event(db, VALORI_OP_DELETE, id); }

int valori_update(valori_db *db, uint64_t id, const float *vec, const uint64_t *tag) {
  vl_buf *b;
  uint32_t fields = (vec ? VL_UPD_VECTOR : 0u) | (tag ? VL_UPD_TAG : 0u);
  if (!db) return VALORI_EINVAL;
  b = evbuf(db);
  VL_TRY(vl_ev_put_update(b, VALORI_OP_UPDATE, id, fields, db->e->cfg.dim, vec, tag ? *tag : 0, NULL, 0));
  return vl_db_submit(db, b->p, b->len, NULL);
}

int valori_update_record(valori_db *db, uint64_t id, const valori_update_fields *u) {
  vl_buf *b;
  if (!db || !u || u->reserved) return VALORI_EINVAL;
  b = evbuf(db);
  VL_TRY(vl_ev_put_update(b, VALORI_OP_UPDATE_RECORD, id, u->fields, db->e->cfg.dim, u->vec, u->tag, u->meta,
                          u->meta_len));
  return vl_db_submit(db, b->p, b->len, NULL);
}

int valori_set_meta(valori_db *db, uint64_t id, const void *meta, size_t meta_len) {
  vl_buf *b;
  size_t mark;
  if (!db || (meta_len && !meta)) return VALORI_EINVAL;
  if (meta_len > VALORI_MAX_META) return VALORI_ETOOBIG;
  b = evbuf(db);
  VL_TRY(vl_ev_begin(b, VALORI_OP_SET_META, &mark));
  VL_TRY(vl_buf_u64(b, id));
  VL_TRY(vl_buf_u32(b, (uint32_t)meta_len));
  VL_TRY(vl_buf_put(b, meta, meta_len));
  vl_ev_end(b, mark);
  return vl_db_submit(db, b->p, b->len, NULL);
}

static void copy_bytes(const uint8_t *src, uint32_t len, void *out, size_t cap, size_t *len_out) {
  if (out && cap && len) memcpy(out, src, VL_MIN((size_t)len, cap)); /* src is NULL when len is 0 */
  if (len_out) *len_out = len;
}

int valori_get(const valori_db *db, uint64_t id, float *vec_out, uint64_t *tag_out, void *meta_out, size_t meta_cap,
               size_t *meta_len_out) {
  int64_t s;
  uint32_t i;
  if (!db) return VALORI_EINVAL;
  s = vl_rec_slot(&db->e->rec, id);
  if (s < 0) return VALORI_ENOTFOUND;
  if (vec_out) {
    const int32_t *v = vl_rec_vec(&db->e->rec, (uint32_t)s);
    for (i = 0; i < db->e->cfg.dim; i++) vec_out[i] = valori_q16_to_f32(v[i]);
  }
  if (tag_out) *tag_out = db->e->rec.tag[s];
  copy_bytes(db->e->rec.meta[s], db->e->rec.meta_len[s], meta_out, meta_cap, meta_len_out);
  return VALORI_OK;
}

int valori_get_q16(const valori_db *db, uint64_t id, int32_t *vec_out) {
  int64_t s;
  if (!db || !vec_out) return VALORI_EINVAL;
  s = vl_rec_slot(&db->e->rec, id);
  if (s < 0) return VALORI_ENOTFOUND;
  memcpy(vec_out, vl_rec_vec(&db->e->rec, (uint32_t)s), (size_t)db->e->cfg.dim * 4);
  return VALORI_OK;
}

/* ---- search */

int valori_searcher_create(const valori_db *db, valori_searcher **out) {
  valori_searcher *s;
  if (!db || !out) return VALORI_EINVAL;
  s = (valori_searcher *)vl_calloc(db->a, 1, sizeof *s);
  if (!s) return VALORI_ENOMEM;
  s->a = db->a;
  *out = s;
  return VALORI_OK;
}

void valori_searcher_free(valori_searcher *s) {
  if (!s) return;
  vl_scratch_free(&s->s, s->a);
  vl_free(s->a, s->out, (size_t)s->out_cap * sizeof(vl_cand));
  vl_free(s->a, s, sizeof *s);
}

/* valori.h's order: k and ef (EK), the mode, the filter (too many tags ETOOBIG, missing or empty
** tag set EINVAL). */
static int check_params(const valori_search_params *p) {
  if (!p) return VALORI_EINVAL;
  if (p->k == 0 || p->k > VALORI_MAX_K || p->ef > VALORI_MAX_EF) return VALORI_EK;
  if (p->mode > VALORI_SEARCH_HNSW) return VALORI_EINVAL;
  if (p->ntags > VALORI_MAX_TAGS) return VALORI_ETOOBIG;
  if ((p->ntags != 0) != (p->tags != NULL)) return VALORI_EINVAL;
  return VALORI_OK;
}

/* Grows the searcher's result buffer to k entries. */
static int reserve_out(valori_searcher *s, uint32_t k) {
  void *o = s->out;
  if (k <= s->out_cap) return VALORI_OK;
  VL_TRY(vl_grow(s->a, &o, s->out_cap, k, sizeof(vl_cand)));
  s->out = o;
  s->out_cap = k;
  return VALORI_OK;
}

int valori_search(const valori_db *db, valori_searcher *s, const float *query, const valori_search_params *p,
                  valori_hit *out, size_t *out_n) {
  valori_searcher *tmp = NULL;
  uint32_t n = 0, i;
  int rc;
  if (!db || !query || !out || !out_n) return VALORI_EINVAL;
  VL_TRY(check_params(p));
  if (!s) {
    VL_TRY(valori_searcher_create(db, &tmp));
    s = tmp;
  }
  rc = reserve_out(s, p->k);
  if (!rc) rc = vl_engine_search(db->e, &s->s, s->a, query, p, s->out, &n);
  if (!rc) {
    for (i = 0; i < n; i++) {
      out[i].id = s->out[i].id;
      out[i].distance = s->out[i].d;
    }
    *out_n = n;
  }
  valori_searcher_free(tmp);
  return rc;
}

/* ---- graph */

int valori_node_create(valori_db *db, uint32_t kind, uint64_t record_id, const void *label, size_t label_len,
                       uint64_t *out_id) {
  vl_buf *b;
  size_t mark;
  if (!db || (label_len && !label)) return VALORI_EINVAL;
  if (label_len > VALORI_MAX_META) return VALORI_ETOOBIG;
  b = evbuf(db);
  VL_TRY(vl_ev_begin(b, VALORI_OP_NODE_CREATE, &mark));
  VL_TRY(vl_buf_u32(b, kind));
  VL_TRY(vl_buf_u32(b, (uint32_t)label_len));
  VL_TRY(vl_buf_u64(b, record_id));
  VL_TRY(vl_buf_put(b, label, label_len));
  vl_ev_end(b, mark);
  return vl_db_submit(db, b->p, b->len, out_id);
}

int valori_node_delete(valori_db *db, uint64_t node_id) { return id_event(db, VALORI_OP_NODE_DELETE, node_id); }

int valori_edge_create(valori_db *db, uint64_t from, uint64_t to, uint32_t kind, const float *weight, uint64_t *out_id) {
  vl_buf *b;
  size_t mark;
  int32_t w = 0;
  if (!db) return VALORI_EINVAL;
  if (weight) VL_TRY(valori_f32_to_q16(*weight, &w));
  b = evbuf(db);
  VL_TRY(vl_ev_begin(b, VALORI_OP_EDGE_CREATE, &mark));
  VL_TRY(vl_buf_u64(b, from));
  VL_TRY(vl_buf_u64(b, to));
  VL_TRY(vl_buf_u32(b, kind));
  VL_TRY(vl_buf_u32(b, weight ? 1u : 0u));
  VL_TRY(vl_buf_u32(b, (uint32_t)w));
  vl_ev_end(b, mark);
  return vl_db_submit(db, b->p, b->len, out_id);
}

int valori_edge_delete(valori_db *db, uint64_t edge_id) { return id_event(db, VALORI_OP_EDGE_DELETE, edge_id); }

int valori_node_get(const valori_db *db, uint64_t node_id, valori_node *out, void *label_out, size_t label_cap,
                    size_t *label_len_out) {
  const vl_gnode *n;
  if (!db) return VALORI_EINVAL;
  n = vl_graph_node(&db->e->graph, node_id);
  if (!n) return VALORI_ENOTFOUND;
  if (out) {
    out->id = n->id;
    out->record_id = n->record_id;
    out->kind = n->kind;
    out->label_len = n->label_len;
  }
  copy_bytes(n->label, n->label_len, label_out, label_cap, label_len_out);
  return VALORI_OK;
}

int valori_node_of_record(const valori_db *db, uint64_t record_id, uint64_t *node_id) {
  int64_t s;
  if (!db || !node_id) return VALORI_EINVAL;
  s = vl_rec_slot(&db->e->rec, record_id);
  if (s < 0 || !db->e->rec.node[s]) return VALORI_ENOTFOUND;
  *node_id = db->e->rec.node[s];
  return VALORI_OK;
}

int valori_neighbors(const valori_db *db, uint64_t node_id, uint32_t dir, const uint32_t *kind_filter, valori_edge *out,
                     size_t cap, size_t *out_n) {
  const vl_graph *g;
  const vl_gnode *n;
  size_t total = 0;
  uint32_t pass, i;
  if (!db || !out_n || dir < VALORI_DIR_OUT || dir > VALORI_DIR_BOTH || (cap && !out)) return VALORI_EINVAL;
  g = &db->e->graph;
  n = vl_graph_node(g, node_id);
  if (!n) return VALORI_ENOTFOUND;
  for (pass = 0; pass < 2; pass++) {
    const vl_idlist *l = pass == 0 ? &n->out : &n->in;
    if (!(dir & (pass == 0 ? VALORI_DIR_OUT : VALORI_DIR_IN))) continue;
    for (i = 0; i < l->n; i++) {
      const vl_gedge *x = vl_graph_edge(g, l->v[i]);
      if (VL_NEVER(!x) || (kind_filter && x->kind != *kind_filter)) continue; /* lists hold existing edges */
      if (total < cap) {
        valori_edge *o = &out[total];
        o->id = x->id;
        o->from = x->from;
        o->to = x->to;
        o->kind = x->kind;
        o->has_weight = x->has_weight;
        o->weight_q16 = x->weight;
        o->reserved = 0;
      }
      total++;
    }
  }
  *out_n = total;
  return VALORI_OK;
}

static int check_expand(uint32_t hops, uint32_t dir, uint32_t max_nodes, const void *out, size_t cap) {
  if (hops > VALORI_MAX_HOPS || dir < VALORI_DIR_OUT || dir > VALORI_DIR_BOTH) return VALORI_EINVAL;
  if (max_nodes == 0 || max_nodes > VL_MAX_EXPAND || (cap && !out)) return VALORI_EINVAL;
  return VALORI_OK;
}

int valori_expand(const valori_db *db, const uint64_t *seeds, size_t nseeds, uint32_t hops, uint32_t dir,
                  uint32_t max_nodes, valori_reach *out, size_t cap, size_t *out_n) {
  if (!db || !out_n || (nseeds && !seeds)) return VALORI_EINVAL;
  VL_TRY(check_expand(hops, dir, max_nodes, out, cap));
  return vl_engine_expand(db->e, seeds, nseeds, hops, dir, max_nodes, out, cap, out_n);
}

int valori_search_expand(const valori_db *db, valori_searcher *s, const float *query, const valori_search_params *p,
                         uint32_t hops, uint32_t dir, uint32_t max_nodes, valori_hit *hits, size_t *nhits,
                         valori_reach *nodes, size_t node_cap, size_t *nnodes) {
  uint64_t *seeds;
  size_t i, ns = 0, nh = 0;
  int rc;
  if (!db || !nhits || !nnodes || !hits) return VALORI_EINVAL;
  VL_TRY(check_expand(hops, dir, max_nodes, nodes, node_cap));
  VL_TRY(valori_search(db, s, query, p, hits, &nh)); /* hits are written even if expansion fails */
  seeds = (uint64_t *)vl_calloc(db->a, nh ? nh : 1, 8);
  if (!seeds) return VALORI_ENOMEM;
  for (i = 0; i < nh; i++)
    if (valori_node_of_record(db, hits[i].id, &seeds[ns]) == VALORI_OK) ns++;
  rc = vl_engine_expand(db->e, seeds, ns, hops, dir, max_nodes, nodes, node_cap, nnodes);
  vl_free(db->a, seeds, (nh ? nh : 1) * 8);
  if (!rc) *nhits = nh;
  return rc;
}

/* ---- state and snapshots */

int valori_stats_get(const valori_db *db, valori_stats *o) {
  if (!db || !o) return VALORI_EINVAL;
  vl_engine_stats(db->e, o);
  return VALORI_OK;
}

int valori_state_root(const valori_db *db, uint8_t out[32]) {
  if (!db || !out) return VALORI_EINVAL;
  vl_engine_root(db->e, out);
  return VALORI_OK;
}

int valori_index_digest(const valori_db *db, uint8_t out[32]) {
  if (!db || !out) return VALORI_EINVAL;
  vl_engine_index_digest(db->e, out);
  return VALORI_OK;
}

int valori_check(const valori_db *db) {
  if (!db) return VALORI_EINVAL;
  return vl_engine_check(db->e);
}

int valori_snapshot_save(const valori_db *db, uint8_t **out, size_t *out_len) {
  vl_buf b;
  uint8_t *p;
  int rc;
  if (!db || !out || !out_len) return VALORI_EINVAL;
  vl_buf_init(&b, db->a);
  rc = vl_engine_snapshot_save(db->e, &b);
  if (rc) {
    vl_buf_free(&b);
    return rc;
  }
  p = (uint8_t *)vl_alloc(db->a, b.len); /* exact size, so valori_buffer_free can pass it back */
  if (!p) {
    vl_buf_free(&b);
    return VALORI_ENOMEM;
  }
  memcpy(p, b.p, b.len);
  *out = p;
  *out_len = b.len;
  vl_buf_free(&b);
  return VALORI_OK;
}

void valori_buffer_free(const valori_db *db, void *buf, size_t len) {
  if (db) vl_free(db->a, buf, len);
}

int valori_snapshot_load(const uint8_t *buf, size_t len, const valori_options *opt, valori_db **out) {
  const valori_allocator *a = opt && opt->allocator ? opt->allocator : valori_libc_allocator();
  valori_db *db;
  int rc;
  if (!buf || !out || !a) return VALORI_EINVAL;
  VL_TRY(vl_db_new(a, &db));
  db->chain_known = 0; /* an engine snapshot carries no chain */
  rc = vl_engine_snapshot_load(a, buf, len, &db->e);
  if (!rc) rc = vl_engine_verify_content(db->e); /* bytes from outside: the content must hash to the root */
  if (!rc && opt && (opt->flags & VALORI_OPEN_THREADS)) rc = vl_engine_set_threads(db->e, 1);
  if (rc) {
    vl_db_free(db);
    return rc;
  }
  *out = db;
  return VALORI_OK;
}
