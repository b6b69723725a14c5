/*
** graph.h: the knowledge graph: nodes (kind, optional record link, optional label) and directed,
** typed, optionally weighted edges. Each node keeps its out- and in-edge ids sorted ascending
** (creation order), which is the order every query reports. Lookups go through id -> index hash
** maps; nodes and edges sit in dense arrays (swap-remove on delete, a deterministic function of
** the history, reproduced exactly by snapshots).
** Mutations follow prepare/commit: vl_graph_reserve_* allocate; commits cannot fail.
*/
#ifndef VL_GRAPH_H
#define VL_GRAPH_H
#include "util.h"

typedef struct vl_idlist {
  uint64_t *v;
  uint32_t n, cap;
} vl_idlist;

typedef struct vl_gnode {
  uint64_t id, record_id;
  uint32_t kind, label_len;
  uint8_t *label;
  vl_idlist out, in; /* edge ids, ascending */
} vl_gnode;

typedef struct vl_gedge {
  uint64_t id, from, to;
  uint32_t kind, has_weight;
  int32_t weight;
  uint32_t pad;
} vl_gedge;

typedef struct vl_graph {
  const valori_allocator *a;
  vl_gnode *nodes;
  uint32_t nnodes, node_cap;
  vl_gedge *edges;
  uint32_t nedges, edge_cap;
  vl_map node_ix, edge_ix;
} vl_graph;

void vl_graph_init(vl_graph *g, const valori_allocator *a);
void vl_graph_free(vl_graph *g);

vl_gnode *vl_graph_node(const vl_graph *g, uint64_t id);
vl_gedge *vl_graph_edge(const vl_graph *g, uint64_t id);

/* Room for `n` more nodes. */
int vl_graph_reserve_nodes(vl_graph *g, uint32_t n);
/* Room for one edge from -> to (both must exist). */
int vl_graph_reserve_edge(vl_graph *g, uint64_t from, uint64_t to);

/* Commit: adds a node (label ownership passes to the graph). */
void vl_graph_add_node(vl_graph *g, uint64_t id, uint32_t kind, uint64_t record_id, uint8_t *label, uint32_t label_len);
/* Commit: adds an edge. */
void vl_graph_add_edge(vl_graph *g, const vl_gedge *e);
/* Commit: removes an edge; calls on_edge(ctx, e) first (for the state hash). */
void vl_graph_remove_edge(vl_graph *g, uint64_t id, void (*on_edge)(void *, const vl_gedge *), void *ctx);
/* Commit: removes a node and all its edges (on_edge for each, then on_node). */
void vl_graph_remove_node(vl_graph *g, uint64_t id, void (*on_edge)(void *, const vl_gedge *),
                          void (*on_node)(void *, const vl_gnode *), void *ctx);

size_t vl_graph_bytes(const vl_graph *g);
#endif
