/*
** load.h: a closed-loop HTTP load generator over libcurl's multi interface, for bench/server/.
**
** lg_run keeps `clients` requests in flight against one base URL from one thread: each client is a
** libcurl easy handle with its own kept-alive connection; as soon as a client's answer is complete
** (and checked) it sends the next request, until `total` requests were answered. This is the
** "N concurrent clients" of the benchmark: the offered load adapts to the server (closed loop), so
** throughput and latency are the server's at that concurrency, not at an arrival rate we chose.
**
** Requests are numbered 0..total-1 and handed out in order; make(i) describes request i (bodies are
** borrowed: they must stay valid until lg_run returns), check(i, status, body) judges its answer.
** A transport error, a check that fails or the time limit ends the run with -1 and a message on
** stderr: a benchmark never reports the speed of wrong answers.
**
** Latency is measured per request from the moment it is handed to libcurl to the moment its answer
** is complete (monotonic clock), so it includes the loopback transfer and the client's queueing in
** libcurl, not the preparation of the request (make) or the check.
*/
#ifndef BENCH_SERVER_LOAD_H
#define BENCH_SERVER_LOAD_H

#include <stddef.h>

typedef struct lg_request {
  const char *method; /* "GET", "POST", "DELETE" */
  const char *path;   /* appended to the base URL ("/healthz", "/v1/collections/a/search") */
  const char *ctype;  /* Content-Type of the body, or NULL for none */
  const void *body;   /* borrowed; NULL with len 0 for no body */
  size_t len;
} lg_request;

/* Describes request i (0..total-1) in *rq. 0, or -1 to end the run (the callback says why). */
typedef int (*lg_make_fn)(void *arg, size_t i, lg_request *rq);
/* Judges the answer to request i: 0 if it is the expected one, -1 to fail the run (the callback
** prints why). body is the whole response body (not NUL-terminated; len bytes). */
typedef int (*lg_check_fn)(void *arg, size_t i, long status, const char *body, size_t len);

typedef struct lg_result {
  size_t done;        /* requests answered and checked */
  double wall_s;      /* first request sent .. last answer checked */
  double busy_s;      /* sum of the per-request latencies */
  double cpu_s;       /* CPU time of this (the client) process during the run */
  double qps;         /* done / wall_s */
  double p50_ms, p99_ms, mean_ms, max_ms;
  long connects;      /* new connections libcurl opened (== clients when keep-alive holds) */
} lg_result;

/* Runs the load described above. base: "http://127.0.0.1:PORT". max_s bounds the run's wall time.
** 0, or -1 (message on stderr; *out holds what was measured so far). */
int lg_run(const char *base, int clients, size_t total, double max_s, lg_make_fn make, lg_check_fn check,
           void *arg, lg_result *out);

/* One request outside any measurement (setting up, reading state): method, base + path, optional body
** of Content-Type ctype. *status gets the HTTP status, *resp a malloc'd NUL-terminated body (the
** caller frees it). 0, or -1 on a transport error (message on stderr). */
int lg_fetch(const char *base, const char *method, const char *path, const char *ctype, const void *body,
             size_t len, long *status, char **resp);

/* "libcurl VERSION", for the report. */
const char *lg_version(void);

/* Percentile p (0..100) of v[0..n-1] in milliseconds from seconds; sorts v in place (nearest rank). */
double lg_percentile_ms(double *v, size_t n, double p);

#endif /* BENCH_SERVER_LOAD_H */
