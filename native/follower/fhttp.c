/*
** fhttp.c: the follower's HTTP client over libcurl (one easy handle per request, loopback or
** network alike): GET and POST with the follower's headers, answers kept in memory up to a bound or
** streamed to a callback, X-Valori-Height/Root/Chain captured, aborts on request (stop, a dead
** stream) through the progress callback, and the decoding of the server's JSON error object.
*/
#include "fint.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int ok_status(long s) { return s >= 200 && s < 300; }

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg) {
  vf_http *r = (vf_http *)arg;
  size_t n = size * nmemb;
  size_t cap = r->max_body ? r->max_body : 64 * 1024;
  if (r->abort_now && r->abort_now(r->arg)) {
    r->aborted = 1;
    return 0;
  }
  if (ok_status(r->status) && r->on_data) {
    if (!r->on_data(r->arg, (const uint8_t *)p, n)) {
      r->aborted = 1;
      return 0;
    }
    return n;
  }
  if (r->resp.len + n > cap) { /* an answer beyond its bound is refused, not truncated */
    r->aborted = 1;
    snprintf(r->err, sizeof r->err, "the answer is larger than %zu bytes", cap);
    return 0;
  }
  vb_put(&r->resp, p, n);
  return r->resp.oom ? 0 : n;
}

/* Copies the value of header `name` from a header line into out. */
static void header_value(const char *line, size_t n, const char *name, char *out, size_t cap) {
  size_t k = strlen(name), i;
  if (n <= k + 1 || strncasecmp(line, name, k) != 0 || line[k] != ':') return;
  line += k + 1;
  n -= k + 1;
  while (n && (*line == ' ' || *line == '\t')) line++, n--;
  while (n && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' ')) n--;
  if (n >= cap) return;
  for (i = 0; i < n; i++) out[i] = line[i];
  out[n] = 0;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg) {
  vf_http *r = (vf_http *)arg;
  size_t n = size * nmemb;
  if (n > 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new status line (after a 100 Continue, say) */
    const char *sp = memchr(p, ' ', n);
    r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
    r->x_height[0] = r->x_root[0] = r->x_chain[0] = 0;
  }
  header_value(p, n, "X-Valori-Height", r->x_height, sizeof r->x_height);
  header_value(p, n, "X-Valori-Root", r->x_root, sizeof r->x_root);
  header_value(p, n, "X-Valori-Chain", r->x_chain, sizeof r->x_chain);
  return n;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
  vf_http *r = (vf_http *)arg;
  (void)dt;
  (void)dn;
  (void)ut;
  (void)un;
  if (r->abort_now && r->abort_now(r->arg)) {
    r->aborted = 1;
    return 1;
  }
  return 0;
}

int vf_http_do(vf_http *r) {
  CURL *h = curl_easy_init();
  struct curl_slist *hl = NULL;
  CURLcode cc;
  int i;
  r->status = 0;
  r->err[0] = 0;
  r->aborted = 0;
  vb_init(&r->resp);
  if (!h) {
    snprintf(r->err, sizeof r->err, "cannot create an HTTP handle");
    return VALORI_EIO;
  }
  for (i = 0; r->headers && r->headers[i]; i++)
    if (r->headers[i][0]) hl = curl_slist_append(hl, r->headers[i]);
  if (r->method && strcmp(r->method, "POST") == 0) {
    hl = curl_slist_append(hl, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
  }
  hl = curl_slist_append(hl, "Expect:");
  curl_easy_setopt(h, CURLOPT_URL, r->url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, r->timeout_s);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, r);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  cc = curl_easy_perform(h);
  if (r->status == 0) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
  if (cc != CURLE_OK && !r->err[0]) snprintf(r->err, sizeof r->err, "%s", curl_easy_strerror(cc));
  curl_slist_free_all(hl);
  curl_easy_cleanup(h);
  if (r->status == 0) {
    if (!r->err[0]) snprintf(r->err, sizeof r->err, "no answer");
    return VALORI_EIO;
  }
  return VALORI_OK;
}

int vf_http_error(const vf_http *r, int *code, char *msg, size_t cap, uint8_t chain[32]) {
  cJSON *j = NULL, *e, *x;
  int have_chain = 0;
  vs_err ve;
  *code = 0;
  snprintf(msg, cap, "HTTP %ld", r->status);
  if (vs_json_parse(r->resp.p ? r->resp.p : "", r->resp.len, &j, &ve) != VALORI_OK) return 0;
  e = cJSON_GetObjectItemCaseSensitive(j, "error");
  x = e ? cJSON_GetObjectItemCaseSensitive(e, "code") : NULL;
  if (cJSON_IsString(x)) {
    int c;
    for (c = 0; c < 200; c++)
      if (strcmp(vs_code_name(c), x->valuestring) == 0) {
        *code = c;
        break;
      }
  }
  x = e ? cJSON_GetObjectItemCaseSensitive(e, "message") : NULL;
  if (cJSON_IsString(x)) snprintf(msg, cap, "%s", x->valuestring);
  x = e ? cJSON_GetObjectItemCaseSensitive(e, "chain") : NULL;
  if (chain && cJSON_IsString(x) && strlen(x->valuestring) == 64) {
    int i;
    have_chain = 1;
    for (i = 0; i < 32; i++) {
      unsigned v;
      if (sscanf(x->valuestring + 2 * i, "%2x", &v) != 1) have_chain = 0;
      chain[i] = (uint8_t)v;
    }
  }
  cJSON_Delete(j);
  return have_chain;
}
