/*
** store_inspect.c: valori_store_inspect (valori.h), the per-file view of a store that
** `valori inspect` prints: each file is read through the VFS and checked on its own (segment
** scanner, snapshot file check, HEAD decode), never changed, and described to a callback in byte
** order of the names. The chain across files, the replay and the floors are recovery's and
** verify's (recover.c); this only says what each file holds and whether its bytes check out.
*/
#include "compact.h"
#include "store_int.h"

/* The directory listing: owned copies of every name. */
typedef struct vl_names {
  const valori_allocator *a;
  char **v;
  size_t *len; /* allocation size of each name */
  size_t n, cap;
} vl_names;

static int vl_names_cb(void *arg, const char *name) {
  vl_names *N = (vl_names *)arg;
  size_t k = strlen(name) + 1u;
  char *copy;
  if (N->n == N->cap) {
    size_t nc = N->cap ? N->cap * 2 : 32;
    void **arr[2];
    size_t sz[2];
    arr[0] = (void **)&N->v;
    arr[1] = (void **)&N->len;
    sz[0] = sizeof *N->v;
    sz[1] = sizeof *N->len;
    VL_TRY(vl_grow_all(N->a, arr, sz, 2, N->cap, nc));
    N->cap = nc;
  }
  copy = (char *)vl_alloc(N->a, k);
  if (!copy) return VALORI_ENOMEM;
  memcpy(copy, name, k);
  N->v[N->n] = copy;
  N->len[N->n++] = k;
  return VALORI_OK;
}

static void vl_names_free(vl_names *N) {
  size_t i;
  for (i = 0; i < N->n; i++) vl_free(N->a, N->v[i], N->len[i]);
  vl_free(N->a, N->v, N->cap * sizeof *N->v);
  vl_free(N->a, N->len, N->cap * sizeof *N->len);
}

/* Insertion sort by byte order (listings are short; no qsort in core). */
static void vl_names_sort(vl_names *N) {
  size_t i, j;
  for (i = 1; i < N->n; i++) {
    char *x = N->v[i];
    size_t xl = N->len[i];
    for (j = i; j > 0 && strcmp(N->v[j - 1], x) > 0; j--) {
      N->v[j] = N->v[j - 1];
      N->len[j] = N->len[j - 1];
    }
    N->v[j] = x;
    N->len[j] = xl;
  }
}

static void vl_info_cfg(valori_file_info *f, const vl_config *c) {
  f->dim = c->dim;
  f->metric = c->metric;
  f->hnsw_m = c->hnsw_m;
  f->hnsw_ef_construction = c->hnsw_ef_construction;
  f->hnsw_ef_search = c->hnsw_ef_search;
  f->traversal = c->traversal;
  f->traversal_shift = vl_trav_shift(c->traversal); /* 0 for word 0 */
  f->traversal_center = vl_trav_center(c->traversal);
}

/* Fills f for a segment image. */
static void vl_inspect_segment(const vl_buf *b, uint64_t name_h, valori_file_info *f) {
  vl_seg_scan sc;
  int rc = vl_seg_scan_run(b->p, b->len, NULL, NULL, &sc);
  f->detail = sc.what;
  if (rc == VALORI_EVERSION) { f->state = VALORI_FSTATE_NEWER; return; }
  if (sc.state == VL_SEG_BADHDR) { f->state = VALORI_FSTATE_BAD_HEADER; return; }
  vl_info_cfg(f, &sc.hdr.cfg);
  f->first_height = sc.hdr.first_height;
  f->last_height = sc.last_height;
  f->records = sc.nrec;
  memcpy(f->hash, sc.chain, 32);
  f->state = sc.state == VL_SEG_TORN ? VALORI_FSTATE_TORN : sc.state == VL_SEG_CORRUPT ? VALORI_FSTATE_CORRUPT
                                                                                    : VALORI_FSTATE_CLEAN;
  f->bad_offset = f->state == VALORI_FSTATE_CLEAN ? 0 : sc.bad_off;
  if (sc.hdr.first_height != name_h) {
    f->state = VALORI_FSTATE_CORRUPT;
    f->bad_offset = VL_SEG_OFF_FIRST;
    f->detail = "segment header height differs from its name";
  }
}

/* Fills f for a snapshot file image (header and payload checksums; the engine decode is
** verify's). */
static void vl_inspect_snapshot(const vl_buf *b, uint64_t name_h, valori_file_info *f) {
  vl_snap_hdr sh;
  const char *what = "";
  uint64_t off = 0;
  int rc = vl_snap_file_check(b->p, b->len, &sh, &what, &off);
  f->detail = what;
  f->first_height = f->last_height = name_h;
  if (rc == VALORI_EVERSION) { f->state = VALORI_FSTATE_NEWER; return; }
  if (rc != VALORI_OK) {
    f->state = off == 0 ? VALORI_FSTATE_BAD_HEADER : VALORI_FSTATE_CORRUPT;
    f->bad_offset = off;
    return;
  }
  vl_info_cfg(f, &sh.cfg);
  memcpy(f->hash, sh.root, 32);
  f->state = VALORI_FSTATE_CLEAN;
  if (sh.height != name_h) {
    f->state = VALORI_FSTATE_CORRUPT;
    f->bad_offset = VL_SNAP_OFF_HEIGHT;
    f->detail = "snapshot height differs from its name";
  }
}

static void vl_inspect_head(const vl_buf *b, valori_file_info *f) {
  vl_head h;
  const char *what = "";
  uint64_t off = 0;
  int rc = vl_head_decode(b->p, b->len, &h, &what, &off);
  f->detail = what;
  if (rc == VALORI_EVERSION) { f->state = VALORI_FSTATE_NEWER; return; }
  if (rc != VALORI_OK) {
    f->state = VALORI_FSTATE_CORRUPT;
    f->bad_offset = off;
    return;
  }
  vl_info_cfg(f, &h.cfg);
  f->state = VALORI_FSTATE_CLEAN;
  f->first_height = h.newest_segment;
  f->last_height = h.floor;
  memcpy(f->hash, h.chain, 32);
  f->head_reason = h.reason == VL_HEAD_OPEN ? VALORI_PROOF_HEAD_OPEN
                   : h.reason == VL_HEAD_ROTATION ? VALORI_PROOF_HEAD_ROTATION : VALORI_PROOF_HEAD_CLOSE;
}

/* Describes one file into f (reading it when it is a segment, snapshot or HEAD). Returns an error
** only for out of memory; I/O errors become the UNREADABLE state. */
static int vl_inspect_file(const valori_vfs *vfs, const char *name, vl_buf *b, valori_file_info *f) {
  uint64_t h = 0;
  int kind = vl_name_parse(name, &h), rc;
  memset(f, 0, sizeof *f);
  vl_copy_name(f->name, name);
  f->detail = "";
  switch (kind) {
    case VL_NAME_SEGMENT: f->kind = VALORI_FILE_SEGMENT; break;
    case VL_NAME_SNAPSHOT: f->kind = VALORI_FILE_SNAPSHOT; break;
    case VL_NAME_SNAPSHOT_TMP: f->kind = VALORI_FILE_SNAPSHOT_TMP; break;
    case VL_NAME_HEAD: f->kind = VALORI_FILE_HEAD; break;
    case VL_NAME_HEAD_TMP: f->kind = VALORI_FILE_HEAD_TMP; break;
    case VL_NAME_LOCK: f->kind = VALORI_FILE_LOCK; break;
    default: f->kind = VALORI_FILE_OTHER; break;
  }
  if (kind != VL_NAME_SEGMENT && kind != VL_NAME_SNAPSHOT && kind != VL_NAME_HEAD) {
    valori_file *fh;
    f->state = VALORI_FSTATE_NOT_READ;
    if (vfs->open(vfs->ctx, name, VALORI_VFS_READ, &fh) == VALORI_OK) { /* the size, for the listing */
      (void)vfs->size(vfs->ctx, fh, &f->bytes);
      (void)vfs->close(vfs->ctx, fh);
    }
    return VALORI_OK;
  }
  rc = vl_read_file(vfs, name, b);
  if (rc == VALORI_ENOMEM) return rc;
  if (rc != VALORI_OK) {
    f->state = VALORI_FSTATE_UNREADABLE;
    f->io_error = rc;
    f->detail = valori_strerror(rc);
    return VALORI_OK;
  }
  f->bytes = b->len;
  if (kind == VL_NAME_SEGMENT) vl_inspect_segment(b, h, f);
  else if (kind == VL_NAME_SNAPSHOT) vl_inspect_snapshot(b, h, f);
  else vl_inspect_head(b, f);
  return VALORI_OK;
}

/* See valori.h. */
int valori_store_inspect(const valori_options *opt, valori_inspect_cb cb, void *arg) {
  vl_names N;
  vl_buf b;
  valori_file_info info;
  size_t i;
  int rc;
  if (!opt || !opt->vfs || !cb) return VALORI_EINVAL;
  memset(&N, 0, sizeof N);
  N.a = opt->allocator ? opt->allocator : valori_libc_allocator();
  if (!N.a) return VALORI_EINVAL;
  rc = opt->vfs->list(opt->vfs->ctx, vl_names_cb, &N);
  if (rc == VALORI_OK) vl_names_sort(&N);
  vl_buf_init(&b, N.a);
  for (i = 0; rc == VALORI_OK && i < N.n; i++) {
    rc = vl_inspect_file(opt->vfs, N.v[i], &b, &info);
    if (rc == VALORI_OK) rc = cb(arg, &info);
  }
  vl_buf_free(&b);
  vl_names_free(&N);
  return rc;
}
