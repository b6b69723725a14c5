/*
** valori_native.h: native (POSIX) services for Valori: the filesystem VFS a durable store runs on.
**
** The POSIX VFS binds a valori_vfs to one directory. It opens files relative to that directory
** (openat, O_CLOEXEC), retries on EINTR, completes short reads and writes, makes data durable with
** fdatasync/fsync and renames/creates/removes durable with an fsync of the directory, maps ENOSPC
** and EDQUOT to VALORI_ENOSPC, and implements the single-writer lock with flock() on the file
** LOCK in the directory. flock locks belong to an open file description, so a second open of the
** same directory fails with VALORI_ELOCKED even inside the same process; the kernel releases the
** lock when the process dies (kill -9 included), so no stale lock needs cleaning.
*/
#ifndef VALORI_NATIVE_H
#define VALORI_NATIVE_H

#include "valori.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Binds a VFS to `dir`. create: make the directory when missing (mode 0755, its parent synced).
** *out stays valid until valori_posix_vfs_close; it may be used by one valori_db at a time (the
** lock lives in the VFS). VALORI_ENOTFOUND when dir is missing and create is 0, VALORI_EIO for
** other errors, VALORI_ENOMEM. */
int valori_posix_vfs_open(const char *dir, int create, valori_vfs **out);
/* Releases the lock if still held and frees the VFS. NULL is a no-op. */
void valori_posix_vfs_close(valori_vfs *vfs);

#ifdef __cplusplus
}
#endif
#endif /* VALORI_NATIVE_H */
