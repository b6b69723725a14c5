/*
** server_bench.c: `valori serve` under load, against the same work done in-process, in one run
** (issue 12 "Benchmarks"; bench/README.md "Server"). It starts a real `valori serve` (the Release
** build next to this driver) on 127.0.0.1 port 0 in a temporary data directory and drives it with
** load.c (libcurl multi, closed loop, N concurrent kept-alive clients), on Fashion-MNIST rows
** (data.h: fmnist-l2 784-d or its 128-d projection fmnist-p128-l2):
**
**   ingest  the base in batches of --batch records: in-process into a durable store (POSIX VFS,
**           VALORI_SYNC_FULL, valori_insert_batch), then over HTTP as binary batches
**           (application/vnd.valori.vectors) and as JSON batches, one client. The server's state
**           root and index digest must equal the in-process store's (same events, same state).
**   search  --nq queries at --ef, k 10, mode hnsw: in-process with 1 and 2 threads (one searcher
**           each) on that store, then over HTTP with --clients concurrent clients. Every server
**           answer must list exactly the in-process ids, in order. QPS, p50/p99 latency.
**   floor   GET /healthz with the same client counts: what one request costs the server at least.
**   writes  durable single-record writes (POST .../records, one record each) with --write-clients
**           concurrent clients, against in-process single valori_insert calls on a durable store
**           (one fsync each). The server acknowledges a write once durable and shares fsyncs
**           between concurrent writers (group commit).
**   many    a second server with --max-open C: C collections created and written (one record
**           each, so every one is open), the server's resident memory and file descriptors before
**           and after (/proc/PID/status, /proc/PID/fd).
**
** The client shares the machine with the server: its CPU time is reported next to each loop.
** Output: JSON lines (kinds server-meta, server-ingest, server-search, server-floor, server-writes,
** server-many; fields in bench/report.py), progress on stderr. Any failed call, wrong answer or
** unexpected status ends the run with status 1: no speed is reported for a wrong answer.
*/
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700 /* nftw */

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "data.h"
#include "load.h"
#include "valori.h"
#include "valori_native.h"

#define T_INGEST 1u
#define T_SEARCH 2u
#define T_FLOOR 4u
#define T_WRITES 8u
#define T_MANY 16u
#define MAXL 8

typedef struct sb_opts {
  bench_opts b; /* dataset, src_dir, mode, n, nq, M, efc, k, store_dir (only these are used) */
  const char *server;
  uint32_t ef;
  size_t batch, floor_n, inproc_writes, collections;
  int clients[MAXL], threads[MAXL], wclients[MAXL];
  size_t nclients, nthreads, nwclients;
  size_t writes[MAXL], nwrites;
  unsigned tests;
  double max_s;
} sb_opts;

static void die(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;
static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "server_bench: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

#define CHECK(call)                                                                           \
  do {                                                                                        \
    int rc_ = (call);                                                                         \
    if (rc_ != VALORI_OK) die("%s: %s (%s)", #call, valori_code_name(rc_), valori_strerror(rc_)); \
  } while (0)

/* ---- the server process */

typedef struct server {
  pid_t pid;
  int out;       /* its stdout (read end) */
  char url[128]; /* http://127.0.0.1:PORT */
  pthread_t drain;
  int draining;
} server;

/* Reads the server's stdout after "ready" so that it never blocks on a full pipe. */
static void *drain_out(void *arg) {
  char buf[4096];
  server *s = (server *)arg;
  while (read(s->out, buf, sizeof buf) > 0) {
  }
  return NULL;
}

/* Starts `valori serve --listen 127.0.0.1:0 --data DATA --snapshot-every 0 EXTRA...` and waits (at
** most 120 s) for its "ready" line. */
static void server_start(const sb_opts *o, server *s, const char *data, const char *extra1, const char *extra2) {
  int p[2];
  char line[8192];
  size_t ll = 0;
  double t0 = bench_now();
  memset(s, 0, sizeof *s);
  if (pipe(p)) die("pipe: %s", strerror(errno));
  s->pid = fork();
  if (s->pid < 0) die("fork: %s", strerror(errno));
  if (s->pid == 0) {
    const char *argv[12];
    int a = 0;
    dup2(p[1], 1);
    close(p[0]), close(p[1]);
    argv[a++] = o->server, argv[a++] = "serve", argv[a++] = "--listen", argv[a++] = "127.0.0.1:0";
    argv[a++] = "--data", argv[a++] = data, argv[a++] = "--snapshot-every", argv[a++] = "0";
    if (extra1) argv[a++] = extra1;
    if (extra2) argv[a++] = extra2;
    argv[a] = NULL;
    execv(o->server, (char *const *)argv);
    fprintf(stderr, "server_bench: cannot run %s: %s\n", o->server, strerror(errno));
    _exit(127);
  }
  close(p[1]);
  s->out = p[0];
  for (;;) { /* line by line until "ready: " */
    struct pollfd pf = {s->out, POLLIN, 0};
    ssize_t r;
    char *nl;
    if (bench_now() - t0 > 120) die("%s did not print 'ready' within 120 s", o->server);
    if (poll(&pf, 1, 1000) <= 0) continue;
    r = read(s->out, line + ll, sizeof line - 1 - ll);
    if (r <= 0) die("%s exited before it was ready", o->server);
    ll += (size_t)r;
    line[ll] = 0;
    while ((nl = strchr(line, '\n')) != NULL) {
      *nl = 0;
      if (!strncmp(line, "valori listening on http://", 27)) snprintf(s->url, sizeof s->url, "%.100s", line + 20);
      if (!strncmp(line, "ready: ", 7)) {
        if (!s->url[0]) die("the server was ready without saying where it listens");
        if (pthread_create(&s->drain, NULL, drain_out, s)) die("pthread_create failed");
        s->draining = 1;
        return;
      }
      ll -= (size_t)(nl + 1 - line);
      memmove(line, nl + 1, ll + 1);
    }
    if (ll == sizeof line - 1) ll = 0; /* a very long line: not one we wait for */
  }
}

/* SIGTERM and wait (60 s, then SIGKILL); the server must exit 0 (a clean stop). */
static void server_stop(server *s) {
  int st = 0;
  double t0 = bench_now();
  kill(s->pid, SIGTERM);
  while (waitpid(s->pid, &st, WNOHANG) == 0) {
    if (bench_now() - t0 > 60) {
      kill(s->pid, SIGKILL);
      waitpid(s->pid, &st, 0);
      die("the server did not stop within 60 s of SIGTERM");
    }
    usleep(20000);
  }
  if (s->draining) pthread_join(s->drain, NULL);
  close(s->out);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) die("the server stopped with status %d", st);
}

/* Resident set (bytes) and open file descriptors of a process. */
static void proc_usage(pid_t pid, uint64_t *rss, size_t *fds) {
  char p[64], line[256];
  FILE *f;
  DIR *d;
  struct dirent *e;
  *rss = 0, *fds = 0;
  snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
  if ((f = fopen(p, "r")) != NULL) {
    while (fgets(line, sizeof line, f))
      if (!strncmp(line, "VmRSS:", 6)) *rss = strtoull(line + 6, NULL, 10) * 1024;
    fclose(f);
  }
  snprintf(p, sizeof p, "/proc/%d/fd", (int)pid);
  if ((d = opendir(p)) != NULL) {
    while ((e = readdir(d)) != NULL)
      if (e->d_name[0] != '.') (*fds)++;
    closedir(d);
  }
  if (!*rss || !*fds) die("cannot read /proc/%d (memory and descriptors of the server)", (int)pid);
}

/* One request outside the measurements; dies unless the status is `want`. Returns the body. */
static char *call(const server *s, const char *method, const char *path, const char *json, long want) {
  long st = 0;
  char *r = NULL;
  if (lg_fetch(s->url, method, path, json ? "application/json" : NULL, json, json ? strlen(json) : 0, &st, &r))
    die("%s %s failed", method, path);
  if (st != want) die("%s %s: status %ld, expected %ld: %s", method, path, st, want, r ? r : "");
  return r;
}

/* The string value of "key" in a flat JSON answer of the server (copied into out). */
static void json_str(const char *body, const char *key, char *out, size_t cap) {
  char pat[64];
  const char *p, *q;
  snprintf(pat, sizeof pat, "\"%s\":\"", key);
  if (!(p = strstr(body, pat))) die("no \"%s\" in %s", key, body);
  p += strlen(pat);
  if (!(q = strchr(p, '"')) || (size_t)(q - p) >= cap) die("bad \"%s\" in %s", key, body);
  memcpy(out, p, (size_t)(q - p));
  out[q - p] = 0;
}

static void hex32(const uint8_t b[32], char out[65]) {
  for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(p);
}

static void remove_tree(const char *dir) {
  if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS)) fprintf(stderr, "server_bench: warning: cannot remove %s\n", dir);
}

static void temp_dir(const sb_opts *o, const char *tag, char *out, size_t cap) {
  snprintf(out, cap, "%s/valori-serverbench-%s-XXXXXX", o->b.store_dir, tag);
  if (!mkdtemp(out)) die("mkdtemp %s: %s", out, strerror(errno));
}

/* ---- request bodies */

typedef struct sbuf {
  char *p;
  size_t len, cap;
} sbuf;

static void sb_need(sbuf *b, size_t more) {
  if (b->len + more + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + more + 1) cap *= 2;
  if (!(b->p = (char *)realloc(b->p, cap))) die("out of memory");
  b->cap = cap;
}

static void sb_printf(sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void sb_printf(sbuf *b, const char *fmt, ...) {
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  sb_need(b, (size_t)n);
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

/* A vector as a JSON array: %.9g gives back the same binary32 (the server rounds a JSON number to
** binary32 as a Float32Array does). */
static void sb_vector(sbuf *b, const float *v, size_t dim) {
  sb_need(b, dim * 16 + 2);
  b->p[b->len++] = '[';
  for (size_t j = 0; j < dim; j++) b->len += (size_t)sprintf(b->p + b->len, j ? ",%.9g" : "%.9g", (double)v[j]);
  b->p[b->len++] = ']';
  b->p[b->len] = 0;
}

static void put_u32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}

/* ---- in-process durable store */

typedef struct store {
  char dir[4096];
  valori_vfs *vfs;
  valori_db *db;
} store;

static void store_open(const sb_opts *o, const bench_dataset *ds, const char *tag, store *st) {
  valori_options opt;
  temp_dir(o, tag, st->dir, sizeof st->dir);
  CHECK(valori_posix_vfs_open(st->dir, 0, &st->vfs));
  valori_options_init(&opt);
  opt.dim = (uint32_t)ds->dim;
  opt.metric = ds->metric == BENCH_IP ? VALORI_METRIC_IP : VALORI_METRIC_L2;
  opt.index = VALORI_INDEX_HNSW;
  opt.hnsw_m = o->b.M;
  opt.hnsw_ef_construction = o->b.efc;
  opt.flags = VALORI_OPEN_CREATE;
  opt.sync_mode = VALORI_SYNC_FULL;
  opt.snapshot_every = UINT64_MAX; /* as the server with --snapshot-every 0 */
  opt.vfs = st->vfs;
  CHECK(valori_open("bench-store", &opt, &st->db));
}

static void store_close(store *st) {
  CHECK(valori_close(st->db));
  valori_posix_vfs_close(st->vfs);
  remove_tree(st->dir);
}

static const char *metric_name(const bench_dataset *ds) { return ds->metric == BENCH_IP ? "ip" : "l2"; }

static void create_collection(const server *s, const sb_opts *o, const bench_dataset *ds, const char *name) {
  char body[256];
  snprintf(body, sizeof body, "{\"name\":\"%s\",\"dim\":%zu,\"metric\":\"%s\",\"hnsw\":{\"m\":%u,\"ef_construction\":%u}}",
           name, ds->dim, metric_name(ds), o->b.M, o->b.efc);
  free(call(s, "POST", "/v1/collections", body, 201));
}

static void head(char *buf, size_t cap, const sb_opts *o, const bench_dataset *ds, const char *engine, const char *kind) {
  bench_json_head(buf, cap, &o->b, ds, engine, kind);
}

/* ---- ingest */

/* One client only: the body buffer is reused for the next batch once the previous one is answered. */
typedef struct ingest_ctx {
  const sb_opts *o;
  const bench_dataset *ds;
  int binary;
  char path[128];
  sbuf body;
} ingest_ctx;

static int ingest_make(void *arg, size_t i, lg_request *rq) {
  ingest_ctx *x = (ingest_ctx *)arg;
  const size_t dim = x->ds->dim, first = i * x->o->batch;
  size_t nb = x->ds->n - first < x->o->batch ? x->ds->n - first : x->o->batch;
  x->body.len = 0;
  if (x->binary) {
    size_t bytes = 24 + nb * dim * 4 + nb * 8;
    unsigned char *p;
    sb_need(&x->body, bytes);
    p = (unsigned char *)x->body.p;
    memcpy(p, "VLVB", 4);
    put_u32(p + 4, 1), put_u32(p + 8, (uint32_t)nb), put_u32(p + 12, (uint32_t)dim), put_u32(p + 16, 1), put_u32(p + 20, 0);
    memcpy(p + 24, x->ds->base + first * dim, nb * dim * 4); /* little-endian binary32 on this host */
    for (size_t j = 0; j < nb; j++) {
      uint64_t t = bench_tag_class(first + j);
      for (int b = 0; b < 8; b++) p[24 + nb * dim * 4 + j * 8 + (size_t)b] = (unsigned char)(t >> (8 * b));
    }
    x->body.len = bytes;
    rq->ctype = "application/vnd.valori.vectors";
  } else {
    sb_printf(&x->body, "{\"records\":[");
    for (size_t j = 0; j < nb; j++) {
      sb_printf(&x->body, j ? ",{\"vector\":" : "{\"vector\":");
      sb_vector(&x->body, x->ds->base + (first + j) * dim, dim);
      sb_printf(&x->body, ",\"tag\":%" PRIu64 "}", bench_tag_class(first + j));
    }
    sb_printf(&x->body, "]}");
    rq->ctype = "application/json";
  }
  rq->method = "POST", rq->path = x->path, rq->body = x->body.p, rq->len = x->body.len;
  return 0;
}

static int ingest_check(void *arg, size_t i, long status, const char *body, size_t len) {
  ingest_ctx *x = (ingest_ctx *)arg;
  char want[64];
  (void)len;
  snprintf(want, sizeof want, "\"first_id\":\"%zu\"", i * x->o->batch + 1);
  if (status != 201 || !strstr(body, want)) {
    fprintf(stderr, "server_bench: batch %zu: status %ld, %s (expected 201 with %s)\n", i, status, body, want);
    return -1;
  }
  return 0;
}

/* Ingests the base into collection `name` (binary or JSON batches, one client) and checks that the
** collection's root and index digest are root/digest (the in-process store's). */
static void server_ingest(const server *s, const sb_opts *o, const bench_dataset *ds, const char *name, int binary,
                          const char *root, const char *digest) {
  ingest_ctx x;
  lg_result r;
  char h[512], p[160], got_root[80], got_dig[80];
  char *st;
  size_t nbatch = (ds->n + o->batch - 1) / o->batch;
  memset(&x, 0, sizeof x);
  x.o = o, x.ds = ds, x.binary = binary;
  snprintf(x.path, sizeof x.path, "/v1/collections/%s/records/batch", name);
  create_collection(s, o, ds, name);
  fprintf(stderr, "[server_bench] ingest over HTTP: %zu x %zu-d as %zu %s batches\n", ds->n, ds->dim, nbatch,
          binary ? "binary" : "JSON");
  if (lg_run(s->url, 1, nbatch, o->max_s, ingest_make, ingest_check, &x, &r)) die("HTTP ingest failed");
  free(x.body.p);
  snprintf(p, sizeof p, "/v1/collections/%s/state", name);
  st = call(s, "GET", p, NULL, 200);
  json_str(st, "root", got_root, sizeof got_root);
  json_str(st, "index_digest", got_dig, sizeof got_dig);
  free(st);
  if (strcmp(got_root, root) || strcmp(got_dig, digest))
    die("collection %s: root %s digest %s, the in-process store has %s %s", name, got_root, got_dig, root, digest);
  head(h, sizeof h, o, ds, "valori-server", "server-ingest");
  bench_emit("%s,\"api\":\"%s\",\"batch\":%zu,\"records\":%zu,\"requests\":%zu,\"vectors_per_s\":%.1f,"
             "\"wall_vectors_per_s\":%.1f,\"client_cpu_s\":%.3f,\"wall_s\":%.3f,\"same_state\":true}\n",
             h, binary ? "binary" : "json", o->batch, ds->n, nbatch, (double)ds->n / r.busy_s,
             (double)ds->n / r.wall_s, r.cpu_s, r.wall_s);
}

/* ---- search */

typedef struct search_ctx {
  const sb_opts *o;
  const bench_dataset *ds;
  valori_db *db;
  uint64_t *want; /* nq*k expected ids (in-process, 1 thread) */
  size_t *nwant;
  char **bodies;  /* nq JSON query bodies */
  size_t *blen;
  char path[128];
  double *lat;    /* in-process per-query latencies */
  int nthr;
  size_t mismatches;
} search_ctx;

typedef struct thr_arg {
  search_ctx *x;
  int t;
} thr_arg;

static void *search_thread(void *arg) {
  thr_arg *a = (thr_arg *)arg;
  search_ctx *x = a->x;
  const size_t k = x->o->b.k, dim = x->ds->dim;
  valori_searcher *se = NULL;
  valori_hit *hits = (valori_hit *)malloc(k * sizeof *hits);
  valori_search_params p;
  memset(&p, 0, sizeof p);
  p.k = (uint32_t)k, p.ef = x->o->ef, p.mode = VALORI_SEARCH_HNSW;
  if (!hits) die("out of memory");
  CHECK(valori_searcher_create(x->db, &se));
  for (size_t q = (size_t)a->t; q < x->ds->nq; q += (size_t)x->nthr) {
    size_t n = 0;
    double t0 = bench_now();
    CHECK(valori_search(x->db, se, x->ds->queries + q * dim, &p, hits, &n));
    x->lat[q] = bench_now() - t0;
    if (x->nwant[q] == (size_t)-1) { /* the first (1-thread) run records the answers */
      for (size_t j = 0; j < n; j++) x->want[q * k + j] = hits[j].id;
      x->nwant[q] = n;
    } else {
      int same = n == x->nwant[q];
      for (size_t j = 0; same && j < n; j++) same = x->want[q * k + j] == hits[j].id;
      if (!same) die("in-process query %zu with %d threads answered differently", q, x->nthr);
    }
  }
  valori_searcher_free(se);
  free(hits);
  return NULL;
}

static void inproc_search(search_ctx *x, int threads) {
  pthread_t th[MAXL];
  thr_arg a[MAXL];
  char h[512];
  double t0, c0, wall, cpu, p50, p99;
  x->nthr = threads;
  t0 = bench_now(), c0 = bench_cpu_now();
  for (int t = 0; t < threads; t++) {
    a[t].x = x, a[t].t = t;
    if (pthread_create(&th[t], NULL, search_thread, &a[t])) die("pthread_create failed");
  }
  for (int t = 0; t < threads; t++) pthread_join(th[t], NULL);
  wall = bench_now() - t0, cpu = bench_cpu_now() - c0;
  p50 = lg_percentile_ms(x->lat, x->ds->nq, 50);
  p99 = lg_percentile_ms(x->lat, x->ds->nq, 99);
  head(h, sizeof h, x->o, x->ds, "valori", "server-search");
  bench_emit("%s,\"where\":\"in-process\",\"threads\":%d,\"clients\":null,\"ef\":%u,\"k\":%zu,\"queries\":%zu,"
             "\"qps\":%.1f,\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"wall_s\":%.3f,\"cpu_s\":%.3f,\"same_answers\":true}\n",
             h, threads, x->o->ef, (size_t)x->o->b.k, x->ds->nq, (double)x->ds->nq / wall, p50, p99, wall, cpu);
}

static int search_make(void *arg, size_t i, lg_request *rq) {
  search_ctx *x = (search_ctx *)arg;
  size_t q = i % x->ds->nq;
  rq->method = "POST", rq->path = x->path, rq->ctype = "application/json", rq->body = x->bodies[q], rq->len = x->blen[q];
  return 0;
}

/* The answer must be 200 with exactly the in-process ids in order ("id":"N" of each hit). */
static int search_check(void *arg, size_t i, long status, const char *body, size_t len) {
  search_ctx *x = (search_ctx *)arg;
  size_t q = i % x->ds->nq, n = 0;
  const char *p = body;
  (void)len;
  if (status != 200) {
    fprintf(stderr, "server_bench: query %zu: status %ld: %s\n", q, status, body);
    return -1;
  }
  while ((p = strstr(p, "{\"id\":\"")) != NULL) {
    uint64_t id = strtoull(p + 7, NULL, 10);
    if (n >= x->nwant[q] || id != x->want[q * x->o->b.k + n]) break;
    n++, p += 7;
  }
  if (n != x->nwant[q] || (p && strstr(p, "{\"id\":\""))) {
    fprintf(stderr, "server_bench: query %zu: the server's hits differ from the in-process search: %s\n", q, body);
    return -1;
  }
  return 0;
}

static void run_search(const server *s, const sb_opts *o, const bench_dataset *ds, valori_db *db, const char *name) {
  search_ctx x;
  sbuf b = {0};
  char h[512];
  memset(&x, 0, sizeof x);
  x.o = o, x.ds = ds, x.db = db;
  x.want = (uint64_t *)calloc(ds->nq * o->b.k, sizeof *x.want);
  x.nwant = (size_t *)malloc(ds->nq * sizeof *x.nwant);
  x.lat = (double *)malloc(ds->nq * sizeof *x.lat);
  x.bodies = (char **)calloc(ds->nq, sizeof *x.bodies);
  x.blen = (size_t *)calloc(ds->nq, sizeof *x.blen);
  if (!x.want || !x.nwant || !x.lat || !x.bodies || !x.blen) die("out of memory");
  for (size_t q = 0; q < ds->nq; q++) x.nwant[q] = (size_t)-1;
  snprintf(x.path, sizeof x.path, "/v1/collections/%s/search", name);
  fprintf(stderr, "[server_bench] search: %zu queries at ef %u in-process (1 thread first: the reference answers)\n",
          ds->nq, o->ef);
  inproc_search(&x, 1);
  for (size_t t = 0; t < o->nthreads; t++)
    if (o->threads[t] != 1) inproc_search(&x, o->threads[t]);
  for (size_t q = 0; q < ds->nq; q++) {
    b.len = 0;
    sb_printf(&b, "{\"vector\":");
    sb_vector(&b, ds->queries + q * ds->dim, ds->dim);
    sb_printf(&b, ",\"k\":%u,\"ef\":%u,\"mode\":\"hnsw\"}", o->b.k, o->ef);
    if (!(x.bodies[q] = strdup(b.p))) die("out of memory");
    x.blen[q] = b.len;
  }
  free(b.p);
  for (size_t c = 0; c < o->nclients; c++) {
    lg_result r;
    size_t total = ds->nq;
    fprintf(stderr, "[server_bench] search over HTTP: %zu queries, %d clients\n", total, o->clients[c]);
    if (lg_run(s->url, o->clients[c], total, o->max_s, search_make, search_check, &x, &r)) die("HTTP search failed");
    head(h, sizeof h, o, ds, "valori-server", "server-search");
    bench_emit("%s,\"where\":\"server\",\"threads\":null,\"clients\":%d,\"ef\":%u,\"k\":%zu,\"queries\":%zu,"
               "\"qps\":%.1f,\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"mean_ms\":%.4f,\"wall_s\":%.3f,\"client_cpu_s\":%.3f,"
               "\"connections\":%ld,\"same_answers\":true}\n",
               h, o->clients[c], o->ef, (size_t)o->b.k, r.done, r.qps, r.p50_ms, r.p99_ms, r.mean_ms, r.wall_s, r.cpu_s,
               r.connects);
  }
  for (size_t q = 0; q < ds->nq; q++) free(x.bodies[q]);
  free(x.bodies), free(x.blen), free(x.want), free(x.nwant), free(x.lat);
}

/* ---- ingest + search on one dataset */

static void run_ingest_search(const sb_opts *o, const bench_dataset *ds) {
  store st;
  server s;
  char data[4096], root[65], dig[65], h[512];
  uint8_t rb[32], db[32];
  uint64_t *tags = (uint64_t *)malloc(o->batch * sizeof *tags);
  double t0, c0, wall, cpu, tp;
  size_t nbatch = 0;
  if (!tags) die("out of memory");
  store_open(o, ds, "inproc", &st);
  fprintf(stderr, "[server_bench] ingest in-process (durable store, %s): %zu x %zu-d in batches of %zu\n",
          bench_fs_type(st.dir), ds->n, ds->dim, o->batch);
  t0 = bench_now(), c0 = bench_cpu_now(), tp = t0;
  for (size_t i = 0; i < ds->n; i += o->batch, nbatch++) {
    size_t nb = ds->n - i < o->batch ? ds->n - i : o->batch;
    uint64_t first = 0;
    for (size_t j = 0; j < nb; j++) tags[j] = bench_tag_class(i + j);
    CHECK(valori_insert_batch(st.db, nb, ds->base + i * ds->dim, tags, NULL, NULL, &first));
    if (first != i + 1) die("in-process batch ids are not consecutive");
    if (bench_now() - tp > 5.0) {
      tp = bench_now();
      fprintf(stderr, "  %zu/%zu records (%.0f vectors/s)\n", i + nb, ds->n, (double)(i + nb) / (tp - t0));
    }
  }
  wall = bench_now() - t0, cpu = bench_cpu_now() - c0;
  free(tags);
  CHECK(valori_state_root(st.db, rb));
  CHECK(valori_index_digest(st.db, db));
  hex32(rb, root), hex32(db, dig);
  head(h, sizeof h, o, ds, "valori", "server-ingest");
  bench_emit("%s,\"api\":\"in-process\",\"batch\":%zu,\"records\":%zu,\"requests\":%zu,\"vectors_per_s\":%.1f,"
             "\"wall_vectors_per_s\":%.1f,\"cpu_s\":%.3f,\"wall_s\":%.3f,\"fs\":\"%s\",\"same_state\":true}\n",
             h, o->batch, ds->n, nbatch, (double)ds->n / wall, (double)ds->n / wall, cpu, wall, bench_fs_type(st.dir));
  temp_dir(o, "data", data, sizeof data);
  server_start(o, &s, data, NULL, NULL);
  server_ingest(&s, o, ds, "bin", 1, root, dig);
  if (o->tests & T_INGEST) {
    server_ingest(&s, o, ds, "json", 0, root, dig);
    free(call(&s, "DELETE", "/v1/collections/json", NULL, 200));
  }
  if (o->tests & T_SEARCH) run_search(&s, o, ds, st.db, "bin");
  server_stop(&s);
  remove_tree(data);
  store_close(&st);
}

/* ---- floor */

static int floor_make(void *arg, size_t i, lg_request *rq) {
  (void)arg, (void)i;
  rq->method = "GET", rq->path = "/healthz";
  return 0;
}

static int expect_status(size_t i, long status, long want, const char *body) {
  if (status != want) {
    fprintf(stderr, "server_bench: request %zu: status %ld (expected %ld): %s\n", i, status, want, body);
    return -1;
  }
  return 0;
}

static int floor_check(void *arg, size_t i, long status, const char *body, size_t len) {
  (void)arg, (void)len;
  return expect_status(i, status, 200, body);
}

/* ---- durable single writes */

typedef struct write_ctx {
  const bench_dataset *ds;
  char **bodies;
  size_t *blen, nb;
  char path[128];
} write_ctx;

static int write_make(void *arg, size_t i, lg_request *rq) {
  write_ctx *x = (write_ctx *)arg;
  rq->method = "POST", rq->path = x->path, rq->ctype = "application/json";
  rq->body = x->bodies[i % x->nb], rq->len = x->blen[i % x->nb];
  return 0;
}

static int write_check(void *arg, size_t i, long status, const char *body, size_t len) {
  (void)arg, (void)len;
  return expect_status(i, status, 201, body);
}

/* The baseline of the writes: one valori_insert per write into a new durable store, each fsynced
** before the next. Measured before and after the HTTP levels (phase), since the cost of an fsync on a
** shared machine drifts; the report compares with the faster of the two. */
static void inproc_writes(const sb_opts *o, const bench_dataset *ds, const char *phase) {
  store st;
  uint64_t id;
  char h[512];
  const size_t nin = o->inproc_writes < ds->n ? o->inproc_writes : ds->n;
  double t0, w;
  store_open(o, ds, "single", &st);
  fprintf(stderr, "[server_bench] writes in-process (%s): %zu single durable inserts (%s)\n", phase, nin,
          bench_fs_type(st.dir));
  t0 = bench_now();
  for (size_t i = 0; i < nin; i++) CHECK(valori_insert(st.db, ds->base + i * ds->dim, bench_tag_class(i), NULL, 0, &id));
  w = bench_now() - t0;
  head(h, sizeof h, o, ds, "valori", "server-writes");
  bench_emit("%s,\"where\":\"in-process\",\"phase\":\"%s\",\"clients\":1,\"writes\":%zu,\"writes_per_s\":%.1f,"
             "\"p50_ms\":null,\"p99_ms\":null,\"wall_s\":%.3f,\"fs\":\"%s\"}\n",
             h, phase, nin, (double)nin / w, w, bench_fs_type(st.dir));
  store_close(&st);
}

static void run_floor_writes(const sb_opts *o, const bench_dataset *ds) {
  server s;
  char data[4096], h[512];
  temp_dir(o, "data", data, sizeof data);
  server_start(o, &s, data, NULL, NULL);
  if (o->tests & T_FLOOR) {
    for (size_t c = 0; c < o->nclients; c++) {
      lg_result r;
      fprintf(stderr, "[server_bench] floor: %zu x GET /healthz, %d clients\n", o->floor_n, o->clients[c]);
      if (lg_run(s.url, o->clients[c], o->floor_n, o->max_s, floor_make, floor_check, NULL, &r)) die("floor failed");
      head(h, sizeof h, o, ds, "valori-server", "server-floor");
      bench_emit("%s,\"endpoint\":\"GET /healthz\",\"clients\":%d,\"requests\":%zu,\"qps\":%.1f,\"p50_ms\":%.4f,"
                 "\"p99_ms\":%.4f,\"wall_s\":%.3f,\"client_cpu_s\":%.3f,\"connections\":%ld}\n",
                 h, o->clients[c], r.done, r.qps, r.p50_ms, r.p99_ms, r.wall_s, r.cpu_s, r.connects);
    }
  }
  if (o->tests & T_WRITES) {
    write_ctx x;
    sbuf b = {0};
    memset(&x, 0, sizeof x);
    x.ds = ds, x.nb = ds->n;
    x.bodies = (char **)calloc(x.nb, sizeof *x.bodies);
    x.blen = (size_t *)calloc(x.nb, sizeof *x.blen);
    if (!x.bodies || !x.blen) die("out of memory");
    for (size_t i = 0; i < x.nb; i++) {
      b.len = 0;
      sb_printf(&b, "{\"vector\":");
      sb_vector(&b, ds->base + i * ds->dim, ds->dim);
      sb_printf(&b, ",\"tag\":%" PRIu64 "}", bench_tag_class(i));
      if (!(x.bodies[i] = strdup(b.p))) die("out of memory");
      x.blen[i] = b.len;
    }
    free(b.p);
    inproc_writes(o, ds, "before");
    for (size_t c = 0; c < o->nwclients; c++) {
      lg_result r;
      char name[32], p[128];
      char *state;
      size_t total = o->writes[c < o->nwrites ? c : o->nwrites - 1];
      snprintf(name, sizeof name, "writes%d", o->wclients[c]);
      create_collection(&s, o, ds, name);
      snprintf(x.path, sizeof x.path, "/v1/collections/%s/records", name);
      fprintf(stderr, "[server_bench] writes over HTTP: %zu single-record writes, %d clients\n", total, o->wclients[c]);
      if (lg_run(s.url, o->wclients[c], total, o->max_s, write_make, write_check, &x, &r)) die("HTTP writes failed");
      snprintf(p, sizeof p, "/v1/collections/%s", name);
      state = call(&s, "GET", p, NULL, 200);
      snprintf(p, sizeof p, "\"durable_height\":%zu,", total);
      if (!strstr(state, p)) die("collection %s after %zu acknowledged writes: %s", name, total, state);
      free(state);
      head(h, sizeof h, o, ds, "valori-server", "server-writes");
      bench_emit("%s,\"where\":\"server\",\"clients\":%d,\"writes\":%zu,\"writes_per_s\":%.1f,\"p50_ms\":%.4f,"
                 "\"p99_ms\":%.4f,\"wall_s\":%.3f,\"client_cpu_s\":%.3f,\"fs\":\"%s\"}\n",
                 h, o->wclients[c], r.done, r.qps, r.p50_ms, r.p99_ms, r.wall_s, r.cpu_s, bench_fs_type(data));
      snprintf(p, sizeof p, "/v1/collections/%s", name);
      free(call(&s, "DELETE", p, NULL, 200));
    }
    inproc_writes(o, ds, "after");
    for (size_t i = 0; i < x.nb; i++) free(x.bodies[i]);
    free(x.bodies), free(x.blen);
  }
  server_stop(&s);
  remove_tree(data);
}

/* ---- many collections */

/* Bodies of the two phases, built before they run (in-flight requests borrow their body). */
typedef struct many_ctx {
  int insert; /* 0: create collection i, 1: insert one record into it */
  char path[128]; /* copied by load.c before the next make */
  sbuf *create, *write;
} many_ctx;

static int many_make(void *arg, size_t i, lg_request *rq) {
  many_ctx *x = (many_ctx *)arg;
  const sbuf *b = x->insert ? &x->write[i] : &x->create[i];
  if (!x->insert) snprintf(x->path, sizeof x->path, "/v1/collections");
  else snprintf(x->path, sizeof x->path, "/v1/collections/agent-%05zu/records", i);
  rq->method = "POST", rq->path = x->path, rq->ctype = "application/json", rq->body = b->p, rq->len = b->len;
  return 0;
}

static int many_check(void *arg, size_t i, long status, const char *body, size_t len) {
  (void)arg, (void)len;
  return expect_status(i, status, 201, body);
}

static void run_many(const sb_opts *o, const bench_dataset *ds) {
  server s;
  many_ctx x;
  lg_result rc, ri;
  char data[4096], h[512], maxopen[32], needle[96];
  uint64_t rss0, rss1;
  size_t fd0, fd1;
  char *m;
  const size_t n = o->collections;
  memset(&x, 0, sizeof x);
  x.create = (sbuf *)calloc(n, sizeof *x.create);
  x.write = (sbuf *)calloc(n, sizeof *x.write);
  if (!x.create || !x.write) die("out of memory");
  for (size_t i = 0; i < n; i++) {
    sb_printf(&x.create[i], "{\"name\":\"agent-%05zu\",\"dim\":%zu,\"hnsw\":{\"m\":%u,\"ef_construction\":%u}}", i,
              ds->dim, o->b.M, o->b.efc);
    sb_printf(&x.write[i], "{\"vector\":");
    sb_vector(&x.write[i], ds->base + (i % ds->n) * ds->dim, ds->dim);
    sb_printf(&x.write[i], "}");
  }
  temp_dir(o, "many", data, sizeof data);
  snprintf(maxopen, sizeof maxopen, "%zu", n);
  server_start(o, &s, data, "--max-open", maxopen);
  proc_usage(s.pid, &rss0, &fd0);
  fprintf(stderr, "[server_bench] many: %zu collections created, then one record each (16 clients)\n", n);
  if (lg_run(s.url, 16, n, o->max_s, many_make, many_check, &x, &rc)) die("creating collections failed");
  x.insert = 1;
  if (lg_run(s.url, 16, n, o->max_s, many_make, many_check, &x, &ri)) die("writing collections failed");
  for (size_t i = 0; i < n; i++) free(x.create[i].p), free(x.write[i].p);
  free(x.create), free(x.write);
  proc_usage(s.pid, &rss1, &fd1);
  m = call(&s, "GET", "/metrics", NULL, 200);
  snprintf(needle, sizeof needle, "\nvalori_collections_open %zu\n", n);
  if (!strstr(m, needle)) die("/metrics does not say that %zu collections are open", n);
  free(m);
  head(h, sizeof h, o, ds, "valori-server", "server-many");
  bench_emit("%s,\"collections\":%zu,\"records_each\":1,\"rss_before_bytes\":%" PRIu64 ",\"rss_after_bytes\":%" PRIu64
             ",\"rss_per_collection_bytes\":%.0f,\"fds_before\":%zu,\"fds_after\":%zu,\"fds_per_collection\":%.2f,"
             "\"creates_per_s\":%.1f,\"first_writes_per_s\":%.1f,\"fs\":\"%s\"}\n",
             h, n, rss0, rss1, ((double)rss1 - (double)rss0) / (double)n, fd0, fd1, ((double)fd1 - (double)fd0) / (double)n,
             rc.qps, ri.qps, bench_fs_type(data));
  server_stop(&s);
  remove_tree(data);
}

/* ---- command line */

static size_t parse_ints(const char *s, int *out, const char *what) {
  size_t n = 0;
  char *end;
  while (*s) {
    long v = strtol(s, &end, 10);
    if (end == s || v < 1 || v > 10000 || n == MAXL) die("%s: expected up to %d integers 1..10000, comma-separated", what, MAXL);
    out[n++] = (int)v;
    s = *end == ',' ? end + 1 : end;
    if (*end && *end != ',') die("%s: bad list", what);
  }
  return n;
}

static size_t parse_num(const char *s, const char *what) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s || *end) die("%s: expected a number", what);
  return (size_t)v;
}

static void usage(void) {
  fprintf(stderr,
          "usage: server_bench [options]   (bench/README.md, \"Server\")\n"
          "  --server PATH          valori binary (default: ../native/valori next to this driver)\n"
          "  --dataset NAME         fmnist-l2 | fmnist-p128-l2 | fmnist-pm1-l2 | fmnist-ip (default fmnist-p128-l2)\n"
          "  --n N --nq NQ          base rows (default 60000) and queries (default 10000)\n"
          "  --ef EF --k K          search ef (40) and k (10); --M 16 --efc 200 the HNSW parameters\n"
          "  --batch B              records per ingest batch (1000)\n"
          "  --clients LIST         concurrent HTTP clients for search and the floor (1,2,8,32)\n"
          "  --threads LIST         in-process search threads (1,2)\n"
          "  --floor-n N            GET /healthz requests per client count (20000)\n"
          "  --write-clients LIST   concurrent writers (1,8,64); --writes LIST writes per level (300,2000,6400)\n"
          "  --inproc-writes N      in-process single durable inserts (300)\n"
          "  --collections N        collections for the memory/fd measurement (1000)\n"
          "  --tests LIST           ingest,search,floor,writes,many (default all)\n"
          "  --store-dir DIR        parent of the temporary stores ($TMPDIR or /tmp); --src DIR data\n"
          "  --mode LABEL           copied into every JSON line (quick, full, custom)\n"
          "  --max-s S              time limit of each timed loop (600)\n");
}

static void parse(int argc, char **argv, sb_opts *o) {
  static char server_path[4096];
  const char *tmp = getenv("TMPDIR");
  memset(o, 0, sizeof *o);
  o->b.dataset = "fmnist-p128-l2", o->b.mode = "custom", o->b.n = 60000, o->b.nq = 10000;
  o->b.M = 16, o->b.efc = 200, o->b.k = 10, o->b.store_dir = tmp && *tmp ? tmp : "/tmp";
  o->ef = 40, o->batch = 1000, o->floor_n = 20000, o->inproc_writes = 300, o->collections = 1000, o->max_s = 600;
  o->nclients = parse_ints("1,2,8,32", o->clients, "--clients");
  o->nthreads = parse_ints("1,2", o->threads, "--threads");
  o->nwclients = parse_ints("1,8,64", o->wclients, "--write-clients");
  o->nwrites = 3, o->writes[0] = 300, o->writes[1] = 2000, o->writes[2] = 6400;
  o->tests = T_INGEST | T_SEARCH | T_FLOOR | T_WRITES | T_MANY;
  {
    const char *slash = strrchr(argv[0], '/');
    snprintf(server_path, sizeof server_path, "%.*s../native/valori", slash ? (int)(slash - argv[0] + 1) : 0, argv[0]);
    o->server = server_path;
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage();
      exit(0);
    }
    if (!v) die("%s needs a value (--help)", a);
    i++;
    if (!strcmp(a, "--server")) o->server = v;
    else if (!strcmp(a, "--dataset")) o->b.dataset = v;
    else if (!strcmp(a, "--src")) o->b.src_dir = v;
    else if (!strcmp(a, "--mode")) o->b.mode = v;
    else if (!strcmp(a, "--store-dir")) o->b.store_dir = v;
    else if (!strcmp(a, "--n")) o->b.n = parse_num(v, a);
    else if (!strcmp(a, "--nq")) o->b.nq = parse_num(v, a);
    else if (!strcmp(a, "--ef")) o->ef = (uint32_t)parse_num(v, a);
    else if (!strcmp(a, "--k")) o->b.k = (uint32_t)parse_num(v, a);
    else if (!strcmp(a, "--M")) o->b.M = (uint32_t)parse_num(v, a);
    else if (!strcmp(a, "--efc")) o->b.efc = (uint32_t)parse_num(v, a);
    else if (!strcmp(a, "--batch")) o->batch = parse_num(v, a);
    else if (!strcmp(a, "--floor-n")) o->floor_n = parse_num(v, a);
    else if (!strcmp(a, "--inproc-writes")) o->inproc_writes = parse_num(v, a);
    else if (!strcmp(a, "--collections")) o->collections = parse_num(v, a);
    else if (!strcmp(a, "--max-s")) o->max_s = (double)parse_num(v, a);
    else if (!strcmp(a, "--clients")) o->nclients = parse_ints(v, o->clients, a);
    else if (!strcmp(a, "--threads")) o->nthreads = parse_ints(v, o->threads, a);
    else if (!strcmp(a, "--write-clients")) o->nwclients = parse_ints(v, o->wclients, a);
    else if (!strcmp(a, "--writes")) {
      int w[MAXL];
      o->nwrites = parse_ints(v, w, a);
      for (size_t j = 0; j < o->nwrites; j++) o->writes[j] = (size_t)w[j];
    } else if (!strcmp(a, "--tests")) {
      char list[256], *t, *save = NULL;
      snprintf(list, sizeof list, "%s", v);
      o->tests = 0;
      for (t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "ingest")) o->tests |= T_INGEST;
        else if (!strcmp(t, "search")) o->tests |= T_SEARCH;
        else if (!strcmp(t, "floor")) o->tests |= T_FLOOR;
        else if (!strcmp(t, "writes")) o->tests |= T_WRITES;
        else if (!strcmp(t, "many")) o->tests |= T_MANY;
        else die("--tests: unknown measurement '%s' (ingest, search, floor, writes, many)", t);
      }
    } else die("unknown option %s (--help)", a);
  }
  if (!o->b.k || !o->ef || !o->batch || !o->b.nq || !o->b.n || !o->collections) die("sizes must be at least 1");
  if (access(o->server, X_OK)) die("no valori binary at %s (build the valori target or pass --server)", o->server);
}

int main(int argc, char **argv) {
  sb_opts o;
  bench_dataset ds;
  char h[512];
  parse(argc, argv, &o);
  signal(SIGPIPE, SIG_IGN);
  if (bench_dataset_load_vectors(o.b.dataset, o.b.src_dir, o.b.n, o.b.nq, &ds)) die("cannot load %s", o.b.dataset);
  head(h, sizeof h, &o, &ds, "valori-server", "server-meta");
  bench_emit("%s,\"server\":\"valori serve --threads 16 (default) --snapshot-every 0\",\"client\":\"%s multi, "
             "one thread\",\"ncpu\":%ld,\"fs\":\"%s\",\"ef\":%u,\"k\":%u}\n",
             h, lg_version(), sysconf(_SC_NPROCESSORS_ONLN), bench_fs_type(o.b.store_dir),
             o.ef, o.b.k);
  if (o.tests & (T_INGEST | T_SEARCH)) run_ingest_search(&o, &ds);
  if (o.tests & (T_FLOOR | T_WRITES)) run_floor_writes(&o, &ds);
  if (o.tests & T_MANY) run_many(&o, &ds);
  bench_dataset_free(&ds);
  return 0;
}
