/*
** store_api.c: the public functions of the durable store that need the valori_db handle
** (valori.h, "Durable store"): the recovery report, the durable height, and snapshots on demand,
** whole or in the three steps a server uses to snapshot beside normal operation.
*/
#include "db.h"
#include "store_int.h"

/* Copies the open's recovery report; EINVAL for in-memory databases. */
int valori_recovery_info(const valori_db *db, valori_recovery *out) {
  if (!db || !out) return VALORI_EINVAL;
  if (!db->store) return VALORI_EINVAL;
  *out = *vl_store_report(db->store);
  return VALORI_OK;
}

/* Height durable on disk (in-memory databases: the current height, nothing is durable there but
** nothing is pending either). */
int valori_durable_height(const valori_db *db, uint64_t *out) {
  if (!db || !out) return VALORI_EINVAL;
  *out = db->store ? vl_store_durable_height(db->store) : vl_engine_height(db->e);
  return VALORI_OK;
}

/* Checks that db can take a snapshot now. */
static int vl_snap_ok(const valori_db *db) {
  if (!db) return VALORI_EINVAL;
  if (!db->store) return VALORI_EINVAL;
  if (db->readonly) return VALORI_EREADONLY;
  if (db->poisoned) return VALORI_EPOISONED;
  return VALORI_OK;
}

/* Synchronous snapshot; a failed log sync poisons the database like any failed sync. */
int valori_snapshot(valori_db *db) {
  int rc = vl_snap_ok(db);
  if (rc != VALORI_OK) return rc;
  rc = vl_store_snapshot(db->store, db->e);
  if (db->store->poisoned) db->poisoned = 1;
  return rc;
}

/* Step 1 (shared lock): serialize into memory. */
int valori_snapshot_begin(const valori_db *db, valori_snapjob **out) {
  vl_snapjob *j = NULL;
  int rc = vl_snap_ok(db);
  if (rc != VALORI_OK) return rc;
  if (!out) return VALORI_EINVAL;
  rc = vl_store_snapshot_prepare(db->store, db->e, &j);
  if (rc == VALORI_OK) *out = j;
  return rc;
}

/* Step 2 (no lock): write and publish the file. */
int valori_snapshot_write(const valori_db *db, valori_snapjob *job) {
  if (!db || !db->store || !job) return VALORI_EINVAL;
  return vl_store_snapshot_write(db->store, job);
}

/* Step 3 (exclusive lock): record, prune, free the job. */
int valori_snapshot_end(valori_db *db, valori_snapjob *job, int write_rc) {
  if (!db || !db->store || !job) return VALORI_EINVAL;
  return vl_store_snapshot_finish(db->store, job, write_rc);
}
