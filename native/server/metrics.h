/*
** metrics.h: the server's counters and histograms (lock-free, C11 atomics) and their Prometheus
** text exposition (docs/HTTP.md section 12). Routes are registered by index once at start-up;
** request metrics are kept per route and status class of the statuses the server sends.
*/
#ifndef VS_METRICS_H
#define VS_METRICS_H

#include <stdint.h>

#include "vbuf.h"

#define VS_MAX_ROUTES 48

/* Names route i (a template such as "POST /v1/collections/{name}/records"); static string. */
void vs_metrics_route_name(int route, const char *name);
void vs_metrics_request(int route, int status, double seconds);
void vs_metrics_fsync(double seconds);
void vs_metrics_commit(double seconds, uint64_t events);
void vs_metrics_snapshot(int ok);
void vs_metrics_connection(int delta);
void vs_metrics_rejected(void);
/* Appends the process-wide metrics (everything but the per-collection gauges). */
void vs_metrics_write(vbuf *b, int ready);

#endif /* VS_METRICS_H */
