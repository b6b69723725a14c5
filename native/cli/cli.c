/*
** cli.c: entry point of the `valori` tool: finds the subcommand in a table and runs it. New
** subcommands (demo, serve, ...) are one line in vcli_cmds and one cmd_*.c file.
*/
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const vcli_cmd vcli_cmds[] = {
  {"demo", vcli_demo, "[--dir DIR] [--n N] [--queries Q] [--ef EF]", "build a store from Fashion-MNIST and answer searches"},
  {"inspect", vcli_inspect, "DIR", "list a store's segments and snapshots and their state"},
  {"verify", vcli_verify, "DIR", "check every checksum, the chain and every snapshot against a full replay"},
  {"replay", vcli_replay, "DIR [--to HEIGHT]", "replay the store to a height and print its root and counts"},
  {"follow", vcli_follow, "LEADER-URL[/v1/collections/NAME] [--data DIR] [--listen ADDR:PORT] [--token-file F] [--rebootstrap] ...",
   "replicate a leader into a read-only server (follow --help; docs/REPLICATION.md)"},
  {"serve", vcli_serve, "[--listen ADDR:PORT] [--data DIR] [--token-file FILE] ...", "serve collections over HTTP (serve --help lists every option; docs/HTTP.md)"},
};

static void vcli_usage(FILE *f) {
  size_t i;
  fprintf(f, "valori %s: deterministic vector database and knowledge graph\n\nusage:\n", VALORI_VERSION_STRING);
  for (i = 0; i < sizeof vcli_cmds / sizeof vcli_cmds[0]; i++)
    fprintf(f, "  valori %s %s\n      %s\n", vcli_cmds[i].name, vcli_cmds[i].usage, vcli_cmds[i].summary);
  fprintf(f, "\nexit codes: 0 ok, 1 store damaged, 2 usage error, 3 other failure\n");
}

void vcli_hex(FILE *f, const uint8_t b[32]) {
  int i;
  for (i = 0; i < 32; i++) fprintf(f, "%02x", b[i]);
}

int vcli_exit_for(int code) {
  switch (code) {
    case VALORI_OK: return VCLI_OK;
    case VALORI_ECORRUPT:
    case VALORI_EDIVERGED:
    case VALORI_EVERSION: return VCLI_DAMAGED;
    case VALORI_EINVAL: return VCLI_USAGE;
    default: return VCLI_FAILED;
  }
}

void vcli_print_problem(FILE *f, const char *dir, const valori_recovery *r) {
  fprintf(f, "error: %s: %s (%s)\n", dir, valori_strerror(r->code), valori_code_name(r->code));
  if (r->file[0]) fprintf(f, "  file:   %s\n  offset: %llu\n", r->file, (unsigned long long)r->offset);
  if (r->height) fprintf(f, "  height: %llu\n", (unsigned long long)r->height);
  if (r->detail && r->detail[0]) fprintf(f, "  detail: %s\n", r->detail);
  if (r->snapshots_skipped && r->code != VALORI_OK)
    fprintf(f, "  damaged snapshot: %s at offset %llu: %s\n", r->skipped_file, (unsigned long long)r->skipped_offset,
            r->skipped_detail);
}

valori_vfs *vcli_open_dir(const char *dir) {
  valori_vfs *v = NULL;
  int rc = valori_posix_vfs_open(dir, 0, &v);
  if (rc != VALORI_OK) {
    fprintf(stderr, "error: cannot open %s: %s\n", dir, valori_strerror(rc));
    return NULL;
  }
  return v;
}

int vcli_parse_u64(const char *s, uint64_t *out) {
  uint64_t v = 0;
  if (!s || !*s) return 0;
  for (; *s; s++) {
    unsigned d;
    if (*s < '0' || *s > '9') return 0;
    d = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - d) / 10u) return 0;
    v = v * 10u + d;
  }
  *out = v;
  return 1;
}

int main(int argc, char **argv) {
  size_t i;
  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
    vcli_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? VCLI_USAGE : VCLI_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("valori %s\n", VALORI_VERSION_STRING);
    return VCLI_OK;
  }
  for (i = 0; i < sizeof vcli_cmds / sizeof vcli_cmds[0]; i++)
    if (strcmp(argv[1], vcli_cmds[i].name) == 0) return vcli_cmds[i].run(argc - 1, argv + 1);
  fprintf(stderr, "valori: unknown command '%s'\n\n", argv[1]);
  vcli_usage(stderr);
  return VCLI_USAGE;
}
