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
  int poisoned;        /* a failed append/sync: every later write is refused */
  int readonly;
};

/* The single write path: apply ev to the engine, log it, sync per mode. Used by every mutation. */
int vl_db_submit(valori_db *db, const uint8_t *ev, size_t len, uint64_t *out_id);

#endif
