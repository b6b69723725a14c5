/*
** fault_vfs.c: the in-memory durability-modelling VFS of the crash and I/O-error tests (the model
** is described in fault_vfs.h). Test code: it uses the C library allocator directly and aborts on
** its own allocation failures, so that the allocator under test is only the library's.
*/
#include "fault_vfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FV_NAME 64

typedef struct fv_bytes {
  uint8_t *p;
  size_t len, cap;
} fv_bytes;

typedef struct fv_op {
  int trunc;      /* 1: truncate to off; 0: write n bytes at off */
  uint64_t off;
  uint8_t *data;
  size_t n;
} fv_op;

typedef struct fv_inode {
  fv_bytes durable, cur;
  fv_op *ops;
  size_t nops, opcap;
  struct fv_inode *next; /* all inodes of a file system, for freeing */
  struct fv_inode *copy; /* scratch while building a crash image */
} fv_inode;

typedef struct fv_dirent {
  char name[FV_NAME];
  fv_inode *ino;
} fv_dirent;

typedef struct fv_dir {
  fv_dirent *e;
  size_t n, cap;
} fv_dir;

enum { FV_DCREATE, FV_DRENAME, FV_DREMOVE };
typedef struct fv_dirop {
  int kind;
  char a[FV_NAME], b[FV_NAME];
  fv_inode *ino;
} fv_dirop;

struct fv_fs {
  valori_vfs vfs;
  fv_dir cur, durable;
  fv_dirop *dops;
  size_t ndops, dopcap;
  fv_inode *inodes;
  uint64_t rng;
  uint64_t calls[FV_NKINDS];
  uint64_t fail_at[FV_NKINDS];
  int fail_persist[FV_NKINDS];
  int fail_code[FV_NKINDS];
  uint64_t syncpoints, crash_at, crash_seed;
  fv_fs *crash_img;
  int dead;
  int locked;
};

struct valori_file {
  fv_fs *fs;
  fv_inode *ino;
  unsigned flags;
};

static void *fv_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) { fprintf(stderr, "fault_vfs: out of memory\n"); abort(); }
  return p;
}
static void *fv_xrealloc(void *q, size_t n) {
  void *p = realloc(q, n ? n : 1);
  if (!p) { fprintf(stderr, "fault_vfs: out of memory\n"); abort(); }
  return p;
}

static uint64_t fv_rand(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* ---- byte strings */
static void fv_bytes_reserve(fv_bytes *b, size_t n) {
  if (n <= b->cap) return;
  {
    size_t nc = b->cap ? b->cap : 64;
    while (nc < n) nc *= 2;
    b->p = (uint8_t *)fv_xrealloc(b->p, nc);
    b->cap = nc;
  }
}
static void fv_bytes_write(fv_bytes *b, uint64_t off, const uint8_t *d, size_t n) {
  size_t end = (size_t)off + n;
  fv_bytes_reserve(b, end);
  if (off > b->len) memset(b->p + b->len, 0, (size_t)off - b->len);
  memcpy(b->p + off, d, n);
  if (end > b->len) b->len = end;
}
static void fv_bytes_trunc(fv_bytes *b, uint64_t size) {
  if (size <= b->len) { b->len = (size_t)size; return; }
  fv_bytes_reserve(b, (size_t)size);
  memset(b->p + b->len, 0, (size_t)size - b->len);
  b->len = (size_t)size;
}
static void fv_bytes_copy(fv_bytes *dst, const fv_bytes *src) {
  dst->len = 0;
  fv_bytes_reserve(dst, src->len);
  if (src->len) memcpy(dst->p, src->p, src->len);
  dst->len = src->len;
}

/* ---- inodes */
static fv_inode *fv_inode_new(fv_fs *fs) {
  fv_inode *i = (fv_inode *)fv_xmalloc(sizeof *i);
  memset(i, 0, sizeof *i);
  i->next = fs->inodes;
  fs->inodes = i;
  return i;
}
static void fv_ops_clear(fv_inode *i) {
  size_t k;
  for (k = 0; k < i->nops; k++) free(i->ops[k].data);
  i->nops = 0;
}
static void fv_op_push(fv_inode *i, int trunc, uint64_t off, const uint8_t *d, size_t n) {
  fv_op *o;
  if (i->nops == i->opcap) {
    i->opcap = i->opcap ? i->opcap * 2 : 8;
    i->ops = (fv_op *)fv_xrealloc(i->ops, i->opcap * sizeof *i->ops);
  }
  o = &i->ops[i->nops++];
  o->trunc = trunc;
  o->off = off;
  o->n = n;
  o->data = NULL;
  if (!trunc) {
    o->data = (uint8_t *)fv_xmalloc(n);
    memcpy(o->data, d, n);
  }
}
/* Applies the pending ops of i onto `into` (a copy of the durable bytes), each kept, dropped or
** garbled from the seed. */
static void fv_resolve(const fv_inode *i, fv_bytes *into, uint64_t *rng) {
  size_t k;
  for (k = 0; k < i->nops; k++) {
    const fv_op *o = &i->ops[k];
    unsigned r = (unsigned)(fv_rand(rng) % 4u);
    if (o->trunc) {
      if (r < 2) fv_bytes_trunc(into, o->off);
      continue;
    }
    if (r == 0 || r == 1) {
      fv_bytes_write(into, o->off, o->data, o->n); /* kept */
    } else if (r == 2) {
      /* dropped */
    } else if (o->n > 0) {
      /* garbled: a torn prefix, flipped bytes in a range, or random bytes */
      uint8_t *g = (uint8_t *)fv_xmalloc(o->n);
      size_t n = o->n, a, b, j;
      memcpy(g, o->data, n);
      switch (fv_rand(rng) % 3u) {
        case 0:
          n = (size_t)(fv_rand(rng) % o->n);
          break;
        case 1:
          a = (size_t)(fv_rand(rng) % o->n);
          b = a + 1 + (size_t)(fv_rand(rng) % (o->n - a));
          for (j = a; j < b; j++) g[j] ^= (uint8_t)(1u + fv_rand(rng) % 255u);
          break;
        default:
          for (j = 0; j < n; j++) g[j] = (uint8_t)fv_rand(rng);
          break;
      }
      if (n) fv_bytes_write(into, o->off, g, n);
      free(g);
    }
  }
}

/* ---- directories */
static fv_dirent *fv_dir_find(const fv_dir *d, const char *name) {
  size_t k;
  for (k = 0; k < d->n; k++)
    if (strcmp(d->e[k].name, name) == 0) return &d->e[k];
  return NULL;
}
static void fv_dir_set(fv_dir *d, const char *name, fv_inode *ino) {
  fv_dirent *e = fv_dir_find(d, name);
  if (e) { e->ino = ino; return; }
  if (d->n == d->cap) {
    d->cap = d->cap ? d->cap * 2 : 16;
    d->e = (fv_dirent *)fv_xrealloc(d->e, d->cap * sizeof *d->e);
  }
  e = &d->e[d->n++];
  snprintf(e->name, FV_NAME, "%s", name);
  e->ino = ino;
}
static void fv_dir_del(fv_dir *d, const char *name) {
  fv_dirent *e = fv_dir_find(d, name);
  if (!e) return;
  *e = d->e[--d->n];
}
static void fv_dir_copy(fv_dir *dst, const fv_dir *src) {
  dst->n = 0;
  if (src->n > dst->cap) {
    dst->cap = src->n;
    dst->e = (fv_dirent *)fv_xrealloc(dst->e, dst->cap * sizeof *dst->e);
  }
  if (src->n) memcpy(dst->e, src->e, src->n * sizeof *src->e);
  dst->n = src->n;
}
static void fv_dop_push(fv_fs *fs, int kind, const char *a, const char *b, fv_inode *ino) {
  fv_dirop *o;
  if (fs->ndops == fs->dopcap) {
    fs->dopcap = fs->dopcap ? fs->dopcap * 2 : 16;
    fs->dops = (fv_dirop *)fv_xrealloc(fs->dops, fs->dopcap * sizeof *fs->dops);
  }
  o = &fs->dops[fs->ndops++];
  o->kind = kind;
  snprintf(o->a, FV_NAME, "%s", a);
  snprintf(o->b, FV_NAME, "%s", b ? b : "");
  o->ino = ino;
}

/* ---- faults */
/* Counts a call of kind; returns the injected code or VALORI_OK. */
static int fv_enter(fv_fs *fs, int kind) {
  uint64_t c = ++fs->calls[kind];
  if (fs->dead && kind != FV_CLOSE && kind != FV_LOCK) return VALORI_EIO;
  if (fs->fail_at[kind] && (c == fs->fail_at[kind] || (fs->fail_persist[kind] && c > fs->fail_at[kind])))
    return fs->fail_code[kind];
  return VALORI_OK;
}

/* A sync point: crash here when asked. Returns EIO when the crash happened. */
static int fv_syncpoint(fv_fs *fs) {
  if (fs->dead) return VALORI_EIO;
  fs->syncpoints++;
  if (fs->crash_at && fs->syncpoints == fs->crash_at) {
    fs->crash_img = fv_crash_image(fs, fs->crash_seed);
    fs->dead = 1;
    return VALORI_EIO;
  }
  return VALORI_OK;
}

/* ---- the vtable */
static int fv_open(void *ctx, const char *path, unsigned flags, valori_file **out) {
  fv_fs *fs = (fv_fs *)ctx;
  fv_dirent *e;
  fv_inode *ino;
  valori_file *f;
  int rc = fv_enter(fs, FV_OPEN);
  if (rc) return rc;
  if (strlen(path) >= FV_NAME || strchr(path, '/')) return VALORI_EINVAL;
  e = fv_dir_find(&fs->cur, path);
  if (e && (flags & VALORI_VFS_CREATE) && (flags & VALORI_VFS_EXCL)) return VALORI_EEXIST;
  if (!e) {
    if (!(flags & VALORI_VFS_CREATE)) return VALORI_ENOTFOUND;
    ino = fv_inode_new(fs);
    fv_dir_set(&fs->cur, path, ino);
    fv_dop_push(fs, FV_DCREATE, path, NULL, ino);
  } else {
    ino = e->ino;
  }
  if ((flags & VALORI_VFS_TRUNC) && ino->cur.len) {
    fv_bytes_trunc(&ino->cur, 0);
    fv_op_push(ino, 1, 0, NULL, 0);
  }
  f = (valori_file *)fv_xmalloc(sizeof *f);
  f->fs = fs;
  f->ino = ino;
  f->flags = flags;
  *out = f;
  return VALORI_OK;
}

static int fv_close(void *ctx, valori_file *f) {
  fv_fs *fs = (fv_fs *)ctx;
  int rc = fv_enter(fs, FV_CLOSE);
  free(f);
  return rc;
}

static int fv_read(void *ctx, valori_file *f, uint64_t off, void *buf, size_t n, size_t *got) {
  fv_fs *fs = (fv_fs *)ctx;
  size_t k = 0;
  int rc = fv_enter(fs, FV_READ);
  if (rc) return rc;
  if (off < f->ino->cur.len) {
    k = f->ino->cur.len - (size_t)off;
    if (k > n) k = n;
    memcpy(buf, f->ino->cur.p + off, k);
  }
  *got = k;
  return VALORI_OK;
}

static int fv_write(void *ctx, valori_file *f, uint64_t off, const void *buf, size_t n) {
  fv_fs *fs = (fv_fs *)ctx;
  int rc = fv_enter(fs, FV_WRITE);
  if (!(f->flags & VALORI_VFS_WRITE)) return VALORI_EINVAL;
  if (rc) {
    /* a failing write may still have written a prefix */
    if (!fs->dead && n > 1) {
      size_t part = (size_t)(fv_rand(&fs->rng) % n);
      if (part) {
        fv_bytes_write(&f->ino->cur, off, (const uint8_t *)buf, part);
        fv_op_push(f->ino, 0, off, (const uint8_t *)buf, part);
      }
    }
    return rc;
  }
  if (n == 0) return VALORI_OK;
  fv_bytes_write(&f->ino->cur, off, (const uint8_t *)buf, n);
  fv_op_push(f->ino, 0, off, (const uint8_t *)buf, n);
  return VALORI_OK;
}

static int fv_sync(void *ctx, valori_file *f) {
  fv_fs *fs = (fv_fs *)ctx;
  int rc = fv_enter(fs, FV_SYNC);
  if (rc == VALORI_OK) rc = fv_syncpoint(fs);
  else if (!fs->dead) fs->syncpoints++;
  if (rc) {
    if (!fs->dead) {
      /* fsyncgate: the pending writes are resolved as in a crash, on disk and in the cache */
      fv_bytes img = {NULL, 0, 0};
      fv_bytes_copy(&img, &f->ino->durable);
      fv_resolve(f->ino, &img, &fs->rng);
      fv_bytes_copy(&f->ino->durable, &img);
      fv_bytes_copy(&f->ino->cur, &img);
      free(img.p);
      fv_ops_clear(f->ino);
    }
    return rc;
  }
  fv_bytes_copy(&f->ino->durable, &f->ino->cur);
  fv_ops_clear(f->ino);
  return VALORI_OK;
}

static int fv_size(void *ctx, valori_file *f, uint64_t *out) {
  fv_fs *fs = (fv_fs *)ctx;
  int rc = fv_enter(fs, FV_SIZE);
  if (rc) return rc;
  *out = f->ino->cur.len;
  return VALORI_OK;
}

static int fv_truncate(void *ctx, valori_file *f, uint64_t size) {
  fv_fs *fs = (fv_fs *)ctx;
  int rc = fv_enter(fs, FV_TRUNC);
  if (rc) return rc;
  fv_bytes_trunc(&f->ino->cur, size);
  fv_op_push(f->ino, 1, size, NULL, 0);
  return VALORI_OK;
}

static int fv_rename(void *ctx, const char *from, const char *to) {
  fv_fs *fs = (fv_fs *)ctx;
  fv_dirent *e;
  fv_inode *ino;
  int rc = fv_enter(fs, FV_RENAME);
  if (rc) return rc;
  e = fv_dir_find(&fs->cur, from);
  if (!e) return VALORI_ENOTFOUND;
  ino = e->ino;
  fv_dir_del(&fs->cur, from);
  fv_dir_set(&fs->cur, to, ino);
  fv_dop_push(fs, FV_DRENAME, from, to, ino);
  return VALORI_OK;
}

static int fv_remove(void *ctx, const char *path) {
  fv_fs *fs = (fv_fs *)ctx;
  fv_dirent *e;
  fv_inode *ino;
  int rc = fv_enter(fs, FV_REMOVE);
  if (rc) return rc;
  e = fv_dir_find(&fs->cur, path);
  if (!e) return VALORI_ENOTFOUND;
  ino = e->ino;
  fv_dir_del(&fs->cur, path);
  fv_dop_push(fs, FV_DREMOVE, path, NULL, ino);
  return VALORI_OK;
}

static int fv_sync_dir(void *ctx) {
  fv_fs *fs = (fv_fs *)ctx;
  int rc = fv_enter(fs, FV_SYNCDIR);
  if (rc == VALORI_OK) rc = fv_syncpoint(fs);
  else if (!fs->dead) fs->syncpoints++;
  if (rc) return rc;
  fv_dir_copy(&fs->durable, &fs->cur);
  fs->ndops = 0;
  return VALORI_OK;
}

static int fv_cmp_name(const void *a, const void *b) {
  return strcmp(((const fv_dirent *)a)->name, ((const fv_dirent *)b)->name);
}

static int fv_list(void *ctx, int (*cb)(void *arg, const char *name), void *arg) {
  fv_fs *fs = (fv_fs *)ctx;
  size_t k, n = fs->cur.n;
  fv_dirent *copy;
  int rc = fv_enter(fs, FV_LIST);
  if (rc) return rc;
  /* deliberately not sorted: the store must not depend on listing order */
  copy = (fv_dirent *)fv_xmalloc((n ? n : 1) * sizeof *copy);
  if (n) memcpy(copy, fs->cur.e, n * sizeof *copy);
  for (k = 0; k < n && rc == VALORI_OK; k++) rc = cb(arg, copy[n - 1 - k].name);
  free(copy);
  return rc;
}

static int fv_lock(void *ctx) {
  fv_fs *fs = (fv_fs *)ctx;
  int rc = fv_enter(fs, FV_LOCK);
  if (rc) return rc;
  if (fs->locked) return VALORI_ELOCKED;
  fs->locked = 1;
  return VALORI_OK;
}

static int fv_unlock(void *ctx) {
  fv_fs *fs = (fv_fs *)ctx;
  fs->locked = 0;
  return VALORI_OK;
}

/* ---- public */
fv_fs *fv_new(uint64_t seed) {
  fv_fs *fs = (fv_fs *)fv_xmalloc(sizeof *fs);
  memset(fs, 0, sizeof *fs);
  fs->rng = seed ^ 0x5EEDF00Dull;
  fs->vfs.ctx = fs;
  fs->vfs.open = fv_open;
  fs->vfs.close = fv_close;
  fs->vfs.read = fv_read;
  fs->vfs.write = fv_write;
  fs->vfs.sync = fv_sync;
  fs->vfs.size = fv_size;
  fs->vfs.truncate = fv_truncate;
  fs->vfs.rename = fv_rename;
  fs->vfs.remove = fv_remove;
  fs->vfs.sync_dir = fv_sync_dir;
  fs->vfs.list = fv_list;
  fs->vfs.lock = fv_lock;
  fs->vfs.unlock = fv_unlock;
  return fs;
}

void fv_free(fv_fs *fs) {
  fv_inode *i, *n;
  if (!fs) return;
  for (i = fs->inodes; i; i = n) {
    n = i->next;
    fv_ops_clear(i);
    free(i->ops);
    free(i->durable.p);
    free(i->cur.p);
    free(i);
  }
  free(fs->cur.e);
  free(fs->durable.e);
  free(fs->dops);
  fv_free(fs->crash_img);
  free(fs);
}

const valori_vfs *fv_vfs(fv_fs *fs) { return &fs->vfs; }

/* Copies inode i into image `img` (once), resolving its pending ops (all kept when rng is NULL). */
static fv_inode *fv_img_inode(fv_fs *img, fv_inode *i, uint64_t *rng) {
  fv_inode *c;
  if (i->copy) return i->copy;
  c = fv_inode_new(img);
  fv_bytes_copy(&c->durable, &i->durable);
  if (rng) fv_resolve(i, &c->durable, rng);
  else fv_bytes_copy(&c->durable, &i->cur);
  fv_bytes_copy(&c->cur, &c->durable);
  i->copy = c;
  return c;
}

static fv_fs *fv_image(const fv_fs *fs, uint64_t seed, int clean) {
  fv_fs *img = fv_new(seed);
  uint64_t rng = seed * 0x2545F4914F6CDD1Dull + 1u;
  fv_dir d = {NULL, 0, 0};
  size_t k;
  fv_inode *i;
  if (clean) {
    fv_dir_copy(&d, &fs->cur);
  } else {
    fv_dir_copy(&d, &fs->durable);
    for (k = 0; k < fs->ndops; k++) {
      const fv_dirop *o = &fs->dops[k];
      fv_dirent *e;
      if (fv_rand(&rng) % 2u) continue; /* this directory operation was lost */
      switch (o->kind) {
        case FV_DCREATE:
          if (!fv_dir_find(&d, o->a)) fv_dir_set(&d, o->a, o->ino);
          break;
        case FV_DRENAME:
          /* A rename links the inode the name held at the call under the new name (and unlinks
          ** the old name if it still holds that inode); it never moves whatever other inode the
          ** old name may hold in this image because earlier operations were lost. */
          e = fv_dir_find(&d, o->a);
          if (e && e->ino == o->ino) fv_dir_del(&d, o->a);
          fv_dir_set(&d, o->b, o->ino);
          break;
        default: /* remove: unlinks the name only if it still holds the inode removed */
          e = fv_dir_find(&d, o->a);
          if (e && e->ino == o->ino) fv_dir_del(&d, o->a);
          break;
      }
    }
  }
  for (i = fs->inodes; i; i = i->next) i->copy = NULL;
  for (k = 0; k < d.n; k++) fv_dir_set(&img->cur, d.e[k].name, fv_img_inode(img, d.e[k].ino, clean ? NULL : &rng));
  for (i = fs->inodes; i; i = i->next) i->copy = NULL;
  fv_dir_copy(&img->durable, &img->cur);
  free(d.e);
  return img;
}

fv_fs *fv_crash_image(const fv_fs *fs, uint64_t seed) { return fv_image(fs, seed, 0); }
fv_fs *fv_clone_synced(const fv_fs *fs) { return fv_image(fs, 1, 1); }

void fv_fail(fv_fs *fs, int kind, uint64_t n, int persistent, int code) {
  fs->fail_at[kind] = n ? fs->calls[kind] + n : 0;
  fs->fail_persist[kind] = persistent;
  fs->fail_code[kind] = code;
}

void fv_crash_at_sync(fv_fs *fs, uint64_t n, uint64_t seed) {
  fs->crash_at = n ? fs->syncpoints + n : 0;
  fs->crash_seed = seed;
}

fv_fs *fv_take_crash(fv_fs *fs) {
  fv_fs *img = fs->crash_img;
  fs->crash_img = NULL;
  return img;
}

int fv_crashed(const fv_fs *fs) { return fs->dead; }
uint64_t fv_calls(const fv_fs *fs, int kind) { return fs->calls[kind]; }
uint64_t fv_sync_points(const fv_fs *fs) { return fs->syncpoints; }

const uint8_t *fv_file_data(const fv_fs *fs, const char *name, size_t *len) {
  fv_dirent *e = fv_dir_find(&fs->cur, name);
  if (!e) return NULL;
  *len = e->ino->cur.len;
  return e->ino->cur.p ? e->ino->cur.p : (const uint8_t *)"";
}

int fv_file_set(fv_fs *fs, const char *name, const uint8_t *data, size_t len) {
  fv_dirent *e = fv_dir_find(&fs->cur, name);
  fv_inode *ino;
  if (!e) {
    ino = fv_inode_new(fs);
    fv_dir_set(&fs->cur, name, ino);
    fv_dir_set(&fs->durable, name, ino);
  } else {
    ino = e->ino;
  }
  fv_ops_clear(ino);
  ino->cur.len = 0;
  if (len) fv_bytes_write(&ino->cur, 0, data, len);
  fv_bytes_copy(&ino->durable, &ino->cur);
  return VALORI_OK;
}

int fv_file_exists(const fv_fs *fs, const char *name) { return fv_dir_find(&fs->cur, name) != NULL; }

void fv_list_names(const fv_fs *fs, void (*cb)(void *arg, const char *name), void *arg) {
  fv_dirent *copy;
  size_t k, n = fs->cur.n;
  copy = (fv_dirent *)fv_xmalloc((n ? n : 1) * sizeof *copy);
  if (n) memcpy(copy, fs->cur.e, n * sizeof *copy);
  qsort(copy, n, sizeof *copy, fv_cmp_name);
  for (k = 0; k < n; k++) cb(arg, copy[k].name);
  free(copy);
}

uint64_t fv_pending_bytes(const fv_fs *fs) {
  uint64_t t = 0;
  const fv_inode *i;
  size_t k;
  for (i = fs->inodes; i; i = i->next)
    for (k = 0; k < i->nops; k++) t += i->ops[k].n;
  return t;
}
