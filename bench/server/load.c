/*
** load.c: the closed-loop load generator of load.h over libcurl's multi interface (one thread, one
** easy handle and one kept-alive connection per client).
*/
#define _POSIX_C_SOURCE 200809L
#include "load.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

typedef struct client {
  CURL *h;
  char *buf; /* the answer being received */
  size_t len, cap;
  size_t req; /* the request in flight */
  double t0;  /* when it was handed to libcurl */
  int failed; /* the write callback could not grow buf */
} client;

/* Content-Type header lists, one per distinct type seen (each with "Expect:" to turn off libcurl's
** 100-continue round trip for large bodies, which a benchmark would only measure as a stall). */
#define LG_MAX_TYPES 8
typedef struct hdrs {
  const char *type[LG_MAX_TYPES];
  struct curl_slist *list[LG_MAX_TYPES];
  int n;
} hdrs;

static struct curl_slist *headers_for(hdrs *hs, const char *ctype) {
  char line[256];
  int i;
  struct curl_slist *l;
  for (i = 0; i < hs->n; i++)
    if ((!ctype && !hs->type[i]) || (ctype && hs->type[i] && !strcmp(ctype, hs->type[i]))) return hs->list[i];
  if (hs->n == LG_MAX_TYPES) return NULL;
  l = curl_slist_append(NULL, "Expect:");
  if (l && ctype) {
    struct curl_slist *m;
    snprintf(line, sizeof line, "Content-Type: %s", ctype);
    if (!(m = curl_slist_append(l, line))) {
      curl_slist_free_all(l);
      return NULL;
    }
    l = m;
  }
  if (!l) return NULL;
  hs->type[hs->n] = ctype;
  hs->list[hs->n++] = l;
  return l;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg) {
  client *c = (client *)arg;
  size_t n = size * nmemb;
  if (c->len + n + 1 > c->cap) {
    size_t cap = c->cap ? c->cap : 4096;
    char *b;
    while (cap < c->len + n + 1) cap *= 2;
    if (!(b = (char *)realloc(c->buf, cap))) {
      c->failed = 1;
      return 0; /* libcurl ends the transfer with CURLE_WRITE_ERROR */
    }
    c->buf = b, c->cap = cap;
  }
  memcpy(c->buf + c->len, p, n);
  c->len += n;
  return n;
}

/* Prepares client c for request i and adds it to the multi handle. 0 or -1. */
static int start(CURLM *m, const char *base, hdrs *hs, client *c, size_t i, lg_make_fn make, void *arg) {
  lg_request rq;
  char url[1024];
  struct curl_slist *h;
  memset(&rq, 0, sizeof rq);
  if (make(arg, i, &rq)) return -1;
  if (snprintf(url, sizeof url, "%s%s", base, rq.path) >= (int)sizeof url) {
    fprintf(stderr, "load: URL too long: %s%s\n", base, rq.path);
    return -1;
  }
  if (!(h = headers_for(hs, rq.ctype))) {
    fprintf(stderr, "load: out of memory (headers)\n");
    return -1;
  }
  c->req = i, c->len = 0;
  curl_easy_setopt(c->h, CURLOPT_URL, url); /* libcurl copies the strings it is given */
  curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, h);
  if (!strcmp(rq.method, "GET")) {
    curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, (char *)NULL);
  } else {
    curl_easy_setopt(c->h, CURLOPT_POST, 1L);
    curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, rq.body ? (const char *)rq.body : "");
    curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq.len);
    curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, strcmp(rq.method, "POST") ? rq.method : (char *)NULL);
  }
  c->t0 = bench_now();
  if (curl_multi_add_handle(m, c->h) != CURLM_OK) {
    fprintf(stderr, "load: curl_multi_add_handle failed\n");
    return -1;
  }
  return 0;
}

typedef struct fetch_one {
  lg_request rq;
  long status;
  char *resp;
} fetch_one;

static int fetch_make(void *arg, size_t i, lg_request *rq) {
  (void)i;
  *rq = ((fetch_one *)arg)->rq;
  return 0;
}

static int fetch_keep(void *arg, size_t i, long status, const char *body, size_t len) {
  fetch_one *f = (fetch_one *)arg;
  (void)i;
  f->status = status;
  if (!(f->resp = (char *)malloc(len + 1))) return -1;
  memcpy(f->resp, body, len);
  f->resp[len] = 0;
  return 0;
}

int lg_fetch(const char *base, const char *method, const char *path, const char *ctype, const void *body,
             size_t len, long *status, char **resp) {
  fetch_one f;
  lg_result r;
  memset(&f, 0, sizeof f);
  f.rq.method = method, f.rq.path = path, f.rq.ctype = ctype, f.rq.body = body, f.rq.len = len;
  if (lg_run(base, 1, 1, 600, fetch_make, fetch_keep, &f, &r)) {
    free(f.resp);
    return -1;
  }
  *status = f.status;
  *resp = f.resp;
  return 0;
}

const char *lg_version(void) {
  static char v[64];
  snprintf(v, sizeof v, "libcurl %s", curl_version_info(CURLVERSION_NOW)->version);
  return v;
}

double lg_percentile_ms(double *v, size_t n, double p) {
  size_t r;
  if (!n) return 0;
  bench_median(v, n); /* sorts */
  r = (size_t)(p / 100.0 * (double)n + 0.999999);
  if (r < 1) r = 1;
  if (r > n) r = n;
  return v[r - 1] * 1e3;
}

int lg_run(const char *base, int clients, size_t total, double max_s, lg_make_fn make, lg_check_fn check,
           void *arg, lg_result *out) {
  static int inited;
  CURLM *m = NULL;
  client *cs = NULL;
  double *lat = NULL, t0 = 0, c0 = 0, deadline, tp;
  size_t next = 0, i;
  hdrs hs;
  int k, running = 0, rc = -1;
  memset(out, 0, sizeof *out);
  memset(&hs, 0, sizeof hs);
  if (!inited) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      fprintf(stderr, "load: curl_global_init failed\n");
      return -1;
    }
    inited = 1;
  }
  if (clients < 1 || !total) return 0;
  if ((size_t)clients > total) clients = (int)total;
  m = curl_multi_init();
  cs = (client *)calloc((size_t)clients, sizeof *cs);
  lat = (double *)malloc(total * sizeof *lat);
  if (!m || !cs || !lat) {
    fprintf(stderr, "load: out of memory\n");
    goto done;
  }
  curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)clients);
  curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)clients);
  for (k = 0; k < clients; k++) {
    CURL *h = curl_easy_init();
    if (!h) {
      fprintf(stderr, "load: curl_easy_init failed\n");
      goto done;
    }
    cs[k].h = h;
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &cs[k]);
    curl_easy_setopt(h, CURLOPT_PRIVATE, &cs[k]);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)(max_s + 1));
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  }
  t0 = bench_now(), c0 = bench_cpu_now();
  deadline = t0 + max_s, tp = t0;
  for (k = 0; k < clients; k++, next++)
    if (start(m, base, &hs, &cs[k], next, make, arg)) goto done;
  running = clients;
  while (out->done < total) {
    CURLMsg *msg;
    int left, still;
    if (curl_multi_perform(m, &still) != CURLM_OK) {
      fprintf(stderr, "load: curl_multi_perform failed\n");
      goto done;
    }
    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
      client *c = NULL;
      long status = 0, nc = 0;
      double t1 = bench_now();
      if (msg->msg != CURLMSG_DONE) continue;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
      curl_multi_remove_handle(m, msg->easy_handle);
      running--;
      if (msg->data.result != CURLE_OK || c->failed) {
        fprintf(stderr, "load: request %zu: %s\n", c->req,
                c->failed ? "out of memory for the answer" : curl_easy_strerror(msg->data.result));
        goto done;
      }
      curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo(c->h, CURLINFO_NUM_CONNECTS, &nc);
      out->connects += nc;
      lat[out->done] = t1 - c->t0;
      out->busy_s += t1 - c->t0;
      if (c->buf) c->buf[c->len] = 0;
      if (check(arg, c->req, status, c->buf ? c->buf : "", c->len)) goto done;
      out->done++;
      if (t1 - tp > 5.0) { /* progress of long loops */
        tp = t1;
        fprintf(stderr, "  %zu/%zu requests (%.0f/s)\n", out->done, total, (double)out->done / (t1 - t0));
      }
      if (next < total) {
        if (t1 > deadline) {
          fprintf(stderr, "load: time limit of %.0f s reached after %zu of %zu requests\n", max_s, out->done, total);
          goto done;
        }
        if (start(m, base, &hs, c, next++, make, arg)) goto done;
        running++;
      }
    }
    if (out->done < total && running > 0 && curl_multi_poll(m, NULL, 0, 100, NULL) != CURLM_OK) {
      fprintf(stderr, "load: curl_multi_poll failed\n");
      goto done;
    }
    if (bench_now() > deadline + 2) {
      fprintf(stderr, "load: time limit of %.0f s reached with %d requests unanswered\n", max_s, running);
      goto done;
    }
  }
  rc = 0;
done:
  if (out->done) {
    out->wall_s = bench_now() - t0;
    out->cpu_s = bench_cpu_now() - c0;
    out->qps = (double)out->done / out->wall_s;
    out->mean_ms = out->busy_s / (double)out->done * 1e3;
    out->p50_ms = lg_percentile_ms(lat, out->done, 50);
    out->p99_ms = lg_percentile_ms(lat, out->done, 99);
    out->max_ms = lat[out->done - 1] * 1e3; /* sorted */
  }
  for (k = 0; cs && k < clients; k++) {
    if (cs[k].h) {
      curl_multi_remove_handle(m, cs[k].h);
      curl_easy_cleanup(cs[k].h);
    }
    free(cs[k].buf);
  }
  for (i = 0; i < (size_t)hs.n; i++) curl_slist_free_all(hs.list[i]);
  if (m) curl_multi_cleanup(m);
  free(cs);
  free(lat);
  return rc;
}
