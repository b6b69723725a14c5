/*
** metrics.c: counters and fixed-bucket histograms in C11 atomics (no lock on any request path),
** written out in the Prometheus text format 0.0.4 (HELP and TYPE lines, cumulative buckets ending
** in +Inf, _sum and _count). Sums are kept in nanoseconds as integers.
*/
#include "metrics.h"

#include <stdatomic.h>
#include <string.h>

#include "valori.h"

#define NB 14
static const double bounds[NB] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static const int statuses[] = {200, 201, 204, 206, 304, 400, 401, 403, 404, 405, 408, 409, 413, 415, 429, 500, 503, 507};
#define NS ((int)(sizeof statuses / sizeof statuses[0]))

typedef struct hist {
  atomic_uint_fast64_t b[NB]; /* non-cumulative */
  atomic_uint_fast64_t count, sum_ns;
} hist;

static hist h_fsync, h_commit, h_route[VS_MAX_ROUTES];
static atomic_uint_fast64_t req_count[VS_MAX_ROUTES][NS + 1];
static const char *route_names[VS_MAX_ROUTES];
static atomic_uint_fast64_t events_committed, snaps_ok, snaps_err, rejected;
static atomic_int_fast64_t connections;

static void observe(hist *h, double s) {
  int i;
  for (i = 0; i < NB && s > bounds[i]; i++) {
  }
  if (i < NB) atomic_fetch_add(&h->b[i], 1);
  atomic_fetch_add(&h->count, 1);
  atomic_fetch_add(&h->sum_ns, (uint_fast64_t)(s > 0 ? s * 1e9 : 0));
}

void vs_metrics_route_name(int route, const char *name) {
  if (route >= 0 && route < VS_MAX_ROUTES) route_names[route] = name;
}

void vs_metrics_request(int route, int status, double seconds) {
  int i;
  if (route < 0 || route >= VS_MAX_ROUTES) return;
  for (i = 0; i < NS && statuses[i] != status; i++) {
  }
  atomic_fetch_add(&req_count[route][i], 1);
  observe(&h_route[route], seconds);
}

void vs_metrics_fsync(double s) { observe(&h_fsync, s); }
void vs_metrics_commit(double s, uint64_t events) {
  observe(&h_commit, s);
  atomic_fetch_add(&events_committed, events);
}
void vs_metrics_snapshot(int ok) { atomic_fetch_add(ok ? &snaps_ok : &snaps_err, 1); }
void vs_metrics_connection(int delta) { atomic_fetch_add(&connections, delta); }
void vs_metrics_rejected(void) { atomic_fetch_add(&rejected, 1); }

static void head(vbuf *b, const char *name, const char *type, const char *help) {
  vb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Buckets, sum and count of h; labels is "" or 'route="..."'. */
static void write_hist(vbuf *b, const char *name, const char *labels, hist *h) {
  uint64_t cum = 0;
  int i;
  const char *sep = labels[0] ? "," : "";
  for (i = 0; i < NB; i++) {
    cum += atomic_load(&h->b[i]);
    vb_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, bounds[i], (unsigned long long)cum);
  }
  vb_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)atomic_load(&h->count));
  vb_printf(b, "%s_sum%s%s%s %.9f\n", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
            (double)atomic_load(&h->sum_ns) * 1e-9);
  vb_printf(b, "%s_count%s%s%s %llu\n", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
            (unsigned long long)atomic_load(&h->count));
}

void vs_metrics_write(vbuf *b, int ready) {
  int r, i;
  head(b, "valori_build_info", "gauge", "Valori version (always 1)");
  vb_printf(b, "valori_build_info{version=\"%s\"} 1\n", VALORI_VERSION_STRING);
  head(b, "valori_ready", "gauge", "1 when every collection was recovered and the server is not stopping");
  vb_printf(b, "valori_ready %d\n", ready);
  head(b, "valori_http_requests_total", "counter", "HTTP requests answered, by route template and status");
  for (r = 0; r < VS_MAX_ROUTES; r++) {
    if (!route_names[r]) continue;
    for (i = 0; i <= NS; i++) {
      uint64_t n = atomic_load(&req_count[r][i]);
      if (!n) continue;
      vb_puts(b, "valori_http_requests_total{route=\"");
      vb_puts(b, route_names[r]); /* templates contain no quote or backslash */
      if (i < NS) vb_printf(b, "\",status=\"%d\"} %llu\n", statuses[i], (unsigned long long)n);
      else vb_printf(b, "\",status=\"other\"} %llu\n", (unsigned long long)n);
    }
  }
  head(b, "valori_http_request_duration_seconds", "histogram", "Time from a request's headers to its answer being queued");
  for (r = 0; r < VS_MAX_ROUTES; r++) {
    vbuf l;
    if (!route_names[r] || !atomic_load(&h_route[r].count)) continue;
    vb_init(&l);
    vb_printf(&l, "route=\"%s\"", route_names[r]);
    write_hist(b, "valori_http_request_duration_seconds", l.p ? l.p : "", &h_route[r]);
    vb_free(&l);
  }
  head(b, "valori_http_connections", "gauge", "Open HTTP connections");
  vb_printf(b, "valori_http_connections %lld\n", (long long)atomic_load(&connections));
  head(b, "valori_http_connections_rejected_total", "counter", "Connections answered 429 (over --max-connections)");
  vb_printf(b, "valori_http_connections_rejected_total %llu\n", (unsigned long long)atomic_load(&rejected));
  head(b, "valori_events_committed_total", "counter", "Write events made durable (a batch is one event)");
  vb_printf(b, "valori_events_committed_total %llu\n", (unsigned long long)atomic_load(&events_committed));
  head(b, "valori_commit_duration_seconds", "histogram", "One group commit: begin, fsync, end");
  write_hist(b, "valori_commit_duration_seconds", "", &h_commit);
  head(b, "valori_fsync_duration_seconds", "histogram", "The fsync of a group commit");
  write_hist(b, "valori_fsync_duration_seconds", "", &h_fsync);
  head(b, "valori_snapshots_total", "counter", "Snapshots written (background and checkpoint), by result");
  vb_printf(b, "valori_snapshots_total{result=\"ok\"} %llu\n", (unsigned long long)atomic_load(&snaps_ok));
  vb_printf(b, "valori_snapshots_total{result=\"error\"} %llu\n", (unsigned long long)atomic_load(&snaps_err));
}
