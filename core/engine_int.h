/*
** engine_int.h: the engine's private layout, shared by engine.c (apply, root), search.c (queries)
** and snapshot.c (codec), and by the tests that check the index itself (test_hnsw_reach.c). Hosts
** never include it (CMake gives them core/include only); api.c reaches the engine through
** engine.h and the query functions below.
*/
#ifndef VL_ENGINE_INT_H
#define VL_ENGINE_INT_H
#include "engine.h"
#include "graph.h"
#include "hnsw.h"
#include "lthash.h"
#include "records.h"

struct vl_engine {
  const valori_allocator *a;
  vl_config cfg;
  uint64_t height;
  uint64_t next_rec, next_node, next_edge; /* next ids to assign (start at 1) */
  vl_records rec;
  vl_hnsw hnsw;
  vl_graph graph;
  vl_lthash acc;       /* multiset hash of every record, node and edge */
  uint8_t root[32];    /* root of the current state, refreshed after every event */
  vl_scratch scratch;  /* for inserts and purges (writer only) */
  int32_t *tmpvec;     /* dim components */
  int threads;         /* vl_engine_set_threads */
  vl_par *par;         /* the worker when threads are on (vl_engine_set_threads), else NULL */
};

/* 1 when the store maintains an HNSW index (configuration M != 0), 0 for an index-less store,
** whose vl_hnsw stays empty (no arrays allocated) and whose records are never DEAD. */
static inline int vl_engine_indexed(const vl_engine *e) { return e->cfg.hnsw_m != 0; }

/* Index level of a slot below rec.nslots, VL_NOT_IN_INDEX for slots outside the graph (every slot
** of an index-less store). */
static inline uint8_t vl_engine_slot_level(const vl_engine *e, uint32_t slot) {
  return vl_hnsw_slot_level(&e->hnsw, slot);
}

/* View of the record store for the index. Valid until the next reserve. */
static inline vl_space vl_engine_space(const vl_engine *e) {
  vl_space sp;
  sp.vec = e->rec.vec;
  sp.id = e->rec.id;
  sp.tag = e->rec.tag;
  sp.state = e->rec.state;
  sp.vflags = e->rec.vflags;
  sp.cvec = e->rec.cvec;
  sp.trav = e->cfg.traversal;
  sp.dim = e->cfg.dim;
  sp.metric = e->cfg.metric;
  sp.qwhole = 0;
  sp.qp = NULL;
  sp.qc = NULL;
  sp.qbuf = NULL;
  return sp;
}

/* Element digests (docs/FORMAT.md, "State root"). */
void vl_digest_record(uint64_t id, uint64_t tag, const int32_t *vec, uint32_t dim, const uint8_t *meta,
                      uint32_t meta_len, uint8_t out[32]);
/* The same digest of a vector given as dim LE int32 (an event's bytes; any alignment). */
void vl_digest_record_le(uint64_t id, uint64_t tag, const uint8_t *vec_le, uint32_t dim, const uint8_t *meta,
                         uint32_t meta_len, uint8_t out[32]);
void vl_digest_node(const vl_gnode *n, uint8_t out[32]);
void vl_digest_edge(const vl_gedge *e, uint8_t out[32]);
/* Recomputes e->root from the accumulator and counters. */
void vl_engine_refresh_root(vl_engine *e);
/* Recomputes the multiset hash from scratch (vl_engine_verify_content). */
void vl_engine_recompute_acc(const vl_engine *e, vl_lthash *out);
/* Grows the writer scratch to the record capacity. */
int vl_engine_reserve_scratch(vl_engine *e);

/* k-NN search (search.c) for parameters that passed valori_search's checks: refuses mode HNSW
** without an index (EINVAL), converts the binary32 query (ENAN / EINF / ERANGE), resolves ef (0 =
** the store's default, raised to k), sizes the caller's scratch s with allocator a (ENOMEM), then
** plans and searches. out must hold p->k entries; *n receives how many were written. */
int vl_engine_search(const vl_engine *e, vl_scratch *s, const valori_allocator *a, const float *query,
                     const valori_search_params *p, vl_cand *out, uint32_t *n);
int vl_engine_expand(const vl_engine *e, const uint64_t *seeds, size_t nseeds, uint32_t hops, uint32_t dir,
                     uint32_t max_nodes, valori_reach *out, size_t cap, size_t *out_n);
/* Full consistency check (valori_check). */
int vl_engine_check(const vl_engine *e);
#endif
