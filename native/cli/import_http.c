/*
** import_http.c: a server collection over HTTP for `valori import --url` and `valori search URL`
** (import_http.h). One libcurl easy handle per run, so batches reuse one keep-alive connection.
** Answers are parsed with cJSON; JSON bodies are written with the server's JSON writer (vbuf.h).
*/
#define _POSIX_C_SOURCE 200809L
#include "import_http.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vbuf.h"

#define VIMP_MAX_ANSWER (64u << 20)

struct vimp_http {
  CURL *h;
  char base[520];    /* http://HOST:PORT/v1/collections/NAME */
  char origin[420];  /* http://HOST:PORT */
  char name[80];
  char auth[400];
  uint32_t dim; /* import target: the rows' dimension */
  int pending;  /* the collection is missing: created by the first insert (or the summary) */
  char *create_body;
  int quiet;
  vbuf resp;
  long status;
  cJSON *json; /* the last 2xx answer, parsed */
};

static int read_token(const char *path, int want_write, char *out, size_t cap, char *err, size_t ecap) {
  FILE *fp = fopen(path, "r");
  char line[1024], rd[300] = "", wr[300] = "", bare[300] = "";
  if (!fp) {
    snprintf(err, ecap, "token file %s: cannot read it", path);
    return VALORI_EINVAL;
  }
  while (fgets(line, sizeof line, fp)) {
    char a[300], b[300];
    int n = sscanf(line, "%299s %299s", a, b);
    if (n <= 0 || a[0] == '#') continue;
    if (n == 1 && !bare[0]) snprintf(bare, sizeof bare, "%s", a);
    if (n == 2 && strcmp(a, "read") == 0 && !rd[0]) snprintf(rd, sizeof rd, "%s", b);
    if (n == 2 && strcmp(a, "write") == 0 && !wr[0]) snprintf(wr, sizeof wr, "%s", b);
  }
  fclose(fp);
  if (want_write) snprintf(out, cap, "%s", wr[0] ? wr : bare);
  else snprintf(out, cap, "%s", rd[0] ? rd : wr[0] ? wr : bare);
  if (!out[0]) {
    snprintf(err, ecap, "token file %s holds no %s token", path, want_write ? "write" : "read or write");
    return VALORI_EINVAL;
  }
  return VALORI_OK;
}

int vimp_http_connect(const char *url, const char *token_file, int want_write, vimp_http **out, char *err, size_t cap) {
  static const char mark[] = "/v1/collections/";
  const char *p = strstr(url, mark), *name;
  size_t n;
  vimp_http *h;
  char token[300];
  *out = NULL;
  if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) || !p || strlen(url) >= 400) {
    snprintf(err, cap, "URL %s: want http://HOST:PORT/v1/collections/NAME", url);
    return VALORI_EINVAL;
  }
  name = p + sizeof mark - 1;
  n = strlen(name);
  while (n && name[n - 1] == '/') n--;
  if (n == 0 || n > 64) {
    snprintf(err, cap, "URL %s: no collection name after /v1/collections/", url);
    return VALORI_EINVAL;
  }
  if (!(h = (vimp_http *)calloc(1, sizeof *h))) {
    snprintf(err, cap, "out of memory");
    return VALORI_ENOMEM;
  }
  memcpy(h->name, name, n);
  h->name[n] = 0;
  if (!vimp_name_ok(h->name)) {
    snprintf(err, cap, "URL %s: '%s' is not a collection name", url, h->name);
    free(h);
    return VALORI_EINVAL;
  }
  snprintf(h->origin, sizeof h->origin, "%.*s", (int)(p - url), url);
  snprintf(h->base, sizeof h->base, "%s%s%s", h->origin, mark, h->name);
  if (token_file) {
    int rc = read_token(token_file, want_write, token, sizeof token, err, cap);
    if (rc) {
      free(h);
      return rc;
    }
    snprintf(h->auth, sizeof h->auth, "Authorization: Bearer %s", token);
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (!(h->h = curl_easy_init())) {
    snprintf(err, cap, "cannot create an HTTP handle");
    free(h);
    return VALORI_EIO;
  }
  vb_init(&h->resp);
  *out = h;
  return VALORI_OK;
}

const char *vimp_http_base(const vimp_http *h) { return h->base; }

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg) {
  vimp_http *h = (vimp_http *)arg;
  size_t n = size * nmemb;
  if (h->resp.len + n > VIMP_MAX_ANSWER) return 0;
  vb_put(&h->resp, p, n);
  return h->resp.oom ? 0 : n;
}

static int code_of(const char *name) {
  int c;
  for (c = 0; c < VS_CODE_END; c++)
    if (strcmp(vs_code_name(c), name) == 0) return c;
  return VALORI_EIO;
}

/* One request; body with its content type (NULL: GET or DELETE without a body). */
static int request(vimp_http *h, const char *method, const char *url, const char *ctype, const void *body, size_t len,
                   char *err, size_t cap) {
  struct curl_slist *hl = NULL;
  char ct[120];
  CURLcode cc;
  cJSON_Delete(h->json);
  h->json = NULL;
  h->resp.len = 0;
  h->status = 0;
  if (h->auth[0]) hl = curl_slist_append(hl, h->auth);
  if (ctype) {
    snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
    hl = curl_slist_append(hl, ct);
  }
  hl = curl_slist_append(hl, "Expect:");
  curl_easy_reset(h->h);
  curl_easy_setopt(h->h, CURLOPT_URL, url);
  curl_easy_setopt(h->h, CURLOPT_CUSTOMREQUEST, method);
  if (body) {
    curl_easy_setopt(h->h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  }
  curl_easy_setopt(h->h, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(h->h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h->h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h->h, CURLOPT_TIMEOUT, 600L);
  curl_easy_setopt(h->h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h->h, CURLOPT_WRITEDATA, h);
  curl_easy_setopt(h->h, CURLOPT_PROTOCOLS_STR, "http,https");
  cc = curl_easy_perform(h->h);
  curl_easy_getinfo(h->h, CURLINFO_RESPONSE_CODE, &h->status);
  curl_slist_free_all(hl);
  if (cc != CURLE_OK || h->status == 0) {
    snprintf(err, cap, "%s %s: %s", method, url, curl_easy_strerror(cc));
    return VALORI_EIO;
  }
  h->json = cJSON_ParseWithLength(h->resp.p ? h->resp.p : "", h->resp.len);
  if (h->status >= 200 && h->status < 300) {
    if (!h->json) {
      snprintf(err, cap, "%s %s: HTTP %ld with an answer that is not JSON", method, url, h->status);
      return VALORI_EIO;
    }
    return VALORI_OK;
  }
  {
    cJSON *e = cJSON_GetObjectItemCaseSensitive(h->json, "error");
    cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code"), *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    int code = cJSON_IsString(c) ? code_of(c->valuestring) : VALORI_EIO;
    snprintf(err, cap, "%s %s: HTTP %ld: %s", method, url, h->status, cJSON_IsString(m) ? m->valuestring : "(no error object)");
    return code;
  }
}

int vimp_http_json(vimp_http *h, const char *method, const char *url, const char *body, size_t len, char *err, size_t cap) {
  return request(h, method, url, body ? "application/json" : NULL, body, len, err, cap);
}

/* A u64 member written as a decimal string (or a safe integer number). */
static int get_u64(const cJSON *o, const char *key, uint64_t *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (cJSON_IsString(v)) {
    char *end;
    unsigned long long x = strtoull(v->valuestring, &end, 10);
    if (!*v->valuestring || *end) return -1;
    *out = x;
    return 0;
  }
  if (cJSON_IsNumber(v) && v->valuedouble >= 0) {
    *out = (uint64_t)v->valuedouble;
    return 0;
  }
  return -1;
}

/* Base64 bytes as text when they are printable UTF-8, else base64:... (valori search's table). */
static void print_b64_text(const char *b64) {
  size_t n = strlen(b64), i;
  uint8_t *raw = (uint8_t *)malloc(vs_b64_max(n) + 1);
  long k = raw ? vs_b64_decode(b64, n, raw) : -1;
  for (i = 0; k >= 0 && i < (size_t)k; i++)
    if (raw[i] < 0x20 || raw[i] == 0x7f) break;
  if (k >= 0 && i == (size_t)k) printf("%.*s", (int)k, (const char *)raw);
  else printf("base64:%s", b64);
  free(raw);
}

int vimp_http_print_hits(vimp_http *h, int json) {
  cJSON *hits = cJSON_GetObjectItemCaseSensitive(h->json, "hits"), *it;
  cJSON *nodes = cJSON_GetObjectItemCaseSensitive(h->json, "nodes"), *keep;
  if (json) {
    printf("%.*s\n", (int)h->resp.len, h->resp.p);
    return 0;
  }
  if (!cJSON_IsArray(hits)) {
    fprintf(stderr, "error: the server's answer has no hits\n");
    return -1;
  }
  printf("%-10s %-20s %-20s %s\n", "id", "distance", "tag", "meta");
  cJSON_ArrayForEach(it, hits) {
    uint64_t id = 0, tag = 0;
    cJSON *d = cJSON_GetObjectItemCaseSensitive(it, "distance"), *m = cJSON_GetObjectItemCaseSensitive(it, "meta");
    vbuf b;
    get_u64(it, "id", &id);
    get_u64(it, "tag", &tag);
    vb_init(&b);
    vb_json_double(&b, cJSON_IsNumber(d) ? d->valuedouble : 0);
    printf("%-10llu %-20.*s %-20llu ", (unsigned long long)id, (int)b.len, b.p ? b.p : "", (unsigned long long)tag);
    vb_free(&b);
    if (cJSON_IsString(m)) print_b64_text(m->valuestring);
    printf("\n");
  }
  if (cJSON_IsArray(nodes)) { /* --expand: each reached node with its kind, record and label */
    printf("\n%-10s %-6s %-10s %-6s %-10s %s\n", "node", "depth", "via", "kind", "record", "label");
    cJSON_ArrayForEach(it, nodes) {
      uint64_t node = 0, via = 0, rec = 0;
      cJSON *d = cJSON_GetObjectItemCaseSensitive(it, "depth"), *k, *l;
      char url[700], err[1400];
      get_u64(it, "node", &node);
      get_u64(it, "via", &via);
      snprintf(url, sizeof url, "%s/nodes/%llu", h->base, (unsigned long long)node);
      keep = h->json; /* the node's answer replaces the kept one: hold the search answer */
      h->json = NULL;
      if (request(h, "GET", url, NULL, NULL, 0, err, sizeof err) != VALORI_OK) {
        cJSON_Delete(h->json);
        h->json = keep;
        fprintf(stderr, "error: %s\n", err);
        return -1;
      }
      k = cJSON_GetObjectItemCaseSensitive(h->json, "kind");
      l = cJSON_GetObjectItemCaseSensitive(h->json, "label");
      get_u64(h->json, "record", &rec);
      printf("%-10llu %-6d %-10llu %-6d %-10llu ", (unsigned long long)node, cJSON_IsNumber(d) ? (int)d->valuedouble : 0,
             (unsigned long long)via, cJSON_IsNumber(k) ? (int)k->valuedouble : 0, (unsigned long long)rec);
      if (cJSON_IsString(l)) print_b64_text(l->valuestring);
      printf("\n");
      cJSON_Delete(h->json);
      h->json = keep;
    }
  }
  return 0;
}

void vimp_http_close(vimp_http *h) {
  if (!h) return;
  free(h->create_body);
  cJSON_Delete(h->json);
  vb_free(&h->resp);
  if (h->h) curl_easy_cleanup(h->h);
  free(h);
}

/* ---- the import target */

/* A whole number |v| <= 256 (every component is within the core's range) as JSON. */
static void put_small_int(vbuf *b, int v) {
  char d[8];
  int n = 0, neg = v < 0;
  unsigned u = neg ? (unsigned)-v : (unsigned)v;
  do {
    d[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u && n < 7);
  if (neg) d[n++] = '-';
  while (n) vb_put(b, &d[--n], 1);
}

#define H(t) ((vimp_http *)(t)->impl)

static int hfail(vimp_target *t, int rc, const char *msg) {
  snprintf(t->err, sizeof t->err, "%s", msg);
  return rc;
}

static int h_describe(vimp_target *t, vimp_state *st, uint64_t *records, uint64_t *height, uint8_t root[32]) {
  char err[1400];
  vimp_http *h = H(t);
  cJSON *v;
  uint64_t x = 0;
  int rc = request(h, "GET", h->base, NULL, NULL, 0, err, sizeof err);
  if (rc) return hfail(t, rc, err);
  if (st) {
    v = cJSON_GetObjectItemCaseSensitive(h->json, "dim");
    st->dim = cJSON_IsNumber(v) ? (uint32_t)v->valuedouble : 0;
    if (get_u64(h->json, "next_id", &st->next_record_id) != 0)
      return hfail(t, VALORI_EIO, "the collection's description has no next_id");
    st->next_node_id = 1; /* no graph over HTTP */
  }
  if (records) {
    get_u64(h->json, "records", &x);
    *records = x;
    v = cJSON_GetObjectItemCaseSensitive(h->json, "height");
    *height = cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : 0;
    v = cJSON_GetObjectItemCaseSensitive(h->json, "root");
    memset(root, 0, 32);
    if (cJSON_IsString(v) && strlen(v->valuestring) == 64) {
      int i;
      for (i = 0; i < 32; i++) {
        unsigned b = 0;
        sscanf(v->valuestring + 2 * i, "%2x", &b);
        root[i] = (uint8_t)b;
      }
    }
  }
  return VALORI_OK;
}

/* POST /v1/collections for a collection that was missing at the start. */
static int h_create(vimp_target *t) {
  vimp_http *h = H(t);
  char u[500], err[1400];
  int rc;
  snprintf(u, sizeof u, "%s/v1/collections", h->origin);
  rc = request(h, "POST", u, "application/json", h->create_body, strlen(h->create_body), err, sizeof err);
  if (rc) return hfail(t, rc, err);
  h->pending = 0;
  if (!h->quiet) fprintf(stderr, "created %s (dim %u)\n", h->base, h->dim);
  return VALORI_OK;
}

static int h_state(vimp_target *t, vimp_state *st) {
  if (H(t)->pending) {
    st->dim = H(t)->dim;
    st->next_record_id = st->next_node_id = 1;
    return VALORI_OK;
  }
  return h_describe(t, st, NULL, NULL, NULL);
}

static int h_summary(vimp_target *t, uint64_t *records, uint64_t *height, uint8_t root[32]) {
  int rc = H(t)->pending ? h_create(t) : VALORI_OK;
  return rc ? rc : h_describe(t, NULL, records, height, root);
}

static int h_get(vimp_target *t, uint64_t id, int32_t *q16, uint64_t *tag) {
  char url[1200], err[1024];
  vimp_http *h = H(t);
  cJSON *v, *it;
  int rc, i = 0;
  if (h->pending) return VALORI_ENOTFOUND;
  snprintf(url, sizeof url, "%s/records/%llu", h->base, (unsigned long long)id);
  rc = request(h, "GET", url, NULL, NULL, 0, err, sizeof err);
  if (rc == VALORI_ENOTFOUND) return rc;
  if (rc) return hfail(t, rc, err);
  v = cJSON_GetObjectItemCaseSensitive(h->json, "vector");
  if (!cJSON_IsArray(v) || get_u64(h->json, "tag", tag) != 0) return hfail(t, VALORI_EIO, "a record answer without vector or tag");
  cJSON_ArrayForEach(it, v) {
    if (i >= VALORI_MAX_DIM || !cJSON_IsNumber(it)) return hfail(t, VALORI_EIO, "a record answer with a bad vector");
    q16[i++] = (int32_t)(it->valuedouble * 65536.0); /* exact: the server writes the stored Q16.16 exactly */
  }
  return VALORI_OK;
}

static int h_insert(vimp_target *t, size_t n, const float *vecs, const uint64_t *tags, const void *const *metas,
                    const size_t *lens, uint64_t want_first, uint64_t *first) {
  vimp_http *h = H(t);
  char url[1200], err[1024];
  size_t i, j, dim = h->dim, any_meta = 0;
  vbuf b;
  int rc = h->pending ? h_create(t) : VALORI_OK;
  if (rc) return rc;
  for (i = 0; i < n; i++) any_meta |= metas && metas[i] && lens[i];
  /* first_id: a batch a killed run had sent, which the server applied after this run read next_id,
  ** makes the server refuse this one (EEXIST) instead of storing the rows twice */
  snprintf(url, sizeof url, "%s/records/batch?first_id=%llu", h->base, (unsigned long long)want_first);
  vb_init(&b);
  if (!any_meta) { /* binary ingest: docs/HTTP.md section 7 */
    uint8_t hd[24];
    memcpy(hd, "VLVB", 4);
    for (j = 0; j < 5; j++) {
      /* version 1, n, dim, flags (bit 0: tags follow), reserved */
      uint32_t v = j == 0 ? 1u : j == 1 ? (uint32_t)n : j == 2 ? (uint32_t)dim : j == 3 ? 1u : 0u;
      hd[4 + 4 * j] = (uint8_t)v;
      hd[5 + 4 * j] = (uint8_t)(v >> 8);
      hd[6 + 4 * j] = (uint8_t)(v >> 16);
      hd[7 + 4 * j] = (uint8_t)(v >> 24);
    }
    vb_put(&b, hd, sizeof hd);
    for (i = 0; i < n * dim; i++) {
      uint32_t u;
      uint8_t le[4];
      memcpy(&u, &vecs[i], 4);
      le[0] = (uint8_t)u, le[1] = (uint8_t)(u >> 8), le[2] = (uint8_t)(u >> 16), le[3] = (uint8_t)(u >> 24);
      vb_put(&b, le, 4);
    }
    for (i = 0; i < n; i++) {
      uint8_t le[8];
      for (j = 0; j < 8; j++) le[j] = (uint8_t)(tags[i] >> (8 * j));
      vb_put(&b, le, 8);
    }
    if (b.oom) {
      vb_free(&b);
      return hfail(t, VALORI_ENOMEM, "out of memory");
    }
    rc = request(h, "POST", url, "application/vnd.valori.vectors", b.p, b.len, err, sizeof err);
  } else { /* JSON batch with base64 metadata */
    vb_puts(&b, "{\"records\":[");
    for (i = 0; i < n; i++) {
      vb_puts(&b, i ? ",{\"vector\":[" : "{\"vector\":[");
      for (j = 0; j < dim; j++) {
        float f = vecs[i * dim + j];
        if (j) vb_puts(&b, ",");
        if (f == (float)(int)f) put_small_int(&b, (int)f); /* pixels and the like: no round-trip search */
        else vb_json_double(&b, (double)f);
      }
      vb_puts(&b, "],\"tag\":");
      vb_json_u64str(&b, tags[i]);
      if (metas[i] && lens[i]) {
        vb_puts(&b, ",\"meta\":");
        vb_json_base64(&b, metas[i], lens[i]);
      }
      vb_puts(&b, "}");
    }
    vb_puts(&b, "]}");
    if (b.oom) {
      vb_free(&b);
      return hfail(t, VALORI_ENOMEM, "out of memory");
    }
    rc = request(h, "POST", url, "application/json", b.p, b.len, err, sizeof err);
  }
  vb_free(&b);
  if (rc) return hfail(t, rc, err);
  if (get_u64(h->json, "first_id", first) != 0) return hfail(t, VALORI_EIO, "a batch answer without first_id");
  return VALORI_OK;
}

/* The server answers a batch only once it is durable: nothing more to wait for. */
static int h_commit(vimp_target *t) {
  (void)t;
  return VALORI_OK;
}
static int h_finish(vimp_target *t, int rc) {
  vimp_http_close(H(t));
  t->impl = NULL;
  return rc;
}

/* no graph operations: `valori import --graph` needs a local target (cmd_import.c says so) */
static const vimp_ops vimp_http_ops = {h_state, h_get, h_insert, NULL, NULL, NULL, NULL, NULL, h_commit, h_finish, h_summary};

int vimp_http_open(const char *url, const char *token_file, const vimp_create *c, int quiet, vimp_target *t) {
  vimp_http *h = NULL;
  char err[1400];
  int rc;
  memset(t, 0, sizeof *t);
  if ((rc = vimp_http_connect(url, token_file, 1, &h, t->err, sizeof t->err)) != VALORI_OK) return rc;
  t->impl = h;
  t->ops = &vimp_http_ops;
  h->dim = c->dim;
  snprintf(t->where, sizeof t->where, "%s", h->base);
  rc = request(h, "GET", h->base, NULL, NULL, 0, err, sizeof err);
  h->quiet = quiet;
  if (rc == VS_ENOCOLLECTION) { /* created by the first insert */
    vbuf b;
    vb_init(&b);
    vb_puts(&b, "{\"name\":");
    vb_json_str(&b, h->name);
    vb_printf(&b, ",\"dim\":%u,\"metric\":\"%s\",\"index\":\"%s\"", c->dim, c->metric == VALORI_METRIC_IP ? "ip" : "l2",
              c->index == VALORI_INDEX_NONE ? "none" : "hnsw");
    if (c->index != VALORI_INDEX_NONE && (c->m_set || c->efc_set)) {
      vb_puts(&b, ",\"hnsw\":{");
      if (c->m_set) vb_printf(&b, "\"m\":%u%s", c->m, c->efc_set ? "," : "");
      if (c->efc_set) vb_printf(&b, "\"ef_construction\":%u", c->ef_construction);
      vb_puts(&b, "}");
    }
    vb_puts(&b, "}");
    vb_put(&b, "", 1); /* NUL */
    if (b.oom) {
      vb_free(&b);
      snprintf(err, sizeof err, "out of memory");
      rc = VALORI_ENOMEM;
      goto fail;
    }
    h->create_body = vb_take(&b, NULL);
    h->pending = 1;
    return VALORI_OK;
  } else if (rc) {
    goto fail;
  }
  {
    cJSON *j = h->json, *v = cJSON_GetObjectItemCaseSensitive(j, "dim"), *hn = cJSON_GetObjectItemCaseSensitive(j, "hnsw");
    cJSON *metric = cJSON_GetObjectItemCaseSensitive(j, "metric"), *index = cJSON_GetObjectItemCaseSensitive(j, "index");
    const char *what = NULL;
    if (!cJSON_IsNumber(v) || (uint32_t)v->valuedouble != c->dim) {
      snprintf(err, sizeof err, "%s: the collection has dim %d, the file's rows have %u", h->base,
               cJSON_IsNumber(v) ? (int)v->valuedouble : -1, c->dim);
      rc = VALORI_EDIM;
      goto fail;
    }
    if (c->metric_set && (!cJSON_IsString(metric) || strcmp(metric->valuestring, c->metric == VALORI_METRIC_IP ? "ip" : "l2")))
      what = "metric";
    else if (c->index_set && (!cJSON_IsString(index) || strcmp(index->valuestring, c->index == VALORI_INDEX_NONE ? "none" : "hnsw")))
      what = "index";
    else if (c->m_set && (uint32_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(hn, "m")) != c->m)
      what = "m";
    else if (c->efc_set && (uint32_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(hn, "ef_construction")) != c->ef_construction)
      what = "ef-construction";
    if (what) {
      snprintf(err, sizeof err, "%s: the existing collection was created with another %s", h->base, what);
      rc = VALORI_ECONFIG;
      goto fail;
    }
  }
  return VALORI_OK;
fail:
  snprintf(t->err, sizeof t->err, "%s", err);
  vimp_http_close(h);
  t->impl = NULL;
  return rc;
}
