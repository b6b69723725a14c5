/*
** cmd_inspect.c: `valori inspect DIR`: one line per file of a store (valori_store_inspect): each
** log segment's height range, record count and state (clean, torn tail, corrupt at an offset),
** each snapshot's height and root with its checksums checked, HEAD's newest segment and floor,
** and the store's configuration; then what a read-only open recovers: the height, where it comes
** from, the height the store can prove, and anything the open skipped or would trim. Reads only;
** checks each file on its own (the chain across files and the full replay are `valori verify`).
*/
#include "cli.h"

#include <string.h>

typedef struct inspect_state {
  int damaged;
  int cfg_shown;
  valori_file_info cfg; /* the first file with a readable configuration */
} inspect_state;

static void print_cfg(const valori_file_info *c) {
  const char *metric = c->metric == VALORI_METRIC_L2 ? "l2" : c->metric == VALORI_METRIC_IP ? "ip" : "?";
  if (c->hnsw_m == 0 && c->hnsw_ef_construction == 0 && c->hnsw_ef_search == 0)
    printf("config: dim %u, metric %s, no index (exact search only)\n", c->dim, metric);
  else
    printf("config: dim %u, metric %s, hnsw M %u, ef_construction %u, ef_search %u\n", c->dim, metric, c->hnsw_m,
           c->hnsw_ef_construction, c->hnsw_ef_search);
  if (c->traversal) /* the range the int8 codes -128..127 stand for: (c - 128) * 2^(s-16) .. (c + 127) * 2^(s-16) */
    printf("traversal: int8 copy, word 0x%08x, shift %u, centre %d (codes -128..127 = components %.9g..%.9g)\n",
           c->traversal, c->traversal_shift, c->traversal_center,
           ((double)c->traversal_center - 128) * (double)(1ull << c->traversal_shift) / 65536.0,
           ((double)c->traversal_center + 127) * (double)(1ull << c->traversal_shift) / 65536.0);
}

/* The state part of a segment, snapshot or HEAD line; sets S->damaged for damage. */
static void print_state(inspect_state *S, const valori_file_info *f) {
  switch (f->state) {
    case VALORI_FSTATE_TORN:
      printf(", torn tail at offset %llu (%llu bytes never made durable: %s)", (unsigned long long)f->bad_offset,
             (unsigned long long)(f->bytes - f->bad_offset), f->detail);
      break;
    case VALORI_FSTATE_CORRUPT:
      printf(", CORRUPT at offset %llu: %s", (unsigned long long)f->bad_offset, f->detail);
      S->damaged = 1;
      break;
    default: break;
  }
}

static int on_file(void *arg, const valori_file_info *f) {
  inspect_state *S = (inspect_state *)arg;
  if (f->kind == VALORI_FILE_SEGMENT || f->kind == VALORI_FILE_SNAPSHOT || f->kind == VALORI_FILE_HEAD) {
    printf("  %-34s %10llu bytes  ", f->name, (unsigned long long)f->bytes);
    if (f->state == VALORI_FSTATE_UNREADABLE || f->state == VALORI_FSTATE_NEWER || f->state == VALORI_FSTATE_BAD_HEADER) {
      printf("%s: %s\n", f->state == VALORI_FSTATE_UNREADABLE ? "UNREADABLE" : f->state == VALORI_FSTATE_NEWER
                                                                             ? "NEWER FORMAT" : "BAD HEADER", f->detail);
      S->damaged = 1;
      return 0;
    }
    if (f->kind == VALORI_FILE_SNAPSHOT && f->state == VALORI_FSTATE_CORRUPT && f->dim == 0) {
      printf("DAMAGED at offset %llu: %s\n", (unsigned long long)f->bad_offset, f->detail);
      S->damaged = 1;
      return 0;
    }
    if (!S->cfg_shown && f->dim) {
      S->cfg = *f;
      S->cfg_shown = 1;
    }
  }
  switch (f->kind) {
    case VALORI_FILE_SEGMENT:
      if (f->records)
        printf("heights %llu..%llu, %llu records", (unsigned long long)f->first_height,
               (unsigned long long)f->last_height, (unsigned long long)f->records);
      else
        printf("no records (next height %llu)", (unsigned long long)f->first_height);
      print_state(S, f);
      printf("\n");
      break;
    case VALORI_FILE_SNAPSHOT:
      printf("snapshot at height %llu, root ", (unsigned long long)f->first_height);
      vcli_hex(stdout, f->hash);
      print_state(S, f);
      printf("\n");
      break;
    case VALORI_FILE_HEAD:
      if (f->state != VALORI_FSTATE_CLEAN) {
        printf("manifest");
        print_state(S, f);
        printf("\n");
        break;
      }
      printf("manifest: newest segment starts at %llu; floor %llu (%s)\n", (unsigned long long)f->first_height,
             (unsigned long long)f->last_height, valori_proof_name(f->head_reason));
      break;
    case VALORI_FILE_SNAPSHOT_TMP:
    case VALORI_FILE_HEAD_TMP:
      printf("  %-34s unpublished (a crash while writing it; removed by the next writable open)\n", f->name);
      break;
    case VALORI_FILE_LOCK: printf("  %-34s writer lock file\n", f->name); break;
    default: printf("  %-34s not part of the store (ignored)\n", f->name); break;
  }
  return 0;
}

/* What a read-only open of the store finds (recovery, not a full verification). */
static void print_open(inspect_state *S, const char *dir, valori_vfs *v) {
  valori_options o;
  valori_recovery rep;
  valori_db *db = NULL;
  int rc;
  valori_options_init(&o);
  o.flags = VALORI_OPEN_READONLY;
  o.vfs = v;
  rc = valori_open_report(dir, &o, &db, &rep);
  if (rc != VALORI_OK) {
    printf("open: fails\n");
    vcli_print_problem(stdout, dir, &rep);
    if (rep.proven_height > rep.log_end_height && rc == VALORI_ECORRUPT)
      printf("  the log ends at height %llu, below height %llu the store had made durable (%s)\n",
             (unsigned long long)rep.log_end_height, (unsigned long long)rep.proven_height,
             valori_proof_name(rep.proven_by));
    S->damaged = 1;
    return;
  }
  printf("open: recovers height %llu from %s%llu + %llu log records\n", (unsigned long long)rep.height_recovered,
         rep.snapshot_height ? "the snapshot at " : "the empty state at ", (unsigned long long)rep.snapshot_height,
         (unsigned long long)rep.replayed);
  printf("  proven: height %llu (%s)%s\n", (unsigned long long)rep.proven_height, valori_proof_name(rep.proven_by),
         rep.head ? "" : "; no HEAD: a store from before HEAD existed, or HEAD was removed");
  if (rep.snapshots_skipped)
    printf("  skipped: %u damaged snapshot(s), the newest %s at offset %llu: %s\n", rep.snapshots_skipped,
           rep.skipped_file, (unsigned long long)rep.skipped_offset, rep.skipped_detail);
  if (rep.trimmed_bytes)
    printf("  torn tail: %llu bytes at %s offset %llu were never made durable (a writable open trims them)\n",
           (unsigned long long)rep.trimmed_bytes, rep.trimmed_file, (unsigned long long)rep.trimmed_offset);
  valori_close(db);
}

int vcli_inspect(int argc, char **argv) {
  valori_vfs *v;
  valori_options o;
  inspect_state S;
  int rc;
  if (argc != 2) {
    fprintf(stderr, "usage: valori inspect DIR\n");
    return VCLI_USAGE;
  }
  v = vcli_open_dir(argv[1]);
  if (!v) return VCLI_FAILED;
  memset(&S, 0, sizeof S);
  valori_options_init(&o);
  o.vfs = v;
  printf("store: %s\n", argv[1]);
  rc = valori_store_inspect(&o, on_file, &S);
  if (rc != VALORI_OK) {
    fprintf(stderr, "error: cannot inspect %s: %s\n", argv[1], valori_strerror(rc));
    valori_posix_vfs_close(v);
    return VCLI_FAILED;
  }
  if (S.cfg_shown) print_cfg(&S.cfg);
  print_open(&S, argv[1], v);
  valori_posix_vfs_close(v);
  if (S.damaged) {
    printf("result: DAMAGED (run `valori verify` for the chain and replay checks)\n");
    return VCLI_DAMAGED;
  }
  printf("result: every file's checksums are valid and the store opens\n");
  return VCLI_OK;
}
