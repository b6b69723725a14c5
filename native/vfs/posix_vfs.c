/*
** posix_vfs.c: the valori_vfs over a POSIX directory (valori_native.h). Every file is opened
** relative to the directory's descriptor, so a store keeps working if its path is renamed, and
** nothing here ever follows a name outside it. Durability: sync = fdatasync (Linux) or fsync, which
** covers data and size; sync_dir = fsync of the directory descriptor, which covers creates,
** renames and removes. Errors map to VALORI_* codes; EINTR is retried everywhere.
*/
#define _DEFAULT_SOURCE 1
#define _XOPEN_SOURCE 700
#define _POSIX_C_SOURCE 200809L

#include "valori_native.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif
#ifndef O_DIRECTORY
#define O_DIRECTORY 0
#endif

typedef struct px_vfs {
  valori_vfs vfs;
  int dirfd;
  int lockfd; /* -1 when not held */
} px_vfs;

struct valori_file {
  int fd;
};

/* Maps errno after a failed call to a VALORI code. */
static int px_err(int e) {
  switch (e) {
    case ENOENT: return VALORI_ENOTFOUND;
    case EEXIST: return VALORI_EEXIST;
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
      return VALORI_ENOSPC;
    case ENOMEM: return VALORI_ENOMEM;
    case EROFS:
    case EACCES:
    case EPERM: return VALORI_EREADONLY;
    default: return VALORI_EIO;
  }
}

/* A name the store may use: non-empty, no '/', not "." or "..". */
static int px_name_ok(const char *p) {
  return p && p[0] && !strchr(p, '/') && strcmp(p, ".") != 0 && strcmp(p, "..") != 0;
}

static int px_open(void *ctx, const char *path, unsigned flags, valori_file **out) {
  px_vfs *v = (px_vfs *)ctx;
  int of = O_CLOEXEC, fd;
  valori_file *f;
  if (!px_name_ok(path)) return VALORI_EINVAL;
  of |= (flags & VALORI_VFS_WRITE) ? O_RDWR : O_RDONLY;
  if (flags & VALORI_VFS_CREATE) of |= O_CREAT;
  if (flags & VALORI_VFS_EXCL) of |= O_EXCL;
  if (flags & VALORI_VFS_TRUNC) of |= O_TRUNC;
  do fd = openat(v->dirfd, path, of, 0644);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return px_err(errno);
  f = (valori_file *)malloc(sizeof *f);
  if (!f) {
    close(fd);
    return VALORI_ENOMEM;
  }
  f->fd = fd;
  *out = f;
  return VALORI_OK;
}

static int px_close(void *ctx, valori_file *f) {
  int rc = VALORI_OK;
  (void)ctx;
  /* close() is not retried on EINTR: on Linux the descriptor is released either way. */
  if (close(f->fd) != 0 && errno != EINTR) rc = px_err(errno);
  free(f);
  return rc;
}

static int px_read(void *ctx, valori_file *f, uint64_t off, void *buf, size_t n, size_t *got) {
  size_t k = 0;
  (void)ctx;
  while (k < n) {
    ssize_t r = pread(f->fd, (char *)buf + k, n - k, (off_t)(off + k));
    if (r < 0) {
      if (errno == EINTR) continue;
      return px_err(errno);
    }
    if (r == 0) break;
    k += (size_t)r;
  }
  *got = k;
  return VALORI_OK;
}

static int px_write(void *ctx, valori_file *f, uint64_t off, const void *buf, size_t n) {
  size_t k = 0;
  (void)ctx;
  while (k < n) {
    ssize_t r = pwrite(f->fd, (const char *)buf + k, n - k, (off_t)(off + k));
    if (r < 0) {
      if (errno == EINTR) continue;
      return px_err(errno);
    }
    if (r == 0) return VALORI_EIO;
    k += (size_t)r;
  }
  return VALORI_OK;
}

static int px_fsync_fd(int fd) {
  int r;
#if defined(__linux__)
  do r = fdatasync(fd);
  while (r != 0 && errno == EINTR);
#else
  do r = fsync(fd);
  while (r != 0 && errno == EINTR);
#endif
  return r == 0 ? VALORI_OK : px_err(errno);
}

static int px_sync(void *ctx, valori_file *f) {
  (void)ctx;
  return px_fsync_fd(f->fd);
}

static int px_size(void *ctx, valori_file *f, uint64_t *out) {
  struct stat st;
  (void)ctx;
  if (fstat(f->fd, &st) != 0) return px_err(errno);
  *out = (uint64_t)st.st_size;
  return VALORI_OK;
}

static int px_truncate(void *ctx, valori_file *f, uint64_t size) {
  int r;
  (void)ctx;
  do r = ftruncate(f->fd, (off_t)size);
  while (r != 0 && errno == EINTR);
  return r == 0 ? VALORI_OK : px_err(errno);
}

/* LOCK is never removed or renamed by anyone (docs/STORAGE.md "Single writer"): a process that
** opened the old inode would lock a different file than a newcomer. */
static int px_is_lock(const char *p) { return strcmp(p, "LOCK") == 0; }

static int px_rename(void *ctx, const char *from, const char *to) {
  px_vfs *v = (px_vfs *)ctx;
  if (!px_name_ok(from) || !px_name_ok(to) || px_is_lock(from) || px_is_lock(to)) return VALORI_EINVAL;
  return renameat(v->dirfd, from, v->dirfd, to) == 0 ? VALORI_OK : px_err(errno);
}

static int px_remove(void *ctx, const char *path) {
  px_vfs *v = (px_vfs *)ctx;
  if (!px_name_ok(path) || px_is_lock(path)) return VALORI_EINVAL;
  return unlinkat(v->dirfd, path, 0) == 0 ? VALORI_OK : px_err(errno);
}

static int px_sync_dir(void *ctx) {
  px_vfs *v = (px_vfs *)ctx;
  int r;
  do r = fsync(v->dirfd);
  while (r != 0 && errno == EINTR);
  return r == 0 ? VALORI_OK : px_err(errno);
}

static int px_list(void *ctx, int (*cb)(void *arg, const char *name), void *arg) {
  px_vfs *v = (px_vfs *)ctx;
  int fd = openat(v->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = VALORI_OK;
  DIR *d;
  struct dirent *e;
  if (fd < 0) return px_err(errno);
  d = fdopendir(fd);
  if (!d) {
    rc = px_err(errno);
    close(fd);
    return rc;
  }
  for (;;) {
    struct stat st;
    errno = 0;
    e = readdir(d);
    if (!e) {
      if (errno) rc = px_err(errno);
      break;
    }
    if (e->d_name[0] == '.') continue;
#ifdef DT_REG
    if (e->d_type != DT_UNKNOWN) {
      if (e->d_type != DT_REG) continue;
    } else
#endif
    if (fstatat(v->dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    rc = cb(arg, e->d_name);
    if (rc != VALORI_OK) break;
  }
  closedir(d);
  return rc;
}

static int px_lock(void *ctx) {
  px_vfs *v = (px_vfs *)ctx;
  int fd, r;
  char pid[32];
  if (v->lockfd >= 0) return VALORI_ELOCKED;
  do fd = openat(v->dirfd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return px_err(errno);
  do r = flock(fd, LOCK_EX | LOCK_NB);
  while (r != 0 && errno == EINTR);
  if (r != 0) {
    int e = errno;
    close(fd);
    return (e == EWOULDBLOCK || e == EAGAIN) ? VALORI_ELOCKED : px_err(e);
  }
  /* the holder's pid and host kind, for people reading the directory; never used for locking
  ** (docs/STORAGE.md "Single writer": the flock is the lock; LOCK is never removed or renamed) */
  r = snprintf(pid, sizeof pid, "%ld native\n", (long)getpid());
  if (ftruncate(fd, 0) == 0 && r > 0) {
    ssize_t w = pwrite(fd, pid, (size_t)r, 0);
    (void)w;
  }
  v->lockfd = fd;
  return VALORI_OK;
}

static int px_unlock(void *ctx) {
  px_vfs *v = (px_vfs *)ctx;
  if (v->lockfd < 0) return VALORI_OK;
  flock(v->lockfd, LOCK_UN);
  close(v->lockfd);
  v->lockfd = -1;
  return VALORI_OK;
}

/* Syncs the parent directory of path (after creating path). */
static void px_sync_parent(const char *dir) {
  char *p = strdup(dir), *slash;
  int fd;
  if (!p) return;
  while (strlen(p) > 1 && p[strlen(p) - 1] == '/') p[strlen(p) - 1] = '\0';
  slash = strrchr(p, '/');
  if (!slash) strcpy(p, ".");
  else if (slash == p) p[1] = '\0';
  else *slash = '\0';
  fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  free(p);
}

int valori_posix_vfs_open(const char *dir, int create, valori_vfs **out) {
  px_vfs *v;
  int fd;
  if (!dir || !dir[0] || !out) return VALORI_EINVAL;
  if (create) {
    if (mkdir(dir, 0755) == 0) px_sync_parent(dir);
    else if (errno != EEXIST) return px_err(errno);
  }
  do fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return px_err(errno);
  v = (px_vfs *)calloc(1, sizeof *v);
  if (!v) {
    close(fd);
    return VALORI_ENOMEM;
  }
  v->dirfd = fd;
  v->lockfd = -1;
  v->vfs.ctx = v;
  v->vfs.open = px_open;
  v->vfs.close = px_close;
  v->vfs.read = px_read;
  v->vfs.write = px_write;
  v->vfs.sync = px_sync;
  v->vfs.size = px_size;
  v->vfs.truncate = px_truncate;
  v->vfs.rename = px_rename;
  v->vfs.remove = px_remove;
  v->vfs.sync_dir = px_sync_dir;
  v->vfs.list = px_list;
  v->vfs.lock = px_lock;
  v->vfs.unlock = px_unlock;
  *out = &v->vfs;
  return VALORI_OK;
}

void valori_posix_vfs_close(valori_vfs *vfs) {
  px_vfs *v;
  if (!vfs) return;
  v = (px_vfs *)vfs->ctx;
  px_unlock(v);
  close(v->dirfd);
  free(v);
}
