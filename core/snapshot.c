/*
** snapshot.c: the snapshot codec (docs/FORMAT.md, "Snapshot"). A snapshot is the complete engine
** state, HNSW graph included, so loading never rebuilds the index:
**
**   header   "VALORISN" | u32 version (1; 2 index-less; 3 with a traversal word) | u32 flags (0) |
**            u32 dim, metric, M, efc, efs | u32 traversal word (0 before version 3) |
**            u64 height, next_record_id, next_node_id, next_edge_id                  (72 bytes)
**   sections 5 x (u32 id | u32 crc32c(payload) | u64 length | payload), ids 1..5 in order
**   trailer  root[32] | u32 crc32c(every byte before this field) | "VSNE"
**
** The decoder trusts nothing: every length is bounded, every id, slot, level, link and counter is
** checked against the others, and finally the state root recomputed from the loaded multiset hash
** must equal the trailer's. Hostile bytes give ECORRUPT or EVERSION, never a crash.
**
** An index-less store (configuration M = 0) writes the same sections; its INDEX section is the
** empty index (entry 0, max level 0xFFFFFFFF, no node, every slot 0xFF), and the loader refuses a
** slot in the index or a tombstone (DEAD slot) for such a configuration.
*/
#include "crc32c.h"
#include "engine_int.h"
#include "fixed.h"

#define SNAP_MAGIC "VALORISN"
#define SNAP_END "VSNE"
#define SNAP_HEADER 72u
enum { SEC_RECORDS = 1, SEC_INDEX = 2, SEC_NODES = 3, SEC_EDGES = 4, SEC_HASH = 5 };

static int begin_section(vl_buf *b, uint32_t id, size_t *mark) {
  *mark = b->len;
  VL_TRY(vl_buf_u32(b, id));
  VL_TRY(vl_buf_u32(b, 0));
  return vl_buf_u64(b, 0);
}

static void end_section(vl_buf *b, size_t mark) {
  size_t len = b->len - mark - 16;
  vl_put32(b->p + mark + 4, vl_crc32c(0, b->p + mark + 16, len));
  vl_put64(b->p + mark + 8, (uint64_t)len);
}

static int put_vec(vl_buf *b, const int32_t *v, uint32_t dim) {
  uint32_t i;
  VL_TRY(vl_buf_reserve(b, (size_t)dim * 4));
  for (i = 0; i < dim; i++) vl_put32(b->p + b->len + 4 * i, (uint32_t)v[i]);
  b->len += (size_t)dim * 4;
  return VALORI_OK;
}

int vl_engine_snapshot_save(const vl_engine *e, vl_buf *b) {
  const vl_records *r = &e->rec;
  const vl_hnsw *h = &e->hnsw;
  const vl_graph *g = &e->graph;
  size_t start = b->len, mark;
  uint8_t hdr[SNAP_HEADER], acc[VL_LTHASH_BYTES];
  uint32_t i, lc;
  int rc;
  memset(hdr, 0, sizeof hdr);
  memcpy(hdr, SNAP_MAGIC, 8);
  vl_put32(hdr + 8, vl_config_format_version(&e->cfg));
  vl_put32(hdr + 16, e->cfg.dim);
  vl_put32(hdr + 20, e->cfg.metric);
  vl_put32(hdr + 24, e->cfg.hnsw_m);
  vl_put32(hdr + 28, e->cfg.hnsw_ef_construction);
  vl_put32(hdr + 32, e->cfg.hnsw_ef_search);
  vl_put32(hdr + 36, e->cfg.traversal);
  vl_put64(hdr + 40, e->height);
  vl_put64(hdr + 48, e->next_rec);
  vl_put64(hdr + 56, e->next_node);
  vl_put64(hdr + 64, e->next_edge);
#define T(x) do { rc = (x); if (rc) goto fail; } while (0)
  T(vl_buf_put(b, hdr, sizeof hdr));
  /* records */
  T(begin_section(b, SEC_RECORDS, &mark));
  T(vl_buf_u32(b, r->nslots));
  T(vl_buf_u32(b, r->nfree));
  for (i = 0; i < r->nslots; i++) {
    uint8_t st = r->state[i];
    T(vl_buf_put(b, &st, 1));
    if (st == VL_SLOT_FREE) continue;
    T(vl_buf_u64(b, r->id[i]));
    T(vl_buf_u64(b, r->tag[i]));
    T(vl_buf_u64(b, r->node[i]));
    T(vl_buf_u32(b, r->meta_len[i]));
    T(put_vec(b, vl_rec_vec(r, i), e->cfg.dim));
    T(vl_buf_put(b, r->meta[i], r->meta_len[i]));
  }
  for (i = 0; i < r->nfree; i++) T(vl_buf_u32(b, r->freel[i]));
  end_section(b, mark);
  /* index */
  T(begin_section(b, SEC_INDEX, &mark));
  T(vl_buf_u32(b, h->entry));
  T(vl_buf_u32(b, (uint32_t)h->maxlevel));
  T(vl_buf_u32(b, h->nindex));
  for (i = 0; i < r->nslots; i++) {
    uint8_t L = vl_engine_slot_level(e, i);
    T(vl_buf_put(b, &L, 1));
    if (L == VL_NOT_IN_INDEX) continue;
    for (lc = 0; lc <= L; lc++) {
      const uint32_t *l = vl_hnsw_links(h, i, lc);
      uint32_t t;
      T(vl_buf_u32(b, l[0]));
      for (t = 1; t <= l[0]; t++) T(vl_buf_u32(b, l[t]));
    }
  }
  end_section(b, mark);
  /* nodes and edges, in array order (reproduces the arrays exactly) */
  T(begin_section(b, SEC_NODES, &mark));
  T(vl_buf_u32(b, g->nnodes));
  for (i = 0; i < g->nnodes; i++) {
    const vl_gnode *n = &g->nodes[i];
    T(vl_buf_u64(b, n->id));
    T(vl_buf_u64(b, n->record_id));
    T(vl_buf_u32(b, n->kind));
    T(vl_buf_u32(b, n->label_len));
    T(vl_buf_put(b, n->label, n->label_len));
  }
  end_section(b, mark);
  T(begin_section(b, SEC_EDGES, &mark));
  T(vl_buf_u32(b, g->nedges));
  for (i = 0; i < g->nedges; i++) {
    const vl_gedge *x = &g->edges[i];
    T(vl_buf_u64(b, x->id));
    T(vl_buf_u64(b, x->from));
    T(vl_buf_u64(b, x->to));
    T(vl_buf_u32(b, x->kind));
    T(vl_buf_u32(b, x->has_weight));
    T(vl_buf_u32(b, (uint32_t)x->weight));
  }
  end_section(b, mark);
  T(begin_section(b, SEC_HASH, &mark));
  vl_lthash_serialize(&e->acc, acc);
  T(vl_buf_put(b, acc, sizeof acc));
  end_section(b, mark);
  T(vl_buf_put(b, e->root, 32));
  T(vl_buf_u32(b, vl_crc32c(0, b->p + start, b->len - start)));
  T(vl_buf_put(b, SNAP_END, 4));
#undef T
  return VALORI_OK;
fail:
  b->len = start;
  return rc;
}

/* ---- decoding */

/* Opens section `id` at rd: checks its header and CRC, and points sec at the payload. */
static int open_section(vl_rd *rd, uint32_t id, vl_rd *sec) {
  uint32_t sid = vl_rd_u32(rd), crc = vl_rd_u32(rd);
  uint64_t len = vl_rd_u64(rd);
  const uint8_t *p;
  if (rd->bad || sid != id || len > rd->n) return VALORI_ECORRUPT;
  p = vl_rd_take(rd, (size_t)len);
  if (!p || vl_crc32c(0, p, (size_t)len) != crc) return VALORI_ECORRUPT;
  vl_rd_init(sec, p, (size_t)len);
  return VALORI_OK;
}

#define C(cond) do { if (!(cond)) return VALORI_ECORRUPT; } while (0)

/* Walks the records section without allocating: framing, states, sizes and the free count must be
** right before any memory is committed to the slots (a hostile file cannot make us allocate for a
** structure it does not actually contain). */
static int scan_records(vl_rd rd, uint32_t dim, uint64_t next_rec) {
  uint32_t nslots = vl_rd_u32(&rd), nfree = vl_rd_u32(&rd), i, seen = 0;
  C(!rd.bad && nslots <= 0x7FFFFFFFu && nfree <= nslots);
  for (i = 0; i < nslots; i++) {
    const uint8_t *st = vl_rd_take(&rd, 1);
    uint64_t id;
    uint32_t ml;
    C(st);
    if (*st == VL_SLOT_FREE) { seen++; continue; }
    C(*st == VL_SLOT_LIVE || *st == VL_SLOT_DEAD);
    id = vl_rd_u64(&rd);
    vl_rd_take(&rd, 16);
    ml = vl_rd_u32(&rd);
    C(!rd.bad && id > 0 && id < next_rec && ml <= VALORI_MAX_META);
    C(vl_rd_take(&rd, (size_t)dim * 4 + ml));
  }
  C(seen == nfree && vl_rd_take(&rd, (size_t)nfree * 4) && rd.n == 0);
  return VALORI_OK;
}

static int load_records(vl_engine *e, vl_rd *rd) {
  vl_records *r = &e->rec;
  uint32_t dim = e->cfg.dim, nslots, nfree, i, nfree_seen = 0;
  VL_TRY(scan_records(*rd, dim, e->next_rec));
  nslots = vl_rd_u32(rd);
  nfree = vl_rd_u32(rd);
  VL_TRY(vl_rec_reserve_slots(r, nslots));
  r->nslots = nslots; /* from here on vl_rec_free releases whatever was restored */
  for (i = 0; i < nslots; i++) {
    const uint8_t *st = vl_rd_take(rd, 1), *v, *m;
    uint64_t id, tag, node;
    uint32_t ml, j;
    uint8_t *meta = NULL;
    C(st);
    if (*st == VL_SLOT_FREE) { nfree_seen++; continue; }
    C(*st == VL_SLOT_LIVE || *st == VL_SLOT_DEAD);
    id = vl_rd_u64(rd);
    tag = vl_rd_u64(rd);
    node = vl_rd_u64(rd);
    ml = vl_rd_u32(rd);
    v = vl_rd_take(rd, (size_t)dim * 4);
    C(!rd->bad && id > 0 && id < e->next_rec && ml <= VALORI_MAX_META);
    C(*st == VL_SLOT_LIVE || (node == 0 && ml == 0 && vl_engine_indexed(e))); /* no tombstone without an index */
    m = vl_rd_take(rd, ml);
    C(m);
    for (j = 0; j < dim; j++) {
      e->tmpvec[j] = (int32_t)vl_get32(v + 4 * j);
      C(vl_q16_ok(e->tmpvec[j]));
    }
    if (ml) {
      meta = (uint8_t *)vl_alloc(e->a, ml);
      if (!meta) return VALORI_ENOMEM;
      memcpy(meta, m, ml);
    }
    {
      int rc = vl_rec_restore(r, i, *st, id, tag, node, e->tmpvec, meta, ml);
      if (rc == VALORI_EEXIST) return VALORI_ECORRUPT;
      VL_TRY(rc);
    }
  }
  C(nfree_seen == nfree);
  for (i = 0; i < nfree; i++) {
    uint32_t s = vl_rd_u32(rd);
    C(!rd->bad && s < nslots && r->state[s] == VL_SLOT_FREE);
    r->state[s] = 0xEE; /* mark seen: catches duplicates */
    r->freel[i] = s;
  }
  for (i = 0; i < nfree; i++) r->state[r->freel[i]] = VL_SLOT_FREE;
  r->nfree = nfree;
  C(!rd->bad && rd->n == 0);
  return VALORI_OK;
}

static int load_index(vl_engine *e, vl_rd *rd) {
  vl_hnsw *h = &e->hnsw;
  const vl_records *r = &e->rec;
  uint32_t entry = vl_rd_u32(rd), nindex, i, lc, t, count = 0;
  int32_t maxlevel = (int32_t)vl_rd_u32(rd), top = -1;
  nindex = vl_rd_u32(rd);
  C(!rd->bad);
  if (!vl_engine_indexed(e)) { /* the empty index: no slot may be in it */
    for (i = 0; i < r->nslots; i++) {
      const uint8_t *Lp = vl_rd_take(rd, 1);
      C(Lp && *Lp == VL_NOT_IN_INDEX);
    }
    C(rd->n == 0 && entry == 0 && maxlevel == -1 && nindex == 0);
    return VALORI_OK;
  }
  VL_TRY(vl_engine_reserve_scratch(e));
  for (i = 0; i < r->nslots; i++) {
    const uint8_t *Lp = vl_rd_take(rd, 1);
    uint32_t L;
    C(Lp);
    L = *Lp;
    if (r->state[i] == VL_SLOT_FREE) { C(L == VL_NOT_IN_INDEX); continue; }
    C(L == vl_hnsw_level(r->id[i], h->M));
    VL_TRY(vl_hnsw_alloc_up(h, L, &h->up[i]));
    h->level[i] = (uint8_t)L;
    count++;
    if ((int32_t)L > top) top = (int32_t)L;
    for (lc = 0; lc <= L; lc++) {
      uint32_t *l = vl_hnsw_links(h, i, lc), cnt = vl_rd_u32(rd);
      C(!rd->bad && cnt <= (lc ? h->M : h->M0));
      l[0] = cnt;
      for (t = 1; t <= cnt; t++) l[t] = vl_rd_u32(rd);
      C(!rd->bad);
    }
  }
  C(rd->n == 0 && count == nindex && maxlevel == top);
  /* links may point forward, so they are checked once every level is known */
  for (i = 0; i < r->nslots; i++) {
    if (h->level[i] == VL_NOT_IN_INDEX) continue;
    for (lc = 0; lc <= h->level[i]; lc++) {
      const uint32_t *l = vl_hnsw_links(h, i, lc);
      for (t = 1; t <= l[0]; t++)
        C(l[t] < r->nslots && l[t] != i && h->level[l[t]] != VL_NOT_IN_INDEX && h->level[l[t]] >= lc);
    }
  }
  if (top >= 0) C(entry < r->nslots && h->level[entry] == (uint32_t)top);
  else C(entry == 0);
  h->entry = entry;
  h->maxlevel = top;
  h->nindex = nindex;
  return VALORI_OK;
}

static int load_graph(vl_engine *e, vl_rd *nd, vl_rd *ed) {
  vl_graph *g = &e->graph;
  vl_records *r = &e->rec;
  uint32_t nn = vl_rd_u32(nd), ne = vl_rd_u32(ed), i;
  C(!nd->bad && !ed->bad && nn <= nd->n / 24 && ne <= ed->n / 36);
  VL_TRY(vl_graph_reserve_nodes(g, nn));
  for (i = 0; i < nn; i++) {
    uint64_t id = vl_rd_u64(nd), rec = vl_rd_u64(nd);
    uint32_t kind = vl_rd_u32(nd), ll = vl_rd_u32(nd);
    const uint8_t *lp;
    uint8_t *label = NULL;
    C(!nd->bad && id > 0 && id < e->next_node && ll <= VALORI_MAX_META && !vl_graph_node(g, id));
    lp = vl_rd_take(nd, ll);
    C(lp);
    if (rec) {
      int64_t s = vl_rec_slot(r, rec);
      C(s >= 0 && r->node[s] == id);
    }
    if (ll) {
      label = (uint8_t *)vl_alloc(e->a, ll);
      if (!label) return VALORI_ENOMEM;
      memcpy(label, lp, ll);
    }
    vl_graph_add_node(g, id, kind, rec, label, ll);
  }
  C(nd->n == 0);
  for (i = 0; i < r->nslots; i++) /* every record -> node link must be mirrored */
    if (r->state[i] == VL_SLOT_LIVE && r->node[i]) {
      const vl_gnode *n = vl_graph_node(g, r->node[i]);
      C(n && n->record_id == r->id[i]);
    }
  for (i = 0; i < ne; i++) {
    vl_gedge x;
    memset(&x, 0, sizeof x);
    x.id = vl_rd_u64(ed);
    x.from = vl_rd_u64(ed);
    x.to = vl_rd_u64(ed);
    x.kind = vl_rd_u32(ed);
    x.has_weight = vl_rd_u32(ed);
    x.weight = (int32_t)vl_rd_u32(ed);
    C(!ed->bad && x.id > 0 && x.id < e->next_edge && !vl_graph_edge(g, x.id) && x.has_weight <= 1);
    C(vl_q16_ok(x.weight) && (x.has_weight || x.weight == 0));
    C(vl_graph_node(g, x.from) && vl_graph_node(g, x.to));
    VL_TRY(vl_graph_reserve_edge(g, x.from, x.to));
    /* lists must end sorted by edge id: append, then sort below */
    {
      vl_gnode *f = vl_graph_node(g, x.from), *t;
      f->out.v[f->out.n++] = x.id;
      t = vl_graph_node(g, x.to);
      t->in.v[t->in.n++] = x.id;
      g->edges[g->nedges] = x;
      vl_map_put(&g->edge_ix, x.id, g->nedges++);
    }
  }
  C(ed->n == 0);
  return VALORI_OK;
}

static int u64_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int vl_engine_snapshot_load(const valori_allocator *a, const uint8_t *p, size_t n, vl_engine **out) {
  vl_config c;
  vl_engine *e = NULL;
  vl_rd rd, sec, nd, ed;
  uint32_t i;
  int rc;
  if (!p || n < SNAP_HEADER + 40) return VALORI_ECORRUPT;
  if (memcmp(p, SNAP_MAGIC, 8) != 0) return VALORI_ECORRUPT;
  if (vl_get32(p + 8) > VL_FORMAT_VERSION_MAX) return VALORI_EVERSION;
  if (memcmp(p + n - 4, SNAP_END, 4) != 0 || vl_crc32c(0, p, n - 8) != vl_get32(p + n - 8)) return VALORI_ECORRUPT;
  if (vl_get32(p + 12) != 0) return VALORI_ECORRUPT;
  c.traversal = vl_get32(p + 36); /* 0 unless version 3 (the version check below) */
  c.dim = vl_get32(p + 16);
  c.metric = vl_get32(p + 20);
  c.hnsw_m = vl_get32(p + 24);
  c.hnsw_ef_construction = vl_get32(p + 28);
  c.hnsw_ef_search = vl_get32(p + 32);
  if (vl_config_check(&c) || vl_get32(p + 8) != vl_config_format_version(&c)) return VALORI_ECORRUPT;
  VL_TRY(vl_engine_new(a, &c, &e));
  e->height = vl_get64(p + 40);
  e->next_rec = vl_get64(p + 48);
  e->next_node = vl_get64(p + 56);
  e->next_edge = vl_get64(p + 64);
  rc = (e->next_rec && e->next_node && e->next_edge) ? VALORI_OK : VALORI_ECORRUPT;
  vl_rd_init(&rd, p + SNAP_HEADER, n - SNAP_HEADER - 40);
  if (!rc) rc = open_section(&rd, SEC_RECORDS, &sec);
  if (!rc) rc = load_records(e, &sec);
  if (!rc) rc = open_section(&rd, SEC_INDEX, &sec);
  if (!rc) rc = load_index(e, &sec);
  if (!rc) rc = open_section(&rd, SEC_NODES, &nd);
  if (!rc) rc = open_section(&rd, SEC_EDGES, &ed);
  if (!rc) rc = load_graph(e, &nd, &ed);
  if (!rc) rc = open_section(&rd, SEC_HASH, &sec);
  if (!rc) rc = (sec.n == VL_LTHASH_BYTES && rd.n == 0) ? VALORI_OK : VALORI_ECORRUPT;
  if (!rc) {
    for (i = 0; i < e->graph.nnodes; i++) {
      vl_gnode *g = &e->graph.nodes[i];
      vl_sort(g->out.v, g->out.n, 8, u64_cmp);
      vl_sort(g->in.v, g->in.n, 8, u64_cmp);
    }
    vl_lthash_deserialize(&e->acc, sec.p);
    vl_engine_refresh_root(e);
    if (memcmp(e->root, p + n - 40, 32) != 0) rc = VALORI_ECORRUPT;
  }
  if (rc) {
    vl_engine_free(e);
    return rc;
  }
  *out = e;
  return VALORI_OK;
}
