/*
** store_api.c: the public functions of the durable store (valori.h, "Durable store") other than
** open/close/flush (api.c) and inspection (store_inspect.c): the recovery report and status,
** verification and opening at a height, snapshots on demand (whole or in the three steps a server
** uses to snapshot beside normal operation), and group commit tickets.
*/
#include "db.h"
#include "store_int.h"

static int vl_opts_resolve(const valori_options *opt, const valori_allocator **a, vl_config *c, int *have_cfg);

/* See valori.h. */
const char *valori_proof_name(uint32_t proven_by) {
  switch (proven_by) {
    case VALORI_PROOF_NONE: return "nothing (no HEAD and no snapshot)";
    case VALORI_PROOF_SNAPSHOT: return "the newest snapshot";
    case VALORI_PROOF_HEAD_OPEN: return "HEAD, written by the last writable open";
    case VALORI_PROOF_HEAD_ROTATION: return "HEAD, written at the last log rotation";
    case VALORI_PROOF_HEAD_CLOSE: return "HEAD, written by a clean close";
    default: return "unknown";
  }
}

/* Copies the open's recovery report; EINVAL for in-memory databases. */
int valori_recovery_info(const valori_db *db, valori_recovery *out) {
  if (!db || !out) return VALORI_EINVAL;
  if (!db->store) return VALORI_EINVAL;
  *out = *vl_store_report(db->store);
  return VALORI_OK;
}

/* Opens like valori_open; on failure re-reads the store read-only to say where and why. */
int valori_open_report(const char *path, const valori_options *opt, valori_db **out, valori_recovery *rep) {
  int rc = valori_open(path, opt, out);
  if (!rep) return rc;
  vl_report_init(rep);
  if (rc == VALORI_OK) {
    if ((*out)->store) *rep = *vl_store_report((*out)->store);
    return rc;
  }
  if (opt && opt->vfs && (rc == VALORI_ECORRUPT || rc == VALORI_EVERSION || rc == VALORI_ECONFIG ||
                          rc == VALORI_ENOTFOUND || rc == VALORI_EIO)) {
    const valori_allocator *a;
    vl_config c;
    int have;
    vl_recover_opts ro;
    vl_recover_out ro_out;
    if (vl_opts_resolve(opt, &a, &c, &have) == VALORI_OK) {
      memset(&ro, 0, sizeof ro);
      ro.to_height = UINT64_MAX;
      if (vl_store_recover(a, opt->vfs, have ? &c : NULL, &ro, &ro_out) == VALORI_OK) {
        vl_engine_free(ro_out.e);
        vl_recover_out_free(a, &ro_out);
      } else {
        *rep = ro_out.rep;
      }
    }
  }
  if (rep->code == VALORI_OK) vl_report_error(rep, rc, NULL, 0, 0, valori_strerror(rc));
  return rc;
}

/* Copies the store's status; EINVAL for in-memory databases. */
int valori_store_status_get(const valori_db *db, valori_store_status *out) {
  if (!db || !out || !db->store) return VALORI_EINVAL;
  vl_store_status_get(db->store, out);
  return VALORI_OK;
}

/* Resolves the allocator and the configuration a caller's options ask for (dim 0: stored). */
static int vl_opts_resolve(const valori_options *opt, const valori_allocator **a, vl_config *c, int *have_cfg) {
  if (!opt || !opt->vfs) return VALORI_EINVAL;
  *a = opt->allocator ? opt->allocator : valori_libc_allocator();
  if (!*a) return VALORI_EINVAL;
  VL_TRY(vl_config_from_options(opt, c)); /* as valori_open: index choice and defaults applied */
  *have_cfg = opt->dim != 0;
  return VALORI_OK;
}

/* Read-only full verification; see valori.h. */
int valori_verify(const valori_options *opt, valori_recovery *rep, uint64_t *height, uint8_t root[32]) {
  const valori_allocator *a;
  vl_config c;
  int have, rc;
  vl_recover_opts ro;
  vl_recover_out out;
  if (rep) vl_report_init(rep);
  VL_TRY(vl_opts_resolve(opt, &a, &c, &have));
  memset(&ro, 0, sizeof ro);
  ro.verify = 1;
  ro.to_height = UINT64_MAX;
  rc = vl_store_recover(a, opt->vfs, have ? &c : NULL, &ro, &out);
  if (rep) *rep = out.rep;
  if (rc != VALORI_OK) return rc;
  if (height) *height = vl_engine_height(out.e);
  if (root) vl_engine_root(out.e, root);
  vl_engine_free(out.e);
  vl_recover_out_free(a, &out);
  return VALORI_OK;
}

/* Read-only recovery to a height, handed over as an in-memory database; see valori.h. The
** recovered engine itself becomes the database (no copy through a snapshot). */
int valori_open_at_height(const valori_options *opt, uint64_t height, valori_db **db, valori_recovery *rep) {
  const valori_allocator *a;
  vl_config c;
  int have, rc;
  vl_recover_opts ro;
  vl_recover_out out;
  if (rep) vl_report_init(rep);
  if (!db) return VALORI_EINVAL;
  VL_TRY(vl_opts_resolve(opt, &a, &c, &have));
  memset(&ro, 0, sizeof ro);
  ro.to_height = height; /* VALORI_HEIGHT_END == UINT64_MAX: the end of the log */
  rc = vl_store_recover(a, opt->vfs, have ? &c : NULL, &ro, &out);
  if (rep) *rep = out.rep;
  if (rc != VALORI_OK) return rc;
  vl_recover_out_free(a, &out);
  rc = vl_db_from_engine(a, out.e, out.chain, db);
  if (rc != VALORI_OK) vl_engine_free(out.e);
  return rc;
}

/* Checks that db can take a snapshot now. */
static int vl_snap_ok(const valori_db *db) {
  if (!db) return VALORI_EINVAL;
  if (!db->store) return VALORI_EINVAL;
  if (db->readonly) return VALORI_EREADONLY;
  if (VL_DB_POISONED(db)) return VALORI_EPOISONED;
  return VALORI_OK;
}

/* Synchronous snapshot; a failed log sync poisons the database like any failed sync. */
int valori_snapshot(valori_db *db) {
  int rc = vl_snap_ok(db);
  if (rc != VALORI_OK) return rc;
  return vl_store_snapshot(db->store, db->e); /* a failed log sync poisons the store */
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

/* Group commit step 1 (exclusive lock). */
int valori_commit_begin(valori_db *db, valori_commit *c) {
  if (!db || !c) return VALORI_EINVAL;
  if (!db->store) {
    memset(c, 0, sizeof *c);
    c->height = vl_engine_height(db->e);
    c->state = 1;
    return VALORI_OK;
  }
  return vl_store_commit_begin(db->store, c); /* EPOISONED once poisoned */
}

/* Group commit step 2 (no lock). */
int valori_commit_sync(const valori_db *db, valori_commit *c) {
  if (!db || !c) return VALORI_EINVAL;
  if (!db->store) return VALORI_OK;
  return vl_store_commit_run(db->store, c);
}

/* Group commit step 3 (exclusive lock); a failure poisons the database. */
int valori_commit_end(valori_db *db, valori_commit *c, int sync_rc) {
  if (!db || !c) return VALORI_EINVAL;
  if (!db->store) return sync_rc;
  return vl_store_commit_end(db->store, c, sync_rc);
}
