/*
** valori_bench.h: what the files of the Valori driver share (and pair_bench.cpp, the paired
** Valori/hnswlib driver, with them). valori_store.c holds the shared helpers declared first below
** (errors, opening an in-memory store, inserting base rows, checking hits); valori_bench.c the index
** measurements (build, search, filters, exact, snapshots, ingestion by batch size) and main();
** valori_ingest.c the ingestion measurements of issue 6 items 5 and 6: raw append into index-less
** stores against HNSW ingestion (in memory, by batch size) with a cost breakdown of raw append, and
** durable ingestion and store snapshots in a real directory on the POSIX VFS.
** Every function exits the process (status 1) when a call fails or a result breaks the API
** contract, so no speed is ever reported for a wrong answer.
*/
#ifndef VALORI_BENCH_H
#define VALORI_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "data.h"
#include "valori.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The program name that vb_die and vb_fail print (default "valori_bench"; a driver's main sets it). */
extern const char *vb_prog;

/* Prints what failed with the code's name and message, and exits 1. */
void vb_die(const char *what, int rc);
/* Prints "CONTRACT VIOLATION: msg" and exits 1. */
void vb_fail(const char *msg);
#define CHECK(call)                           \
  do {                                        \
    int rc_ = (call);                         \
    if (rc_ != VALORI_OK) vb_die(#call, rc_); \
  } while (0)

/* Inserts base rows [0, n) of ds into db in batches of `batch` records (0 = one valori_insert per
** row), row i tagged bench_tag_class(i). Checks that ids are consecutive and returns row 0's id.
** progress: a line on stderr every 5 s. */
uint64_t vb_insert_rows(valori_db *db, const bench_dataset *ds, size_t n, size_t batch, int progress);

/* In-memory valori_open for ds with M/efc from o, or index-less (VALORI_INDEX_NONE). */
valori_db *vb_open_mem(const bench_opts *o, const bench_dataset *ds, uint32_t index);
/* The same with extra VALORI_OPEN_* flags (VALORI_OPEN_THREADS). */
valori_db *vb_open_mem_flags(const bench_opts *o, const bench_dataset *ds, uint32_t index, uint32_t flags);

/* The insert batch size for building a store of ds: o->batch, clamped to VALORI_MAX_BATCH and to
** what fits in half of one VALORI_MAX_EVENT event. */
size_t vb_build_batch(const bench_opts *o, const bench_dataset *ds);

/* Checks n hits of one valori_search with k (and, with m > 0, the 1/m tag filter) against the API
** contract for a store whose base row i has id first_id + i (i < nbase): at most k hits, ids in
** range, ordered by (distance, id), inside the filter. Stores the hits' base indices in ids[0..n)
** and exits 1 (vb_fail) on any violation. */
void vb_check_hits(const valori_hit *hits, size_t n, size_t k, uint64_t first_id, size_t nbase, uint32_t m,
                   uint32_t *ids);

/* kind "append" and "append_cost" (valori_ingest.c). */
void vb_append(const bench_opts *o, const bench_dataset *ds);
/* kind "durable" and "snapshot" with storage "file" (valori_ingest.c). */
void vb_durable(const bench_opts *o, const bench_dataset *ds);

#ifdef __cplusplus
}
#endif
#endif /* VALORI_BENCH_H */
