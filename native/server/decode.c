/*
** decode.c: the server's request decoders (see decode.h): a pre-pass over the raw JSON bytes
** (UTF-8, raw control characters, \u0000, nesting depth) so that cJSON only ever sees well-formed
** text of bounded depth, then one decoder per body shape that walks the cJSON tree, rejects
** unknown and repeated fields, and converts values by the rules of docs/HTTP.md section 2.
** Vector components are checked with valori_f32_to_q16, the core's own boundary, so a component
** the core would refuse is refused here with the field's name in the message.
*/
#include "decode.h"

#include "vbuf.h"

#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SAFE_INT 9007199254740991.0 /* 2^53 - 1 */

/* ---- pre-pass and parse */

/* Length of the UTF-8 sequence at p (1..4), 0 if invalid (overlong, surrogate, > U+10FFFF). */
static size_t utf8_len(const unsigned char *p, size_t left) {
  unsigned c = p[0];
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return left >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (left < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80) return 0;
    if (c == 0xe0 && p[1] < 0xa0) return 0; /* overlong */
    if (c == 0xed && p[1] >= 0xa0) return 0; /* surrogates */
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (left < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80) return 0;
    if (c == 0xf0 && p[1] < 0x90) return 0;
    if (c == 0xf4 && p[1] >= 0x90) return 0;
    return 4;
  }
  return 0;
}

int vs_json_parse(const char *body, size_t len, cJSON **out, vs_err *e) {
  const unsigned char *p = (const unsigned char *)body;
  size_t i = 0;
  int depth = 0, in_str = 0;
  const char *end = NULL;
  cJSON *j;
  while (i < len) {
    size_t n = utf8_len(p + i, len - i);
    if (!n) return vs_fail(e, VS_EJSON, "invalid UTF-8 at byte %zu", i);
    if (n == 1) {
      unsigned char c = p[i];
      if (in_str) {
        if (c < 0x20) return vs_fail(e, VS_EJSON, "unescaped control character in a string at byte %zu", i);
        if (c == '"') {
          in_str = 0;
        } else if (c == '\\') {
          if (i + 1 >= len) break; /* truncated: cJSON reports it */
          if (p[i + 1] == 'u' && i + 5 < len && memcmp(p + i + 2, "0000", 4) == 0)
            return vs_fail(e, VS_EJSON, "\\u0000 in a string is not accepted (byte %zu)", i);
          i += 2;
          continue;
        }
      } else if (c == '"') {
        in_str = 1;
      } else if (c == '[' || c == '{') {
        if (++depth > VS_JSON_MAX_DEPTH) return vs_fail(e, VS_EJSON, "JSON nested deeper than %d levels", VS_JSON_MAX_DEPTH);
      } else if (c == ']' || c == '}') {
        depth--;
      } else if (c == 0) {
        return vs_fail(e, VS_EJSON, "NUL byte at byte %zu", i);
      }
    }
    i += n;
  }
  j = cJSON_ParseWithLengthOpts(body, len, &end, 0);
  if (!j) {
    size_t at = end && end >= body && end <= body + len ? (size_t)(end - body) : len;
    return vs_fail(e, VS_EJSON, "malformed JSON near byte %zu", at);
  }
  /* trailing whitespace is fine, anything else is not */
  if (end) {
    while (end < body + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')) end++;
    if (end < body + len) {
      size_t at = (size_t)(end - body);
      cJSON_Delete(j);
      return vs_fail(e, VS_EJSON, "malformed JSON near byte %zu (data after the value)", at);
    }
  }
  *out = j;
  return VALORI_OK;
}

/* ---- field helpers */

/* Checks that obj is an object whose keys are all in `allowed` (NULL-terminated), each at most
** once. `where` prefixes messages ("" for the top level, "records[3]." ...). */
static int check_fields(const cJSON *obj, const char *const *allowed, const char *where, vs_err *e) {
  const cJSON *it;
  unsigned seen = 0;
  if (!cJSON_IsObject(obj)) {
    if (!where[0]) return vs_fail(e, VALORI_EINVAL, "the body must be a JSON object");
    return vs_fail(e, VALORI_EINVAL, "%.*s: expected an object", (int)strlen(where) - 1, where);
  }
  for (it = obj->child; it; it = it->next) {
    unsigned k;
    for (k = 0; allowed[k]; k++)
      if (it->string && strcmp(it->string, allowed[k]) == 0) break;
    if (!allowed[k]) return vs_fail(e, VALORI_EINVAL, "unknown field '%s%.60s'", where, it->string ? it->string : "");
    if (seen & (1u << k)) return vs_fail(e, VALORI_EINVAL, "field '%s%s' appears twice", where, allowed[k]);
    seen |= 1u << k;
  }
  return VALORI_OK;
}

static const cJSON *field(const cJSON *obj, const char *name) {
  const cJSON *it;
  for (it = obj->child; it; it = it->next)
    if (it->string && strcmp(it->string, name) == 0) return it;
  return NULL;
}

int vs_parse_u64_text(const char *s, size_t n, uint64_t *out) {
  uint64_t v = 0;
  size_t i;
  if (n == 0 || n > 20) return 0;
  for (i = 0; i < n; i++) {
    unsigned d;
    if (s[i] < '0' || s[i] > '9') return 0;
    d = (unsigned)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10u) return 0;
    v = v * 10u + d;
  }
  *out = v;
  return 1;
}

/* A u64: a string of decimal digits or an integer number up to 2^53-1. */
static int get_u64(const cJSON *v, const char *name, uint64_t *out, vs_err *e) {
  if (cJSON_IsString(v)) {
    if (!vs_parse_u64_text(v->valuestring, strlen(v->valuestring), out))
      return vs_fail(e, VALORI_EINVAL, "%s: expected decimal digits (a u64), got \"%.40s\"", name, v->valuestring);
    return VALORI_OK;
  }
  if (cJSON_IsNumber(v)) {
    double d = v->valuedouble;
    if (!(d >= 0 && d < 1.8e19) || d != (double)(uint64_t)d)
      return vs_fail(e, VALORI_EINVAL, "%s: expected a non-negative integer", name);
    if (d > MAX_SAFE_INT)
      return vs_fail(e, VALORI_EINVAL, "%s: integer numbers above 2^53-1 lose precision in JSON; send a string of decimal digits", name);
    *out = (uint64_t)d;
    return VALORI_OK;
  }
  return vs_fail(e, VALORI_EINVAL, "%s: expected a u64 (a string of decimal digits or an integer number)", name);
}

/* An integer JSON number in [lo, hi]. */
static int get_u32(const cJSON *v, const char *name, uint32_t lo, uint32_t hi, int code, uint32_t *out, vs_err *e) {
  double d;
  if (!cJSON_IsNumber(v)) return vs_fail(e, VALORI_EINVAL, "%s: expected an integer number", name);
  d = v->valuedouble;
  if (!(d >= -1e18 && d <= 1e18) || d != (double)(long long)d)
    return vs_fail(e, VALORI_EINVAL, "%s: expected an integer number", name);
  if (d < (double)lo || d > (double)hi)
    return vs_fail(e, code, "%s: %.0f is outside %u..%u", name, d, lo, hi);
  *out = (uint32_t)d;
  return VALORI_OK;
}

/* One vector component: a JSON number, |x| <= 256, rounded to binary32 as a Float32Array does. */
static int get_component(const cJSON *v, const char *where, size_t i, float *out, vs_err *e) {
  double d;
  float f;
  int32_t q;
  int rc;
  if (!cJSON_IsNumber(v)) return vs_fail(e, VALORI_EINVAL, "%svector[%zu]: expected a number", where, i);
  d = v->valuedouble;
  if (!(d >= -256.0 && d <= 256.0)) /* also catches inf from numbers like 1e400 */
    return vs_fail(e, VALORI_ERANGE, "%svector[%zu]: %g is outside [-256, 256]", where, i, d);
  f = (float)d;
  rc = valori_f32_to_q16(f, &q);
  if (rc != VALORI_OK) return vs_fail(e, rc, "%svector[%zu]: %g is outside [-256, 256]", where, i, d);
  *out = f;
  return VALORI_OK;
}

static int get_vector(const cJSON *v, const char *where, uint32_t dim, float *out, vs_err *e) {
  const cJSON *it;
  size_t i = 0, n;
  if (!cJSON_IsArray(v)) return vs_fail(e, VALORI_EINVAL, "%svector: expected an array of numbers", where);
  n = (size_t)cJSON_GetArraySize(v);
  if (n != dim)
    return vs_fail(e, VALORI_EDIM, "vector has the wrong dimension: the collection has dim %u, the vector has %zu components", dim, n);
  for (it = v->child; it; it = it->next, i++) VS_TRY(get_component(it, where, i, &out[i], e));
  return VALORI_OK;
}

/* Base64 bytes (NULL for JSON null): *out malloc'd (NULL for an empty or null value). */
static int get_bytes(const cJSON *v, const char *name, uint8_t **out, size_t *len, vs_err *e) {
  size_t sl;
  long n;
  uint8_t *buf;
  *out = NULL;
  *len = 0;
  if (cJSON_IsNull(v)) return VALORI_OK;
  if (!cJSON_IsString(v)) return vs_fail(e, VALORI_EINVAL, "%s: expected a base64 string or null", name);
  sl = strlen(v->valuestring);
  if (sl > (VALORI_MAX_META + 2) / 3 * 4)
    return vs_fail(e, VALORI_ETOOBIG, "%s: more than %d bytes", name, VALORI_MAX_META);
  if (sl == 0) return VALORI_OK;
  buf = (uint8_t *)malloc(vs_b64_max(sl));
  if (!buf) return vs_fail(e, VALORI_ENOMEM, "out of memory");
  n = vs_b64_decode(v->valuestring, sl, buf);
  if (n < 0) {
    free(buf);
    return vs_fail(e, VALORI_EINVAL, "%s: invalid base64 (standard alphabet, with padding)", name);
  }
  if ((size_t)n > VALORI_MAX_META) {
    free(buf);
    return vs_fail(e, VALORI_ETOOBIG, "%s: %ld bytes is above the limit %d", name, n, VALORI_MAX_META);
  }
  *out = buf;
  *len = (size_t)n;
  return VALORI_OK;
}

static int get_dir(const cJSON *v, const char *name, uint32_t *out, vs_err *e) {
  if (!cJSON_IsString(v) || !vs_parse_dir(v->valuestring, out))
    return vs_fail(e, VALORI_EINVAL, "%s: expected out, in or both", name);
  return VALORI_OK;
}

int vs_parse_dir(const char *s, uint32_t *out) {
  if (strcmp(s, "out") == 0) *out = VALORI_DIR_OUT;
  else if (strcmp(s, "in") == 0) *out = VALORI_DIR_IN;
  else if (strcmp(s, "both") == 0) *out = VALORI_DIR_BOTH;
  else return 0;
  return 1;
}

int vs_name_valid(const char *s) {
  size_t i, n = strlen(s);
  if (n < 1 || n > VS_MAX_NAME) return 0;
  for (i = 0; i < n; i++) {
    char c = s[i];
    int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '-'))) return 0;
  }
  return 1;
}

/* ---- collections */

/* "traversal": {"int8": [lo, hi]} -> valori_traversal_int8(lo, hi), the option the npm package takes
** as traversal: { int8: [lo, hi] } (the bounds rounded to binary32 as a Float32Array does). The shape
** is checked here; the bounds are the core's to refuse (EINVAL: not finite, lo > hi, outside
** valori_f32_to_q16's range); the centre an "ip" collection refuses is valori_open's (EINVAL). */
static int get_traversal(const cJSON *v, uint32_t index, uint32_t *out, vs_err *e) {
  static const char *const tk[] = {"int8", NULL};
  const cJSON *r;
  double lo, hi;
  if (!cJSON_IsObject(v)) return vs_fail(e, VALORI_EINVAL, "traversal: expected {\"int8\": [lo, hi]} or null");
  VS_TRY(check_fields(v, tk, "traversal.", e));
  r = field(v, "int8");
  if (!r || !cJSON_IsArray(r) || cJSON_GetArraySize(r) != 2 || !cJSON_IsNumber(cJSON_GetArrayItem(r, 0)) ||
      !cJSON_IsNumber(cJSON_GetArrayItem(r, 1)))
    return vs_fail(e, VALORI_EINVAL, "traversal: expected {\"int8\": [lo, hi]} with two numbers");
  if (index == VALORI_INDEX_NONE) return vs_fail(e, VALORI_EINVAL, "traversal: needs index \"hnsw\" (the copy is walked by HNSW searches)");
  lo = cJSON_GetArrayItem(r, 0)->valuedouble;
  hi = cJSON_GetArrayItem(r, 1)->valuedouble;
  /* a double beyond binary32's range has no float conversion in C: refused as the core refuses inf */
  if (!(lo >= -FLT_MAX && lo <= FLT_MAX && hi >= -FLT_MAX && hi <= FLT_MAX) ||
      valori_traversal_int8((float)lo, (float)hi, out) != VALORI_OK)
    return vs_fail(e, VALORI_EINVAL, "traversal.int8: [%g, %g] refused: the bounds must be finite, lo <= hi, within [-256, 256]", lo, hi);
  return VALORI_OK;
}

int vs_decode_create(const cJSON *j, const vs_limits *lim, vs_create_req *out, vs_err *e) {
  static const char *const top[] = {"name", "dim", "metric", "index", "hnsw", "traversal", NULL};
  static const char *const hn[] = {"m", "ef_construction", "ef_search", NULL};
  const cJSON *v;
  memset(out, 0, sizeof *out);
  valori_options_init(&out->opt);
  VS_TRY(check_fields(j, top, "", e));
  v = field(j, "name");
  if (!v) return vs_fail(e, VALORI_EINVAL, "name: required");
  if (!cJSON_IsString(v) || !vs_name_valid(v->valuestring))
    return vs_fail(e, VALORI_EINVAL, "name: " VS_NAME_RULE);
  strcpy(out->name, v->valuestring);
  v = field(j, "dim");
  if (!v) return vs_fail(e, VALORI_EINVAL, "dim: required");
  /* A dimension outside 1..--max-dim is EDIM, the core's code for a dimension outside 1..VALORI_MAX_DIM
  ** (valori_open), so a client sees one code whichever limit refused it (docs/HTTP.md section 13). */
  VS_TRY(get_u32(v, "dim", 0, UINT32_MAX, VALORI_EINVAL, &out->opt.dim, e));
  if (out->opt.dim < 1 || out->opt.dim > lim->max_dim)
    return vs_fail(e, VALORI_EDIM, "dim: %u is outside 1..%u (--max-dim)", out->opt.dim, lim->max_dim);
  if ((v = field(j, "metric")) != NULL) {
    if (cJSON_IsString(v) && strcmp(v->valuestring, "l2") == 0) out->opt.metric = VALORI_METRIC_L2;
    else if (cJSON_IsString(v) && strcmp(v->valuestring, "ip") == 0) out->opt.metric = VALORI_METRIC_IP;
    else return vs_fail(e, VALORI_EINVAL, "metric: expected \"l2\" or \"ip\"");
  }
  if ((v = field(j, "index")) != NULL) {
    if (cJSON_IsString(v) && strcmp(v->valuestring, "hnsw") == 0) out->opt.index = VALORI_INDEX_HNSW;
    else if (cJSON_IsString(v) && strcmp(v->valuestring, "none") == 0) out->opt.index = VALORI_INDEX_NONE;
    else return vs_fail(e, VALORI_EINVAL, "index: expected \"hnsw\" or \"none\"");
  }
  if ((v = field(j, "hnsw")) != NULL && !cJSON_IsNull(v)) {
    const cJSON *w;
    if (out->opt.index == VALORI_INDEX_NONE) return vs_fail(e, VALORI_EINVAL, "hnsw: not allowed with index \"none\"");
    VS_TRY(check_fields(v, hn, "hnsw.", e));
    if ((w = field(v, "m")) != NULL) VS_TRY(get_u32(w, "hnsw.m", 2, VALORI_HNSW_MAX_M, VALORI_EINVAL, &out->opt.hnsw_m, e));
    if ((w = field(v, "ef_construction")) != NULL)
      VS_TRY(get_u32(w, "hnsw.ef_construction", 1, VALORI_MAX_EF, VALORI_EINVAL, &out->opt.hnsw_ef_construction, e));
    if ((w = field(v, "ef_search")) != NULL)
      VS_TRY(get_u32(w, "hnsw.ef_search", 1, VALORI_MAX_EF, VALORI_EINVAL, &out->opt.hnsw_ef_search, e));
  }
  if ((v = field(j, "traversal")) != NULL && !cJSON_IsNull(v)) VS_TRY(get_traversal(v, out->opt.index, &out->opt.traversal, e));
  return VALORI_OK;
}

/* ---- records */

void vs_records_free(vs_records *r) {
  size_t i;
  if (r->metas)
    for (i = 0; i < r->n; i++) free(r->metas[i]);
  free(r->metas);
  free(r->meta_lens);
  free(r->vecs);
  free(r->tags);
  memset(r, 0, sizeof *r);
}

static int records_alloc(vs_records *r, size_t n, uint32_t dim, int with_meta) {
  memset(r, 0, sizeof *r);
  r->n = n;
  r->dim = dim;
  r->vecs = (float *)malloc(n * dim * sizeof(float));
  r->tags = (uint64_t *)calloc(n, sizeof(uint64_t));
  if (with_meta) {
    r->metas = (uint8_t **)calloc(n, sizeof(uint8_t *));
    r->meta_lens = (size_t *)calloc(n, sizeof(size_t));
  }
  if (!r->vecs || !r->tags || (with_meta && (!r->metas || !r->meta_lens))) {
    vs_records_free(r);
    return VALORI_ENOMEM;
  }
  return VALORI_OK;
}

/* One record object {"vector", "tag", "meta"} into slot i. */
static int decode_record(const cJSON *o, const char *where, vs_records *r, size_t i, vs_err *e) {
  static const char *const f[] = {"vector", "tag", "meta", NULL};
  const cJSON *v;
  char name[48];
  VS_TRY(check_fields(o, f, where, e));
  v = field(o, "vector");
  if (!v) return vs_fail(e, VALORI_EINVAL, "%svector: required", where);
  VS_TRY(get_vector(v, where, r->dim, r->vecs + i * r->dim, e));
  if ((v = field(o, "tag")) != NULL) {
    snprintf(name, sizeof name, "%stag", where);
    VS_TRY(get_u64(v, name, &r->tags[i], e));
  }
  if ((v = field(o, "meta")) != NULL) {
    snprintf(name, sizeof name, "%smeta", where);
    VS_TRY(get_bytes(v, name, &r->metas[i], &r->meta_lens[i], e));
    if (r->meta_lens[i]) r->has_meta = 1;
  }
  return VALORI_OK;
}

int vs_decode_insert(const cJSON *j, uint32_t dim, vs_records *out, vs_err *e) {
  int rc;
  if (records_alloc(out, 1, dim, 1) != VALORI_OK) return vs_fail(e, VALORI_ENOMEM, "out of memory");
  rc = decode_record(j, "", out, 0, e);
  if (rc != VALORI_OK) vs_records_free(out);
  return rc;
}

int vs_decode_batch(const cJSON *j, uint32_t dim, uint32_t max_batch, vs_records *out, vs_err *e) {
  static const char *const top[] = {"records", NULL};
  const cJSON *arr, *it;
  size_t n, i = 0;
  int rc = VALORI_OK;
  memset(out, 0, sizeof *out);
  VS_TRY(check_fields(j, top, "", e));
  arr = field(j, "records");
  if (!arr) return vs_fail(e, VALORI_EINVAL, "records: required");
  if (!cJSON_IsArray(arr)) return vs_fail(e, VALORI_EINVAL, "records: expected an array");
  n = (size_t)cJSON_GetArraySize(arr);
  if (n == 0) return vs_fail(e, VALORI_EEMPTY, "records: the batch is empty");
  if (n > max_batch) return vs_fail(e, VALORI_ETOOBIG, "records: %zu records is above the batch limit %u", n, max_batch);
  if (records_alloc(out, n, dim, 1) != VALORI_OK) return vs_fail(e, VALORI_ENOMEM, "out of memory");
  for (it = arr->child; it && rc == VALORI_OK; it = it->next, i++) {
    char where[40];
    snprintf(where, sizeof where, "records[%zu].", i);
    rc = decode_record(it, where, out, i, e);
  }
  if (rc != VALORI_OK) vs_records_free(out);
  return rc;
}

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int vs_decode_binary(const uint8_t *p, size_t len, uint32_t dim, uint32_t max_batch, vs_records *out, vs_err *e) {
  uint32_t n, bdim, flags;
  uint64_t need;
  size_t i, total;
  memset(out, 0, sizeof *out);
  if (len < 24) return vs_fail(e, VS_EBINARY, "body is %zu bytes; the header alone is 24", len);
  if (memcmp(p, "VLVB", 4) != 0) return vs_fail(e, VS_EBINARY, "bad magic: expected VLVB");
  if (rd32(p + 4) != 1) return vs_fail(e, VS_EBINARY, "unsupported version %u (expected 1)", rd32(p + 4));
  n = rd32(p + 8);
  bdim = rd32(p + 12);
  flags = rd32(p + 16);
  if (flags & ~1u) return vs_fail(e, VS_EBINARY, "unknown flags 0x%x", flags);
  if (rd32(p + 20) != 0) return vs_fail(e, VS_EBINARY, "reserved field is not 0");
  if (n == 0) return vs_fail(e, VALORI_EEMPTY, "the batch is empty");
  if (n > max_batch) return vs_fail(e, VALORI_ETOOBIG, "%u records is above the batch limit %u", n, max_batch);
  if (bdim != dim)
    return vs_fail(e, VALORI_EDIM, "vector has the wrong dimension: the collection has dim %u, the body has dim %u", dim, bdim);
  need = 24 + (uint64_t)n * bdim * 4 + ((flags & 1) ? (uint64_t)n * 8 : 0);
  if ((uint64_t)len != need)
    return vs_fail(e, VS_EBINARY, "body is %zu bytes; %u records of dim %u %s tags need %llu", len, n, bdim,
                   (flags & 1) ? "with" : "without", (unsigned long long)need);
  if (records_alloc(out, n, dim, 0) != VALORI_OK) return vs_fail(e, VALORI_ENOMEM, "out of memory");
  total = (size_t)n * dim;
  for (i = 0; i < total; i++) {
    uint32_t bits = rd32(p + 24 + 4 * i);
    float f;
    int32_t q;
    int rc;
    memcpy(&f, &bits, 4);
    rc = valori_f32_to_q16(f, &q);
    if (rc != VALORI_OK) {
      vs_records_free(out);
      return vs_fail(e, rc, "record %zu, component %zu: %s", i / dim, i % dim, valori_strerror(rc));
    }
    out->vecs[i] = f;
  }
  if (flags & 1) {
    const uint8_t *t = p + 24 + 4 * total;
    for (i = 0; i < n; i++) out->tags[i] = (uint64_t)rd32(t + 8 * i) | (uint64_t)rd32(t + 8 * i + 4) << 32;
  }
  return VALORI_OK;
}

/* ---- update */

void vs_update_free(vs_update_req *u) {
  free(u->vec);
  free(u->meta);
  memset(u, 0, sizeof *u);
}

int vs_decode_update(const cJSON *j, uint32_t dim, vs_update_req *out, vs_err *e) {
  static const char *const f[] = {"vector", "tag", "meta", NULL};
  const cJSON *v;
  int rc = VALORI_OK;
  memset(out, 0, sizeof *out);
  VS_TRY(check_fields(j, f, "", e));
  if ((v = field(j, "vector")) != NULL) {
    out->fields |= VS_UPD_VECTOR;
    out->vec = (float *)malloc((size_t)dim * sizeof(float) + 1);
    if (!out->vec) return vs_fail(e, VALORI_ENOMEM, "out of memory");
    rc = get_vector(v, "", dim, out->vec, e);
  }
  if (rc == VALORI_OK && (v = field(j, "tag")) != NULL) {
    out->fields |= VS_UPD_TAG;
    rc = get_u64(v, "tag", &out->tag, e);
  }
  if (rc == VALORI_OK && (v = field(j, "meta")) != NULL) {
    out->fields |= VS_UPD_META;
    rc = get_bytes(v, "meta", &out->meta, &out->meta_len, e);
  }
  if (rc == VALORI_OK && !out->fields) rc = vs_fail(e, VALORI_EINVAL, "an update needs at least one of vector, tag, meta");
  if (rc != VALORI_OK) vs_update_free(out);
  return rc;
}

/* ---- search */

void vs_search_free(vs_search_req *s) {
  free(s->vec);
  s->vec = NULL;
}

static int decode_expand_opts(const cJSON *v, const char *where, uint32_t *hops, uint32_t *dir, uint32_t *max_nodes,
                              vs_err *e) {
  const cJSON *w;
  char name[32];
  *hops = 1;
  *dir = VALORI_DIR_OUT;
  *max_nodes = 1000;
  if ((w = field(v, "hops")) != NULL) {
    snprintf(name, sizeof name, "%shops", where);
    VS_TRY(get_u32(w, name, 0, VALORI_MAX_HOPS, VALORI_EINVAL, hops, e));
  }
  if ((w = field(v, "dir")) != NULL) {
    snprintf(name, sizeof name, "%sdir", where);
    VS_TRY(get_dir(w, name, dir, e));
  }
  if ((w = field(v, "max_nodes")) != NULL) {
    snprintf(name, sizeof name, "%smax_nodes", where);
    VS_TRY(get_u32(w, name, 1, VS_MAX_EXPAND_NODES, VALORI_EINVAL, max_nodes, e));
  }
  return VALORI_OK;
}

int vs_decode_search(const cJSON *j, uint32_t dim, const vs_limits *lim, vs_search_req *out, vs_err *e) {
  static const char *const f[] = {"vector", "k", "ef", "mode", "tag", "tags", "with_meta", "expand", NULL};
  static const char *const xf[] = {"hops", "dir", "max_nodes", NULL};
  const cJSON *v;
  int rc = VALORI_OK;
  memset(out, 0, sizeof *out);
  out->p.k = 10;
  out->p.mode = VALORI_SEARCH_AUTO;
  VS_TRY(check_fields(j, f, "", e));
  v = field(j, "vector");
  if (!v) return vs_fail(e, VALORI_EINVAL, "vector: required");
  out->vec = (float *)malloc((size_t)dim * sizeof(float) + 1);
  if (!out->vec) return vs_fail(e, VALORI_ENOMEM, "out of memory");
  rc = get_vector(v, "", dim, out->vec, e);
  if (rc == VALORI_OK && (v = field(j, "k")) != NULL) {
    rc = get_u32(v, "k", 0, UINT32_MAX, VALORI_EK, &out->p.k, e);
  }
  if (rc == VALORI_OK && (out->p.k < 1 || out->p.k > lim->max_k))
    rc = vs_fail(e, VALORI_EK, "k: %u is outside 1..%u", out->p.k, lim->max_k);
  if (rc == VALORI_OK && (v = field(j, "ef")) != NULL) {
    rc = get_u32(v, "ef", 0, UINT32_MAX, VALORI_EK, &out->p.ef, e);
    if (rc == VALORI_OK && out->p.ef > lim->max_ef) rc = vs_fail(e, VALORI_EK, "ef: %u is outside 0..%u", out->p.ef, lim->max_ef);
  }
  if (rc == VALORI_OK && (v = field(j, "mode")) != NULL) {
    if (cJSON_IsString(v) && strcmp(v->valuestring, "auto") == 0) out->p.mode = VALORI_SEARCH_AUTO;
    else if (cJSON_IsString(v) && strcmp(v->valuestring, "exact") == 0) out->p.mode = VALORI_SEARCH_EXACT;
    else if (cJSON_IsString(v) && strcmp(v->valuestring, "hnsw") == 0) out->p.mode = VALORI_SEARCH_HNSW;
    else rc = vs_fail(e, VALORI_EINVAL, "mode: expected \"auto\", \"exact\" or \"hnsw\"");
  }
  if (rc == VALORI_OK && (v = field(j, "tag")) != NULL) {
    rc = get_u64(v, "tag", &out->tags[0], e);
    if (rc == VALORI_OK) out->p.ntags = 1;
  }
  if (rc == VALORI_OK && (v = field(j, "tags")) != NULL) {
    const cJSON *it;
    size_t n, i = 0;
    if (!cJSON_IsArray(v)) {
      rc = vs_fail(e, VALORI_EINVAL, "tags: expected an array of u64");
    } else if ((n = (size_t)cJSON_GetArraySize(v)) == 0) {
      rc = vs_fail(e, VALORI_EINVAL, "tags: an empty tag set matches nothing; leave it out for no filter");
    } else if (n + out->p.ntags > VALORI_MAX_TAGS) {
      rc = vs_fail(e, VALORI_ETOOBIG, "tags: more than %d tags", VALORI_MAX_TAGS);
    } else {
      for (it = v->child; it && rc == VALORI_OK; it = it->next, i++) {
        char name[24];
        snprintf(name, sizeof name, "tags[%zu]", i);
        rc = get_u64(it, name, &out->tags[out->p.ntags + i], e);
      }
      out->p.ntags += (uint32_t)n;
    }
  }
  if (rc == VALORI_OK && (v = field(j, "with_meta")) != NULL) {
    if (!cJSON_IsBool(v)) rc = vs_fail(e, VALORI_EINVAL, "with_meta: expected true or false");
    else out->with_meta = cJSON_IsTrue(v);
  }
  if (rc == VALORI_OK && (v = field(j, "expand")) != NULL && !cJSON_IsNull(v)) {
    rc = check_fields(v, xf, "expand.", e);
    if (rc == VALORI_OK) rc = decode_expand_opts(v, "expand.", &out->hops, &out->dir, &out->max_nodes, e);
    out->expand = 1;
  }
  out->p.tags = out->p.ntags ? out->tags : NULL;
  if (rc != VALORI_OK) vs_search_free(out);
  return rc;
}

/* ---- graph */

void vs_node_free(vs_node_req *n) {
  free(n->label);
  n->label = NULL;
}

int vs_decode_node(const cJSON *j, vs_node_req *out, vs_err *e) {
  static const char *const f[] = {"kind", "record", "label", NULL};
  const cJSON *v;
  int rc = VALORI_OK;
  memset(out, 0, sizeof *out);
  VS_TRY(check_fields(j, f, "", e));
  if ((v = field(j, "kind")) != NULL) VS_TRY(get_u32(v, "kind", 0, UINT32_MAX, VALORI_EINVAL, &out->kind, e));
  if ((v = field(j, "record")) != NULL && !cJSON_IsNull(v)) VS_TRY(get_u64(v, "record", &out->record, e));
  if ((v = field(j, "label")) != NULL) rc = get_bytes(v, "label", &out->label, &out->label_len, e);
  return rc;
}

int vs_decode_edge(const cJSON *j, vs_edge_req *out, vs_err *e) {
  static const char *const f[] = {"from", "to", "kind", "weight", NULL};
  const cJSON *v;
  memset(out, 0, sizeof *out);
  VS_TRY(check_fields(j, f, "", e));
  if (!(v = field(j, "from"))) return vs_fail(e, VALORI_EINVAL, "from: required");
  VS_TRY(get_u64(v, "from", &out->from, e));
  if (!(v = field(j, "to"))) return vs_fail(e, VALORI_EINVAL, "to: required");
  VS_TRY(get_u64(v, "to", &out->to, e));
  if ((v = field(j, "kind")) != NULL) VS_TRY(get_u32(v, "kind", 0, UINT32_MAX, VALORI_EINVAL, &out->kind, e));
  if ((v = field(j, "weight")) != NULL && !cJSON_IsNull(v)) {
    double d;
    int32_t q;
    if (!cJSON_IsNumber(v)) return vs_fail(e, VALORI_EINVAL, "weight: expected a number or null");
    d = v->valuedouble;
    if (!(d >= -256.0 && d <= 256.0)) return vs_fail(e, VALORI_ERANGE, "weight: %g is outside [-256, 256]", d);
    out->weight = (float)d;
    if (valori_f32_to_q16(out->weight, &q) != VALORI_OK)
      return vs_fail(e, VALORI_ERANGE, "weight: %g is outside [-256, 256]", d);
    out->has_weight = 1;
  }
  return VALORI_OK;
}

void vs_expand_free(vs_expand_req *x) {
  free(x->seeds);
  x->seeds = NULL;
}

int vs_decode_expand(const cJSON *j, vs_expand_req *out, vs_err *e) {
  static const char *const f[] = {"seeds", "hops", "dir", "max_nodes", NULL};
  const cJSON *v, *it;
  size_t n, i = 0;
  int rc = VALORI_OK;
  memset(out, 0, sizeof *out);
  VS_TRY(check_fields(j, f, "", e));
  VS_TRY(decode_expand_opts(j, "", &out->hops, &out->dir, &out->max_nodes, e));
  if (!(v = field(j, "seeds"))) return vs_fail(e, VALORI_EINVAL, "seeds: required");
  if (!cJSON_IsArray(v)) return vs_fail(e, VALORI_EINVAL, "seeds: expected an array of u64");
  n = (size_t)cJSON_GetArraySize(v);
  /* no seeds is no expansion: an empty answer, as valori_expand and search-then-expand give */
  if (n > out->max_nodes) return vs_fail(e, VALORI_EINVAL, "seeds: %zu seeds is more than max_nodes %u", n, out->max_nodes);
  out->seeds = (uint64_t *)malloc((n ? n : 1) * sizeof(uint64_t));
  if (!out->seeds) return vs_fail(e, VALORI_ENOMEM, "out of memory");
  for (it = v->child; it && rc == VALORI_OK; it = it->next, i++) {
    char name[24];
    snprintf(name, sizeof name, "seeds[%zu]", i);
    rc = get_u64(it, name, &out->seeds[i], e);
  }
  out->nseeds = n;
  if (rc != VALORI_OK) vs_expand_free(out);
  return rc;
}
