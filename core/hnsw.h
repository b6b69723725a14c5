/*
** hnsw.h: a deterministic HNSW index (Malkov & Yashunin) over the record store's slots.
**
** Determinism: a node's level comes from a fixed hash of its record id (vl_hnsw_level); every
** candidate comparison uses the total order (distance, id, slot); neighbour selection is the
** diversity heuristic over a list sorted by that order; nothing depends on addresses or time.
** Layout: level-0 link lists in one contiguous array (cap * (1 + 2M) u32: count, then slots),
** upper levels in one small array per node that has them; vectors are read in place from the
** record store (vl_space). No per-neighbour pointer chasing.
** Deletes: a deleted record's slot stays in the graph as a routing-only tombstone until
** vl_hnsw_purge (run by the engine when tombstones exceed 1/8 of live records + 16, when the entry
** point is a tombstone, or when nothing is live) drops it. The purge rebuilds every list that held
** a tombstone from the live nodes reachable through chains of tombstones, then gives every live
** node left without a level-0 in-link one (taken from a neighbour's list only where that does not
** orphan another node), so every live node keeps an in-link and memory stays bounded. An insert
** that finds no live node near it links to tombstones rather than to nothing.
** Mutations follow prepare/commit: vl_hnsw_reserve, vl_hnsw_alloc_up and vl_scratch_reserve
** allocate; vl_hnsw_insert and vl_hnsw_purge cannot fail.
*/
#ifndef VL_HNSW_H
#define VL_HNSW_H
#include "util.h"

#define VL_HNSW_MAX_LEVEL 15u
#define VL_NOT_IN_INDEX 0xFFu

/* Read-only view of the record store the index works on. */
typedef struct vl_space {
  const int32_t *vec;
  const uint64_t *id;
  const uint64_t *tag;
  const uint8_t *state; /* VL_SLOT_* */
  const uint8_t *vflags; /* per slot: VL_VEC_* (records.h): whole-valued, compact copy lossless */
  const int8_t *cvec;   /* the compact traversal copies (compact.h), NULL when the store has none */
  uint32_t trav;        /* the store's traversal word (0 = none) */
  uint32_t dim, metric;
  uint32_t qwhole;      /* set inside hnsw.c for the query at hand: it is whole-valued */
  const int8_t *qc;     /* set inside vl_hnsw_search: the query's compact copy, so distances that
                        ** steer the walk use the copies; NULL = exact distances (always for builds) */
  int8_t *qbuf;         /* dim bytes for that copy, given by the caller of vl_hnsw_search when cvec */
  const int16_t *qp;    /* set inside hnsw.c where dist.h's VL_QPACK is defined: the query packed
                        ** (vl_qpack) when qwhole, else NULL */
} vl_space;

/* Optional tag filter: a record matches when its tag is one of tags[0..n-1] (sorted ascending). */
typedef struct vl_filter {
  const uint64_t *tags;
  uint32_t n;
} vl_filter;

/* Per-search scratch (visited stamps and heaps). Engine-owned for inserts, caller-owned for
** searches (valori_searcher), so searches never write to the index. */
typedef struct vl_scratch {
  uint32_t *stamp;
  uint32_t stamp_cap, epoch;
  vl_cand *cand;   /* min-heap of candidates; bounded by the slots visited */
  uint32_t cand_cap;
  vl_cand *res;    /* max-heap of results; ef + 1 */
  uint32_t res_cap;
  vl_cand *sel;    /* neighbour selection: 2 * max((2M + 1)^2, ef + 1) */
  uint32_t sel_cap;
  uint32_t *indeg; /* level-0 in-degrees during a purge; stamp_cap entries */
} vl_scratch;

typedef struct vl_hnsw {
  const valori_allocator *a;
  uint32_t M, M0, efc;
  uint32_t cap;
  uint32_t *l0;    /* cap * (1 + M0) */
  uint32_t **up;   /* per slot: levels 1..L, each (1 + M) u32 */
  uint8_t *level;  /* per slot; VL_NOT_IN_INDEX when absent */
  uint32_t entry;
  int32_t maxlevel; /* -1 when empty */
  uint32_t nindex;  /* slots in the graph (live + tombstones) */
} vl_hnsw;

void vl_hnsw_init(vl_hnsw *h, const valori_allocator *a, uint32_t M, uint32_t efc);
void vl_hnsw_free(vl_hnsw *h);
int vl_hnsw_reserve(vl_hnsw *h, uint32_t cap);
/* Level of a record id: P(level >= l) = M^-l, from splitmix64(id); capped at VL_HNSW_MAX_LEVEL. */
uint32_t vl_hnsw_level(uint64_t id, uint32_t M);
/* Allocates the upper-level link array for a node of level L (NULL when L == 0). */
int vl_hnsw_alloc_up(vl_hnsw *h, uint32_t L, uint32_t **out);
void vl_hnsw_free_up(vl_hnsw *h, uint32_t L, uint32_t *up);
/* Inserts slot (whose vector and id are already in sp) with level L and its prepared up array. */
void vl_hnsw_insert(vl_hnsw *h, const vl_space *sp, uint32_t slot, uint32_t L, uint32_t *up, vl_scratch *s);
/* Removes every tombstone (state DEAD) from the graph, repairing the links around them. */
void vl_hnsw_purge(vl_hnsw *h, const vl_space *sp, uint32_t nslots, vl_scratch *s);
/* k nearest LIVE slots matching f (NULL = all) to q with beam width ef (>= k: the engine resolves
** it, search.c); sorted ascending. Returns how many were written to out (<= k). s must have been
** reserved for the store's slot capacity and ef. With a compact traversal copy (sp->cvec) the walk
** compares compact distances and the ef results it keeps are re-ranked by the exact distance: out
** holds the best k of them in the exact order (distance, id, slot) with their exact distances. */
uint32_t vl_hnsw_search(const vl_hnsw *h, const vl_space *sp, const int32_t *q, uint32_t k, uint32_t ef,
                        const vl_filter *f, vl_scratch *s, vl_cand *out);
/* Link list of slot at level lc: count in [0], slots in [1..count]. */
static inline uint32_t *vl_hnsw_links(const vl_hnsw *h, uint32_t slot, uint32_t lc) {
  return lc == 0 ? h->l0 + (size_t)slot * (1 + h->M0) : h->up[slot] + (size_t)(lc - 1) * (1 + h->M);
}
size_t vl_hnsw_bytes(const vl_hnsw *h);
/* Level of a slot in the graph: VL_NOT_IN_INDEX for slots outside it, and for every slot of an
** index that holds no arrays at all (an index-less store's, cap 0). */
static inline uint8_t vl_hnsw_slot_level(const vl_hnsw *h, uint32_t slot) {
  return slot < h->cap ? h->level[slot] : (uint8_t)VL_NOT_IN_INDEX;
}
/* The index digest (docs/FORMAT.md, "State root encodings"): SHA-256 over the parameters, the entry
** point and, for slots 0..nslots-1, each slot's level and link lists. An index-less store's empty
** index (M = 0, no arrays) has a well-defined digest too. */
void vl_hnsw_digest(const vl_hnsw *h, uint32_t nslots, uint8_t out[32]);

int vl_scratch_reserve(vl_scratch *s, const valori_allocator *a, uint32_t nslots, uint32_t ef, uint32_t M0);
void vl_scratch_free(vl_scratch *s, const valori_allocator *a);
size_t vl_scratch_bytes(const vl_scratch *s);
int vl_filter_match(const vl_filter *f, uint64_t tag);

#endif
