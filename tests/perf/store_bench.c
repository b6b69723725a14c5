/*
** store_bench.c: throughput of the durable store on the local disk, next to the raw cost of the
** disk itself. Not a test (numbers depend on the machine); run from a Release build:
**   store_bench DIR [nvec]
** Prints: raw append+fdatasync loop (the ceiling for one-fsync-per-write), durable single inserts
** (full sync), single inserts with group commit (relaxed + one flush per 100), batches of 1,000
** x 128-d with fsync, and snapshot save (serialize + write + fsync + rename) and load (reopen) for
** nvec x 128-d (default 50,000).
*/
#define _DEFAULT_SOURCE 1
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "valori.h"
#include "valori_native.h"

#define DIM 128

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rs = 12345;
static float frand(void) {
  rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
  return (float)((int)(rs % 2001u) - 1000) / 256.0f;
}

static valori_db *open_db(const char *dir, valori_vfs **v, uint32_t mode) {
  valori_options o;
  valori_db *db = NULL;
  int rc;
  if (valori_posix_vfs_open(dir, 1, v) != VALORI_OK) exit(3);
  valori_options_init(&o);
  o.dim = DIM;
  o.flags = VALORI_OPEN_CREATE;
  o.sync_mode = mode;
  o.snapshot_every = UINT64_MAX;
  o.vfs = *v;
  rc = valori_open(dir, &o, &db);
  if (rc) { fprintf(stderr, "open %s: %s\n", dir, valori_strerror(rc)); exit(3); }
  return db;
}

static void rmrf(const char *dir) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) exit(3);
}

int main(int argc, char **argv) {
  char d[1024], path[1100];
  int n, i;
  double t;
  float *vecs;
  uint64_t id;
  size_t nvec = argc > 2 ? (size_t)atol(argv[2]) : 50000;
  valori_vfs *v;
  valori_db *db;
  if (argc < 2) { fprintf(stderr, "usage: store_bench DIR [nvec]\n"); return 2; }
  mkdir(argv[1], 0755);
  vecs = (float *)malloc(sizeof(float) * DIM * 1000);
  for (i = 0; i < DIM * 1000; i++) vecs[i] = frand();

  /* 1+2. raw append(600 B)+fdatasync versus durable single inserts, interleaved in blocks of 50 so
  ** that both see the same disk conditions (a shared machine's fsync latency varies a lot) */
  snprintf(path, sizeof path, "%s/raw.bin", argv[1]);
  snprintf(d, sizeof d, "%s/single", argv[1]);
  rmrf(d);
  db = open_db(d, &v, VALORI_SYNC_FULL);
  {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), blk;
    char rec[600];
    double traw = 0, tdb = 0;
    memset(rec, 7, sizeof rec);
    n = 50;
    for (blk = 0; blk < 8; blk++) {
      t = now();
      for (i = 0; i < n; i++) {
        if (write(fd, rec, sizeof rec) != (ssize_t)sizeof rec) return 3;
        fdatasync(fd);
      }
      traw += now() - t;
      t = now();
      for (i = 0; i < n; i++)
        if (valori_insert(db, vecs + (size_t)((blk * n + i) % 1000) * DIM, 1, NULL, 0, &id)) return 3;
      tdb += now() - t;
    }
    close(fd);
    unlink(path);
    printf("raw append(600 B)+fdatasync:         %8.0f /s\n", 8 * n / traw);
    printf("durable single inserts (full sync):  %8.0f /s (%.0f%% of raw, interleaved blocks)\n", 8 * n / tdb,
           100.0 * traw / tdb);
  }
  valori_close(db);
  valori_posix_vfs_close(v);
  rmrf(d);

  /* 3. group commit: relaxed, one flush per 100 writes */
  db = open_db(d, &v, VALORI_SYNC_RELAXED);
  n = 3000;
  t = now();
  for (i = 0; i < n; i++) {
    if (valori_insert(db, vecs + (size_t)(i % 1000) * DIM, 1, NULL, 0, &id)) return 3;
    if (i % 100 == 99 && valori_flush(db)) return 3;
  }
  t = now() - t;
  printf("single inserts, group commit of 100: %8.0f /s (all durable)\n", n / t);
  valori_close(db);
  valori_posix_vfs_close(v);
  rmrf(d);

  /* 4a. the same batches in memory (no store): the engine's share of the cost */
  {
    valori_options o;
    valori_db *mem = NULL;
    size_t nb = nvec / 1000 < 10 ? nvec / 1000 : 10, b;
    double tb;
    uint64_t save = rs;
    valori_options_init(&o);
    o.dim = DIM;
    if (valori_open(":memory:", &o, &mem)) return 3;
    tb = now();
    for (b = 0; b < nb; b++) {
      for (i = 0; i < DIM * 1000; i++) vecs[i] = frand();
      if (valori_insert_batch(mem, 1000, vecs, NULL, NULL, NULL, &id)) return 3;
    }
    tb = now() - tb;
    printf("same batches in memory (first %zu):   %8.2f batches/s (engine only: HNSW insert)\n", nb, (double)nb / tb);
    valori_close(mem);
    rs = save;
  }

  /* 4. batches of 1000 x 128-d, full sync; and 5. snapshot of nvec x 128-d */
  db = open_db(d, &v, VALORI_SYNC_FULL);
  {
    size_t nb = nvec / 1000, b;
    double tb = now();
    double t10 = 0;
    for (b = 0; b < nb; b++) {
      for (i = 0; i < DIM * 1000; i++) vecs[i] = frand();
      if (valori_insert_batch(db, 1000, vecs, NULL, NULL, NULL, &id)) return 3;
      if (b == 9) t10 = now() - tb;
    }
    tb = now() - tb;
    printf("batches of 1000 x %d-d (fsync each):  %8.2f batches/s = %.0f vectors/s (%zu batches, HNSW M16 efC200)\n",
           DIM, (double)nb / tb, (double)nb * 1000 / tb, nb);
    printf("  of which the first 10 batches:      %8.2f batches/s (compare with memory above)\n", 10.0 / t10);
  }
  t = now();
  if (valori_snapshot(db)) return 3;
  t = now() - t;
  {
    valori_store_status st;
    struct stat sb;
    valori_store_status_get(db, &st);
    snprintf(path, sizeof path, "%s/snap-%020llu.vsnap", d, (unsigned long long)st.snapshot_height);
    stat(path, &sb);
    printf("snapshot save %zu x %d-d:           %8.3f s (%.1f MiB, serialize+write+fsync+rename+dir fsync)\n",
           nvec, DIM, t, (double)sb.st_size / 1048576.0);
  }
  valori_close(db);
  valori_posix_vfs_close(v);
  t = now();
  db = open_db(d, &v, VALORI_SYNC_FULL);
  t = now() - t;
  {
    valori_recovery rec;
    valori_recovery_info(db, &rec);
    printf("snapshot load (reopen) %zu x %d-d:  %8.3f s (snapshot at %llu + %llu records replayed)\n", nvec, DIM, t,
           (unsigned long long)rec.snapshot_height, (unsigned long long)rec.replayed);
  }
  valori_close(db);
  valori_posix_vfs_close(v);
  rmrf(d);
  free(vecs);
  return 0;
}
