/*
** store.c: the durable store (store.h). Skeleton: every entry point exists so the library links;
** the real log, snapshot and recovery code replaces these bodies (see docs/STORAGE.md).
*/
#include "store.h"

struct vl_store {
  const valori_allocator *a;
  const valori_vfs *vfs;
  int poisoned;
};

/* Opens or creates the store; see store.h. */
int vl_store_open(const valori_allocator *a, const valori_vfs *vfs, const vl_config *cfg,
                  const vl_store_opts *o, vl_store **store, vl_engine **engine) {
  VL_UNUSED(a); VL_UNUSED(vfs); VL_UNUSED(cfg); VL_UNUSED(o); VL_UNUSED(store); VL_UNUSED(engine);
  return VALORI_EIO;
}

/* Appends one accepted event; see store.h. */
int vl_store_append(vl_store *s, const uint8_t *ev, size_t len, uint64_t height, const uint8_t root[32]) {
  VL_UNUSED(s); VL_UNUSED(ev); VL_UNUSED(len); VL_UNUSED(height); VL_UNUSED(root);
  return VALORI_EIO;
}

/* Makes every appended record durable; see store.h. */
int vl_store_sync(vl_store *s) { VL_UNUSED(s); return VALORI_EIO; }

/* Takes a snapshot when the policy says so; see store.h. */
int vl_store_maybe_snapshot(vl_store *s, const vl_engine *e) { VL_UNUSED(s); VL_UNUSED(e); return VALORI_OK; }

/* Writes a snapshot now; see store.h. */
int vl_store_snapshot(vl_store *s, const vl_engine *e) { VL_UNUSED(s); VL_UNUSED(e); return VALORI_EIO; }

/* Frees the store; see store.h. */
int vl_store_close(vl_store *s) { VL_UNUSED(s); return VALORI_OK; }
