/*
** engine.c: the state machine. vl_engine_apply decodes an event, checks it against the state,
** performs every allocation the event needs (prepare), and only then mutates (commit), so a
** rejected or failed event leaves state, root and height exactly as they were. Before any change
** the engine predicts the event's effect on the state hash (vl_pred: the accumulator with exactly
** the elements the event adds and removes, and the counters it will leave), so the would-be root is
** known before the commit: a replicated record whose root disagrees (vl_engine_apply_expect) is
** refused with nothing changed, and the commit itself never touches the hash (O(1) per event,
** independent of the store size).
*/
#include "compact.h"
#include "engine_int.h"
#include "event.h"
#include "sha256.h"

/* ---- state hash */

/* A record digest is SHA-256('R' | id | tag | dim | components as LE int32 | meta_len | meta): the
** head and the tail are shared by the two ways of feeding the components. */
static void record_digest_head(vl_sha256_ctx *s, uint64_t id, uint64_t tag, uint32_t dim) {
  uint8_t b[21];
  b[0] = 'R';
  vl_put64(b + 1, id);
  vl_put64(b + 9, tag);
  vl_put32(b + 17, dim);
  vl_sha256_init(s);
  vl_sha256_update(s, b, 21);
}
static void record_digest_meta(vl_sha256_ctx *s, const uint8_t *meta, uint32_t meta_len) {
  uint8_t b[4];
  vl_put32(b, meta_len);
  vl_sha256_update(s, b, 4);
  vl_sha256_update(s, meta, meta_len);
}
static void record_digest_tail(vl_sha256_ctx *s, const uint8_t *meta, uint32_t meta_len, uint8_t out[32]) {
  record_digest_meta(s, meta, meta_len);
  vl_sha256_final(s, out);
}

void vl_digest_record_le(uint64_t id, uint64_t tag, const uint8_t *vec_le, uint32_t dim, const uint8_t *meta,
                         uint32_t meta_len, uint8_t out[32]) {
  vl_sha256_ctx s;
  record_digest_head(&s, id, tag, dim);
  vl_sha256_update(&s, vec_le, (size_t)dim * 4);
  record_digest_tail(&s, meta, meta_len, out);
}

/* Two records of one event at once (vl_sha256_update2): the digests vl_digest_record_le gives. */
static void digest_record2_le(uint64_t id, const vl_ev_rec *r0, const vl_ev_rec *r1, uint32_t dim, uint8_t out0[32],
                              uint8_t out1[32]) {
  vl_sha256_ctx s0, s1;
  record_digest_head(&s0, id, r0->tag, dim);
  record_digest_head(&s1, id + 1, r1->tag, dim);
  vl_sha256_update2(&s0, r0->vec, &s1, r1->vec, (size_t)dim * 4);
  record_digest_meta(&s0, r0->meta, r0->meta_len);
  record_digest_meta(&s1, r1->meta, r1->meta_len);
  vl_sha256_final2(&s0, out0, &s1, out1);
}

void vl_digest_record(uint64_t id, uint64_t tag, const int32_t *vec, uint32_t dim, const uint8_t *meta,
                      uint32_t meta_len, uint8_t out[32]) {
#if defined(VL_HOST_LE)
  vl_digest_record_le(id, tag, (const uint8_t *)vec, dim, meta, meta_len, out); /* host order is the LE encoding */
#else
  vl_sha256_ctx s;
  uint8_t b[256];
  uint32_t i = 0;
  record_digest_head(&s, id, tag, dim);
  while (i < dim) { /* components as LE int32, 64 at a time */
    uint32_t j, n = VL_MIN(64u, dim - i);
    for (j = 0; j < n; j++) vl_put32(b + 4 * j, (uint32_t)vec[i + j]);
    vl_sha256_update(&s, b, (size_t)n * 4);
    i += n;
  }
  record_digest_tail(&s, meta, meta_len, out);
#endif
}

void vl_digest_node(const vl_gnode *n, uint8_t out[32]) {
  vl_sha256_ctx s;
  uint8_t b[25];
  b[0] = 'N';
  vl_put64(b + 1, n->id);
  vl_put32(b + 9, n->kind);
  vl_put64(b + 13, n->record_id);
  vl_put32(b + 21, n->label_len);
  vl_sha256_init(&s);
  vl_sha256_update(&s, b, sizeof b);
  vl_sha256_update(&s, n->label, n->label_len);
  vl_sha256_final(&s, out);
}

void vl_digest_edge(const vl_gedge *e, uint8_t out[32]) {
  uint8_t b[37];
  b[0] = 'E';
  vl_put64(b + 1, e->id);
  vl_put64(b + 9, e->from);
  vl_put64(b + 17, e->to);
  vl_put32(b + 25, e->kind);
  vl_put32(b + 29, e->has_weight);
  vl_put32(b + 33, (uint32_t)e->weight);
  vl_sha256(b, sizeof b, out);
}

/* What an event does to the state hash, known before it commits: the accumulator after it and the
** counters the root covers. */
typedef struct vl_pred {
  vl_lthash acc;
  uint64_t next_rec, next_node, next_edge, live, nnodes, nedges;
} vl_pred;

/* The state root of a configuration, counters and accumulator (docs/FORMAT.md, "State root"). */
static void root_of(const vl_config *c, const vl_pred *p, uint8_t out[32]) {
  static const char domain[16] = "valori.state.v1";
  vl_sha256_ctx s;
  uint8_t b[72], acc[VL_LTHASH_BYTES];
  vl_put32(b, c->dim);
  vl_put32(b + 4, c->metric);
  vl_put32(b + 8, c->hnsw_m);
  vl_put32(b + 12, c->hnsw_ef_construction);
  vl_put32(b + 16, c->hnsw_ef_search);
  vl_put64(b + 20, p->next_rec);
  vl_put64(b + 28, p->next_node);
  vl_put64(b + 36, p->next_edge);
  vl_put64(b + 44, p->live);
  vl_put64(b + 52, p->nnodes);
  vl_put64(b + 60, p->nedges);
  vl_put32(b + 68, c->traversal);
  vl_lthash_serialize(&p->acc, acc);
  vl_sha256_init(&s);
  vl_sha256_update(&s, domain, sizeof domain);
  /* the traversal word only when set: every store without one keeps the root it always had */
  vl_sha256_update(&s, b, c->traversal ? sizeof b : sizeof b - 4);
  vl_sha256_update(&s, acc, sizeof acc);
  vl_sha256_final(&s, out);
}

/* The engine's present counters and accumulator as a prediction (the starting point of one). */
static void pred_now(const vl_engine *e, vl_pred *p) {
  p->acc = e->acc;
  p->next_rec = e->next_rec;
  p->next_node = e->next_node;
  p->next_edge = e->next_edge;
  p->live = e->rec.live;
  p->nnodes = e->graph.nnodes;
  p->nedges = e->graph.nedges;
}

void vl_engine_refresh_root(vl_engine *e) {
  vl_pred p;
  pred_now(e, &p);
  root_of(&e->cfg, &p, e->root);
}

void vl_engine_recompute_acc(const vl_engine *e, vl_lthash *out) {
  uint8_t d[32];
  uint32_t i;
  vl_lthash_zero(out);
  for (i = 0; i < e->rec.nslots; i++) {
    if (e->rec.state[i] != VL_SLOT_LIVE) continue;
    vl_digest_record(e->rec.id[i], e->rec.tag[i], vl_rec_vec(&e->rec, i), e->cfg.dim, e->rec.meta[i],
                     e->rec.meta_len[i], d);
    vl_lthash_add(out, d);
  }
  for (i = 0; i < e->graph.nnodes; i++) {
    vl_digest_node(&e->graph.nodes[i], d);
    vl_lthash_add(out, d);
  }
  for (i = 0; i < e->graph.nedges; i++) {
    vl_digest_edge(&e->graph.edges[i], d);
    vl_lthash_add(out, d);
  }
}

int vl_engine_verify_content(const vl_engine *e) {
  vl_lthash acc;
  uint8_t a1[VL_LTHASH_BYTES], a2[VL_LTHASH_BYTES];
  vl_engine_recompute_acc(e, &acc);
  vl_lthash_serialize(&acc, a1);
  vl_lthash_serialize(&e->acc, a2);
  return memcmp(a1, a2, sizeof a1) == 0 ? VALORI_OK : VALORI_ECORRUPT;
}

/* ---- prediction: the effect of a checked event on the state hash, before anything changes */

/* Removes the digest of the record in slot from p. */
static void pred_sub_record(const vl_engine *e, uint32_t slot, vl_pred *p) {
  uint8_t d[32];
  vl_digest_record(e->rec.id[slot], e->rec.tag[slot], vl_rec_vec(&e->rec, slot), e->cfg.dim, e->rec.meta[slot],
                   e->rec.meta_len[slot], d);
  vl_lthash_sub(&p->acc, d);
}

/* Removes the edges of an adjacency list from p, skipping those that start at `skip_from` (0: none). */
static void pred_sub_edges(const vl_engine *e, const vl_idlist *l, uint64_t skip_from, vl_pred *p) {
  uint8_t d[32];
  uint32_t i;
  for (i = 0; i < l->n; i++) {
    const vl_gedge *g = vl_graph_edge(&e->graph, l->v[i]);
    if (VL_NEVER(!g) || (skip_from && g->from == skip_from)) continue; /* lists hold existing edges */
    vl_digest_edge(g, d);
    vl_lthash_sub(&p->acc, d);
    p->nedges--;
  }
}

/* Removes a node and every edge into or out of it (a self-loop, in both lists, once) from p. */
static void pred_sub_node(const vl_engine *e, const vl_gnode *n, vl_pred *p) {
  uint8_t d[32];
  pred_sub_edges(e, &n->out, 0, p);
  pred_sub_edges(e, &n->in, n->id, p);
  vl_digest_node(n, d);
  vl_lthash_sub(&p->acc, d);
  p->nnodes--;
}

/* A run of an insert event's records folded into an accumulator (predict; one half of a batch on
** each thread when threads are on: each half has its own accumulator and reads only the event
** bytes and the configuration, which nothing writes meanwhile). */
/* Batches below twice this many records are folded on one thread even with threads on (handing a
** half to the worker and waiting for it costs a few microseconds, a record's digest and fold about
** one). */
#define VL_PAR_MIN_RECORDS 32

typedef struct pred_part {
  uint32_t dim, n;
  uint64_t first_id;
  const uint8_t *recs;
  vl_lthash *acc;
} pred_part;

static void pred_records(void *arg) {
  const pred_part *t = (const pred_part *)arg;
  const uint8_t *cur = t->recs;
  uint8_t d[32];
  vl_ev_rec r;
  uint32_t i;
  for (i = 0; i + 2 <= t->n; i += 2) { /* the event's vector bytes are the digest's encoding: no decode */
    vl_ev_rec r1;
    uint8_t d1[32];
    vl_ev_rec_next(&cur, t->dim, &r);
    vl_ev_rec_next(&cur, t->dim, &r1);
    digest_record2_le(t->first_id + i, &r, &r1, t->dim, d, d1); /* two at once: faster on SHA-NI */
    vl_lthash_add(t->acc, d);
    vl_lthash_add(t->acc, d1);
  }
  if (i < t->n) {
    vl_ev_rec_next(&cur, t->dim, &r);
    vl_digest_record_le(t->first_id + i, r.tag, r.vec, t->dim, r.meta, r.meta_len, d);
    vl_lthash_add(t->acc, d);
  }
}

/* The prediction for an event that passed the state checks (run's dry pass): p starts as the
** present state and receives exactly the elements the commit will add and remove. Uses the
** engine's tmpvec (writer scratch) for decoded vectors. */
static void predict(vl_engine *e, const vl_event *x, vl_pred *p) {
  const uint32_t dim = e->cfg.dim;
  uint8_t d[32];
  uint32_t i, slot;
  int64_t s;
  pred_now(e, p);
  switch (x->op) {
    case VALORI_OP_INSERT:
    case VALORI_OP_INSERT_BATCH: {
      pred_part a;
      a.dim = dim;
      a.first_id = e->next_rec;
      a.recs = x->recs;
      a.n = x->count;
      a.acc = &p->acc;
      if (e->threads && x->count >= 2 * VL_PAR_MIN_RECORDS) {
        /* records [0, h) into p->acc here, [h, n) into a zero accumulator on the second thread,
        ** then added: lane-wise sums mod 2^16, so the same lanes as one pass in any schedule */
        pred_part b;
        vl_lthash acc2s, *acc2 = &acc2s;
        const uint8_t *cur = x->recs;
        vl_ev_rec r;
        const uint32_t h = x->count / 2;
        for (i = 0; i < h; i++) vl_ev_rec_next(&cur, dim, &r);
        a.n = h;
        b.dim = dim;
        b.first_id = e->next_rec + h;
        b.recs = cur;
        b.n = x->count - h;
        b.acc = acc2;
        vl_lthash_zero(acc2);
        vl_par2(e->par, pred_records, &a, &b);
        vl_lthash_combine(&p->acc, acc2);
      } else {
        pred_records(&a);
      }
      p->next_rec += x->count;
      p->live += x->count;
      break;
    }
    case VALORI_OP_DELETE:
      s = vl_rec_slot(&e->rec, x->id);
      if (VL_NEVER(s < 0)) break;
      slot = (uint32_t)s;
      if (e->rec.node[slot]) {
        const vl_gnode *n = vl_graph_node(&e->graph, e->rec.node[slot]);
        if (VL_ALWAYS(n != NULL)) pred_sub_node(e, n, p);
      }
      pred_sub_record(e, slot, p);
      p->live--;
      break;
    case VALORI_OP_UPDATE:
    case VALORI_OP_SET_META:
    case VALORI_OP_UPDATE_RECORD: {
      const int newvec = (x->fields & VL_UPD_VECTOR) != 0, newmeta = (x->fields & VL_UPD_META) != 0;
      s = vl_rec_slot(&e->rec, x->id);
      if (VL_NEVER(s < 0)) break;
      slot = (uint32_t)s;
      pred_sub_record(e, slot, p);
      if (newvec) vl_ev_vec(x->vec, dim, e->tmpvec);
      vl_digest_record(x->id, (x->fields & VL_UPD_TAG) ? x->tag : e->rec.tag[slot],
                       newvec ? e->tmpvec : vl_rec_vec(&e->rec, slot), dim, newmeta ? x->bytes : e->rec.meta[slot],
                       newmeta ? x->nbytes : e->rec.meta_len[slot], d);
      vl_lthash_add(&p->acc, d);
      break;
    }
    case VALORI_OP_NODE_CREATE: {
      vl_gnode n;
      memset(&n, 0, sizeof n);
      n.id = e->next_node;
      n.kind = x->kind;
      n.record_id = x->record_id;
      n.label = (uint8_t *)(uintptr_t)x->bytes; /* read only */
      n.label_len = x->nbytes;
      vl_digest_node(&n, d);
      vl_lthash_add(&p->acc, d);
      p->next_node++;
      p->nnodes++;
      break;
    }
    case VALORI_OP_NODE_DELETE: {
      const vl_gnode *n = vl_graph_node(&e->graph, x->id);
      if (VL_ALWAYS(n != NULL)) pred_sub_node(e, n, p);
      break;
    }
    case VALORI_OP_EDGE_CREATE: {
      vl_gedge g;
      memset(&g, 0, sizeof g);
      g.id = e->next_edge;
      g.from = x->from;
      g.to = x->to;
      g.kind = x->kind;
      g.has_weight = x->has_weight;
      g.weight = x->weight;
      vl_digest_edge(&g, d);
      vl_lthash_add(&p->acc, d);
      p->next_edge++;
      p->nedges++;
      break;
    }
    case VALORI_OP_EDGE_DELETE: {
      const vl_gedge *g = vl_graph_edge(&e->graph, x->id);
      if (VL_NEVER(!g)) break;
      vl_digest_edge(g, d);
      vl_lthash_sub(&p->acc, d);
      p->nedges--;
      break;
    }
    default: (void)VL_NEVER(1); break; /* the decoder refused unknown opcodes */
  }
}

/* ---- lifecycle */

int vl_config_check(const vl_config *c) {
  if (c->dim == 0 || c->dim > VALORI_MAX_DIM) return VALORI_EDIM;
  if (c->metric != VALORI_METRIC_L2 && c->metric != VALORI_METRIC_IP) return VALORI_EINVAL;
  if (vl_trav_check(c->traversal)) return VALORI_EINVAL;
  /* inner product on centred copies ranks by dot(q - c, y - c), which is dot(q, y) plus a term in
  ** c * sum(y) that differs per vector: a different objective, so IP takes only centre 0 */
  if (c->traversal && c->metric == VALORI_METRIC_IP && vl_trav_center(c->traversal) != 0) return VALORI_EINVAL;
  if (c->hnsw_m == 0) /* index-less: no HNSW parameter may be set, nor a traversal copy */
    return c->hnsw_ef_construction == 0 && c->hnsw_ef_search == 0 && c->traversal == 0 ? VALORI_OK : VALORI_EINVAL;
  if (c->hnsw_m < 2 || c->hnsw_m > VALORI_HNSW_MAX_M) return VALORI_EINVAL;
  if (c->hnsw_ef_construction < 1 || c->hnsw_ef_construction > VALORI_MAX_EF) return VALORI_EINVAL;
  if (c->hnsw_ef_search < 1 || c->hnsw_ef_search > VALORI_MAX_EF) return VALORI_EINVAL;
  return VALORI_OK;
}

int vl_config_from_options(const valori_options *o, vl_config *c) {
  c->dim = o->dim;
  c->metric = o->metric;
  c->traversal = o->traversal;
  if (o->reserved || vl_trav_check(o->traversal)) return VALORI_EINVAL;
  if (o->index == VALORI_INDEX_NONE) {
    if (o->hnsw_m || o->hnsw_ef_construction || o->hnsw_ef_search || o->traversal) return VALORI_EINVAL;
    c->hnsw_m = c->hnsw_ef_construction = c->hnsw_ef_search = 0;
    return VALORI_OK;
  }
  if (o->index != VALORI_INDEX_HNSW) return VALORI_EINVAL;
  c->hnsw_m = o->hnsw_m ? o->hnsw_m : 16;
  c->hnsw_ef_construction = o->hnsw_ef_construction ? o->hnsw_ef_construction : 200;
  c->hnsw_ef_search = o->hnsw_ef_search ? o->hnsw_ef_search : 64;
  return VALORI_OK;
}

int vl_engine_new(const valori_allocator *a, const vl_config *c, vl_engine **out) {
  vl_engine *e;
  VL_TRY(vl_config_check(c));
  e = (vl_engine *)vl_calloc(a, 1, sizeof *e);
  if (!e) return VALORI_ENOMEM;
  e->a = a;
  e->cfg = *c;
  e->next_rec = e->next_node = e->next_edge = 1;
  vl_rec_init(&e->rec, a, c->dim, c->traversal);
  vl_hnsw_init(&e->hnsw, a, c->hnsw_m, c->hnsw_ef_construction);
  vl_graph_init(&e->graph, a);
  vl_lthash_zero(&e->acc);
  e->tmpvec = (int32_t *)vl_calloc(a, c->dim, 4);
  if (!e->tmpvec ||
      (vl_engine_indexed(e) && vl_scratch_reserve(&e->scratch, a, 0, c->hnsw_ef_construction, 2 * c->hnsw_m))) {
    vl_engine_free(e);
    return VALORI_ENOMEM;
  }
  vl_engine_refresh_root(e);
  *out = e;
  return VALORI_OK;
}

void vl_engine_free(vl_engine *e) {
  const valori_allocator *a;
  if (!e) return;
  a = e->a;
  vl_par_free(e->par); /* joins the worker, if it was started */
  vl_hnsw_free(&e->hnsw);
  vl_rec_free(&e->rec);
  vl_graph_free(&e->graph);
  vl_scratch_free(&e->scratch, a);
  vl_free(a, e->tmpvec, (size_t)e->cfg.dim * 4);
  vl_free(a, e, sizeof *e);
}

void vl_engine_side_async(vl_engine *e, void (*fn)(void *), void *arg) {
  if (e->threads && e->par) vl_par_async(e->par, fn, arg);
  else fn(arg);
}
void vl_engine_side_wait(vl_engine *e) { vl_par_wait(e->par); }
void vl_engine_side_await(const vl_engine *e) { vl_par_await(e->par); }
int vl_engine_side_running(const vl_engine *e) { return vl_par_running(e->par); }

int vl_engine_set_threads(vl_engine *e, int on) {
  if (on && !e->par) VL_TRY(vl_par_new(e->a, &e->par));
  if (!on && e->par) {
    vl_par_free(e->par);
    e->par = NULL;
  }
  e->threads = on != 0;
  return VALORI_OK;
}

const vl_config *vl_engine_config(const vl_engine *e) { return &e->cfg; }
uint64_t vl_engine_height(const vl_engine *e) { return e->height; }
void vl_engine_root(const vl_engine *e, uint8_t out[32]) { memcpy(out, e->root, 32); }
void vl_engine_index_digest(const vl_engine *e, uint8_t out[32]) { vl_hnsw_digest(&e->hnsw, e->rec.nslots, out); }

void vl_engine_stats(const vl_engine *e, valori_stats *o) {
  memset(o, 0, sizeof *o);
  o->height = e->height;
  o->records = e->rec.live;
  o->nodes = e->graph.nnodes;
  o->edges = e->graph.nedges;
  o->next_record_id = e->next_rec;
  o->next_node_id = e->next_node;
  o->next_edge_id = e->next_edge;
  o->index_tombstones = e->rec.dead;
  o->vector_bytes = vl_rec_bytes_vectors(&e->rec);
  o->index_bytes = vl_hnsw_bytes(&e->hnsw);
  o->other_bytes = vl_rec_bytes_other(&e->rec) + vl_graph_bytes(&e->graph) + sizeof *e +
                   (size_t)e->cfg.dim * 4 +
                   vl_scratch_bytes(&e->scratch);
  o->dim = e->cfg.dim;
  o->metric = e->cfg.metric;
  o->hnsw_m = e->cfg.hnsw_m;
  o->hnsw_ef_construction = e->cfg.hnsw_ef_construction;
  o->hnsw_ef_search = e->cfg.hnsw_ef_search;
  o->index = vl_engine_indexed(e) ? VALORI_INDEX_HNSW : VALORI_INDEX_NONE;
  o->traversal = e->cfg.traversal;
  o->traversal_shift = vl_trav_shift(e->cfg.traversal); /* 0 for word 0 */
  o->traversal_center = vl_trav_center(e->cfg.traversal);
}

int vl_engine_reserve_scratch(vl_engine *e) {
  VL_TRY(vl_hnsw_reserve(&e->hnsw, e->rec.cap));
  return vl_scratch_reserve(&e->scratch, e->a, e->rec.cap, e->cfg.hnsw_ef_construction, e->hnsw.M0);
}

/* Copies bytes into a fresh allocation (NULL for n == 0). */
static int dup_bytes(const valori_allocator *a, const uint8_t *src, uint32_t n, uint8_t **out) {
  *out = NULL;
  if (!n) return VALORI_OK;
  *out = (uint8_t *)vl_alloc(a, n);
  if (!*out) return VALORI_ENOMEM;
  memcpy(*out, src, n);
  return VALORI_OK;
}

/* A purge of the index runs when tombstones exceed 1/8 of the live records (+16), when the entry
** point is a tombstone (searches would start in dead territory), or when nothing is live. */
static void maybe_purge(vl_engine *e) {
  vl_space sp;
  uint32_t i;
  int entry_dead = e->hnsw.maxlevel >= 0 && e->rec.state[e->hnsw.entry] != VL_SLOT_LIVE;
  if (e->rec.dead == 0) return;
  if (e->rec.dead <= 16 + e->rec.live / 8 && !entry_dead && e->rec.live > 0) return;
  sp = vl_engine_space(e);
  vl_hnsw_purge(&e->hnsw, &sp, e->rec.nslots, &e->scratch);
  for (i = 0; i < e->rec.nslots; i++)
    if (e->rec.state[i] == VL_SLOT_DEAD) vl_rec_commit_release(&e->rec, i);
}

/* ---- events */

/* Inserts (one record or an atomic batch). Without an index the graph is never touched: no level
** is computed, no link array or construction scratch allocated. */
static int apply_insert(vl_engine *e, const vl_event *x, int dry, uint64_t *out_id) {
  const valori_allocator *a = e->a;
  uint32_t n = x->count, i, dim = e->cfg.dim;
  const int idx = vl_engine_indexed(e);
  uint8_t *meta1 = NULL, **metas = &meta1;
  uint32_t *up1 = NULL, **ups = &up1;
  const uint8_t *cur;
  vl_ev_rec r;
  vl_space sp;
  int rc = VALORI_OK;
  if (e->next_rec > UINT64_MAX - n) return VALORI_EINVAL;
  if (dry) return VALORI_OK;
  /* prepare */
  if (n > 1) {
    metas = (uint8_t **)vl_calloc(a, n, sizeof *metas);
    ups = idx ? (uint32_t **)vl_calloc(a, n, sizeof *ups) : NULL;
    if (!metas || (idx && !ups)) {
      vl_free(a, metas, (size_t)n * sizeof *metas);
      vl_free(a, ups, (size_t)n * sizeof *ups);
      return VALORI_ENOMEM;
    }
  }
  rc = vl_rec_reserve_slots(&e->rec, n);
  if (!rc) rc = vl_rec_reserve_ids(&e->rec, n);
  if (!rc && idx) rc = vl_engine_reserve_scratch(e);
  for (i = 0, cur = x->recs; !rc && i < n; i++) {
    vl_ev_rec_next(&cur, dim, &r);
    rc = vl_rec_reserve_tag(&e->rec, r.tag);
    if (!rc) rc = dup_bytes(a, r.meta, r.meta_len, &metas[i]);
    if (!rc && idx) rc = vl_hnsw_alloc_up(&e->hnsw, vl_hnsw_level(e->next_rec + i, e->cfg.hnsw_m), &ups[i]);
  }
  if (rc) {
    for (i = 0, cur = x->recs; i < n; i++) {
      vl_ev_rec_next(&cur, dim, &r);
      vl_free(a, metas[i], r.meta_len);
      if (idx) vl_hnsw_free_up(&e->hnsw, vl_hnsw_level(e->next_rec + i, e->cfg.hnsw_m), ups[i]);
    }
    vl_rec_unreserve_all(&e->rec);
  } else {
    /* commit */
    sp = vl_engine_space(e);
    for (i = 0, cur = x->recs; i < n; i++) {
      uint64_t id = e->next_rec + i;
      uint32_t slot;
      vl_ev_rec_next(&cur, dim, &r);
      slot = vl_rec_commit_insert_le(&e->rec, id, r.tag, r.vec, metas[i], r.meta_len); /* decoded into its slot */
      if (idx) vl_hnsw_insert(&e->hnsw, &sp, slot, vl_hnsw_level(id, e->cfg.hnsw_m), ups[i], &e->scratch);
    }
    if (out_id) *out_id = e->next_rec;
    e->next_rec += n;
  }
  if (n > 1) {
    vl_free(a, metas, (size_t)n * sizeof *metas);
    if (idx) vl_free(a, ups, (size_t)n * sizeof *ups);
  }
  return rc;
}

static int live_slot(const vl_engine *e, uint64_t id, uint32_t *slot) {
  int64_t s = vl_rec_slot(&e->rec, id);
  if (s < 0) return VALORI_ENOTFOUND;
  *slot = (uint32_t)s;
  return VALORI_OK;
}

static int apply_delete(vl_engine *e, const vl_event *x, int dry) {
  uint32_t slot;
  VL_TRY(live_slot(e, x->id, &slot));
  if (dry) return VALORI_OK;
  if (e->rec.node[slot]) vl_graph_remove_node(&e->graph, e->rec.node[slot], NULL, NULL, NULL);
  vl_rec_commit_kill(&e->rec, slot);
  if (vl_engine_indexed(e)) maybe_purge(e);
  else vl_rec_commit_release(&e->rec, slot); /* nothing refers to the old vector: free it now */
  return VALORI_OK;
}

/* UPDATE, SET_META and UPDATE_RECORD: a live record's vector, tag and/or metadata (x->fields), all
** or nothing. Prepare: the copy of the new metadata, the new tag's posting and, for a new vector in
** an indexed store, a fresh slot, the node's link arrays and the construction scratch; a failure
** undoes every one of them. Then the commit, which cannot fail. With an index a new vector moves
** the record to a fresh slot (same id, node link and metadata) and the old slot stays in the graph
** as a tombstone until a purge; without one it is written over the old vector in place. */
static int apply_update(vl_engine *e, const vl_event *x, int dry) {
  const int newvec = (x->fields & VL_UPD_VECTOR) != 0, newmeta = (x->fields & VL_UPD_META) != 0;
  const int moves = newvec && vl_engine_indexed(e);
  uint32_t slot, nslot, L = 0;
  uint64_t tag, node;
  uint32_t *up = NULL;
  uint8_t *meta = NULL;
  uint32_t meta_len;
  vl_space sp;
  int rc = VALORI_OK;
  VL_TRY(live_slot(e, x->id, &slot));
  if (dry) return VALORI_OK;
  tag = (x->fields & VL_UPD_TAG) ? x->tag : e->rec.tag[slot];
  if (!newvec && !newmeta && tag == e->rec.tag[slot]) return VALORI_OK; /* the same tag again */
  /* prepare */
  if (newmeta) rc = dup_bytes(e->a, x->bytes, x->nbytes, &meta);
  if (moves) {
    L = vl_hnsw_level(x->id, e->cfg.hnsw_m);
    if (!rc) rc = vl_rec_reserve_slots(&e->rec, 1);
    if (!rc) rc = vl_engine_reserve_scratch(e);
    if (!rc) rc = vl_rec_reserve_tag(&e->rec, tag); /* the new slot enters the posting of its tag */
    if (!rc) rc = vl_hnsw_alloc_up(&e->hnsw, L, &up);
  } else if (!rc && tag != e->rec.tag[slot]) {
    rc = vl_rec_reserve_tag(&e->rec, tag);
  }
  if (rc) {
    vl_free(e->a, meta, x->nbytes);
    vl_rec_unreserve_all(&e->rec);
    return rc;
  }
  /* commit */
  if (newmeta) {
    vl_free(e->a, e->rec.meta[slot], e->rec.meta_len[slot]);
    e->rec.meta[slot] = meta;
    e->rec.meta_len[slot] = x->nbytes;
  }
  if (!moves) {
    if (tag != e->rec.tag[slot]) vl_rec_commit_retag(&e->rec, slot, tag);
    if (newvec) {
      vl_ev_vec(x->vec, e->cfg.dim, e->rec.vec + (size_t)slot * e->cfg.dim);
      vl_rec_vec_changed(&e->rec, slot);
    }
    return VALORI_OK;
  }
  meta = e->rec.meta[slot]; /* moves with the record, as does its node link */
  meta_len = e->rec.meta_len[slot];
  node = e->rec.node[slot];
  e->rec.meta[slot] = NULL;
  e->rec.meta_len[slot] = 0;
  vl_rec_commit_kill(&e->rec, slot);
  vl_ev_vec(x->vec, e->cfg.dim, e->tmpvec);
  nslot = vl_rec_commit_insert(&e->rec, x->id, tag, e->tmpvec, meta, meta_len);
  e->rec.node[nslot] = node;
  sp = vl_engine_space(e);
  vl_hnsw_insert(&e->hnsw, &sp, nslot, L, up, &e->scratch);
  maybe_purge(e);
  return VALORI_OK;
}

static int apply_node_create(vl_engine *e, const vl_event *x, int dry, uint64_t *out_id) {
  uint32_t slot = 0;
  uint8_t *label;
  if (x->record_id) {
    VL_TRY(live_slot(e, x->record_id, &slot));
    if (e->rec.node[slot]) return VALORI_EEXIST;
  }
  if (e->next_node == UINT64_MAX) return VALORI_EINVAL;
  if (dry) return VALORI_OK;
  VL_TRY(vl_graph_reserve_nodes(&e->graph, 1));
  VL_TRY(dup_bytes(e->a, x->bytes, x->nbytes, &label));
  vl_graph_add_node(&e->graph, e->next_node, x->kind, x->record_id, label, x->nbytes);
  if (x->record_id) e->rec.node[slot] = e->next_node;
  if (out_id) *out_id = e->next_node;
  e->next_node++;
  return VALORI_OK;
}

static int apply_node_delete(vl_engine *e, const vl_event *x, int dry) {
  vl_gnode *n = vl_graph_node(&e->graph, x->id);
  if (!n) return VALORI_ENOTFOUND;
  if (dry) return VALORI_OK;
  if (n->record_id) {
    int64_t s = vl_rec_slot(&e->rec, n->record_id);
    if (VL_ALWAYS(s >= 0)) e->rec.node[s] = 0; /* deleting a record deletes its node first */
  }
  vl_graph_remove_node(&e->graph, x->id, NULL, NULL, NULL);
  return VALORI_OK;
}

static int apply_edge_create(vl_engine *e, const vl_event *x, int dry, uint64_t *out_id) {
  vl_gedge g;
  if (!vl_graph_node(&e->graph, x->from) || !vl_graph_node(&e->graph, x->to)) return VALORI_ENOTFOUND;
  if (e->next_edge == UINT64_MAX) return VALORI_EINVAL;
  if (dry) return VALORI_OK;
  VL_TRY(vl_graph_reserve_edge(&e->graph, x->from, x->to));
  memset(&g, 0, sizeof g);
  g.id = e->next_edge;
  g.from = x->from;
  g.to = x->to;
  g.kind = x->kind;
  g.has_weight = x->has_weight;
  g.weight = x->weight;
  vl_graph_add_edge(&e->graph, &g);
  if (out_id) *out_id = g.id;
  e->next_edge++;
  return VALORI_OK;
}

static int apply_edge_delete(vl_engine *e, const vl_event *x, int dry) {
  if (!vl_graph_edge(&e->graph, x->id)) return VALORI_ENOTFOUND;
  if (dry) return VALORI_OK;
  vl_graph_remove_edge(&e->graph, x->id, NULL, NULL);
  return VALORI_OK;
}

/* One pass over a decoded event: the state checks alone (dry) or checks, prepare and commit. */
static int dispatch(vl_engine *e, const vl_event *x, int dry, uint64_t *id) {
  switch (x->op) {
    case VALORI_OP_INSERT:
    case VALORI_OP_INSERT_BATCH: return apply_insert(e, x, dry, id);
    case VALORI_OP_DELETE: return apply_delete(e, x, dry);
    case VALORI_OP_UPDATE:
    case VALORI_OP_SET_META:
    case VALORI_OP_UPDATE_RECORD: return apply_update(e, x, dry);
    case VALORI_OP_NODE_CREATE: return apply_node_create(e, x, dry, id);
    case VALORI_OP_NODE_DELETE: return apply_node_delete(e, x, dry);
    case VALORI_OP_EDGE_CREATE: return apply_edge_create(e, x, dry, id);
    case VALORI_OP_EDGE_DELETE: return apply_edge_delete(e, x, dry);
    default: (void)VL_NEVER(1); return VALORI_EOPCODE; /* the decoder refused unknown opcodes */
  }
}

/* run()'s dry modes: 0 commits; DRY_VALIDATE stops after the state checks; DRY_PREDICT after the
** prediction of the root and its comparison with `expect` (nothing is changed in either). */
#define DRY_VALIDATE 1
#define DRY_PREDICT 2

/* The two jobs of a commit with side work (vl_par2 runs one function on both: kind selects). */
typedef struct par_commit {
  int kind; /* 0: the commit (dispatch), 1: the side work */
  vl_engine *e;
  const vl_event *x;
  uint64_t id;
  int rc;
  vl_side_fn fn;
  void *arg;
  const uint8_t *root;
} par_commit;

static void par_commit_run(void *p) {
  par_commit *j = (par_commit *)p;
  if (j->kind == 0) j->rc = dispatch(j->e, j->x, 0, &j->id);
  else j->fn(j->arg, j->root);
}

/* Decode, state checks, prediction of the root, the comparison with `expect` (when given), then
** prepare and commit; the predicted hash becomes the engine's. fn (when given; *ran = 1 when it
** ran): with `hook`, called on the caller with the root just before the commit
** (vl_engine_apply_hook), else side work run alongside the commit when worth a thread
** (vl_engine_apply_side). */
static int run_side(vl_engine *e, const uint8_t *ev, size_t len, int dry, const uint8_t *expect, uint8_t *would,
                    uint64_t *out_id, vl_side_fn fn, void *arg, int *ran, int hook) {
  vl_event x;
  vl_pred p;
  uint8_t root[32];
  uint64_t id = 0;
  if (ran) *ran = 0;
  VL_TRY(vl_event_decode(ev, len, e->cfg.dim, &x));
  VL_TRY(dispatch(e, &x, 1, NULL));
  if (dry == DRY_VALIDATE) return VALORI_OK;
  if (!dry) vl_par_wait(e->par); /* the writer: side work of an earlier event done, the worker back */
  predict(e, &x, &p);
  root_of(&e->cfg, &p, root);
  if (would) memcpy(would, root, 32);
  if (expect && memcmp(expect, root, 32) != 0) return VALORI_EDIVERGED;
  if (dry == DRY_PREDICT) return VALORI_OK;
  if (fn && hook) {
    fn(arg, root);
    *ran = 1;
    VL_TRY(dispatch(e, &x, 0, &id));
  } else if (fn && e->threads && len >= VL_PAR_MIN_SIDE_BYTES) {
    par_commit c, w;
    memset(&c, 0, sizeof c);
    c.kind = 0, c.e = e, c.x = &x;
    w = c;
    w.kind = 1, w.fn = fn, w.arg = arg, w.root = root;
    vl_par2(e->par, par_commit_run, &c, &w);
    *ran = 1;
    VL_TRY(c.rc);
    id = c.id;
  } else {
    VL_TRY(dispatch(e, &x, 0, &id));
  }
  /* the commit changed exactly what the prediction says */
  (void)VL_ALWAYS(p.next_rec == e->next_rec && p.next_node == e->next_node && p.next_edge == e->next_edge &&
                  p.live == e->rec.live && p.nnodes == e->graph.nnodes && p.nedges == e->graph.nedges);
  e->acc = p.acc;
  memcpy(e->root, root, 32);
  e->height++;
  if (out_id) *out_id = id;
  return VALORI_OK;
}

static int run(vl_engine *e, const uint8_t *ev, size_t len, int dry, const uint8_t *expect, uint8_t *would,
               uint64_t *out_id) {
  return run_side(e, ev, len, dry, expect, would, out_id, NULL, NULL, NULL, 0);
}

int vl_engine_apply(vl_engine *e, const uint8_t *ev, size_t len, uint64_t *out_id) {
  return run(e, ev, len, 0, NULL, NULL, out_id);
}

int vl_engine_apply_side(vl_engine *e, const uint8_t *ev, size_t len, uint64_t *out_id, vl_side_fn fn, void *arg,
                         int *ran) {
  return run_side(e, ev, len, 0, NULL, NULL, out_id, fn, arg, ran, 0);
}

int vl_engine_apply_hook(vl_engine *e, const uint8_t *ev, size_t len, uint64_t *out_id, vl_side_fn fn, void *arg,
                         int *ran) {
  return run_side(e, ev, len, 0, NULL, NULL, out_id, fn, arg, ran, 1);
}

int vl_engine_apply_expect(vl_engine *e, const uint8_t *ev, size_t len, const uint8_t expect[32], uint8_t would[32],
                           uint64_t *out_id) {
  return run(e, ev, len, 0, expect, would, out_id);
}

int vl_engine_validate(const vl_engine *e, const uint8_t *ev, size_t len) {
  return run((vl_engine *)e, ev, len, DRY_VALIDATE, NULL, NULL, NULL); /* dry runs never write */
}

int vl_engine_check_expect(const vl_engine *e, const uint8_t *ev, size_t len, const uint8_t expect[32],
                           uint8_t would[32]) {
  /* predict() uses only the engine's scratch vector; the state is never written */
  return run((vl_engine *)e, ev, len, DRY_PREDICT, expect, would, NULL);
}
