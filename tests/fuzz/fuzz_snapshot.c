/*
** fuzz_snapshot.c: libFuzzer target for snapshots: inputs starting with the snapshot file magic go
** through the file header checks and then, as the only snapshot of a store in the fault VFS,
** through recovery; any other input goes straight to the engine's snapshot decoder
** (vl_engine_snapshot_load), which must verify every checksum and invariant. A snapshot that
** loads must pass valori_check-equivalent consistency and free cleanly.
*/
#include <stdint.h>
#include <string.h>

#include "engine.h"
#include "fault_vfs.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size >= 8 && memcmp(data, VL_SNAP_MAGIC, 8) == 0) {
    vl_snap_hdr h;
    const char *what;
    uint64_t off;
    char name[VL_NAME_MAX];
    fv_fs *fs = fv_new(1);
    valori_options o;
    valori_db *db = NULL;
    (void)vl_snap_file_check(data, size, &h, &what, &off);
    vl_name_snapshot(name, size >= 48 ? vl_get64(data + 40) : 0);
    fv_file_set(fs, name, data, size);
    valori_options_init(&o);
    o.vfs = fv_vfs(fs);
    o.flags = VALORI_OPEN_READONLY;
    if (valori_open("fuzz", &o, &db) == VALORI_OK) {
      (void)valori_check(db);
      valori_close(db);
    }
    fv_free(fs);
  } else {
    vl_engine *e = NULL;
    if (vl_engine_snapshot_load(valori_libc_allocator(), data, size, &e) == VALORI_OK) vl_engine_free(e);
  }
  return 0;
}
