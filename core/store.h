/*
** store.h: the durable store: a directory of log segments and snapshots behind a valori_vfs.
** The engine (engine.h) decides what an event does; the store makes accepted events durable and
** rebuilds the engine on open (newest valid snapshot + replay of the log after it).
**
** Contract with api.c and store_api.c (the only callers):
** - vl_store_opts_resolve turns valori_options into store options (defaults: valori.h
**   VALORI_DEFAULT_*, resolved here and nowhere else); vl_store_open recovers and hands back the
**   engine at the recovered height.
** - For every event the engine accepted, api.c calls vl_store_append with the event bytes and the
**   height and state root *after* it, then (in full sync mode) vl_store_sync before acknowledging.
** - Any error from append or sync poisons the store (the fsyncgate rule): vl_store_poisoned is
**   then 1 and every later append, sync, snapshot or commit is refused until the store is
**   reopened. The store is the only owner of that flag; the database asks it.
*/
#ifndef VL_STORE_H
#define VL_STORE_H

#include "engine.h"

typedef struct vl_store vl_store;

typedef struct vl_store_opts {
  uint32_t flags;          /* VALORI_OPEN_* */
  uint32_t sync_mode;      /* VALORI_SYNC_* */
  uint64_t snapshot_every; /* events between automatic snapshots (resolved: never 0) */
  uint64_t segment_bytes;  /* rotation size (resolved: never 0) */
} vl_store_opts;

/* Resolves the store options of opt (flags, sync mode, snapshot_every, segment_bytes) with the
** defaults of valori.h for 0 fields. */
void vl_store_opts_resolve(const valori_options *opt, vl_store_opts *o);

/* 1 once a write or sync failed (writes refused until reopen). */
int vl_store_poisoned(const vl_store *s);

/* Opens or creates the store bound to `vfs`. cfg->dim == 0 means "use the stored configuration";
** otherwise a mismatch with the stored one is ECONFIG. On success *store and *engine are owned by
** the caller (free with vl_store_close and vl_engine_free). */
int vl_store_open(const valori_allocator *a, const valori_vfs *vfs, const vl_config *cfg,
                  const vl_store_opts *o, vl_store **store, vl_engine **engine);

/* Appends one accepted event; height and root are the engine's after applying it. Not yet durable. */
int vl_store_append(vl_store *s, const uint8_t *ev, size_t len, uint64_t height, const uint8_t root[32]);

/* vl_store_append for a record whose chain value the caller computed already (a replicated record
** whose chain it checked against vl_store_chain): saves hashing the event twice. */
int vl_store_append_chained(vl_store *s, const uint8_t *ev, size_t len, uint64_t height, const uint8_t root[32],
                            const uint8_t chain[32]);

/* The chain value at the store's appended height (*height, may be NULL). */
const uint8_t *vl_store_chain(const vl_store *s, uint64_t *height);

/* Makes every appended record durable (one sync covers all pending appends: group commit). */
int vl_store_sync(vl_store *s);

/* Called by api.c after each acknowledged write: takes a snapshot when the policy says so. */
int vl_store_maybe_snapshot(vl_store *s, const vl_engine *e);

/* Writes a snapshot of e now (atomic publish), then drops log segments it makes redundant. */
int vl_store_snapshot(vl_store *s, const vl_engine *e);

/* Syncs pending appends (unless poisoned), records the clean close in HEAD, releases the lock,
** frees the store. Returns the first error (the store is freed regardless). */
int vl_store_close(vl_store *s);

#endif /* VL_STORE_H */
