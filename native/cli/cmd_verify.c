/*
** cmd_verify.c: `valori verify DIR`: reads the whole store without changing it and checks every
** segment header and record checksum, the chain across all segments, every snapshot file, and a
** full replay from the oldest kept state whose root must match every record's and every
** snapshot's root (valori_verify). A torn tail is reported but is not damage: recovery trims it.
*/
#include "cli.h"

#include <string.h>

int vcli_verify(int argc, char **argv) {
  valori_options o;
  valori_recovery rep;
  valori_vfs *v;
  uint64_t h = 0;
  uint8_t root[32];
  int rc;
  if (argc != 2) {
    fprintf(stderr, "usage: valori verify DIR\n");
    return VCLI_USAGE;
  }
  v = vcli_open_dir(argv[1]);
  if (!v) return VCLI_FAILED;
  valori_options_init(&o);
  o.flags = VALORI_OPEN_READONLY;
  o.vfs = v;
  rc = valori_verify(&o, &rep, &h, root);
  valori_posix_vfs_close(v);
  if (rc != VALORI_OK) {
    vcli_print_problem(stderr, argv[1], &rep);
    return vcli_exit_for(rc);
  }
  printf("ok: %s\n  height:   %llu\n  root:     ", argv[1], (unsigned long long)h);
  vcli_hex(stdout, root);
  printf("\n  replayed: %llu records from height %llu\n  segments: %u\n", (unsigned long long)rep.replayed,
         (unsigned long long)rep.snapshot_height, rep.segments);
  if (rep.trimmed_bytes)
    printf("  note:     torn tail of %llu bytes at %s offset %llu (unacknowledged; recovery trims it)\n",
           (unsigned long long)rep.trimmed_bytes, rep.trimmed_file, (unsigned long long)rep.trimmed_offset);
  return VCLI_OK;
}
