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
};
/* "Poisoned" (a failed append or sync: every later write refused until reopen) has one owner, the
** store (vl_store_poisoned); an in-memory database cannot be poisoned. */
#define VL_DB_POISONED(db) ((db)->store && vl_store_poisoned((db)->store))

/* The single write path: apply ev to the engine, log it, sync per mode. Used by every mutation. */
int vl_db_submit(valori_db *db, const uint8_t *ev, size_t len, uint64_t *out_id);

/* Wraps an engine (ownership passes to the new handle) as an in-memory database, as if it had been
** loaded from a snapshot of it: used by valori_open_at_height. */
int vl_db_from_engine(const valori_allocator *a, vl_engine *e, valori_db **out);

#endif
