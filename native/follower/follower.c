/*
** follower.c: follower mode (follower.h; docs/REPLICATION.md section 10): the leader's URL (a whole
** server or one collection) and the token sent to it, the per-collection threads (fcoll.c), the
** thread that lists a whole leader's collections (new ones are followed, local copies of ones it no
** longer lists are removed after a complete listing), and what the server asks of the follower:
** the diverged gate, the status members of GET .../replication, rebootstrap requests, metrics.
*/
#define _GNU_SOURCE 1
#include "fint.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const vf_state_names[VF_NSTATES] = {"bootstrapping", "catching-up", "live", "diverged", "stopped"};

/* ---- configuration */

/* The token to present: the first `read` token of the file, else its first `write` token, else a
** line holding one word. 0 (message set) when the file cannot be read or holds none. */
static int read_token(const char *path, char *out, size_t cap, vs_err *e) {
  FILE *fp = fopen(path, "r");
  char line[1024], rd[300] = "", wr[300] = "", bare[300] = "";
  if (!fp) return vs_fail(e, VALORI_EINVAL, "token file %s: %s", path, strerror(errno)), 0;
  while (fgets(line, sizeof line, fp)) {
    char a[300], b[300], c[4];
    int n = sscanf(line, "%299s %299s %3s", a, b, c);
    if (n <= 0 || a[0] == '#') continue;
    if (n == 1 && !bare[0]) snprintf(bare, sizeof bare, "%s", a);
    if (n >= 2 && strcmp(a, "read") == 0 && !rd[0]) snprintf(rd, sizeof rd, "%s", b);
    if (n >= 2 && strcmp(a, "write") == 0 && !wr[0]) snprintf(wr, sizeof wr, "%s", b);
  }
  fclose(fp);
  snprintf(out, cap, "%s", rd[0] ? rd : wr[0] ? wr : bare);
  if (!out[0]) return vs_fail(e, VALORI_EINVAL, "token file %s holds no token", path), 0;
  return 1;
}

/* Splits the leader URL into the server's base and the one collection (or ""). */
static int parse_leader(vs_follower *f, const char *url, vs_err *e) {
  static const char mark[] = "/v1/collections/";
  const char *p;
  size_t n = strlen(url);
  if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
    return vs_fail(e, VALORI_EINVAL, "the leader URL must start with http:// or https:// (got '%.200s')", url);
  while (n && url[n - 1] == '/') n--;
  if (n >= sizeof f->base) return vs_fail(e, VALORI_EINVAL, "the leader URL is too long");
  memcpy(f->base, url, n);
  f->base[n] = 0;
  p = strstr(f->base, mark);
  if (p) {
    const char *name = p + strlen(mark);
    if (!vs_name_valid(name)) return vs_fail(e, VALORI_EINVAL, "'%.100s' is not a collection name", name);
    snprintf(f->single, sizeof f->single, "%s", name);
    f->base[p - f->base] = 0;
  } else if (strchr(f->base + (f->base[4] == 's' ? 8 : 7), '/')) {
    return vs_fail(e, VALORI_EINVAL, "the leader URL is a server (http://HOST:PORT) or one collection "
                                     "(http://HOST:PORT/v1/collections/NAME), not '%.200s'", url);
  }
  return VALORI_OK;
}

/* ---- whole-server follow: the listing thread */

/* Lists the leader's collections (every page) into names[]; 1 on a complete, successful listing. */
static int list_leader(vs_follower *f, char (*names)[VS_MAX_NAME + 1], size_t cap, size_t *n) {
  const char *headers[] = {f->auth, f->id_header, NULL};
  char after[VS_MAX_NAME + 1] = "", u[2300];
  *n = 0;
  for (;;) {
    vf_http r;
    cJSON *j = NULL, *arr, *it, *next;
    vs_err e;
    memset(&r, 0, sizeof r);
    snprintf(u, sizeof u, "%s/v1/collections?limit=1000%s%s", f->base, after[0] ? "&after=" : "", after);
    r.url = u;
    r.headers = headers;
    r.max_body = 16u << 20;
    r.timeout_s = 30;
    if (vf_http_do(&r) != VALORI_OK || r.status != 200 ||
        vs_json_parse(r.resp.p ? r.resp.p : "", r.resp.len, &j, &e) != VALORI_OK) {
      vb_free(&r.resp);
      return 0;
    }
    vb_free(&r.resp);
    arr = cJSON_GetObjectItemCaseSensitive(j, "collections");
    next = cJSON_GetObjectItemCaseSensitive(j, "next");
    if (!cJSON_IsArray(arr)) {
      cJSON_Delete(j);
      return 0;
    }
    cJSON_ArrayForEach(it, arr) {
      cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
      if (cJSON_IsString(nm) && vs_name_valid(nm->valuestring) && *n < cap) snprintf(names[(*n)++], VS_MAX_NAME + 1, "%s", nm->valuestring);
    }
    if (!cJSON_IsString(next)) {
      cJSON_Delete(j);
      return *n < cap; /* a listing cut by the bound is not complete */
    }
    snprintf(after, sizeof after, "%s", next->valuestring);
    cJSON_Delete(j);
  }
}

#define LIST_CAP 100000

static void *lister_main(void *arg) {
  vs_follower *f = (vs_follower *)arg;
  char (*names)[VS_MAX_NAME + 1] = calloc(LIST_CAP, VS_MAX_NAME + 1);
  for (;;) {
    size_t n = 0, i;
    struct timespec ts;
    int complete = names && list_leader(f, names, LIST_CAP, &n);
    vf_coll *fc, *drop = NULL;
    pthread_mutex_lock(&f->mu);
    if (f->stop) break;
    for (i = 0; complete && i < n; i++) { /* new collections: follow them */
      for (fc = f->colls; fc; fc = fc->next)
        if (strcmp(fc->name, names[i]) == 0 && !fc->drop) break;
      if (!fc) vf_coll_add(f, names[i]);
    }
    for (fc = f->colls; complete && fc; fc = fc->next) { /* gone from the leader: stop and remove */
      for (i = 0; i < n; i++)
        if (strcmp(fc->name, names[i]) == 0) break;
      if (i == n && !fc->drop) {
        fc->stop = fc->drop = 1;
        drop = fc;
      }
    }
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    if (drop) { /* join the stopped threads outside the lock; their entries leave the list */
      vf_coll **pp;
      pthread_mutex_lock(&f->mu);
      for (pp = &f->colls; *pp;) {
        fc = *pp;
        if (fc->drop) {
          *pp = fc->next;
          pthread_mutex_unlock(&f->mu);
          if (fc->started) pthread_join(fc->th, NULL);
          free(fc);
          pthread_mutex_lock(&f->mu);
          pp = &f->colls;
        } else {
          pp = &fc->next;
        }
      }
      pthread_mutex_unlock(&f->mu);
    }
    pthread_mutex_lock(&f->mu);
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += f->s->cfg.list_interval;
    while (!f->stop && pthread_cond_timedwait(&f->cv, &f->mu, &ts) != ETIMEDOUT) {
    }
    if (f->stop) break;
    pthread_mutex_unlock(&f->mu);
  }
  pthread_mutex_unlock(&f->mu);
  free(names);
  return NULL;
}

/* ---- start, stop */

int vs_follower_start(vs_server *s, vs_err *e) {
  vs_follower *f;
  char token[300] = "", host[256] = "localhost";
  const char *tf = s->cfg.leader_token_file[0] ? s->cfg.leader_token_file : s->cfg.token_file;
  if (!s->cfg.leader[0]) return vs_fail(e, VALORI_EINVAL, "follower mode needs the leader's URL (--leader or VALORI_LEADER_URL)");
  f = (vs_follower *)calloc(1, sizeof *f);
  if (!f) return vs_fail(e, VALORI_ENOMEM, "out of memory");
  f->s = s;
  if (parse_leader(f, s->cfg.leader, e) != VALORI_OK || (tf[0] && !read_token(tf, token, sizeof token, e))) {
    free(f);
    return e->code ? e->code : VALORI_EINVAL;
  }
  if (token[0]) snprintf(f->auth, sizeof f->auth, "Authorization: Bearer %s", token);
  if (s->cfg.follower_id[0]) {
    snprintf(f->id_header, sizeof f->id_header, "X-Valori-Follower: %s", s->cfg.follower_id);
  } else {
    size_t i;
    gethostname(host, sizeof host - 1);
    for (i = 0; host[i]; i++) /* keep to the header's alphabet */
      if (!((host[i] >= 'a' && host[i] <= 'z') || (host[i] >= 'A' && host[i] <= 'Z') || (host[i] >= '0' && host[i] <= '9') ||
            strchr("._-", host[i])))
        host[i] = '-';
    host[40] = 0;
    snprintf(f->id_header, sizeof f->id_header, "X-Valori-Follower: %s:%u", host, (unsigned)s->port);
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  pthread_mutex_init(&f->mu, NULL);
  pthread_cond_init(&f->cv, NULL);
  s->fol = f;
  pthread_mutex_lock(&f->mu);
  if (f->single[0]) {
    vf_coll_add(f, f->single);
  } else if (pthread_create(&f->lister, NULL, lister_main, f) == 0) {
    f->lister_started = 1;
  }
  pthread_mutex_unlock(&f->mu);
  printf("following %s%s%s\n", f->base, f->single[0] ? "/v1/collections/" : " (every collection)", f->single);
  fflush(stdout);
  return VALORI_OK;
}

void vs_follower_stop(vs_server *s) {
  vs_follower *f = s->fol;
  vf_coll *fc, *n;
  if (!f) return;
  pthread_mutex_lock(&f->mu);
  f->stop = 1;
  for (fc = f->colls; fc; fc = fc->next) fc->stop = 1;
  pthread_cond_broadcast(&f->cv);
  pthread_mutex_unlock(&f->mu);
  if (f->lister_started) pthread_join(f->lister, NULL);
  for (fc = f->colls; fc; fc = fc->next)
    if (fc->started) pthread_join(fc->th, NULL);
  s->fol = NULL; /* after the joins: the threads and the HTTP side read it */
  for (fc = f->colls; fc; fc = n) {
    n = fc->next;
    free(fc);
  }
  pthread_mutex_destroy(&f->mu);
  pthread_cond_destroy(&f->cv);
  free(f);
  curl_global_cleanup();
}

/* ---- what the server asks */

static vf_coll *find(vs_follower *f, const char *name) { /* f->mu held */
  vf_coll *fc;
  for (fc = f->colls; fc; fc = fc->next)
    if (strcmp(fc->name, name) == 0 && !fc->drop) return fc;
  return NULL;
}

/* The state to report (f->mu held): live when at the leader's height heard within three heartbeats. */
static int state_of(const vf_coll *fc) {
  double hb = (fc->heartbeat_ms ? fc->heartbeat_ms : 1000) / 1000.0;
  if (fc->phase == VF_BOOTSTRAPPING) return VF_BOOTSTRAPPING;
  if (fc->diverged) return VF_DIVERGED;
  if (fc->phase == VF_STOPPED) return VF_STOPPED;
  if (fc->connected && fc->applied >= fc->leader_height && vs_park_now() - fc->last_heard <= 3 * hb) return VF_LIVE;
  return VF_CATCHING_UP;
}

static double lag_seconds(const vf_coll *fc) {
  return fc->applied >= fc->leader_height || fc->behind_since == 0 ? 0.0 : vs_park_now() - fc->behind_since;
}

int vs_follower_gate(vs_follower *f, const char *coll, vs_err *e) {
  vf_coll *fc;
  int refuse = 0;
  pthread_mutex_lock(&f->mu);
  fc = find(f, coll);
  if (fc && fc->diverged) {
    char h1[65], h2[65];
    refuse = 1;
    vs_fail(e, VALORI_EDIVERGED, "this follower's copy of '%s' diverged from the leader at height %llu (%s): %s; "
            "POST .../replication/rebootstrap to bootstrap again", coll, (unsigned long long)fc->div.height, fc->div.reason,
            fc->div.message);
    vs_hex(h1, fc->div.expected, 32);
    vs_hex(h2, fc->div.actual, 32);
    snprintf(e->extra, sizeof e->extra, ",\"height\":%llu,\"reason\":\"%s\",\"expected\":\"%s\",\"actual\":\"%s\"",
             (unsigned long long)fc->div.height, fc->div.reason, h1, h2);
  }
  pthread_mutex_unlock(&f->mu);
  return refuse;
}

void vs_follower_status_json(vs_follower *f, const char *coll, vbuf *b) {
  vf_coll *fc;
  char u[2300];
  pthread_mutex_lock(&f->mu);
  fc = find(f, coll);
  snprintf(u, sizeof u, "%s/v1/collections/%s", f->base, coll);
  vb_puts(b, ",\"leader\":");
  vb_json_str(b, u);
  if (!fc) { /* a local collection this follower does not follow */
    vb_puts(b, ",\"state\":\"stopped\",\"connected\":false,\"last_error\":null,\"diverged\":null");
    pthread_mutex_unlock(&f->mu);
    return;
  }
  vb_printf(b, ",\"state\":\"%s\",\"connected\":%s,\"leader_height\":%llu,\"lag_events\":%llu,\"lag_seconds\":%.3f,"
               "\"applied_height\":%llu,\"bootstraps\":%llu,\"reconnects\":%llu,\"last_error\":",
            vf_state_names[state_of(fc)], fc->connected ? "true" : "false", (unsigned long long)fc->leader_height,
            (unsigned long long)(fc->leader_height > fc->applied ? fc->leader_height - fc->applied : 0), lag_seconds(fc),
            (unsigned long long)fc->applied, (unsigned long long)fc->bootstraps, (unsigned long long)fc->reconnects);
  if (fc->last_code) {
    vb_puts(b, "{\"code\":");
    vb_json_str(b, vs_code_name(fc->last_code));
    vb_puts(b, ",\"message\":");
    vb_json_str(b, fc->last_msg);
    vb_puts(b, "}");
  } else {
    vb_puts(b, "null");
  }
  vb_puts(b, ",\"diverged\":");
  if (fc->diverged) {
    vb_printf(b, "{\"height\":%llu,\"reason\":", (unsigned long long)fc->div.height);
    vb_json_str(b, fc->div.reason);
    vb_puts(b, ",\"expected\":");
    vb_json_hex(b, fc->div.expected, 32);
    vb_puts(b, ",\"actual\":");
    vb_json_hex(b, fc->div.actual, 32);
    vb_puts(b, ",\"message\":");
    vb_json_str(b, fc->div.message);
    vb_puts(b, "}");
  } else {
    vb_puts(b, "null");
  }
  pthread_mutex_unlock(&f->mu);
}

int vs_follower_rebootstrap(vs_follower *f, const char *coll, vs_err *e) {
  vf_coll *fc;
  pthread_mutex_lock(&f->mu);
  fc = find(f, coll);
  if (fc) {
    fc->want_rebootstrap = 1;
    pthread_cond_broadcast(&f->cv);
  }
  pthread_mutex_unlock(&f->mu);
  if (!fc) return vs_fail(e, VS_ENOCOLLECTION, "this follower does not follow a collection named '%s'", coll);
  return VALORI_OK;
}

void vs_follower_metrics(vs_follower *f, vbuf *b) {
  static const char *const heads[][3] = {
      {"valori_follower_applied_height", "gauge", "Durable height of the local copy"},
      {"valori_follower_leader_height", "gauge", "The leader's durable height, as last heard"},
      {"valori_follower_lag_events", "gauge", "Leader height minus applied height"},
      {"valori_follower_lag_seconds", "gauge", "How long the follower has known of a leader height it has not applied"},
      {"valori_follower_state", "gauge", "1 for the current state of the copy"},
      {"valori_follower_connected", "gauge", "1 while a stream to the leader is open"},
      {"valori_follower_records_applied_total", "counter", "Replicated records applied"},
      {"valori_follower_bootstraps_total", "counter", "Bootstraps from the leader's snapshot"},
      {"valori_follower_reconnects_total", "counter", "Streams opened after the first"}};
  vf_coll *fc;
  int k, st;
  pthread_mutex_lock(&f->mu);
  for (k = 0; k < 9; k++) {
    vb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", heads[k][0], heads[k][2], heads[k][0], heads[k][1]);
    for (fc = f->colls; fc; fc = fc->next) {
      const char *m = heads[k][0];
      if (fc->drop) continue;
      switch (k) {
        case 0: vb_printf(b, "%s{collection=\"%s\"} %llu\n", m, fc->name, (unsigned long long)fc->applied); break;
        case 1: vb_printf(b, "%s{collection=\"%s\"} %llu\n", m, fc->name, (unsigned long long)fc->leader_height); break;
        case 2:
          vb_printf(b, "%s{collection=\"%s\"} %llu\n", m, fc->name,
                    (unsigned long long)(fc->leader_height > fc->applied ? fc->leader_height - fc->applied : 0));
          break;
        case 3: vb_printf(b, "%s{collection=\"%s\"} %.3f\n", m, fc->name, lag_seconds(fc)); break;
        case 4:
          for (st = 0; st < VF_NSTATES; st++)
            vb_printf(b, "%s{collection=\"%s\",state=\"%s\"} %d\n", m, fc->name, vf_state_names[st], state_of(fc) == st);
          break;
        case 5: vb_printf(b, "%s{collection=\"%s\"} %d\n", m, fc->name, fc->connected); break;
        case 6: vb_printf(b, "%s{collection=\"%s\"} %llu\n", m, fc->name, (unsigned long long)fc->records_applied); break;
        case 7: vb_printf(b, "%s{collection=\"%s\"} %llu\n", m, fc->name, (unsigned long long)fc->bootstraps); break;
        default: vb_printf(b, "%s{collection=\"%s\"} %llu\n", m, fc->name, (unsigned long long)fc->reconnects); break;
      }
    }
  }
  pthread_mutex_unlock(&f->mu);
}
