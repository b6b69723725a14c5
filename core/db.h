/*
** db.h: the definition of the public handle valori_db, shared by api.c (records, search, graph)
** and any other core file that implements public functions on it.
*/
#ifndef VL_DB_H
#define VL_DB_H

#include "engine.h"
#include "store.h"

struct valori_db {
  const valori_allocator *a;
  vl_engine *e;
  vl_store *store;     /* NULL for an in-memory database */
  uint32_t sync_mode;
  int readonly;        /* opened with VALORI_OPEN_READONLY: every write is refused (the store, if
                          any, was opened read-only from the same flag and keeps no copy) */
  /* The log's chain at the engine's height for a database without a store (a store keeps its
  ** own): hashed along by vl_db_submit (possibly after it returned: vl_db_chain_settle below) and
  ** valori_apply_record. chain_known is 0 only for a
  ** database decoded from a bare engine snapshot, which carries no chain. */
  uint8_t chain[32];
  int chain_known;
};
/* "Poisoned" (a failed append or sync: every later write refused until reopen) has one owner, the
** store (vl_store_poisoned); an in-memory database cannot be poisoned. */
#define VL_DB_POISONED(db) ((db)->store && vl_store_poisoned((db)->store))

/* The single write path: apply ev to the engine, log it, sync per mode. Used by every mutation. */
int vl_db_submit(valori_db *db, const uint8_t *ev, size_t len, uint64_t *out_id);
/* Its second half, after the engine applied ev: appends the record (a store; synced in full sync
** mode, then the snapshot policy) or hashes the chain along (in memory). chain: the record's chain
** value when the caller computed it already (a replicated record), else NULL. An error means the
** store is poisoned. */
int vl_db_logged(valori_db *db, const uint8_t *ev, size_t len, const uint8_t chain[32]);

/* An in-memory database's chain may still be being hashed after the call that applied the last
** event returned (vl_db_submit: large events with threads on). Every reader of db->chain first
** calls vl_db_chain_settle (writers: waits and gives the engine's worker back) or
** vl_db_chain_await (read functions: waits, writes nothing). */
void vl_db_chain_settle(valori_db *db);
void vl_db_chain_await(const valori_db *db);

/* Wraps an engine (ownership passes to the new handle) as an in-memory database whose log chain at
** the engine's height is `chain`: used by valori_open_at_height and valori_bootstrap. */
int vl_db_from_engine(const valori_allocator *a, vl_engine *e, const uint8_t chain[32], valori_db **out);

/* A new handle with nothing in it yet (engine and store NULL, chain at height 0) and its release
** (frees the engine too, not the store). */
int vl_db_new(const valori_allocator *a, valori_db **out);
void vl_db_free(valori_db *db);

#endif
