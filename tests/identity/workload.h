/*
** workload.h: the seeded identity workload (tests/identity/README.md).
**
** A generator turns a seed into a stream of events covering every event kind of the public API
** (inserts with fractional, negative, boundary, tie and tiny components; rejected inputs: NaN,
** infinities, out of range, wrong dimension, oversized metadata, empty batches, unknown ids; atomic
** batches; deletes and updates; metadata of 0..64 KiB; graph edits; plain, tag- and tag-set-filtered
** searches in every mode; k-hop expansions; search-then-expand). Every decision is a pure function of
** the seed and of the generator's own model of the database, so tests/identity/workload.mjs
** regenerates exactly the same stream in JavaScript (the per-checkpoint `stream=` hash proves it).
**
** The runner applies the stream to an in-memory database (or, wl_run_store, to a durable store
** through a VFS) and writes a transcript: one header, one checkpoint line after every 1,000 events
** and at the end, one summary line. Everything it writes is a pure function of the configuration,
** so every target must produce byte-identical transcripts.
**
** Pure C11, no libc I/O, no malloc: memory comes from the valori_allocator passed in and text goes to
** the output callback, so the same code runs hosted, in WebAssembly and on bare-metal Cortex-M.
*/
#ifndef VALORI_IDENTITY_WORKLOAD_H
#define VALORI_IDENTITY_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "valori.h"

typedef struct wl_config {
  const char *name;      /* "seed1": the golden file is tests/golden/identity-<name>.txt */
  uint64_t seed;
  uint32_t dim;
  uint32_t metric;       /* VALORI_METRIC_* */
  uint32_t hnsw_m;       /* 0 = default (16) */
  uint32_t hnsw_efc;     /* 0 = default (200) */
  uint32_t events;
  uint32_t every;        /* checkpoint interval (1000) */
  uint32_t index;        /* VALORI_INDEX_HNSW (0) or VALORI_INDEX_NONE (then M and efc must be 0) */
  uint32_t whole;        /* percent of fresh vectors whose components are all integers (-256..256),
                            so both distance kernels (general and whole-valued) run; 0 = none */
  uint32_t trav_range;   /* > 0: a compact traversal copy over [-trav_range, trav_range]
                            (valori_traversal_int8); 0 = none. C runner only (not in workload.mjs) */
} wl_config;

/* The golden configurations (tests/golden/identity-<name>.txt). */
extern const wl_config wl_golden_configs[];
extern const unsigned wl_golden_count;

typedef void (*wl_out_fn)(void *ctx, const char *text);

#define WL_TRACE 1u /* one line per event (for locating a difference; never in golden files) */

/* Runs one configuration, writing the transcript through out. Returns 0 when the run completed and
** every internal check (valori_check, snapshot reload, predicted result codes) held; 1 otherwise.
** The transcript is written in either case. */
int wl_run(const wl_config *cfg, const valori_allocator *a, unsigned flags, wl_out_fn out, void *ctx);

/* wl_run over a durable store: the same events, written into the (empty) store directory behind
** `store` with relaxed sync, 64 KiB segments and no automatic snapshots. The transcript is wl_run's
** (every checkpoint line computed from the durable database), plus: a "store large-file=..." line
** after the header (a sparse file of just over 3 GiB written, sized and read back through the VFS:
** 64-bit file offsets); after every checkpoint a "reopened ev=N ..." line with the same state fields,
** taken after a flush (and, every second checkpoint, a snapshot), a close and a reopen through
** recovery; and before the summary a "store verify=..." line from valori_verify of the closed store.
** compare.awk holds all of them against the golden checkpoints. Returns 1 also when a store step
** failed (a "FATAL store: ..." line ends the run). */
int wl_run_store(const wl_config *cfg, const valori_allocator *a, unsigned flags, const valori_vfs *store, wl_out_fn out,
                 void *ctx);

/* Parses a configuration name ("seed1"...) into one of the golden configs; NULL if unknown. */
const wl_config *wl_find_config(const char *name);

#endif
