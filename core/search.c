/*
** search.c: read-only queries over an engine: k-NN search with its planner, graph expansion, and
** the full consistency check. Nothing here writes to the engine; all scratch is the caller's.
**
** Planner (mode AUTO), so that filtered searches return min(k, matching) results that all match:
** - no filter: HNSW unless the store is tiny; if the index yields fewer than min(k, live) results,
**   fall back to exact search.
** - tag filter: count matching records from the tag postings. Narrow filters (matching <=
**   max(2048, live / 16)) go straight to an exact scan of the matching postings; wider ones use
**   the filtered HNSW search (its beam keeps exploring until it holds ef matching records, so the
**   work grows with 1/selectivity by itself), and fall back to the exact scan if it returns fewer
**   than min(k, matching).
** - an index-less store (VALORI_INDEX_NONE): AUTO is always the exact scan (of the postings when
**   filtered); mode HNSW is refused with EINVAL.
** vl_engine_search owns everything around the plan: the refusal of mode HNSW without an index, the
** query's conversion, ef (resolved here only) and the sizing of the caller's scratch.
*/
#include "compact.h"
#include "dist.h"
#include "engine_int.h"
#include "fixed.h"

#define VL_EXACT_SMALL 1024u  /* stores up to this size are always searched exactly */
#define VL_EXACT_FILTER 2048u /* filters matching up to this many records are scanned exactly */

/* Keeps the best k of the candidates offered in the max-heap s->res. */
static void topk_offer(vl_scratch *s, uint32_t *nr, uint32_t k, vl_cand c) {
  if (*nr < k) {
    vl_heap_push(NULL, s->res, nr, c, 1);
  } else if (vl_cand_less(&c, &s->res[0])) {
    vl_heap_replace_top(NULL, s->res, *nr, c, 1);
  }
}

static uint32_t topk_drain(vl_scratch *s, uint32_t nr, vl_cand *out) {
  uint32_t n = nr, i;
  for (i = nr; i > 0;) out[--i] = vl_heap_pop(NULL, s->res, &nr, 1);
  return n;
}

/* qwhole: q is whole-valued (vl_vec_whole); with a whole-valued slot the faster kernel gives the
** same distance. */
static inline vl_cand cand_of(const vl_engine *e, const int32_t *q, uint32_t qwhole, uint32_t slot) {
  vl_cand c;
  const int32_t *y = vl_rec_vec(&e->rec, slot);
  c.d = (qwhole & e->rec.vflags[slot] & VL_VEC_WHOLE) ? vl_distance_whole(e->cfg.metric, q, y, e->cfg.dim)
                                                      : vl_distance(e->cfg.metric, q, y, e->cfg.dim);
  c.id = e->rec.id[slot];
  c.slot = slot;
  c.pad = 0;
  return c;
}

static uint32_t exact_all(const vl_engine *e, vl_scratch *s, const int32_t *q, uint32_t k, vl_cand *out) {
  uint32_t i, nr = 0, qw = (uint32_t)vl_vec_whole(q, e->cfg.dim);
  for (i = 0; i < e->rec.nslots; i++)
    if (e->rec.state[i] == VL_SLOT_LIVE) topk_offer(s, &nr, k, cand_of(e, q, qw, i));
  return topk_drain(s, nr, out);
}

static uint32_t exact_tags(const vl_engine *e, vl_scratch *s, const int32_t *q, uint32_t k, const vl_filter *f,
                           vl_cand *out) {
  uint32_t t, i, nr = 0, qw = (uint32_t)vl_vec_whole(q, e->cfg.dim);
  for (t = 0; t < f->n; t++) {
    const vl_posting *p = vl_rec_posting(&e->rec, f->tags[t]);
    if (!p) continue;
    for (i = 0; i < p->n; i++) topk_offer(s, &nr, k, cand_of(e, q, qw, p->slots[i]));
  }
  return topk_drain(s, nr, out);
}

/* The planner over a converted query, with ef resolved and the scratch sized. */
static uint32_t plan_and_search(const vl_engine *e, vl_scratch *s, const int32_t *q, int8_t *qc,
                                const valori_search_params *p, uint32_t ef, vl_cand *out) {
  uint64_t tags[VALORI_MAX_TAGS];
  vl_filter f, *fp = NULL;
  uint32_t k = p->k, i, got;
  uint64_t live = e->rec.live, matching = live, want;
  vl_space sp = vl_engine_space(e);
  sp.qbuf = qc; /* dim bytes for the query's compact copy */
  if (p->ntags) { /* sorted, duplicate-free copy of the filter */
    uint32_t m = 0;
    for (i = 0; i < p->ntags; i++) tags[i] = p->tags[i];
    for (i = 1; i < p->ntags; i++) { /* insertion sort: at most VALORI_MAX_TAGS entries */
      uint64_t v = tags[i];
      uint32_t j = i;
      while (j > 0 && tags[j - 1] > v) { tags[j] = tags[j - 1]; j--; }
      tags[j] = v;
    }
    for (i = 0; i < p->ntags; i++)
      if (m == 0 || tags[m - 1] != tags[i]) tags[m++] = tags[i];
    f.tags = tags;
    f.n = m;
    fp = &f;
    matching = 0;
    for (i = 0; i < m; i++) {
      const vl_posting *ps = vl_rec_posting(&e->rec, tags[i]);
      if (ps) matching += ps->n;
    }
  }
  want = matching < k ? matching : k;
  if (p->mode == VALORI_SEARCH_EXACT || !vl_engine_indexed(e) ||
      (p->mode == VALORI_SEARCH_AUTO && (fp ? matching <= VL_MAX(VL_EXACT_FILTER, live / 16) : live <= VL_EXACT_SMALL)))
    return fp ? exact_tags(e, s, q, k, fp, out) : exact_all(e, s, q, k, out);
  got = vl_hnsw_search(&e->hnsw, &sp, q, k, ef, fp, s, out);
  if (p->mode == VALORI_SEARCH_AUTO && got < want)
    got = fp ? exact_tags(e, s, q, k, fp, out) : exact_all(e, s, q, k, out);
  return got;
}

int vl_engine_search(const vl_engine *e, vl_scratch *s, const valori_allocator *a, const float *query,
                     const valori_search_params *p, vl_cand *out, uint32_t *n) {
  const uint32_t dim = e->cfg.dim;
  uint32_t ef = p->ef ? p->ef : e->cfg.hnsw_ef_search; /* the one place ef is resolved */
  /* the query, then (a store with a compact traversal copy) dim bytes for its copy */
  const size_t bytes = (size_t)dim * 4 + (e->cfg.traversal ? dim : 0);
  int32_t qbuf[320], *q = qbuf;
  int rc;
  if (!vl_engine_indexed(e) && p->mode == VALORI_SEARCH_HNSW) return VALORI_EINVAL; /* no index to search */
  if (ef < p->k) ef = p->k;
  if (bytes > sizeof qbuf) {
    q = (int32_t *)vl_alloc(a, bytes);
    if (!q) return VALORI_ENOMEM;
  }
  rc = vl_vec_from_f32(query, dim, q);
  /* visited marks are for graph walks: an index-less store only scans, so it needs none */
  if (!rc) rc = vl_scratch_reserve(s, a, vl_engine_indexed(e) ? e->rec.cap : 0, ef, e->hnsw.M0);
  if (!rc) *n = plan_and_search(e, s, q, e->cfg.traversal ? (int8_t *)(q + dim) : NULL, p, ef, out);
  if (q != qbuf) vl_free(a, q, bytes);
  return rc;
}

/* ---- graph expansion */

typedef struct { uint64_t node, via; uint32_t depth; } vl_hop;

static int reach_cmp(const void *a, const void *b) {
  const valori_reach *x = (const valori_reach *)a, *y = (const valori_reach *)b;
  return x->node_id < y->node_id ? -1 : x->node_id > y->node_id;
}

static int u64_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int vl_engine_expand(const vl_engine *e, const uint64_t *seeds, size_t nseeds, uint32_t hops, uint32_t dir,
                     uint32_t max_nodes, valori_reach *out, size_t cap, size_t *out_n) {
  const valori_allocator *a = e->a;
  valori_reach *all;
  uint64_t *sorted;
  vl_map seen;
  uint32_t count = 0, start, end, depth, i;
  size_t j;
  int rc;
  for (j = 0; j < nseeds; j++)
    if (!vl_graph_node(&e->graph, seeds[j])) return VALORI_ENOTFOUND;
  if (max_nodes > e->graph.nnodes) max_nodes = e->graph.nnodes ? e->graph.nnodes : 1; /* cannot visit more */
  all = (valori_reach *)vl_calloc(a, max_nodes, sizeof *all);
  sorted = (uint64_t *)vl_calloc(a, nseeds ? nseeds : 1, 8);
  vl_map_init(&seen);
  rc = (!all || !sorted) ? VALORI_ENOMEM : vl_map_reserve(&seen, a, max_nodes);
  if (rc) goto done;
  if (nseeds) memcpy(sorted, seeds, nseeds * 8);
  vl_sort(sorted, nseeds, 8, u64_cmp);
  for (j = 0; j < nseeds && count < max_nodes; j++) {
    if (vl_map_get(&seen, sorted[j], NULL)) continue;
    vl_map_put(&seen, sorted[j], 1);
    all[count].node_id = sorted[j];
    count++;
  }
  start = 0;
  end = count;
  for (depth = 1; depth <= hops && start < end && count < max_nodes; depth++) {
    for (i = start; i < end && count < max_nodes; i++) {
      const vl_gnode *u = vl_graph_node(&e->graph, all[i].node_id);
      uint32_t pass, t;
      if (VL_NEVER(!u)) continue; /* every visited id is a node: seeds were checked, edges join nodes */
      for (pass = 0; pass < 2; pass++) {
        const vl_idlist *l = pass == 0 ? &u->out : &u->in;
        if (!(dir & (pass == 0 ? VALORI_DIR_OUT : VALORI_DIR_IN))) continue;
        for (t = 0; t < l->n && count < max_nodes; t++) {
          const vl_gedge *g = vl_graph_edge(&e->graph, l->v[t]);
          uint64_t other;
          if (VL_NEVER(!g)) continue; /* adjacency lists hold existing edges only */
          other = pass == 0 ? g->to : g->from;
          if (vl_map_get(&seen, other, NULL)) continue;
          vl_map_put(&seen, other, 1);
          all[count].node_id = other;
          all[count].via_edge = g->id;
          all[count].depth = depth;
          count++;
        }
      }
    }
    vl_sort(all + end, count - end, sizeof *all, reach_cmp);
    start = end;
    end = count;
  }
  if (count && cap) memcpy(out, all, (size_t)VL_MIN((size_t)count, cap) * sizeof *all);
  *out_n = count;
done:
  vl_free(a, all, (size_t)max_nodes * sizeof *all);
  vl_free(a, sorted, (nseeds ? nseeds : 1) * 8);
  vl_map_free(&seen, a);
  return rc;
}

/* ---- consistency check */

#define VL_CHECK(cond) do { if (!(cond)) return VALORI_ECORRUPT; } while (0)

int vl_engine_check(const vl_engine *e) {
  const vl_records *r = &e->rec;
  const vl_hnsw *h = &e->hnsw;
  const vl_graph *g = &e->graph;
  const int idx = vl_engine_indexed(e);
  uint64_t live = 0, dead = 0, posted = 0;
  uint32_t i, lc, t, s;
  VL_CHECK(!r->trav || (r->cvec_cap >= r->cap && (r->cvec || !r->cvec_cap))); /* the copy grows first (records.c) */
  for (i = 0; i < r->nslots; i++) {
    uint8_t L = vl_engine_slot_level(e, i);
    if (r->state[i] == VL_SLOT_LIVE) {
      live++;
      VL_CHECK(r->id[i] && r->id[i] < e->next_rec);
      VL_CHECK(vl_map_get(&r->ids, r->id[i], &s) && s == i);
      VL_CHECK(!idx || L != VL_NOT_IN_INDEX);
      if (r->node[i]) {
        const vl_gnode *n = vl_graph_node(g, r->node[i]);
        VL_CHECK(n && n->record_id == r->id[i]);
      }
    } else if (r->state[i] == VL_SLOT_DEAD) {
      dead++;
      VL_CHECK(idx && L != VL_NOT_IN_INDEX); /* without an index a delete frees the slot at once */
    } else {
      VL_CHECK(r->state[i] == VL_SLOT_FREE && L == VL_NOT_IN_INDEX);
    }
    if (r->state[i] != VL_SLOT_FREE) { /* the derived flags and compact copy follow from the vector */
      const int32_t *v = vl_rec_vec(r, i);
      uint8_t f = vl_vec_whole(v, r->dim) ? VL_VEC_WHOLE : 0;
      if (r->trav) { /* the compact copy is the rule applied to the vector (compact.h) */
        const int8_t *c = r->cvec + (size_t)i * r->dim;
        uint32_t j, sh = vl_trav_shift(r->trav);
        int32_t ce = vl_trav_center(r->trav);
        int exact = 1;
        for (j = 0; j < r->dim; j++) {
          VL_CHECK(c[j] == vl_trav_q(v[j], sh, ce));
          exact &= vl_trav_lossless(v[j], c[j], sh, ce);
        }
        if (exact) f |= VL_VEC_CEXACT;
      }
      VL_CHECK(r->vflags[i] == f);
    }
    if (L == VL_NOT_IN_INDEX) continue;
    for (lc = 0; lc <= h->level[i]; lc++) {
      const uint32_t *l = vl_hnsw_links(h, i, lc);
      VL_CHECK(l[0] <= (lc ? h->M : h->M0));
      for (t = 1; t <= l[0]; t++)
        VL_CHECK(l[t] < r->nslots && l[t] != i && h->level[l[t]] != VL_NOT_IN_INDEX && h->level[l[t]] >= lc);
    }
  }
  VL_CHECK(live == r->live && dead == r->dead && r->ids.n == live);
  for (i = 0; i < r->nfree; i++) VL_CHECK(r->freel[i] < r->nslots && r->state[r->freel[i]] == VL_SLOT_FREE);
  VL_CHECK((uint64_t)r->nfree + live + dead == r->nslots);
  for (i = 0; i < r->npost; i++) {
    VL_CHECK(r->post[i].n > 0);
    for (t = 0; t < r->post[i].n; t++) {
      s = r->post[i].slots[t];
      VL_CHECK(s < r->nslots && r->state[s] == VL_SLOT_LIVE && r->tag[s] == r->post[i].tag && r->tagpos[s] == t);
    }
    posted += r->post[i].n;
  }
  VL_CHECK(posted == live);
  if (h->maxlevel >= 0) VL_CHECK(idx && h->entry < r->nslots && h->level[h->entry] == (uint32_t)h->maxlevel);
  else VL_CHECK(h->nindex == 0);
  if (!idx) VL_CHECK(h->cap == 0 && h->nindex == 0 && h->maxlevel < 0 && e->scratch.stamp_cap == 0);
  for (i = 0; i < g->nedges; i++) {
    const vl_gedge *x = &g->edges[i];
    VL_CHECK(x->id && x->id < e->next_edge && vl_graph_node(g, x->from) && vl_graph_node(g, x->to));
  }
  for (i = 0; i < g->nnodes; i++) {
    const vl_gnode *n = &g->nodes[i];
    VL_CHECK(n->id && n->id < e->next_node);
    if (n->record_id) {
      int64_t rs = vl_rec_slot(r, n->record_id);
      VL_CHECK(rs >= 0 && r->node[rs] == n->id);
    }
    for (t = 0; t < n->out.n; t++) {
      const vl_gedge *x = vl_graph_edge(g, n->out.v[t]);
      VL_CHECK(x && x->from == n->id && (t == 0 || n->out.v[t - 1] < n->out.v[t]));
    }
    for (t = 0; t < n->in.n; t++) {
      const vl_gedge *x = vl_graph_edge(g, n->in.v[t]);
      VL_CHECK(x && x->to == n->id && (t == 0 || n->in.v[t - 1] < n->in.v[t]));
    }
  }
  return vl_engine_verify_content(e);
}
