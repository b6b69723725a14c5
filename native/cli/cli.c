/*
** cli.c: entry point of the `valori` tool: finds the subcommand in a table and runs it. New
** subcommands (demo, serve, ...) are one line in vcli_cmds and one cmd_*.c file.
**
** What every subcommand gets from here, before it parses anything (cli.h, vcli_cmd): `--help` and
** `-h` anywhere print its usage, summary and options and exit 0; with an option table, an unknown
** option or an option without its value is a usage error (exit 2) and `--name=value` is split into
** two arguments. `valori`, `valori --help` and `valori help [CMD]` list the subcommands.
*/
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "idx.h" /* VALORI_FMNIST_DIR, the demo's default data folder */

static const vcli_opt vcli_no_opts[] = {{NULL, NULL, NULL}};
static const vcli_opt vcli_demo_opts[] = {
  {"--dir", "DIR", "store directory (default: valori_db; created when missing)"},
  {"--n", "N", "training images ingested into a new store, 1..60000 (default: 60000)"},
  {"--queries", "Q", "test images answered as queries, 1..10000 (default: 200)"},
  {"--ef", "EF", "HNSW search breadth, 1..10000 (default: 64)"},
  {"--data", "DIR", "folder of the Fashion-MNIST idx files (default: " VALORI_FMNIST_DIR ")"},
  {NULL, NULL, NULL}};
static const vcli_opt vcli_replay_opts[] = {
  {"--to", "HEIGHT", "replay up to this height (default: the end of the log)"},
  {NULL, NULL, NULL}};

static const vcli_opt vcli_import_opts[] = {
  {"--format", "F", "fvecs, bvecs, ivecs, npy, idx or jsonl (default: from the file name; .gz is read too)"},
  {"--labels", "FILE", "tags from a labels file (idx1 or 1-D .npy), metadata {\"class\":NAME,\"index\":ROW}"},
  {"--classes", "LIST", "names of the label values: fashion-mnist (default), none, or NAME,NAME,..."},
  {"--data", "DIR", "data directory of collections, as valori serve's (default: valori_db)"},
  {"--collection", "NAME", "target collection DIR/NAME, created when missing"},
  {"--store", "DIR", "target: a store directory of its own (instead of --collection)"},
  {"--url", "URL", "target: a server collection http://HOST:PORT/v1/collections/NAME (binary ingest)"},
  {"--token-file", "FILE", "with --url: the server's token file (its first write token is sent)"},
  {"--dim", "N", "check that the file's rows have N components"},
  {"--metric", "l2|ip", "a new collection's metric (default: l2)"},
  {"--index", "hnsw|none", "a new collection's index (default: hnsw)"},
  {"--m", "M", "a new collection's HNSW M, 2..64 (default: 16)"},
  {"--ef-construction", "N", "a new collection's HNSW ef_construction (default: 200)"},
  {"--limit", "N", "import rows until the collection holds N of them (default: all)"},
  {"--offset", "N", "start at row N of the file, counted from 0 (default: 0)"},
  {"--batch", "N", "rows per atomic batch, 1..100000 (default: 1000)"},
  {"--graph", NULL, "one node per class and per record, edge record -> class (docs/IMPORT.md)"},
  {"-q", NULL, "no progress on stderr"},
  {"--quiet", NULL, "the same as -q"},
  {NULL, NULL, NULL}};

static const vcli_opt vcli_search_opts[] = {
  {"--collection", "NAME", "the collection DIR/NAME (or URL/v1/collections/NAME); without it DIR is a store, URL a collection's"},
  {"--vector", "JSON", "the query, a JSON array of numbers: '[0.5, 1, 2]'"},
  {"--row", "FILE:ROW", "the query is row ROW (from 0) of a data file valori import reads"},
  {"-k", "K", "hits wanted, 1..10000 (default: 10; a server allows up to its --max-k)"},
  {"--ef", "EF", "HNSW beam width (default: 0, the collection's ef_search)"},
  {"--exact", NULL, "exact search (brute force)"},
  {"--hnsw", NULL, "the index only, even for narrow filters"},
  {"--tag", "T", "only records with tag T; repeat for a set of tags"},
  {"--expand", "HOPS", "then expand the graph HOPS steps out from the hits' nodes (0..16; up to 1000 nodes)"},
  {"--json", NULL, "print the answer as JSON (the server's search answer, metadata in base64)"},
  {"--token-file", "FILE", "with a URL: the server's token file (its first read token is sent)"},
  {NULL, NULL, NULL}};

static const vcli_cmd vcli_cmds[] = {
  {"demo", vcli_demo, "[--dir DIR] [--n N] [--queries Q] [--ef EF] [--data DIR]", "build a store from Fashion-MNIST and answer searches", vcli_demo_opts},
  {"inspect", vcli_inspect, "DIR", "list a store's files with their state, and what an open recovers", vcli_no_opts},
  {"verify", vcli_verify, "DIR", "check checksums, the chain, HEAD and every snapshot by replaying from the oldest kept state; report the height the store can prove", vcli_no_opts},
  {"replay", vcli_replay, "DIR [--to HEIGHT]", "replay the store to a height and print its root and counts", vcli_replay_opts},
  {"import", vcli_import, "FILE (--collection NAME [--data DIR] | --store DIR | --url URL) [--labels FILE] [--graph] [--limit N] ...",
   "load vectors from fvecs/bvecs/ivecs, npy, idx or JSON lines into a collection, resumably (docs/IMPORT.md)",
   vcli_import_opts},
  {"search", vcli_search, "DIR|URL [--collection NAME] (--vector '[...]' | --row FILE:ROW) [-k K] [--ef EF] [--exact] [--tag T] [--expand HOPS] [--json]",
   "the nearest records of a collection: id, distance, tag, metadata (docs/IMPORT.md)", vcli_search_opts},
  {"follow", vcli_follow, "LEADER-URL[/v1/collections/NAME] [--data DIR] [--listen ADDR:PORT] [--token-file F] [--rebootstrap] ...",
   "replicate a leader into a read-only server (follow --help; docs/REPLICATION.md)", NULL},
  {"serve", vcli_serve, "[--listen ADDR:PORT] [--data DIR] [--token-file FILE] ...", "serve collections over HTTP (serve --help lists every option; docs/HTTP.md)", NULL},
};
#define VCLI_NCMDS (sizeof vcli_cmds / sizeof vcli_cmds[0])

static const char vcli_exit_codes[] = "exit codes: 0 ok, 1 store damaged, 2 usage error, 3 other failure\n";

static void vcli_usage(FILE *f) {
  size_t i;
  fprintf(f, "valori %s: deterministic vector database and knowledge graph\n\nusage:\n", VALORI_VERSION_STRING);
  for (i = 0; i < VCLI_NCMDS; i++)
    fprintf(f, "  valori %s %s\n      %s\n", vcli_cmds[i].name, vcli_cmds[i].usage, vcli_cmds[i].summary);
  fprintf(f, "  valori --version\n\n`valori CMD --help` describes one command.\n%s", vcli_exit_codes);
}

static const vcli_cmd *vcli_find(const char *name) {
  size_t i;
  for (i = 0; i < VCLI_NCMDS; i++)
    if (strcmp(name, vcli_cmds[i].name) == 0) return &vcli_cmds[i];
  return NULL;
}

/* `valori CMD --help`: usage, summary, options. */
static void vcli_cmd_help(FILE *f, const vcli_cmd *c) {
  const vcli_opt *o;
  fprintf(f, "valori %s: %s\n\nusage: valori %s %s\n\noptions:\n", c->name, c->summary, c->name, c->usage);
  for (o = c->opts; o && o->name; o++) {
    char left[64];
    snprintf(left, sizeof left, "%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    fprintf(f, "  %-18s %s\n", left, o->help);
  }
  fprintf(f, "  %-18s %s\n\n%s", "-h, --help", "print this help and exit", vcli_exit_codes);
}

/* `valori CMD --help`, wherever the flag stands: from the option table, or (opts NULL) by the
** command itself, called with {name, "--help"} only. */
static int vcli_help_of(const vcli_cmd *c) {
  char *only_help[3];
  if (c->opts) {
    vcli_cmd_help(stdout, c);
    return VCLI_OK;
  }
  only_help[0] = (char *)c->name;
  only_help[1] = (char *)"--help";
  only_help[2] = NULL;
  return c->run(2, only_help);
}

int vcli_usage_error(const char *cmd, const char *fmt, ...) {
  const vcli_cmd *c = vcli_find(cmd);
  va_list ap;
  fprintf(stderr, "valori %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
  if (c) fprintf(stderr, "usage: valori %s %s\n", c->name, c->usage);
  fprintf(stderr, "(`valori %s --help` lists the options)\n", cmd);
  return VCLI_USAGE;
}

static const vcli_opt *vcli_find_opt(const vcli_opt *opts, const char *arg, size_t len) {
  for (; opts->name; opts++)
    if (strlen(opts->name) == len && strncmp(opts->name, arg, len) == 0) return opts;
  return NULL;
}

/* Checks argv (argv[0] = the command) against c->opts and builds the argument vector run() sees,
** with `--name=value` split. Returns VCLI_OK with *out (malloc'd, NULL-terminated; free it) and
** *out_argc, or VCLI_USAGE after printing the problem, or VCLI_FAILED when out of memory. */
static int vcli_check_args(const vcli_cmd *c, int argc, char **argv, char ***out, int *out_argc) {
  char **v = (char **)calloc((size_t)argc * 2 + 1, sizeof *v);
  int i, n = 0;
  if (!v) {
    fprintf(stderr, "error: out of memory\n");
    return VCLI_FAILED;
  }
  v[n++] = argv[0];
  for (i = 1; i < argc; i++) {
    const char *a = argv[i], *eq;
    const vcli_opt *o;
    if (a[0] != '-' || a[1] == '\0') { /* a positional argument ("-" included) */
      v[n++] = argv[i];
      continue;
    }
    eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
    o = vcli_find_opt(c->opts, a, eq ? (size_t)(eq - a) : strlen(a));
    if (!o) {
      free(v);
      return vcli_usage_error(c->name, "unknown option '%s'", a);
    }
    if (!o->arg) {
      if (eq) {
        free(v);
        return vcli_usage_error(c->name, "option %s takes no value", o->name);
      }
      v[n++] = argv[i];
    } else if (eq) { /* --name=value: the name is the table's string, the value points into argv */
      v[n++] = (char *)o->name;
      v[n++] = (char *)eq + 1;
    } else if (i + 1 < argc) {
      v[n++] = argv[i];
      v[n++] = argv[++i];
    } else {
      free(v);
      return vcli_usage_error(c->name, "option %s needs a value (%s)", o->name, o->arg);
    }
  }
  v[n] = NULL;
  *out = v;
  *out_argc = n;
  return VCLI_OK;
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
  if (r->code == VALORI_ENOTFOUND) /* from an open or verify: the directory holds no store files */
    fprintf(f, "error: no store at %s: the directory holds no store files (%s)\n", dir, valori_code_name(r->code));
  else
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
  struct stat st;
  int rc;
  if (stat(dir, &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      fprintf(stderr, "error: no store at %s: directory does not exist\n", dir);
    else
      fprintf(stderr, "error: cannot open %s: %s\n", dir, strerror(errno));
    return NULL;
  }
  if (!S_ISDIR(st.st_mode)) {
    fprintf(stderr, "error: no store at %s: not a directory\n", dir);
    return NULL;
  }
  rc = valori_posix_vfs_open(dir, 0, &v);
  if (rc != VALORI_OK) {
    fprintf(stderr, "error: cannot open %s: %s (%s)\n", dir, valori_strerror(rc), valori_code_name(rc));
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
  const vcli_cmd *c;
  char **args = NULL;
  int i, nargs = 0, rc;
  if (argc < 2) {
    vcli_usage(stderr);
    return VCLI_USAGE;
  }
  if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
    if (argc > 2 && strcmp(argv[1], "help") == 0) { /* valori help CMD */
      if (!(c = vcli_find(argv[2]))) {
        fprintf(stderr, "valori: unknown command '%s'\n\n", argv[2]);
        vcli_usage(stderr);
        return VCLI_USAGE;
      }
      return vcli_help_of(c);
    }
    vcli_usage(stdout);
    return VCLI_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("valori %s\n", VALORI_VERSION_STRING);
    return VCLI_OK;
  }
  if (!(c = vcli_find(argv[1]))) {
    fprintf(stderr, argv[1][0] == '-' ? "valori: unknown option '%s'\n\n" : "valori: unknown command '%s'\n\n", argv[1]);
    vcli_usage(stderr);
    return VCLI_USAGE;
  }
  for (i = 2; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      return vcli_help_of(c);
    }
  if (!c->opts) return c->run(argc - 1, argv + 1); /* checks its own options */
  if ((rc = vcli_check_args(c, argc - 1, argv + 1, &args, &nargs)) != VCLI_OK) return rc;
  rc = c->run(nargs, args);
  free(args);
  return rc;
}
