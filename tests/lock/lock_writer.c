/*
** lock_writer.c: a small native writer for the cross-host lock tests (js/test/lock.node.test.js).
** It opens a durable store through the public API and the POSIX VFS (valori.h + valori_native.h),
** the way the `valori` tools and the server do, so the JS tests can run a native writer and a Node
** writer on one directory and check that the single-writer lock (docs/STORAGE.md, "Single writer")
** admits exactly one of them.
**
** usage: lock_writer DIR COUNT TAG0 [hold]
**   Opens DIR (created when missing, dim 4, full sync), inserts COUNT records with tags TAG0,
**   TAG0+1, ... and vector (i, 1, 2, 3) / 8, printing "ack <i> <id>" after each durable insert.
**   With "hold", prints "holding" and keeps the store open until its stdin reaches end of file.
**   Then closes and prints "closed".
** Output is line-buffered on stdout. Exit codes: 0 ok, 75 the store is locked (prints
** "open ELOCKED"), 1 any other failure (prints "open <CODE>" or "insert <CODE>"), 2 usage.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "valori.h"
#include "valori_native.h"

#define LW_DIM 4
#define LW_EXIT_LOCKED 75

int main(int argc, char **argv) {
  valori_vfs *vfs = NULL;
  valori_options o;
  valori_db *db = NULL;
  unsigned long long count, tag0, i;
  int hold, rc;
  if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "hold") != 0)) {
    fprintf(stderr, "usage: lock_writer DIR COUNT TAG0 [hold]\n");
    return 2;
  }
  count = strtoull(argv[2], NULL, 10);
  tag0 = strtoull(argv[3], NULL, 10);
  hold = argc == 5;
  setvbuf(stdout, NULL, _IOLBF, 0);
  rc = valori_posix_vfs_open(argv[1], 1, &vfs);
  if (rc != VALORI_OK) {
    printf("open %s\n", valori_code_name(rc));
    return 1;
  }
  valori_options_init(&o);
  o.dim = LW_DIM;
  o.flags = VALORI_OPEN_CREATE;
  o.vfs = vfs;
  rc = valori_open(argv[1], &o, &db);
  if (rc != VALORI_OK) {
    printf("open %s\n", valori_code_name(rc));
    valori_posix_vfs_close(vfs);
    return rc == VALORI_ELOCKED ? LW_EXIT_LOCKED : 1;
  }
  printf("opened\n");
  for (i = 0; i < count; i++) {
    float v[LW_DIM];
    uint64_t id = 0;
    v[0] = (float)(i % 1000) / 8.0f;
    v[1] = 1.0f / 8.0f;
    v[2] = 2.0f / 8.0f;
    v[3] = 3.0f / 8.0f;
    rc = valori_insert(db, v, (uint64_t)(tag0 + i), NULL, 0, &id);
    if (rc != VALORI_OK) {
      printf("insert %s\n", valori_code_name(rc));
      valori_close(db);
      valori_posix_vfs_close(vfs);
      return 1;
    }
    printf("ack %llu %llu\n", i + 1, (unsigned long long)id);
  }
  if (hold) {
    int c;
    printf("holding\n");
    while ((c = getchar()) != EOF) (void)c;
  }
  rc = valori_close(db);
  valori_posix_vfs_close(vfs);
  if (rc != VALORI_OK) {
    printf("close %s\n", valori_code_name(rc));
    return 1;
  }
  printf("closed\n");
  return 0;
}
