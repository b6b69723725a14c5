/*
** cmd_replay.c: `valori replay DIR [--to HEIGHT]`: rebuilds the state at HEIGHT (default: the end
** of the log) from the newest snapshot at or below it plus the log, read-only
** (valori_open_at_height), checks the result's invariants (valori_check), and prints the state
** root and counts. It verifies what recovery verifies on the way (checksums, chain, the root of
** every replayed record), not the whole store: that is `valori verify`. Two stores (or a leader and
** a follower) hold the same history up to H exactly when their roots at H agree.
*/
#include "cli.h"

#include <string.h>

int vcli_replay(int argc, char **argv) {
  valori_options o;
  valori_recovery rep;
  valori_vfs *v;
  valori_db *db = NULL;
  valori_stats st;
  uint64_t to = VALORI_HEIGHT_END;
  uint8_t root[32];
  const char *dir = NULL;
  int i, rc;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
      if (!vcli_parse_u64(argv[++i], &to) || to == UINT64_MAX) {
        fprintf(stderr, "valori replay: bad height '%s'\n", argv[i]);
        return VCLI_USAGE;
      }
    } else if (!dir && argv[i][0] != '-') {
      dir = argv[i];
    } else {
      fprintf(stderr, "usage: valori replay DIR [--to HEIGHT]\n");
      return VCLI_USAGE;
    }
  }
  if (!dir) {
    fprintf(stderr, "usage: valori replay DIR [--to HEIGHT]\n");
    return VCLI_USAGE;
  }
  v = vcli_open_dir(dir);
  if (!v) return VCLI_FAILED;
  valori_options_init(&o);
  o.flags = VALORI_OPEN_READONLY;
  o.vfs = v;
  rc = valori_open_at_height(&o, to, &db, &rep);
  valori_posix_vfs_close(v);
  if (rc != VALORI_OK) {
    vcli_print_problem(stderr, dir, &rep);
    return vcli_exit_for(rc);
  }
  valori_stats_get(db, &st);
  valori_state_root(db, root);
  printf("height:  %llu\nroot:    ", (unsigned long long)st.height);
  vcli_hex(stdout, root);
  printf("\nrecords: %llu\nnodes:   %llu\nedges:   %llu\nnext ids: record %llu, node %llu, edge %llu\n",
         (unsigned long long)st.records, (unsigned long long)st.nodes, (unsigned long long)st.edges,
         (unsigned long long)st.next_record_id, (unsigned long long)st.next_node_id,
         (unsigned long long)st.next_edge_id);
  printf("from:    snapshot at %llu + %llu log records\n", (unsigned long long)rep.snapshot_height,
         (unsigned long long)rep.replayed);
  rc = valori_check(db);
  valori_close(db);
  if (rc != VALORI_OK) {
    fprintf(stderr, "error: the replayed state fails valori_check: %s\n", valori_strerror(rc));
    return VCLI_DAMAGED;
  }
  return VCLI_OK;
}
