/*
** fcoll.c: one followed collection (docs/REPLICATION.md sections 4-8): its thread bootstraps the
** local copy from the leader's snapshot when it has none (or was told EHEIGHT, or asked to), then
** streams from its own durable height: every HTTP read's records are applied with
** valori_apply_record under the collection's write lock and handed to one group commit, without
** waiting for it (apply_batch); acks go out from a second thread per stream (ack_main). A
** damaged frame, a wrong height or a cut connection is a transport error (reconnect with backoff,
** 100 ms doubling to 5 s, reset by a HELLO); a chain, root, event or configuration
** mismatch, or a leader refusing the position with EDIVERGED, is divergence: recorded in the file
** DIVERGED of the collection's directory, reads refused, nothing applied until a re-bootstrap.
*/
#define _GNU_SOURCE 1
#include "fint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "valori_native.h"

#define BACKOFF_MIN 0.1
#define BACKOFF_MAX 5.0
#define DIVERGED_FILE "DIVERGED"

void vf_error(vf_coll *fc, int code, const char *fmt, ...) {
  va_list ap;
  pthread_mutex_lock(&fc->f->mu);
  fc->last_code = code;
  va_start(ap, fmt);
  vsnprintf(fc->last_msg, sizeof fc->last_msg, fmt, ap);
  va_end(ap);
  pthread_mutex_unlock(&fc->f->mu);
}

int vf_sleep(vf_coll *fc, double seconds) {
  vs_follower *f = fc->f;
  struct timespec ts;
  double until = vs_park_now() + seconds;
  int stop;
  pthread_mutex_lock(&f->mu);
  while (!fc->stop && !fc->want_rebootstrap && vs_park_now() < until) {
    double left = until - vs_park_now();
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)left;
    ts.tv_nsec += (long)((left - (double)(time_t)left) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&f->cv, &f->mu, &ts);
  }
  stop = fc->stop;
  pthread_mutex_unlock(&f->mu);
  return stop;
}

static int stopping(vf_coll *fc) {
  int s;
  pthread_mutex_lock(&fc->f->mu);
  s = fc->stop;
  pthread_mutex_unlock(&fc->f->mu);
  return s;
}

static void set_phase(vf_coll *fc, int phase) {
  pthread_mutex_lock(&fc->f->mu);
  fc->phase = phase;
  if (phase != VF_CATCHING_UP) fc->connected = 0;
  pthread_mutex_unlock(&fc->f->mu);
}

static void url(vf_coll *fc, char *out, size_t cap, const char *tail) {
  snprintf(out, cap, "%s/v1/collections/%s/replication%s", fc->f->base, fc->name, tail);
}

/* ---- divergence, persisted */

static void hex(char *out, const uint8_t *p) { vs_hex(out, p, 32); }

/* Records the divergence in fc and in DIVERGED (best effort: the state holds either way). */
static void diverge(vf_coll *fc, uint64_t height, const char *reason, const uint8_t *expected, const uint8_t *actual,
                    const char *fmt, ...) {
  vf_diverged d;
  va_list ap;
  char path[4500], dir[4400], he[65], ha[65];
  vbuf b;
  int fd;
  memset(&d, 0, sizeof d);
  d.height = height;
  snprintf(d.reason, sizeof d.reason, "%s", reason);
  if (expected) memcpy(d.expected, expected, 32);
  if (actual) memcpy(d.actual, actual, 32);
  va_start(ap, fmt);
  vsnprintf(d.message, sizeof d.message, fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&fc->f->mu);
  fc->div = d;
  fc->diverged = 1;
  fc->phase = VF_DIVERGED;
  fc->connected = 0;
  pthread_mutex_unlock(&fc->f->mu);
  fprintf(stderr, "valori follow: collection %s diverged at height %llu (%s): %s\n", fc->name, (unsigned long long)height,
          reason, d.message);
  vs_coll_dir(fc->f->s->reg, fc->name, dir, sizeof dir);
  snprintf(path, sizeof path, "%s/%s", dir, DIVERGED_FILE);
  hex(he, d.expected);
  hex(ha, d.actual);
  vb_init(&b);
  vb_printf(&b, "{\"height\":%llu,\"reason\":\"%s\",\"expected\":\"%s\",\"actual\":\"%s\",\"message\":",
            (unsigned long long)height, d.reason, he, ha);
  vb_json_str(&b, d.message);
  vb_puts(&b, "}\n");
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    if (b.p && write(fd, b.p, b.len) == (ssize_t)b.len) (void)fsync(fd);
    close(fd);
  }
  vb_free(&b);
}

/* Loads DIVERGED from the collection's directory when there is one (a restart keeps the state). */
static void load_diverged(vf_coll *fc) {
  char path[4500], dir[4400], buf[2048];
  cJSON *j = NULL, *x;
  vs_err e;
  ssize_t n;
  int fd;
  vs_coll_dir(fc->f->s->reg, fc->name, dir, sizeof dir);
  snprintf(path, sizeof path, "%s/%s", dir, DIVERGED_FILE);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  n = read(fd, buf, sizeof buf - 1);
  close(fd);
  pthread_mutex_lock(&fc->f->mu);
  memset(&fc->div, 0, sizeof fc->div);
  snprintf(fc->div.reason, sizeof fc->div.reason, "unknown");
  snprintf(fc->div.message, sizeof fc->div.message, "recorded in %s before the last start", DIVERGED_FILE);
  if (n > 0 && vs_json_parse(buf, (size_t)n, &j, &e) == VALORI_OK) {
    x = cJSON_GetObjectItemCaseSensitive(j, "height");
    if (cJSON_IsNumber(x) && x->valuedouble >= 0) fc->div.height = (uint64_t)x->valuedouble;
    x = cJSON_GetObjectItemCaseSensitive(j, "reason");
    if (cJSON_IsString(x)) snprintf(fc->div.reason, sizeof fc->div.reason, "%s", x->valuestring);
    x = cJSON_GetObjectItemCaseSensitive(j, "message");
    if (cJSON_IsString(x)) snprintf(fc->div.message, sizeof fc->div.message, "%s", x->valuestring);
    cJSON_Delete(j);
  }
  fc->diverged = 1;
  fc->phase = VF_DIVERGED;
  pthread_mutex_unlock(&fc->f->mu);
}

/* ---- bootstrap */

typedef struct boot {
  vf_coll *fc;
  vf_http r;
  uint64_t height;
  uint8_t root[32], chain[32];
  int have_headers;
} boot;

static int boot_abort(void *arg) { return stopping(((boot *)arg)->fc); }

static int parse_hex(const char *s, uint8_t out[32]) {
  int i;
  if (strlen(s) != 64) return 0;
  for (i = 0; i < 32; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1) return 0;
    out[i] = (uint8_t)v;
  }
  return 1;
}

/* Builds the store in dir from the downloaded file (vs_coll_install's callback). */
static int boot_build(void *arg, const char *dir) {
  boot *b = (boot *)arg;
  valori_vfs *v = NULL;
  valori_db *db = NULL;
  valori_options o;
  valori_position p;
  int rc = valori_posix_vfs_open(dir, 1, &v);
  if (rc != VALORI_OK) return rc;
  valori_options_init(&o);
  o.vfs = v;
  o.snapshot_every = UINT64_MAX;
  rc = valori_bootstrap(dir, &o, (const uint8_t *)b->r.resp.p, b->r.resp.len, &db);
  if (rc == VALORI_OK) {
    rc = valori_position_get(db, &p);
    if (rc == VALORI_OK && b->have_headers &&
        (p.height != b->height || memcmp(p.root, b->root, 32) != 0 || memcmp(p.chain, b->chain, 32) != 0))
      rc = VALORI_ECORRUPT; /* the file is not the one the headers name */
    if (rc == VALORI_OK) b->height = p.height;
    {
      int rc2 = valori_close(db);
      if (rc == VALORI_OK) rc = rc2;
    }
  }
  valori_posix_vfs_close(v);
  return rc;
}

/* Downloads the leader's snapshot and installs it as the local copy. */
static int bootstrap(vf_coll *fc) {
  vs_follower *f = fc->f;
  const char *headers[] = {f->auth, f->id_header, NULL};
  char u[2300], msg[300];
  boot b;
  vs_err e;
  int rc, code;
  set_phase(fc, VF_BOOTSTRAPPING);
  memset(&b, 0, sizeof b);
  b.fc = fc;
  url(fc, u, sizeof u, "/snapshot");
  b.r.url = u;
  b.r.headers = headers;
  b.r.max_body = (size_t)1 << 40; /* the file is checked whole before use */
  b.r.abort_now = boot_abort;
  b.r.arg = &b;
  rc = vf_http_do(&b.r);
  if (rc != VALORI_OK || b.r.aborted) {
    vf_error(fc, VALORI_EIO, "downloading the snapshot: %s", b.r.err[0] ? b.r.err : "stopped");
    vb_free(&b.r.resp);
    return VALORI_EIO;
  }
  if (b.r.status != 200) {
    vf_http_error(&b.r, &code, msg, sizeof msg, NULL);
    vf_error(fc, code ? code : VALORI_EIO, "downloading the snapshot: %s", msg);
    vb_free(&b.r.resp);
    return code ? code : VALORI_EIO;
  }
  b.have_headers = b.r.x_height[0] && vs_parse_u64_text(b.r.x_height, strlen(b.r.x_height), &b.height) &&
                   parse_hex(b.r.x_root, b.root) && parse_hex(b.r.x_chain, b.chain);
  rc = vs_coll_install(f->s->reg, fc->name, boot_build, &b, &e);
  vb_free(&b.r.resp);
  if (rc != VALORI_OK) {
    vf_error(fc, rc, "bootstrap: %s", e.msg);
    return rc;
  }
  pthread_mutex_lock(&f->mu);
  fc->bootstraps++;
  fc->diverged = 0;
  fc->want_rebootstrap = 0;
  fc->applied = b.height;
  fc->last_code = 0;
  fc->last_msg[0] = 0;
  pthread_mutex_unlock(&f->mu);
  printf("collection %s: bootstrapped from the leader's snapshot at height %llu\n", fc->name, (unsigned long long)b.height);
  fflush(stdout);
  return VALORI_OK;
}

/* ---- the stream */

typedef struct strm {
  vf_coll *fc;
  vs_coll *c;
  vbuf buf;                 /* bytes received and not yet decoded */
  valori_position pos;      /* the local copy's position */
  valori_stats st;          /* its configuration */
  int hello;
  int ended_by_leader;      /* an ERROR frame came */
  int result;               /* why the stream ended: VALORI_OK (cut), a transport error code, EDIVERGED */
  double last_frame, started;
  uint64_t acked;           /* the last height acknowledged to the leader (the ack thread's) */
  pthread_t ack_th;         /* ack_main */
  pthread_mutex_t amu;      /* guards the ack_* flags below */
  pthread_cond_t acv;
  int ack_running, ack_stop, ack_live, ack_kick;
  const uint8_t **recs;     /* the records of one read */
  size_t *lens, nrecs, reccap;
} strm;

static void lag_note(vf_coll *fc) { /* f->mu held */
  if (fc->applied >= fc->leader_height) fc->behind_since = 0;
  else if (fc->behind_since == 0) fc->behind_since = vs_park_now();
}

/* ---- acks: their own thread per stream, so a slow answer never holds back the records */

static int ack_abort(void *arg);

/* Posts the durable height when it changed since the last ack (ack thread; amu not held). */
static void ack_send(strm *s) {
  vs_follower *f = s->fc->f;
  const char *headers[] = {f->auth, f->id_header, NULL};
  char u[2300], body[160];
  vf_http r;
  const char *id = f->id_header + strlen("X-Valori-Follower: ");
  uint64_t durable;
  pthread_mutex_lock(&f->mu);
  durable = s->fc->applied;
  pthread_mutex_unlock(&f->mu);
  if (durable == s->acked) return;
  s->acked = durable;
  memset(&r, 0, sizeof r);
  url(s->fc, u, sizeof u, "/ack");
  snprintf(body, sizeof body, "{\"height\":%llu,\"follower\":\"%s\"}", (unsigned long long)durable, id);
  r.url = u;
  r.method = "POST";
  r.body = body;
  r.headers = headers;
  r.timeout_s = 2;
  r.abort_now = ack_abort;
  r.arg = s;
  vf_http_do(&r); /* optional: a failed ack changes nothing */
  vb_free(&r.resp);
}

/* The stream's ack thread: the durable height once the stream's HELLO came, then at most once per
** --ack-interval-ms while it changes (also while idle), until the stream ends. The stream thread
** never waits for an ack's round trip (a new connection to a leader busy with writes: it used to
** stall the records behind it for up to the ack's 2 s timeout). */
static void *ack_main(void *arg) {
  strm *s = (strm *)arg;
  double iv = s->fc->f->s->cfg.ack_interval_ms / 1000.0;
  pthread_mutex_lock(&s->amu);
  while (!s->ack_stop) {
    struct timespec ts;
    double until;
    if (s->ack_live) {
      pthread_mutex_unlock(&s->amu);
      ack_send(s);
      pthread_mutex_lock(&s->amu);
      until = vs_park_now() + iv;
    } else {
      until = vs_park_now() + 3600.0; /* until the HELLO (ack_hello signals) */
    }
    while (!s->ack_stop && vs_park_now() < until && !(s->ack_kick && s->ack_live)) {
      double left = until - vs_park_now();
      clock_gettime(CLOCK_MONOTONIC, &ts);
      ts.tv_sec += (time_t)left;
      ts.tv_nsec += (long)((left - (double)(time_t)left) * 1e9);
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&s->acv, &s->amu, &ts);
    }
    s->ack_kick = 0;
  }
  pthread_mutex_unlock(&s->amu);
  return NULL;
}

static int ack_abort(void *arg) {
  strm *s = (strm *)arg;
  int stop;
  pthread_mutex_lock(&s->amu);
  stop = s->ack_stop;
  pthread_mutex_unlock(&s->amu);
  return stop;
}

/* Starts the ack thread (none with --ack-interval-ms 0, or when it cannot start: acks are optional). */
static void ack_start(strm *s) {
  pthread_condattr_t ca;
  pthread_mutex_init(&s->amu, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&s->acv, &ca);
  pthread_condattr_destroy(&ca);
  if (s->fc->f->s->cfg.ack_interval_ms && pthread_create(&s->ack_th, NULL, ack_main, s) == 0) s->ack_running = 1;
}

/* The stream is live (its HELLO came): the first ack goes out now. */
static void ack_hello(strm *s) {
  pthread_mutex_lock(&s->amu);
  s->ack_live = 1;
  s->ack_kick = 1;
  pthread_cond_signal(&s->acv);
  pthread_mutex_unlock(&s->amu);
}

static void ack_stop(strm *s) {
  pthread_mutex_lock(&s->amu);
  s->ack_stop = 1;
  pthread_cond_signal(&s->acv);
  pthread_mutex_unlock(&s->amu);
  if (s->ack_running) pthread_join(s->ack_th, NULL); /* an ack in flight is aborted (ack_abort) */
  pthread_mutex_destroy(&s->amu);
  pthread_cond_destroy(&s->acv);
}

/* A group commit asked for by apply_batch: when it ran, the copy's durable height is raised. */
typedef struct vf_wait {
  vs_waiter w;
  vf_coll *fc;
} vf_wait;

static void applied_durable(vs_waiter *w) {
  vf_wait *x = (vf_wait *)w->arg;
  vf_coll *fc = x->fc;
  pthread_mutex_lock(&fc->f->mu);
  if (w->rc == VALORI_OK && w->height > fc->applied) fc->applied = w->height;
  if (fc->leader_height < fc->applied) fc->leader_height = fc->applied;
  lag_note(fc);
  fc->pending--;
  pthread_cond_broadcast(&fc->f->cv);
  pthread_mutex_unlock(&fc->f->mu);
  free(x);
}

/* Applies the records of one read under the write lock and asks for their group commit without
** waiting for it: records that arrive while an fsync runs are covered by the next one (one fsync
** per batch received, and none held back by the network). The stream resumes from the applied
** position; a restart from the durable one (recovery). */
static int apply_batch(strm *s) {
  vf_coll *fc = s->fc;
  vs_registry *reg = fc->f->s->reg;
  valori_apply_result res;
  uint64_t h;
  uint8_t root[32];
  size_t i, done = 0;
  int rc = VALORI_OK;
  if (!s->nrecs) return VALORI_OK;
  vs_coll_wrlock(s->c);
  for (i = 0; i < s->nrecs; i++) {
    rc = valori_apply_record(vs_coll_db(s->c), s->recs[i], s->lens[i], &res);
    if (rc != VALORI_OK) break;
    done++;
  }
  if (done) {
    vs_coll_wrote(s->c, &h, root);
    valori_position_get(vs_coll_db(s->c), &s->pos);
  }
  if (rc != VALORI_OK) vs_coll_write_failed(s->c); /* a refusal changed nothing; a failed append poisons */
  vs_coll_unlock(s->c);
  if (done && rc == VALORI_OK) {
    vf_wait *x = (vf_wait *)calloc(1, sizeof *x);
    if (!x) return VALORI_ENOMEM;
    x->fc = fc;
    x->w.height = h;
    x->w.wake = applied_durable;
    x->w.arg = x;
    pthread_mutex_lock(&fc->f->mu);
    fc->records_applied += done;
    fc->pending++;
    pthread_mutex_unlock(&fc->f->mu);
    vs_coll_add_waiter(reg, s->c, &x->w); /* may run applied_durable at once */
  } else if (done) { /* the records before a refused one: durable before the refusal is reported */
    int crc = vs_coll_wait_durable(reg, s->c, h);
    pthread_mutex_lock(&fc->f->mu);
    fc->records_applied += done;
    if (crc == VALORI_OK && h > fc->applied) fc->applied = h;
    pthread_mutex_unlock(&fc->f->mu);
  }
  if (rc == VALORI_EDIVERGED) {
    static const char *const reasons[] = {"unknown", "chain", "root", "event"};
    const char *why = reasons[res.reason <= 3 ? res.reason : 0];
    if (res.reason == VALORI_DIVERGED_EVENT)
      diverge(fc, res.height, why, res.expected, res.actual, "the leader's record is refused by this copy (%s)",
              valori_code_name(res.event_code));
    else
      diverge(fc, res.height, why, res.expected, res.actual, "the record's %s is not the one this copy computes", why);
    return VALORI_EDIVERGED;
  }
  if (rc != VALORI_OK) {
    vf_error(fc, rc, "a replicated record was refused (%s): reconnecting", valori_code_name(rc));
    return rc; /* ECORRUPT, EHEIGHT, ENOMEM: transport errors; nothing was applied */
  }
  return VALORI_OK;
}

static int strm_abort(void *arg) {
  strm *s = (strm *)arg;
  double now = vs_park_now(), limit;
  uint32_t hb;
  if (stopping(s->fc)) return 1;
  pthread_mutex_lock(&s->fc->f->mu);
  hb = s->fc->heartbeat_ms ? s->fc->heartbeat_ms : 1000;
  pthread_mutex_unlock(&s->fc->f->mu);
  limit = s->hello ? 3.0 * hb / 1000.0 : 10.0; /* no frame for three heartbeats: the connection is dead */
  if (now - (s->hello ? s->last_frame : s->started) > limit) {
    vf_error(s->fc, VALORI_EIO, "no frame from the leader for %.1f s: reconnecting", now - s->last_frame);
    s->result = VALORI_EIO;
    return 1;
  }
  return 0;
}

/* Decodes every whole frame received, applies the records, keeps the rest. 0 ends the stream. */
static int strm_data(void *arg, const uint8_t *p, size_t n) {
  strm *s = (strm *)arg;
  vf_coll *fc = s->fc;
  size_t off = 0;
  vb_put(&s->buf, p, n);
  if (s->buf.oom) {
    s->result = VALORI_ENOMEM;
    return 0;
  }
  s->nrecs = 0;
  while (off < s->buf.len) {
    valori_frame fr;
    size_t used = 0;
    int rc = valori_frame_decode((const uint8_t *)s->buf.p + off, s->buf.len - off, &fr, &used);
    if (rc != VALORI_OK) {
      vf_error(fc, rc, "a damaged frame from the leader (%s): reconnecting", valori_code_name(rc));
      s->result = rc;
      return 0;
    }
    if (!used) break;
    s->last_frame = vs_park_now();
    if (!s->hello && fr.type != VALORI_FRAME_HELLO) {
      vf_error(fc, VALORI_ECORRUPT, "the stream does not start with HELLO: reconnecting");
      s->result = VALORI_ECORRUPT;
      return 0;
    }
    if (fr.type == VALORI_FRAME_HELLO) {
      const uint32_t mine[5] = {s->st.dim, s->st.metric, s->st.hnsw_m, s->st.hnsw_ef_construction, s->st.hnsw_ef_search};
      if (s->hello || fr.from != s->pos.height + 1u) {
        vf_error(fc, VALORI_ECORRUPT, "an unexpected HELLO: reconnecting");
        s->result = VALORI_ECORRUPT;
        return 0;
      }
      if (memcmp(mine, fr.config, sizeof mine) != 0) {
        diverge(fc, s->pos.height, "config", NULL, NULL, "the leader's collection has another configuration than this copy");
        s->result = VALORI_EDIVERGED;
        return 0;
      }
      s->hello = 1;
      pthread_mutex_lock(&fc->f->mu);
      fc->heartbeat_ms = fr.heartbeat_ms ? fr.heartbeat_ms : 1000;
      fc->connected = 1;
      fc->phase = VF_CATCHING_UP;
      fc->streams++;
      if (fc->streams > 1) fc->reconnects++;
      pthread_mutex_unlock(&fc->f->mu);
      ack_hello(s);
    }
    if (fr.type == VALORI_FRAME_HELLO || fr.type == VALORI_FRAME_HEARTBEAT) {
      pthread_mutex_lock(&fc->f->mu);
      fc->leader_height = fr.leader_height;
      fc->last_heard = s->last_frame;
      lag_note(fc);
      pthread_mutex_unlock(&fc->f->mu);
    } else if (fr.type == VALORI_FRAME_RECORD) {
      if (s->nrecs == s->reccap) {
        size_t nc = s->reccap ? s->reccap * 2 : 64;
        const uint8_t **nr = (const uint8_t **)realloc((void *)s->recs, nc * sizeof *nr);
        size_t *nl = nr ? (size_t *)realloc(s->lens, nc * sizeof *nl) : NULL;
        if (nr) s->recs = nr;
        if (!nr || !nl) {
          s->result = VALORI_ENOMEM;
          return 0;
        }
        s->lens = nl;
        s->reccap = nc;
      }
      s->recs[s->nrecs] = fr.data;
      s->lens[s->nrecs++] = (size_t)fr.data_len;
    } else if (fr.type == VALORI_FRAME_ERROR) {
      vf_error(fc, (int)fr.code, "the leader ended the stream: %.*s", (int)(fr.data_len > 250 ? 250 : fr.data_len),
               (const char *)fr.data);
      s->result = (int)fr.code ? (int)fr.code : VALORI_EIO;
      s->ended_by_leader = 1;
      off += used;
      break;
    }
    off += used;
  }
  {
    int rc = apply_batch(s);
    if (rc != VALORI_OK) {
      s->result = rc;
      return 0;
    }
  }
  if (s->result != VALORI_OK) return 0; /* after an ERROR frame */
  memmove(s->buf.p, s->buf.p + off, s->buf.len - off);
  s->buf.len -= off;
  return 1;
}

/* One stream from the local durable height. Returns VALORI_OK/transport codes (reconnect),
** VALORI_EHEIGHT (re-bootstrap), VALORI_EDIVERGED (stop); *hello says whether a HELLO came. */
static int stream_once(vf_coll *fc, vs_coll *c, int *hello) {
  vs_follower *f = fc->f;
  const char *headers[] = {f->auth, f->id_header, NULL};
  char u[2400], tail[200], chex[65], msg[300];
  uint8_t lchain[32];
  strm s;
  vf_http r;
  int code = 0, rc;
  memset(&s, 0, sizeof s);
  s.fc = fc;
  s.c = c;
  vs_coll_rdlock(c); /* the applied position: records applied and still in their group commit count */
  valori_stats_get(vs_coll_db(c), &s.st);
  rc = valori_position_get(vs_coll_db(c), &s.pos);
  vs_coll_unlock(c);
  if (rc != VALORI_OK) {
    vf_error(fc, rc, "the local copy's position: %s", valori_strerror(rc));
    return VALORI_EIO;
  }
  pthread_mutex_lock(&f->mu);
  if (fc->pending == 0) {
    valori_position d;
    vs_coll_durable_pos(c, &d);
    fc->applied = d.height;
  }
  pthread_mutex_unlock(&f->mu);
  s.started = s.last_frame = vs_park_now();
  vs_hex(chex, s.pos.chain, 32);
  snprintf(tail, sizeof tail, "/stream?from=%llu&chain=%s", (unsigned long long)s.pos.height + 1u, chex);
  url(fc, u, sizeof u, tail);
  memset(&r, 0, sizeof r);
  r.url = u;
  r.headers = headers;
  r.on_data = strm_data;
  r.abort_now = strm_abort;
  r.arg = &s;
  ack_start(&s);
  rc = vf_http_do(&r);
  ack_stop(&s);
  *hello = s.hello && !s.ended_by_leader; /* a stream the leader refused after HELLO does not reset the backoff */
  free((void *)s.recs);
  free(s.lens);
  vb_free(&s.buf);
  if (s.result == VALORI_EDIVERGED) {
    vb_free(&r.resp);
    return VALORI_EDIVERGED;
  }
  if (rc != VALORI_OK) {
    if (!stopping(fc) && s.result == VALORI_OK) vf_error(fc, VALORI_EIO, "stream: %s", r.err);
    vb_free(&r.resp);
    return VALORI_EIO;
  }
  if (r.status == 409) {
    int have = vf_http_error(&r, &code, msg, sizeof msg, lchain);
    vb_free(&r.resp);
    if (code == VALORI_EHEIGHT) {
      vf_error(fc, code, "the leader no longer has record %llu: bootstrapping again", (unsigned long long)s.pos.height + 1u);
      return VALORI_EHEIGHT;
    }
    if (code == VALORI_EDIVERGED) {
      uint8_t zero[32];
      memset(zero, 0, sizeof zero);
      diverge(fc, s.pos.height, "history", have ? lchain : zero, s.pos.chain, "the leader refused this copy's position: %s",
              msg);
      return VALORI_EDIVERGED;
    }
  }
  if (r.status != 200) {
    vf_http_error(&r, &code, msg, sizeof msg, NULL);
    vf_error(fc, code ? code : VALORI_EIO, "the leader answered %ld: %s", r.status, msg);
  }
  vb_free(&r.resp);
  return s.result != VALORI_OK ? s.result : VALORI_EIO;
}

/* ---- the thread */

void *vf_coll_main(void *arg) {
  vf_coll *fc = (vf_coll *)arg;
  vs_follower *f = fc->f;
  vs_registry *reg = f->s->reg;
  double backoff = BACKOFF_MIN;
  int first = 1;
  for (;;) {
    vs_coll *c = NULL;
    vs_err e;
    int want, div, hello = 0, rc;
    pthread_mutex_lock(&f->mu);
    if (fc->stop) {
      pthread_mutex_unlock(&f->mu);
      break;
    }
    want = fc->want_rebootstrap;
    div = fc->diverged;
    pthread_mutex_unlock(&f->mu);
    if (want || !vs_coll_exists(reg, fc->name)) {
      if (bootstrap(fc) != VALORI_OK) {
        if (vf_sleep(fc, backoff)) break;
        backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
        continue;
      }
      first = 0;
      backoff = BACKOFF_MIN;
      continue;
    }
    if (first) { /* a divergence recorded before this start */
      first = 0;
      load_diverged(fc);
      pthread_mutex_lock(&f->mu);
      if (fc->diverged && f->s->cfg.rebootstrap) fc->want_rebootstrap = 1;
      pthread_mutex_unlock(&f->mu);
      continue;
    }
    if (div) {
      set_phase(fc, VF_DIVERGED);
      if (vf_sleep(fc, 3600)) break; /* until a re-bootstrap is asked for */
      continue;
    }
    if (vs_coll_acquire(reg, fc->name, &c, &e) != VALORI_OK) {
      vf_error(fc, e.code, "%s", e.msg);
      if (vf_sleep(fc, backoff)) break;
      backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
      continue;
    }
    set_phase(fc, VF_CATCHING_UP);
    rc = stream_once(fc, c, &hello);
    vs_coll_release(reg, c);
    pthread_mutex_lock(&f->mu);
    fc->connected = 0;
    if (rc == VALORI_EHEIGHT) fc->want_rebootstrap = 1; /* compacted: not divergence */
    pthread_mutex_unlock(&f->mu);
    if (rc == VALORI_EHEIGHT || rc == VALORI_EDIVERGED) continue;
    if (hello) backoff = BACKOFF_MIN;
    if (vf_sleep(fc, backoff)) break;
    if (!hello) backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
  }
  pthread_mutex_lock(&f->mu); /* group commits asked for still point at fc */
  while (fc->pending) pthread_cond_wait(&f->cv, &f->mu);
  pthread_mutex_unlock(&f->mu);
  set_phase(fc, VF_STOPPED);
  if (fc->drop) {
    vs_err e;
    if (vs_coll_delete(reg, fc->name, &e) == VALORI_OK)
      printf("collection %s: removed (the leader no longer has it)\n", fc->name);
    fflush(stdout);
  }
  return NULL;
}

vf_coll *vf_coll_add(vs_follower *f, const char *name) {
  vf_coll *fc = (vf_coll *)calloc(1, sizeof *fc);
  if (!fc) return NULL;
  fc->f = f;
  snprintf(fc->name, sizeof fc->name, "%s", name);
  fc->phase = VF_CATCHING_UP;
  fc->next = f->colls;
  f->colls = fc;
  if (pthread_create(&fc->th, NULL, vf_coll_main, fc) == 0) fc->started = 1;
  return fc;
}
