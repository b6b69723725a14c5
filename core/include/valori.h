/*
** valori.h: the public C API of Valori, a deterministic memory engine for AI agents.
**
** A Valori database holds vector records (u64 id, fixed-point vector, u64 tag, optional metadata)
** and a small knowledge graph (nodes and typed, directed, optionally weighted edges). Every mutation
** is an *event* with a stable binary encoding; the state is a pure function of the sequence of
** applied events, computed with integer arithmetic only, so the same events give a bit-identical
** state, state root and search results on every target (x86-64, ARM, i686, WebAssembly).
**
** Conventions (read once, they hold for every function below):
** - Every function returns an int result code: VALORI_OK (0) or one of the VALORI_E* codes listed
**   in VALORI_RESULT_CODES. Results come back through out-parameters. On error, out-parameters are
**   left untouched unless the function says otherwise, and the database state is unchanged.
** - Handles are opaque. A valori_db is created by valori_open() or valori_snapshot_load() and freed
**   by valori_close(). Nothing in the library keeps global mutable state (the WebAssembly build's
**   thread-local prefetch sink in hnsw.c aside: written, never read).
** - Memory the library allocates comes from the allocator given in valori_options (or the host's
**   libc allocator when none is given on a hosted build). Buffers passed in stay owned by the
**   caller and are only borrowed for the duration of the call. Result arrays are caller-owned.
** - Threads: a valori_db is not internally locked. All read functions (get, search, neighbors,
**   expand, state root, stats, snapshot save) take `const valori_db *` and never modify it, so a
**   host may run any number of them concurrently under a reader-writer lock, provided each thread
**   uses its own valori_searcher (or passes NULL). Mutations need the exclusive lock. Searches
**   allocate scratch through the database's allocator (always with NULL searchers, and when a
**   searcher grows), so a custom allocator must be thread-safe for concurrent searches.
** - Vectors cross the API as IEEE-754 binary32 and are converted to Q16.16 (see valori_f32_to_q16
**   and docs/DETERMINISM.md). Components must be finite with |x| <= VALORI_MAX_ABS; anything else is
**   rejected, never clamped. Distances are exact int64 values in units of 2^-32.
*/
#ifndef VALORI_H
#define VALORI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VALORI_VERSION_MAJOR 0
#define VALORI_VERSION_MINOR 1
#define VALORI_VERSION_PATCH 0
#define VALORI_VERSION_STRING "0.1.0"

/* ---- Limits (chosen so that int64 distance accumulation can never overflow; see DETERMINISM.md) */
#define VALORI_MAX_DIM 4096          /* maximum vector dimension */
#define VALORI_MAX_ABS_INT 256        /* |component| <= 256.0 as a real number */
#define VALORI_Q16_ONE 65536          /* 1.0 in Q16.16 */
#define VALORI_Q16_MAX (1 << 24)      /* 256.0 in Q16.16: |q| <= VALORI_Q16_MAX */
#define VALORI_MAX_META 65536        /* bytes of record metadata / node label */
#define VALORI_MAX_K 10000           /* largest k a search accepts */
#define VALORI_MAX_EF 10000          /* largest ef a search accepts */
#define VALORI_MAX_BATCH 100000      /* records in one batch event */
#define VALORI_MAX_EVENT (256u << 20) /* bytes in one encoded event */
#define VALORI_MAX_HOPS 16           /* graph expansion depth */
#define VALORI_MAX_TAGS 256          /* tags in one filter (more: VALORI_ETOOBIG) */
#define VALORI_HNSW_MAX_M 64         /* largest HNSW M (level-0 lists hold 2*M) */

/* ---- Result codes: one list generates the enum, valori_strerror, valori_code_name and the JSON
** constants the JS package reads. Numbers are stable forever; new codes are appended. */
#define VALORI_RESULT_CODES(X)                                                               \
  X(OK, 0, "ok")                                                                             \
  X(EINVAL, 1, "invalid argument")                                                           \
  X(ENAN, 2, "vector component is NaN")                                                      \
  X(EINF, 3, "vector component is infinite")                                                 \
  X(ERANGE, 4, "vector component outside the supported range [-256, 256]")                   \
  X(EDIM, 5, "vector has the wrong dimension")                                               \
  X(ETOOBIG, 6, "metadata, label, batch or event exceeds its size limit")                    \
  X(ENOTFOUND, 7, "no record, node or edge with that id")                                    \
  X(EK, 8, "k or ef is zero or above the limit")                                             \
  X(ENOMEM, 9, "out of memory")                                                              \
  X(ECORRUPT, 10, "data is corrupt (bad magic, checksum, structure or chain)")               \
  X(EVERSION, 11, "unsupported format version")                                              \
  X(EEXIST, 12, "already exists")                                                            \
  X(EOPCODE, 13, "unknown event opcode")                                                     \
  X(EIO, 14, "I/O error")                                                                    \
  X(EPOISONED, 15, "store refuses writes after a failed write or sync; reopen to recover")   \
  X(ELOCKED, 16, "store is locked by another writer")                                        \
  X(ECONFIG, 17, "options conflict with the store's recorded configuration")                 \
  X(EREADONLY, 18, "store is read-only")                                                     \
  X(EBUFSIZE, 19, "output buffer too small")                                                 \
  X(ENOSPC, 20, "no space left on device or storage quota exceeded")                         \
  X(EDIVERGED, 21, "replica diverged: state root mismatch")                                  \
  X(EEMPTY, 22, "empty batch")                                                               \
  X(ECLOSED, 23, "database is closed")                                                       \
  X(EHEIGHT, 24, "requested height is not available")

enum valori_result {
#define VALORI_X_ENUM(name, num, msg) VALORI_##name = num,
  VALORI_RESULT_CODES(VALORI_X_ENUM)
#undef VALORI_X_ENUM
  VALORI_RESULT_COUNT
};

/* Static English message for a code; never NULL ("unknown result code" for unknown values). */
const char *valori_strerror(int code);
/* Static symbolic name ("EINVAL", "OK"...); never NULL ("UNKNOWN" for unknown values). */
const char *valori_code_name(int code);
/* Static JSON object with every public constant (codes, metrics, limits, opcodes, flags) so that
** bindings never hard-code a C value. The string lives as long as the program. */
const char *valori_constants_json(void);

/* ---- Allocator vtable. The core never calls malloc; every byte comes from here. `size` is the
** size passed at allocation, so simple arena or counting allocators need no headers. */
typedef struct valori_allocator {
  void *ctx;
  void *(*alloc)(void *ctx, size_t size);                                 /* NULL on failure */
  void *(*realloc)(void *ctx, void *p, size_t old_size, size_t new_size); /* NULL on failure, p kept */
  void (*free)(void *ctx, void *p, size_t size);                          /* p may be NULL */
} valori_allocator;

/* The host libc allocator (hosted builds only; a freestanding build must pass its own). */
const valori_allocator *valori_libc_allocator(void);

/* ---- Storage vtable (the SQLite VFS idea). The core's log, snapshot and recovery code does all
** its I/O through this, so the same code runs over POSIX, the Emscripten FS and a fault-injecting
** test VFS. Paths are '/'-separated and relative to the store directory given to valori_open.
** Every function returns a VALORI_* code (EIO, ENOSPC, ENOTFOUND for a missing file...). */
typedef struct valori_file valori_file; /* defined by each VFS */

#define VALORI_VFS_READ 1    /* open for reading */
#define VALORI_VFS_WRITE 2   /* open for reading and writing */
#define VALORI_VFS_CREATE 4  /* create if missing */
#define VALORI_VFS_EXCL 8    /* with CREATE: fail with EEXIST if it exists */
#define VALORI_VFS_TRUNC 16  /* truncate to zero on open */

typedef struct valori_vfs {
  void *ctx;
  int (*open)(void *ctx, const char *path, unsigned flags, valori_file **out);
  int (*close)(void *ctx, valori_file *f);
  /* Reads up to n bytes at off; *got < n only at end of file. */
  int (*read)(void *ctx, valori_file *f, uint64_t off, void *buf, size_t n, size_t *got);
  int (*write)(void *ctx, valori_file *f, uint64_t off, const void *buf, size_t n);
  int (*sync)(void *ctx, valori_file *f);          /* data and size durable on return */
  int (*size)(void *ctx, valori_file *f, uint64_t *out);
  int (*truncate)(void *ctx, valori_file *f, uint64_t size);
  int (*rename)(void *ctx, const char *from, const char *to); /* atomic replace */
  int (*remove)(void *ctx, const char *path);
  int (*sync_dir)(void *ctx);                        /* makes renames/creates/removes durable */
  /* Calls cb once per regular file in the store directory, in any order. */
  int (*list)(void *ctx, int (*cb)(void *arg, const char *name), void *arg);
  /* Takes the store's single-writer lock; ELOCKED if another process or handle holds it. */
  int (*lock)(void *ctx);
  int (*unlock)(void *ctx);
} valori_vfs;

/* ---- Options */
#define VALORI_METRIC_L2 0 /* squared Euclidean distance */
#define VALORI_METRIC_IP 1 /* negated inner product (smaller is closer) */

#define VALORI_SYNC_FULL 0    /* acknowledge a write only after it is durable (default) */
#define VALORI_SYNC_RELAXED 1 /* acknowledge after the write is handed to the VFS; valori_flush syncs */

#define VALORI_OPEN_CREATE 1   /* create the store if it does not exist */
#define VALORI_OPEN_READONLY 2 /* no writes; no lock taken */
/* Use a second thread for large insert batches (64 records or more: the float conversion and the
** state hash in two halves) and large events (32 KiB or more: the log chain hashed while the
** records are committed): the same roots, log bytes, results and error codes as without it
** (docs/DETERMINISM.md, "Threads"). Builds without thread support (WebAssembly, freestanding,
** VALORI_THREADS=OFF) accept it and stay serial. */
#define VALORI_OPEN_THREADS 4

/* Index of a store (valori_options.index). Fixed at creation and recorded with the configuration.
** VALORI_INDEX_NONE: an index-less ("flat") store for exact search only: inserts build no graph
** (no HNSW levels, links or construction scratch), a delete or a vector update frees or rewrites the
** slot at once (no tombstones), searches in modes AUTO and EXACT scan the (filtered) records, and
** mode HNSW is refused with VALORI_EINVAL. The configuration records it as hnsw_m = 0,
** ef_construction = 0 and ef_search = 0, and its files carry format version 2 (docs/FORMAT.md), so
** a library older than this option refuses such a store with VALORI_EVERSION. */
#define VALORI_INDEX_HNSW 0 /* HNSW graph maintained on every insert (default) */
#define VALORI_INDEX_NONE 1 /* no index: exact search only */

/* Store defaults, used when the valori_options fields are 0 (resolved in one place, store.c). */
#define VALORI_DEFAULT_SNAPSHOT_EVERY 100000u    /* events between automatic snapshots */
#define VALORI_DEFAULT_SEGMENT_BYTES (4u << 20)  /* log segment rotation size: 4 MiB */

/* Always fill with valori_options_init first. Version 0.x keeps no binary compatibility between
** releases (SONAME libvalori.so.0): this struct grew by traversal and reserved in 0.1, so a program
** must be compiled against the valori.h of the library it runs with. */
typedef struct valori_options {
  uint32_t dim;                  /* vector dimension, 1..VALORI_MAX_DIM (0 on open = use stored) */
  uint32_t metric;               /* VALORI_METRIC_* */
  uint32_t hnsw_m;               /* HNSW M, 2..VALORI_HNSW_MAX_M; 0 = default (16) */
  uint32_t hnsw_ef_construction; /* 1..VALORI_MAX_EF; 0 = default (200) */
  uint32_t hnsw_ef_search;       /* default ef for searches that pass ef = 0; 0 = default (64) */
  uint32_t flags;                /* VALORI_OPEN_* */
  uint32_t sync_mode;            /* VALORI_SYNC_* */
  uint32_t index;                /* VALORI_INDEX_HNSW (0, default) or VALORI_INDEX_NONE (1); with
                                 ** NONE the three hnsw_* fields must be 0 (else VALORI_EINVAL) */
  uint64_t snapshot_every;       /* events between automatic snapshots; 0 = default
                                 ** (VALORI_DEFAULT_SNAPSHOT_EVERY), UINT64_MAX = never */
  uint64_t segment_bytes;        /* log segment rotation size; 0 = default (VALORI_DEFAULT_SEGMENT_BYTES) */
  const valori_allocator *allocator; /* NULL = valori_libc_allocator() */
  const valori_vfs *vfs;             /* NULL = in-memory database (nothing persisted) */
  uint32_t traversal;            /* compact traversal copy: 0 = none (default, exact traversal), else
                                 ** a word from valori_traversal_int8 (HNSW stores only, and for
                                 ** VALORI_METRIC_IP only a word with centre 0, else VALORI_EINVAL);
                                 ** recorded in the configuration and the state root */
  uint32_t reserved;             /* 0 */
} valori_options;

/* The traversal word of an int8 compact traversal copy for component values in [lo, hi]
** (docs/DETERMINISM.md, "Compact traversal copy"). HNSW searches then walk the graph on int8
** copies of the vectors (1 byte per component: q = clamp(rha(v / 2^s) - c, -128, 127), v the Q16.16
** component, rha rounding half away from zero, s and c integers chosen here from lo and hi) and
** re-rank the ef candidates they found with the exact distance, so results keep the exact order and
** distances. Values outside [lo, hi] still work (they clamp; traversal is then coarser). For pixel
** data, [0, 255] gives s = 16, c = 128: for an L2 store the copy is exact and so is the traversal
** (an inner-product store refuses a centre c != 0: docs/DETERMINISM.md). Writes the word
** to *out; VALORI_EINVAL when lo or hi is not finite, lo > hi, or either is outside the Q16.16 range. */
int valori_traversal_int8(float lo, float hi, uint32_t *out);

/* Fills *opt with the defaults: dim 0, L2, an HNSW index with the default parameters (M 16,
** ef_construction 200, ef_search 64, left as 0 = default in the hnsw_* fields), full sync. */
void valori_options_init(valori_options *opt);

/* ---- Handles */
typedef struct valori_db valori_db;
typedef struct valori_searcher valori_searcher;

/* Opens (or with VALORI_OPEN_CREATE creates) a database. With opt->vfs == NULL the database lives
** in memory only and `path` is ignored (conventionally ":memory:"). With a VFS, `path` names the
** store for messages only; the VFS itself is bound to the directory. On success *out owns all
** resources until valori_close. An existing store opened with opt->dim != 0 must be asked for its
** recorded configuration (dim, metric, index, the traversal word and, after defaults, the HNSW
** parameters), else
** VALORI_ECONFIG; with dim 0 the recorded configuration is used as it is. */
int valori_open(const char *path, const valori_options *opt, valori_db **out);

/* Syncs pending relaxed writes, releases the lock and frees everything. Returns the first error met
** while syncing (the handle is freed regardless). NULL is a no-op. */
int valori_close(valori_db *db);

/* Makes every acknowledged relaxed-mode write durable. No-op for in-memory databases. */
int valori_flush(valori_db *db);

/* ---- Fixed-point boundary */
/* Converts one binary32 to Q16.16 by integer operations on its bits, rounding half to even.
** Returns VALORI_ENAN, VALORI_EINF or VALORI_ERANGE (|x| > 256) without writing *out. */
int valori_f32_to_q16(float x, int32_t *out);
/* Exact inverse for every representable Q16.16 value with |q| <= VALORI_Q16_MAX. */
float valori_q16_to_f32(int32_t q);

/* ---- Records.
** Ids are assigned by the database: monotonic from 1, never reused. `meta` may be NULL when
** meta_len is 0. Every mutation is one event: validated first; a rejected event changes nothing.
**
** Which code a bad call gets is part of the contract (the bindings leave the decision to C, so a
** call gets the same code from C, JS, the server and Python). Checks run in this order:
**   1. the call itself: NULL handle or required pointer, flags, counts. A count over its limit is
**      VALORI_ETOOBIG (batch size, tags in a filter), an empty batch VALORI_EEMPTY, search k or
**      ef out of range VALORI_EK, anything else VALORI_EINVAL;
**   2. the content, in the order it is given: the records of a batch in order (the first bad
**      record decides), and within a record (or an update) first the vector: NULL is
**      VALORI_EINVAL, else its first bad component decides VALORI_ENAN / VALORI_EINF /
**      VALORI_ERANGE; then the metadata: NULL with a nonzero length VALORI_EINVAL, longer than
**      VALORI_MAX_META VALORI_ETOOBIG. A batch whose encoded event would exceed VALORI_MAX_EVENT
**      is VALORI_ETOOBIG at the first record that crosses it;
**   3. the state: unknown or deleted ids VALORI_ENOTFOUND, VALORI_EEXIST, exhausted id counters.
** So a batch whose first record has a NaN and whose second has oversize metadata is VALORI_ENAN,
** and so is one record with both; the reverse order gives VALORI_ETOOBIG. */
int valori_insert(valori_db *db, const float *vec, uint64_t tag, const void *meta, size_t meta_len,
                  uint64_t *out_id);

/* Atomic batch of n records (all or nothing). vecs holds n*dim floats, row-major. tags may be NULL
** (all 0); metas/meta_lens may be NULL (no metadata). The ids are *out_first_id .. +n-1. */
int valori_insert_batch(valori_db *db, size_t n, const float *vecs, const uint64_t *tags,
                        const void *const *metas, const size_t *meta_lens, uint64_t *out_first_id);

/* Deletes a record. The graph node linked to it (if any) is deleted with all of its edges. */
int valori_delete(valori_db *db, uint64_t id);

/* Replaces the vector (vec != NULL) and/or the tag (tag != NULL) of a record: one UPDATE event
** (opcode 4). valori_update_record is the general form, which also takes the metadata. */
int valori_update(valori_db *db, uint64_t id, const float *vec, const uint64_t *tag);

/* Replaces a record's metadata (meta_len 0 clears it): one SET_META event (opcode 5). To change it
** together with the vector or tag, use valori_update_record (one event, all or nothing). */
int valori_set_meta(valori_db *db, uint64_t id, const void *meta, size_t meta_len);

/* Fields of valori_update_record (valori_update_fields.fields); also the `fields` bits of the
** UPDATE_RECORD event (docs/FORMAT.md). */
#define VALORI_UPDATE_VECTOR 1u /* replace the vector with vec */
#define VALORI_UPDATE_TAG 2u    /* replace the tag with tag */
#define VALORI_UPDATE_META 4u   /* replace the metadata with meta (meta_len 0 clears it) */

typedef struct valori_update_fields {
  uint32_t fields;   /* VALORI_UPDATE_* bits: at least one, no others (else VALORI_EINVAL) */
  uint32_t reserved; /* 0 (else VALORI_EINVAL) */
  const float *vec;  /* dim floats, when VECTOR */
  uint64_t tag;      /* when TAG */
  const void *meta;  /* meta_len bytes, when META (meta_len 0 clears; meta may then be NULL) */
  size_t meta_len;
} valori_update_fields;

/* Changes any combination of a record's vector, tag and metadata as ONE event (UPDATE_RECORD,
** opcode 6, one log record): validated whole before anything changes and applied all or nothing,
** so a rejected call leaves state, root, height and log as they were, and a crash leaves the
** update wholly applied or wholly absent. The general form of valori_update and valori_set_meta
** (which keep their own opcodes); the result is the same state root as those calls would give.
** Only the members that `fields` selects are read; u and everything it points to are borrowed for
** the call. Errors, checked in this order: u NULL, fields 0 or with other bits, reserved != 0:
** VALORI_EINVAL; the vector (VECTOR): vec NULL VALORI_EINVAL, else the first bad component decides
** VALORI_ENAN / VALORI_EINF / VALORI_ERANGE; the metadata (META): meta NULL with meta_len > 0
** VALORI_EINVAL, meta_len > VALORI_MAX_META VALORI_ETOOBIG; then the record: VALORI_ENOTFOUND
** unless id is a live record (never inserted, or deleted). */
int valori_update_record(valori_db *db, uint64_t id, const valori_update_fields *u);

/* Reads a record. Any out pointer may be NULL. vec_out receives dim floats (exact Q16.16 values).
** Metadata: copies min(meta_cap, len) bytes; *meta_len_out always receives the full length. */
int valori_get(const valori_db *db, uint64_t id, float *vec_out, uint64_t *tag_out, void *meta_out,
               size_t meta_cap, size_t *meta_len_out);
/* As valori_get, vector as raw Q16.16. */
int valori_get_q16(const valori_db *db, uint64_t id, int32_t *vec_out);

/* ---- Search */
#define VALORI_SEARCH_AUTO 0  /* plan by filter selectivity (default); exact in an index-less store */
#define VALORI_SEARCH_EXACT 1 /* brute force over the (filtered) records */
#define VALORI_SEARCH_HNSW 2  /* index only, even for narrow filters (may return < k); an index-less
                              ** store (VALORI_INDEX_NONE) refuses it with VALORI_EINVAL */

typedef struct valori_search_params {
  uint32_t k;            /* 1..VALORI_MAX_K */
  uint32_t ef;           /* 0 = store default; else k..VALORI_MAX_EF (raised to k if lower); unused
                         ** by exact searches */
  uint32_t mode;         /* VALORI_SEARCH_* */
  uint32_t ntags;        /* 0 = no filter; else records whose tag is any of tags[0..ntags-1];
                         ** at most VALORI_MAX_TAGS (more: VALORI_ETOOBIG) */
  const uint64_t *tags;  /* NULL exactly when ntags is 0. tags != NULL with ntags 0 is an empty
                         ** tag set, which would match nothing: refused with VALORI_EINVAL rather
                         ** than read as "no filter" (pass tags = NULL for that) */
} valori_search_params;

typedef struct valori_hit {
  uint64_t id;
  int64_t distance; /* exact, units of 2^-32: L2 = sum (a-b)^2, IP = -sum a*b */
} valori_hit;

/* Per-thread scratch for searches (visited marks, heaps). Optional: passing NULL to a search
** allocates scratch for that call. A searcher may be used with one database at a time. */
int valori_searcher_create(const valori_db *db, valori_searcher **out);
void valori_searcher_free(valori_searcher *s);

/* k nearest records to query (dim floats), ordered by (distance, id) ascending. `out` must hold
** k hits; *out_n receives how many were written. Modes AUTO and EXACT return min(k, matching
** records) results, every one matching the filter; mode HNSW returns what the index finds, which
** can be fewer for narrow filters. Errors, in this order: db, query, out, out_n or p NULL:
** VALORI_EINVAL; k 0 or above VALORI_MAX_K, ef above VALORI_MAX_EF: VALORI_EK; an unknown mode:
** VALORI_EINVAL; more than VALORI_MAX_TAGS tags: VALORI_ETOOBIG; tags NULL with ntags > 0, or
** tags != NULL with ntags 0: VALORI_EINVAL; mode HNSW on an index-less store: VALORI_EINVAL;
** then the query's first bad component: VALORI_ENAN / VALORI_EINF / VALORI_ERANGE. */
int valori_search(const valori_db *db, valori_searcher *s, const float *query,
                  const valori_search_params *p, valori_hit *out, size_t *out_n);

/* ---- Knowledge graph. Node and edge ids are assigned like record ids (separate counters). */
#define VALORI_DIR_OUT 1
#define VALORI_DIR_IN 2
#define VALORI_DIR_BOTH 3

typedef struct valori_node {
  uint64_t id;
  uint64_t record_id; /* 0 = not linked to a record */
  uint32_t kind;
  uint32_t label_len;
} valori_node;

typedef struct valori_edge {
  uint64_t id;
  uint64_t from;
  uint64_t to;
  uint32_t kind;
  uint32_t has_weight; /* 0 or 1 */
  int32_t weight_q16;  /* Q16.16 weight when has_weight */
  uint32_t reserved;
} valori_edge;

typedef struct valori_reach {
  uint64_t node_id;
  uint64_t via_edge; /* edge that first reached it (0 for seeds) */
  uint32_t depth;    /* 0 for seeds */
  uint32_t reserved;
} valori_reach;

/* Creates a node. record_id 0 = unlinked; a record may be linked by at most one node (EEXIST). */
int valori_node_create(valori_db *db, uint32_t kind, uint64_t record_id, const void *label,
                       size_t label_len, uint64_t *out_id);
/* Deletes a node and every edge into or out of it. */
int valori_node_delete(valori_db *db, uint64_t node_id);
/* Creates a directed edge between existing nodes; weight may be NULL (unweighted). */
int valori_edge_create(valori_db *db, uint64_t from, uint64_t to, uint32_t kind, const float *weight,
                       uint64_t *out_id);
int valori_edge_delete(valori_db *db, uint64_t edge_id);

/* Reads a node; label copied like record metadata in valori_get. */
int valori_node_get(const valori_db *db, uint64_t node_id, valori_node *out, void *label_out,
                    size_t label_cap, size_t *label_len_out);
/* The node linked to a record (ENOTFOUND if none). */
int valori_node_of_record(const valori_db *db, uint64_t record_id, uint64_t *node_id);

/* Edges out of / into a node (dir), optionally only of one kind (kind_filter != NULL), ordered by
** edge id (creation order). Writes min(cap, total) edges; *out_n receives the total. */
int valori_neighbors(const valori_db *db, uint64_t node_id, uint32_t dir, const uint32_t *kind_filter,
                     valori_edge *out, size_t cap, size_t *out_n);

/* Breadth-first expansion from seed nodes up to `hops` (<= VALORI_MAX_HOPS) along dir, visiting at
** most max_nodes (1..2^20) nodes (seeds included). Order: by depth, then node id ascending. Writes
** min(cap, visited) entries; *out_n receives the number visited. Unknown seeds: ENOTFOUND. */
int valori_expand(const valori_db *db, const uint64_t *seeds, size_t nseeds, uint32_t hops,
                  uint32_t dir, uint32_t max_nodes, valori_reach *out, size_t cap, size_t *out_n);

/* Search, then expand the graph around the hits: the nodes linked to the hit records are the
** seeds. hits must hold p->k; nodes holds node_cap entries. Hits without a node are still hits.
** If the search succeeds but the expansion fails, hits has been written (*nhits is not). hops,
** dir, max_nodes and nodes are checked (VALORI_EINVAL) before valori_search's own checks. */
int valori_search_expand(const valori_db *db, valori_searcher *s, const float *query,
                         const valori_search_params *p, uint32_t hops, uint32_t dir,
                         uint32_t max_nodes, valori_hit *hits, size_t *nhits, valori_reach *nodes,
                         size_t node_cap, size_t *nnodes);

/* ---- State, proofs and statistics */
/* Caller-allocated. Like valori_options, it has no binary compatibility across 0.x releases: it grew
** by the three traversal fields in 0.1, so a program compiled against an older valori.h passes a
** struct too small for this library (bindings that declare it, python/valori/_lib.py and the wasm
** layout JSON, follow this header). */
typedef struct valori_stats {
  uint64_t height;         /* events applied since the empty state */
  uint64_t records;        /* live records */
  uint64_t nodes;
  uint64_t edges;
  uint64_t next_record_id; /* the id the next insert receives */
  uint64_t next_node_id;
  uint64_t next_edge_id;
  uint64_t index_tombstones; /* deleted records still referenced by the HNSW graph (bounded; 0
                             ** without an index) */
  uint64_t vector_bytes;   /* bytes held by vectors (with their compact traversal copies, if any) */
  uint64_t index_bytes;    /* bytes held by the HNSW graph (0 without an index) */
  uint64_t other_bytes;    /* ids, tags, metadata, graph, hash tables, scratch */
  uint32_t dim, metric, hnsw_m, hnsw_ef_construction, hnsw_ef_search; /* recorded configuration */
  uint32_t index;          /* VALORI_INDEX_HNSW or VALORI_INDEX_NONE (then the hnsw_* fields are 0) */
  uint32_t traversal;      /* recorded traversal word (valori_options.traversal): 0 = none */
  uint32_t traversal_shift;  /* its s and c (valori_traversal_int8): the int8 codes -128..127 stand */
  int32_t traversal_center;  /* for the Q16.16 values (c - 128) * 2^s .. (c + 127) * 2^s, i.e. the
                             ** components (c - 128) * 2^(s-16) .. (c + 127) * 2^(s-16) ([0, 255]:
                             ** s 16, c 128, exactly 0..255); both 0 when traversal is 0 */
} valori_stats;

int valori_stats_get(const valori_db *db, valori_stats *out);

/* The state root: SHA-256 over the canonical encoding of the logical state (records, graph,
** counters, configuration), maintained incrementally: the cost of an event is proportional to the
** elements it changes, not to the store. 32 bytes. */
int valori_state_root(const valori_db *db, uint8_t out[32]);
/* SHA-256 over the HNSW graph (levels, entry point, every link list), computed on demand. An
** index-less store has an empty graph; its digest is well defined (docs/FORMAT.md). */
int valori_index_digest(const valori_db *db, uint8_t out[32]);
/* Recomputes the state root from scratch and checks every internal invariant (id maps, tag
** postings, HNSW link bounds, graph adjacency; without an index: no slot in the graph and no
** tombstone). VALORI_ECORRUPT if anything disagrees. O(n). */
int valori_check(const valori_db *db);

/* ---- Snapshots (see docs/FORMAT.md). The buffer is allocated with the database's allocator;
** release it with valori_buffer_free(db, buf, len). */
int valori_snapshot_save(const valori_db *db, uint8_t **out, size_t *out_len);
void valori_buffer_free(const valori_db *db, void *buf, size_t len);
/* Decodes a snapshot into a new in-memory database. Hostile bytes give ECORRUPT or EVERSION,
** never a crash: the structure is checked before memory is committed, and the content (every
** record, node and edge) is re-hashed and must match the snapshot's state root, O(n). A valid
** snapshot needs memory for every slot it describes, free slots included. opt may be NULL; only
** opt->allocator and the VALORI_OPEN_THREADS flag are used. */
int valori_snapshot_load(const uint8_t *buf, size_t len, const valori_options *opt, valori_db **out);

/* ---- Events. Every mutation above is encoded as one event and passed through the same path as
** valori_apply. Opcodes are stable forever; a new encoding gets a new opcode. */
#define VALORI_OP_INSERT 1
#define VALORI_OP_INSERT_BATCH 2
#define VALORI_OP_DELETE 3
#define VALORI_OP_UPDATE 4
#define VALORI_OP_SET_META 5
#define VALORI_OP_UPDATE_RECORD 6
#define VALORI_OP_NODE_CREATE 16
#define VALORI_OP_NODE_DELETE 17
#define VALORI_OP_EDGE_CREATE 18
#define VALORI_OP_EDGE_DELETE 19

/* Validates and applies one canonically encoded event (as logged and replicated). *out_id (may be
** NULL) receives the first id the event created, or 0. */
int valori_apply(valori_db *db, const uint8_t *event, size_t len, uint64_t *out_id);

/* ---- Durable store (core/store*.c, core/recover.c; docs/STORAGE.md). A store is a directory
** of log segments, snapshots and the manifest HEAD, reached through the valori_vfs given in
** valori_options. The functions below report what an open found, check or inspect a store, and
** take snapshots and group commits. */

/* Where the height a store can prove comes from (valori_recovery.proven_by). The log must reach
** that height; records above it can be cut at a record boundary without a trace (no later file
** witnesses them; docs/STORAGE.md "What recovery can and cannot detect"). */
#define VALORI_PROOF_NONE 0          /* nothing: a store without HEAD or snapshot */
#define VALORI_PROOF_SNAPSHOT 1      /* the newest snapshot's height */
#define VALORI_PROOF_HEAD_OPEN 2     /* HEAD written by a writable open (its recovered end) */
#define VALORI_PROOF_HEAD_ROTATION 3 /* HEAD written at a log rotation (end of the sealed segment) */
#define VALORI_PROOF_HEAD_CLOSE 4    /* HEAD written by a clean close (the end of the log then) */
/* Static English phrase for a VALORI_PROOF_* value ("HEAD, written by a clean close"...); never
** NULL ("unknown" for other values). */
const char *valori_proof_name(uint32_t proven_by);

/* What the last open found and did (valori_recovery_info), and, for verify and replay, where a
** store is damaged. File names are relative to the store directory. */
typedef struct valori_recovery {
  int code;                   /* VALORI_OK, or the error that stopped the open / verification */
  char file[64];              /* file of the error ("" if none) */
  uint64_t offset;            /* byte offset of the error in that file */
  uint64_t height;            /* height involved (root divergence, gap), 0 if none */
  const char *detail;         /* static English reason, never NULL ("" when code is OK) */
  uint64_t snapshot_height;   /* snapshot recovery started from (0 = the empty state) */
  uint64_t replayed;          /* log records applied on top of it */
  uint64_t height_recovered;  /* resulting height */
  uint64_t log_first_height;  /* oldest height the kept log still holds (0 = no records) */
  uint64_t trimmed_bytes;     /* torn-tail bytes cut off (read-only opens: ignored, not cut) */
  char trimmed_file[64];      /* segment whose tail was torn */
  uint64_t trimmed_offset;    /* where the torn tail began */
  uint32_t snapshots_skipped; /* damaged snapshots passed over (the newest such is described next) */
  uint32_t segments;          /* log segment files in use */
  char skipped_file[64];
  uint64_t skipped_offset;
  const char *skipped_detail; /* never NULL */
  /* Loss detection: */
  uint64_t log_end_height;    /* height of the last valid record found (also on ECORRUPT) */
  uint64_t proven_height;     /* highest height the store proves it had made durable */
  uint32_t proven_by;         /* VALORI_PROOF_*: where proven_height comes from */
  uint32_t head;              /* 1: HEAD present and valid; 0: no HEAD (a store written before
                              ** HEAD existed, or HEAD removed: only snapshots prove a height) */
} valori_recovery;

/* Copies the recovery report of the open that created db. In-memory databases: EINVAL. */
int valori_recovery_info(const valori_db *db, valori_recovery *out);

/* valori_open plus a report: on success *rep is valori_recovery_info's; on failure *rep says why,
** with the file and byte offset for damage (ECORRUPT, EVERSION) found by a second, read-only pass
** over the store. rep may be NULL. */
int valori_open_report(const char *path, const valori_options *opt, valori_db **out, valori_recovery *rep);

/* Kinds of file in a store directory (valori_store_status.skipped_kind, valori_file_info.kind). */
#define VALORI_FILE_OTHER 0        /* not part of the store (ignored) */
#define VALORI_FILE_SEGMENT 1      /* log-<first height>.vlog */
#define VALORI_FILE_SNAPSHOT 2     /* snap-<height>.vsnap */
#define VALORI_FILE_SNAPSHOT_TMP 3 /* snap-<height>.vsnap.tmp: never published, removed at open */
#define VALORI_FILE_HEAD 4         /* HEAD: the manifest (newest segment, floor height and chain) */
#define VALORI_FILE_HEAD_TMP 5     /* HEAD.tmp: never published, removed at open */
#define VALORI_FILE_LOCK 6         /* LOCK: the single-writer lock file */

/* The store's state now. */
typedef struct valori_store_status {
  uint64_t durable_height;     /* every write up to here is durable (lags in relaxed mode) */
  uint64_t appended_height;    /* written to the log (durable or not) */
  uint64_t snapshot_height;    /* newest published snapshot (0 = none) */
  uint64_t tail_segment_first; /* first height of the segment being appended to */
  uint64_t tail_segment_bytes; /* its size */
  uint64_t snapshot_failures;  /* automatic snapshots that failed since open */
  uint32_t snapshots, segments;/* files in use */
  int poisoned;                /* 1 after a failed write or sync: writes refused until reopen */
  int readonly;
  int last_snapshot_error;     /* result code of the last automatic snapshot (OK if none failed) */
  uint32_t skipped;            /* damaged files the open passed over (0: none): a damaged newest
                               ** snapshot it fell back from. The fields below describe the newest */
  uint32_t skipped_kind;       /* VALORI_FILE_* of that file */
  char skipped_file[64];
  uint64_t skipped_offset;     /* where the damage is */
  const char *skipped_detail;  /* static reason, never NULL ("" when nothing was skipped) */
  uint64_t trimmed_bytes;      /* torn-tail bytes the open cut off (never made durable) */
  uint64_t proven_height;      /* highest height the store proves durable now (HEAD or snapshot) */
  uint32_t proven_by;          /* VALORI_PROOF_* */
  int last_head_error;         /* result of the last failed HEAD update at a rotation (OK if none):
                               ** the log is unaffected; HEAD then lags, and is rewritten at the
                               ** next rotation or close */
  uint64_t head_failures;
  uint64_t log_first_height;   /* first height of the oldest log segment kept: the oldest record a
                               ** valori_cursor can start at (replication's log_first_height) */
} valori_store_status;

/* Fills *out. In-memory databases: EINVAL. Automatic snapshots never fail the write that
** triggered them (it is durable already); their failures are reported here. */
int valori_store_status_get(const valori_db *db, valori_store_status *out);

/* Verifies a store without changing it (`valori verify`): every snapshot file (checksums and a
** full engine decode), every kept log segment (header, record checksums, heights, chain across
** segments), HEAD, and a replay from the oldest state the store keeps (genesis when the log still
** starts at height 1, else the oldest valid snapshot) to the end of the log, whose root must equal
** the root in every record and in every snapshot at its height. History older than the oldest
** kept snapshot was pruned and cannot be replayed. opt->vfs is required; opt->dim may be 0.
** On success *height and root (either may be NULL) receive the end of the log, and *rep (may be
** NULL) says what the store can prove: proven_height and proven_by (the log reaches it), and any
** torn tail (rep->trimmed_*: bytes after the last complete record were never made durable; recovery
** trims them). On failure *rep describes the first problem: VALORI_ECORRUPT with file and offset
** (a damaged snapshot or HEAD is reported after everything else was checked), or the I/O error. */
int valori_verify(const valori_options *opt, valori_recovery *rep, uint64_t *height, uint8_t root[32]);

/* Opens the state of a store at a height (`valori replay`): the newest valid snapshot at or below
** `height` plus the log up to it, as an in-memory, independent database (changes to it are not
** persisted), without verifying anything beyond what recovery checks. height VALORI_HEIGHT_END:
** the end of the log (the state a read-only open gives). VALORI_EHEIGHT if the store does not hold
** that height (beyond its end, or before the oldest kept snapshot once older log segments were
** removed). *rep (may be NULL) as for valori_open_report. */
#define VALORI_HEIGHT_END UINT64_MAX
int valori_open_at_height(const valori_options *opt, uint64_t height, valori_db **out, valori_recovery *rep);

/* One file of a store, as valori_store_inspect sees it on its own (the chain across files and
** the replay are valori_verify's). */
#define VALORI_FSTATE_CLEAN 0      /* every byte checks out */
#define VALORI_FSTATE_TORN 1       /* segment: bytes from bad_offset on were never made durable (a
                                   ** crash during an append); recovery trims them */
#define VALORI_FSTATE_CORRUPT 2    /* bytes that had been durable are damaged at bad_offset */
#define VALORI_FSTATE_BAD_HEADER 3 /* the header is invalid (bad_offset 0); a segment no longer than
                                   ** its header may be a rotation that crashed (recovery decides) */
#define VALORI_FSTATE_NEWER 4      /* a format version newer than this library */
#define VALORI_FSTATE_UNREADABLE 5 /* reading it failed (io_error says how) */
#define VALORI_FSTATE_NOT_READ 6   /* temp, lock and foreign files: listed, not read */
/* Filled by the library, read by the callback. In 0.1 the field traversal took the place of a
** reserved u32 and traversal_shift / traversal_center were appended (a new size, no other offset
** changed). */
typedef struct valori_file_info {
  char name[64];           /* file name in the store directory */
  uint32_t kind;           /* VALORI_FILE_* */
  uint32_t state;          /* VALORI_FSTATE_* */
  uint64_t bytes;          /* file size */
  uint64_t first_height;   /* segment: its first record's height (header); snapshot: its height;
                           ** HEAD: the newest segment it names */
  uint64_t last_height;    /* segment: the last valid record's height (first_height - 1 when
                           ** none); snapshot: its height; HEAD: its floor height */
  uint64_t records;        /* segment: valid records */
  uint64_t bad_offset;     /* TORN, CORRUPT: where the damage starts */
  const char *detail;      /* static English reason for the state, never NULL ("" when clean) */
  uint8_t hash[32];        /* snapshot: state root; HEAD: chain at its floor; segment: chain after
                           ** its last valid record */
  uint32_t dim, metric, hnsw_m, hnsw_ef_construction, hnsw_ef_search; /* header configuration
                           ** (all 0 when the header is unreadable) */
  uint32_t head_reason;    /* HEAD: VALORI_PROOF_HEAD_* (which event wrote it); else 0 */
  int io_error;            /* UNREADABLE: the VFS's code */
  uint32_t traversal;       /* header configuration: the traversal word and its s and c, as in */
  uint32_t traversal_shift; /* valori_stats (all 0 without a copy, and when the header is */
  int32_t traversal_center; /* unreadable) */
} valori_file_info;

/* Reads every file of the store at opt->vfs (nothing is changed, no lock is taken) and calls
** cb(arg, info) once per file, in byte order of the names. *info is valid during the call only.
** A callback returning non-zero stops the walk and that value is returned. Errors: VALORI_EINVAL
** (no vfs), the VFS's error when the directory cannot be listed, VALORI_ENOMEM. A damaged file is
** not an error here: its state says what is wrong. */
typedef int (*valori_inspect_cb)(void *arg, const valori_file_info *info);
int valori_store_inspect(const valori_options *opt, valori_inspect_cb cb, void *arg);

/* Group commit for a server with many writers. Simple form: open with VALORI_SYNC_RELAXED, apply
** the queued writes one after another under the exclusive lock, call valori_flush once, and
** acknowledge them all when it returns VALORI_OK: one fsync covers the whole queue. A failed flush
** poisons the database (VALORI_EPOISONED for every later write) and nothing in the queue may be
** acknowledged.
** Concurrent form, which keeps the fsync outside the lock so that readers and new writers are not
** blocked during it: after a relaxed write (exclusive lock held)
**   valori_commit_begin(db, &c)   exclusive lock: captures what must become durable (c.height)
**   valori_commit_sync(db, &c)    no lock: the fsync; other threads append and read meanwhile
**   valori_commit_end(db, &c, rc) exclusive lock: VALORI_OK means every write up to c.height is
**                                 durable and may be acknowledged; an error poisons the database
** Writes made by other threads while a sync runs are covered by the next ticket, so each fsync
** commits everything queued during the previous one. end must be called once for every begin that
** returned VALORI_OK (also when the sync failed: pass its result). */
typedef struct valori_commit {
  uint64_t height;  /* writes up to this height are durable once end returns VALORI_OK */
  /* private to the library: */
  void *file;
  uint64_t segment, size;
  int state;
  uint32_t reserved;
} valori_commit;
int valori_commit_begin(valori_db *db, valori_commit *c);
int valori_commit_sync(const valori_db *db, valori_commit *c);
int valori_commit_end(valori_db *db, valori_commit *c, int sync_rc);

/* Writes a snapshot of the current state now (synchronously: log sync, file write, fsync, rename,
** directory fsync), then removes log segments and snapshots that two newer snapshots make
** redundant. A failed snapshot never affects acknowledged writes. */
int valori_snapshot(valori_db *db);

/* The same in three steps so that a server writes snapshots beside normal operation:
** begin  under the shared (read) lock: serializes the state into memory (no file I/O);
** write  under no lock at all: writes, fsyncs and publishes the file; safe while writes continue;
** end    under the exclusive lock: records the snapshot, prunes old files, frees the job.
** end must be called exactly once for every successful begin, also when write failed (pass its
** result as write_rc); the job is freed by end. A snapshot never runs ahead of the durable log:
** in relaxed mode begin returns VALORI_EINVAL until valori_flush made every write durable. */
typedef struct valori_snapjob valori_snapjob;
int valori_snapshot_begin(const valori_db *db, valori_snapjob **out);
int valori_snapshot_write(const valori_db *db, valori_snapjob *job);
int valori_snapshot_end(valori_db *db, valori_snapjob *job, int write_rc);

/* ---- Replication (docs/REPLICATION.md). A follower holds the leader's state and proves it at
** every height: each log record carries the state root after it and the log's chain value
** (docs/FORMAT.md, "Record"), and the follower's own engine must reach that root. These functions
** are everything a follower or a leader needs from the core: positions, a cursor over a store's
** log, the chain at a height, applying a replicated record, bootstrapping from a snapshot file,
** and the frames of the replication stream. */

/* A database's position: its height, the state root there, and the log's chain value there (32
** zero bytes at height 0). */
typedef struct valori_position {
  uint64_t height;
  uint8_t root[32];
  uint8_t chain[32];
  uint32_t chain_known; /* 1, except for a database decoded by valori_snapshot_load: an engine
                        ** snapshot carries no chain (chain is then zero and means nothing) */
  uint32_t reserved;
} valori_position;

/* Fills *out for any database: a durable store's position is its log's (the last appended
** record: durable after valori_flush or a commit in relaxed mode); an in-memory database hashes
** its chain along as it applies events (from 0 when created, from the recovered chain for
** valori_open_at_height, from the file's header for valori_bootstrap). Errors: VALORI_EINVAL. */
int valori_position_get(const valori_db *db, valori_position *out);

/* Why valori_apply_record refused a record with VALORI_EDIVERGED (valori_apply_result.reason). */
#define VALORI_DIVERGED_CHAIN 1 /* the record's chain does not continue this database's chain */
#define VALORI_DIVERGED_ROOT 2  /* the event applies but gives another root than the record's */
#define VALORI_DIVERGED_EVENT 3 /* the engine refuses the event (event_code says why) */

typedef struct valori_apply_result {
  uint64_t height;      /* the record's height (0 when it did not decode) */
  uint32_t reason;      /* VALORI_DIVERGED_* with VALORI_EDIVERGED, else 0 */
  int event_code;       /* DIVERGED_EVENT: the engine's code for the event */
  uint8_t expected[32]; /* CHAIN: the record's chain; ROOT, EVENT: the record's root */
  uint8_t actual[32];   /* CHAIN: the chain this database computes for the record; ROOT: the root
                        ** the event would give here; EVENT: this database's root (unchanged) */
} valori_apply_result;

/* Applies one replicated log record (88-byte header + event, exactly as the leader's log holds it:
** docs/FORMAT.md "Record"; the payload of a RECORD frame). Checks, in this order, and refuses with
** NOTHING changed (height, root, chain, log and snapshots as they were):
**   VALORI_ECORRUPT  the record does not decode: length field, len != 88 + event, CRC;
**   VALORI_EHEIGHT   its height is not this database's height + 1;
**   VALORI_EDIVERGED its chain is not SHA-256(this chain | height | its root | event) (reason
**                    CHAIN), the engine refuses its event (EVENT), or the root the event would give
**                    (computed before anything changes) is not its root (ROOT);
**   VALORI_ENOMEM    out of memory (retry); VALORI_EINVAL for NULL arguments or a database whose
**                    chain is not known; VALORI_EREADONLY, VALORI_EPOISONED as for any write.
** Then the event is applied and, in a durable store, appended as a record of this store's log
** with the same height, root, chain and event (its own synced offset and CRC) and synced per the
** store's sync mode (relaxed: valori_flush or valori_commit_* make a group of records durable).
** res (may be NULL) receives the details, also on success (height). rec is borrowed. */
int valori_apply_record(valori_db *db, const uint8_t *rec, size_t len, valori_apply_result *res);

/* A dry run of valori_apply_record: the same checks in the same order with the same results (code
** and *res, the would-be root in res->actual on success), and the record is never applied: height,
** root, chain, log and snapshots stay as they were whatever the bytes. A read-only database may
** check records too (no VALORI_EREADONLY). For showing that a record would be refused (or
** accepted) without touching the replica. rec is borrowed. */
int valori_check_record(const valori_db *db, const uint8_t *rec, size_t len, valori_apply_result *res);

/* Builds a database whose state is a snapshot file (docs/FORMAT.md "Snapshot file": 128-byte
** header with height, root and chain, then the engine snapshot), as a leader serves it for
** bootstrap. Everything is checked before anything is written: header and payload CRCs, the
** configuration, and the engine snapshot with all of valori_snapshot_load's checks (content
** re-hashed against the root), whose height and root must be the header's; the chain at height 0
** must be zero. Hostile bytes give VALORI_ECORRUPT or VALORI_EVERSION, never a crash.
** opt->vfs NULL: an in-memory database at that position. opt->vfs set: a new durable store in that
** directory (its lock taken as valori_open does): the file becomes the store's snapshot
** snap-<h>.vsnap (not written for h = 0), the log starts at h+1 with the snapshot's chain, HEAD
** records the floor h; the database is then open as valori_open would open it (opt->flags may not
** hold VALORI_OPEN_READONLY; sync mode, snapshot_every and segment_bytes as for valori_open). The
** directory must hold no log segment, snapshot or HEAD: else VALORI_EEXIST. opt->dim 0 takes the
** file's configuration; otherwise it must match (VALORI_ECONFIG). file is borrowed for the call.
** path names the store in messages only. */
int valori_bootstrap(const char *path, const valori_options *opt, const uint8_t *file, size_t len, valori_db **out);

/* A read-only cursor over the log of the store at opt->vfs (no lock taken, nothing written), for a
** leader serving its records while its own writer appends (in this process through another
** valori_vfs, or in another process). It reads the same segments with the same checks recovery
** makes (segment header, configuration, first height, chain continuity across segments; record
** CRC, height sequence, synced range, chain) and hands out each record exactly as stored (88-byte
** header + event), following rotation. It never reads a record above the max_height its caller
** gives (the height the caller knows to be complete and durable), so any damage it meets is real
** damage (VALORI_ECORRUPT), never a write in progress. */
typedef struct valori_cursor valori_cursor;

/* Opens a cursor whose first record will be `from` (>= 1). Positioning reads the records of the
** segment that holds `from` up to from - 1 (never above max_height). VALORI_EHEIGHT when `from` is
** older than the oldest segment the store keeps (pruned behind a snapshot) or from - 1 is above
** max_height; VALORI_EINVAL for from 0 or no vfs; VALORI_ECORRUPT, VALORI_EVERSION, VALORI_EIO,
** VALORI_ENOMEM. opt->allocator is used; the other options are ignored. *out is freed with
** valori_cursor_close. */
int valori_cursor_open(const valori_options *opt, uint64_t from, uint64_t max_height, valori_cursor **out);
/* The next record, when its height is at most max_height: *rec points at its bytes, valid until
** the next call or the close (the cursor owns them), *len is 88 + its event length, and the cursor
** moves past it. When the next record is above max_height: VALORI_OK with *rec = NULL and *len =
** 0 (nothing yet; call again later). VALORI_ECORRUPT (the message of valori_cursor_error says
** where) when a record at or below max_height is damaged or missing; after any error the cursor
** stays failed. */
int valori_cursor_next(valori_cursor *c, uint64_t max_height, const uint8_t **rec, size_t *len);
/* The height of the record the next call returns, and the chain before it. */
int valori_cursor_chain(const valori_cursor *c, uint64_t *next_height, uint8_t chain[32]);
/* A static English description of the cursor's last error and the file it concerns (file may be
** NULL); "" when none. */
const char *valori_cursor_error(const valori_cursor *c, const char **file);
void valori_cursor_close(valori_cursor *c);

/* The chain value of the store at opt->vfs at `height`: 32 zero bytes at 0, a kept snapshot's
** header chain at its height, else the chain after the logged record at that height (read with the
** cursor's checks; height must be complete in the log). VALORI_EHEIGHT when the store holds none
** of these. Read-only, no lock. */
int valori_store_chain_at(const valori_options *opt, uint64_t height, uint8_t chain[32]);

/* ---- Replication stream frames (docs/REPLICATION.md, section 5):
**   u8 type | u8 version (1) | u16 flags (0) | u32 len | payload[len] | u32 CRC-32C(header + payload) */
#define VALORI_FRAME_HELLO 1
#define VALORI_FRAME_RECORD 2
#define VALORI_FRAME_HEARTBEAT 3
#define VALORI_FRAME_ERROR 4
#define VALORI_FRAME_VERSION 1
#define VALORI_FRAME_OVERHEAD 12u       /* header + CRC bytes around a payload */
#define VALORI_FRAME_HELLO_LEN 92u      /* payload bytes of a HELLO */
#define VALORI_FRAME_HEARTBEAT_LEN 48u  /* payload bytes of a HEARTBEAT */
#define VALORI_FRAME_MAX_MESSAGE 1024u  /* ERROR message bytes */

typedef struct valori_frame {
  uint32_t type;              /* VALORI_FRAME_* */
  uint32_t reserved;
  uint64_t size;              /* the whole frame's bytes: payload + VALORI_FRAME_OVERHEAD */
  uint64_t from;              /* HELLO: the first height the stream sends */
  uint64_t leader_height;     /* HELLO, HEARTBEAT: the leader's durable height */
  uint64_t log_first_height;  /* HELLO */
  uint64_t time_ms;           /* HELLO, HEARTBEAT: the leader's clock, Unix ms */
  uint32_t config[5];         /* HELLO: dim, metric, hnsw_m, ef_construction, ef_search */
  uint32_t heartbeat_ms;      /* HELLO */
  uint8_t root[32];           /* HELLO, HEARTBEAT: the root at leader_height */
  uint32_t code;              /* ERROR: a core or server result code */
  uint32_t reserved2;
  const uint8_t *data;        /* RECORD: the record (decode: into the caller's buffer); ERROR: the
                              ** message, UTF-8, not NUL-terminated */
  uint64_t data_len;
  uint64_t height;            /* RECORD: the record's height (decode only) */
} valori_frame;

/* Decodes the frame at the start of buf (n bytes available). VALORI_OK with *used = f->size when a
** whole frame is there; VALORI_OK with *used = 0 when more bytes are needed (f->size then says
** how many the frame needs in all once its 8 header bytes are in, else 8). VALORI_ECORRUPT for an
** unknown type, nonzero flags, a length outside the type's range, a RECORD whose length field
** disagrees with its payload, nonzero reserved fields, a NUL in an ERROR message or a bad CRC
** (the header is judged before its payload arrives); VALORI_EVERSION for another version.
** Pointers in *f point into buf. The record's own CRC is valori_apply_record's to check. */
int valori_frame_decode(const uint8_t *buf, size_t n, valori_frame *f, size_t *used);
/* Encodes *f (type and that type's fields; RECORD and ERROR take data/data_len) into out. *len
** receives the frame's size; VALORI_EBUFSIZE when cap is smaller (nothing written), VALORI_EINVAL
** for a payload the decoder would refuse. */
int valori_frame_encode(const valori_frame *f, uint8_t *out, size_t cap, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* VALORI_H */
