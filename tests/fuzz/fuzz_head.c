/*
** fuzz_head.c: libFuzzer target for the HEAD manifest: the decoder itself, and the input as the
** HEAD of a small valid store in the in-memory fault VFS (read-only verification, a read-only and a
** writable open, an append and a clean close). Any HEAD either opens the store (and a writable open
** then leaves a valid HEAD behind) or is refused with a code; it must never crash or leak.
*/
#include <stdint.h>
#include <string.h>

#include "fault_vfs.h"
#include "log.h"
#include "valori.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void opts(valori_options *o, fv_fs *fs, uint32_t flags) {
  valori_options_init(o);
  o->dim = 4;
  o->hnsw_m = 4;
  o->hnsw_ef_construction = 8;
  o->hnsw_ef_search = 8;
  o->segment_bytes = 512;
  o->snapshot_every = UINT64_MAX;
  o->flags = flags;
  o->vfs = fv_vfs(fs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vl_head h;
  const char *what;
  uint64_t off;
  fv_fs *fs = fv_new(1);
  valori_options o;
  valori_db *db = NULL;
  float v[4] = {1, 2, 3, 4};
  uint64_t id;
  int i;
  (void)vl_head_decode(data, size, &h, &what, &off);
  opts(&o, fs, VALORI_OPEN_CREATE);
  if (valori_open("fuzz", &o, &db) == VALORI_OK) {
    for (i = 0; i < 8; i++) (void)valori_insert(db, v, (uint64_t)i, NULL, 0, &id);
    valori_close(db);
    db = NULL;
  }
  fv_file_set(fs, "HEAD", data, size);
  opts(&o, fs, VALORI_OPEN_READONLY);
  (void)valori_verify(&o, NULL, NULL, NULL);
  if (valori_open("fuzz", &o, &db) == VALORI_OK) valori_close(db);
  db = NULL;
  opts(&o, fs, 0);
  if (valori_open("fuzz", &o, &db) == VALORI_OK) {
    (void)valori_insert(db, v, 9, NULL, 0, &id);
    valori_close(db);
  }
  fv_free(fs);
  return 0;
}
