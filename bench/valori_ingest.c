/*
** valori_ingest.c: the ingestion and snapshot measurements of the Valori driver (issue 6 items 5
** and 6), run by `valori_bench --tests append,durable` (bench/run.sh uses fmnist-p128-l2, 50k rows):
**   append       valori_insert_batch into a fresh in-memory database, index-less
**                (VALORI_INDEX_NONE: raw append into an exact-search store) and HNSW (M and
**                ef_construction from the options), batch sizes 1 (valori_insert), 1000 and 10000,
**                --ingest-n records: vectors/s, median of --runs; the index-less batches also with
**                VALORI_OPEN_THREADS ("threads":2, whose state root must equal the serial one;
**                "caller_cpu_s" is the calling thread's CPU time alone, the part of the work a
**                second core cannot take: n / caller_cpu_s bounds what an idle second core allows);
**   append_cost  what one raw-appended record costs, part by part, timed on the same rows outside
**                the engine: the float -> Q16.16 conversion, the record digest (SHA-256 of its
**                canonical encoding) and the LtHash16 update (a 2 KiB ChaCha20 keystream folded
**                into the state hash). The parts are proven to be the engine's work: the state root
**                rebuilt from them equals the index-less database's. The rest of the measured append
**                is the log chain (SHA-256 of each whole event, hashed in memory too), the API's
**                event encoding, the engine's decoding and validation, copies, the id map and the
**                tag postings;
**   durable      a real store directory (native POSIX VFS, VALORI_SYNC_FULL, no automatic
**                snapshots) made with mkdtemp under --store-dir and removed afterwards: the whole
**                base in batches of 1000, and --durable-single-n single inserts, index-less and HNSW:
**                vectors/s and fsyncs/s (file and directory syncs counted by a wrapping VFS);
**   snapshot     (storage "file") valori_snapshot of that store after the batched ingestion (log
**                sync, temp file, fsync, rename, directory fsync), then the reopen that recovers
**                from it, verified: same state root and index digest, valori_check clean, and the
**                recovery used the snapshot and replayed nothing.
*/
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* mkdtemp */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixed.h"
#include "lthash.h"
#include "sha256.h"
#include "valori_bench.h"
#include "valori_native.h"

/* The engine's record digest (core/engine_int.h, core-internal; the same function the engine calls
** for every insert): SHA-256 of 'R' | id | tag | dim | vector | meta_len | meta. */
void vl_digest_record(uint64_t id, uint64_t tag, const int32_t *vec, uint32_t dim, const uint8_t *meta,
                      uint32_t meta_len, uint8_t out[32]);

static const char *index_name(uint32_t index) { return index == VALORI_INDEX_NONE ? "none" : "hnsw"; }

/* ---- in memory: raw append vs HNSW ingestion */

/* One fresh database, n rows in batches of `batch` (0 = single inserts); returns the wall seconds. */
static double append_once(const bench_opts *o, const bench_dataset *ds, uint32_t index, uint32_t flags, size_t n,
                          size_t batch, double *cpu, double *caller_cpu, valori_stats *st, int check,
                          uint8_t root[32]) {
  valori_db *db = vb_open_mem_flags(o, ds, index, flags);
  double t0 = bench_now(), c0 = bench_cpu_now(), k0 = bench_thread_cpu_now();
  vb_insert_rows(db, ds, n, batch, 0);
  double el = bench_now() - t0;
  *cpu = bench_cpu_now() - c0;
  *caller_cpu = bench_thread_cpu_now() - k0;
  CHECK(valori_state_root(db, root));
  CHECK(valori_stats_get(db, st));
  if (st->records != n) vb_fail("stats.records differs from the rows appended");
  if (index == VALORI_INDEX_NONE && (st->index_bytes || st->index_tombstones)) vb_fail("index-less store holds an index");
  if (check) CHECK(valori_check(db));
  CHECK(valori_close(db));
  return el;
}

/* The parts of one raw append, per record, on rows [0, n): median CPU ns of --runs passes each,
** against total_ns, the CPU ns per record of the whole append (largest batch): CPU time, not wall
** time, so that other load on the machine does not shift the shares. The state root rebuilt from
** the parts must equal `root` (the index-less store holding those rows, row i with id i + 1 and tag
** bench_tag_class(i), no metadata). */
static void append_cost(const bench_opts *o, const bench_dataset *ds, size_t n, const uint8_t root[32],
                        double total_ns, char *head, size_t headcap) {
  static const char domain[16] = "valori.state.v1";
  const uint32_t dim = (uint32_t)ds->dim;
  int32_t *q = malloc(n * dim * sizeof *q);
  uint8_t(*dg)[32] = malloc(n * sizeof *dg);
  vl_lthash *acc = malloc(sizeof *acc);
  double tc[64], td[64], tl[64];
  int runs = o->runs > 64 ? 64 : o->runs;
  if (!q || !dg || !acc) vb_die("malloc", VALORI_ENOMEM);
  memset(q, 0, n * dim * sizeof *q); /* page faults out of the timed loops */
  memset(dg, 0, n * sizeof *dg);
  for (int r = -1; r < runs; r++) { /* r = -1: an untimed warm-up pass */
    double t0 = bench_cpu_now();
    for (size_t i = 0; i < n; i++) CHECK(vl_vec_from_f32(ds->base + i * dim, dim, q + i * dim)); /* as the API does */
    if (r >= 0) tc[r] = bench_cpu_now() - t0;
    t0 = bench_cpu_now();
    for (size_t i = 0; i < n; i++)
      vl_digest_record(i + 1, bench_tag_class(i), q + i * dim, dim, NULL, 0, dg[i]);
    if (r >= 0) td[r] = bench_cpu_now() - t0;
    vl_lthash_zero(acc);
    t0 = bench_cpu_now();
    for (size_t i = 0; i < n; i++) vl_lthash_add(acc, dg[i]);
    if (r >= 0) tl[r] = bench_cpu_now() - t0;
  }
  { /* the root of that state, as core/engine.c computes it (docs/FORMAT.md, "State root") */
    uint8_t b[68], a[VL_LTHASH_BYTES], got[32];
    vl_sha256_ctx s;
    memset(b, 0, sizeof b);
    b[0] = (uint8_t)dim, b[1] = (uint8_t)(dim >> 8);
    b[4] = ds->metric == BENCH_IP ? (uint8_t)VALORI_METRIC_IP : (uint8_t)VALORI_METRIC_L2; /* M, efc, efs: 0 */
    for (int k = 0; k < 8; k++) b[20 + k] = (uint8_t)((uint64_t)(n + 1) >> (8 * k)); /* next record id */
    b[28] = 1, b[36] = 1;                                                             /* next node, edge id */
    for (int k = 0; k < 8; k++) b[44 + k] = (uint8_t)((uint64_t)n >> (8 * k));      /* live records */
    vl_lthash_serialize(acc, a);
    vl_sha256_init(&s);
    vl_sha256_update(&s, domain, sizeof domain);
    vl_sha256_update(&s, b, sizeof b);
    vl_sha256_update(&s, a, sizeof a);
    vl_sha256_final(&s, got);
    if (memcmp(got, root, 32)) vb_fail("append cost parts do not rebuild the index-less store's state root");
  }
  const struct { const char *part; double ns; } parts[3] = {
      {"f32_to_q16", bench_median(tc, (size_t)runs) * 1e9 / (double)n},
      {"record_digest_sha256", bench_median(td, (size_t)runs) * 1e9 / (double)n},
      {"lthash_add_chacha20", bench_median(tl, (size_t)runs) * 1e9 / (double)n}};
  double sum = 0;
  for (int p = 0; p < 3; p++) {
    sum += parts[p].ns;
    fprintf(stderr, "  raw append cost: %-22s %8.0f CPU ns/record (%4.1f%% of %.0f)\n", parts[p].part, parts[p].ns,
            100.0 * parts[p].ns / total_ns, total_ns);
    bench_json_head(head, headcap, o, ds, "valori", "append_cost");
    bench_emit("%s,\"part\":\"%s\",\"records\":%zu,\"ns_per_record\":%.1f,\"share\":%.4f,\"runs\":%d}\n", head,
               parts[p].part, n, parts[p].ns, parts[p].ns / total_ns, runs);
  }
  fprintf(stderr, "  raw append cost: %-22s %8.0f CPU ns/record (%4.1f%%): chain SHA-256, event encode/decode, copies, maps\n", "rest",
          total_ns - sum, 100.0 * (total_ns - sum) / total_ns);
  bench_json_head(head, headcap, o, ds, "valori", "append_cost");
  bench_emit("%s,\"part\":\"rest\",\"records\":%zu,\"ns_per_record\":%.1f,\"share\":%.4f,\"runs\":%d}\n", head, n,
             total_ns - sum, (total_ns - sum) / total_ns, runs);
  free(q), free(dg), free(acc);
}

void vb_append(const bench_opts *o, const bench_dataset *ds) {
  static const size_t batches[] = {1, 1000, 10000};
  /* index-less serial, index-less with VALORI_OPEN_THREADS (batches only: a single insert is never
  ** split), HNSW */
  static const struct { uint32_t index, flags; } cfgs[] = {
      {VALORI_INDEX_NONE, 0}, {VALORI_INDEX_NONE, VALORI_OPEN_THREADS}, {VALORI_INDEX_HNSW, 0}};
  size_t n = o->ingest_n && o->ingest_n < ds->n ? o->ingest_n : ds->n;
  int runs = o->runs > 64 ? 64 : o->runs;
  double flat_big_ns = 0;
  uint8_t serial_root[sizeof batches / sizeof batches[0]][32];
  char head[1024];
  for (size_t x = 0; x < sizeof cfgs / sizeof cfgs[0]; x++)
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
      double t[64], c[64], k[64];
      valori_stats st;
      uint8_t root[32];
      const int threads = (cfgs[x].flags & VALORI_OPEN_THREADS) ? 2 : 1;
      if (batches[b] > n && b > 0) continue; /* a batch size the row count cannot fill */
      if (threads > 1 && batches[b] == 1) continue;
      for (int r = 0; r < runs; r++)
        t[r] = append_once(o, ds, cfgs[x].index, cfgs[x].flags, n, batches[b] == 1 ? 0 : batches[b], &c[r], &k[r],
                           &st, r == 0, root);
      if (x == 0) memcpy(serial_root[b], root, 32);
      else if (cfgs[x].index == VALORI_INDEX_NONE && memcmp(root, serial_root[b], 32))
        vb_fail("VALORI_OPEN_THREADS changed the state root of the raw append");
      double med = bench_median(t, (size_t)runs), cpu = bench_median(c, (size_t)runs);
      double kcpu = bench_median(k, (size_t)runs);
      double bpv = (double)(st.vector_bytes + st.index_bytes + st.other_bytes) / (double)n;
      if (x == 0) flat_big_ns = cpu * 1e9 / (double)n; /* serial index-less: the largest batch wins */
      fprintf(stderr, "  append %zu x %zu-d, index %s, batch %5zu, %d thread%s: %10.0f vectors/s (%.0f bytes/vector)\n",
              n, ds->dim, index_name(cfgs[x].index), batches[b], threads, threads > 1 ? "s" : " ", (double)n / med, bpv);
      if (threads > 1)
        fprintf(stderr, "    (the calling thread's share: %.0f vectors per CPU-second of it; CPU/wall %.2f)\n",
                (double)n / kcpu, cpu / med);
      bench_json_head(head, sizeof head, o, ds, "valori", "append");
      bench_emit("%s,\"index\":\"%s\",\"batch\":%zu,\"api\":\"%s\",\"threads\":%d,\"records\":%zu,\"median_s\":%.4f,"
                 "\"cpu_s\":%.4f,\"caller_cpu_s\":%.4f,\"vectors_per_s\":%.1f,\"bytes_per_vector\":%.1f,\"index_bytes\":%llu,\"runs\":%d,"
                 "\"storage\":\"memory\"}\n",
                 head, index_name(cfgs[x].index), batches[b], batches[b] == 1 ? "valori_insert" : "valori_insert_batch",
                 threads, n, med, cpu, kcpu, (double)n / med, bpv, (unsigned long long)st.index_bytes, runs);
    }
  { /* where the time of a raw append goes */
    valori_db *db = vb_open_mem(o, ds, VALORI_INDEX_NONE);
    uint8_t root[32];
    vb_insert_rows(db, ds, n, 1000, 0);
    CHECK(valori_state_root(db, root));
    CHECK(valori_close(db));
    append_cost(o, ds, n, root, flat_big_ns, head, sizeof head);
  }
}

/* ---- durable: a real directory on the POSIX VFS */

/* A VFS that forwards to another and counts file and directory syncs. */
typedef struct cvfs {
  valori_vfs v;
  const valori_vfs *in;
  uint64_t syncs, dir_syncs;
} cvfs;
#define IN(c) (((cvfs *)(c))->in)
static int cv_open(void *c, const char *p, unsigned f, valori_file **o) { return IN(c)->open(IN(c)->ctx, p, f, o); }
static int cv_close(void *c, valori_file *f) { return IN(c)->close(IN(c)->ctx, f); }
static int cv_read(void *c, valori_file *f, uint64_t off, void *b, size_t n, size_t *got) {
  return IN(c)->read(IN(c)->ctx, f, off, b, n, got);
}
static int cv_write(void *c, valori_file *f, uint64_t off, const void *b, size_t n) {
  return IN(c)->write(IN(c)->ctx, f, off, b, n);
}
static int cv_sync(void *c, valori_file *f) { ((cvfs *)c)->syncs++; return IN(c)->sync(IN(c)->ctx, f); }
static int cv_size(void *c, valori_file *f, uint64_t *o) { return IN(c)->size(IN(c)->ctx, f, o); }
static int cv_truncate(void *c, valori_file *f, uint64_t s) { return IN(c)->truncate(IN(c)->ctx, f, s); }
static int cv_rename(void *c, const char *a, const char *b) { return IN(c)->rename(IN(c)->ctx, a, b); }
static int cv_remove(void *c, const char *p) { return IN(c)->remove(IN(c)->ctx, p); }
static int cv_sync_dir(void *c) { ((cvfs *)c)->dir_syncs++; return IN(c)->sync_dir(IN(c)->ctx); }
static int cv_list(void *c, int (*cb)(void *, const char *), void *arg) { return IN(c)->list(IN(c)->ctx, cb, arg); }
static int cv_lock(void *c) { return IN(c)->lock(IN(c)->ctx); }
static int cv_unlock(void *c) { return IN(c)->unlock(IN(c)->ctx); }
#undef IN

static void cvfs_init(cvfs *c, const valori_vfs *in) {
  memset(c, 0, sizeof *c);
  c->in = in;
  c->v.ctx = c;
  c->v.open = cv_open, c->v.close = cv_close, c->v.read = cv_read, c->v.write = cv_write;
  c->v.sync = cv_sync, c->v.size = cv_size, c->v.truncate = cv_truncate, c->v.rename = cv_rename;
  c->v.remove = cv_remove, c->v.sync_dir = cv_sync_dir, c->v.list = cv_list, c->v.lock = cv_lock;
  c->v.unlock = cv_unlock;
}

/* Removes every file of a store directory, then the directory. */
static void remove_store(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char p[4096];
  if (d) {
    while ((e = readdir(d)) != NULL) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= sizeof p || unlink(p) != 0)
        fprintf(stderr, "valori_bench: warning: cannot remove %s/%s\n", dir, e->d_name);
    }
    closedir(d);
  }
  if (rmdir(dir) != 0) fprintf(stderr, "valori_bench: warning: cannot remove %s\n", dir);
}

static uint64_t file_bytes(const char *dir, const char *prefix) {
  DIR *d = opendir(dir);
  struct dirent *e;
  struct stat sb;
  char p[4096];
  uint64_t total = 0;
  if (!d) return 0;
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    if (strncmp(e->d_name, prefix, strlen(prefix)) || l < 6 || strcmp(e->d_name + l - 6, ".vsnap")) continue;
    if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < sizeof p && stat(p, &sb) == 0)
      total += (uint64_t)sb.st_size;
  }
  closedir(d);
  return total;
}

typedef struct dur_res {
  double ins_s, ins_cpu, snap_s, reopen_s;
  uint64_t syncs, dir_syncs, snap_syncs, snap_dir_syncs, snap_bytes;
} dur_res;

static valori_db *open_store(const bench_opts *o, const bench_dataset *ds, cvfs *cv, uint32_t index, uint32_t dim) {
  valori_options opt;
  valori_db *db = NULL;
  valori_options_init(&opt);
  opt.dim = dim; /* 0 on reopen: the stored configuration */
  opt.metric = ds->metric == BENCH_IP ? VALORI_METRIC_IP : VALORI_METRIC_L2;
  opt.index = index;
  if (index == VALORI_INDEX_HNSW && dim) {
    opt.hnsw_m = o->M;
    opt.hnsw_ef_construction = o->efc;
  }
  opt.flags = VALORI_OPEN_CREATE;
  opt.sync_mode = VALORI_SYNC_FULL;
  opt.snapshot_every = UINT64_MAX; /* ingestion only; the snapshot is taken (and timed) on its own */
  opt.vfs = &cv->v;
  CHECK(valori_open("bench-store", &opt, &db));
  return db;
}

/* One durable ingestion of n rows (batch 0: single inserts) into a new store directory; with
** `snapshot`, then a snapshot and a verified reopen. */
static void durable_once(const bench_opts *o, const bench_dataset *ds, uint32_t index, size_t n, size_t batch,
                         int snapshot, char *dir, size_t dircap, dur_res *out) {
  valori_vfs *pv = NULL;
  cvfs cv;
  valori_db *db;
  valori_stats st;
  uint8_t root[32], dig[32], root2[32], dig2[32];
  memset(out, 0, sizeof *out);
  snprintf(dir, dircap, "%s/valori-bench-XXXXXX", o->store_dir);
  if (!mkdtemp(dir)) {
    perror(dir);
    exit(1);
  }
  CHECK(valori_posix_vfs_open(dir, 0, &pv));
  cvfs_init(&cv, pv);
  db = open_store(o, ds, &cv, index, (uint32_t)ds->dim);
  cv.syncs = cv.dir_syncs = 0; /* creating the store is not ingestion */
  double t0 = bench_now(), c0 = bench_cpu_now();
  vb_insert_rows(db, ds, n, batch, 1);
  out->ins_s = bench_now() - t0;
  out->ins_cpu = bench_cpu_now() - c0;
  out->syncs = cv.syncs, out->dir_syncs = cv.dir_syncs;
  CHECK(valori_stats_get(db, &st));
  if (st.records != n || st.index != index) vb_fail("durable store: wrong record count or index");
  if (snapshot) {
    valori_recovery rec;
    valori_store_status ss;
    CHECK(valori_state_root(db, root));
    CHECK(valori_index_digest(db, dig));
    cv.syncs = cv.dir_syncs = 0;
    t0 = bench_now();
    CHECK(valori_snapshot(db));
    out->snap_s = bench_now() - t0;
    out->snap_syncs = cv.syncs, out->snap_dir_syncs = cv.dir_syncs;
    CHECK(valori_store_status_get(db, &ss));
    if (ss.snapshot_height != st.height) vb_fail("valori_snapshot did not publish the current height");
    out->snap_bytes = file_bytes(dir, "snap-");
    CHECK(valori_close(db));
    valori_posix_vfs_close(pv);
    CHECK(valori_posix_vfs_open(dir, 0, &pv)); /* a new VFS, as a new process would have */
    cvfs_init(&cv, pv);
    t0 = bench_now();
    db = open_store(o, ds, &cv, VALORI_INDEX_HNSW, 0);
    out->reopen_s = bench_now() - t0;
    CHECK(valori_recovery_info(db, &rec));
    if (rec.snapshot_height != st.height || rec.replayed != 0) vb_fail("reopen did not recover from the snapshot");
    CHECK(valori_state_root(db, root2));
    CHECK(valori_index_digest(db, dig2));
    if (memcmp(root, root2, 32) || memcmp(dig, dig2, 32)) vb_fail("reopened store differs (root or index digest)");
    CHECK(valori_stats_get(db, &st));
    if (st.index != index || st.records != n) vb_fail("reopened store: wrong index or record count");
    CHECK(valori_check(db));
  }
  CHECK(valori_close(db));
  valori_posix_vfs_close(pv);
  remove_store(dir);
}

void vb_durable(const bench_opts *o, const bench_dataset *ds) {
  static const uint32_t indexes[] = {VALORI_INDEX_NONE, VALORI_INDEX_HNSW};
  int runs = o->runs > 64 ? 64 : o->runs;
  char dir[4096], head[1024];
  const char *fs = bench_fs_type(o->store_dir);
  for (size_t x = 0; x < 2; x++)
    for (int single = 0; single < 2; single++) {
      size_t n = single ? (o->durable_single_n < ds->n ? o->durable_single_n : ds->n) : ds->n;
      size_t batch = single ? 0 : 1000;
      double ti[64], tc[64], ts[64], tr[64];
      dur_res r = {0};
      if (n == 0) continue;
      for (int k = 0; k < runs; k++) {
        durable_once(o, ds, indexes[x], n, batch, !single, dir, sizeof dir, &r);
        ti[k] = r.ins_s, tc[k] = r.ins_cpu, ts[k] = r.snap_s, tr[k] = r.reopen_s;
      }
      double ins = bench_median(ti, (size_t)runs), cpu = bench_median(tc, (size_t)runs);
      uint64_t fsyncs = r.syncs + r.dir_syncs; /* the same in every run: a function of n and batch */
      fprintf(stderr, "  durable %zu x %zu-d, index %s, batch %4zu: %9.0f vectors/s, %6.0f fsyncs/s (%llu fsyncs, %s)\n",
              n, ds->dim, index_name(indexes[x]), batch ? batch : 1, (double)n / ins, (double)fsyncs / ins,
              (unsigned long long)fsyncs, fs);
      bench_json_head(head, sizeof head, o, ds, "valori", "durable");
      bench_emit("%s,\"index\":\"%s\",\"batch\":%zu,\"api\":\"%s\",\"records\":%zu,\"sync\":\"full\",\"median_s\":%.4f,"
                 "\"cpu_s\":%.4f,\"vectors_per_s\":%.1f,\"fsyncs\":%llu,\"file_syncs\":%llu,\"dir_syncs\":%llu,"
                 "\"fsyncs_per_s\":%.1f,\"fs\":\"%s\",\"runs\":%d,\"storage\":\"file\"}\n",
                 head, index_name(indexes[x]), batch ? batch : 1, batch ? "valori_insert_batch" : "valori_insert", n,
                 ins, cpu, (double)n / ins, (unsigned long long)fsyncs, (unsigned long long)r.syncs,
                 (unsigned long long)r.dir_syncs, (double)fsyncs / ins, fs, runs);
      if (single) continue;
      double snap = bench_median(ts, (size_t)runs), reopen = bench_median(tr, (size_t)runs);
      fprintf(stderr, "  store snapshot %zu x %zu-d, index %s: %.1f MB, valori_snapshot %.3f s (%llu fsyncs), reopen %.3f s, verified\n",
              n, ds->dim, index_name(indexes[x]), (double)r.snap_bytes / 1e6, snap,
              (unsigned long long)(r.snap_syncs + r.snap_dir_syncs), reopen);
      bench_json_head(head, sizeof head, o, ds, "valori", "snapshot");
      bench_emit("%s,\"index\":\"%s\",\"storage\":\"file\",\"records\":%zu,\"bytes\":%llu,\"bytes_per_record\":%.1f,"
                 "\"save_s\":%.4f,\"load_s\":%.4f,\"save_fsyncs\":%llu,\"fs\":\"%s\",\"runs\":%d,\"verified\":true}\n",
                 head, index_name(indexes[x]), n, (unsigned long long)r.snap_bytes, (double)r.snap_bytes / (double)n,
                 snap, reopen, (unsigned long long)(r.snap_syncs + r.snap_dir_syncs), fs, runs);
    }
}
