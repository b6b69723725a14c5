/*
** util.h: small deterministic containers: a u64 -> u32 hash map (lookups only; nothing ever
** iterates it, so its layout never reaches state or results), a generic heapsort with a
** caller-given total order (replaces qsort, whose order is implementation-defined), and the
** (distance, id) heap entries the searches use.
*/
#ifndef VL_UTIL_H
#define VL_UTIL_H
#include "vl_int.h"

/* ---- u64 -> u32 map: open addressing, linear probing, backward-shift deletion. Key 0 marks an
** empty cell, so the entry for key 0 lives in (zhas, zval) beside the table. */
typedef struct vl_map {
  uint64_t *keys; /* 0 = empty */
  uint32_t *vals;
  uint32_t cap;   /* power of two, or 0 */
  uint32_t n;     /* keys in the table (key 0 not counted) */
  uint32_t zhas, zval;
} vl_map;

void vl_map_init(vl_map *m);
void vl_map_free(vl_map *m, const valori_allocator *a);
/* Ensures room for `extra` more keys without exceeding a 1/2 load factor. */
int vl_map_reserve(vl_map *m, const valori_allocator *a, uint32_t extra);
/* Looks up key; returns 1 and sets *val when present. */
int vl_map_get(const vl_map *m, uint64_t key, uint32_t *val);
/* Inserts or overwrites; room must have been reserved. */
void vl_map_put(vl_map *m, uint64_t key, uint32_t val);
/* Removes key if present. */
void vl_map_del(vl_map *m, uint64_t key);
size_t vl_map_bytes(const vl_map *m);

/* ---- heapsort: deterministic for any total order (unique keys give one possible output). */
void vl_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

/* ---- candidate entries: ordered by (d, id, slot); slot breaks ties between a live record and
** the tombstone of its previous vector, which share the id. */
typedef struct vl_cand {
  int64_t d;
  uint64_t id;
  uint32_t slot;
  uint32_t pad;
} vl_cand;

static inline int vl_cand_less(const vl_cand *x, const vl_cand *y) {
  if (x->d != y->d) return x->d < y->d;
  if (x->id != y->id) return x->id < y->id;
  return x->slot < y->slot;
}
int vl_cand_cmp(const void *a, const void *b);

/* Binary heaps: VL_HEAP_DEFINE(P, T, C, LESS) defines P_push, P_pop, P_sift_down and P_replace_top
** over entries of type T ordered by LESS(ctx, x, y) (a strict total order; ctx of type C is handed
** through); max = 1 keeps the worst on top, max = 0 the best. Inline so that every call site, whose
** `max` is a constant, gets its own branch-free comparison. */
#define VL_HEAP_DEFINE(P, T, C, LESS)                                                             \
  static inline int P##_above(C ctx, const T *x, const T *y, int max) {                           \
    return max ? LESS(ctx, y, x) : LESS(ctx, x, y);                                               \
  }                                                                                               \
  static inline void P##_push(C ctx, T *h, uint32_t *n, T c, int max) {                           \
    uint32_t i = (*n)++;                                                                          \
    while (i > 0) {                                                                               \
      uint32_t p = (i - 1) / 2;                                                                   \
      if (!P##_above(ctx, &c, &h[p], max)) break;                                                 \
      h[i] = h[p];                                                                                \
      i = p;                                                                                      \
    }                                                                                             \
    h[i] = c;                                                                                     \
  }                                                                                               \
  /* Moves `last` down from position 0 of a heap of m entries. */                                 \
  static inline void P##_sift_down(C ctx, T *h, uint32_t m, T last, int max) {                    \
    uint32_t i = 0;                                                                               \
    for (;;) {                                                                                    \
      uint32_t c = 2 * i + 1;                                                                     \
      if (c >= m) break;                                                                          \
      if (c + 1 < m && P##_above(ctx, &h[c + 1], &h[c], max)) c++;                                \
      if (!P##_above(ctx, &h[c], &last, max)) break;                                              \
      h[i] = h[c];                                                                                \
      i = c;                                                                                      \
    }                                                                                             \
    if (m) h[i] = last;                                                                           \
  }                                                                                               \
  static inline T P##_pop(C ctx, T *h, uint32_t *n, int max) {                                    \
    T top = h[0];                                                                                 \
    --(*n);                                                                                       \
    P##_sift_down(ctx, h, *n, h[*n], max);                                                        \
    return top;                                                                                   \
  }                                                                                               \
  /* Replaces the top of a non-empty heap with c (pop then push, in one sift). */                 \
  static inline void P##_replace_top(C ctx, T *h, uint32_t n, T c, int max) { P##_sift_down(ctx, h, n, c, max); }

/* The heap over vl_cand (no context: pass NULL). */
static inline int vl_cand_less_ctx(const void *ctx, const vl_cand *x, const vl_cand *y) {
  (void)ctx;
  return vl_cand_less(x, y);
}
VL_HEAP_DEFINE(vl_heap, vl_cand, const void *, vl_cand_less_ctx)

static inline uint64_t vl_mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
#endif
