/*
** http.c: the libmicrohttpd side of `valori serve`. One daemon with an internal polling thread and
** a thread pool over epoll (never a thread per connection); suspend/resume for requests that wait
** (writes until their fsync). Each request passes, in this order: the connection limit (429), the
** Host check (403 EHOST), the Origin check (403 EORIGIN), CORS preflight, readiness (503), the
** route table (404 ENOROUTE, 405 EMETHOD), the token (401, 403), the body size from Content-Length
** (413 before reading the body) and the content type (415); then the body is read up to the limit
** and the handler runs. A reaper thread cuts connections whose headers or body are too slow
** (shutdown(2) on the socket: libmicrohttpd then closes it as it would for a dead peer).
*/
#define _GNU_SOURCE 1
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"

struct vs_tconn {
  vs_tconn *prev, *next;
  int fd;
  int phase; /* T_HEADERS, T_BODY, T_BUSY, T_CUT */
  double deadline;
  int over_limit;
};
enum { T_HEADERS, T_BODY, T_BUSY, T_CUT };

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- connection tracking and the reaper */

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
  vs_server *s = (vs_server *)cls;
  vs_tconn *t;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    t = (vs_tconn *)calloc(1, sizeof *t);
    *socket_context = t;
    if (!t) return;
    t->fd = ci ? ci->connect_fd : -1;
    t->phase = T_HEADERS;
    t->deadline = mono() + s->cfg.header_timeout;
    pthread_mutex_lock(&s->tmu);
    t->next = s->tlist;
    if (s->tlist) s->tlist->prev = t;
    s->tlist = t;
    s->nconn++;
    t->over_limit = s->nconn > (int)s->cfg.max_connections;
    pthread_mutex_unlock(&s->tmu);
    vs_metrics_connection(1);
  } else {
    t = (vs_tconn *)*socket_context;
    if (!t) return;
    /* called before libmicrohttpd closes the socket, so the reaper never touches a reused fd */
    pthread_mutex_lock(&s->tmu);
    if (t->prev) t->prev->next = t->next;
    else s->tlist = t->next;
    if (t->next) t->next->prev = t->prev;
    s->nconn--;
    pthread_mutex_unlock(&s->tmu);
    free(t);
    *socket_context = NULL;
    vs_metrics_connection(-1);
  }
}

static void tconn_phase(vs_server *s, vs_tconn *t, int phase, double timeout) {
  if (!t) return;
  pthread_mutex_lock(&s->tmu);
  if (t->phase != T_CUT) {
    t->phase = phase;
    t->deadline = mono() + timeout;
  }
  pthread_mutex_unlock(&s->tmu);
}

static void *reaper(void *arg) {
  vs_server *s = (vs_server *)arg;
  for (;;) {
    struct timespec ts = {0, 200 * 1000 * 1000};
    vs_tconn *t;
    double now;
    nanosleep(&ts, NULL);
    pthread_mutex_lock(&s->tmu);
    if (s->reaper_stop) {
      pthread_mutex_unlock(&s->tmu);
      return NULL;
    }
    now = mono();
    for (t = s->tlist; t; t = t->next) {
      if ((t->phase == T_HEADERS || t->phase == T_BODY) && now > t->deadline && t->fd >= 0) {
        shutdown(t->fd, SHUT_RDWR);
        t->phase = T_CUT;
      }
    }
    pthread_mutex_unlock(&s->tmu);
  }
}

/* ---- small helpers */

void vs_header(vs_req *q, const char *name, const char *value) {
  if (q->nh >= VS_MAX_HEADERS) return;
  q->hname[q->nh] = name;
  snprintf(q->hval[q->nh], sizeof q->hval[q->nh], "%s", value);
  q->nh++;
}

const char *vs_query(vs_req *q, const char *name) {
  return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct qcheck {
  const char *const *allowed;
  const char *bad;
  int minh; /* the route also takes min_height and wait_ms (dispatch reads them) */
} qcheck;

static enum MHD_Result qcheck_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  qcheck *c = (qcheck *)cls;
  int i;
  (void)kind;
  (void)value;
  for (i = 0; c->allowed[i]; i++)
    if (strcmp(key, c->allowed[i]) == 0) return MHD_YES;
  if (c->minh && (strcmp(key, "min_height") == 0 || strcmp(key, "wait_ms") == 0)) return MHD_YES;
  c->bad = key;
  return MHD_NO;
}

int vs_query_check(vs_req *q, const char *const *allowed, vs_err *e) {
  qcheck c;
  c.allowed = allowed;
  c.bad = NULL;
  c.minh = q->route >= 0 && q->route < vs_nroutes && (vs_routes[q->route].flags & VS_RF_MINH) != 0;
  MHD_get_connection_values(q->conn, MHD_GET_ARGUMENT_KIND, qcheck_cb, &c);
  if (c.bad) return vs_fail(e, VALORI_EINVAL, "unknown query parameter '%.60s'", c.bad);
  return VALORI_OK;
}

/* ---- sending */

static void access_log(vs_req *q, size_t bytes) {
  vs_server *s = q->srv;
  const union MHD_ConnectionInfo *ci;
  char peer[64] = "-", when[40];
  struct timespec ts;
  struct tm tm;
  if (!s->access_log) return;
  ci = MHD_get_connection_info(q->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (ci && ci->client_addr) {
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, peer, sizeof peer);
    else if (sa->sa_family == AF_INET6)
      inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, peer, sizeof peer);
  }
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  pthread_mutex_lock(&s->log_mu);
  fprintf(s->access_log, "%s.%03ldZ %s %s %s %d %zu %.6f\n", when, ts.tv_nsec / 1000000, peer, q->method, q->url,
          q->status, bytes, mono() - q->t0);
  fflush(s->access_log);
  pthread_mutex_unlock(&s->log_mu);
}

static enum MHD_Result send_answer(vs_req *q) {
  struct MHD_Response *r;
  enum MHD_Result ret;
  size_t len = 0;
  int i;
  if (q->reader) {
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, q->reader, q->reader_cls, q->reader_free);
    if (!r) q->reader_free(q->reader_cls);
    q->reader = NULL;
  } else if (q->fd >= 0) {
    r = MHD_create_response_from_fd64(q->fd_size, q->fd); /* takes the fd */
    len = (size_t)q->fd_size;
    q->fd = -1;
  } else {
    char *p;
    if (q->out.oom) {
      vb_free(&q->out);
      vs_reply_code(q, VALORI_ENOMEM, "out of memory building the answer");
    }
    p = vb_take(&q->out, &len);
    r = MHD_create_response_from_buffer(len, p ? p : (void *)"", p ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
  }
  if (!r) return MHD_NO;
  if (q->ctype) MHD_add_response_header(r, "Content-Type", q->ctype);
  MHD_add_response_header(r, "Cache-Control", "no-store");
  if (q->cors_origin) {
    MHD_add_response_header(r, "Access-Control-Allow-Origin", q->cors_origin);
    MHD_add_response_header(r, "Access-Control-Expose-Headers", "X-Valori-Height, X-Valori-Root, X-Valori-Chain");
    MHD_add_response_header(r, "Vary", "Origin");
  }
  for (i = 0; i < q->nh; i++) MHD_add_response_header(r, q->hname[i], q->hval[i]);
  ret = MHD_queue_response(q->conn, (unsigned)q->status, r);
  MHD_destroy_response(r);
  q->done = 1;
  vs_metrics_request(q->route, q->status, mono() - q->t0);
  access_log(q, len);
  return ret;
}

/* ---- checks before routing */

static int host_allowed(vs_server *s, const char *host) {
  char h[300];
  const char *port = NULL, *end;
  size_t n;
  int i;
  if (!host) return 1; /* HTTP/1.0 without Host: nothing a browser sends */
  if (s->wildcard && s->nhosts == 0) return 1;
  if (host[0] == '[') {
    end = strchr(host, ']');
    if (!end) return 0;
    n = (size_t)(end - host) + 1;
    if (end[1] == ':') port = end + 2;
    else if (end[1]) return 0;
  } else {
    end = strchr(host, ':');
    n = end ? (size_t)(end - host) : strlen(host);
    if (end) port = end + 1;
  }
  if (n == 0 || n >= sizeof h) return 0;
  memcpy(h, host, n);
  h[n] = 0;
  if (port) {
    uint64_t p;
    if (!vs_parse_u64_text(port, strlen(port), &p) || p != s->port) return 0;
  }
  if (s->loopback && (strcasecmp(h, "localhost") == 0 || strcmp(h, "127.0.0.1") == 0 || strcmp(h, "[::1]") == 0)) return 1;
  if (strcasecmp(h, s->host_literal) == 0) return 1;
  for (i = 0; i < s->nhosts; i++)
    if (strcasecmp(h, s->hosts[i]) == 0) return 1;
  return 0;
}

/* NULL: not allowed. Returns the configured origin to echo, or "" for same-origin. */
static const char *origin_allowed(vs_server *s, const char *origin, const char *host) {
  int i;
  for (i = 0; i < s->norigins; i++)
    if (strcmp(origin, s->origins[i]) == 0) return s->origins[i];
  if (host && strncmp(origin, "http://", 7) == 0 && strcasecmp(origin + 7, host) == 0) return "";
  return NULL;
}

/* The token's kind (VS_AUTH_READ / WRITE), 0 if unknown. Every configured token is compared in
** full (constant time in the token's content). */
static int token_kind(vs_server *s, const char *tok) {
  size_t n = strlen(tok), i;
  int k, kind = 0;
  for (k = 0; k < s->ntokens; k++) {
    const vs_token *t = &s->tokens[k];
    unsigned diff = (unsigned)(n != t->len);
    for (i = 0; i < 256; i++) {
      unsigned a = i < n ? (unsigned char)tok[i] : 0u, b = i < t->len ? (unsigned char)t->text[i] : 0u;
      diff |= a ^ b;
    }
    kind |= t->kind & -(int)(diff == 0);
  }
  return kind & VS_AUTH_WRITE ? VS_AUTH_WRITE : kind;
}

/* Splits the path into segments; 0 when it has too many or is too long. */
static int split_path(vs_req *q) {
  size_t n = strlen(q->url);
  char *p;
  if (n >= sizeof q->seg_buf) return 0;
  memcpy(q->seg_buf, q->url, n + 1);
  q->nsegs = 0;
  p = q->seg_buf;
  if (*p == '/') p++;
  while (*p) {
    char *slash = strchr(p, '/');
    if (q->nsegs == VS_MAX_SEGS) return 0;
    q->segs[q->nsegs++] = p;
    if (!slash) break;
    *slash = 0;
    p = slash + 1;
    if (!*p) return 0; /* trailing slash: no such endpoint */
  }
  return 1;
}

static int seg_match(const vs_route *r, vs_req *q) {
  const char *p = r->pattern;
  int i = 0;
  if (*p == '/') p++;
  if (!*p) return q->nsegs == 0;
  while (*p) {
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    if (i >= q->nsegs) return 0;
    if (p[0] != '{' && (strlen(q->segs[i]) != len || strncmp(p, q->segs[i], len) != 0)) return 0;
    i++;
    p += len;
    if (*p == '/') p++;
  }
  return i == q->nsegs;
}

/* Finds the route; *allow lists the methods of a path that matched with another method. */
static const vs_route *route_find(vs_req *q, const char *method, char *allow, size_t cap, int *idx) {
  int i, any = 0;
  allow[0] = 0;
  for (i = 0; i < vs_nroutes; i++) {
    const vs_route *r = &vs_routes[i];
    if (!seg_match(r, q)) continue;
    if (strcmp(r->method, method) == 0) {
      *idx = i;
      return r;
    }
    if (!strstr(allow, r->method)) {
      size_t l = strlen(allow);
      snprintf(allow + l, cap - l, "%s%s", any ? ", " : "", r->method);
      if (strcmp(r->method, "GET") == 0) {
        l = strlen(allow);
        snprintf(allow + l, cap - l, ", HEAD");
      }
      any = 1;
    }
  }
  return NULL;
}

static int content_kind(const char *ct) {
  size_t n;
  const char *semi;
  if (!ct) return VS_BODY_NONE;
  semi = strchr(ct, ';');
  n = semi ? (size_t)(semi - ct) : strlen(ct);
  while (n && (ct[n - 1] == ' ')) n--;
  if (n == 16 && strncasecmp(ct, "application/json", 16) == 0) {
    if (semi) { /* only charset=utf-8 */
      const char *v = semi + 1;
      while (*v == ' ') v++;
      if (strcasecmp(v, "charset=utf-8") != 0 && strcasecmp(v, "charset=\"utf-8\"") != 0) return -1;
    }
    return VS_BODY_JSON;
  }
  if (!semi && n == 30 && strncasecmp(ct, "application/vnd.valori.vectors", 30) == 0) return VS_BODY_VECTORS;
  if (!semi && n == 28 && strncasecmp(ct, "application/vnd.valori.event", 28) == 0) return VS_BODY_EVENT;
  return -1;
}

static const char *body_kind_name(int kinds) {
  if (kinds == VS_BODY_JSON) return "application/json";
  if (kinds == (VS_BODY_JSON | VS_BODY_VECTORS)) return "application/json or application/vnd.valori.vectors";
  if (kinds == VS_BODY_EVENT) return "application/vnd.valori.event";
  return "no body";
}

/* The checks of the first callback. Returns 1 when an answer was set (send it now). */
static int first_checks(vs_req *q) {
  vs_server *s = q->srv;
  const char *host = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Host");
  const char *origin = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Origin");
  const char *method = strcmp(q->method, "HEAD") == 0 ? "GET" : q->method;
  const vs_route *r;
  char allow[64];
  int idx = -1;
  q->route = VS_ROUTE_OTHER;
  if (q->tc && q->tc->over_limit) {
    vs_metrics_rejected();
    vs_header(q, "Connection", "close");
    vs_header(q, "Retry-After", "1");
    vs_reply_code(q, VS_ETOOMANY, "more than %u connections are open", s->cfg.max_connections);
    return 1;
  }
  if (!host_allowed(s, host)) {
    vs_reply_code(q, VS_EHOST, "Host '%.100s' is not this server (see --allow-host)", host);
    return 1;
  }
  if (origin) {
    const char *o = origin_allowed(s, origin, host);
    if (!o) {
      vs_reply_code(q, VS_EORIGIN, "Origin '%.100s' is not allowed (see --cors-origin)", origin);
      return 1;
    }
    if (o[0]) q->cors_origin = o;
  }
  if (!split_path(q)) {
    vs_reply_code(q, VS_ENOROUTE, "no endpoint %s %.200s", q->method, q->url);
    return 1;
  }
  if (strcmp(q->method, "OPTIONS") == 0) {
    q->route = VS_ROUTE_OPTIONS;
    q->status = 204;
    if (q->cors_origin) {
      vs_header(q, "Access-Control-Allow-Methods", "GET, HEAD, POST, PATCH, DELETE");
      vs_header(q, "Access-Control-Allow-Headers", "Authorization, Content-Type, X-Valori-Follower");
      vs_header(q, "Access-Control-Max-Age", "600");
    } else {
      vs_header(q, "Allow", "GET, HEAD, POST, PATCH, DELETE, OPTIONS");
    }
    return 1;
  }
  r = route_find(q, method, allow, sizeof allow, &idx);
  if (!r) {
    if (allow[0]) {
      vs_header(q, "Allow", allow);
      vs_reply_code(q, VS_EMETHOD, "%s is not allowed on %.200s", q->method, q->url);
      return 1;
    }
    if (strcmp(method, "GET") == 0 && !(q->nsegs > 0 && strcmp(q->segs[0], "v1") == 0)) {
      q->route = VS_ROUTE_STATIC;
      return 0; /* static file or status page, no token */
    }
    vs_reply_code(q, VS_ENOROUTE, "no endpoint %s %.200s", q->method, q->url);
    return 1;
  }
  q->route = idx;
  if (!s->ready || s->stopping) {
    if (r->auth != VS_AUTH_NONE) {
      vs_header(q, "Retry-After", "1");
      vs_reply_code(q, VS_EUNAVAILABLE, "the server is %s", s->stopping ? "stopping" : "starting");
      return 1;
    }
  }
  if (r->auth != VS_AUTH_NONE && s->ntokens > 0) {
    const char *a = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Authorization");
    int kind;
    if (!a || strncasecmp(a, "Bearer ", 7) != 0) {
      vs_header(q, "WWW-Authenticate", "Bearer");
      vs_reply_code(q, VS_EAUTH, "this endpoint needs 'Authorization: Bearer TOKEN'");
      return 1;
    }
    kind = token_kind(s, a + 7);
    if (!kind) {
      vs_header(q, "WWW-Authenticate", "Bearer");
      vs_reply_code(q, VS_EAUTH, "unknown token");
      return 1;
    }
    if (r->auth == VS_AUTH_WRITE && kind != VS_AUTH_WRITE) {
      vs_reply_code(q, VS_EFORBIDDEN, "a read token cannot write");
      return 1;
    }
  }
  if (s->fol && r->auth == VS_AUTH_WRITE && !(r->flags & VS_RF_LOCAL)) { /* docs/REPLICATION.md section 9 */
    vs_err e;
    vbuf x;
    vs_fail(&e, VALORI_EREADONLY, "this server is a read-only follower; write to the leader at %.200s", s->cfg.leader);
    vb_init(&x);
    vb_puts(&x, ",\"leader\":");
    vb_json_str(&x, s->cfg.leader);
    if (x.p && x.len < sizeof e.extra) memcpy(e.extra, x.p, x.len + 1);
    vb_free(&x);
    vs_reply_error(q, &e);
    return 1;
  }
  {
    const char *cl = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Content-Length");
    const char *te = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Transfer-Encoding");
    const char *ct = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Content-Type");
    uint64_t len = 0;
    int has_body = te != NULL;
    if (cl) {
      if (!vs_parse_u64_text(cl, strlen(cl), &len)) {
        vs_reply_code(q, VALORI_EINVAL, "bad Content-Length");
        return 1;
      }
      if (len > 0) has_body = 1;
    }
    if (len > s->cfg.max_body) {
      vs_header(q, "Connection", "close");
      vs_reply_code(q, VS_ETOOLARGE, "the body is %llu bytes; the limit is %llu (--max-body)", (unsigned long long)len,
                    (unsigned long long)s->cfg.max_body);
      return 1;
    }
    if (r->body) {
      int k = content_kind(ct);
      if (k <= 0 || !(k & r->body)) {
        vs_reply_code(q, VS_EMEDIA, "this endpoint takes %s, not '%.80s'", body_kind_name(r->body), ct ? ct : "");
        return 1;
      }
      q->body_kind = k;
    } else if (has_body) {
      vs_reply_code(q, VS_EMEDIA, "this endpoint takes no body");
      return 1;
    }
  }
  return 0;
}

/* ---- the access handler */

static void req_wake(vs_waiter *w) {
  vs_req *q = (vs_req *)w->arg;
  vs_server *s = q->srv;
  atomic_store(&q->woken, 1);
  MHD_resume_connection(q->conn);
  atomic_fetch_sub(&s->waiting, 1);
}

void vs_reply_when_durable(vs_req *q, vs_coll *c, uint64_t h) {
  if (vs_coll_is_durable(c, h)) return;
  atomic_fetch_add(&q->srv->waiting, 1);
  q->suspended = 1;
  q->w.height = h;
  MHD_suspend_connection(q->conn); /* before the waiter is visible: a wake can come at once */
  vs_coll_add_waiter(q->srv->reg, c, &q->w);
}

static enum MHD_Result ahc(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls) {
  vs_server *s = (vs_server *)cls;
  vs_req *q = (vs_req *)*con_cls;
  (void)version;
  if (!q) {
    const union MHD_ConnectionInfo *ci;
    q = (vs_req *)calloc(1, sizeof *q);
    if (!q) return MHD_NO;
    *con_cls = q;
    q->srv = s;
    q->conn = conn;
    q->url = url;
    q->method = method;
    q->t0 = mono();
    q->fd = -1;
    q->w.arg = q;
    q->w.wake = req_wake;
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    q->tc = ci ? (vs_tconn *)ci->socket_context : NULL;
    atomic_fetch_add(&s->active, 1);
    tconn_phase(s, q->tc, T_BODY, s->cfg.body_timeout);
    if (first_checks(q)) return send_answer(q);
    return MHD_YES;
  }
  if (q->done) { /* answered early (e.g. 413 while a chunked body streams in): discard */
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (*upload_data_size) {
    if (q->body.len + *upload_data_size > s->cfg.max_body) {
      *upload_data_size = 0;
      vb_free(&q->body);
      vs_header(q, "Connection", "close");
      vs_reply_code(q, VS_ETOOLARGE, "the body is larger than the limit %llu (--max-body)",
                    (unsigned long long)s->cfg.max_body);
      if (send_answer(q) != MHD_YES) return MHD_NO; /* cut the upload */
      return MHD_YES;
    }
    vb_put(&q->body, upload_data, *upload_data_size);
    *upload_data_size = 0;
    if (q->body.oom) return MHD_NO;
    return MHD_YES;
  }
  if (q->parked) { /* resumed from park.c: the height it waited for, its deadline, or shutdown */
    q->parked = 0;
    vs_dispatch_resumed(q);
    if (q->parked) return MHD_YES;
    return send_answer(q);
  }
  if (q->suspended) { /* resumed: the write is durable, or its commit failed */
    q->suspended = 0;
    if (q->w.rc != VALORI_OK) {
      vb_free(&q->out);
      q->nh = 0;
      vs_reply_code(q, q->w.rc, "the write could not be made durable: %s; the collection is reopened from its log",
                    valori_strerror(q->w.rc));
    }
    return send_answer(q);
  }
  tconn_phase(s, q->tc, T_BUSY, 0);
  if (q->route == VS_ROUTE_STATIC) vs_h_static(q);
  else vs_dispatch(q);
  if (q->suspended || q->parked) return MHD_YES; /* a write waiting for its fsync, a parked request */
  return send_answer(q);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
  vs_server *s = (vs_server *)cls;
  vs_req *q = (vs_req *)*con_cls;
  (void)conn;
  (void)toe;
  if (!q) return;
  tconn_phase(s, q->tc, T_HEADERS, s->cfg.header_timeout); /* the next request's headers */
  if (q->fd >= 0) close(q->fd);
  if (q->cleanup) q->cleanup(q);
  if (q->reader && q->reader_free) q->reader_free(q->reader_cls); /* never handed to a response */
  vb_free(&q->body);
  vb_free(&q->out);
  free(q);
  *con_cls = NULL;
  atomic_fetch_sub(&s->active, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  fputs("valori serve: http: ", stderr);
  vfprintf(stderr, fmt, ap);
}

/* ---- start / stop */

int vs_http_parse_listen(vs_server *s, vs_err *e) {
  struct sockaddr_storage *ss = &s->addr;
  socklen_t *slen = &s->addrlen;
  const char *l = s->cfg.listen, *colon;
  char host[300];
  uint64_t port;
  size_t n;
  memset(ss, 0, sizeof *ss);
  if (l[0] == '[') {
    const char *end = strchr(l, ']');
    if (!end || end[1] != ':') return vs_fail(e, VALORI_EINVAL, "--listen: expected [IPV6]:PORT, got '%s'", l);
    n = (size_t)(end - l - 1);
    colon = end + 1;
    if (n >= sizeof host) return vs_fail(e, VALORI_EINVAL, "--listen: address too long");
    memcpy(host, l + 1, n);
  } else {
    colon = strrchr(l, ':');
    if (!colon) return vs_fail(e, VALORI_EINVAL, "--listen: expected ADDR:PORT, got '%s'", l);
    n = (size_t)(colon - l);
    if (n >= sizeof host) return vs_fail(e, VALORI_EINVAL, "--listen: address too long");
    memcpy(host, l, n);
  }
  host[n] = 0;
  if (!vs_parse_u64_text(colon + 1, strlen(colon + 1), &port) || port > 65535)
    return vs_fail(e, VALORI_EINVAL, "--listen: bad port in '%s'", l);
  if (strcmp(host, "localhost") == 0) snprintf(host, sizeof host, "127.0.0.1");
  if (l[0] == '[') {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) return vs_fail(e, VALORI_EINVAL, "--listen: bad IPv6 address '%s'", host);
    s->loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
    s->wildcard = IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr);
    *slen = sizeof *a;
    snprintf(s->host_literal, sizeof s->host_literal, "[%s]", host);
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
      return vs_fail(e, VALORI_EINVAL, "--listen: bad IPv4 address '%s' (use a numeric address or localhost)", host);
    s->loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    s->wildcard = a->sin_addr.s_addr == htonl(INADDR_ANY);
    *slen = sizeof *a;
    snprintf(s->host_literal, sizeof s->host_literal, "%s", host);
  }
  return VALORI_OK;
}

int vs_http_start(vs_server *s, vs_err *e) {
  const union MHD_DaemonInfo *di;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  int i;
  VS_TRY(vs_http_parse_listen(s, e));
  if (s->addr.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
  for (i = 0; i < vs_nroutes; i++) vs_metrics_route_name(i, vs_routes[i].name);
  vs_metrics_route_name(VS_ROUTE_STATIC, "GET /{static}");
  vs_metrics_route_name(VS_ROUTE_OPTIONS, "OPTIONS *");
  vs_metrics_route_name(VS_ROUTE_OTHER, "unmatched");
  pthread_mutex_init(&s->tmu, NULL);
  pthread_mutex_init(&s->log_mu, NULL);
  s->d = MHD_start_daemon(flags, 0, NULL, NULL, ahc, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&s->addr,
                          MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->cfg.threads, MHD_OPTION_CONNECTION_LIMIT,
                          (unsigned)(s->cfg.max_connections + 64), MHD_OPTION_CONNECTION_TIMEOUT,
                          (unsigned)s->cfg.idle_timeout, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                          MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                          MHD_OPTION_LISTEN_BACKLOG_SIZE, 256u, MHD_OPTION_END);
  if (!s->d) return vs_fail(e, VALORI_EIO, "cannot listen on %s: %s", s->cfg.listen, strerror(errno));
  di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
  s->port = di ? di->port : 0;
  pthread_create(&s->reaper, NULL, reaper, s);
  return VALORI_OK;
}

void vs_http_stop(vs_server *s) {
  MHD_socket ls = MHD_quiesce_daemon(s->d);
  double until = mono() + s->cfg.shutdown_timeout;
  /* parked requests are resumed now: streams send their ERROR frame and end, long polls and
  ** min_height reads answer; and nothing parks any more */
  if (s->park) vs_park_wake_all(s->park);
  /* in-flight requests finish; writes waiting for their fsync are resumed by the commit threads */
  while (atomic_load(&s->active) > 0 && mono() < until) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  /* writes waiting for an fsync are always resumed (the commit threads still run) */
  while (atomic_load(&s->waiting) > 0) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  pthread_mutex_lock(&s->tmu);
  s->reaper_stop = 1;
  pthread_mutex_unlock(&s->tmu);
  pthread_join(s->reaper, NULL);
  MHD_stop_daemon(s->d);
  if (ls != MHD_INVALID_SOCKET) close(ls);
  s->d = NULL;
}
