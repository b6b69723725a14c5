/*
** workload.c: generator, model and runner of the identity workload (see workload.h).
** Every decision below is mirrored line by line in workload.mjs; change both together (the
** `stream=` hash in the golden transcripts catches a mismatch).
*/
#include "workload.h"

#include <string.h>

#include "sha256.h"

/* ---- golden configurations */
const wl_config wl_golden_configs[] = {
    /* name, seed, dim, metric, M, ef_construction, events, checkpoint interval, index, whole %, traversal range */
    {"seed1", 1, 24, VALORI_METRIC_L2, 0, 0, 5000, 1000, VALORI_INDEX_HNSW, 0, 0}, /* the default index parameters */
    {"seed2", 2, 24, VALORI_METRIC_IP, 0, 64, 5000, 1000, VALORI_INDEX_HNSW, 0, 0}, /* inner product */
    {"seed3", 3, 24, VALORI_METRIC_L2, 6, 48, 5000, 1000, VALORI_INDEX_HNSW, 0, 0}, /* small M: deeper graphs, more pruning */
    {"seed4", 4, 784, VALORI_METRIC_L2, 0, 64, 1500, 500, VALORI_INDEX_HNSW, 0, 0}, /* Fashion-MNIST width */
    {"seed5", 5, 24, VALORI_METRIC_L2, 0, 0, 5000, 1000, VALORI_INDEX_NONE, 0, 0}, /* index-less: exact only */
    /* mostly whole-valued vectors (docs/DETERMINISM.md: the whole-valued kernels), dim 40 = 2 x 16 + 8:
    ** every SIMD width's main loop and tail */
    {"seed6", 6, 40, VALORI_METRIC_L2, 0, 64, 3000, 1000, VALORI_INDEX_HNSW, 90, 0},
    {"seed7", 7, 40, VALORI_METRIC_IP, 0, 64, 3000, 1000, VALORI_INDEX_HNSW, 90, 0},
    /* the compact traversal copy (docs/DETERMINISM.md 4a) over [-256, 256]: s 18, c 64, so whole
    ** values lose their two lowest bits (codes -128..0, nothing clamps); searches walk the copies
    ** and re-rank exactly */
    {"seed8", 8, 40, VALORI_METRIC_L2, 0, 64, 3000, 1000, VALORI_INDEX_HNSW, 90, 256},
    /* a lossless copy over [-127, 127] (s 16, c 1): whole values are drawn inside the range, so most
    ** copies and queries are exact and the re-rank takes their distances from the copies
    ** (compact.h, vl_trav_exact); the rest (fractional vectors) re-rank from the vectors */
    {"seed9", 9, 40, VALORI_METRIC_L2, 0, 64, 3000, 1000, VALORI_INDEX_HNSW, 90, 127},
};
const unsigned wl_golden_count = sizeof wl_golden_configs / sizeof wl_golden_configs[0];

const wl_config *wl_find_config(const char *name) {
  unsigned i;
  for (i = 0; i < wl_golden_count; i++)
    if (strcmp(wl_golden_configs[i].name, name) == 0) return &wl_golden_configs[i];
  return NULL;
}

/* ---- splitmix64 */
typedef struct wl_rng {
  uint64_t s;
} wl_rng;

static uint64_t rnext(wl_rng *r) {
  uint64_t z;
  r->s += 0x9E3779B97F4A7C15ull;
  z = r->s;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/* Uniform-ish in [0, n) (n >= 1); modulo bias is irrelevant here, determinism is not. */
static uint32_t below(wl_rng *r, uint32_t n) { return (uint32_t)(rnext(r) % n); }

/* ---- float bit patterns, built with integer operations only (mirrored exactly in JS) */
#define F_ENAN 1
#define F_EINF 2
#define F_ERANGE 3

/* bits of sign * m * 2^e for 1 <= m <= 2^24 (exactly representable, normal range; m = 2^24, from
** q = +-2^24 = +-256.0, has p = 24: its mantissa bits are shifted right, not by a negative count) */
static uint32_t fbits(uint32_t sign, uint32_t m, int e) {
  int p = 0;
  while ((m >> p) > 1u) p++;
  return (sign << 31) | ((uint32_t)(p + e + 127) << 23) | ((p <= 23 ? m << (23 - p) : m >> (p - 23)) & 0x7FFFFFu);
}
/* bits of q / 65536 for |q| <= 2^24 */
static uint32_t q16bits(int32_t q) {
  uint32_t a = q < 0 ? (uint32_t)0 - (uint32_t)q : (uint32_t)q;
  if (a == 0) return q < 0 ? 0x80000000u : 0u;
  return fbits(q < 0 ? 1u : 0u, a, -16);
}

static const uint32_t boundary_bits[] = {
    0x43800000u, /* 256.0: the largest accepted magnitude */
    0xC3800000u, /* -256.0 */
    0x437FFFFFu, /* largest float below 256 */
    0xC37FFFFFu,
    0x37800000u, /* 2^-16: one Q16.16 unit */
    0xB7800000u,
    0x37000000u, /* 2^-17: exactly half a unit, rounds to 0 (even) */
    0xB7000000u,
    0x37C00000u, /* 3 * 2^-17: 1.5 units, rounds to 2 (even) */
    0x37A00000u, /* 1.25 units, rounds to 1 */
    0x37E00000u, /* 1.75 units, rounds to 2 */
    0x00000000u, /* +0 */
    0x80000000u, /* -0 */
    0x3F800000u, /* 1.0 */
    0xBF800000u,
    0x3F000000u, /* 0.5 */
    0x00000001u, /* smallest subnormal */
    0x807FFFFFu, /* largest negative subnormal */
    0x00800000u, /* smallest normal */
    0x3DCCCCCDu, /* 0.1 (not exact in binary) */
    0xBDCCCCCDu,
    0x42FF0000u, /* 127.5 */
    0x36FFFFFFu, /* just below half a unit: rounds to 0 */
    0x37000001u, /* just above half a unit: rounds to 1 */
};
#define N_BOUNDARY (sizeof boundary_bits / sizeof boundary_bits[0])

/* One valid component. */
static uint32_t gen_comp(wl_rng *r) {
  uint32_t c = below(r, 100), sign = below(r, 2);
  if (c < 40) { /* fractional: exponent 2^-33 .. 2^7, random mantissa (below 256) */
    uint32_t e = 94 + below(r, 41), frac = (uint32_t)(rnext(r) >> 41);
    return (sign << 31) | (e << 23) | frac;
  }
  if (c < 55) return q16bits((int32_t)below(r, (1u << 25) + 1u) - (1 << 24)); /* exact Q16.16, full range */
  if (c < 65) return fbits(sign, 2u * below(r, 1u << 23) + 1u, -17);           /* exact ties: odd * 2^-17 */
  if (c < 75) return boundary_bits[below(r, (uint32_t)N_BOUNDARY)];
  if (c < 85) { /* tiny: subnormals and normals below 2^-33 */
    uint32_t e = below(r, 94), frac = (uint32_t)(rnext(r) >> 41);
    return (sign << 31) | (e << 23) | frac;
  }
  return q16bits((int32_t)below(r, (1u << 19) + 1u) - (1 << 18)); /* moderate: [-4, 4] */
}

/* One invalid component; *code receives the expected rejection. */
static uint32_t gen_bad(wl_rng *r, int *code) {
  uint32_t c = below(r, 8);
  switch (c) {
    case 0: *code = VALORI_ENAN; return 0x7FC00000u;
    case 1: *code = VALORI_ENAN; return 0x7F800000u | (1u + below(r, 0x7FFFFFu)); /* signalling / payload */
    case 2: *code = VALORI_ENAN; return 0xFFC00000u;
    case 3: *code = VALORI_EINF; return 0x7F800000u;
    case 4: *code = VALORI_EINF; return 0xFF800000u;
    case 5: *code = VALORI_ERANGE; return 0x43800001u; /* smallest float above 256 */
    case 6: *code = VALORI_ERANGE; return 0xC3800001u;
    default: { /* 2^8 .. 2^127 */
      uint32_t e = 135 + below(r, 119), frac = (uint32_t)(rnext(r) >> 41);
      *code = VALORI_ERANGE;
      return (below(r, 2) << 31) | (e << 23) | frac;
    }
  }
}

/* ---- event */
enum {
  WL_INSERT = 1,
  WL_INSERT_RAW, /* wrong dimension, through valori_apply */
  WL_BATCH,
  WL_DELETE,
  WL_UPDATE,
  WL_SET_META,
  WL_NODE_CREATE,
  WL_NODE_DELETE,
  WL_EDGE_CREATE,
  WL_EDGE_DELETE,
  WL_SEARCH,
  WL_EXPAND,
  WL_SEARCH_EXPAND,
  WL_KINDS
};
static const char *const kind_names[WL_KINDS] = {"?",          "insert",    "insert_raw",  "batch",       "delete",
                                                 "update",     "set_meta",  "node_create", "node_delete", "edge_create",
                                                 "edge_delete", "search",   "expand",      "search_expand"};

#define WL_F_VEC 1u
#define WL_F_TAG 2u
#define WL_F_WEIGHT 4u
#define WL_MAX_BATCH 32u
#define WL_MAX_META (VALORI_MAX_META + 128u)
#define WL_BATCH_META 256u
#define WL_RING 16u
#define WL_MAX_K 64u
#define WL_REACH_CAP 256u

typedef struct wl_event {
  uint32_t kind;
  int32_t expect;
  uint32_t nvec, vdim;  /* vectors in vbits and components per vector */
  uint32_t nrec;        /* entries in tags/mlen */
  uint64_t id, id2;
  uint32_t flags;
  uint64_t tag;
  uint32_t ukind, weight;
  uint32_t k, ef, mode, ntags;
  uint64_t stags[8];
  uint32_t hops, dir, max_nodes, nseeds;
  uint64_t seeds[4];
  uint32_t *vbits;      /* nvec * vdim */
  uint64_t *tags;       /* nrec */
  uint32_t *mlen;       /* nrec */
  uint8_t *meta;        /* concatenated, sum(mlen) bytes */
} wl_event;

/* ---- generator + model */
typedef struct wl_gen {
  wl_rng r;
  const valori_allocator *a;
  uint32_t dim;
  int flat; /* index-less store: searches in mode HNSW are refused (EINVAL) */
  uint32_t whole; /* wl_config.whole */
  int32_t wmax;   /* whole values are drawn in [-wmax, wmax]: 256, or a traversal range below it */
  int oom;
  /* records: ids 1..next_rec-1 */
  uint64_t next_rec;
  uint8_t *rec_live;    /* by id */
  uint64_t *rec_node;   /* by id: linked node or 0 */
  uint32_t *rec_pos;    /* by id: index in live_recs */
  uint64_t *live_recs;
  uint32_t nlive_recs;
  size_t rec_cap;
  /* nodes */
  uint64_t next_node;
  uint64_t *node_rec;   /* by id: linked record or 0 */
  uint8_t *node_live;
  uint32_t *node_pos;
  uint64_t *live_nodes;
  uint32_t nlive_nodes;
  size_t node_cap;
  /* edges */
  uint64_t next_edge;
  uint64_t *edge_from, *edge_to;
  uint32_t *edge_pos;
  uint64_t *live_edges;
  uint32_t nlive_edges;
  size_t edge_cap;
  /* recent valid vectors (exact duplicates and exact-hit queries) */
  uint32_t *ring;
  uint32_t ring_n, ring_next;
  /* event buffers */
  uint32_t *vbits;
  uint64_t tags[WL_MAX_BATCH];
  uint32_t mlen[WL_MAX_BATCH];
  uint8_t *meta;
} wl_gen;

static int grow(wl_gen *g, void **p, size_t old_n, size_t new_n, size_t size) {
  void *q;
  if (g->oom) return 1;
  q = *p ? g->a->realloc(g->a->ctx, *p, old_n * size, new_n * size) : g->a->alloc(g->a->ctx, new_n * size);
  if (!q) {
    g->oom = 1;
    return 1;
  }
  memset((uint8_t *)q + old_n * size, 0, (new_n - old_n) * size);
  *p = q;
  return 0;
}

/* Ensures per-id arrays hold index id. */
static int ensure_rec(wl_gen *g, uint64_t id) {
  size_t n = g->rec_cap;
  if (id < n) return g->oom;
  while (n <= id) n = n ? n * 2 : 1024;
  if (grow(g, (void **)&g->rec_live, g->rec_cap, n, 1) || grow(g, (void **)&g->rec_node, g->rec_cap, n, 8) ||
      grow(g, (void **)&g->rec_pos, g->rec_cap, n, 4) || grow(g, (void **)&g->live_recs, g->rec_cap, n, 8))
    return 1;
  g->rec_cap = n;
  return 0;
}
static int ensure_node(wl_gen *g, uint64_t id) {
  size_t n = g->node_cap;
  if (id < n) return g->oom;
  while (n <= id) n = n ? n * 2 : 1024;
  if (grow(g, (void **)&g->node_live, g->node_cap, n, 1) || grow(g, (void **)&g->node_rec, g->node_cap, n, 8) ||
      grow(g, (void **)&g->node_pos, g->node_cap, n, 4) || grow(g, (void **)&g->live_nodes, g->node_cap, n, 8))
    return 1;
  g->node_cap = n;
  return 0;
}
static int ensure_edge(wl_gen *g, uint64_t id) {
  size_t n = g->edge_cap;
  if (id < n) return g->oom;
  while (n <= id) n = n ? n * 2 : 1024;
  if (grow(g, (void **)&g->edge_from, g->edge_cap, n, 8) || grow(g, (void **)&g->edge_to, g->edge_cap, n, 8) ||
      grow(g, (void **)&g->edge_pos, g->edge_cap, n, 4) || grow(g, (void **)&g->live_edges, g->edge_cap, n, 8))
    return 1;
  g->edge_cap = n;
  return 0;
}

/* model updates (only for events the model predicts to succeed) */
static void m_rec_add(wl_gen *g) {
  uint64_t id = g->next_rec++;
  if (ensure_rec(g, id)) return;
  g->rec_live[id] = 1;
  g->rec_node[id] = 0;
  g->rec_pos[id] = g->nlive_recs;
  g->live_recs[g->nlive_recs++] = id;
}
static void m_edge_del(wl_gen *g, uint64_t e) {
  uint32_t pos = g->edge_pos[e];
  uint64_t last = g->live_edges[--g->nlive_edges];
  g->live_edges[pos] = last;
  g->edge_pos[last] = pos;
  g->edge_from[e] = g->edge_to[e] = 0;
}
static void m_node_del(wl_gen *g, uint64_t n) {
  uint32_t pos = g->node_pos[n], i;
  uint64_t last = g->live_nodes[--g->nlive_nodes];
  g->live_nodes[pos] = last;
  g->node_pos[last] = pos;
  g->node_live[n] = 0;
  if (g->node_rec[n]) g->rec_node[g->node_rec[n]] = 0;
  g->node_rec[n] = 0;
  for (i = g->nlive_edges; i > 0; i--) { /* from the end, so swap-removal never skips an edge */
    uint64_t e = g->live_edges[i - 1];
    if (g->edge_from[e] == n || g->edge_to[e] == n) m_edge_del(g, e);
  }
}
static void m_rec_del(wl_gen *g, uint64_t id) {
  uint32_t pos = g->rec_pos[id];
  uint64_t last = g->live_recs[--g->nlive_recs];
  g->live_recs[pos] = last;
  g->rec_pos[last] = pos;
  g->rec_live[id] = 0;
  if (g->rec_node[id]) m_node_del(g, g->rec_node[id]);
}
static int rec_is_live(const wl_gen *g, uint64_t id) { return id < g->rec_cap && g->rec_live[id]; }
static int node_is_live(const wl_gen *g, uint64_t id) { return id < g->node_cap && g->node_live[id]; }
static int edge_is_live(const wl_gen *g, uint64_t id) { return id < g->edge_cap && g->edge_from[id] != 0; }

/* A record id: usually a live one, sometimes anything up to a little past the newest. */
static uint64_t pick_rec(wl_gen *g) {
  if (g->nlive_recs && below(&g->r, 10) < 9) return g->live_recs[below(&g->r, g->nlive_recs)];
  return below(&g->r, (uint32_t)g->next_rec + 3u);
}
static uint64_t pick_node(wl_gen *g) {
  if (g->nlive_nodes && below(&g->r, 10) < 9) return g->live_nodes[below(&g->r, g->nlive_nodes)];
  return below(&g->r, (uint32_t)g->next_node + 3u);
}
static uint64_t pick_edge(wl_gen *g) {
  if (g->nlive_edges && below(&g->r, 10) < 9) return g->live_edges[below(&g->r, g->nlive_edges)];
  return below(&g->r, (uint32_t)g->next_edge + 3u);
}

static uint64_t gen_tag(wl_gen *g) { return below(&g->r, 10) < 9 ? below(&g->r, 16) : rnext(&g->r); }

static void gen_bytes(wl_gen *g, uint8_t *p, uint32_t n) {
  uint32_t i = 0, j;
  while (i < n) {
    uint64_t v = rnext(&g->r);
    for (j = 0; j < 8 && i < n; j++, i++) p[i] = (uint8_t)(v >> (8 * j));
  }
}

/* Length of one record's metadata, 0..64 KiB (mostly small). */
static uint32_t gen_meta_len(wl_gen *g) {
  uint32_t c = below(&g->r, 1000);
  if (c < 400) return 0;
  if (c < 800) return below(&g->r, 65);
  if (c < 960) return below(&g->r, 1025);
  if (c < 994) return below(&g->r, 16385);
  if (c < 998) return below(&g->r, VALORI_MAX_META + 1u);
  return VALORI_MAX_META;
}

/* A valid vector into v (dim components); sometimes an exact copy of a recent one. */
static void gen_vec(wl_gen *g, uint32_t *v, int remember) {
  uint32_t i;
  if (g->ring_n && below(&g->r, 100) < 5) {
    memcpy(v, g->ring + (size_t)below(&g->r, g->ring_n) * g->dim, (size_t)g->dim * 4);
    return;
  }
  if (g->whole && below(&g->r, 100) < g->whole) /* whole-valued: integers -wmax..wmax */
    for (i = 0; i < g->dim; i++) v[i] = q16bits(((int32_t)below(&g->r, 2u * (uint32_t)g->wmax + 1u) - g->wmax) * 65536);
  else
    for (i = 0; i < g->dim; i++) v[i] = gen_comp(&g->r);
  if (remember) {
    memcpy(g->ring + (size_t)g->ring_next * g->dim, v, (size_t)g->dim * 4);
    g->ring_next = (g->ring_next + 1) % WL_RING;
    if (g->ring_n < WL_RING) g->ring_n++;
  }
}
/* Poisons one component of v; returns the expected code. */
static int poison(wl_gen *g, uint32_t *v, uint32_t dim) {
  int code;
  uint32_t at = below(&g->r, dim);
  v[at] = gen_bad(&g->r, &code);
  return code;
}

static void gen_query(wl_gen *g, wl_event *ev) {
  uint32_t c = below(&g->r, 100);
  ev->nvec = 1;
  ev->vdim = g->dim;
  if (c < 30 && g->ring_n)
    memcpy(ev->vbits, g->ring + (size_t)below(&g->r, g->ring_n) * g->dim, (size_t)g->dim * 4);
  else
    gen_vec(g, ev->vbits, 0);
  if (c >= 95) {
    int code = poison(g, ev->vbits, g->dim);
    if (ev->expect == VALORI_OK) ev->expect = code; /* parameters are checked before the query */
  }
}

static void gen_params(wl_gen *g, wl_event *ev) {
  uint32_t c = below(&g->r, 100), i;
  ev->mode = below(&g->r, 3);
  ev->k = 1 + below(&g->r, 20);
  if (c < 2) {
    ev->k = 0;
    ev->expect = VALORI_EK;
  } else if (c < 3) {
    ev->k = VALORI_MAX_K + 1;
    ev->expect = VALORI_EK;
  }
  ev->ef = below(&g->r, 2) ? 0 : ev->k + below(&g->r, 100);
  c = below(&g->r, 10);
  ev->ntags = c < 5 ? 0 : c < 8 ? 1 : 2 + below(&g->r, 4);
  for (i = 0; i < ev->ntags; i++) ev->stags[i] = below(&g->r, 10) < 9 ? below(&g->r, 18) : rnext(&g->r);
  /* k is checked first, then the mode against the store, then the query */
  if (g->flat && ev->mode == VALORI_SEARCH_HNSW && ev->expect == VALORI_OK) ev->expect = VALORI_EINVAL;
}

static void gen_expand(wl_gen *g, wl_event *ev) {
  ev->hops = below(&g->r, 5);
  ev->dir = 1 + below(&g->r, 3);
  ev->max_nodes = 1 + below(&g->r, 200);
}

/* Generates the next event. */
static void gen_event(wl_gen *g, wl_event *ev) {
  uint32_t c = below(&g->r, 1000), i, sub;
  uint32_t dim = g->dim;
  memset(ev, 0, (size_t)((uint8_t *)&ev->vbits - (uint8_t *)ev));
  ev->vbits = g->vbits;
  ev->tags = g->tags;
  ev->mlen = g->mlen;
  ev->meta = g->meta;
  ev->expect = VALORI_OK;
  ev->vdim = dim;
  if (c < 300) { /* insert */
    sub = below(&g->r, 100);
    ev->kind = WL_INSERT;
    ev->nvec = ev->nrec = 1;
    gen_vec(g, ev->vbits, 1);
    ev->tags[0] = gen_tag(g);
    ev->mlen[0] = gen_meta_len(g);
    if (sub < 8) {
      ev->expect = poison(g, ev->vbits, dim);
    } else if (sub < 10) {
      ev->mlen[0] = VALORI_MAX_META + 1u + below(&g->r, 100);
      ev->expect = VALORI_ETOOBIG;
    } else if (sub < 12) {
      ev->kind = WL_INSERT_RAW;
      ev->mlen[0] = 0;
      ev->vdim = below(&g->r, 2) ? dim + 1 : dim - 1;
      if (ev->vdim > dim) ev->vbits[dim] = gen_comp(&g->r);
      ev->expect = VALORI_ECORRUPT;
    }
    gen_bytes(g, ev->meta, ev->mlen[0]);
    if (ev->expect == VALORI_OK) m_rec_add(g);
  } else if (c < 360) { /* batch */
    uint32_t n = 1 + below(&g->r, WL_MAX_BATCH), off = 0;
    sub = below(&g->r, 100);
    ev->kind = WL_BATCH;
    if (sub < 3) n = 0;
    ev->nvec = ev->nrec = n;
    for (i = 0; i < n; i++) {
      gen_vec(g, ev->vbits + (size_t)i * dim, 1);
      ev->tags[i] = gen_tag(g);
      ev->mlen[i] = below(&g->r, 4) ? below(&g->r, WL_BATCH_META + 1u) : 0;
      gen_bytes(g, ev->meta + off, ev->mlen[i]);
      off += ev->mlen[i];
    }
    if (n == 0) {
      ev->expect = VALORI_EEMPTY;
    } else if (sub < 13) {
      ev->expect = poison(g, ev->vbits + (size_t)below(&g->r, n) * dim, dim);
    } else {
      for (i = 0; i < n; i++) m_rec_add(g);
    }
  } else if (c < 430) { /* delete */
    ev->kind = WL_DELETE;
    ev->id = pick_rec(g);
    if (rec_is_live(g, ev->id)) m_rec_del(g, ev->id);
    else ev->expect = VALORI_ENOTFOUND;
  } else if (c < 510) { /* update: vector, tag or both */
    sub = below(&g->r, 3);
    ev->kind = WL_UPDATE;
    ev->id = pick_rec(g);
    ev->flags = sub == 0 ? WL_F_VEC : sub == 1 ? WL_F_TAG : (WL_F_VEC | WL_F_TAG);
    if (ev->flags & WL_F_TAG) ev->tag = gen_tag(g);
    if (ev->flags & WL_F_VEC) {
      ev->nvec = 1;
      gen_vec(g, ev->vbits, 1);
      if (below(&g->r, 100) < 8) ev->expect = poison(g, ev->vbits, dim);
    }
    if (ev->expect == VALORI_OK && !rec_is_live(g, ev->id)) ev->expect = VALORI_ENOTFOUND;
  } else if (c < 550) { /* set metadata */
    sub = below(&g->r, 100);
    ev->kind = WL_SET_META;
    ev->id = pick_rec(g);
    ev->nrec = 1;
    ev->tags[0] = 0;
    ev->mlen[0] = sub < 15 ? 0 : gen_meta_len(g);
    if (sub >= 97) {
      ev->mlen[0] = VALORI_MAX_META + 1u + below(&g->r, 100);
      ev->expect = VALORI_ETOOBIG;
    }
    gen_bytes(g, ev->meta, ev->mlen[0]);
    if (ev->expect == VALORI_OK && !rec_is_live(g, ev->id)) ev->expect = VALORI_ENOTFOUND;
  } else if (c < 620) { /* node create: unlinked or linked to a record */
    sub = below(&g->r, 100);
    ev->kind = WL_NODE_CREATE;
    ev->ukind = below(&g->r, 5);
    ev->nrec = 1;
    ev->tags[0] = 0;
    ev->mlen[0] = below(&g->r, 4) ? below(&g->r, 49) : gen_meta_len(g);
    gen_bytes(g, ev->meta, ev->mlen[0]);
    ev->id = sub < 40 ? 0 : pick_rec(g);
    if (ev->id && !rec_is_live(g, ev->id)) ev->expect = VALORI_ENOTFOUND;
    else if (ev->id && g->rec_node[ev->id]) ev->expect = VALORI_EEXIST;
    else {
      uint64_t n = g->next_node++;
      if (!ensure_node(g, n)) {
        g->node_live[n] = 1;
        g->node_rec[n] = ev->id;
        g->node_pos[n] = g->nlive_nodes;
        g->live_nodes[g->nlive_nodes++] = n;
        if (ev->id) g->rec_node[ev->id] = n;
      }
    }
  } else if (c < 632) { /* node delete */
    ev->kind = WL_NODE_DELETE;
    ev->id = pick_node(g);
    if (node_is_live(g, ev->id)) m_node_del(g, ev->id);
    else ev->expect = VALORI_ENOTFOUND;
  } else if (c < 760) { /* edge create */
    sub = below(&g->r, 100);
    ev->kind = WL_EDGE_CREATE;
    ev->id = pick_node(g);
    ev->id2 = pick_node(g);
    ev->ukind = below(&g->r, 4);
    if (sub < 50) {
      ev->flags = WL_F_WEIGHT;
      ev->weight = gen_comp(&g->r);
      if (sub < 5) {
        int code;
        ev->weight = gen_bad(&g->r, &code);
        ev->expect = code;
      }
    }
    if (ev->expect == VALORI_OK && (!node_is_live(g, ev->id) || !node_is_live(g, ev->id2)))
      ev->expect = VALORI_ENOTFOUND;
    if (ev->expect == VALORI_OK) {
      uint64_t e = g->next_edge++;
      if (!ensure_edge(g, e)) {
        g->edge_from[e] = ev->id;
        g->edge_to[e] = ev->id2;
        g->edge_pos[e] = g->nlive_edges;
        g->live_edges[g->nlive_edges++] = e;
      }
    }
  } else if (c < 775) { /* edge delete */
    ev->kind = WL_EDGE_DELETE;
    ev->id = pick_edge(g);
    if (edge_is_live(g, ev->id)) m_edge_del(g, ev->id);
    else ev->expect = VALORI_ENOTFOUND;
  } else if (c < 900) { /* search */
    ev->kind = WL_SEARCH;
    gen_params(g, ev);
    gen_query(g, ev);
  } else if (c < 950) { /* k-hop expansion */
    ev->kind = WL_EXPAND;
    gen_expand(g, ev);
    ev->nseeds = below(&g->r, 4);
    for (i = 0; i < ev->nseeds; i++) {
      ev->seeds[i] = pick_node(g);
      if (!node_is_live(g, ev->seeds[i])) ev->expect = VALORI_ENOTFOUND;
    }
  } else { /* search, then expand around the hits */
    ev->kind = WL_SEARCH_EXPAND;
    gen_params(g, ev);
    gen_query(g, ev);
    gen_expand(g, ev);
  }
}

/* ---- little-endian serialization into a SHA-256 stream */
static void h32(vl_sha256_ctx *s, uint32_t v) {
  uint8_t b[4];
  b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); b[2] = (uint8_t)(v >> 16); b[3] = (uint8_t)(v >> 24);
  vl_sha256_update(s, b, 4);
}
static void h64(vl_sha256_ctx *s, uint64_t v) {
  h32(s, (uint32_t)v);
  h32(s, (uint32_t)(v >> 32));
}

/* The canonical bytes of an event (workload.mjs serializes identically). */
static void hash_event(vl_sha256_ctx *s, const wl_event *ev) {
  uint32_t i, total = 0;
  h32(s, ev->kind); h32(s, (uint32_t)ev->expect); h32(s, ev->nvec); h32(s, ev->vdim); h32(s, ev->nrec);
  h64(s, ev->id); h64(s, ev->id2); h32(s, ev->flags); h64(s, ev->tag); h32(s, ev->ukind); h32(s, ev->weight);
  h32(s, ev->k); h32(s, ev->ef); h32(s, ev->mode); h32(s, ev->ntags);
  for (i = 0; i < ev->ntags; i++) h64(s, ev->stags[i]);
  h32(s, ev->hops); h32(s, ev->dir); h32(s, ev->max_nodes); h32(s, ev->nseeds);
  for (i = 0; i < ev->nseeds; i++) h64(s, ev->seeds[i]);
  for (i = 0; i < ev->nvec * ev->vdim; i++) h32(s, ev->vbits[i]);
  for (i = 0; i < ev->nrec; i++) {
    h64(s, ev->tags[i]);
    h32(s, ev->mlen[i]);
    total += ev->mlen[i];
  }
  vl_sha256_update(s, ev->meta, total);
}

/* ---- text output without libc I/O */
typedef struct wl_line {
  char b[1024];
  size_t n;
} wl_line;
static void ls(wl_line *l, const char *s) {
  while (*s && l->n + 1 < sizeof l->b) l->b[l->n++] = *s++;
  l->b[l->n] = 0;
}
static void lu(wl_line *l, uint64_t v) {
  char t[24];
  int i = 23;
  t[i] = 0;
  do {
    t[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  ls(l, t + i);
}
static void lhex(wl_line *l, const uint8_t *p, size_t n) {
  static const char hx[] = "0123456789abcdef";
  char t[2 * 32 + 1];
  size_t i;
  if (n > 32) n = 32;
  for (i = 0; i < n; i++) {
    t[2 * i] = hx[p[i] >> 4];
    t[2 * i + 1] = hx[p[i] & 15];
  }
  t[2 * n] = 0;
  ls(l, t);
}

/* ---- runner */
typedef struct wl_runner {
  const wl_config *cfg;
  const valori_allocator *a;
  unsigned flags;
  wl_out_fn out;
  void *ctx;
  valori_db *db;
  valori_searcher *srch;
  wl_gen g;
  float *fvec;
  uint8_t *raw;
  const void *metap[WL_MAX_BATCH];
  size_t mlens[WL_MAX_BATCH];
  valori_hit hits[WL_MAX_K];
  valori_reach reach[WL_REACH_CAP];
  vl_sha256_ctx h_results, h_codes, h_stream;
  uint64_t counts[VALORI_RESULT_COUNT + 1];
  uint32_t unexpected, failures;
  const valori_vfs *vfs;    /* store mode: the empty store directory; NULL = in memory */
  valori_options store_opt; /* store mode: the options the store is created and reopened with */
  uint32_t store_cps; /* checkpoints passed in store mode */
  int store_failed;
} wl_runner;

static void emit(wl_runner *R, wl_line *l) {
  ls(l, "\n");
  R->out(R->ctx, l->b);
}

static void *xalloc(wl_runner *R, size_t n) {
  void *p = R->a->alloc(R->a->ctx, n);
  if (p) memset(p, 0, n);
  return p;
}

static void to_floats(wl_runner *R, const uint32_t *bits, size_t n) { memcpy(R->fvec, bits, n * 4); }

static void put32le(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* Applies one event; returns the result code; *rh receives the per-event result hash. */
static int apply_event(wl_runner *R, uint64_t idx, const wl_event *ev, uint64_t *out_id, uint8_t rh[32]) {
  valori_db *db = R->db;
  valori_search_params p;
  size_t nh = 0, nn = 0, i;
  int rc = VALORI_EINVAL, has_hits = 0, has_reach = 0;
  vl_sha256_ctx s;
  *out_id = 0;
  p.k = ev->k;
  p.ef = ev->ef;
  p.mode = ev->mode;
  p.ntags = ev->ntags;
  p.tags = ev->ntags ? ev->stags : NULL; /* tags with ntags 0 is an empty set (EINVAL), not "no filter" */
  switch (ev->kind) {
    case WL_INSERT:
      to_floats(R, ev->vbits, R->g.dim);
      rc = valori_insert(db, R->fvec, ev->tags[0], ev->meta, ev->mlen[0], out_id);
      break;
    case WL_INSERT_RAW: { /* a record body with vdim != dim components */
      uint8_t *b = R->raw;
      size_t len = 8 + 12 + (size_t)ev->vdim * 4;
      put32le(b, VALORI_OP_INSERT);
      put32le(b + 4, (uint32_t)(len - 8));
      put32le(b + 8, (uint32_t)ev->tags[0]);
      put32le(b + 12, (uint32_t)(ev->tags[0] >> 32));
      put32le(b + 16, 0);
      for (i = 0; i < ev->vdim; i++) {
        float f;
        int32_t q = 0;
        memcpy(&f, &ev->vbits[i], 4);
        valori_f32_to_q16(f, &q);
        put32le(b + 20 + 4 * i, (uint32_t)q);
      }
      rc = valori_apply(db, b, len, out_id);
      break;
    }
    case WL_BATCH: {
      size_t off = 0;
      to_floats(R, ev->vbits, (size_t)ev->nvec * R->g.dim);
      for (i = 0; i < ev->nrec; i++) {
        R->metap[i] = ev->meta + off;
        R->mlens[i] = ev->mlen[i];
        off += ev->mlen[i];
      }
      rc = valori_insert_batch(db, ev->nrec, R->fvec, ev->tags, R->metap, R->mlens, out_id);
      break;
    }
    case WL_DELETE: rc = valori_delete(db, ev->id); break;
    case WL_UPDATE:
      to_floats(R, ev->vbits, R->g.dim);
      rc = valori_update(db, ev->id, (ev->flags & WL_F_VEC) ? R->fvec : NULL, (ev->flags & WL_F_TAG) ? &ev->tag : NULL);
      break;
    case WL_SET_META: rc = valori_set_meta(db, ev->id, ev->meta, ev->mlen[0]); break;
    case WL_NODE_CREATE: rc = valori_node_create(db, ev->ukind, ev->id, ev->meta, ev->mlen[0], out_id); break;
    case WL_NODE_DELETE: rc = valori_node_delete(db, ev->id); break;
    case WL_EDGE_CREATE: {
      float w;
      memcpy(&w, &ev->weight, 4);
      rc = valori_edge_create(db, ev->id, ev->id2, ev->ukind, (ev->flags & WL_F_WEIGHT) ? &w : NULL, out_id);
      break;
    }
    case WL_EDGE_DELETE: rc = valori_edge_delete(db, ev->id); break;
    case WL_SEARCH:
      to_floats(R, ev->vbits, R->g.dim);
      has_hits = 1;
      rc = valori_search(db, R->srch, R->fvec, &p, R->hits, &nh);
      break;
    case WL_EXPAND:
      has_reach = 1;
      rc = valori_expand(db, ev->seeds, ev->nseeds, ev->hops, ev->dir, ev->max_nodes, R->reach, WL_REACH_CAP, &nn);
      break;
    case WL_SEARCH_EXPAND:
      to_floats(R, ev->vbits, R->g.dim);
      has_hits = has_reach = 1;
      rc = valori_search_expand(db, R->srch, R->fvec, &p, ev->hops, ev->dir, ev->max_nodes, R->hits, &nh, R->reach,
                                WL_REACH_CAP, &nn);
      break;
  }
  if (rc != VALORI_OK) nh = nn = 0;
  vl_sha256_init(&s);
  h64(&s, idx);
  h32(&s, ev->kind);
  h32(&s, (uint32_t)rc);
  if (has_hits) {
    h32(&s, (uint32_t)nh);
    for (i = 0; i < nh; i++) {
      h64(&s, R->hits[i].id);
      h64(&s, (uint64_t)R->hits[i].distance);
    }
  }
  if (has_reach) {
    h32(&s, (uint32_t)nn);
    for (i = 0; i < nn && i < WL_REACH_CAP; i++) {
      h64(&s, R->reach[i].node_id);
      h64(&s, R->reach[i].via_edge);
      h32(&s, R->reach[i].depth);
    }
  }
  vl_sha256_final(&s, rh);
  if (has_hits || has_reach) vl_sha256_update(&R->h_results, rh, 32);
  return rc;
}

/* The state part of a checkpoint line, from db: " height=... records=... nodes=... edges=... tomb=...
** root=... digest=... snap=... snaplen=...". Returns valori_check's code; *snap_rc receives
** valori_snapshot_save's; with reload != NULL the snapshot is also loaded back and *reload says
** whether it gives the same root and digest (VALORI_OK), differs (-2) or failed (its code; -1 when
** there was no snapshot to load). */
static int state_fields(wl_runner *R, valori_db *db, wl_line *l, int *snap_rc, int *reload) {
  uint8_t root[32], dig[32], snap[32], r2[32], d2[32];
  uint8_t *buf = NULL;
  size_t len = 0;
  valori_stats st;
  valori_db *db2 = NULL;
  valori_options o;
  int crc, src, lrc = -1;
  memset(snap, 0, sizeof snap);
  valori_stats_get(db, &st);
  valori_state_root(db, root);
  valori_index_digest(db, dig);
  crc = valori_check(db);
  src = valori_snapshot_save(db, &buf, &len);
  if (src == VALORI_OK) {
    vl_sha256(buf, len, snap);
    if (reload) {
      valori_options_init(&o);
      o.allocator = R->a;
      lrc = valori_snapshot_load(buf, len, &o, &db2);
      if (lrc == VALORI_OK) {
        valori_state_root(db2, r2);
        valori_index_digest(db2, d2);
        if (memcmp(r2, root, 32) || memcmp(d2, dig, 32)) lrc = -2;
        valori_close(db2);
      }
    }
    valori_buffer_free(db, buf, len);
  }
  ls(l, " height="); lu(l, st.height);
  ls(l, " records="); lu(l, st.records);
  ls(l, " nodes="); lu(l, st.nodes);
  ls(l, " edges="); lu(l, st.edges);
  ls(l, " tomb="); lu(l, st.index_tombstones);
  ls(l, " root="); lhex(l, root, 32);
  ls(l, " digest="); lhex(l, dig, 32);
  ls(l, " snap="); lhex(l, snap, 32);
  ls(l, " snaplen="); lu(l, len);
  *snap_rc = src;
  if (reload) *reload = lrc;
  return crc;
}

static void checkpoint(wl_runner *R, uint32_t ev_count) {
  uint8_t res[32], codes[32], stream[32];
  int crc, src, lrc;
  wl_line l;
  l.n = 0;
  ls(&l, "ev="); lu(&l, ev_count);
  crc = state_fields(R, R->db, &l, &src, &lrc);
  vl_sha256_final(&R->h_results, res);
  vl_sha256_final(&R->h_codes, codes);
  vl_sha256_final(&R->h_stream, stream);
  vl_sha256_init(&R->h_results);
  vl_sha256_init(&R->h_codes);
  vl_sha256_init(&R->h_stream);
  ls(&l, " results="); lhex(&l, res, 32);
  ls(&l, " codes="); lhex(&l, codes, 32);
  ls(&l, " stream="); lhex(&l, stream, 32);
  ls(&l, " check="); ls(&l, valori_code_name(crc));
  ls(&l, " reload="); ls(&l, lrc == VALORI_OK ? "OK" : lrc == -2 ? "MISMATCH" : lrc == -1 ? valori_code_name(src) : valori_code_name(lrc));
  if (crc != VALORI_OK || lrc != VALORI_OK) R->failures++;
  emit(R, &l);
}

/* ---- durable store mode (wl_run_store) */

/* A "store ..." line for a failed store operation; the run stops after it. */
static void store_fatal(wl_runner *R, const char *what, int rc) {
  wl_line l;
  l.n = 0;
  ls(&l, "FATAL store: "); ls(&l, what); ls(&l, ": "); ls(&l, valori_code_name(rc));
  emit(R, &l);
  R->store_failed = 1;
}

/* 64-bit file offsets through the VFS: a sparse file of just over 3 GiB (written at its end, sized,
** read back, truncated, removed). A VFS built with a 32-bit off_t fails at the write (EINVAL) or
** writes at the wrong offset (then the size or the bytes read back differ). */
static void store_large_file(wl_runner *R) {
  static const char name[] = "identity-large-file.tmp";
  static const uint8_t w[8] = {'V', 'a', 'l', 'o', 'r', 'i', '6', '4'};
  const valori_vfs *v = R->vfs;
  const uint64_t off = 3221225472u + 3u; /* 3 GiB + 3: beyond both 2^31 and a 32-bit signed off_t */
  valori_file *f = NULL;
  uint64_t size = 0;
  uint8_t r[8];
  size_t got = 0;
  const char *step = "open";
  int rc;
  wl_line l;
  rc = v->open(v->ctx, name, VALORI_VFS_WRITE | VALORI_VFS_CREATE | VALORI_VFS_TRUNC, &f);
  if (rc == VALORI_OK) { step = "write"; rc = v->write(v->ctx, f, off, w, sizeof w); }
  if (rc == VALORI_OK) { step = "size"; rc = v->size(v->ctx, f, &size); if (rc == VALORI_OK && size != off + sizeof w) rc = -1; }
  if (rc == VALORI_OK) { step = "read"; rc = v->read(v->ctx, f, off, r, sizeof r, &got); if (rc == VALORI_OK && (got != sizeof r || memcmp(r, w, sizeof w))) rc = -1; }
  if (rc == VALORI_OK) { step = "truncate"; rc = v->truncate(v->ctx, f, 0); }
  if (f) v->close(v->ctx, f);
  v->remove(v->ctx, name);
  l.n = 0;
  ls(&l, "store large-file=");
  if (rc == VALORI_OK) {
    ls(&l, "OK bytes="); lu(&l, off + sizeof w);
  } else {
    ls(&l, "FAILED step="); ls(&l, step);
    ls(&l, " rc="); ls(&l, rc == -1 ? "WRONG-DATA" : valori_code_name(rc));
    ls(&l, " size="); lu(&l, size);
    R->store_failed = 1;
  }
  emit(R, &l);
}

/* After checkpoint number n (1-based): makes the store durable (every second checkpoint also
** writes a snapshot), closes it, reopens it through recovery, and writes a "reopened" line with
** the reopened state, which must equal the checkpoint's (compare.awk). Returns 0 on success. */
static int store_reopen(wl_runner *R, uint32_t ev_count, uint32_t n) {
  valori_recovery rec;
  valori_options o = R->store_opt;
  int rc, crc, src;
  wl_line l;
  if ((rc = valori_flush(R->db)) != VALORI_OK) { store_fatal(R, "flush", rc); return 1; }
  if (n % 2 == 0 && (rc = valori_snapshot(R->db)) != VALORI_OK) { store_fatal(R, "snapshot", rc); return 1; }
  valori_searcher_free(R->srch);
  R->srch = NULL;
  rc = valori_close(R->db);
  R->db = NULL;
  if (rc != VALORI_OK) { store_fatal(R, "close", rc); return 1; }
  o.flags = 0; /* reopen only: the store must be there */
  if ((rc = valori_open("identity-store", &o, &R->db)) != VALORI_OK) { R->db = NULL; store_fatal(R, "reopen", rc); return 1; }
  if ((rc = valori_searcher_create(R->db, &R->srch)) != VALORI_OK) { store_fatal(R, "searcher", rc); return 1; }
  valori_recovery_info(R->db, &rec);
  l.n = 0;
  ls(&l, "reopened ev="); lu(&l, ev_count);
  crc = state_fields(R, R->db, &l, &src, NULL);
  ls(&l, " check="); ls(&l, valori_code_name(crc));
  ls(&l, " from=snapshot@"); lu(&l, rec.snapshot_height);
  ls(&l, "+"); lu(&l, rec.replayed);
  ls(&l, " segments="); lu(&l, rec.segments);
  emit(R, &l);
  return 0;
}

/* At the end: closes the store and runs valori_verify over it (every checksum, the chain, a replay);
** writes "store verify=OK height=H root=R" for compare.awk to hold against the last checkpoint. */
static void store_verify(wl_runner *R) {
  valori_options o = R->store_opt;
  valori_recovery rep;
  uint64_t h = 0;
  uint8_t root[32];
  int rc;
  wl_line l;
  valori_searcher_free(R->srch);
  R->srch = NULL;
  rc = valori_close(R->db);
  R->db = NULL;
  if (rc != VALORI_OK) { store_fatal(R, "close", rc); return; }
  o.flags = VALORI_OPEN_READONLY;
  memset(root, 0, sizeof root);
  rc = valori_verify(&o, &rep, &h, root);
  l.n = 0;
  ls(&l, "store verify="); ls(&l, valori_code_name(rc));
  ls(&l, " height="); lu(&l, h);
  ls(&l, " root="); lhex(&l, root, 32);
  emit(R, &l);
  if (rc != VALORI_OK) R->store_failed = 1;
}

static void free_all(wl_runner *R) {
  const valori_allocator *a = R->a;
  wl_gen *g = &R->g;
  size_t d = g->dim;
  if (R->srch) valori_searcher_free(R->srch);
  if (R->db) valori_close(R->db);
#define F(p, n) if (p) a->free(a->ctx, p, (n))
  F(g->rec_live, g->rec_cap); F(g->rec_node, g->rec_cap * 8); F(g->rec_pos, g->rec_cap * 4); F(g->live_recs, g->rec_cap * 8);
  F(g->node_live, g->node_cap); F(g->node_rec, g->node_cap * 8); F(g->node_pos, g->node_cap * 4); F(g->live_nodes, g->node_cap * 8);
  F(g->edge_from, g->edge_cap * 8); F(g->edge_to, g->edge_cap * 8); F(g->edge_pos, g->edge_cap * 4); F(g->live_edges, g->edge_cap * 8);
  F(g->ring, WL_RING * d * 4); F(g->vbits, (WL_MAX_BATCH * d + 1) * 4); F(g->meta, WL_MAX_META);
  F(R->fvec, (WL_MAX_BATCH * d + 1) * 4); F(R->raw, 32 + (d + 1) * 4);
#undef F
}

int wl_run(const wl_config *cfg, const valori_allocator *a, unsigned flags, wl_out_fn out, void *ctx) {
  return wl_run_store(cfg, a, flags, NULL, out, ctx);
}

int wl_run_store(const wl_config *cfg, const valori_allocator *a, unsigned flags, const valori_vfs *store, wl_out_fn out,
                 void *ctx) {
  static wl_runner RR; /* large (hit and reach buffers); one run at a time */
  wl_runner *R = &RR;
  wl_event ev;
  valori_options o;
  wl_line l;
  uint32_t i;
  int rc;
  memset(R, 0, sizeof *R);
  R->cfg = cfg;
  R->a = a;
  R->flags = flags;
  R->out = out;
  R->ctx = ctx;
  R->vfs = store;
  R->g.a = a;
  R->g.dim = cfg->dim;
  R->g.flat = cfg->index == VALORI_INDEX_NONE;
  R->g.whole = cfg->whole;
  R->g.wmax = cfg->trav_range && cfg->trav_range < 256 ? (int32_t)cfg->trav_range : 256;
  R->g.r.s = cfg->seed;
  R->g.next_rec = R->g.next_node = R->g.next_edge = 1;
  R->g.ring = (uint32_t *)xalloc(R, (size_t)WL_RING * cfg->dim * 4);
  R->g.vbits = (uint32_t *)xalloc(R, ((size_t)WL_MAX_BATCH * cfg->dim + 1) * 4);
  R->g.meta = (uint8_t *)xalloc(R, WL_MAX_META);
  R->fvec = (float *)xalloc(R, ((size_t)WL_MAX_BATCH * cfg->dim + 1) * 4);
  R->raw = (uint8_t *)xalloc(R, 32 + ((size_t)cfg->dim + 1) * 4);
  l.n = 0;
  ls(&l, "identity v1 config="); ls(&l, cfg->name);
  ls(&l, " seed="); lu(&l, cfg->seed);
  ls(&l, " dim="); lu(&l, cfg->dim);
  ls(&l, " metric="); ls(&l, cfg->metric == VALORI_METRIC_IP ? "IP" : "L2");
  if (cfg->index == VALORI_INDEX_NONE) {
    ls(&l, " index=none");
  } else {
    ls(&l, " m="); lu(&l, cfg->hnsw_m ? cfg->hnsw_m : 16);
    ls(&l, " efc="); lu(&l, cfg->hnsw_efc ? cfg->hnsw_efc : 200);
  }
  ls(&l, " events="); lu(&l, cfg->events);
  if (cfg->whole) { ls(&l, " whole="); lu(&l, cfg->whole); }
  if (cfg->trav_range) { ls(&l, " traversal=int8:"); lu(&l, cfg->trav_range); }
  emit(R, &l);
  if (!R->g.ring || !R->g.vbits || !R->g.meta || !R->fvec || !R->raw) {
    l.n = 0;
    ls(&l, "FATAL out of memory");
    emit(R, &l);
    free_all(R);
    return 1;
  }
  valori_options_init(&o);
  o.dim = cfg->dim;
  o.metric = cfg->metric;
  if (cfg->hnsw_m) o.hnsw_m = cfg->hnsw_m;
  if (cfg->hnsw_efc) o.hnsw_ef_construction = cfg->hnsw_efc;
  o.index = cfg->index;
  if (cfg->trav_range &&
      valori_traversal_int8(-(float)cfg->trav_range, (float)cfg->trav_range, &o.traversal) != VALORI_OK) {
    l.n = 0;
    ls(&l, "FATAL traversal range");
    emit(R, &l);
    free_all(R);
    return 1;
  }
  o.allocator = a;
  if (store) {
    /* relaxed writes made durable at every checkpoint; small segments, so the log rotates often;
    ** snapshots only where store_reopen takes them */
    o.vfs = store;
    o.flags = VALORI_OPEN_CREATE;
    o.sync_mode = VALORI_SYNC_RELAXED;
    o.segment_bytes = 64u * 1024u;
    o.snapshot_every = UINT64_MAX;
    R->store_opt = o;
    store_large_file(R);
  }
  rc = valori_open(store ? "identity-store" : ":memory:", &o, &R->db);
  if (rc == VALORI_OK) rc = valori_searcher_create(R->db, &R->srch);
  if (rc != VALORI_OK) {
    l.n = 0;
    ls(&l, "FATAL valori_open: ");
    ls(&l, valori_code_name(rc));
    emit(R, &l);
    free_all(R);
    return 1;
  }
  vl_sha256_init(&R->h_results);
  vl_sha256_init(&R->h_codes);
  vl_sha256_init(&R->h_stream);
  for (i = 0; i < cfg->events; i++) {
    uint64_t id;
    uint8_t rh[32];
    gen_event(&R->g, &ev);
    if (R->g.oom) {
      l.n = 0;
      ls(&l, "FATAL generator out of memory at ev=");
      lu(&l, i);
      emit(R, &l);
      R->failures++;
      break;
    }
    hash_event(&R->h_stream, &ev);
    rc = apply_event(R, i, &ev, &id, rh);
    h64(&R->h_codes, i);
    h32(&R->h_codes, (uint32_t)rc);
    h64(&R->h_codes, id);
    R->counts[rc >= 0 && rc < VALORI_RESULT_COUNT ? rc : VALORI_RESULT_COUNT]++;
    if (rc != ev.expect) {
      R->unexpected++;
      l.n = 0;
      ls(&l, "UNEXPECTED ev="); lu(&l, i);
      ls(&l, " kind="); ls(&l, kind_names[ev.kind]);
      ls(&l, " rc="); ls(&l, valori_code_name(rc));
      ls(&l, " expected="); ls(&l, valori_code_name(ev.expect));
      emit(R, &l);
    }
    if (flags & WL_TRACE) {
      l.n = 0;
      ls(&l, "  e="); lu(&l, i);
      ls(&l, " "); ls(&l, kind_names[ev.kind]);
      ls(&l, " rc="); ls(&l, valori_code_name(rc));
      ls(&l, " id="); lu(&l, id);
      ls(&l, " r="); lhex(&l, rh, 8);
      emit(R, &l);
    }
    if ((i + 1) % cfg->every == 0 || i + 1 == cfg->events) {
      checkpoint(R, i + 1);
      if (store && store_reopen(R, i + 1, ++R->store_cps)) break;
    }
  }
  if (store && R->db) store_verify(R);
  l.n = 0;
  ls(&l, "end config="); ls(&l, cfg->name);
  ls(&l, " unexpected="); lu(&l, R->unexpected);
  ls(&l, " failures="); lu(&l, R->failures);
  ls(&l, " codes:");
  for (i = 0; i <= VALORI_RESULT_COUNT; i++)
    if (R->counts[i]) {
      ls(&l, " ");
      ls(&l, i < VALORI_RESULT_COUNT ? valori_code_name((int)i) : "OTHER");
      ls(&l, "=");
      lu(&l, R->counts[i]);
    }
  emit(R, &l);
  free_all(R);
  return R->unexpected || R->failures || R->store_failed ? 1 : 0;
}
