/*
** common.c: command line, timing, memory, filter tags and JSON output shared by the benchmark
** drivers (see common.h for the protocol and the tag scheme).
*/
#define _DEFAULT_SOURCE /* statfs */
#define _POSIX_C_SOURCE 200809L

#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/vfs.h>
#endif

#ifndef BENCH_CACHE_DIR
#define BENCH_CACHE_DIR "bench/data"
#endif

static const uint32_t k_moduli[4] = {2, 10, 100, 1000};

double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_thread_cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint64_t bench_rss_bytes(void) {
  unsigned long size = 0, rss = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f) return 0;
  if (fscanf(f, "%lu %lu", &size, &rss) != 2) rss = 0;
  fclose(f);
  return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

void bench_rss_peak_reset(void) {
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (!f) return;
  fputs("5", f);
  fclose(f);
}

void bench_perf_mark(int on) {
  const char *env = getenv("BENCH_PERF_CTL"), *comma;
  char ctl[512], ack[8] = {0};
  FILE *c, *a;
  if (!env || !*env) return;
  comma = strchr(env, ',');
  if (!comma || (size_t)(comma - env) >= sizeof ctl) {
    fprintf(stderr, "BENCH_PERF_CTL must be CTL_FIFO,ACK_FIFO (got '%s')\n", env);
    exit(1);
  }
  memcpy(ctl, env, (size_t)(comma - env));
  ctl[comma - env] = 0;
  /* Opening a FIFO waits for perf to have the other end open: perf opens both at start-up. */
  if (!(c = fopen(ctl, "w")) || !(a = fopen(comma + 1, "r"))) {
    fprintf(stderr, "BENCH_PERF_CTL: cannot open the FIFOs of '%s'\n", env);
    exit(1);
  }
  fputs(on ? "enable\n" : "disable\n", c);
  fflush(c);
  if (!fgets(ack, sizeof ack, a) || strncmp(ack, "ack", 3)) {
    fprintf(stderr, "BENCH_PERF_CTL: perf did not acknowledge '%s'\n", on ? "enable" : "disable");
    exit(1);
  }
  fclose(c);
  fclose(a);
}

uint64_t bench_rss_peak_bytes(void) {
  char line[256];
  unsigned long kb = 0;
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %lu kB", &kb) == 1) break;
  fclose(f);
  return (uint64_t)kb * 1024u;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double bench_median(double *v, size_t n) {
  if (n == 0) return 0;
  qsort(v, n, sizeof *v, cmp_double); /* order of equal doubles is irrelevant here */
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- command line */

static void usage(const char *prog) {
  fprintf(stderr,
          "usage: %s [options]\n"
          "  --dataset NAME   fmnist-l2 | fmnist-pm1-l2 | fmnist-ip | fmnist-p128-l2 (fmnist-l2)\n"
          "  --n N --nq NQ    base rows and queries, 0 = all (0, 0)\n"
          "  --M M --efc EFC  HNSW parameters (16, 200)\n"
          "  --k K            neighbours per query (10)\n"
          "  --ef LIST        search ef values (10,20,40,80,160,320)\n"
          "  --sel LIST       filter selectivities, each 1/2, 1/10, 1/100 or 1/1000 (0.5,0.1,0.01,0.001)\n"
          "  --filter-ef LIST ef for filtered searches (80)\n"
          "  --filter-nq N    queries for filtered search (1000)\n"
          "  --exact-nq N     queries for exact-search QPS (500)\n"
          "  --ingest-n N     records per ingestion run (10000)\n"
          "  --batch B        records per insert batch while building (1000)\n"
          "  --runs R         timed repetitions, median reported (3)\n"
          "  --threads T      ground-truth threads (2)\n"
          "  --tests LIST     search,filter,exact,ingest,snapshot,check,kernel,append,durable\n"
          "                   (default: all but append,durable; 'all' = every one)\n"
          "  --durable-single-n N  durable single inserts, one fsync each (200)\n"
          "  --store-dir DIR  where temporary store directories are made ($TMPDIR or /tmp)\n"
          "  --traversal T    valori_bench: none | int8 (compact traversal copy over the data's range) |\n"
          "                   ab (search: a default and an int8 store, timed passes alternating) (none);\n"
          "                   pair_bench: none | int8 (an int8 store in the rounds too); others: none\n"
          "  --mode LABEL     label for the JSON lines (custom)\n"
          "  --src DIR        Fashion-MNIST directory (%s)\n"
          "  --cache DIR      ground-truth cache directory (%s)\n",
          prog, BENCH_FMNIST_DIR, BENCH_CACHE_DIR);
}

static int parse_u32_list(const char *s, uint32_t *out, size_t *n) {
  char *end;
  *n = 0;
  while (*s) {
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || v == 0 || v > 1000000 || *n >= BENCH_MAX_LIST) return -1;
    out[(*n)++] = (uint32_t)v;
    s = *end == ',' ? end + 1 : end;
    if (*end && *end != ',') return -1;
  }
  return *n ? 0 : -1;
}

static int parse_double_list(const char *s, double *out, size_t *n) {
  char *end;
  *n = 0;
  while (*s) {
    double v = strtod(s, &end);
    if (end == s || !(v > 0 && v <= 1) || *n >= BENCH_MAX_LIST) return -1;
    out[(*n)++] = v;
    s = *end == ',' ? end + 1 : end;
    if (*end && *end != ',') return -1;
  }
  return *n ? 0 : -1;
}

static int parse_tests(const char *s, unsigned *out) {
  static const struct { const char *name; unsigned bit; } names[] = {
      {"search", BENCH_T_SEARCH}, {"filter", BENCH_T_FILTER},     {"exact", BENCH_T_EXACT},
      {"ingest", BENCH_T_INGEST}, {"snapshot", BENCH_T_SNAPSHOT}, {"check", BENCH_T_CHECK},
      {"kernel", BENCH_T_KERNEL}, {"append", BENCH_T_APPEND},     {"durable", BENCH_T_DURABLE},
      {"all", BENCH_T_ALL},       {"none", 0}};
  *out = 0;
  while (*s) {
    size_t len = strcspn(s, ",");
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
      if (strlen(names[i].name) == len && !strncmp(s, names[i].name, len)) break;
    if (i == sizeof names / sizeof names[0]) return -1;
    *out |= names[i].bit;
    s += len;
    if (*s == ',') s++;
  }
  return 0;
}

/* --traversal values a driver takes (see the usage text). */
static int traversal_ok(const char *v, const char *prog) {
  if (!strcmp(v, "none")) return 1;
  if (!strcmp(prog, "valori_bench")) return !strcmp(v, "int8") || !strcmp(v, "ab");
  if (!strcmp(prog, "pair_bench")) return !strcmp(v, "int8");
  return 0;
}

int bench_opts_parse(int argc, char **argv, bench_opts *o, const char *prog) {
  memset(o, 0, sizeof *o);
  o->dataset = "fmnist-l2";
  o->src_dir = BENCH_FMNIST_DIR;
  o->cache_dir = BENCH_CACHE_DIR;
  o->mode = "custom";
  o->M = 16, o->efc = 200, o->k = 10;
  parse_u32_list("10,20,40,80,160,320", o->efs, &o->nef);
  parse_u32_list("80", o->filter_efs, &o->nfef);
  parse_double_list("0.5,0.1,0.01,0.001", o->sels, &o->nsel);
  o->filter_nq = 1000, o->exact_nq = 500, o->ingest_n = 10000, o->batch = 1000;
  o->runs = 3, o->threads = 2, o->tests = BENCH_T_DEFAULT;
  o->durable_single_n = 200;
  o->store_dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  o->traversal = "none";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    int bad = 0;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(prog);
      return -1;
    }
    if (!v) {
      fprintf(stderr, "%s: option %s needs a value\n", prog, a);
      usage(prog);
      return -1;
    }
    i++;
    if (!strcmp(a, "--dataset")) o->dataset = v;
    else if (!strcmp(a, "--src")) o->src_dir = v;
    else if (!strcmp(a, "--cache")) o->cache_dir = v;
    else if (!strcmp(a, "--mode")) o->mode = v;
    else if (!strcmp(a, "--n")) o->n = strtoul(v, NULL, 10);
    else if (!strcmp(a, "--nq")) o->nq = strtoul(v, NULL, 10);
    else if (!strcmp(a, "--M")) bad = (o->M = (uint32_t)strtoul(v, NULL, 10)) < 2;
    else if (!strcmp(a, "--efc")) bad = (o->efc = (uint32_t)strtoul(v, NULL, 10)) < 1;
    else if (!strcmp(a, "--k")) bad = (o->k = (uint32_t)strtoul(v, NULL, 10)) < 1 || o->k > BENCH_GT_K;
    else if (!strcmp(a, "--ef")) bad = parse_u32_list(v, o->efs, &o->nef);
    else if (!strcmp(a, "--filter-ef")) bad = parse_u32_list(v, o->filter_efs, &o->nfef);
    else if (!strcmp(a, "--sel")) bad = parse_double_list(v, o->sels, &o->nsel);
    else if (!strcmp(a, "--filter-nq")) o->filter_nq = strtoul(v, NULL, 10);
    else if (!strcmp(a, "--exact-nq")) o->exact_nq = strtoul(v, NULL, 10);
    else if (!strcmp(a, "--ingest-n")) o->ingest_n = strtoul(v, NULL, 10);
    else if (!strcmp(a, "--batch")) bad = (o->batch = strtoul(v, NULL, 10)) < 1;
    else if (!strcmp(a, "--runs")) bad = (o->runs = atoi(v)) < 1;
    else if (!strcmp(a, "--threads")) bad = (o->threads = atoi(v)) < 1;
    else if (!strcmp(a, "--tests")) bad = parse_tests(v, &o->tests);
    else if (!strcmp(a, "--durable-single-n")) o->durable_single_n = strtoul(v, NULL, 10);
    else if (!strcmp(a, "--store-dir")) o->store_dir = v;
    else if (!strcmp(a, "--traversal"))
      bad = (o->traversal = v, !traversal_ok(v, prog));
    else {
      fprintf(stderr, "%s: unknown option %s\n", prog, a);
      usage(prog);
      return -1;
    }
    if (bad) {
      fprintf(stderr, "%s: bad value '%s' for %s\n", prog, v, a);
      return -1;
    }
  }
  for (size_t i = 0; i < o->nsel; i++) {
    uint32_t m;
    if (bench_sel_modulus(o->sels[i], &m)) {
      fprintf(stderr, "%s: selectivity %g is not one of 0.5, 0.1, 0.01, 0.001\n", prog, o->sels[i]);
      return -1;
    }
  }
  return 0;
}

/* ---- filters */

int bench_sel_modulus(double sel, uint32_t *m) {
  for (int i = 0; i < 4; i++) {
    double want = 1.0 / k_moduli[i];
    if (sel > want * 0.999 && sel < want * 1.001) {
      *m = k_moduli[i];
      return 0;
    }
  }
  return -1;
}

int bench_tag_allowed(uint64_t index, uint32_t m) {
  return bench_hash64(index ^ BENCH_TAG_SALT) % m == 0;
}

uint64_t bench_tag_class(uint64_t index) {
  uint64_t h = bench_hash64(index ^ BENCH_TAG_SALT), c = 0;
  for (int i = 0; i < 4; i++) c += h % k_moduli[i] == 0;
  return c;
}

size_t bench_tag_set(uint32_t m, uint64_t tags[4]) {
  size_t level = 0, n = 0;
  for (int i = 0; i < 4; i++)
    if (k_moduli[i] == m) level = (size_t)i + 1;
  for (size_t c = level; level && c <= 4; c++) tags[n++] = c;
  return n;
}

int bench_filter_gt(const bench_dataset *ds, uint32_t m, size_t nq, size_t k, const char *cache_dir,
                    int threads, uint32_t **subset, size_t *nsub, bench_gt *gt) {
  char path[4096], label[128];
  uint32_t *s = malloc((ds->n + 1) * sizeof *s);
  size_t ns = 0;
  if (!s) return -1;
  for (size_t i = 0; i < ds->n; i++)
    if (bench_tag_allowed(i, m)) s[ns++] = (uint32_t)i;
  if (nq > ds->nq) nq = ds->nq;
  snprintf(label, sizeof label, "%s 1/%u filter", ds->name, m);
  if (cache_dir)
    snprintf(path, sizeof path, "%s/%s-n%zu-q%zu-f%u-k%zu.gt", cache_dir, ds->name, ds->n, nq, m, k);
  if (bench_gt_cached(cache_dir ? path : NULL, ds->base, ds->n, s, ns, ds->queries, nq, ds->dim,
                      ds->metric, k, threads, label, gt)) {
    free(s);
    return -1;
  }
  *subset = s;
  *nsub = ns;
  return 0;
}

/* ---- JSON */

void bench_json_head(char *buf, size_t cap, const bench_opts *o, const bench_dataset *ds,
                     const char *engine, const char *kind) {
  snprintf(buf, cap,
           "{\"engine\":\"%s\",\"kind\":\"%s\",\"mode\":\"%s\",\"dataset\":\"%s\",\"metric\":\"%s\","
           "\"n\":%zu,\"nq\":%zu,\"dim\":%zu,\"M\":%u,\"efc\":%u",
           engine, kind, o->mode, ds ? ds->name : o->dataset,
           ds ? (ds->metric == BENCH_IP ? "ip" : "l2") : "", ds ? ds->n : o->n,
           ds ? ds->nq : o->nq, ds ? ds->dim : 0, o->M, o->efc);
  if (o->traversal && strcmp(o->traversal, "none") && strcmp(o->traversal, "ab")) { /* only when set: default rows stay as they were */
    size_t len = strlen(buf);
    snprintf(buf + len, cap > len ? cap - len : 0, ",\"traversal\":\"%s\"", o->traversal);
  }
}

void bench_emit(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stdout, fmt, ap);
  va_end(ap);
  fflush(stdout);
}

/* The file system type of dir, for the report (a tmpfs "fsync" costs nothing). */
const char *bench_fs_type(const char *dir) {
#if defined(__linux__)
  struct statfs sf;
  if (statfs(dir, &sf) != 0) return "unknown";
  switch ((unsigned long)sf.f_type) {
    case 0xEF53ul: return "ext4";
    case 0x58465342ul: return "xfs";
    case 0x9123683Eul: return "btrfs";
    case 0x01021994ul: return "tmpfs";
    case 0x794C7630ul: return "overlayfs";
    default: return "other";
  }
#else
  (void)dir;
  return "unknown";
#endif
}

