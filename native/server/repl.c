/*
** repl.c: the replication endpoints of docs/REPLICATION.md on the server (a leader, or a follower
** serving its own followers): the position, the snapshot download, the stream and the long poll
** (frames from a valori_cursor over the collection's own log, never beyond its durable position),
** acks, the bookkeeping behind the replication metrics, and the dispatch every route goes through
** (a diverged follower's refusal, min_height). A stream is a libmicrohttpd content reader: with
** nothing to send it suspends its connection and parks (park.c) until the durable height advances
** or its next heartbeat is due, so no thread is held; at shutdown it sends an ERROR frame and ends.
*/
#define _GNU_SOURCE 1
#include "server.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "follower.h"
#include "valori_native.h"

#define MAX_FOLLOWERS 64         /* per collection, in the metrics */
#define FOLLOWER_IDLE_S 300.0    /* without a stream or an ack: dropped */
#define STREAM_FILL (256u * 1024u) /* bytes of frames prepared at a time */
#define LOG_MAX_BYTES (16u << 20)  /* records in one long-poll body */

/* ---- bookkeeping: followers seen per collection, records and bytes sent */

typedef struct vs_fent {
  char id[65];
  uint64_t acked, sent;
  int streams;
  double seen;
} vs_fent;

typedef struct vs_rcoll {
  struct vs_rcoll *next;
  char name[VS_MAX_NAME + 1];
  uint64_t records, bytes;
  int streams;
  vs_fent f[MAX_FOLLOWERS];
  int nf;
} vs_rcoll;

struct vs_repl {
  pthread_mutex_t mu;
  vs_rcoll *head;
};

static vs_rcoll *rcoll(vs_repl *r, const char *name) {
  vs_rcoll *c;
  for (c = r->head; c; c = c->next)
    if (strcmp(c->name, name) == 0) return c;
  c = (vs_rcoll *)calloc(1, sizeof *c);
  if (!c) return NULL;
  snprintf(c->name, sizeof c->name, "%s", name);
  c->next = r->head;
  r->head = c;
  return c;
}

/* The entry of follower id in collection name (created, evicting the one idle longest). mu held. */
static vs_fent *fent(vs_repl *r, const char *name, const char *id) {
  vs_rcoll *c = rcoll(r, name);
  double now = vs_park_now();
  int i, w = 0, oldest = -1;
  if (!c) return NULL;
  for (i = 0; i < c->nf; i++) { /* forget followers gone for long */
    if (c->f[i].streams == 0 && now - c->f[i].seen > FOLLOWER_IDLE_S) continue;
    c->f[w++] = c->f[i];
  }
  c->nf = w;
  for (i = 0; i < c->nf; i++) {
    if (strcmp(c->f[i].id, id) == 0) return &c->f[i];
    if (c->f[i].streams == 0 && (oldest < 0 || c->f[i].seen < c->f[oldest].seen)) oldest = i;
  }
  if (c->nf == MAX_FOLLOWERS) {
    if (oldest < 0) return NULL; /* 64 open streams: not listed */
    i = oldest;
  } else {
    i = c->nf++;
  }
  memset(&c->f[i], 0, sizeof c->f[i]);
  snprintf(c->f[i].id, sizeof c->f[i].id, "%s", id);
  c->f[i].seen = now;
  return &c->f[i];
}

/* Counts sent frames; follower id's sent height (0 = unchanged) and stream count change. */
static void account(vs_server *s, const char *name, const char *id, uint64_t records, uint64_t bytes, uint64_t sent,
                    int dstreams) {
  vs_repl *r = s->repl;
  vs_rcoll *c;
  vs_fent *f;
  pthread_mutex_lock(&r->mu);
  c = rcoll(r, name);
  if (c) {
    c->records += records;
    c->bytes += bytes;
    c->streams += dstreams;
  }
  f = id ? fent(r, name, id) : NULL;
  if (f) {
    if (sent) f->sent = sent;
    f->streams += dstreams;
    if (f->streams < 0) f->streams = 0;
    f->seen = vs_park_now();
  }
  pthread_mutex_unlock(&r->mu);
}

void vs_repl_metrics(vs_server *s, vbuf *b) {
  static const char *const heads[][2] = {
      {"valori_replication_streams", "Replication streams open now"},
      {"valori_replication_followers", "Followers known (a stream open, or an ack within 300 s)"},
      {"valori_replication_follower_acked_height", "The height a follower last acknowledged"},
      {"valori_replication_follower_sent_height", "The last height sent to a follower"},
      {"valori_replication_records_sent_total", "RECORD frames sent (streams and long polls)"},
      {"valori_replication_bytes_sent_total", "Replication frame bytes sent"}};
  vs_repl *r = s->repl;
  vs_rcoll *c;
  int k, i;
  pthread_mutex_lock(&r->mu);
  for (k = 0; k < 6; k++) {
    vb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", heads[k][0], heads[k][1], heads[k][0], k >= 4 ? "counter" : "gauge");
    for (c = r->head; c; c = c->next) {
      double now = vs_park_now();
      int known = 0;
      for (i = 0; i < c->nf; i++)
        if (c->f[i].streams > 0 || now - c->f[i].seen <= FOLLOWER_IDLE_S) known++;
      if (k == 0) vb_printf(b, "%s{collection=\"%s\"} %d\n", heads[k][0], c->name, c->streams);
      if (k == 1) vb_printf(b, "%s{collection=\"%s\"} %d\n", heads[k][0], c->name, known);
      if (k == 4) vb_printf(b, "%s{collection=\"%s\"} %llu\n", heads[k][0], c->name, (unsigned long long)c->records);
      if (k == 5) vb_printf(b, "%s{collection=\"%s\"} %llu\n", heads[k][0], c->name, (unsigned long long)c->bytes);
      if (k == 2 || k == 3)
        for (i = 0; i < c->nf; i++) /* ids are [A-Za-z0-9._:-] or an address: nothing to escape */
          vb_printf(b, "%s{collection=\"%s\",follower=\"%s\"} %llu\n", heads[k][0], c->name, c->f[i].id,
                    (unsigned long long)(k == 2 ? c->f[i].acked : c->f[i].sent));
    }
  }
  pthread_mutex_unlock(&r->mu);
}

int vs_repl_start(vs_server *s, vs_err *e) {
  s->repl = (vs_repl *)calloc(1, sizeof *s->repl);
  s->park = vs_parking_new();
  if (!s->repl || !s->park) return vs_fail(e, VALORI_ENOMEM, "out of memory");
  pthread_mutex_init(&s->repl->mu, NULL);
  return VALORI_OK;
}

void vs_repl_stop(vs_server *s) {
  vs_rcoll *c, *n;
  vs_parking_free(s->park);
  s->park = NULL;
  if (!s->repl) return;
  for (c = s->repl->head; c; c = n) {
    n = c->next;
    free(c);
  }
  pthread_mutex_destroy(&s->repl->mu);
  free(s->repl);
  s->repl = NULL;
}

/* ---- small helpers */

static uint64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *seg(vs_req *q, int i) { return i < q->nsegs ? q->segs[i] : ""; }

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

static int parse_hex32(const char *s, uint8_t out[32]) {
  int i;
  if (!s || strlen(s) != 64) return 0;
  for (i = 0; i < 32; i++) {
    int a = hexval(s[2 * i]), b = hexval(s[2 * i + 1]);
    if (a < 0 || b < 0) return 0;
    out[i] = (uint8_t)(a << 4 | b);
  }
  return 1;
}

/* A decimal query value in [lo, hi] (def when absent); 0 with the answer set when bad. */
static int query_u64(vs_req *q, const char *name, uint64_t lo, uint64_t hi, uint64_t def, uint64_t *out) {
  const char *v = vs_query(q, name);
  *out = def;
  if (!v) return 1;
  if (!vs_parse_u64_text(v, strlen(v), out) || *out < lo || *out > hi) {
    vs_reply_code(q, VALORI_EINVAL, "%s: expected a decimal number in %llu..%llu", name, (unsigned long long)lo,
                  (unsigned long long)hi);
    return 0;
  }
  return 1;
}

/* 1 for a follower name: 1 to 64 characters from A-Z a-z 0-9 . _ : - */
static int id_valid(const char *v) {
  size_t n = strlen(v), i;
  for (i = 0; i < n; i++)
    if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') || strchr("._:-", v[i])))
      return 0;
  return n >= 1 && n <= 64;
}

/* The follower's name for the metrics: X-Valori-Follower, else the peer's address. 0 (answer set)
** for a malformed header. */
static int follower_id(vs_req *q, char out[65]) {
  const char *h = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "X-Valori-Follower");
  const union MHD_ConnectionInfo *ci;
  if (h) {
    if (!id_valid(h)) {
      vs_reply_code(q, VALORI_EINVAL, "X-Valori-Follower: 1 to 64 characters from A-Z a-z 0-9 . _ : -");
      return 0;
    }
    snprintf(out, 65, "%s", h);
    return 1;
  }
  snprintf(out, 65, "unknown");
  ci = MHD_get_connection_info(q->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (ci && ci->client_addr) {
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, 65);
    else if (sa->sa_family == AF_INET6)
      inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, 65);
  }
  return 1;
}

static void put_config(vbuf *b, const valori_stats *st) {
  vb_printf(b, "{\"dim\":%u,\"metric\":\"%s\",\"index\":\"%s\",\"hnsw\":", st->dim, st->metric == VALORI_METRIC_IP ? "ip" : "l2",
            st->index == VALORI_INDEX_NONE ? "none" : "hnsw");
  if (st->index == VALORI_INDEX_NONE) vb_puts(b, "null}");
  else
    vb_printf(b, "{\"m\":%u,\"ef_construction\":%u,\"ef_search\":%u}}", st->hnsw_m, st->hnsw_ef_construction,
              st->hnsw_ef_search);
}

/* Appends one frame to b; VALORI_OK or the encoder's refusal. */
static int put_frame(vbuf *b, const valori_frame *f) {
  size_t need = 0;
  if (valori_frame_encode(f, NULL, 0, &need) != VALORI_EBUFSIZE || vb_reserve(b, need)) return VALORI_ENOMEM;
  if (valori_frame_encode(f, (uint8_t *)b->p + b->len, need, &need) != VALORI_OK) return VALORI_EINVAL;
  b->len += need;
  return VALORI_OK;
}

static void put_heartbeat(vbuf *b, const valori_position *d) {
  valori_frame f;
  memset(&f, 0, sizeof f);
  f.type = VALORI_FRAME_HEARTBEAT;
  f.leader_height = d->height;
  f.time_ms = wall_ms();
  memcpy(f.root, d->root, 32);
  put_frame(b, &f);
}

static void put_error(vbuf *b, int code, const char *msg) {
  valori_frame f;
  memset(&f, 0, sizeof f);
  f.type = VALORI_FRAME_ERROR;
  f.code = (uint32_t)code;
  f.data = (const uint8_t *)msg;
  f.data_len = strlen(msg) > VALORI_FRAME_MAX_MESSAGE ? VALORI_FRAME_MAX_MESSAGE : strlen(msg);
  put_frame(b, &f);
}

static void put_hello(vbuf *b, vs_coll *c, uint64_t from, const valori_position *d, uint32_t heartbeat_ms) {
  valori_frame f;
  valori_store_status ss;
  vs_summary sum;
  memset(&f, 0, sizeof f);
  vs_coll_summary(c, &sum);
  f.type = VALORI_FRAME_HELLO;
  f.from = from;
  f.leader_height = d->height;
  vs_coll_rdlock(c);
  f.log_first_height = valori_store_status_get(vs_coll_db(c), &ss) == VALORI_OK ? ss.log_first_height : 1;
  vs_coll_unlock(c);
  f.config[0] = sum.st.dim;
  f.config[1] = sum.st.metric;
  f.config[2] = sum.st.hnsw_m;
  f.config[3] = sum.st.hnsw_ef_construction;
  f.config[4] = sum.st.hnsw_ef_search;
  memcpy(f.root, d->root, 32);
  f.time_ms = wall_ms();
  f.heartbeat_ms = heartbeat_ms;
  put_frame(b, &f);
}

/* ---- the position check shared by the stream and the long poll */

typedef struct vs_tail {
  vs_server *srv;
  vs_coll *c;          /* a reference while in use; NULL while parked (tail_hold takes one again) */
  char name[VS_MAX_NAME + 1];
  uint64_t gen;        /* the collection's generation the cursor belongs to */
  valori_vfs *vfs;     /* read-only, on the collection's directory */
  valori_cursor *cur;
  uint64_t next;       /* the next height to send */
  char id[65];
} vs_tail;

static void tail_let_go(vs_tail *t) {
  if (t->c) vs_coll_release(t->srv->reg, t->c);
  t->c = NULL;
}

static void tail_free(vs_tail *t) {
  valori_cursor_close(t->cur);
  valori_posix_vfs_close(t->vfs);
  tail_let_go(t);
  memset(t, 0, sizeof *t);
}

/* A reference again after a park: 0 when the collection is gone or its content was replaced (the
** cursor reads files that are no longer the collection's). */
static int tail_hold(vs_tail *t) {
  vs_err e;
  if (t->c) return 1;
  if (vs_coll_acquire(t->srv->reg, t->name, &t->c, &e) != VALORI_OK) {
    t->c = NULL;
    return 0;
  }
  if (vs_coll_generation(t->c) != t->gen) {
    tail_let_go(t);
    return 0;
  }
  return 1;
}

/* Parks the request or stream of t on its collection; the reference is let go meanwhile. */
static void tail_park(vs_tail *t, vs_park *p) {
  snprintf(p->coll, sizeof p->coll, "%s", t->name);
  vs_park_add(t->srv->park, p, t->c);
  tail_let_go(t);
}

/* Refuses the position with an error naming the leader's chain at H-1 when known. */
static void refuse_diverged(vs_req *q, uint64_t h, const uint8_t *chain, const char *why) {
  vs_err e;
  char hex[65];
  vs_fail(&e, VALORI_EDIVERGED, "%s", why);
  if (chain) {
    vs_hex(hex, chain, 32);
    snprintf(e.extra, sizeof e.extra, ",\"height\":%llu,\"chain\":\"%s\"", (unsigned long long)h, hex);
  } else {
    snprintf(e.extra, sizeof e.extra, ",\"height\":%llu", (unsigned long long)h);
  }
  vs_reply_error(q, &e);
}

/* Checks from, chain and the position against the collection (docs/REPLICATION.md section 5, in
** the table's order); on success t holds the collection, a cursor at `from` and the follower id. */
static int tail_open(vs_req *q, vs_tail *t, const char *const *allowed) {
  valori_position d;
  valori_options o;
  uint8_t want[32], have[32];
  char dir[4400];
  vs_err e;
  int rc;
  memset(t, 0, sizeof *t);
  t->srv = q->srv;
  if (vs_query_check(q, allowed, &e) != VALORI_OK) {
    vs_reply_error(q, &e);
    return 0;
  }
  if (!query_u64(q, "from", 1, UINT64_MAX, 0, &t->next)) return 0;
  if (!vs_query(q, "from") || !parse_hex32(vs_query(q, "chain"), want)) {
    vs_reply_code(q, VALORI_EINVAL, "from (a height >= 1) and chain (64 hex digits: the chain at from - 1) are required");
    return 0;
  }
  if (!follower_id(q, t->id)) return 0;
  if (!vs_acquire(q, &t->c)) return 0;
  snprintf(t->name, sizeof t->name, "%s", vs_coll_name(t->c));
  t->gen = vs_coll_generation(t->c);
  vs_coll_durable_pos(t->c, &d);
  if (t->next - 1u > d.height) {
    refuse_diverged(q, t->next - 1u, NULL, "the follower is ahead of this server's durable height: it holds history this server does not");
    tail_free(t);
    return 0;
  }
  vs_coll_dir(q->srv->reg, vs_coll_name(t->c), dir, sizeof dir);
  rc = valori_posix_vfs_open(dir, 0, &t->vfs);
  valori_options_init(&o);
  o.vfs = t->vfs;
  if (rc == VALORI_OK) rc = valori_cursor_open(&o, t->next, d.height, &t->cur);
  if (rc == VALORI_EHEIGHT) {
    if (valori_store_chain_at(&o, t->next - 1u, have) == VALORI_OK && memcmp(have, want, 32) != 0)
      refuse_diverged(q, t->next - 1u, have, "another history: this server's chain at that height differs");
    else
      vs_reply_code(q, VALORI_EHEIGHT,
                    "record %llu is no longer in this server's log (compacted behind a snapshot): bootstrap again from "
                    ".../replication/snapshot",
                    (unsigned long long)t->next);
    tail_free(t);
    return 0;
  }
  if (rc != VALORI_OK) {
    const char *file = NULL;
    vs_reply_code(q, rc, "reading the log failed: %s%s%s", t->cur ? valori_cursor_error(t->cur, &file) : valori_strerror(rc),
                  file ? " in " : "", file ? file : "");
    tail_free(t);
    return 0;
  }
  valori_cursor_chain(t->cur, NULL, have);
  if (memcmp(have, want, 32) != 0) {
    refuse_diverged(q, t->next - 1u, have, "another history: this server's chain at that height differs");
    tail_free(t);
    return 0;
  }
  return 1;
}

/* Appends RECORD frames from the cursor to b while they are durable (<= max) and b holds less than
** limit bytes (at least one record) or count records; VALORI_OK or the cursor's error. *n counts. */
static int tail_fill(vs_tail *t, vbuf *b, uint64_t max, size_t limit, uint64_t count, uint64_t *n) {
  *n = 0;
  while (*n < count && (b->len < limit || *n == 0)) {
    const uint8_t *rec;
    size_t len;
    valori_frame f;
    int rc = valori_cursor_next(t->cur, max, &rec, &len);
    if (rc != VALORI_OK) return rc;
    if (!rec) break;
    memset(&f, 0, sizeof f);
    f.type = VALORI_FRAME_RECORD;
    f.data = rec;
    f.data_len = len;
    rc = put_frame(b, &f);
    if (rc != VALORI_OK) return rc;
    t->next++;
    (*n)++;
  }
  return VALORI_OK;
}

/* ---- GET .../replication */

void vs_h_repl_position(vs_req *q) {
  static const char *const none[] = {NULL};
  vs_coll *c;
  valori_position d;
  valori_store_status ss;
  vs_summary sum;
  vs_err e;
  int have_ss;
  if (vs_query_check(q, none, &e) != VALORI_OK) {
    vs_reply_error(q, &e);
    return;
  }
  if (!vs_acquire(q, &c)) return;
  vs_coll_durable_pos(c, &d);
  vs_coll_summary(c, &sum);
  vs_coll_rdlock(c);
  have_ss = valori_store_status_get(vs_coll_db(c), &ss) == VALORI_OK;
  vs_coll_unlock(c);
  vb_printf(&q->out, "{\"role\":\"%s\",\"height\":%llu,\"root\":", q->srv->fol ? "follower" : "leader", (unsigned long long)d.height);
  vb_json_hex(&q->out, d.root, 32);
  vb_puts(&q->out, ",\"chain\":");
  vb_json_hex(&q->out, d.chain, 32);
  vb_printf(&q->out, ",\"log_first_height\":%llu,\"snapshot_height\":%llu,\"time_ms\":%llu,\"heartbeat_ms\":%u,\"config\":",
            (unsigned long long)(have_ss ? ss.log_first_height : 1), (unsigned long long)(have_ss ? ss.snapshot_height : 0),
            (unsigned long long)wall_ms(), q->srv->cfg.heartbeat_ms);
  put_config(&q->out, &sum.st);
  if (q->srv->fol) vs_follower_status_json(q->srv->fol, vs_coll_name(c), &q->out);
  vb_puts(&q->out, "}");
  vs_coll_release(q->srv->reg, c);
  q->status = 200;
  q->ctype = "application/json";
}

/* ---- GET .../replication/snapshot */

void vs_h_repl_snapshot(vs_req *q) {
  static const char *const none[] = {NULL};
  vs_coll *c;
  vs_err e;
  int fd = -1, rc;
  uint64_t size, h, sh;
  uint8_t root[32], chain[32];
  char hex[65], num[24];
  if (vs_query_check(q, none, &e) != VALORI_OK) {
    vs_reply_error(q, &e);
    return;
  }
  if (!vs_acquire(q, &c)) return;
  rc = vs_coll_snapshot_file(q->srv->reg, c, &fd, &size, &h, root, chain, &e);
  if (rc == VS_ENOSNAPSHOT) { /* this endpoint always has an answer: take one */
    rc = vs_coll_checkpoint(q->srv->reg, c, &sh, &e);
    if (rc == VALORI_OK) rc = vs_coll_snapshot_file(q->srv->reg, c, &fd, &size, &h, root, chain, &e);
  }
  vs_coll_release(q->srv->reg, c);
  if (rc != VALORI_OK) {
    vs_reply_error(q, &e);
    return;
  }
  q->fd = fd;
  q->fd_size = size;
  q->status = 200;
  q->ctype = "application/vnd.valori.snapshot";
  snprintf(num, sizeof num, "%llu", (unsigned long long)h);
  vs_header(q, "X-Valori-Height", num);
  vs_hex(hex, root, 32);
  vs_header(q, "X-Valori-Root", hex);
  vs_hex(hex, chain, 32);
  vs_header(q, "X-Valori-Chain", hex);
}

/* ---- GET .../replication/stream */

typedef struct vs_stream {
  vs_tail t;
  struct MHD_Connection *conn;
  vbuf out;
  size_t off;        /* bytes of out already handed to libmicrohttpd */
  double last_send;  /* monotonic */
  int hb_due;        /* a heartbeat right after catching up */
  int ending, ended; /* an ERROR frame is queued / was sent */
  vs_park park;
} vs_stream;

static void stream_fire(vs_park *p) { MHD_resume_connection(((vs_stream *)p->arg)->conn); }

static void stream_free(void *cls) {
  vs_stream *st = (vs_stream *)cls;
  vs_server *s = st->t.srv;
  account(s, st->t.name, st->t.id, 0, 0, 0, -1);
  atomic_fetch_sub(&s->nrepl, 1);
  tail_free(&st->t);
  vb_free(&st->out);
  free(st);
}

/* Queues the ERROR frame that ends the stream. */
static void stream_end(vs_stream *st, int code, const char *msg) {
  put_error(&st->out, code, msg);
  st->ending = 1;
}

/* Prepares the next frames: records up to the durable height, a heartbeat when due, or the ERROR
** frame that ends the stream. Returns 0 when there is nothing to send yet (the caller parks). */
static int stream_prepare_held(vs_stream *st);
static int stream_prepare(vs_stream *st) {
  int more;
  if (st->t.srv->stopping) {
    stream_end(st, VS_EUNAVAILABLE, "the leader is stopping");
    return 1;
  }
  if (!tail_hold(&st->t)) {
    stream_end(st, VS_ENOCOLLECTION, "the collection was deleted or replaced");
    return 1;
  }
  more = stream_prepare_held(st);
  /* the reference lives only while frames are made: a delete in another request never waits on a
  ** stream whose worker thread it occupies. Without frames the caller parks, then lets it go. */
  if (more) tail_let_go(&st->t);
  return more;
}

static int stream_prepare_held(vs_stream *st) {
  vs_server *s = st->t.srv;
  vs_coll *c;
  valori_position d;
  double hb = s->cfg.heartbeat_ms / 1000.0;
  uint64_t n = 0;
  int rc;
  c = st->t.c;
  if (vs_coll_going(c)) {
    stream_end(st, VS_ENOCOLLECTION, "the collection is being deleted or replaced");
    return 1;
  }
  if (vs_coll_poisoned(c)) {
    stream_end(st, VALORI_EPOISONED, "a write to the collection failed; it is reopened from its log");
    return 1;
  }
  vs_coll_durable_pos(c, &d);
  if (st->t.next <= d.height) {
    rc = tail_fill(&st->t, &st->out, d.height, STREAM_FILL, UINT64_MAX, &n);
    if (rc != VALORI_OK) {
      const char *file = NULL, *what = valori_cursor_error(st->t.cur, &file);
      char msg[300];
      snprintf(msg, sizeof msg, "reading the log failed: %s%s%s", what[0] ? what : valori_strerror(rc), file ? " in " : "",
               file ? file : "");
      stream_end(st, rc, msg);
      return 1;
    }
    if (n) {
      account(s, st->t.name, st->t.id, n, st->out.len, st->t.next - 1u, 0);
      if (st->t.next > d.height) st->hb_due = 1;
      return 1;
    }
  }
  if (st->hb_due || vs_park_now() - st->last_send >= hb) {
    put_heartbeat(&st->out, &d);
    account(s, st->t.name, st->t.id, 0, st->out.len, 0, 0);
    st->hb_due = 0;
    return 1;
  }
  return 0;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
  vs_stream *st = (vs_stream *)cls;
  (void)pos;
  for (;;) {
    if (st->off < st->out.len) {
      size_t n = st->out.len - st->off;
      if (n > max) n = max;
      memcpy(buf, st->out.p + st->off, n);
      st->off += n;
      st->last_send = vs_park_now();
      if (st->off == st->out.len) {
        st->out.len = 0;
        st->off = 0;
        if (st->ending) st->ended = 1;
      }
      return (ssize_t)n;
    }
    if (st->ended || st->out.oom) return MHD_CONTENT_READER_END_OF_STREAM;
    if (stream_prepare(st)) continue;
    /* nothing to send: park until the durable height passes next or the heartbeat is due */
    st->park.height = st->t.next;
    st->park.deadline = st->last_send + st->t.srv->cfg.heartbeat_ms / 1000.0;
    st->park.fire = stream_fire;
    st->park.arg = st;
    MHD_suspend_connection(st->conn); /* before the entry is visible: it may fire at once */
    tail_park(&st->t, &st->park);     /* no reference while parked: a delete never waits for a stream */
    return 0;
  }
}

/* A replication slot (--max-streams) and the request's state of `size` bytes; NULL with the answer
** set (429, or out of memory: then the slot is given back). */
static void *repl_slot(vs_req *q, size_t size) {
  vs_server *s = q->srv;
  void *p;
  if (atomic_fetch_add(&s->nrepl, 1) >= (int)s->cfg.max_streams) {
    atomic_fetch_sub(&s->nrepl, 1);
    vs_header(q, "Retry-After", "1");
    vs_reply_code(q, VS_ETOOMANY, "more than %u replication streams and long polls are open (--max-streams)",
                  s->cfg.max_streams);
    return NULL;
  }
  p = calloc(1, size);
  if (!p) {
    atomic_fetch_sub(&s->nrepl, 1);
    vs_reply_code(q, VALORI_ENOMEM, "out of memory");
  }
  return p;
}

void vs_h_repl_stream(vs_req *q) {
  static const char *const allowed[] = {"from", "chain", NULL};
  vs_stream *st;
  valori_position d;
  st = (vs_stream *)repl_slot(q, sizeof *st);
  if (!st) return;
  if (!tail_open(q, &st->t, allowed)) {
    atomic_fetch_sub(&q->srv->nrepl, 1);
    free(st);
    return;
  }
  st->conn = q->conn;
  vs_coll_durable_pos(st->t.c, &d);
  put_hello(&st->out, st->t.c, st->t.next, &d, q->srv->cfg.heartbeat_ms);
  st->last_send = vs_park_now();
  if (st->t.next > d.height) st->hb_due = 1; /* caught up from the start: say so */
  account(q->srv, st->t.name, st->t.id, 0, 0, 0, 1);
  q->reader = stream_read;
  q->reader_free = stream_free;
  q->reader_cls = st;
  q->status = 200;
  q->ctype = "application/vnd.valori.stream";
}

/* ---- GET .../replication/log */

typedef struct vs_lpoll {
  vs_tail t;
  uint64_t max;
} vs_lpoll;

static void lpoll_cleanup(vs_req *q) {
  vs_lpoll *lp = (vs_lpoll *)q->ctx;
  if (!lp) return;
  tail_free(&lp->t);
  atomic_fetch_sub(&q->srv->nrepl, 1);
  free(lp);
  q->ctx = NULL;
}

/* The answer: HELLO, the records that are durable (bounded), a final HEARTBEAT. */
static void lpoll_answer(vs_req *q) {
  vs_lpoll *lp = (vs_lpoll *)q->ctx;
  valori_position d;
  uint64_t n = 0, first = lp->t.next;
  vbuf body;
  int rc;
  vs_coll_durable_pos(lp->t.c, &d);
  vb_init(&body);
  put_hello(&body, lp->t.c, first, &d, q->srv->cfg.heartbeat_ms);
  rc = tail_fill(&lp->t, &body, d.height, LOG_MAX_BYTES, lp->max, &n);
  if (rc != VALORI_OK) {
    vb_free(&body);
    vs_reply_code(q, rc, "reading the log failed: %s", valori_cursor_error(lp->t.cur, NULL));
    return;
  }
  put_heartbeat(&body, &d);
  account(q->srv, lp->t.name, lp->t.id, n, body.len, n ? lp->t.next - 1u : 0, 0);
  vb_free(&q->out);
  q->out = body;
  q->status = 200;
  q->ctype = "application/vnd.valori.stream";
}

static void lpoll_fire(vs_park *p) { MHD_resume_connection(((vs_req *)p->arg)->conn); }

static void lpoll_resumed(vs_req *q) {
  if (q->park.why == VS_PARK_SHUTDOWN) {
    vs_reply_code(q, VS_EUNAVAILABLE, "the server is stopping");
    return;
  }
  if (!tail_hold(&((vs_lpoll *)q->ctx)->t)) {
    vs_reply_code(q, VS_ENOCOLLECTION, "the collection was deleted or replaced while the request waited");
    return;
  }
  lpoll_answer(q); /* the height arrived, or the wait is over: whatever is durable now */
}

void vs_h_repl_log(vs_req *q) {
  static const char *const allowed[] = {"from", "chain", "max", "wait_ms", NULL};
  vs_lpoll *lp;
  valori_position d;
  uint64_t wait_ms;
  lp = (vs_lpoll *)repl_slot(q, sizeof *lp);
  if (!lp) return;
  q->ctx = lp;
  q->cleanup = lpoll_cleanup;
  if (!query_u64(q, "max", 1, 10000, 1000, &lp->max) || !query_u64(q, "wait_ms", 0, 30000, 10000, &wait_ms) ||
      !tail_open(q, &lp->t, allowed))
    return;
  vs_coll_durable_pos(lp->t.c, &d);
  if (lp->t.next <= d.height || wait_ms == 0) {
    lpoll_answer(q);
    return;
  }
  q->park.height = lp->t.next;
  q->park.deadline = vs_park_now() + (double)wait_ms / 1000.0;
  q->park.fire = lpoll_fire;
  q->park.arg = q;
  q->resume = lpoll_resumed;
  q->parked = 1;
  MHD_suspend_connection(q->conn);
  tail_park(&lp->t, &q->park);
}

/* ---- POST .../replication/ack */

void vs_h_repl_ack(vs_req *q) {
  static const char *const none[] = {NULL};
  cJSON *j = NULL, *it;
  uint64_t height = 0;
  char id[65] = "";
  vs_fent *f;
  vs_coll *c;
  vs_err e;
  int have_h = 0;
  if (vs_query_check(q, none, &e) != VALORI_OK) {
    vs_reply_error(q, &e);
    return;
  }
  if (vs_json_parse(q->body.p ? q->body.p : "", q->body.len, &j, &e) != VALORI_OK) {
    vs_reply_error(q, &e);
    return;
  }
  if (!cJSON_IsObject(j)) {
    cJSON_Delete(j);
    vs_reply_code(q, VALORI_EINVAL, "the body must be {\"height\": H, \"follower\": \"ID\"}");
    return;
  }
  for (it = j->child; it; it = it->next) {
    if (strcmp(it->string, "height") == 0 && cJSON_IsNumber(it) && it->valuedouble >= 0 &&
        it->valuedouble <= 9007199254740991.0 && (double)(uint64_t)it->valuedouble == it->valuedouble && !have_h) {
      height = (uint64_t)it->valuedouble;
      have_h = 1;
    } else if (strcmp(it->string, "follower") == 0 && cJSON_IsString(it) && !id[0]) {
      if (!id_valid(it->valuestring)) {
        cJSON_Delete(j);
        vs_reply_code(q, VALORI_EINVAL, "follower: 1 to 64 characters from A-Z a-z 0-9 . _ : -");
        return;
      }
      snprintf(id, sizeof id, "%s", it->valuestring);
    } else {
      vs_reply_code(q, VALORI_EINVAL, "unknown, repeated or malformed field '%.60s' (expected height and follower)",
                    it->string);
      cJSON_Delete(j); /* after the message: it names the field */
      return;
    }
  }
  cJSON_Delete(j);
  if (!have_h) {
    vs_reply_code(q, VALORI_EINVAL, "height: required (a height >= 0)");
    return;
  }
  if (!id[0] && !follower_id(q, id)) return;
  if (!vs_acquire(q, &c)) return;
  vs_coll_release(q->srv->reg, c);
  pthread_mutex_lock(&q->srv->repl->mu);
  f = fent(q->srv->repl, seg(q, 2), id);
  if (f) {
    f->acked = height;
    f->seen = vs_park_now();
  }
  pthread_mutex_unlock(&q->srv->repl->mu);
  vb_printf(&q->out, "{\"acked\":%llu}", (unsigned long long)height);
  q->status = 200;
  q->ctype = "application/json";
}

/* ---- POST .../replication/rebootstrap */

void vs_h_repl_rebootstrap(vs_req *q) {
  static const char *const none[] = {NULL};
  vs_err e;
  if (vs_query_check(q, none, &e) != VALORI_OK) {
    vs_reply_error(q, &e);
    return;
  }
  if (!q->srv->fol) {
    vs_reply_code(q, VALORI_EINVAL, "this server is a leader: only a follower re-bootstraps");
    return;
  }
  if (vs_follower_rebootstrap(q->srv->fol, seg(q, 2), &e) != VALORI_OK) {
    vs_reply_error(q, &e);
    return;
  }
  vb_puts(&q->out, "{\"rebootstrap\":true}");
  q->status = 202;
  q->ctype = "application/json";
}

/* ---- the dispatch: diverged followers, min_height */

static void minh_fire(vs_park *p) { MHD_resume_connection(((vs_req *)p->arg)->conn); }

void vs_dispatch(vs_req *q) {
  const vs_route *r = &vs_routes[q->route];
  const char *mh;
  vs_err e;
  if (q->srv->fol && (r->flags & VS_RF_DATA) && vs_follower_gate(q->srv->fol, seg(q, 2), &e)) {
    vs_reply_error(q, &e);
    q->status = 503; /* its data is no longer known to be the leader's */
    return;
  }
  mh = (r->flags & VS_RF_MINH) ? vs_query(q, "min_height") : NULL;
  if (mh) {
    uint64_t want, wait_ms;
    vs_summary sum;
    vs_coll *c;
    if (!vs_parse_u64_text(mh, strlen(mh), &want)) {
      vs_reply_code(q, VALORI_EINVAL, "min_height: expected a decimal height");
      return;
    }
    if (!query_u64(q, "wait_ms", 0, 30000, 2000, &wait_ms)) return;
    if (!vs_acquire(q, &c)) return;
    vs_coll_summary(c, &sum);
    if (sum.st.height < want) {
      if (q->park_fired || wait_ms == 0) {
        vs_coll_release(q->srv->reg, c);
        if (q->park_fired && q->park.why == VS_PARK_SHUTDOWN) vs_reply_code(q, VS_EUNAVAILABLE, "the server is stopping");
        else if (q->park_fired && q->park.why == VS_PARK_FAILED) vs_reply_code(q, q->park.rc, "%s", valori_strerror(q->park.rc));
        else
          vs_reply_code(q, VS_ETIMEOUT, "height %llu is below min_height %llu after waiting %llu ms",
                        (unsigned long long)sum.st.height, (unsigned long long)want, (unsigned long long)wait_ms);
        return;
      }
      snprintf(q->park.coll, sizeof q->park.coll, "%s", vs_coll_name(c));
      q->park.height = want;
      q->park.deadline = vs_park_now() + (double)wait_ms / 1000.0;
      q->park.fire = minh_fire;
      q->park.arg = q;
      q->resume = NULL;
      q->parked = 1;
      MHD_suspend_connection(q->conn);
      vs_park_add(q->srv->park, &q->park, c);
      vs_coll_release(q->srv->reg, c); /* no reference while parked */
      return;
    }
    vs_coll_release(q->srv->reg, c);
  }
  r->fn(q);
}

void vs_dispatch_resumed(vs_req *q) {
  q->park_fired = 1;
  if (q->resume) q->resume(q);
  else vs_dispatch(q);
}
