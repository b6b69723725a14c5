/*
** log_dump.c: prints a store's log record by record through valori_cursor (the tests compare a
** follower's log with its leader's: docs/REPLICATION.md section 1): `repl_log_dump DIR [FROM]`
** prints "first F end E" (FROM defaults to the oldest kept record, the end is where a read-only open
** ends), then one line per record: height, root, chain and the event in hex. The store may be open
** by its writer meanwhile (the cursor takes no lock). Exit 0, or 1 with the error on stderr.
*/
#include <stdio.h>
#include <stdlib.h>

#include "valori.h"
#include "valori_native.h"

static void hex(const uint8_t *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) printf("%02x", p[i]);
}

int main(int argc, char **argv) {
  valori_vfs *v = NULL;
  valori_options o;
  valori_db *db = NULL;
  valori_store_status st;
  valori_cursor *c = NULL;
  uint64_t from, end;
  const uint8_t *rec;
  size_t len;
  int rc;
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: repl_log_dump DIR [FROM]\n");
    return 2;
  }
  rc = valori_posix_vfs_open(argv[1], 0, &v);
  valori_options_init(&o);
  o.vfs = v;
  o.flags = VALORI_OPEN_READONLY;
  if (rc == VALORI_OK) rc = valori_open(argv[1], &o, &db);
  if (rc == VALORI_OK) rc = valori_store_status_get(db, &st);
  if (rc != VALORI_OK) {
    fprintf(stderr, "%s: %s\n", argv[1], valori_strerror(rc));
    return 1;
  }
  end = st.appended_height;
  from = argc == 3 ? strtoull(argv[2], NULL, 10) : st.log_first_height;
  valori_close(db);
  printf("first %llu end %llu\n", (unsigned long long)from, (unsigned long long)end);
  rc = valori_cursor_open(&o, from, end, &c);
  while (rc == VALORI_OK && (rc = valori_cursor_next(c, end, &rec, &len)) == VALORI_OK && rec) {
    uint64_t h = 0;
    int i;
    for (i = 7; i >= 0; i--) h = h << 8 | rec[8 + i];
    printf("%llu ", (unsigned long long)h);
    hex(rec + 24, 32);
    printf(" ");
    hex(rec + 56, 32);
    printf(" ");
    hex(rec + 88, len - 88);
    printf("\n");
  }
  if (rc != VALORI_OK) fprintf(stderr, "%s: %s: %s\n", argv[1], valori_strerror(rc), c ? valori_cursor_error(c, NULL) : "");
  valori_cursor_close(c);
  valori_posix_vfs_close(v);
  return rc == VALORI_OK ? 0 : 1;
}
