/*
** common.h: what every benchmark driver shares besides the data: the command line, timing, resident
** memory, the filter tags, filtered ground truth and the JSON-lines output.
**
** Output protocol: each driver prints one JSON object per line on stdout (flushed line by line) and
** human progress on stderr. Every object starts with the fields written by bench_json_head
** ("engine", "kind", "mode", "dataset", "metric", "n", "nq", "dim", "M", "efc"); the rest depends on
** "kind" (meta, build, search, exact, filter, ingest, snapshot, kernel). bench/report.py is the
** consumer and documents each kind's fields.
**
** Filter tags: record i (0-based base index) has hash h = bench_hash64(i ^ BENCH_TAG_SALT). A filter
** of selectivity 1/m keeps the records with h % m == 0 (the "tag = hash(index) % (1/sel)",
** filtering on tag 0). The supported moduli 2, 10, 100, 1000 divide each other, so the kept sets are
** nested, and one stored tag per record expresses all four: its *class* is how many of the moduli
** divide h (0..4); selectivity 1/m_j is the tag set {j, ..., 4}. hnswlib gets the same sets through
** a filter functor on h % m.
*/
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BENCH_MAX_LIST 32

/* Which measurements to run (--tests, comma list). BUILD always runs. */
#define BENCH_T_SEARCH 1u   /* recall@k / QPS over the ef list */
#define BENCH_T_FILTER 2u   /* filtered search over the selectivity list */
#define BENCH_T_EXACT 4u    /* exact (brute-force) search QPS */
#define BENCH_T_INGEST 8u   /* insert throughput by batch size (Valori) */
#define BENCH_T_SNAPSHOT 16u /* snapshot save / load (Valori) */
#define BENCH_T_CHECK 32u   /* valori_check after build (Valori) */
#define BENCH_T_KERNEL 64u  /* distance kernel ns/distance */
#define BENCH_T_APPEND 128u /* in-memory ingestion, index-less vs HNSW, by batch size (Valori) */
#define BENCH_T_DURABLE 256u /* durable ingestion and store snapshots in a real directory (Valori) */
#define BENCH_T_ALL 0xffffffffu
/* What runs without --tests: everything but the opt-in ingestion measurements (append and durable
** take minutes on the full data set and durable needs a real disk; bench/run.sh asks for them). */
#define BENCH_T_DEFAULT (BENCH_T_ALL & ~(BENCH_T_APPEND | BENCH_T_DURABLE))

typedef struct bench_opts {
  const char *dataset;   /* --dataset, default fmnist-l2 */
  const char *src_dir;   /* --src, default BENCH_FMNIST_DIR */
  const char *cache_dir; /* --cache, default the compiled-in BENCH_CACHE_DIR (bench/data) */
  const char *mode;      /* --mode label copied into every JSON line (quick, full, custom) */
  size_t n, nq;          /* --n, --nq: base rows and queries (0 = all) */
  uint32_t M, efc, k;    /* --M 16, --efc 200, --k 10 */
  uint32_t efs[BENCH_MAX_LIST];        /* --ef 10,20,40,80,160,320 */
  size_t nef;
  uint32_t filter_efs[BENCH_MAX_LIST]; /* --filter-ef 80 */
  size_t nfef;
  double sels[BENCH_MAX_LIST];         /* --sel 0.5,0.1,0.01,0.001 */
  size_t nsel;
  size_t filter_nq; /* --filter-nq 1000: queries used for filtered search (the first ones) */
  size_t exact_nq;  /* --exact-nq 500: queries used for exact-search QPS */
  size_t ingest_n;  /* --ingest-n 10000: records per ingestion run */
  size_t batch;     /* --batch 1000: records per insert batch while building */
  int runs;         /* --runs 3: timed repetitions; the median is reported */
  int threads;      /* --threads 2: ground-truth threads (searches are single-threaded) */
  unsigned tests;   /* --tests search,filter,exact,ingest,snapshot,check,kernel,append,durable */
  size_t durable_single_n; /* --durable-single-n 200: durable single inserts (one fsync each) */
  const char *store_dir;   /* --store-dir: parent of the temporary store directories ($TMPDIR or /tmp) */
  const char *traversal;   /* --traversal none|int8 (valori_bench only): the HNSW store's compact
                           ** traversal copy, int8 over the base data's [min, max] (valori_traversal_int8) */
} bench_opts;

/* Parses argv into *o (defaults first). Prints usage and returns -1 on a bad or --help argument. */
int bench_opts_parse(int argc, char **argv, bench_opts *o, const char *prog);

double bench_now(void);             /* monotonic seconds */
/* CPU seconds used by this process. Next to wall time it shows whether a measurement was disturbed
** by other load on the machine (CPU/wall well below 1 for a single-threaded loop). */
double bench_cpu_now(void);
/* CPU seconds of the calling thread alone (a library's helper threads not counted). */
double bench_thread_cpu_now(void);
uint64_t bench_rss_bytes(void);     /* resident set size from /proc/self/statm (0 if unknown) */
/* Peak resident set size since the last bench_rss_peak_reset (VmHWM of /proc/self/status; the
** reset writes 5 to /proc/self/clear_refs, Linux 4.0+). 0 if unknown. */
void bench_rss_peak_reset(void);
uint64_t bench_rss_peak_bytes(void);
double bench_median(double *v, size_t n); /* sorts v in place */
/* The file system type of dir ("ext4", "tmpfs", ... "other", "unknown"), for the report: a tmpfs
** fsync costs nothing, so durable rows name where they ran. */
const char *bench_fs_type(const char *dir);

/* Sampling profiler control (bench/search_profile.py): with BENCH_PERF_CTL="CTL,ACK" in the environment
** (the two FIFOs of `perf record --control fifo:CTL,ACK -D -1`), on = 1 asks perf to start sampling
** and on = 0 to stop, each waiting for perf's acknowledgement, so that a profile holds only the
** phase between the two calls. Without the variable it does nothing. Exits with status 1 when the
** FIFOs cannot be used (a profile of the wrong phase would be worse than none). */
void bench_perf_mark(int on);

/* ---- filters (see the header comment) */
#define BENCH_TAG_SALT 0x7461677361676c74ull
int bench_sel_modulus(double sel, uint32_t *m);       /* 0, or -1 if 1/sel is not 2/10/100/1000 */
int bench_tag_allowed(uint64_t index, uint32_t m);    /* record index passes the 1/m filter */
uint64_t bench_tag_class(uint64_t index);             /* the stored tag: 0..4 */
size_t bench_tag_set(uint32_t m, uint64_t tags[4]);   /* the tag set for 1/m; returns its size */

/* The records passing the 1/m filter (ascending base indices, malloc'd) and their exact top-k for
** the first nq queries of ds, cached like the unfiltered ground truth. 0 or -1. */
int bench_filter_gt(const bench_dataset *ds, uint32_t m, size_t nq, size_t k, const char *cache_dir,
                    int threads, uint32_t **subset, size_t *nsub, bench_gt *gt);

/* ---- JSON lines */
/* Writes the common opening fields ("{\"engine\":...,\"efc\":..." without the closing brace). */
void bench_json_head(char *buf, size_t cap, const bench_opts *o, const bench_dataset *ds,
                     const char *engine, const char *kind);
/* printf to stdout followed by a flush: one complete JSON line per call. */
void bench_emit(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif /* BENCH_COMMON_H */
