/*
** engine.h: the in-memory state machine. An engine holds the whole logical state (records, HNSW
** index, knowledge graph, counters, incremental state hash) and changes only through
** vl_engine_apply(), which takes one canonically encoded event (see event.h and docs/FORMAT.md).
**
** Atomicity: vl_engine_apply either applies the whole event or returns an error with the state,
** root and height untouched (validation and every allocation happen before the first mutation).
** Determinism: the resulting state, root and index depend only on the configuration and the
** sequence of applied events.
**
** The durable store (store.h) logs events that the engine accepted and replays them on recovery;
** the public API (api.c) wraps both behind valori_db.
*/
#ifndef VL_ENGINE_H
#define VL_ENGINE_H

#include "vl_int.h"

/* Store configuration: fixed at creation, recorded in snapshots and the log header, and covered
** by the state root. hnsw_m == 0 means "no index" (VALORI_INDEX_NONE); then ef_construction and
** ef_search are 0 too. */
typedef struct vl_config {
  uint32_t dim;
  uint32_t metric;
  uint32_t hnsw_m;
  uint32_t hnsw_ef_construction;
  uint32_t hnsw_ef_search;
  uint32_t traversal; /* the traversal word (valori.h, valori_traversal_int8): 0 = exact traversal */
} vl_config;

typedef struct vl_engine vl_engine;

/* Validates a configuration (EINVAL / EDIM on bad values): M in 2..VALORI_HNSW_MAX_M with both ef
** in 1..VALORI_MAX_EF, or M, ef_construction and ef_search all 0 (index-less). */
int vl_config_check(const vl_config *c);
/* The configuration a caller's options ask for: the index choice and the defaults for 0 fields
** applied (dim 0 stays 0: "use the stored one"). EINVAL for an unknown index or HNSW parameters
** given for an index-less store. */
int vl_config_from_options(const valori_options *o, vl_config *c);

/* Format version of every file that records a configuration (engine snapshots, log segment
** headers, snapshot file headers): 1 for a store with an HNSW index, 2 for an index-less one
** (hnsw_m = 0). A library that predates index-less stores thus refuses them with VALORI_EVERSION
** instead of calling them damaged, and every file of an HNSW store stays readable by it. Readers
** accept versions 1..VL_FORMAT_VERSION_MAX and require the version to be the one the file's own
** configuration calls for (else VALORI_ECORRUPT).
** Version 3: an HNSW store with a compact traversal copy (traversal word != 0, docs/FORMAT.md);
** its files carry the word where versions 1 and 2 hold zero bytes, so older libraries refuse them
** with VALORI_EVERSION. */
#define VL_FORMAT_VERSION_MAX 3u
static inline uint32_t vl_config_format_version(const vl_config *c) {
  return c->traversal ? 3u : c->hnsw_m == 0 ? 2u : 1u;
}

/* Creates an empty engine (height 0). The allocator must outlive the engine. */
int vl_engine_new(const valori_allocator *a, const vl_config *c, vl_engine **out);
void vl_engine_free(vl_engine *e);
/* on != 0: the state hash of a large insert batch is computed in two halves, the second on another
** thread (vl_par2), and the halves' accumulators are added; the root, the log bytes and everything
** else are the same as with on == 0 (docs/DETERMINISM.md, "Threads"). Turning threads on gives the
** engine its persistent worker (vl_par_new; the thread itself starts at first use, and is joined by
** vl_engine_set_threads(e, 0) or vl_engine_free); returns VALORI_ENOMEM when the worker cannot be
** set up (threads stay off), else VALORI_OK. */
int vl_engine_set_threads(vl_engine *e, int on);

const vl_config *vl_engine_config(const vl_engine *e);
uint64_t vl_engine_height(const vl_engine *e);

/* Validates and applies one event; on success height += 1. *out_id (may be NULL) receives the
** first id the event created (records, nodes or edges), else 0. */
int vl_engine_apply(vl_engine *e, const uint8_t *ev, size_t len, uint64_t *out_id);
/* Work that needs the root an event will give but nothing the commit changes (the log's chain
** value: vl_chain_next of the event and that root), done alongside the commit. */
typedef void (*vl_side_fn)(void *arg, const uint8_t root[32]);
/* Events of at least this many bytes run the side work on a second thread (threads on). */
#define VL_PAR_MIN_SIDE_BYTES 32768u
/* vl_engine_apply; with threads on and an event of VL_PAR_MIN_SIDE_BYTES or more, fn(arg, root)
** also runs, on a second thread while the commit runs on the caller's (fn must read nothing the
** commit writes, and write nothing the commit reads), and *ran is 1; otherwise fn is not called
** and *ran is 0. On an error fn may have run: its result is to be discarded. */
int vl_engine_apply_side(vl_engine *e, const uint8_t *ev, size_t len, uint64_t *out_id, vl_side_fn fn, void *arg,
                         int *ran);

/* vl_engine_apply that calls fn(arg, root) on the caller once the event has passed every check and
** its root is known, just before the commit (*ran is then 1): to start side work that outlives the
** call (below) as early as possible. (Every apply waits for earlier side work before its prediction.) An error with *ran 1 is a failed commit (no memory): nothing
** changed, and whatever fn started is to be undone. */
int vl_engine_apply_hook(vl_engine *e, const uint8_t *ev, size_t len, uint64_t *out_id, vl_side_fn fn, void *arg,
                         int *ran);
/* Side work that outlives the call: fn(arg) on the engine's worker (threads on; else at once, on
** the caller), returning at once. The next apply waits for it before its prediction, and so do
** vl_engine_set_threads(e, 0) and vl_engine_free (a dry run meanwhile runs serially); vl_engine_side_wait waits for it and gives
** the worker back (the writer), vl_engine_side_await only waits (any number of readers while no
** writer runs), vl_engine_side_running tells whether it has yet to finish. fn must read nothing a
** later apply writes. */
void vl_engine_side_async(vl_engine *e, void (*fn)(void *), void *arg);
void vl_engine_side_wait(vl_engine *e);
void vl_engine_side_await(const vl_engine *e);
int vl_engine_side_running(const vl_engine *e);

/* vl_engine_apply for a replicated event that must reach the root `expect`: the root the event
** would give is computed before anything changes (the prediction of engine.c) and copied to
** *would (may be NULL; also when refused); when it differs from expect the event is refused with
** VALORI_EDIVERGED and nothing changes. expect NULL: vl_engine_apply. */
int vl_engine_apply_expect(vl_engine *e, const uint8_t *ev, size_t len, const uint8_t expect[32], uint8_t would[32],
                           uint64_t *out_id);

/* vl_engine_apply_expect's checks and prediction without the commit: the same result code and
** *would, and nothing changes (a dry run; valori_check_record). */
int vl_engine_check_expect(const vl_engine *e, const uint8_t *ev, size_t len, const uint8_t expect[32],
                           uint8_t would[32]);

/* Validates an event against the current state without applying it. */
int vl_engine_validate(const vl_engine *e, const uint8_t *ev, size_t len);

/* Current state root (32 bytes), O(1). */
void vl_engine_root(const vl_engine *e, uint8_t out[32]);
/* The index digest (valori_index_digest; vl_hnsw_digest), O(index). */
void vl_engine_index_digest(const vl_engine *e, uint8_t out[32]);
/* Counters, configuration and memory use (valori_stats_get). */
void vl_engine_stats(const vl_engine *e, valori_stats *out);
/* Recomputes the multiset hash from the content and compares it with the maintained one: ECORRUPT
** when they differ (a snapshot whose content does not hash to its root), O(n). */
int vl_engine_verify_content(const vl_engine *e);

/* Snapshot codec (docs/FORMAT.md). save appends to buf; load builds a new engine. Load verifies
** magic, version, every section checksum and every structural invariant. */
int vl_engine_snapshot_save(const vl_engine *e, vl_buf *buf);
int vl_engine_snapshot_load(const valori_allocator *a, const uint8_t *p, size_t n, vl_engine **out);

#endif /* VL_ENGINE_H */
