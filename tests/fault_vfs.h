/*
** fault_vfs.h: an in-memory valori_vfs that models durability precisely, for crash and I/O-error
** tests (SQLite's crash VFS and TigerBeetle's simulator are the models).
**
** Model. Every file has a durable image and a list of operations (writes, truncations) made since
** its last successful sync. The directory likewise has a durable listing and the creates, renames
** and removes made since the last sync_dir. Reads see everything (the page cache).
** A crash image (fv_crash_image) starts from the durable state and resolves each pending
** operation independently from a seed: file writes are kept, dropped or garbled (a torn prefix,
** flipped bytes, or random bytes), truncations kept or dropped, directory operations kept or
** dropped (in order; a kept rename or remove acts on the inode the name held at the call, as on a
** real file system, and a remove whose name now holds another inode no longer applies). So
** unsynced operations lose their order as ALICE (OSDI'14) showed real file systems do.
**
** Faults. The n-th call of an operation kind can fail, once or from then on, with any code
** (EIO, ENOSPC). A failed sync follows Linux after fsyncgate: the pending writes are resolved as
** in a crash (kept, dropped or garbled) both on "disk" and in the page cache, and the error is
** reported. fv_crash_at_sync(n) makes the n-th sync point (file sync or sync_dir) the moment of a
** crash: the image is captured just before it, and every later call fails with EIO, so the
** workload that is still running acknowledges nothing more.
*/
#ifndef FAULT_VFS_H
#define FAULT_VFS_H

#include <stdint.h>

#include "valori.h"

typedef struct fv_fs fv_fs;

enum {
  FV_OPEN, FV_CLOSE, FV_READ, FV_WRITE, FV_SYNC, FV_SIZE, FV_TRUNC, FV_RENAME, FV_REMOVE,
  FV_SYNCDIR, FV_LIST, FV_LOCK, FV_NKINDS
};

/* A new, empty file system. The seed drives every random choice (fv_crash_image has its own). */
fv_fs *fv_new(uint64_t seed);
void fv_free(fv_fs *fs);
/* The vtable bound to fs (valid until fv_free). */
const valori_vfs *fv_vfs(fv_fs *fs);

/* The state after a crash right now: a new file system (free it with fv_free). */
fv_fs *fv_crash_image(const fv_fs *fs, uint64_t seed);
/* A copy in which every pending operation is kept (a clean shutdown of the machine). */
fv_fs *fv_clone_synced(const fv_fs *fs);

/* Makes the n-th call (1-based, counted from now) of `kind` fail with code; persistent: that call
** and every later one of that kind fail. n == 0 clears the fault. */
void fv_fail(fv_fs *fs, int kind, uint64_t n, int persistent, int code);
/* Crash before the n-th sync point (1-based, counted from now; file syncs and sync_dir). */
void fv_crash_at_sync(fv_fs *fs, uint64_t n, uint64_t seed);
/* The image captured by fv_crash_at_sync (NULL if the crash point was not reached); ownership
** passes to the caller. */
fv_fs *fv_take_crash(fv_fs *fs);
/* 1 once the crash point was reached (all calls now fail). */
int fv_crashed(const fv_fs *fs);

/* Calls of each kind so far. */
uint64_t fv_calls(const fv_fs *fs, int kind);
/* Sync points so far (file syncs + sync_dir). */
uint64_t fv_sync_points(const fv_fs *fs);

/* Direct access for corruption tests: the current content of a file (NULL if missing), and
** replacing it (durably). */
const uint8_t *fv_file_data(const fv_fs *fs, const char *name, size_t *len);
int fv_file_set(fv_fs *fs, const char *name, const uint8_t *data, size_t len);
int fv_file_exists(const fv_fs *fs, const char *name);
/* Calls cb for every file name in the current listing (sorted). */
void fv_list_names(const fv_fs *fs, void (*cb)(void *arg, const char *name), void *arg);
/* Bytes written by writes not yet synced, across all files (0 when everything is durable). */
uint64_t fv_pending_bytes(const fv_fs *fs);

#endif /* FAULT_VFS_H */
