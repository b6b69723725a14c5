/*
** vfs_js.c: the C side of the JS-backed valori_vfs (see vfs_js.h). Files are small positive
** integer handles chosen by the JS backend, carried in the valori_file pointer. Every function
** returns a VALORI_* code computed by the backend; 64-bit offsets cross as BigInt (WASM_BIGINT).
*/
#include <stdint.h>
#include "vfs_js.h"

/* Implemented in library_valori.js. */
extern int vwjs_open(int id, const char *path, unsigned flags, int *out);
extern int vwjs_close(int id, int fh);
extern int vwjs_read(int id, int fh, uint64_t off, void *buf, uint32_t n, uint32_t *got);
extern int vwjs_write(int id, int fh, uint64_t off, const void *buf, uint32_t n);
extern int vwjs_sync(int id, int fh);
extern int vwjs_size(int id, int fh, uint64_t *out);
extern int vwjs_truncate(int id, int fh, uint64_t size);
extern int vwjs_rename(int id, const char *from, const char *to);
extern int vwjs_remove(int id, const char *path);
extern int vwjs_sync_dir(int id);
extern int vwjs_list_begin(int id, uint32_t *count);
extern int vwjs_list_name(int id, uint32_t i, char *buf, uint32_t cap);
extern int vwjs_lock(int id);
extern int vwjs_unlock(int id);

#define ID(ctx) ((int)(intptr_t)(ctx))
#define FH(f) ((int)(intptr_t)(f))

static int j_open(void *ctx, const char *path, unsigned flags, valori_file **out) {
  int fh = 0;
  int rc = vwjs_open(ID(ctx), path, flags, &fh);
  if (rc == VALORI_OK) *out = (valori_file *)(intptr_t)fh;
  return rc;
}
static int j_close(void *ctx, valori_file *f) { return vwjs_close(ID(ctx), FH(f)); }
static int j_read(void *ctx, valori_file *f, uint64_t off, void *buf, size_t n, size_t *got) {
  /* Reads larger than 1 GiB are split; the store never asks for that much at once. */
  size_t done = 0;
  while (done < n) {
    uint32_t chunk = (n - done) > (1u << 30) ? (1u << 30) : (uint32_t)(n - done), g = 0;
    int rc = vwjs_read(ID(ctx), FH(f), off + done, (char *)buf + done, chunk, &g);
    if (rc != VALORI_OK) return rc;
    done += g;
    if (g < chunk) break;
  }
  *got = done;
  return VALORI_OK;
}
static int j_write(void *ctx, valori_file *f, uint64_t off, const void *buf, size_t n) {
  return vwjs_write(ID(ctx), FH(f), off, buf, (uint32_t)n);
}
static int j_sync(void *ctx, valori_file *f) { return vwjs_sync(ID(ctx), FH(f)); }
static int j_size(void *ctx, valori_file *f, uint64_t *out) { return vwjs_size(ID(ctx), FH(f), out); }
static int j_truncate(void *ctx, valori_file *f, uint64_t size) { return vwjs_truncate(ID(ctx), FH(f), size); }
static int j_rename(void *ctx, const char *from, const char *to) { return vwjs_rename(ID(ctx), from, to); }
static int j_remove(void *ctx, const char *path) { return vwjs_remove(ID(ctx), path); }
static int j_sync_dir(void *ctx) { return vwjs_sync_dir(ID(ctx)); }
static int j_list(void *ctx, int (*cb)(void *arg, const char *name), void *arg) {
  uint32_t n = 0, i;
  char name[256];
  int rc = vwjs_list_begin(ID(ctx), &n);
  if (rc != VALORI_OK) return rc;
  for (i = 0; i < n; i++) {
    rc = vwjs_list_name(ID(ctx), i, name, sizeof name);
    if (rc == VALORI_EBUFSIZE) continue; /* a name this long is not one of the store's files */
    if (rc != VALORI_OK) return rc;
    rc = cb(arg, name);
    if (rc != VALORI_OK) return rc;
  }
  return VALORI_OK;
}
static int j_lock(void *ctx) { return vwjs_lock(ID(ctx)); }
static int j_unlock(void *ctx) { return vwjs_unlock(ID(ctx)); }

void vw_vfs_js_init(valori_vfs *v, int id) {
  v->ctx = (void *)(intptr_t)id;
  v->open = j_open;
  v->close = j_close;
  v->read = j_read;
  v->write = j_write;
  v->sync = j_sync;
  v->size = j_size;
  v->truncate = j_truncate;
  v->rename = j_rename;
  v->remove = j_remove;
  v->sync_dir = j_sync_dir;
  v->list = j_list;
  v->lock = j_lock;
  v->unlock = j_unlock;
}
