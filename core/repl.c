/*
** repl.c: what a replica needs from the core (valori.h, "Replication"; docs/REPLICATION.md):
** the position of any database, applying a replicated log record with every check before anything
** changes (decode, height, chain, then the engine's would-be root), bootstrapping a database or a
** durable store from a leader's snapshot file. The cursor over a store's log and the chain of a
** store at a height are cursor.c, the stream frames frame.c.
*/
#include "db.h"
#include "engine_int.h"
#include "store_int.h"

int valori_position_get(const valori_db *db, valori_position *out) {
  if (!db || !out) return VALORI_EINVAL;
  if (VL_DB_POISONED(db)) return VALORI_EPOISONED; /* the engine may be ahead of the log */
  memset(out, 0, sizeof *out);
  out->height = vl_engine_height(db->e);
  vl_engine_root(db->e, out->root);
  if (db->store) {
    uint64_t h;
    memcpy(out->chain, vl_store_chain(db->store, &h), 32);
    (void)VL_ALWAYS(h == out->height); /* every applied event was appended */
    out->chain_known = 1;
  } else {
    vl_db_chain_await(db);
    memcpy(out->chain, db->chain, 32);
    out->chain_known = db->chain_known != 0;
  }
  return VALORI_OK;
}

/* valori_apply_record's checks (steps 1 to 4, in that order); with `commit` the record is then
** applied and logged, without it (valori_check_record) nothing is ever changed. */
static int record_run(valori_db *db, const uint8_t *rec, size_t len, valori_apply_result *res, int commit) {
  valori_apply_result tmp;
  const uint8_t *prev;
  uint8_t chain[32];
  const char *what;
  vl_rec r;
  int rc;
  if (!res) res = &tmp;
  memset(res, 0, sizeof *res);
  if (!db || !rec) return VALORI_EINVAL;
  if (VL_DB_POISONED(db)) return VALORI_EPOISONED;
  if (commit && db->readonly) return VALORI_EREADONLY;
  if (!db->store && !db->chain_known) return VALORI_EINVAL; /* nothing to check the chain against */
  if (commit) vl_db_chain_settle(db);
  else vl_db_chain_await(db);
  /* 1. the record decodes, and is exactly one record */
  if (vl_rec_decode(rec, len, &r, &what) != VALORI_OK || (size_t)VL_REC_HDR + r.len != len) return VALORI_ECORRUPT;
  res->height = r.height;
  /* 2. the next height */
  if (r.height != vl_engine_height(db->e) + 1u) return VALORI_EHEIGHT;
  /* 3. the chain continues this database's */
  prev = db->store ? vl_store_chain(db->store, NULL) : db->chain;
  vl_chain_next(prev, r.height, r.root, r.ev, r.len, chain);
  if (memcmp(chain, r.chain, 32) != 0) {
    res->reason = VALORI_DIVERGED_CHAIN;
    memcpy(res->expected, r.chain, 32);
    memcpy(res->actual, chain, 32);
    return VALORI_EDIVERGED;
  }
  /* 4. the event, refused before anything changes unless it reaches the record's root */
  rc = commit ? vl_engine_apply_expect(db->e, r.ev, r.len, r.root, res->actual, NULL)
              : vl_engine_check_expect(db->e, r.ev, r.len, r.root, res->actual);
  if (rc == VALORI_EDIVERGED) {
    res->reason = VALORI_DIVERGED_ROOT;
    memcpy(res->expected, r.root, 32);
    return rc;
  }
  if (rc == VALORI_ENOMEM) return rc;
  if (rc != VALORI_OK) {
    res->reason = VALORI_DIVERGED_EVENT;
    res->event_code = rc;
    memcpy(res->expected, r.root, 32);
    vl_engine_root(db->e, res->actual);
    return VALORI_EDIVERGED;
  }
  return commit ? vl_db_logged(db, r.ev, r.len, chain) : VALORI_OK;
}

int valori_apply_record(valori_db *db, const uint8_t *rec, size_t len, valori_apply_result *res) {
  return record_run(db, rec, len, res, 1);
}

int valori_check_record(const valori_db *db, const uint8_t *rec, size_t len, valori_apply_result *res) {
  return record_run((valori_db *)db, rec, len, res, 0); /* nothing is written without commit */
}

/* Checks a snapshot file completely and loads its engine (valori_bootstrap's first half). */
static int load_snapshot_file(const valori_allocator *a, const uint8_t *file, size_t len, vl_snap_hdr *h,
                              vl_engine **out) {
  static const uint8_t zero[32];
  const char *what = "";
  uint64_t off = 0;
  uint8_t root[32];
  vl_engine *e = NULL;
  int rc = vl_snap_file_check(file, len, h, &what, &off);
  if (rc != VALORI_OK) return rc;
  rc = vl_engine_snapshot_load(a, file + VL_SNAP_HDR, len - VL_SNAP_HDR, &e);
  if (rc == VALORI_OK) rc = vl_engine_verify_content(e); /* bytes from outside: the content must hash to the root */
  if (rc == VALORI_OK) {
    vl_engine_root(e, root);
    if (vl_engine_height(e) != h->height || memcmp(root, h->root, 32) != 0 || !vl_config_eq(vl_engine_config(e), &h->cfg) ||
        (h->height == 0 && memcmp(h->chain, zero, 32) != 0))
      rc = VALORI_ECORRUPT;
  }
  if (rc != VALORI_OK) {
    vl_engine_free(e);
    return rc == VALORI_ENOMEM || rc == VALORI_EVERSION ? rc : VALORI_ECORRUPT;
  }
  *out = e;
  return VALORI_OK;
}

int valori_bootstrap(const char *path, const valori_options *opt, const uint8_t *file, size_t len, valori_db **out) {
  const valori_allocator *a;
  vl_snap_hdr h;
  vl_engine *e = NULL;
  valori_db *db = NULL;
  vl_config want;
  int rc;
  (void)path;
  if (!opt || !file || !out || opt->sync_mode > VALORI_SYNC_RELAXED) return VALORI_EINVAL;
  if (opt->flags & ~(uint32_t)(VALORI_OPEN_CREATE | VALORI_OPEN_READONLY | VALORI_OPEN_THREADS)) return VALORI_EINVAL;
  a = opt->allocator ? opt->allocator : valori_libc_allocator();
  if (!a) return VALORI_EINVAL;
  VL_TRY(vl_config_from_options(opt, &want));
  VL_TRY(load_snapshot_file(a, file, len, &h, &e));
  if (opt->dim && !vl_config_eq(&want, &h.cfg)) {
    vl_engine_free(e);
    return VALORI_ECONFIG;
  }
  if (!opt->vfs) {
    rc = vl_db_from_engine(a, e, h.chain, &db);
    if (rc != VALORI_OK) {
      vl_engine_free(e);
      return rc;
    }
  } else {
    vl_store_opts so;
    valori_recovery rep;
    vl_store *s = NULL;
    vl_store_opts_resolve(opt, &so);
    rc = vl_store_bootstrap(a, opt->vfs, &so, &h, file, len, &s, &rep);
    if (rc == VALORI_OK) rc = vl_db_from_engine(a, e, h.chain, &db);
    if (rc != VALORI_OK) {
      vl_engine_free(e);
      if (s) vl_store_close(s);
      return rc;
    }
    db->store = s;
    db->sync_mode = opt->sync_mode;
  }
  if ((opt->flags & VALORI_OPEN_THREADS) && (rc = vl_engine_set_threads(db->e, 1)) != VALORI_OK) {
    (void)valori_close(db);
    return rc;
  }
  *out = db;
  return VALORI_OK;
}
