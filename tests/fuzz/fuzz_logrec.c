/*
** fuzz_logrec.c: libFuzzer target for the log decoders: the record decoder at every offset, the
** segment scanner (header, framing, chaining, torn/corrupt classification), and the whole recovery
** path with the input as the only log segment of a store in the in-memory fault VFS (read-only
** verification and a writable open that trims and appends). Must never crash or leak.
*/
#include <stdint.h>
#include <string.h>

#include "fault_vfs.h"
#include "log.h"
#include "valori.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vl_seg_scan sc;
  vl_rec r;
  const char *what;
  size_t off;
  fv_fs *fs;
  valori_options o;
  valori_db *db = NULL;
  for (off = 0; off < size && off < 256; off++) (void)vl_rec_decode(data + off, size - off, &r, &what);
  (void)vl_seg_scan_run(data, size, NULL, NULL, &sc);
  fs = fv_new(1);
  fv_file_set(fs, "log-00000000000000000001.vlog", data, size);
  valori_options_init(&o);
  o.vfs = fv_vfs(fs);
  o.flags = VALORI_OPEN_READONLY;
  (void)valori_verify(&o, NULL, NULL, NULL);
  o.flags = 0;
  if (valori_open("fuzz", &o, &db) == VALORI_OK) {
    valori_stats st;
    if (valori_stats_get(db, &st) == VALORI_OK && st.dim <= 64) {
      float v[64];
      uint64_t id;
      memset(v, 0, sizeof v);
      (void)valori_insert(db, v, 1, NULL, 0, &id);
    }
    valori_close(db);
  }
  fv_free(fs);
  return 0;
}
