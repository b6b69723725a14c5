/*
** records.h: the record store. Records live in numbered slots; each slot's vector sits in one
** contiguous int32 array (vec[slot * dim]) that the distance kernels and the HNSW index read
** directly. A slot is FREE, LIVE, or DEAD (record deleted but its old vector still referenced by the
** HNSW graph until the next index cleanup frees it). Freed slots are reused LIFO, so slot numbers
** are a deterministic function of the event history; nothing observable depends on them beyond
** the index digest and snapshot bytes, which are themselves deterministic.
**
** Lookup structures: record id -> slot (hash map) and tag -> posting list of slots (for exact
** filtered search and selectivity counts). Mutations follow prepare/commit: the vl_rec_reserve*
** functions do every allocation a later commit needs; commit functions cannot fail.
*/
#ifndef VL_RECORDS_H
#define VL_RECORDS_H
#include "util.h"

enum { VL_SLOT_FREE = 0, VL_SLOT_LIVE = 1, VL_SLOT_DEAD = 2 };

typedef struct vl_posting {
  uint64_t tag;
  uint32_t *slots;
  uint32_t n, cap;
  uint32_t pend; /* additions reserved by a prepare, not yet committed */
  uint32_t pad;
} vl_posting;

/* Per-slot vector flags (vl_records.vflags). */
#define VL_VEC_WHOLE 1u  /* whole-valued (dist.h, vl_vec_whole): the _whole kernels apply */
#define VL_VEC_CEXACT 2u /* the compact copy is lossless (compact.h, vl_trav_quantize) */

typedef struct vl_records {
  const valori_allocator *a;
  uint32_t dim;
  uint32_t cap;        /* slots allocated */
  uint32_t nslots;     /* slots ever used (high-water mark) */
  int32_t *vec;        /* cap * dim */
  uint64_t *id;        /* per slot; kept while DEAD (tie-breaks in the index) */
  uint64_t *tag;
  uint64_t *node;      /* linked graph node id, 0 = none */
  uint8_t **meta;
  uint32_t *meta_len;
  uint32_t *tagpos;    /* position of the slot in its tag's posting list */
  uint8_t *state;
  uint8_t *vflags;     /* per slot: VL_VEC_* bits of the slot's vector (derived, as cvec) */
  uint32_t trav;       /* traversal word (compact.h); 0 = no compact copy, cvec stays NULL */
  int8_t *cvec;        /* cvec_cap * dim: the compact traversal copy of vec (derived, compact.h) */
  uint32_t cvec_cap;   /* slots cvec holds: cap, or more after a growth whose other arrays failed */
  uint32_t *freel;     /* stack of FREE slots below nslots */
  uint32_t nfree, free_cap;
  vl_map ids;          /* record id -> slot (LIVE only) */
  vl_map tags;         /* tag -> index into post */
  vl_posting *post;
  uint32_t npost, post_cap;
  uint64_t live, dead;
} vl_records;

/* trav: the store's traversal word (0 = none); with one, every slot keeps a compact copy. */
void vl_rec_init(vl_records *r, const valori_allocator *a, uint32_t dim, uint32_t trav);
void vl_rec_free(vl_records *r);

/* Slot capacity for `extra` new records (beyond the free list). */
int vl_rec_reserve_slots(vl_records *r, uint32_t extra);
/* Room in the id map for `extra` more ids. */
int vl_rec_reserve_ids(vl_records *r, uint32_t extra);
/* Reserves one posting-list addition for tag (creates the posting if needed). Undo with
** vl_rec_unreserve_all on failure of a later prepare step. */
int vl_rec_reserve_tag(vl_records *r, uint64_t tag);
void vl_rec_unreserve_all(vl_records *r);

/* Commit: takes the next slot and makes it LIVE with the given content (meta ownership passes). */
uint32_t vl_rec_commit_insert(vl_records *r, uint64_t id, uint64_t tag, const int32_t *vec, uint8_t *meta, uint32_t meta_len);
/* The same with the vector given as dim LE int32 (an event's bytes, any alignment), decoded
** straight into the slot. */
uint32_t vl_rec_commit_insert_le(vl_records *r, uint64_t id, uint64_t tag, const uint8_t *vec_le, uint8_t *meta,
                                 uint32_t meta_len);
/* Commit: LIVE -> DEAD (removed from id map and posting list; vector kept for the index). */
void vl_rec_commit_kill(vl_records *r, uint32_t slot);
/* Commit: DEAD -> FREE (frees metadata, pushes the slot on the free stack). */
void vl_rec_commit_release(vl_records *r, uint32_t slot);
/* Recomputes vflags[slot] and the compact copy after the slot's vector was written. */
void vl_rec_vec_changed(vl_records *r, uint32_t slot);
/* Commit: changes a LIVE slot's tag (posting reserved for the new tag). */
void vl_rec_commit_retag(vl_records *r, uint32_t slot, uint64_t tag);

/* Slot of a LIVE record, or -1. */
static inline int64_t vl_rec_slot(const vl_records *r, uint64_t id) {
  uint32_t s;
  return vl_map_get(&r->ids, id, &s) ? (int64_t)s : -1;
}
static inline const int32_t *vl_rec_vec(const vl_records *r, uint32_t slot) { return r->vec + (size_t)slot * r->dim; }
/* Posting list of tag, or NULL. */
const vl_posting *vl_rec_posting(const vl_records *r, uint64_t tag);
size_t vl_rec_bytes_vectors(const vl_records *r);
size_t vl_rec_bytes_other(const vl_records *r);

/* Snapshot restore: fills one slot (state LIVE or DEAD) of a fresh store sized with
** vl_rec_reserve_slots; LIVE slots enter the id map and postings. EEXIST on a duplicate id. */
int vl_rec_restore(vl_records *r, uint32_t slot, uint8_t state, uint64_t id, uint64_t tag, uint64_t node,
                   const int32_t *vec, uint8_t *meta, uint32_t meta_len);

#endif
