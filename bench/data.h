/*
** data.h: benchmark data for Valori and its peers. Loads Fashion-MNIST from Debian's
** dataset-fashion-mnist (gzip'd idx files, 60000 train + 10000 test images of 28x28 u8), derives the
** benchmark variants, and computes (once, cached under bench/data/) the exact top-k ground truth.
**
** Datasets (names accepted by bench_dataset_load):
**   fmnist-l2       raw pixels 0..255 as float, 784-d, squared L2.   The ann-benchmarks set.
**   fmnist-pm1-l2   x/127.5 - 1, values in [-1,1] with fractional parts, 784-d, squared L2.
**   fmnist-ip       raw pixels with every row L2-normalized, 784-d, inner product.
**   fmnist-p128-l2  the pm1 variant projected to 128-d by a fixed random matrix (see
**                   bench_project), squared L2. |y| <= 784/sqrt(128) < 70, inside Valori's range.
** Base = the first n train images, queries = the first nq test images.
**
** Ground truth is exact: distances in float64 from the stored float32 values (squared L2, or the
** negated dot product for IP, so that smaller is always closer), ties broken by base index, top-k
** by (distance, index). It is computed with pthreads and cached in <cache_dir>/<name>.gt with a
** header holding a magic, the sizes and a checksum of every input byte; a stale or foreign file is
** recomputed. All progress goes to stderr.
**
** Everything here is plain C11 + POSIX threads (idx files are read by native/dataset/idx.c, over zlib),
** callable from C++ (extern "C").
*/
#ifndef BENCH_DATA_H
#define BENCH_DATA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BENCH_L2 0 /* squared Euclidean distance */
#define BENCH_IP 1 /* negated inner product (smaller is closer) */

#define BENCH_FMNIST_DIR "/usr/share/datasets/fashion-mnist"
#define BENCH_GT_K 100 /* ground-truth depth of the unfiltered cache */

/* splitmix64: the one PRNG / hash of the benchmarks. Advances *state and returns the next value. */
uint64_t bench_splitmix64(uint64_t *state);
/* splitmix64 finalizer applied to x: a fixed, well-mixed 64-bit hash of an integer. */
uint64_t bench_hash64(uint64_t x);

/* Reads a gzip'd idx3-ubyte file (magic 0x00000803, big-endian dims) into a newly malloc'd float32
** row-major array of min(rows in file, max_rows) rows (max_rows 0 = all); each row has rows*cols
** of the image. Returns 0 on success, -1 with a message on stderr on failure. */
int bench_idx_load(const char *path, size_t max_rows, float **out, size_t *rows, size_t *dim);

/* x <- x/127.5 - 1 for count values (computed in double, stored as float). */
void bench_scale_pm1(float *x, size_t count);

/* Scales every row to unit L2 norm (norm computed in double). Rows of all zeros are left as they
** are; returns how many there were. */
size_t bench_normalize_rows(float *x, size_t rows, size_t dim);

/* Fixed random projection: returns a malloc'd rows x dout array y = x R, where R is din x dout with
** entries +-1/sqrt(dout) (a Rademacher Johnson-Lindenstrauss matrix). R is generated row-major,
** R[i][j] for i in 0..din-1, j in 0..dout-1, one splitmix64 output per entry from state `seed`,
** sign = lowest bit (1 -> negative). y is accumulated in double over i = 0..din-1 in order and
** rounded to float once. NULL on allocation failure. */
float *bench_project(const float *x, size_t rows, size_t din, size_t dout, uint64_t seed);
#define BENCH_PROJ_SEED 0x56616c6f72693132ull /* "Valori12" */

/* Exact distance in double between two float vectors: sum (a-b)^2, or -sum a*b. The summation
** order is fixed (four interleaved partial sums, combined as (s0+s1)+(s2+s3)). */
double bench_dist(const float *a, const float *b, size_t dim, int metric);

/* Ground truth: for each query, the k nearest base rows by (distance, index). k may be smaller than
** requested when the candidate set is smaller (then k = set size). */
typedef struct bench_gt {
  size_t nq, k;
  uint32_t *ids; /* nq*k base indices, nearest first */
  double *dist;  /* nq*k distances (bench_dist), nearest first */
} bench_gt;

/* Computes ground truth over base rows `subset` (nsub indices, ascending; NULL = all n rows) with
** `threads` threads, printing progress to stderr prefixed with `label`. Returns 0 or -1. */
int bench_gt_compute(const float *base, size_t n, const uint32_t *subset, size_t nsub,
                     const float *queries, size_t nq, size_t dim, int metric, size_t k, int threads,
                     const char *label, bench_gt *out);
/* As bench_gt_compute, but first tries `path` (a .gt file whose header matches every input), and
** writes the result there after computing it (path NULL = never cache). */
int bench_gt_cached(const char *path, const float *base, size_t n, const uint32_t *subset,
                    size_t nsub, const float *queries, size_t nq, size_t dim, int metric, size_t k,
                    int threads, const char *label, bench_gt *out);
void bench_gt_free(bench_gt *gt);

/* A loaded benchmark dataset with its unfiltered ground truth (k = BENCH_GT_K). */
typedef struct bench_dataset {
  char name[64];
  int metric;
  size_t n, nq, dim;
  float *base;    /* n*dim */
  float *queries; /* nq*dim */
  bench_gt gt;
} bench_dataset;

/* Loads dataset `name` (see the list above) with n base rows and nq queries (0 = all) from src_dir
** (NULL = BENCH_FMNIST_DIR), ground truth cached in cache_dir (NULL = no cache). 0 or -1. */
int bench_dataset_load(const char *name, const char *src_dir, size_t n, size_t nq,
                       const char *cache_dir, int threads, bench_dataset *ds);
/* The vectors of dataset `name` only (as bench_dataset_load, without ground truth: ds->gt stays
** empty), for drivers that compare engines answer for answer rather than by recall. 0 or -1. */
int bench_dataset_load_vectors(const char *name, const char *src_dir, size_t n, size_t nq, bench_dataset *ds);
void bench_dataset_free(bench_dataset *ds);

/* Export of a loaded dataset for drivers outside C (bench/js/): the exact float32 base and query
** matrices and the ground truth, so that every engine sees the same bytes and recall is computed
** against the same cache. Writes <dir>/export-<name>-n<n>-q<nq>.bin and a JSON sidecar of the same
** stem (.json). The .bin is a 64-byte little-endian header, then the payload:
**   char magic[8] = "VBENCHX1"; u32 version (1); u32 metric (BENCH_L2 / BENCH_IP);
**   u64 n, nq, dim, gt_k; u32 crc32 of the payload (zlib's CRC-32); u32 zero; u64 payload bytes;
**   payload: base f32[n*dim], queries f32[nq*dim], gt ids u32[nq*gt_k], gt dist f64[nq*gt_k]
** (row-major, nearest first; offsets in the sidecar). An existing export with the same header is
** left as it is. Both files are written to a temporary name and renamed. The sidecar's path is
** stored in path_out (cap bytes). Returns 0 or -1 with a message on stderr. */
int bench_dataset_export(const bench_dataset *ds, const char *dir, char *path_out, size_t cap);

/* Reads an export written by bench_dataset_export (its .bin path) into ds, as bench_dataset_load
** would have loaded it (name "export"): checks the magic, version, size and CRC-32. 0 or -1. */
int bench_dataset_read_export(const char *bin_path, bench_dataset *ds);

/* Recall@k of one query's result list (base indices) against ground truth row qi, tie-aware: a
** returned index counts when its exact distance (bench_dist) is <= the k-th true distance, so a
** result that swaps two equidistant neighbours is not penalised. Duplicate indices count once.
** Denominator: min(k, gt->k). Returns a value in [0,1]. */
double bench_recall(const bench_gt *gt, size_t qi, size_t k, const float *base, const float *query,
                    size_t dim, int metric, const uint32_t *ids, size_t nres);

#ifdef __cplusplus
}
#endif
#endif /* BENCH_DATA_H */
