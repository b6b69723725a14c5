/*
** trav_store.c: writes a small durable store with an int8 compact traversal copy for the CLI tests
** (cli_inspect_traversal: `valori inspect` must report the traversal word, its shift and centre).
** 200 vectors of dim 8 with whole components in [0, 255], traversal word of [0, 255] (s 16,
** c 128), a snapshot after 150, closed cleanly. The CLI has no way to create such a store itself.
** usage: cli_trav_store DIR (DIR must not hold a store)
*/
#include <stdio.h>

#include "valori.h"
#include "valori_native.h"

int main(int argc, char **argv) {
  valori_vfs *v = NULL;
  valori_db *db = NULL;
  valori_options o;
  uint64_t id, x = 7;
  int i, j, rc;
  if (argc != 2) {
    fprintf(stderr, "usage: cli_trav_store DIR\n");
    return 2;
  }
  rc = valori_posix_vfs_open(argv[1], 1, &v);
  valori_options_init(&o);
  o.dim = 8;
  o.flags = VALORI_OPEN_CREATE;
  o.vfs = v;
  if (!rc) rc = valori_traversal_int8(0.0f, 255.0f, &o.traversal);
  if (!rc) rc = valori_open(argv[1], &o, &db);
  for (i = 0; !rc && i < 200; i++) {
    float vec[8];
    for (j = 0; j < 8; j++) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      vec[j] = (float)((x >> 33) % 256);
    }
    rc = valori_insert(db, vec, 0, NULL, 0, &id);
    if (!rc && i == 149) rc = valori_snapshot(db);
  }
  if (db) {
    int rc2 = valori_close(db);
    if (!rc) rc = rc2;
  }
  if (v) valori_posix_vfs_close(v);
  if (rc) fprintf(stderr, "cli_trav_store: %s\n", valori_strerror(rc));
  return rc ? 1 : 0;
}
