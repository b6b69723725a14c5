/*
** data.c: Fashion-MNIST loading, the benchmark variants and exact ground truth (see data.h).
**
** Ground truth is brute force in float64: every query against every base row. To keep that cheap
** enough to run once (about 10000 x 60000 x 784 multiply-adds), queries are processed in blocks of
** GT_QBLOCK so each base row is read from memory once per block, and blocks are shared between
** `threads` POSIX threads through a mutex-protected counter. Results do not depend on the thread
** count: each query's top-k is a pure function of its inputs.
*/
#define _POSIX_C_SOURCE 200809L

#include "data.h"
#include "idx.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#define GT_QBLOCK 8
#define GT_MAGIC "VBENCHGT"
#define GT_VERSION 2u

/* ---- small helpers */

uint64_t bench_splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t bench_hash64(uint64_t x) {
  uint64_t s = x;
  return bench_splitmix64(&s);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}


/* ---- idx loader */

int bench_idx_load(const char *path, size_t max_rows, float **out, size_t *rows, size_t *dim) {
  return valori_idx_images(path, max_rows, out, rows, dim); /* native/dataset/idx.c: the one idx reader */
}

/* ---- variants */

void bench_scale_pm1(float *x, size_t count) {
  for (size_t i = 0; i < count; i++) x[i] = (float)((double)x[i] / 127.5 - 1.0);
}

size_t bench_normalize_rows(float *x, size_t rows, size_t dim) {
  size_t zeros = 0;
  for (size_t r = 0; r < rows; r++) {
    float *v = x + r * dim;
    double s = 0;
    for (size_t j = 0; j < dim; j++) s += (double)v[j] * (double)v[j];
    if (s == 0) {
      zeros++;
      continue;
    }
    double inv = 1.0 / sqrt(s);
    for (size_t j = 0; j < dim; j++) v[j] = (float)((double)v[j] * inv);
  }
  return zeros;
}

float *bench_project(const float *x, size_t rows, size_t din, size_t dout, uint64_t seed) {
  double *R = malloc(din * dout * sizeof *R);
  double *acc = malloc(dout * sizeof *acc);
  float *y = malloc(rows * dout * sizeof *y);
  if (!R || !acc || !y) {
    free(R), free(acc), free(y);
    return NULL;
  }
  const double c = 1.0 / sqrt((double)dout);
  uint64_t st = seed;
  for (size_t i = 0; i < din * dout; i++) R[i] = (bench_splitmix64(&st) & 1u) ? -c : c;
  for (size_t r = 0; r < rows; r++) {
    const float *v = x + r * din;
    for (size_t j = 0; j < dout; j++) acc[j] = 0;
    for (size_t i = 0; i < din; i++) {
      const double vi = v[i];
      const double *Ri = R + i * dout;
      for (size_t j = 0; j < dout; j++) acc[j] += vi * Ri[j];
    }
    for (size_t j = 0; j < dout; j++) y[r * dout + j] = (float)acc[j];
  }
  free(R), free(acc);
  return y;
}

/* ---- exact distance
** Eight interleaved partial sums (which compilers turn into two 4-wide vectors without any
** reassociation of their own), combined in a fixed tree. Changing this order changes the last bits
** of the distances, so it is part of the ground-truth cache version (GT_VERSION). */

#define DIST_COMBINE(s) (((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])))

double bench_dist(const float *a, const float *b, size_t dim, int metric) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t j = 0;
  if (metric == BENCH_L2) {
    for (; j + 8 <= dim; j += 8)
      for (int t = 0; t < 8; t++) {
        double d = (double)a[j + t] - b[j + t];
        s[t] += d * d;
      }
    for (; j < dim; j++) {
      double d = (double)a[j] - b[j];
      s[0] += d * d;
    }
    return DIST_COMBINE(s);
  }
  for (; j + 8 <= dim; j += 8)
    for (int t = 0; t < 8; t++) s[t] += (double)a[j + t] * b[j + t];
  for (; j < dim; j++) s[0] += (double)a[j] * b[j];
  return -DIST_COMBINE(s);
}

/* Squared L2 exactly as bench_dist, but gives up once the running total reaches `bound` and then
** returns that partial total (>= bound). Exact pruning: every partial sum only grows and rounding
** is monotone, so the full distance is >= any partial total. */
static double dist_l2_bounded(const float *a, const float *b, size_t dim, double bound) {
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t j = 0;
  while (j + 8 <= dim) {
    size_t stop = j + 64 <= dim ? j + 64 : dim - (dim - j) % 8;
    for (; j < stop; j += 8)
      for (int t = 0; t < 8; t++) {
        double d = (double)a[j + t] - b[j + t];
        s[t] += d * d;
      }
    double partial = DIST_COMBINE(s);
    if (partial >= bound) return partial;
  }
  for (; j < dim; j++) {
    double d = (double)a[j] - b[j];
    s[0] += d * d;
  }
  return DIST_COMBINE(s);
}

/* ---- ground truth */

/* A bounded max-heap of (dist, idx) pairs, ordered lexicographically: the root is the worst kept. */
typedef struct topk {
  size_t k, n;
  double *d;
  uint32_t *i;
} topk;

static int worse(double da, uint32_t ia, double db, uint32_t ib) {
  return da > db || (da == db && ia > ib);
}

static void topk_push(topk *h, double d, uint32_t idx) {
  size_t c;
  if (h->n < h->k) { /* sift up */
    c = h->n++;
    while (c > 0) {
      size_t p = (c - 1) / 2;
      if (!worse(d, idx, h->d[p], h->i[p])) break;
      h->d[c] = h->d[p], h->i[c] = h->i[p];
      c = p;
    }
    h->d[c] = d, h->i[c] = idx;
    return;
  }
  if (!worse(h->d[0], h->i[0], d, idx)) return; /* not better than the worst kept */
  c = 0; /* replace the root and sift down */
  for (;;) {
    size_t l = 2 * c + 1, r = l + 1, m = c;
    double md = d;
    uint32_t mi = idx;
    if (l < h->n && worse(h->d[l], h->i[l], md, mi)) m = l, md = h->d[l], mi = h->i[l];
    if (r < h->n && worse(h->d[r], h->i[r], md, mi)) m = r;
    if (m == c) break;
    h->d[c] = h->d[m], h->i[c] = h->i[m];
    c = m;
  }
  h->d[c] = d, h->i[c] = idx;
}

/* Pops the heap into ascending order (nearest first) into d/i. */
static void topk_drain(topk *h, double *d, uint32_t *i) {
  while (h->n > 0) {
    size_t last = --h->n;
    d[last] = h->d[0], i[last] = h->i[0];
    /* move the last element to the root and sift down */
    double xd = h->d[last];
    uint32_t xi = h->i[last];
    size_t c = 0;
    for (;;) {
      size_t l = 2 * c + 1, r = l + 1, mm = c;
      double md = xd;
      uint32_t mi = xi;
      if (l < h->n && worse(h->d[l], h->i[l], md, mi)) mm = l, md = h->d[l], mi = h->i[l];
      if (r < h->n && worse(h->d[r], h->i[r], md, mi)) mm = r;
      if (mm == c) break;
      h->d[c] = h->d[mm], h->i[c] = h->i[mm];
      c = mm;
    }
    if (h->n > 0) h->d[c] = xd, h->i[c] = xi;
  }
}

typedef struct gt_job {
  const float *base, *queries;
  const uint32_t *subset;
  size_t nsub, nq, dim, k;
  int metric;
  bench_gt *out;
  pthread_mutex_t mu;
  size_t next, done;
  double t0, last_print;
  const char *label;
} gt_job;

static void *gt_worker(void *arg) {
  gt_job *J = arg;
  topk heaps[GT_QBLOCK];
  double hd[GT_QBLOCK][BENCH_GT_K];
  uint32_t hi[GT_QBLOCK][BENCH_GT_K];
  for (;;) {
    pthread_mutex_lock(&J->mu);
    size_t q0 = J->next;
    J->next += GT_QBLOCK;
    pthread_mutex_unlock(&J->mu);
    if (q0 >= J->nq) break;
    size_t qn = J->nq - q0 < GT_QBLOCK ? J->nq - q0 : GT_QBLOCK;
    for (size_t b = 0; b < qn; b++) heaps[b] = (topk){J->k, 0, hd[b], hi[b]};
    for (size_t s = 0; s < J->nsub; s++) {
      uint32_t idx = J->subset ? J->subset[s] : (uint32_t)s;
      const float *row = J->base + (size_t)idx * J->dim;
      for (size_t b = 0; b < qn; b++) {
        const float *q = J->queries + (q0 + b) * J->dim;
        double d;
        if (J->metric == BENCH_L2 && heaps[b].n == heaps[b].k) {
          /* Rows are scanned in ascending index order, so a row whose distance only ties the
          ** worst kept pair loses the tie: anything >= that distance can be pruned. */
          d = dist_l2_bounded(q, row, J->dim, heaps[b].d[0]);
          if (d >= heaps[b].d[0]) continue;
        } else {
          d = bench_dist(q, row, J->dim, J->metric);
        }
        topk_push(&heaps[b], d, idx);
      }
    }
    for (size_t b = 0; b < qn; b++)
      topk_drain(&heaps[b], J->out->dist + (q0 + b) * J->k, J->out->ids + (q0 + b) * J->k);
    pthread_mutex_lock(&J->mu);
    J->done += qn;
    double t = now_s();
    if (t - J->last_print > 2.0 || J->done == J->nq) {
      J->last_print = t;
      fprintf(stderr, "  %s: ground truth %zu/%zu queries (%.0f%%), %.1f s\n", J->label, J->done,
              J->nq, 100.0 * (double)J->done / (double)J->nq, t - J->t0);
    }
    pthread_mutex_unlock(&J->mu);
  }
  return NULL;
}

int bench_gt_compute(const float *base, size_t n, const uint32_t *subset, size_t nsub,
                     const float *queries, size_t nq, size_t dim, int metric, size_t k, int threads,
                     const char *label, bench_gt *out) {
  if (!subset) nsub = n;
  if (k > BENCH_GT_K) k = BENCH_GT_K;
  if (k > nsub) k = nsub;
  memset(out, 0, sizeof *out);
  out->nq = nq, out->k = k;
  if (k == 0) return 0; /* empty candidate set: every query has no neighbours */
  out->ids = malloc(nq * k * sizeof *out->ids);
  out->dist = malloc(nq * k * sizeof *out->dist);
  if (!out->ids || !out->dist) {
    bench_gt_free(out);
    fprintf(stderr, "data: out of memory for ground truth\n");
    return -1;
  }
  gt_job J = {.base = base, .queries = queries, .subset = subset, .nsub = nsub, .nq = nq,
              .dim = dim, .k = k, .metric = metric, .out = out, .label = label ? label : "gt"};
  pthread_mutex_init(&J.mu, NULL);
  J.t0 = J.last_print = now_s();
  if (threads < 1) threads = 1;
  if (threads > 64) threads = 64;
  pthread_t th[64];
  int started = 0;
  for (int t = 1; t < threads; t++)
    if (pthread_create(&th[started], NULL, gt_worker, &J) == 0) started++;
  gt_worker(&J);
  for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
  pthread_mutex_destroy(&J.mu);
  return 0;
}

void bench_gt_free(bench_gt *gt) {
  free(gt->ids);
  free(gt->dist);
  memset(gt, 0, sizeof *gt);
}

/* Checksum of every input of a ground-truth computation (64-bit words, multiply-xor-rotate). */
static uint64_t mix(uint64_t h, uint64_t w) {
  h ^= w;
  h *= 0x9e3779b97f4a7c15ull;
  return (h << 29) | (h >> 35);
}
static uint64_t mix_bytes(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, b + i, 8);
    h = mix(h, w);
  }
  uint64_t w = 0;
  for (size_t j = 0; i < n; i++, j++) w |= (uint64_t)b[i] << (8 * j);
  return mix(h, w ^ n);
}
static uint64_t gt_checksum(const float *base, size_t n, const uint32_t *subset, size_t nsub,
                            const float *queries, size_t nq, size_t dim, int metric, size_t k) {
  uint64_t h = mix(0x6774636865636b00ull, GT_VERSION);
  h = mix(h, n), h = mix(h, nsub), h = mix(h, nq), h = mix(h, dim), h = mix(h, (uint64_t)metric);
  h = mix(h, k), h = mix(h, subset != NULL);
  h = mix_bytes(h, base, n * dim * sizeof *base);
  h = mix_bytes(h, queries, nq * dim * sizeof *queries);
  if (subset) h = mix_bytes(h, subset, nsub * sizeof *subset);
  return h;
}

typedef struct gt_header {
  char magic[8];
  uint32_t version, metric;
  uint64_t n, nsub, nq, k, dim, checksum;
} gt_header;

static int gt_read(const char *path, const gt_header *want, bench_gt *out) {
  FILE *f = fopen(path, "rb");
  gt_header h;
  if (!f) return -1;
  int ok = fread(&h, sizeof h, 1, f) == 1 && memcmp(&h, want, sizeof h) == 0;
  if (ok) {
    size_t m = (size_t)(h.nq * h.k);
    out->nq = (size_t)h.nq, out->k = (size_t)h.k;
    out->ids = malloc(m * sizeof *out->ids + 1);
    out->dist = malloc(m * sizeof *out->dist + 1);
    ok = out->ids && out->dist && fread(out->ids, sizeof *out->ids, m, f) == m &&
         fread(out->dist, sizeof *out->dist, m, f) == m && fgetc(f) == EOF;
    if (!ok) bench_gt_free(out);
  }
  fclose(f);
  return ok ? 0 : -1;
}

static void gt_write(const char *path, const gt_header *h, const bench_gt *gt) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  size_t m = gt->nq * gt->k;
  if (!f) {
    fprintf(stderr, "data: cannot write %s (%s); ground truth not cached\n", tmp, strerror(errno));
    return;
  }
  int ok = fwrite(h, sizeof *h, 1, f) == 1 && (m == 0 || (fwrite(gt->ids, sizeof *gt->ids, m, f) == m &&
                                                          fwrite(gt->dist, sizeof *gt->dist, m, f) == m));
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, path) != 0) {
    fprintf(stderr, "data: failed writing %s; ground truth not cached\n", path);
    remove(tmp);
  }
}

int bench_gt_cached(const char *path, const float *base, size_t n, const uint32_t *subset,
                    size_t nsub, const float *queries, size_t nq, size_t dim, int metric, size_t k,
                    int threads, const char *label, bench_gt *out) {
  gt_header h;
  size_t ns = subset ? nsub : n;
  size_t kk = k > BENCH_GT_K ? BENCH_GT_K : k;
  if (kk > ns) kk = ns;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, GT_MAGIC, 8);
  h.version = GT_VERSION, h.metric = (uint32_t)metric;
  h.n = n, h.nsub = ns, h.nq = nq, h.k = kk, h.dim = dim;
  if (path) {
    double t0 = now_s();
    h.checksum = gt_checksum(base, n, subset, ns, queries, nq, dim, metric, kk);
    if (gt_read(path, &h, out) == 0) {
      fprintf(stderr, "  %s: ground truth from cache %s (checked in %.2f s)\n", label, path,
              now_s() - t0);
      return 0;
    }
  }
  double t0 = now_s();
  if (bench_gt_compute(base, n, subset, nsub, queries, nq, dim, metric, kk, threads, label, out))
    return -1;
  fprintf(stderr, "  %s: ground truth computed in %.1f s (%zu queries x %zu rows, %d threads)\n",
          label, now_s() - t0, nq, ns, threads);
  if (path) gt_write(path, &h, out);
  return 0;
}

/* ---- datasets */

int bench_dataset_load_vectors(const char *name, const char *src_dir, size_t n, size_t nq, bench_dataset *ds) {
  char path[4096];
  size_t d1, d2;
  int variant; /* 0 raw, 1 pm1, 2 ip, 3 p128 */
  memset(ds, 0, sizeof *ds);
  if (!strcmp(name, "fmnist-l2")) variant = 0;
  else if (!strcmp(name, "fmnist-pm1-l2")) variant = 1;
  else if (!strcmp(name, "fmnist-ip")) variant = 2;
  else if (!strcmp(name, "fmnist-p128-l2")) variant = 3;
  else {
    fprintf(stderr, "data: unknown dataset '%s' (fmnist-l2, fmnist-pm1-l2, fmnist-ip, fmnist-p128-l2)\n", name);
    return -1;
  }
  if (!src_dir) src_dir = BENCH_FMNIST_DIR;
  double t0 = now_s();
  snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", src_dir);
  if (bench_idx_load(path, n, &ds->base, &ds->n, &d1)) goto fail;
  snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte.gz", src_dir);
  if (bench_idx_load(path, nq, &ds->queries, &ds->nq, &d2)) goto fail;
  if (d1 != d2) {
    fprintf(stderr, "data: train and test dimensions differ\n");
    goto fail;
  }
  ds->dim = d1;
  ds->metric = variant == 2 ? BENCH_IP : BENCH_L2;
  snprintf(ds->name, sizeof ds->name, "%s", name);
  if (variant == 1 || variant == 3) {
    bench_scale_pm1(ds->base, ds->n * ds->dim);
    bench_scale_pm1(ds->queries, ds->nq * ds->dim);
  }
  if (variant == 2) {
    size_t z = bench_normalize_rows(ds->base, ds->n, ds->dim) +
               bench_normalize_rows(ds->queries, ds->nq, ds->dim);
    if (z) fprintf(stderr, "data: warning: %zu all-zero rows left unnormalized\n", z);
  }
  if (variant == 3) {
    float *pb = bench_project(ds->base, ds->n, ds->dim, 128, BENCH_PROJ_SEED);
    float *pq = bench_project(ds->queries, ds->nq, ds->dim, 128, BENCH_PROJ_SEED);
    if (!pb || !pq) {
      free(pb), free(pq);
      fprintf(stderr, "data: out of memory projecting\n");
      goto fail;
    }
    free(ds->base), free(ds->queries);
    ds->base = pb, ds->queries = pq, ds->dim = 128;
  }
  fprintf(stderr, "  %s: %zu base x %zu queries x %zu-d loaded in %.2f s\n", name, ds->n, ds->nq,
          ds->dim, now_s() - t0);
  return 0;
fail:
  bench_dataset_free(ds);
  return -1;
}

int bench_dataset_load(const char *name, const char *src_dir, size_t n, size_t nq,
                       const char *cache_dir, int threads, bench_dataset *ds) {
  char path[4096];
  if (bench_dataset_load_vectors(name, src_dir, n, nq, ds)) return -1;
  char *gtpath = NULL;
  if (cache_dir) {
    mkdir(cache_dir, 0777); /* best effort; a failure shows up when writing */
    snprintf(path, sizeof path, "%s/%s-n%zu-q%zu.gt", cache_dir, name, ds->n, ds->nq);
    gtpath = path;
  }
  if (bench_gt_cached(gtpath, ds->base, ds->n, NULL, 0, ds->queries, ds->nq, ds->dim, ds->metric,
                      BENCH_GT_K, threads, name, &ds->gt))
    goto fail;
  return 0;
fail:
  bench_dataset_free(ds);
  return -1;
}

void bench_dataset_free(bench_dataset *ds) {
  free(ds->base);
  free(ds->queries);
  bench_gt_free(&ds->gt);
  memset(ds, 0, sizeof *ds);
}

/* ---- export (data.h) */

#define EXPORT_MAGIC "VBENCHX1"
#define EXPORT_VERSION 1u

typedef struct export_header {
  char magic[8];
  uint32_t version, metric;
  uint64_t n, nq, dim, gt_k;
  uint32_t crc, zero;
  uint64_t payload;
} export_header;
_Static_assert(sizeof(export_header) == 64, "export header is 64 bytes without padding");

static uint32_t crc_update(uint32_t crc, const void *p, size_t len) {
  const unsigned char *b = p;
  while (len > 0) { /* zlib takes uInt lengths */
    uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
    crc = (uint32_t)crc32(crc, b, chunk);
    b += chunk, len -= chunk;
  }
  return crc;
}

static int write_all(FILE *f, const void *p, size_t size, size_t count) {
  return count == 0 || fwrite(p, size, count, f) == count;
}

int bench_dataset_export(const bench_dataset *ds, const char *dir, char *path_out, size_t cap) {
  char bin[4096], json[4096], tmp[4200];
  const size_t nb = ds->n * ds->dim, nqv = ds->nq * ds->dim, ng = ds->gt.nq * ds->gt.k;
  export_header h, old;
  FILE *f;
  if (ds->gt.nq != ds->nq) {
    fprintf(stderr, "data: export of %s: ground truth covers %zu of %zu queries\n", ds->name, ds->gt.nq, ds->nq);
    return -1;
  }
  mkdir(dir, 0777); /* best effort; a failure shows up when writing */
  snprintf(bin, sizeof bin, "%s/export-%s-n%zu-q%zu.bin", dir, ds->name, ds->n, ds->nq);
  snprintf(json, sizeof json, "%s/export-%s-n%zu-q%zu.json", dir, ds->name, ds->n, ds->nq);
  snprintf(path_out, cap, "%s", json);
  memset(&h, 0, sizeof h);
  memcpy(h.magic, EXPORT_MAGIC, 8);
  h.version = EXPORT_VERSION, h.metric = (uint32_t)ds->metric;
  h.n = ds->n, h.nq = ds->nq, h.dim = ds->dim, h.gt_k = ds->gt.k;
  h.payload = (uint64_t)(nb + nqv) * sizeof(float) + (uint64_t)ng * (sizeof(uint32_t) + sizeof(double));
  uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0);
  crc = crc_update(crc, ds->base, nb * sizeof(float));
  crc = crc_update(crc, ds->queries, nqv * sizeof(float));
  crc = crc_update(crc, ds->gt.ids, ng * sizeof(uint32_t));
  h.crc = crc_update(crc, ds->gt.dist, ng * sizeof(double));
  struct stat st;
  if ((f = fopen(bin, "rb")) != NULL) {
    int same = fread(&old, sizeof old, 1, f) == 1 && memcmp(&old, &h, sizeof h) == 0 &&
               stat(bin, &st) == 0 && (uint64_t)st.st_size == sizeof h + h.payload &&
               stat(json, &st) == 0;
    fclose(f);
    if (same) {
      fprintf(stderr, "  %s: export %s is up to date\n", ds->name, json);
      return 0;
    }
  }
  snprintf(tmp, sizeof tmp, "%s.tmp", bin);
  int ok = (f = fopen(tmp, "wb")) != NULL;
  if (ok) {
    ok = write_all(f, &h, sizeof h, 1) && write_all(f, ds->base, sizeof(float), nb) &&
         write_all(f, ds->queries, sizeof(float), nqv) && write_all(f, ds->gt.ids, sizeof(uint32_t), ng) &&
         write_all(f, ds->gt.dist, sizeof(double), ng);
    ok = (fclose(f) == 0) && ok;
  }
  if (!ok || rename(tmp, bin) != 0) {
    fprintf(stderr, "data: cannot write %s (%s)\n", bin, strerror(errno));
    remove(tmp);
    return -1;
  }
  const char *slash = strrchr(bin, '/');
  const uint64_t off_q = sizeof h + (uint64_t)nb * sizeof(float);
  const uint64_t off_ids = off_q + (uint64_t)nqv * sizeof(float);
  const uint64_t off_dist = off_ids + (uint64_t)ng * sizeof(uint32_t);
  snprintf(tmp, sizeof tmp, "%s.tmp", json);
  ok = (f = fopen(tmp, "w")) != NULL;
  if (ok) {
    fprintf(f,
            "{\"format\":\"valori-bench-export\",\"magic\":\"%s\",\"version\":%u,\"dataset\":\"%s\","
            "\"metric\":\"%s\",\"n\":%zu,\"nq\":%zu,\"dim\":%zu,\"gt_k\":%zu,\"file\":\"%s\","
            "\"bytes\":%llu,\"crc32\":%lu,\"offsets\":{\"base\":%zu,\"queries\":%llu,\"gt_ids\":%llu,"
            "\"gt_dist\":%llu}}\n",
            EXPORT_MAGIC, EXPORT_VERSION, ds->name, ds->metric == BENCH_IP ? "ip" : "l2", ds->n, ds->nq,
            ds->dim, ds->gt.k, slash ? slash + 1 : bin, (unsigned long long)(sizeof h + h.payload),
            (unsigned long)h.crc, sizeof h, (unsigned long long)off_q, (unsigned long long)off_ids,
            (unsigned long long)off_dist);
    ok = (fclose(f) == 0);
  }
  if (!ok || rename(tmp, json) != 0) {
    fprintf(stderr, "data: cannot write %s (%s)\n", json, strerror(errno));
    remove(tmp);
    return -1;
  }
  fprintf(stderr, "  %s: exported %zu base + %zu queries + ground truth (k=%zu) to %s (%.1f MB)\n", ds->name,
          ds->n, ds->nq, ds->gt.k, bin, (double)(sizeof h + h.payload) / 1e6);
  return 0;
}

int bench_dataset_read_export(const char *bin_path, bench_dataset *ds) {
  export_header h;
  struct stat st;
  FILE *f = fopen(bin_path, "rb");
  memset(ds, 0, sizeof *ds);
  if (!f) {
    fprintf(stderr, "data: cannot open %s (%s)\n", bin_path, strerror(errno));
    return -1;
  }
  int ok = fread(&h, sizeof h, 1, f) == 1 && memcmp(h.magic, EXPORT_MAGIC, 8) == 0 &&
           h.version == EXPORT_VERSION && h.zero == 0 && fstat(fileno(f), &st) == 0 &&
           (uint64_t)st.st_size == sizeof h + h.payload && h.dim > 0 && h.gt_k <= BENCH_GT_K &&
           h.payload == (h.n + h.nq) * h.dim * sizeof(float) + h.nq * h.gt_k * (sizeof(uint32_t) + sizeof(double));
  if (ok) {
    snprintf(ds->name, sizeof ds->name, "export");
    ds->metric = (int)h.metric, ds->n = (size_t)h.n, ds->nq = (size_t)h.nq, ds->dim = (size_t)h.dim;
    ds->gt.nq = (size_t)h.nq, ds->gt.k = (size_t)h.gt_k;
    size_t nb = ds->n * ds->dim, nqv = ds->nq * ds->dim, ng = ds->gt.nq * ds->gt.k;
    ds->base = malloc(nb * sizeof(float) + 1);
    ds->queries = malloc(nqv * sizeof(float) + 1);
    ds->gt.ids = malloc(ng * sizeof(uint32_t) + 1);
    ds->gt.dist = malloc(ng * sizeof(double) + 1);
    ok = ds->base && ds->queries && ds->gt.ids && ds->gt.dist && fread(ds->base, sizeof(float), nb, f) == nb &&
         fread(ds->queries, sizeof(float), nqv, f) == nqv && fread(ds->gt.ids, sizeof(uint32_t), ng, f) == ng &&
         fread(ds->gt.dist, sizeof(double), ng, f) == ng;
    if (ok) {
      uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0);
      crc = crc_update(crc, ds->base, nb * sizeof(float));
      crc = crc_update(crc, ds->queries, nqv * sizeof(float));
      crc = crc_update(crc, ds->gt.ids, ng * sizeof(uint32_t));
      ok = crc_update(crc, ds->gt.dist, ng * sizeof(double)) == h.crc;
    }
  }
  fclose(f);
  if (!ok) {
    fprintf(stderr, "data: %s is not an intact export (magic, version, size or CRC-32)\n", bin_path);
    bench_dataset_free(ds);
    return -1;
  }
  return 0;
}

/* ---- recall */

double bench_recall(const bench_gt *gt, size_t qi, size_t k, const float *base, const float *query,
                    size_t dim, int metric, const uint32_t *ids, size_t nres) {
  size_t kk = k < gt->k ? k : gt->k;
  if (kk == 0) return 1.0; /* nothing to find */
  double thr = gt->dist[qi * gt->k + kk - 1];
  size_t hit = 0;
  for (size_t j = 0; j < nres && j < k; j++) {
    int dup = 0;
    for (size_t m = 0; m < j; m++) dup |= ids[m] == ids[j];
    if (!dup && bench_dist(query, base + (size_t)ids[j] * dim, dim, metric) <= thr) hit++;
  }
  if (hit > kk) hit = kk;
  return (double)hit / (double)kk;
}
