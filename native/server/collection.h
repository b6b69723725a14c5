/*
** collection.h: the server's collections: a registry of named stores in one data directory
** (DATA/NAME/, each its own valori store), opened lazily and closed least-recently-used beyond a
** bound, created and deleted atomically across crashes, with group commit run by a small pool of
** commit threads and background snapshots (docs/HTTP.md sections 5 and 14).
**
** Locking (never taken in the other order): registry mutex -> a collection's rw lock -> its commit
** mutex. Readers (search, get, graph reads) hold the rw lock shared; every mutation holds it
** exclusive and only while applying (never during an fsync). A request holds a reference from
** vs_coll_acquire to vs_coll_release; a collection with references is never closed or deleted.
**
** Durability: stores are opened in relaxed mode; after a write the caller registers a waiter for
** the write's height (vs_coll_add_waiter), which a commit thread wakes once valori_commit_* made
** that height durable (or failed: then w->rc is the error and the collection is poisoned until it
** is reopened). The waiter list is also the hook for replication streams: any code may wait for
** "durable height advanced" the same way.
*/
#ifndef VS_COLLECTION_H
#define VS_COLLECTION_H

#include <pthread.h>
#include <stdint.h>

#include "decode.h"
#include "valori.h"
#include "vserr.h"

typedef struct vs_registry vs_registry;
typedef struct vs_coll vs_coll;

/* What list and describe show without opening a store (refreshed after every write). */
typedef struct vs_summary {
  char name[VS_MAX_NAME + 1];
  valori_stats st;
  uint8_t root[32];
  uint64_t durable_height, snapshot_height;
  int known; /* 0 when the collection never opened (damaged, locked): only name is valid */
  int last_error;
} vs_summary;

/* A write waiting to become durable. wake(w) runs on a commit thread once w->rc is set (VALORI_OK:
** every write up to w->height is durable). It must not block; it may not call into the registry. */
typedef struct vs_waiter {
  struct vs_waiter *next;
  uint64_t height;
  int rc;
  void (*wake)(struct vs_waiter *w);
  void *arg;
} vs_waiter;

typedef struct vs_reg_opts {
  const char *data_dir;
  uint32_t max_open;        /* collections held open at once */
  uint32_t max_collections; /* collections in the directory */
  uint32_t commit_threads;
  uint64_t snapshot_every;  /* events between background snapshots; 0 = never */
  uint64_t segment_bytes;   /* log segment rotation size of every store; 0 = the store's default */
  /* Called once per collection found at start (rc = the open's result; rep valid when rc is OK). */
  void (*on_recovered)(void *arg, const vs_summary *s, int rc, const valori_recovery *rep);
  void *arg;
  /* "Durable height advanced" (rc VALORI_OK: every write of c up to `durable` is durable) or "the
  ** collection failed" (rc: a commit failed, it is poisoned; or VS_ENOCOLLECTION: it is being deleted
  ** or replaced), for replication streams and parked reads (park.c). Runs on a commit thread or the
  ** deleting thread with no lock held; must not block. May be NULL. */
  void (*on_durable)(void *arg, vs_coll *c, uint64_t durable, int rc);
} vs_reg_opts;

/* Scans the data directory (created if missing), removes leftovers of interrupted creates and
** deletes, recovers every collection once (on_recovered), leaves them closed, starts the commit
** threads. */
int vs_reg_open(const vs_reg_opts *o, vs_registry **out, vs_err *e);
/* Finishes queued commits and snapshots, stops the threads, closes every store cleanly. Returns
** the number of stores whose close failed. */
int vs_reg_close(vs_registry *r);

int vs_coll_create(vs_registry *r, const vs_create_req *req, vs_summary *out, vs_err *e);
/* EINVAL for an invalid name (vs_name_valid), VS_ENOCOLLECTION for a valid unknown one. */
int vs_coll_delete(vs_registry *r, const char *name, vs_err *e);
/* Calls cb for up to `limit` collections with names after `after` (NULL: from the start), sorted;
** *more = 1 when more follow. */
int vs_reg_list(vs_registry *r, const char *after, uint32_t limit, void (*cb)(void *arg, const vs_summary *s),
                void *arg, int *more);
/* Counts: known collections, open ones. */
void vs_reg_counts(vs_registry *r, uint64_t *collections, uint64_t *open);

/* A reference to an open collection (opens it, possibly closing an idle one). EINVAL for an invalid
** name, VS_ENOCOLLECTION for a valid unknown one, VS_EUNAVAILABLE (every slot busy), or the open's
** error (ECORRUPT, ELOCKED...). */
int vs_coll_acquire(vs_registry *r, const char *name, vs_coll **out, vs_err *e);
void vs_coll_release(vs_registry *r, vs_coll *c);

valori_db *vs_coll_db(vs_coll *c);
const char *vs_coll_name(const vs_coll *c);
void vs_coll_rdlock(vs_coll *c);
void vs_coll_wrlock(vs_coll *c);
void vs_coll_unlock(vs_coll *c);
/* A searcher for this thread's search (shared lock held); give it back with put, always (also a
** NULL one). At most max(2, cores) are out at once per collection: a search beyond that waits for
** one to come back. NULL on ENOMEM (then search with NULL). */
valori_searcher *vs_coll_searcher_get(vs_coll *c);
void vs_coll_searcher_put(vs_coll *c, valori_searcher *s);

/* After a successful write (exclusive lock held): refreshes the summary, returns the new height and
** root. */
void vs_coll_wrote(vs_coll *c, uint64_t *height, uint8_t root[32]);
/* After a failed write (exclusive lock held): if the store is poisoned (the write reached the engine
** but not the log), the collection refuses reads and writes until it is reopened from its log, which
** happens as soon as no request uses it. */
void vs_coll_write_failed(vs_coll *c);
/* 1 while the collection waits to be reopened after a failed write or commit. */
int vs_coll_poisoned(vs_coll *c);
/* The collection's summary now (any lock or none). */
void vs_coll_summary(vs_coll *c, vs_summary *out);
/* 1 when every write up to h is durable. */
int vs_coll_is_durable(vs_coll *c, uint64_t h);
/* Registers w (w->height set) and makes sure a commit covering it runs; w->wake is called exactly
** once, possibly before this returns. */
void vs_coll_add_waiter(vs_registry *r, vs_coll *c, vs_waiter *w);
/* Makes every write durable, then writes a snapshot now (no lock may be held). */
int vs_coll_checkpoint(vs_registry *r, vs_coll *c, uint64_t *snap_height, vs_err *e);
/* valori_check + valori_verify of the files + log end == live state (no lock may be held). */
int vs_coll_verify(vs_registry *r, vs_coll *c, uint64_t *log_height, uint8_t root[32], valori_recovery *rep,
                   vs_err *e);
/* Opens the newest snapshot file: fd (caller closes), size, height, root, chain (from its header).
** VS_ENOSNAPSHOT if none. */
int vs_coll_snapshot_file(vs_registry *r, vs_coll *c, int *fd, uint64_t *size, uint64_t *height, uint8_t root[32],
                          uint8_t chain[32], vs_err *e);

/* ---- replication hooks (docs/REPLICATION.md) */
/* The durable position (height, root, chain): what a leader may offer followers. Any lock or none. */
void vs_coll_durable_pos(vs_coll *c, valori_position *out);
/* Blocks until every write up to h is durable (a group commit covers it); its result. No lock may be
** held. */
int vs_coll_wait_durable(vs_registry *r, vs_coll *c, uint64_t h);
/* 1 once a delete or replace of c waits for its references to go: holders of long-lived references
** (streams, followers) let go. */
int vs_coll_going(vs_coll *c);
/* Changes when the collection's content is replaced (vs_coll_install over an existing one): a
** holder of a cursor over its files must then start again. */
uint64_t vs_coll_generation(vs_coll *c);
/* The collection's store directory. */
void vs_coll_dir(vs_registry *r, const char *name, char *out, size_t cap);
/* Installs a collection built by build(arg, dir) in a fresh hidden directory DATA/.tmp-NAME-N (build
** makes a store there and closes it; it returns a VALORI_* code): when NAME exists it is replaced
** (its references drained as for a delete, then renamed away and removed), else created; the data
** directory is synced, so a crash leaves the old copy or the new one. */
int vs_coll_install(vs_registry *r, const char *name, int (*build)(void *arg, const char *dir), void *arg, vs_err *e);
/* 1 when a collection of that name is known (any state but being created or deleted). */
int vs_coll_exists(vs_registry *r, const char *name);

/* For /metrics: every collection's summary plus its disk bytes and snapshot age in seconds (-1 =
** no snapshot). */
void vs_reg_each(vs_registry *r, void (*cb)(void *arg, const vs_summary *s, uint64_t disk_bytes, double snap_age),
                 void *arg);
/* Bytes of the regular files in a collection's directory. */
uint64_t vs_coll_disk_bytes(vs_registry *r, const char *name);

#endif /* VS_COLLECTION_H */
