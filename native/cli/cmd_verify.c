/*
** cmd_verify.c: `valori verify DIR` (valori_verify): reads the store without changing it and checks
** every snapshot file (checksums and a full decode), every kept log segment (header, record
** checksums, heights, the chain across segments), HEAD, and a replay from the oldest state the
** store still keeps (genesis while the log starts at height 1, else the oldest valid snapshot: older
** history was pruned) whose root must match every record's and every snapshot's root. Then it
** says what the store can prove: the highest height it had made durable (from HEAD or the newest
** snapshot), which the log reaches, and how many records above it no file witnesses. Bytes after
** the last complete record (a torn tail) are reported, not counted as damage: they were never
** made durable, and recovery trims them.
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
    if (rc == VALORI_ECORRUPT && rep.proven_height > rep.log_end_height)
      fprintf(stderr, "  lost:   the log ends at height %llu, below height %llu the store had made durable (%s)\n",
              (unsigned long long)rep.log_end_height, (unsigned long long)rep.proven_height,
              valori_proof_name(rep.proven_by));
    return vcli_exit_for(rc);
  }
  printf("ok: %s\n  height:   %llu (the end of the log)\n  root:     ", argv[1], (unsigned long long)h);
  vcli_hex(stdout, root);
  printf("\n  proven:   height %llu (%s); the log reaches it\n", (unsigned long long)rep.proven_height,
         valori_proof_name(rep.proven_by));
  if (h > rep.proven_height)
    printf("  unwitnessed: heights %llu..%llu (%llu record%s): no later file records that they were made durable,\n"
           "            so losing some of them at a record boundary could not be detected (a clean close, the next\n"
           "            rotation or snapshot moves the proven height up)\n",
           (unsigned long long)rep.proven_height + 1u, (unsigned long long)h,
           (unsigned long long)(h - rep.proven_height), h - rep.proven_height == 1 ? "" : "s");
  if (!rep.head) printf("  note:     no HEAD (a store from before HEAD existed, or HEAD was removed)\n");
  printf("  replayed: %llu records from height %llu\n  segments: %u\n", (unsigned long long)rep.replayed,
         (unsigned long long)rep.snapshot_height, rep.segments);
  if (rep.trimmed_bytes)
    printf("  note:     bytes after the last complete record were never made durable: trimmed at open (%llu bytes at %s\n"
           "            offset %llu)\n",
           (unsigned long long)rep.trimmed_bytes, rep.trimmed_file, (unsigned long long)rep.trimmed_offset);
  return VCLI_OK;
}
