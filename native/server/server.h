/*
** server.h: `valori serve`: configuration, the server object and the request context shared by
** the HTTP glue (http.c: libmicrohttpd, routing, auth, Host/Origin checks, CORS, limits, timeouts,
** static files, access log), the endpoint handlers (handlers.c) and the entry point (serve.c:
** flags, environment, start-up, signals, shutdown). The API is specified in docs/HTTP.md.
*/
#ifndef VS_SERVER_H
#define VS_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "collection.h"
#include "decode.h"
#include "metrics.h"
#include "park.h"
#include "vbuf.h"
#include "vserr.h"

#define VS_MAX_TOKENS 64
#define VS_MAX_LIST 32 /* entries in --allow-host / --cors-origin */

typedef struct vs_config {
  char listen[300];
  char data[4096];
  char token_file[4096];
  char allow_hosts[4096];
  char cors[4096];
  char static_dir[4096];
  char access_log[4096];
  uint32_t threads, commit_threads, max_connections, max_open, max_collections;
  uint64_t max_body, snapshot_every, segment_bytes;
  vs_limits lim;
  uint32_t header_timeout, body_timeout, idle_timeout, shutdown_timeout;
  /* replication (docs/REPLICATION.md) */
  uint32_t max_streams, heartbeat_ms;
  char replication_mode[16];     /* "leader" or "follower" */
  char leader[2048];             /* follower: the leader's URL */
  char leader_token_file[4096];  /* follower: the token sent to the leader (default: --token-file's) */
  uint32_t rebootstrap;          /* follower: re-bootstrap diverged collections once at start */
  char follower_id[65];
  uint32_t list_interval, ack_interval_ms;
} vs_config;

enum { VS_AUTH_NONE = 0, VS_AUTH_READ = 1, VS_AUTH_WRITE = 2 };

typedef struct vs_token {
  char text[257];
  size_t len;
  int kind; /* VS_AUTH_READ or VS_AUTH_WRITE */
} vs_token;

typedef struct vs_tconn vs_tconn; /* a tracked connection (timeouts, connection count) */
typedef struct vs_repl vs_repl;         /* the leader's replication bookkeeping (repl.c) */
typedef struct vs_follower vs_follower; /* follower mode: the replication clients (native/follower) */

typedef struct vs_server {
  vs_config cfg;
  struct MHD_Daemon *d;
  vs_registry *reg;
  atomic_int ready, stopping;
  struct sockaddr_storage addr; /* --listen, parsed */
  socklen_t addrlen;
  uint16_t port;
  int loopback, wildcard;
  char host_literal[304];
  char hosts[VS_MAX_LIST][256];
  int nhosts;
  char origins[VS_MAX_LIST][256];
  int norigins;
  vs_token tokens[VS_MAX_TOKENS];
  int ntokens;
  char static_real[4096];
  FILE *access_log;
  pthread_mutex_t log_mu;
  /* connection tracking */
  pthread_mutex_t tmu;
  vs_tconn *tlist;
  int nconn;
  atomic_int active;  /* requests between their first callback and their completion */
  atomic_int waiting; /* requests suspended until their write is durable */
  pthread_t reaper;
  int reaper_stop;
  /* replication */
  vs_parking *park;   /* parked requests: streams, long polls, min_height reads */
  vs_repl *repl;      /* followers seen, records and bytes sent */
  vs_follower *fol;   /* NULL on a leader */
  atomic_int nrepl;   /* open streams and waiting long polls (--max-streams) */
} vs_server;

enum { VS_BODY_NONE = 0, VS_BODY_JSON = 1, VS_BODY_VECTORS = 2, VS_BODY_EVENT = 4 };

#define VS_MAX_SEGS 8
#define VS_MAX_HEADERS 8

/* One request, from its first callback to its completion. */
typedef struct vs_req {
  vs_server *srv;
  struct MHD_Connection *conn;
  vs_tconn *tc;
  double t0;
  const char *method; /* as sent ("HEAD" is routed as GET) */
  const char *url;
  int route;
  const char *segs[VS_MAX_SEGS]; /* path segments (pointers into seg_buf) */
  char seg_buf[1024];
  int nsegs;
  int body_kind;        /* what the request sent (VS_BODY_*) */
  vbuf body;
  int too_large, started, done;
  /* the answer */
  int status;
  vbuf out;
  const char *ctype;
  const char *hname[VS_MAX_HEADERS];
  char hval[VS_MAX_HEADERS][160];
  int nh;
  int fd;          /* file response (static, snapshot) when >= 0 */
  uint64_t fd_size;
  const char *cors_origin; /* configured origin to echo, or NULL */
  /* a write waiting for durability */
  vs_waiter w;
  int suspended;
  atomic_int woken;
  /* a streamed answer (replication stream): the content reader and its state */
  MHD_ContentReaderCallback reader;
  MHD_ContentReaderFreeCallback reader_free;
  void *reader_cls;
  /* parked (park.h): resumed by the park entry; then resume(q) runs (NULL: dispatch again) */
  vs_park park;
  int parked, park_fired;
  void (*resume)(struct vs_req *q);
  void (*cleanup)(struct vs_req *q); /* at completion */
  void *ctx;
} vs_req;

/* ---- http.c */
/* Parses cfg.listen into addr, loopback, wildcard and host_literal. */
int vs_http_parse_listen(vs_server *s, vs_err *e);
int vs_http_start(vs_server *s, vs_err *e);
void vs_http_stop(vs_server *s);
/* Adds a response header (copied). */
void vs_header(vs_req *q, const char *name, const char *value);
/* The query argument `name` or NULL. */
const char *vs_query(vs_req *q, const char *name);
/* EINVAL unless every query argument is in allowed (NULL-terminated). */
int vs_query_check(vs_req *q, const char *const *allowed, vs_err *e);
/* Suspends q until every write of c up to height h is durable (the answer in q is sent then, or
** replaced by an error if the commit failed); returns at once when h is durable already. */
void vs_reply_when_durable(vs_req *q, vs_coll *c, uint64_t h);

/* ---- handlers.c: each fills q->status and q->out (or q->fd), or suspends q (writes) */
typedef void (*vs_handler)(vs_req *q);
/* Sets an error answer. */
void vs_reply_error(vs_req *q, const vs_err *e);
void vs_reply_code(vs_req *q, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The route table (handlers.c). */
typedef struct vs_route {
  const char *method;
  const char *pattern; /* segments; "{x}" captures */
  const char *name;    /* "METHOD pattern", the metrics label */
  vs_handler fn;
  int auth;            /* VS_AUTH_* needed */
  int body;            /* accepted VS_BODY_* kinds (0: no body expected) */
  int flags;           /* VS_RF_* */
} vs_route;
#define VS_RF_MINH 1  /* a read: takes min_height and wait_ms (docs/REPLICATION.md section 9) */
#define VS_RF_DATA 2  /* serves the collection's data: 503 EDIVERGED on a diverged follower */
#define VS_RF_LOCAL 4 /* a write-token endpoint a follower serves (local files only, or rebootstrap) */
extern const vs_route vs_routes[];
extern const int vs_nroutes;
/* Route indexes with no entry in the table (for metrics): */
#define VS_ROUTE_STATIC (VS_MAX_ROUTES - 3)
#define VS_ROUTE_OPTIONS (VS_MAX_ROUTES - 2)
#define VS_ROUTE_OTHER (VS_MAX_ROUTES - 1)
void vs_h_static(vs_req *q);

/* ---- repl.c: the replication endpoints (docs/REPLICATION.md) and the central dispatch */
/* Runs q's route handler after the checks every read route shares: a diverged follower's refusal
** (VS_RF_DATA) and min_height (VS_RF_MINH: parks q until the height is durable or wait_ms passed). */
void vs_dispatch(vs_req *q);
/* ahc calls this when a parked q was resumed. */
void vs_dispatch_resumed(vs_req *q);
int vs_repl_start(vs_server *s, vs_err *e);
void vs_repl_stop(vs_server *s);
/* The leader's replication metrics (section 11). */
void vs_repl_metrics(vs_server *s, vbuf *b);
void vs_h_repl_position(vs_req *q);
void vs_h_repl_snapshot(vs_req *q);
void vs_h_repl_stream(vs_req *q);
void vs_h_repl_log(vs_req *q);
void vs_h_repl_ack(vs_req *q);
void vs_h_repl_rebootstrap(vs_req *q);
/* The collection named in q's path: a reference, or 0 with the error answer set. */
int vs_acquire(vs_req *q, vs_coll **c);

/* ---- serve.c */
int vs_serve_main(int argc, char **argv);

#endif /* VS_SERVER_H */
