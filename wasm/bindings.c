/*
** bindings.c: the thin C layer the JS package calls (wasm/exports.txt lists every export).
**
** Why it exists: JS cannot build C structs or size_t arrays without knowing their layout, so these
** wrappers take and return only scalars and pointers to plain arrays (uint32 lengths, uint64 ids),
** and vw_layout_json() reports the size and field offsets of every struct JS *reads* (hits, edges,
** nodes, reach entries, stats, the open report). Nothing here holds global mutable state except
** the layout string, built once. A vw_handle owns a valori_db, the JS-backed VFS bound to it (vfs_js.c) and
** one reusable searcher (JS calls are single-threaded per wasm instance).
*/
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <malloc.h>
#include <string.h>
#include "valori.h"
#include "vfs_js.h"

typedef struct vw_handle {
  valori_db *db;
  valori_searcher *searcher; /* created lazily; NULL until the first search */
  valori_vfs vfs;            /* used when has_vfs */
  int has_vfs;
} vw_handle;

/* ---- introspection */

const char *vw_constants_json(void) { return valori_constants_json(); }


/* Sizes and offsets are computed at run time (offsetof is not a preprocessor value). */
static char vw_layout_buf[4096];

static char *vw_put(char *p, const char *s) { while (*s) *p++ = *s++; return p; }
static char *vw_num(char *p, unsigned long v) {
  char tmp[24]; int n = 0;
  do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (n) *p++ = tmp[--n];
  return p;
}
#define F(T, f) do { p = vw_put(p, "\"" #f "\":"); p = vw_num(p, (unsigned long)offsetof(T, f)); p = vw_put(p, ","); } while (0)
#define S(T) do { p = vw_put(p, "\"size\":"); p = vw_num(p, (unsigned long)sizeof(T)); } while (0)

/* JSON: {"hit":{"id":0,"distance":8,"size":16},"edge":{...},...}: the size and field offsets of
** every struct JS reads or fills (every other constant, the VFS flags included, is in
** valori_constants_json). Static buffer, built once. */
const char *vw_layout_json(void) {
  char *p = vw_layout_buf;
  if (vw_layout_buf[0]) return vw_layout_buf;
  p = vw_put(p, "{\"hit\":{"); F(valori_hit, id); F(valori_hit, distance); S(valori_hit);
  p = vw_put(p, "},\"node\":{"); F(valori_node, id); F(valori_node, record_id); F(valori_node, kind);
  F(valori_node, label_len); S(valori_node);
  p = vw_put(p, "},\"edge\":{"); F(valori_edge, id); F(valori_edge, from); F(valori_edge, to);
  F(valori_edge, kind); F(valori_edge, has_weight); F(valori_edge, weight_q16); S(valori_edge);
  p = vw_put(p, "},\"reach\":{"); F(valori_reach, node_id); F(valori_reach, via_edge); F(valori_reach, depth);
  S(valori_reach);
  p = vw_put(p, "},\"stats\":{"); F(valori_stats, height); F(valori_stats, records); F(valori_stats, nodes);
  F(valori_stats, edges); F(valori_stats, next_record_id); F(valori_stats, next_node_id);
  F(valori_stats, next_edge_id); F(valori_stats, index_tombstones); F(valori_stats, vector_bytes);
  F(valori_stats, index_bytes); F(valori_stats, other_bytes); F(valori_stats, dim); F(valori_stats, metric);
  F(valori_stats, hnsw_m); F(valori_stats, hnsw_ef_construction); F(valori_stats, hnsw_ef_search);
  F(valori_stats, index); F(valori_stats, traversal); F(valori_stats, traversal_shift);
  F(valori_stats, traversal_center); S(valori_stats);
  p = vw_put(p, "},\"recovery\":{"); F(valori_recovery, code); F(valori_recovery, file); F(valori_recovery, offset);
  F(valori_recovery, height); F(valori_recovery, detail); S(valori_recovery);
  p = vw_put(p, "},\"position\":{"); F(valori_position, height); F(valori_position, root); F(valori_position, chain);
  F(valori_position, chain_known); S(valori_position);
  p = vw_put(p, "},\"apply_result\":{"); F(valori_apply_result, height); F(valori_apply_result, reason);
  F(valori_apply_result, event_code); F(valori_apply_result, expected); F(valori_apply_result, actual);
  S(valori_apply_result);
  p = vw_put(p, "},\"frame\":{"); F(valori_frame, type); F(valori_frame, from);
  F(valori_frame, leader_height); F(valori_frame, log_first_height); F(valori_frame, time_ms);
  F(valori_frame, config); F(valori_frame, heartbeat_ms); F(valori_frame, root); F(valori_frame, code);
  F(valori_frame, data); F(valori_frame, data_len); F(valori_frame, height); S(valori_frame);
  p = vw_put(p, "}}");
  *p = 0;
  return vw_layout_buf;
}
#undef F
#undef S

/* Bytes in use on the wasm malloc heap (dlmalloc's mallinfo): the leak tests compare it before and
** after thousands of calls. */
uint32_t vw_heap_used(void) {
  struct mallinfo mi = mallinfo();
  return (uint32_t)mi.uordblks;
}

/* ---- lifecycle */

/* The store options vw_open and vw_bootstrap share: snapshot cadence, segment size and, for a
** vfs_id, the JS backend's VFS bound to the handle. */
static void vw_store_options(vw_handle *h, valori_options *o, uint64_t snapshot_every, uint64_t segment_bytes,
                             int32_t vfs_id) {
  o->snapshot_every = snapshot_every;
  o->segment_bytes = segment_bytes;
  if (vfs_id) {
    vw_vfs_js_init(&h->vfs, vfs_id);
    h->has_vfs = 1;
    o->vfs = &h->vfs;
  }
}

/* Opens a database. traversal: valori_options.traversal (0 = none; JS gets a word from
** valori_traversal_int8, exported as is). vfs_id 0 = in memory; otherwise the id of a JS storage
** backend registered with the module (vfs_js.c). On success *out receives a handle to pass to every other vw_ function. On
** failure *rep (caller-owned, may be NULL) says why: valori_open_report's report (file, offset,
** height and a static reason for a damaged store; only the code for an in-memory database). */
int vw_open(const char *path, uint32_t dim, uint32_t metric, uint32_t m, uint32_t efc, uint32_t efs,
            uint32_t index, uint32_t traversal, uint32_t flags, uint32_t sync_mode, uint64_t snapshot_every,
            uint64_t segment_bytes, int32_t vfs_id, vw_handle **out, valori_recovery *rep) {
  valori_options o;
  vw_handle *h;
  int rc;
  if (!out) return VALORI_EINVAL;
  h = (vw_handle *)calloc(1, sizeof *h);
  if (!h) return VALORI_ENOMEM;
  valori_options_init(&o);
  o.dim = dim;
  o.metric = metric;
  o.hnsw_m = m; /* 0 = default (or, for an index-less store, required) */
  o.hnsw_ef_construction = efc;
  o.hnsw_ef_search = efs;
  o.index = index;
  o.traversal = traversal;
  o.flags = flags;
  o.sync_mode = sync_mode;
  vw_store_options(h, &o, snapshot_every, segment_bytes, vfs_id);
  if (rep) {
    memset(rep, 0, sizeof *rep);
    rep->detail = "";
  }
  rc = vfs_id ? valori_open_report(path, &o, &h->db, rep) : valori_open(path, &o, &h->db);
  if (rc) {
    if (rep) rep->code = rc;
    free(h);
    return rc;
  }
  *out = h;
  return VALORI_OK;
}

/* Builds a database from a leader's snapshot file (valori_bootstrap): vfs_id 0 = in memory, else a
** new durable store in the (empty) directory of that JS backend, opened with sync_mode,
** snapshot_every and segment_bytes as vw_open. On success *out receives a handle. */
int vw_bootstrap(const char *path, uint32_t sync_mode, uint64_t snapshot_every, uint64_t segment_bytes, int32_t vfs_id,
                 const uint8_t *file, uint32_t len, vw_handle **out) {
  valori_options o;
  vw_handle *h;
  int rc;
  if (!out) return VALORI_EINVAL;
  h = (vw_handle *)calloc(1, sizeof *h);
  if (!h) return VALORI_ENOMEM;
  valori_options_init(&o);
  o.sync_mode = sync_mode;
  vw_store_options(h, &o, snapshot_every, segment_bytes, vfs_id);
  rc = valori_bootstrap(path, &o, file, len, &h->db);
  if (rc) {
    free(h);
    return rc;
  }
  *out = h;
  return VALORI_OK;
}

/* Decodes a snapshot into a new in-memory database. */
int vw_snapshot_load(const uint8_t *buf, uint32_t len, vw_handle **out) {
  vw_handle *h;
  int rc;
  if (!out) return VALORI_EINVAL;
  h = (vw_handle *)calloc(1, sizeof *h);
  if (!h) return VALORI_ENOMEM;
  rc = valori_snapshot_load(buf, len, NULL, &h->db);
  if (rc) {
    free(h);
    return rc;
  }
  *out = h;
  return VALORI_OK;
}

/* Closes and frees everything; returns valori_close's result. */
int vw_close(vw_handle *h) {
  int rc;
  if (!h) return VALORI_OK;
  valori_searcher_free(h->searcher);
  rc = valori_close(h->db);
  free(h);
  return rc;
}

int vw_flush(vw_handle *h) { return valori_flush(h->db); }
int vw_snapshot(vw_handle *h) { return valori_snapshot(h->db); }

/* ---- records */

int vw_insert(vw_handle *h, const float *vec, uint64_t tag, const void *meta, uint32_t meta_len, uint64_t *out_id) {
  return valori_insert(h->db, vec, tag, meta, meta_len, out_id);
}

/* metas: all metadata concatenated; meta_lens: n uint32 lengths (NULL = no metadata). */
int vw_insert_batch(vw_handle *h, uint32_t n, const float *vecs, const uint64_t *tags, const uint8_t *metas,
                    const uint32_t *meta_lens, uint64_t *out_first_id) {
  const void **ptrs = NULL;
  size_t *lens = NULL;
  int rc;
  if (meta_lens && n) {
    size_t off = 0, i;
    ptrs = (const void **)malloc(n * sizeof *ptrs);
    lens = (size_t *)malloc(n * sizeof *lens);
    if (!ptrs || !lens) {
      free(ptrs);
      free(lens);
      return VALORI_ENOMEM;
    }
    for (i = 0; i < n; i++) {
      ptrs[i] = metas ? metas + off : NULL;
      lens[i] = meta_lens[i];
      off += meta_lens[i];
    }
  }
  rc = valori_insert_batch(h->db, n, vecs, tags, ptrs, lens, out_first_id);
  free(ptrs);
  free(lens);
  return rc;
}

int vw_delete(vw_handle *h, uint64_t id) { return valori_delete(h->db, id); }

/* valori_update_record with scalar arguments: fields = VALORI_UPDATE_* bits; vec, tag and meta are
** read only when their bit is set (C checks fields, the vector, then the metadata). */
int vw_update_record(vw_handle *h, uint64_t id, uint32_t fields, const float *vec, uint64_t tag, const void *meta,
                     uint32_t meta_len) {
  valori_update_fields u;
  memset(&u, 0, sizeof u);
  u.fields = fields;
  u.vec = vec;
  u.tag = tag;
  u.meta = meta;
  u.meta_len = meta_len;
  return valori_update_record(h->db, id, &u);
}

int vw_set_meta(vw_handle *h, uint64_t id, const void *meta, uint32_t meta_len) {
  return valori_set_meta(h->db, id, meta, meta_len);
}

int vw_get(vw_handle *h, uint64_t id, float *vec_out, uint64_t *tag_out, void *meta_out, uint32_t meta_cap,
           uint32_t *meta_len_out) {
  size_t ml = 0;
  int rc = valori_get(h->db, id, vec_out, tag_out, meta_out, meta_cap, &ml);
  if (rc == VALORI_OK && meta_len_out) *meta_len_out = (uint32_t)ml;
  return rc;
}

/* ---- search */

static int vw_searcher(vw_handle *h) {
  if (h->searcher) return VALORI_OK;
  return valori_searcher_create(h->db, &h->searcher);
}

int vw_search(vw_handle *h, const float *query, uint32_t k, uint32_t ef, uint32_t mode, uint32_t ntags,
              const uint64_t *tags, valori_hit *out, uint32_t *out_n) {
  valori_search_params p;
  size_t n = 0;
  int rc = vw_searcher(h);
  if (rc) return rc;
  p.k = k;
  p.ef = ef;
  p.mode = mode;
  p.ntags = ntags;
  p.tags = tags;
  rc = valori_search(h->db, h->searcher, query, &p, out, &n);
  if (rc == VALORI_OK) *out_n = (uint32_t)n;
  return rc;
}

int vw_search_expand(vw_handle *h, const float *query, uint32_t k, uint32_t ef, uint32_t mode, uint32_t ntags,
                     const uint64_t *tags, uint32_t hops, uint32_t dir, uint32_t max_nodes, valori_hit *hits,
                     uint32_t *nhits, valori_reach *nodes, uint32_t node_cap, uint32_t *nnodes) {
  valori_search_params p;
  size_t nh = 0, nn = 0;
  int rc = vw_searcher(h);
  if (rc) return rc;
  p.k = k;
  p.ef = ef;
  p.mode = mode;
  p.ntags = ntags;
  p.tags = tags;
  rc = valori_search_expand(h->db, h->searcher, query, &p, hops, dir, max_nodes, hits, &nh, nodes, node_cap, &nn);
  if (rc == VALORI_OK) {
    *nhits = (uint32_t)nh;
    *nnodes = (uint32_t)nn;
  }
  return rc;
}

/* ---- graph */

int vw_node_create(vw_handle *h, uint32_t kind, uint64_t record_id, const void *label, uint32_t label_len,
                   uint64_t *out_id) {
  return valori_node_create(h->db, kind, record_id, label, label_len, out_id);
}
int vw_node_delete(vw_handle *h, uint64_t id) { return valori_node_delete(h->db, id); }
int vw_edge_create(vw_handle *h, uint64_t from, uint64_t to, uint32_t kind, int32_t has_weight, float weight,
                   uint64_t *out_id) {
  return valori_edge_create(h->db, from, to, kind, has_weight ? &weight : NULL, out_id);
}
int vw_edge_delete(vw_handle *h, uint64_t id) { return valori_edge_delete(h->db, id); }

int vw_node_get(vw_handle *h, uint64_t id, valori_node *out, void *label_out, uint32_t cap, uint32_t *label_len) {
  size_t l = 0;
  int rc = valori_node_get(h->db, id, out, label_out, cap, &l);
  if (rc == VALORI_OK && label_len) *label_len = (uint32_t)l;
  return rc;
}
int vw_node_of_record(vw_handle *h, uint64_t record_id, uint64_t *out) {
  return valori_node_of_record(h->db, record_id, out);
}
int vw_neighbors(vw_handle *h, uint64_t node, uint32_t dir, int32_t has_kind, uint32_t kind, valori_edge *out,
                 uint32_t cap, uint32_t *out_n) {
  size_t n = 0;
  int rc = valori_neighbors(h->db, node, dir, has_kind ? &kind : NULL, out, cap, &n);
  if (rc == VALORI_OK) *out_n = (uint32_t)n;
  return rc;
}
int vw_expand(vw_handle *h, const uint64_t *seeds, uint32_t nseeds, uint32_t hops, uint32_t dir,
              uint32_t max_nodes, valori_reach *out, uint32_t cap, uint32_t *out_n) {
  size_t n = 0;
  int rc = valori_expand(h->db, seeds, nseeds, hops, dir, max_nodes, out, cap, &n);
  if (rc == VALORI_OK) *out_n = (uint32_t)n;
  return rc;
}

/* ---- state */

int vw_stats(vw_handle *h, valori_stats *out) { return valori_stats_get(h->db, out); }
int vw_state_root(vw_handle *h, uint8_t *out) { return valori_state_root(h->db, out); }
int vw_index_digest(vw_handle *h, uint8_t *out) { return valori_index_digest(h->db, out); }
int vw_check(vw_handle *h) { return valori_check(h->db); }

/* Serializes the state; *out is released with vw_buffer_free(h, *out, *out_len). */
int vw_snapshot_save(vw_handle *h, uint8_t **out, uint32_t *out_len) {
  size_t n = 0;
  int rc = valori_snapshot_save(h->db, out, &n);
  if (rc == VALORI_OK) *out_len = (uint32_t)n;
  return rc;
}
void vw_buffer_free(vw_handle *h, void *buf, uint32_t len) { valori_buffer_free(h->db, buf, len); }

int vw_apply(vw_handle *h, const uint8_t *ev, uint32_t len, uint64_t *out_id) {
  return valori_apply(h->db, ev, len, out_id);
}

/* ---- replication (docs/REPLICATION.md) */

int vw_position_get(vw_handle *h, valori_position *out) { return valori_position_get(h->db, out); }

/* A RECORD payload through valori_apply_record (commit 1) or its dry run valori_check_record
** (commit 0); *res (caller-owned) receives the details either way. */
int vw_apply_record(vw_handle *h, const uint8_t *rec, uint32_t len, uint32_t commit, valori_apply_result *res) {
  return commit ? valori_apply_record(h->db, rec, len, res) : valori_check_record(h->db, rec, len, res);
}

/* valori_frame_decode with a uint32 *used (the frames JS reads are far below 4 GiB). */
int vw_frame_decode(const uint8_t *buf, uint32_t n, valori_frame *f, uint32_t *used) {
  size_t u = 0;
  int rc = valori_frame_decode(buf, n, f, &u);
  if (used) *used = (uint32_t)u;
  return rc;
}
