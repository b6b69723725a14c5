/*
** store_int.h: private interface of the durable store shared by store.c (runtime: append, sync,
** rotation, HEAD, snapshots), recover.c (open-time recovery, verification, replay to a height),
** store_inspect.c (per-file inspection) and store_api.c (the public functions that need
** valori_db). Formats are in log.h; the contract with api.c is store.h. Hosts never include this:
** everything they need is public in valori.h; tests may.
*/
#ifndef VL_STORE_INT_H
#define VL_STORE_INT_H

#include "log.h"
#include "store.h"

/* Recovery modes. */
typedef struct vl_recover_opts {
  int writable;        /* trim torn tails, remove temp files and torn segment files */
  int create;          /* an empty directory becomes a new store (needs cfg->dim != 0) */
  int verify;          /* start from the oldest possible point, check every snapshot against the
                          replayed root at its height and every segment, report any damage */
  uint64_t to_height;  /* stop replay at this height (UINT64_MAX = the end of the log) */
} vl_recover_opts;

/* What recovery leaves for the store to continue from. */
typedef struct vl_recover_out {
  vl_engine *e;            /* recovered engine (owned by the caller on success) */
  vl_config cfg;
  uint8_t chain[32];       /* chain value at the engine's height */
  int have_tail;           /* the last segment continues at the engine's height: append there */
  uint64_t tail_first;     /* its first height */
  uint64_t tail_end;       /* its valid length in bytes (after trimming) */
  uint64_t *segs;          /* first heights of the segment files kept, ascending */
  size_t nsegs, segcap;
  uint64_t *snaps;         /* heights of the valid snapshot files, ascending */
  size_t nsnaps, snapcap;
  int have_head;           /* HEAD was found and is valid */
  vl_head head;            /* its content */
  valori_recovery rep;
} vl_recover_out;

/* Lists the store, loads the newest valid snapshot (or verifies all of them), replays the log after
** it and classifies any damage. On success out->e holds the engine; on failure out->rep says why,
** and nothing is left allocated. cfg may be NULL (use the stored configuration). */
int vl_store_recover(const valori_allocator *a, const valori_vfs *vfs, const vl_config *cfg,
                     const vl_recover_opts *o, vl_recover_out *out);
/* Frees the arrays of a recover_out (not the engine). */
void vl_recover_out_free(const valori_allocator *a, vl_recover_out *out);

/* Sets a report's error fields (file may be NULL). Returns code. */
int vl_report_error(valori_recovery *rep, int code, const char *file, uint64_t off, uint64_t height,
                    const char *detail);
void vl_report_init(valori_recovery *rep);

/* Reads a whole file into buf (replacing its content). ENOTFOUND when missing. */
int vl_read_file(const valori_vfs *vfs, const char *name, vl_buf *buf);
/* Copies a file name into a 64-byte report field (truncated; NULL gives ""). */
void vl_copy_name(char dst[64], const char *src);
/* Insertion sort of heights (listings are short; the order must not depend on the VFS). */
void vl_u64_sort(uint64_t *v, size_t n);

/* Publishes a small file atomically: name.tmp written, synced, closed, renamed over name, directory
** synced (the rule of docs/STORAGE.md for snapshots and HEAD). On failure the temp file is
** removed (best effort) and `name` is the old file or the new one, never a mixture. */
int vl_publish_file(const valori_vfs *vfs, const char *tmp, const char *name, const uint8_t *data, size_t len);

struct vl_store {
  const valori_allocator *a;
  const valori_vfs *vfs;
  vl_store_opts o;         /* o.flags & VALORI_OPEN_READONLY: opened read-only (no lock, no writes) */
  vl_config cfg;
  int locked;
  int poisoned;            /* the one owner of "poisoned" (vl_store_poisoned): a failed write or
                              sync; appends refused until reopened */
  int have_head;           /* head holds what HEAD says on disk (known durable) */
  vl_head head;
  int last_head_error;     /* result of the last HEAD write at a rotation (OK if none failed) */
  uint64_t head_failures;
  uint64_t proven_height;  /* HEAD's floor or the newest snapshot, whichever is higher */
  uint32_t proven_by;      /* VALORI_PROOF_* */
  valori_file *seg;        /* the tail segment, open for appending (NULL when none yet) */
  uint64_t seg_first;      /* its first height */
  uint64_t seg_size;       /* bytes written to it */
  uint64_t seg_synced;     /* bytes of it known durable */
  uint64_t height;         /* height of the last appended record (or recovered height) */
  uint64_t synced_height;  /* every record up to here is durable */
  uint8_t chain[32];       /* chain value at `height` */
  uint64_t since_snapshot; /* appends since the last snapshot (or failed attempt) */
  uint64_t *segs;          /* first heights of the segment files, ascending (tail included) */
  size_t nsegs, segcap;
  uint64_t *snaps;         /* heights of the published snapshots, ascending */
  size_t nsnaps, snapcap;
  valori_recovery rep;
  int last_snapshot_error; /* result of the last automatic snapshot */
  uint64_t snapshot_failures;
  unsigned sync_inflight;  /* commit tickets between begin and end (valori_commit_*) */
  valori_file *retired[4]; /* segments rotated away while a ticket may still sync them */
  unsigned nretired;
};

/* Group commit with the sync outside the writer's lock (valori.h valori_commit_*): begin under the
** exclusive lock captures the tail segment, its size and height; run syncs that file with no lock
** held (other writers keep appending; readers keep reading); end under the exclusive lock records
** the durable point, or poisons the store when the sync failed. Rotation never closes a segment a
** ticket may still be syncing: it is retired and closed when the last ticket ends. */
int vl_store_commit_begin(vl_store *s, valori_commit *c);
int vl_store_commit_run(const vl_store *s, valori_commit *c);
int vl_store_commit_end(vl_store *s, valori_commit *c, int run_rc);

/* A snapshot in flight (the public valori_snapjob). */
typedef struct valori_snapjob vl_snapjob;
struct valori_snapjob {
  uint64_t height;
  uint8_t root[32];
  uint8_t chain[32];
  vl_config cfg;
  vl_buf file;      /* header + payload, ready to write */
  int written;      /* write step succeeded: the file is published and durable */
};

/* Snapshot steps (see valori.h valori_snapshot_begin): prepare needs the engine quiescent and at the
** store's height; write touches only the VFS and new files; finish updates the store. */
int vl_store_snapshot_prepare(const vl_store *s, const vl_engine *e, vl_snapjob **out);
int vl_store_snapshot_write(const vl_store *s, vl_snapjob *job);
int vl_store_snapshot_finish(vl_store *s, vl_snapjob *job, int write_rc);

/* The public handle's helpers. */
const valori_recovery *vl_store_report(const vl_store *s);
void vl_store_status_get(const vl_store *s, valori_store_status *out);

/* valori_bootstrap's store: takes the lock, requires a directory without segments, snapshots or
** HEAD (else EEXIST; leftover temp files are removed), publishes `file` (already fully checked by
** the caller, header h) as snap-<h>.vsnap (not for height 0), creates log-<h+1>.vlog with the
** snapshot's chain and HEAD with the floor h. On failure the files it wrote are removed and the
** lock released; *rep says why. */
int vl_store_bootstrap(const valori_allocator *a, const valori_vfs *vfs, const vl_store_opts *o, const vl_snap_hdr *h,
                       const uint8_t *file, size_t len, vl_store **out, valori_recovery *rep);

/* Variant of vl_store_open that also fills *rep (may be NULL) whether or not the open succeeds. */
int vl_store_open_report(const valori_allocator *a, const valori_vfs *vfs, const vl_config *cfg,
                         const vl_store_opts *o, vl_store **store, vl_engine **engine,
                         valori_recovery *rep);

#endif /* VL_STORE_INT_H */
