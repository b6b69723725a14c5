/*
** hnsw.c: the deterministic HNSW index (see hnsw.h for the contract).
*/
#include "hnsw.h"
#include "compact.h"
#include "dist.h"
#include "records.h"
#include "sha256.h"

#if defined(__wasm__)
/* WebAssembly has no prefetch instruction. One plain byte load per cache line gets the lines in
** flight just the same (the loads are independent, so the CPU overlaps their misses); storing the
** byte to a sink keeps the compiler from dropping the load. Thread-local, so concurrent searches
** never share it (the only global state the library has, and write-only). */
static _Thread_local volatile uint8_t vl_sink;
#define VL_PREFETCH(p) (vl_sink = *(const volatile uint8_t *)(const void *)(p))
#elif defined(__GNUC__) || defined(__clang__)
#define VL_PREFETCH(p) __builtin_prefetch(p)
#else
#define VL_PREFETCH(p) ((void)0)
#endif

void vl_hnsw_init(vl_hnsw *h, const valori_allocator *a, uint32_t M, uint32_t efc) {
  memset(h, 0, sizeof *h);
  h->a = a;
  h->M = M;
  h->M0 = 2 * M;
  h->efc = efc;
  h->maxlevel = -1;
}

void vl_hnsw_free(vl_hnsw *h) {
  uint32_t i;
  for (i = 0; i < h->cap; i++)
    if (h->up[i]) vl_hnsw_free_up(h, h->level[i], h->up[i]);
  vl_free(h->a, h->l0, (size_t)h->cap * (1 + h->M0) * 4);
  vl_free(h->a, h->up, (size_t)h->cap * sizeof(uint32_t *));
  vl_free(h->a, h->level, h->cap);
  memset(h, 0, sizeof *h);
  h->maxlevel = -1;
}

int vl_hnsw_reserve(vl_hnsw *h, uint32_t cap) {
  void **const arr[] = {(void **)&h->up, (void **)&h->level, (void **)&h->l0}; /* largest last (vl_grow_all) */
  const size_t sz[] = {sizeof(uint32_t *), 1, (size_t)(1 + h->M0) * 4};
  uint32_t old = h->cap;
  if (cap <= h->cap) return VALORI_OK;
  VL_TRY(vl_grow_all(h->a, arr, sz, 3, old, cap));
  memset(h->level + old, VL_NOT_IN_INDEX, cap - old);
  h->cap = cap;
  return VALORI_OK;
}

uint32_t vl_hnsw_level(uint64_t id, uint32_t M) {
  uint64_t x = vl_mix64(id + 0x9E3779B97F4A7C15ull), thr;
  if (M < 2) return 0; /* no index (M = 0): never called for such a store, but never divide by 0 */
  thr = UINT64_MAX / M;
  uint32_t l = 0;
  while (x < thr && l < VL_HNSW_MAX_LEVEL) {
    l++;
    thr /= M;
  }
  return l;
}

int vl_hnsw_alloc_up(vl_hnsw *h, uint32_t L, uint32_t **out) {
  *out = NULL;
  if (L == 0) return VALORI_OK;
  *out = (uint32_t *)vl_calloc(h->a, (size_t)L * (1 + h->M), 4);
  return *out ? VALORI_OK : VALORI_ENOMEM;
}

void vl_hnsw_free_up(vl_hnsw *h, uint32_t L, uint32_t *up) {
  if (up && L > 0 && L != VL_NOT_IN_INDEX) vl_free(h->a, up, (size_t)L * (1 + h->M) * 4);
}

size_t vl_hnsw_bytes(const vl_hnsw *h) {
  size_t b = (size_t)h->cap * ((1 + h->M0) * 4 + sizeof(uint32_t *) + 1);
  uint32_t i;
  for (i = 0; i < h->cap; i++)
    if (h->up[i]) b += (size_t)h->level[i] * (1 + h->M) * 4;
  return b;
}

int vl_scratch_reserve(vl_scratch *s, const valori_allocator *a, uint32_t nslots, uint32_t ef, uint32_t M0) {
  void *p;
  uint32_t sel = 2 * VL_MAX((M0 + 1) * (M0 + 1), ef + 1);
  if (nslots > s->stamp_cap) {
    uint32_t n = nslots + nslots / 2 + 64;
    void **const arr[] = {(void **)&s->stamp, (void **)&s->indeg};
    const size_t sz[] = {4, 4};
    VL_TRY(vl_grow_all(a, arr, sz, 2, s->stamp_cap, n));
    s->stamp_cap = n;
  }
  if (nslots + 1 > s->cand_cap) {
    uint32_t n = nslots + nslots / 2 + 64;
    p = s->cand;
    VL_TRY(vl_grow(a, &p, s->cand_cap, n, sizeof(vl_cand)));
    s->cand = p;
    s->cand_cap = n;
  }
  if (ef + 2 > s->res_cap) {
    p = s->res;
    VL_TRY(vl_grow(a, &p, s->res_cap, ef + 2, sizeof(vl_cand)));
    s->res = p;
    s->res_cap = ef + 2;
  }
  if (sel > s->sel_cap) {
    p = s->sel;
    VL_TRY(vl_grow(a, &p, s->sel_cap, sel, sizeof(vl_cand)));
    s->sel = p;
    s->sel_cap = sel;
  }
  return VALORI_OK;
}

size_t vl_scratch_bytes(const vl_scratch *s) {
  return (size_t)s->stamp_cap * 4 * 2 + ((size_t)s->cand_cap + s->res_cap + s->sel_cap) * sizeof(vl_cand);
}

void vl_scratch_free(vl_scratch *s, const valori_allocator *a) {
  vl_free(a, s->stamp, (size_t)s->stamp_cap * 4);
  vl_free(a, s->indeg, (size_t)s->stamp_cap * 4);
  vl_free(a, s->cand, (size_t)s->cand_cap * sizeof(vl_cand));
  vl_free(a, s->res, (size_t)s->res_cap * sizeof(vl_cand));
  vl_free(a, s->sel, (size_t)s->sel_cap * sizeof(vl_cand));
  memset(s, 0, sizeof *s);
}

int vl_filter_match(const vl_filter *f, uint64_t tag) {
  uint32_t lo = 0, hi = f->n;
  while (lo < hi) { /* tags sorted ascending */
    uint32_t mid = lo + (hi - lo) / 2;
    if (f->tags[mid] == tag) return 1;
    if (f->tags[mid] < tag) lo = mid + 1; else hi = mid;
  }
  return 0;
}

static uint32_t next_epoch(vl_scratch *s) {
  if (++s->epoch == 0) { /* wrapped: clear marks once every 2^32 searches */
    memset(s->stamp, 0, (size_t)s->stamp_cap * 4);
    s->epoch = 1;
  }
  return s->epoch;
}

/* The whole-valued kernels when both vectors are whole-valued: the same value (dist.h), faster. */
static inline int64_t dist_slots(const vl_space *sp, uint32_t a, uint32_t b) {
  const int32_t *x = sp->vec + (size_t)a * sp->dim, *y = sp->vec + (size_t)b * sp->dim;
  return (sp->vflags[a] & sp->vflags[b] & VL_VEC_WHOLE) ? vl_distance_whole(sp->metric, x, y, sp->dim) : vl_distance(sp->metric, x, y, sp->dim);
}
/* The hot loops (greedy, search_layer) are compiled twice, for a walk on the compact copies and for
** an exact one, so the exact walk pays no per-distance test of sp->qc (merging the copy with that
** test per distance cost 8% of the default search QPS on fmnist-l2; compiling twice took back about
** half: valori_bench --tests search A/B, in this commit's message). */
#if defined(__GNUC__) || defined(__clang__)
#define VL_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define VL_ALWAYS_INLINE inline
#endif
/* Distance from the query to slot b: on the compact copies (compact: sp->qc is set), else exact. */
static VL_ALWAYS_INLINE int64_t dist_qc(const vl_space *sp, const int32_t *q, uint32_t b, const int compact) {
  const int32_t *y = sp->vec + (size_t)b * sp->dim;
  if (compact) return vl_distance_i8(sp->metric, sp->qc, sp->cvec + (size_t)b * sp->dim, sp->dim);
  if (!(sp->qwhole && (sp->vflags[b] & VL_VEC_WHOLE))) return vl_distance(sp->metric, q, y, sp->dim);
#if defined(VL_QPACK)
  return vl_distance_whole_qp(sp->metric, sp->qp, q, y, sp->dim);
#else
  return vl_distance_whole(sp->metric, q, y, sp->dim);
#endif
}
/* The same, deciding by sp->qc at run time (outside the hot loops). */
static inline int64_t dist_q(const vl_space *sp, const int32_t *q, uint32_t b) {
  return sp->qc ? dist_qc(sp, q, b, 1) : dist_qc(sp, q, b, 0);
}
/* Room for a packed query (dist.h): callers of with_query declare `int16_t qbuf[VL_QBUF]`. */
#if defined(VL_QPACK)
#define VL_QBUF VALORI_MAX_DIM
#else
#define VL_QBUF 1
#endif
/* sp with the query flag of q set (the callers' views leave it 0) and, where VL_QPACK is defined,
** a whole-valued q packed into qbuf (VL_QBUF entries). */
static inline vl_space with_query(const vl_space *sp, const int32_t *q, int16_t *qbuf) {
  vl_space s = *sp;
  s.qwhole = (uint32_t)vl_vec_whole(q, sp->dim);
  s.qc = NULL;
  s.qp = NULL;
#if defined(VL_QPACK)
  if (s.qwhole && VL_ALWAYS(sp->dim <= VL_QBUF)) {
    vl_qpack(q, sp->dim, qbuf);
    s.qp = qbuf;
  } else {
    s.qwhole = 0; /* (dim above the maximum cannot happen) the general kernels */
  }
#else
  VL_UNUSED(qbuf);
#endif
  return s;
}
static inline vl_cand mk(const vl_space *sp, int64_t d, uint32_t slot) {
  vl_cand c;
  c.d = d;
  c.id = sp->id[slot];
  c.slot = slot;
  c.pad = 0;
  return c;
}
/* A beam entry: 16 bytes, no id. Ordered as vl_cand is, by (distance, id, slot), with the id read
** from the store only when two distances tie, so the walk touches no id on its way (the beam's
** heaps hold s->cand and s->res, whose vl_cand room fits as many of these). */
typedef struct vl_hc {
  int64_t d;
  uint32_t slot, pad;
} vl_hc;
static inline int hc_less(const uint64_t *id, const vl_hc *x, const vl_hc *y) {
  if (x->d != y->d) return x->d < y->d;
  if (id[x->slot] != id[y->slot]) return id[x->slot] < id[y->slot];
  return x->slot < y->slot;
}
VL_HEAP_DEFINE(hc_heap, vl_hc, const uint64_t *, hc_less)
static inline vl_hc hc(int64_t d, uint32_t slot) {
  vl_hc c;
  c.d = d;
  c.slot = slot;
  c.pad = 0;
  return c;
}
static inline vl_hc *hc_cand(vl_scratch *s) { return (vl_hc *)(void *)s->cand; }
static inline vl_hc *hc_res(vl_scratch *s) { return (vl_hc *)(void *)s->res; }
/* Drains the beam's nr results (s->res) into out, nearest first, keeping at most keep of them. */
static uint32_t take_results(const vl_space *sp, vl_scratch *s, uint32_t nr, uint32_t keep, vl_cand *out) {
  vl_hc *r = hc_res(s);
  uint32_t n, i;
  while (nr > keep) hc_heap_pop(sp->id, r, &nr, 1);
  n = nr;
  for (i = n; i > 0;) {
    vl_hc c = hc_heap_pop(sp->id, r, &nr, 1);
    out[--i] = mk(sp, c.d, c.slot);
  }
  return n;
}

/* Filter that also admits tombstones: an insert that finds no live node links to tombstones. */
static const vl_filter VL_WITH_DEAD = {NULL, 0};

static inline int accept(const vl_space *sp, const vl_filter *f, uint32_t slot) {
  if (f == &VL_WITH_DEAD) return 1;
  return sp->state[slot] == VL_SLOT_LIVE && (!f || vl_filter_match(f, sp->tag[slot]));
}

/* Asks for every cache line of [p, p + bytes): one request per line gets every line in flight at
** once. Used for link lists and for the vectors of neighbour selection and back-links (build only).
** The beam search and the greedy descent ask for the first line of each neighbour's vector only
** (prefetch_head), as hnswlib does: at 784 dimensions a whole-vector request is 49 prefetch
** instructions per neighbour, and the hardware prefetcher follows the kernel's sequential reads;
** measured 8-16% more queries per CPU-second and 3-13% faster builds on fmnist-l2 (20k). */
static inline void prefetch_bytes(const void *p, size_t bytes) {
  const char *c = (const char *)p;
  size_t off;
  for (off = 0; off < bytes; off += 64) VL_PREFETCH(c + off);
  VL_PREFETCH(c + bytes - 1);
}
static inline void prefetch_vec(const vl_space *sp, uint32_t slot) {
  prefetch_bytes(sp->vec + (size_t)slot * sp->dim, (size_t)sp->dim * 4);
}
/* The first cache line only (the hardware prefetcher follows the sequential reads of the kernel). */
static VL_ALWAYS_INLINE void prefetch_head_c(const vl_space *sp, uint32_t slot, const int compact) {
  if (compact) VL_PREFETCH(sp->cvec + (size_t)slot * sp->dim);
  else VL_PREFETCH(sp->vec + (size_t)slot * sp->dim);
}
static inline void prefetch_head(const vl_space *sp, uint32_t slot) {
  if (sp->qc) prefetch_head_c(sp, slot, 1);
  else prefetch_head_c(sp, slot, 0);
}

/* Greedy descent (beam 1) from *cur at levels top..bottom+1. */
static VL_ALWAYS_INLINE void greedy_c(const vl_hnsw *h, const vl_space *sp, const int32_t *q, int32_t top, uint32_t bottom,
                                      vl_cand *cur, const int compact) {
  int32_t lc;
  for (lc = top; lc > (int32_t)bottom; lc--) {
    int changed = 1;
    while (changed) {
      const uint32_t *l = vl_hnsw_links(h, cur->slot, (uint32_t)lc);
      uint32_t i;
      changed = 0;
      if (l[0]) prefetch_head_c(sp, l[1], compact);
      for (i = 1; i <= l[0]; i++) {
        vl_cand c;
        int64_t d;
        if (i < l[0]) prefetch_head_c(sp, l[i + 1], compact);
        d = dist_qc(sp, q, l[i], compact);
        if (d > cur->d) continue; /* not closer whatever the id: skip the id lookup */
        c = mk(sp, d, l[i]);
        if (vl_cand_less(&c, cur)) { *cur = c; changed = 1; }
      }
    }
  }
}

static void greedy(const vl_hnsw *h, const vl_space *sp, const int32_t *q, int32_t top, uint32_t bottom, vl_cand *cur) {
  if (sp->qc) greedy_c(h, sp, q, top, bottom, cur, 1);
  else greedy_c(h, sp, q, top, bottom, cur, 0);
}

/* Beam search of one level from ep. Leaves up to ef accepted results in s->res as a max-heap of
** vl_hc (take_results drains it) and returns their number. Tombstones and filtered-out slots are
** traversed but never returned. */
static VL_ALWAYS_INLINE uint32_t search_layer_c(const vl_hnsw *h, const vl_space *sp, const int32_t *q, vl_cand ep,
                                                uint32_t ef, uint32_t lc, const vl_filter *f, vl_scratch *s,
                                                const int compact) {
  uint32_t nc = 0, nr = 0, epoch = next_epoch(s), m, nb[2 * VALORI_HNSW_MAX_M];
  vl_hc *cand = hc_cand(s), *res = hc_res(s), e = hc(ep.d, ep.slot);
  const uint64_t *id = sp->id;
  s->stamp[ep.slot] = epoch;
  hc_heap_push(id, cand, &nc, e, 0);
  if (accept(sp, f, ep.slot)) hc_heap_push(id, res, &nr, e, 1);
  while (nc) {
    vl_hc cur = hc_heap_pop(id, cand, &nc, 0);
    const uint32_t *l;
    uint32_t i, cnt;
    if (nr >= ef && hc_less(id, &res[0], &cur)) break;
    l = vl_hnsw_links(h, cur.slot, lc);
    cnt = VL_MIN(l[0], 2 * VALORI_HNSW_MAX_M);
    /* The unvisited neighbours, in list order, marked as they are taken, without a branch on the
    ** marks (a mark is a cache miss whose branch the CPU cannot predict); then their vectors. */
    for (i = 1, m = 0; i <= cnt; i++) {
      uint32_t n = l[i];
      nb[m] = n;
      m += s->stamp[n] != epoch;
      s->stamp[n] = epoch;
    }
    if (m) prefetch_head_c(sp, nb[0], compact);
    for (i = 0; i < m; i++) { /* one vector ahead (two measured no better) */
      uint32_t n = nb[i];
      vl_hc c;
      int64_t d;
      if (i + 1 < m) prefetch_head_c(sp, nb[i + 1], compact);
      d = dist_qc(sp, q, n, compact);
      c = hc(d, n);
      if (nr < ef || hc_less(id, &c, &res[0])) {
        hc_heap_push(id, cand, &nc, c, 0);
        if (accept(sp, f, n)) {
          if (nr < ef) hc_heap_push(id, res, &nr, c, 1);
          else hc_heap_replace_top(id, res, nr, c, 1); /* c beats the worst kept */
        }
      }
    }
    if (nc) /* the link list of the candidate expanded next */
      prefetch_bytes(vl_hnsw_links(h, cand[0].slot, lc), (size_t)(1 + (lc ? h->M : h->M0)) * 4);
  }
  return nr;
}
static uint32_t search_layer(const vl_hnsw *h, const vl_space *sp, const int32_t *q, vl_cand ep, uint32_t ef,
                             uint32_t lc, const vl_filter *f, vl_scratch *s) {
  return sp->qc ? search_layer_c(h, sp, q, ep, ef, lc, f, s, 1) : search_layer_c(h, sp, q, ep, ef, lc, f, s, 0);
}

/* Diversity heuristic: from candidates sorted ascending by distance to the base node, keep c
** unless some already kept r is closer to c than the base is. Writes up to m kept to out. */
static uint32_t select_neighbors(const vl_space *sp, const vl_cand *c, uint32_t n, uint32_t m, vl_cand *out) {
  uint32_t i, j, k = 0;
  for (i = 0; i < n && k < m; i++) {
    int good = 1;
    for (j = 0; j < k; j++) {
      if (j + 1 < k) prefetch_vec(sp, out[j + 1].slot);
      if (dist_slots(sp, c[i].slot, out[j].slot) < c[i].d) { good = 0; break; }
    }
    if (good) out[k++] = c[i];
  }
  return k;
}

static void write_links(uint32_t *l, const vl_cand *c, uint32_t n) {
  uint32_t i;
  l[0] = n;
  for (i = 0; i < n; i++) l[1 + i] = c[i].slot;
}

/* Adds the link r -> slot at level lc; a full list is re-selected with the heuristic (tombstones
** dropped). */
static void add_backlink(vl_hnsw *h, const vl_space *sp, uint32_t r, uint32_t slot, uint32_t lc, vl_scratch *s) {
  uint32_t *l = vl_hnsw_links(h, r, lc), mmax = lc ? h->M : h->M0, i, n = 0, k;
  vl_cand *cand = s->sel, *out = s->sel + s->sel_cap / 2;
  if (l[0] < mmax) {
    l[1 + l[0]] = slot;
    l[0]++;
    return;
  }
  for (i = 1; i <= l[0]; i++) {
    if (i < l[0]) prefetch_vec(sp, l[i + 1]);
    if (sp->state[l[i]] == VL_SLOT_LIVE) cand[n++] = mk(sp, dist_slots(sp, r, l[i]), l[i]);
  }
  cand[n++] = mk(sp, dist_slots(sp, r, slot), slot);
  vl_sort(cand, n, sizeof(vl_cand), vl_cand_cmp);
  k = select_neighbors(sp, cand, n, mmax, out);
  write_links(l, out, k);
}

void vl_hnsw_insert(vl_hnsw *h, const vl_space *sp0, uint32_t slot, uint32_t L, uint32_t *up, vl_scratch *s) {
  const int32_t *q = sp0->vec + (size_t)slot * sp0->dim;
  int16_t qbuf[VL_QBUF];
  const vl_space qs = with_query(sp0, q, qbuf), *sp = &qs;
  vl_cand cur;
  int32_t lc;
  if (VL_NEVER(slot >= h->cap)) return; /* vl_hnsw_reserve covers every slot the records hold */
  vl_hnsw_links(h, slot, 0)[0] = 0;
  h->level[slot] = (uint8_t)L;
  h->up[slot] = up;
  h->nindex++;
  if (h->maxlevel < 0) {
    h->entry = slot;
    h->maxlevel = (int32_t)L;
    return;
  }
  cur = mk(sp, dist_q(sp, q, h->entry), h->entry);
  greedy(h, sp, q, h->maxlevel, L, &cur);
  for (lc = VL_MIN((int32_t)L, h->maxlevel); lc >= 0; lc--) {
    uint32_t nr = search_layer(h, sp, q, cur, h->efc, (uint32_t)lc, NULL, s), n, k, i;
    if (nr == 0) nr = search_layer(h, sp, q, cur, h->efc, (uint32_t)lc, &VL_WITH_DEAD, s);
    vl_cand *sorted = s->sel, *keep = s->sel + s->sel_cap / 2;
    n = take_results(sp, s, nr, s->sel_cap / 2, sorted); /* efc above the selection area: the closest */
    if (n == 0) continue;
    k = select_neighbors(sp, sorted, n, h->M, keep);
    cur = sorted[0];
    /* keep[] lives in s->sel, which add_backlink reuses: copy the chosen slots into our list first */
    write_links(vl_hnsw_links(h, slot, (uint32_t)lc), keep, k);
    {
      const uint32_t *mine = vl_hnsw_links(h, slot, (uint32_t)lc);
      for (i = 1; i <= mine[0]; i++) add_backlink(h, sp, mine[i], slot, (uint32_t)lc, s);
    }
  }
  if ((int32_t)L > h->maxlevel) {
    h->entry = slot;
    h->maxlevel = (int32_t)L;
  }
}

/* Rebuilds slot's list at lc without tombstones: candidates are the live nodes reachable from it
** through chains of tombstones (breadth-first, in list order), bounded by the selection area. */
static void repair(vl_hnsw *h, const vl_space *sp, uint32_t slot, uint32_t lc, vl_scratch *s) {
  uint32_t *l = vl_hnsw_links(h, slot, lc), mmax = lc ? h->M : h->M0, i, j, n = 0, k, epoch, head = 0, tail = 0;
  uint32_t limit = s->sel_cap / 2;
  vl_cand *cand = s->sel, *out = s->sel + s->sel_cap / 2;
  uint32_t *queue = s->indeg + (s->stamp_cap / 2); /* upper half: free during repairs */
  uint32_t qcap = s->stamp_cap - s->stamp_cap / 2;
  int dead = 0;
  for (i = 1; i <= l[0]; i++)
    if (sp->state[l[i]] != VL_SLOT_LIVE) { dead = 1; break; }
  if (!dead) return;
  epoch = next_epoch(s);
  s->stamp[slot] = epoch;
  for (i = 1; i <= l[0] && tail < qcap; i++) { s->stamp[l[i]] = epoch; queue[tail++] = l[i]; }
  while (head < tail && n < limit) {
    uint32_t x = queue[head++];
    if (sp->state[x] == VL_SLOT_LIVE) {
      cand[n++] = mk(sp, dist_slots(sp, slot, x), x);
      continue;
    }
    {
      const uint32_t *dl = vl_hnsw_links(h, x, lc);
      for (j = 1; j <= dl[0] && tail < qcap; j++)
        if (s->stamp[dl[j]] != epoch) { s->stamp[dl[j]] = epoch; queue[tail++] = dl[j]; }
    }
  }
  vl_sort(cand, n, sizeof(vl_cand), vl_cand_cmp);
  k = select_neighbors(sp, cand, n, mmax, out);
  write_links(l, out, k);
}

/* Gives every live node without a level-0 in-link one: from its nearest live nodes (found by a
** search from the entry point), the first with room takes it, or else the first whose list holds
** a neighbour with another in-link gives up its farthest such neighbour. Nobody is orphaned. */
static void relink_orphans(vl_hnsw *h, const vl_space *sp, uint32_t nslots, vl_scratch *s) {
  uint32_t i, t, x;
  uint32_t *indeg = s->indeg;
  int16_t qbuf[VL_QBUF];
  memset(indeg, 0, (size_t)nslots * 4);
  for (i = 0; i < nslots; i++) {
    const uint32_t *l;
    if (h->level[i] == VL_NOT_IN_INDEX || sp->state[i] != VL_SLOT_LIVE) continue;
    l = vl_hnsw_links(h, i, 0);
    for (t = 1; t <= l[0]; t++) indeg[l[t]]++;
  }
  for (x = 0; x < nslots; x++) {
    const int32_t *q;
    vl_space qs;
    vl_cand cur, *sorted = s->sel;
    uint32_t nr, n, tries;
    if (h->level[x] == VL_NOT_IN_INDEX || sp->state[x] != VL_SLOT_LIVE || x == h->entry || indeg[x]) continue;
    q = sp->vec + (size_t)x * sp->dim;
    qs = with_query(sp, q, qbuf);
    cur = mk(&qs, dist_q(&qs, q, h->entry), h->entry);
    greedy(h, &qs, q, h->maxlevel, 0, &cur);
    nr = search_layer(h, &qs, q, cur, h->efc, 0, NULL, s);
    n = take_results(&qs, s, nr, s->sel_cap / 2, sorted);
    for (i = 0, tries = 0; i < n && tries < 16 && !indeg[x]; i++) {
      uint32_t y = sorted[i].slot, *l, best = 0;
      vl_cand far;
      if (y == x) continue;
      tries++;
      l = vl_hnsw_links(h, y, 0);
      if (l[0] < h->M0) {
        l[1 + l[0]] = x;
        l[0]++;
        indeg[x]++;
        break;
      }
      far.d = -1;
      for (t = 1; t <= l[0]; t++) {
        vl_cand c;
        if (indeg[l[t]] < 2) continue;
        c = mk(sp, dist_slots(sp, y, l[t]), l[t]);
        if (far.d < 0 || vl_cand_less(&far, &c)) { far = c; best = t; }
      }
      if (best) {
        indeg[l[best]]--;
        l[best] = x;
        indeg[x]++;
      }
    }
  }
}

void vl_hnsw_purge(vl_hnsw *h, const vl_space *sp, uint32_t nslots, vl_scratch *s) {
  int32_t lc;
  uint32_t i, best = 0;
  int32_t bestl = -1;
  for (lc = h->maxlevel; lc >= 0; lc--)
    for (i = 0; i < nslots; i++)
      if (h->level[i] != VL_NOT_IN_INDEX && (int32_t)h->level[i] >= lc && sp->state[i] == VL_SLOT_LIVE)
        repair(h, sp, i, (uint32_t)lc, s);
  for (i = 0; i < nslots; i++) {
    if (h->level[i] == VL_NOT_IN_INDEX) continue;
    if (sp->state[i] != VL_SLOT_LIVE) {
      vl_hnsw_free_up(h, h->level[i], h->up[i]);
      h->up[i] = NULL;
      h->level[i] = VL_NOT_IN_INDEX;
      vl_hnsw_links(h, i, 0)[0] = 0;
      h->nindex--;
    } else if ((int32_t)h->level[i] > bestl || ((int32_t)h->level[i] == bestl && sp->id[i] < sp->id[best])) {
      bestl = (int32_t)h->level[i];
      best = i;
    }
  }
  if (bestl < 0) {
    h->maxlevel = -1;
    h->entry = 0;
    return;
  }
  if (sp->state[h->entry] != VL_SLOT_LIVE || h->level[h->entry] == VL_NOT_IN_INDEX) {
    h->entry = best;
    h->maxlevel = bestl;
  }
  relink_orphans(h, sp, nslots, s);
}

uint32_t vl_hnsw_search(const vl_hnsw *h, const vl_space *sp0, const int32_t *q, uint32_t k, uint32_t ef,
                        const vl_filter *f, vl_scratch *s, vl_cand *out) {
  vl_cand cur;
  uint32_t nr, i, n;
  vl_space qs;
  const vl_space *sp = &qs;
  int16_t qbuf[VL_QBUF];
  int qexact = 0;
  if (h->maxlevel < 0) return 0;
  qs = with_query(sp0, q, qbuf);
  if (VL_NEVER(ef < k)) ef = k;
  if (sp0->cvec && !VL_NEVER(!sp0->qbuf)) { /* the engine passes the buffer (search.c) */
    qexact = vl_trav_quantize(q, sp0->dim, sp0->trav, sp0->qbuf);
    qs.qc = sp0->qbuf;
  }
  cur = mk(sp, dist_q(sp, q, h->entry), h->entry);
  greedy(h, sp, q, h->maxlevel, 0, &cur);
  nr = search_layer(h, sp, q, cur, ef, 0, f, s);
  if (qs.qc) { /* exact re-rank of the ef results the compact walk kept (s->sel holds 2 * (ef + 1)) */
    vl_cand *r = s->sel;
    uint32_t nx = 0, nl = 0; /* r[0..nx-1] need the vectors; r[nr-nl..nr-1] are done */
    qs.qc = NULL;
    /* A lossless query copy and a lossless result copy give the exact distance from the walk's own
    ** (compact.h, vl_trav_exact): the same value the exact kernel returns, without the vector. */
    for (i = 0; i < nr; i++) {
      const vl_hc c = hc_res(s)[i];
      if (qexact && (sp->vflags[c.slot] & VL_VEC_CEXACT)) r[nr - ++nl] = mk(sp, vl_trav_exact(c.d, sp->trav), c.slot);
      else r[nx++].slot = c.slot; /* its exact distance (and id) below */
    }
    /* every other pool vector's first line in flight at once, then each whole vector one step ahead */
    for (i = 0; i < nx; i++) prefetch_head(sp, r[i].slot);
    if (nx) prefetch_vec(sp, r[0].slot);
    for (i = 0; i < nx; i++) {
      if (i + 1 < nx) prefetch_vec(sp, r[i + 1].slot);
      r[i] = mk(sp, dist_q(sp, q, r[i].slot), r[i].slot);
    }
    vl_sort(r, nr, sizeof(vl_cand), vl_cand_cmp);
    n = VL_MIN(nr, k);
    for (i = 0; i < n; i++) out[i] = r[i];
    return n;
  }
  return take_results(sp, s, nr, k, out);
}

void vl_hnsw_digest(const vl_hnsw *h, uint32_t nslots, uint8_t out[32]) {
  static const char domain[16] = "valori.index.v1";
  vl_sha256_ctx s;
  uint8_t b[28];
  uint32_t i, lc, t;
  vl_put32(b, h->M);
  vl_put32(b + 4, h->M0);
  vl_put32(b + 8, h->efc);
  vl_put32(b + 12, h->entry);
  vl_put32(b + 16, (uint32_t)h->maxlevel);
  vl_put32(b + 20, h->nindex);
  vl_put32(b + 24, nslots);
  vl_sha256_init(&s);
  vl_sha256_update(&s, domain, sizeof domain);
  vl_sha256_update(&s, b, sizeof b);
  for (i = 0; i < nslots; i++) {
    uint8_t L = vl_hnsw_slot_level(h, i);
    vl_sha256_update(&s, &L, 1);
    if (L == VL_NOT_IN_INDEX) continue;
    for (lc = 0; lc <= L; lc++) {
      const uint32_t *l = vl_hnsw_links(h, i, lc);
      for (t = 0; t <= l[0]; t++) {
        vl_put32(b, l[t]);
        vl_sha256_update(&s, b, 4);
      }
    }
  }
  vl_sha256_final(&s, out);
}
