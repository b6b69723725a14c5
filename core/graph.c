/*
** graph.c: node and edge storage with sorted adjacency lists (see graph.h).
*/
#include "graph.h"

void vl_graph_init(vl_graph *g, const valori_allocator *a) {
  memset(g, 0, sizeof *g);
  g->a = a;
  vl_map_init(&g->node_ix);
  vl_map_init(&g->edge_ix);
}

static void list_free(const valori_allocator *a, vl_idlist *l) { vl_free(a, l->v, (size_t)l->cap * 8); memset(l, 0, sizeof *l); }

void vl_graph_free(vl_graph *g) {
  uint32_t i;
  for (i = 0; i < g->nnodes; i++) {
    vl_free(g->a, g->nodes[i].label, g->nodes[i].label_len);
    list_free(g->a, &g->nodes[i].out);
    list_free(g->a, &g->nodes[i].in);
  }
  vl_free(g->a, g->nodes, (size_t)g->node_cap * sizeof(vl_gnode));
  vl_free(g->a, g->edges, (size_t)g->edge_cap * sizeof(vl_gedge));
  vl_map_free(&g->node_ix, g->a);
  vl_map_free(&g->edge_ix, g->a);
  memset(g, 0, sizeof *g);
}

vl_gnode *vl_graph_node(const vl_graph *g, uint64_t id) {
  uint32_t i;
  return id && vl_map_get(&g->node_ix, id, &i) ? &g->nodes[i] : NULL;
}

vl_gedge *vl_graph_edge(const vl_graph *g, uint64_t id) {
  uint32_t i;
  return id && vl_map_get(&g->edge_ix, id, &i) ? &g->edges[i] : NULL;
}

int vl_graph_reserve_nodes(vl_graph *g, uint32_t n) {
  if (g->nnodes + (uint64_t)n > g->node_cap) {
    void *p = g->nodes;
    uint32_t nc = g->node_cap ? g->node_cap : 16;
    while (nc < g->nnodes + (uint64_t)n) nc *= 2;
    VL_TRY(vl_grow(g->a, &p, g->node_cap, nc, sizeof(vl_gnode)));
    g->nodes = p;
    g->node_cap = nc;
  }
  return vl_map_reserve(&g->node_ix, g->a, n);
}

static int list_reserve(const valori_allocator *a, vl_idlist *l, uint32_t extra) {
  if (l->n + extra > l->cap) {
    void *p = l->v;
    uint32_t nc = l->cap ? l->cap * 2 : 4;
    while (nc < l->n + extra) nc *= 2;
    VL_TRY(vl_grow(a, &p, l->cap, nc, 8));
    l->v = p;
    l->cap = nc;
  }
  return VALORI_OK;
}

int vl_graph_reserve_edge(vl_graph *g, uint64_t from, uint64_t to) {
  vl_gnode *f = vl_graph_node(g, from), *t = vl_graph_node(g, to);
  if (!f || !t) return VALORI_ENOTFOUND;
  if (g->nedges == g->edge_cap) {
    void *p = g->edges;
    uint32_t nc = g->edge_cap ? g->edge_cap * 2 : 16;
    VL_TRY(vl_grow(g->a, &p, g->edge_cap, nc, sizeof(vl_gedge)));
    g->edges = p;
    g->edge_cap = nc;
  }
  VL_TRY(vl_map_reserve(&g->edge_ix, g->a, 1));
  VL_TRY(list_reserve(g->a, &f->out, 1));
  return list_reserve(g->a, &t->in, 1);
}

void vl_graph_add_node(vl_graph *g, uint64_t id, uint32_t kind, uint64_t record_id, uint8_t *label, uint32_t label_len) {
  vl_gnode *n = &g->nodes[g->nnodes];
  memset(n, 0, sizeof *n);
  n->id = id;
  n->kind = kind;
  n->record_id = record_id;
  n->label = label;
  n->label_len = label_len;
  vl_map_put(&g->node_ix, id, g->nnodes++);
}

/* Edge ids only grow, so appending keeps every list sorted. */
void vl_graph_add_edge(vl_graph *g, const vl_gedge *e) {
  vl_gnode *f = vl_graph_node(g, e->from), *t;
  f->out.v[f->out.n++] = e->id;
  t = vl_graph_node(g, e->to);
  t->in.v[t->in.n++] = e->id;
  g->edges[g->nedges] = *e;
  vl_map_put(&g->edge_ix, e->id, g->nedges++);
}

static void list_remove(vl_idlist *l, uint64_t id) {
  uint32_t lo = 0, hi = l->n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (l->v[mid] < id) lo = mid + 1; else hi = mid;
  }
  if (lo < l->n && l->v[lo] == id) {
    memmove(l->v + lo, l->v + lo + 1, (size_t)(l->n - lo - 1) * 8);
    l->n--;
  }
}

void vl_graph_remove_edge(vl_graph *g, uint64_t id, void (*on_edge)(void *, const vl_gedge *), void *ctx) {
  uint32_t i, last;
  vl_gedge *e;
  if (!vl_map_get(&g->edge_ix, id, &i)) return;
  e = &g->edges[i];
  if (on_edge) on_edge(ctx, e);
  list_remove(&vl_graph_node(g, e->from)->out, id);
  list_remove(&vl_graph_node(g, e->to)->in, id);
  vl_map_del(&g->edge_ix, id);
  last = --g->nedges;
  if (i != last) {
    g->edges[i] = g->edges[last];
    vl_map_put(&g->edge_ix, g->edges[i].id, i);
  }
}

void vl_graph_remove_node(vl_graph *g, uint64_t id, void (*on_edge)(void *, const vl_gedge *),
                          void (*on_node)(void *, const vl_gnode *), void *ctx) {
  uint32_t i, last;
  vl_gnode *n = vl_graph_node(g, id);
  if (!n) return;
  /* newest first; a self-loop sits in both lists and leaves both on its first removal */
  while (n->out.n) vl_graph_remove_edge(g, n->out.v[n->out.n - 1], on_edge, ctx);
  while (n->in.n) vl_graph_remove_edge(g, n->in.v[n->in.n - 1], on_edge, ctx);
  if (on_node) on_node(ctx, n);
  vl_map_get(&g->node_ix, id, &i);
  vl_free(g->a, n->label, n->label_len);
  list_free(g->a, &n->out);
  list_free(g->a, &n->in);
  vl_map_del(&g->node_ix, id);
  last = --g->nnodes;
  if (i != last) {
    g->nodes[i] = g->nodes[last];
    vl_map_put(&g->node_ix, g->nodes[i].id, i);
  }
}

size_t vl_graph_bytes(const vl_graph *g) {
  size_t b = (size_t)g->node_cap * sizeof(vl_gnode) + (size_t)g->edge_cap * sizeof(vl_gedge) +
             vl_map_bytes(&g->node_ix) + vl_map_bytes(&g->edge_ix);
  uint32_t i;
  for (i = 0; i < g->nnodes; i++) b += g->nodes[i].label_len + ((size_t)g->nodes[i].out.cap + g->nodes[i].in.cap) * 8;
  return b;
}
