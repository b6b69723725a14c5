/*
** vds_jsonl.c: JSON lines (vds.h): one object per line, {"vector": [numbers], "tag": N, "meta": M},
** parsed by cJSON. Blank lines are skipped and are not rows. "tag" is an integer number up to
** 2^53-1 or a string of decimal digits up to 2^64-1 (the server's rule for 64-bit values); "meta"
** is null (none), a string (its UTF-8 bytes) or any other JSON value (stored as its compact JSON
** text); a string holding \u0000 is refused (cJSON's strings end at a NUL). Other fields are refused, so a misspelt "vectr" is an error rather than a silent loss.
** Numbers are read as doubles and rounded to binary32 (round half to even), as the server does.
*/
#define _POSIX_C_SOURCE 200809L
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "valori.h"
#include "vds_int.h"

typedef struct vds_jsonl {
  char *line; /* the current line (NUL-terminated) */
  size_t cap, len;
  uint64_t lineno;   /* 1-based line of r->line in the file */
  int pending;       /* the open parsed the first record's line: it is still to be returned */
  uint8_t *meta;     /* this read's metadata bytes */
  size_t meta_len, meta_cap;
} vds_jsonl;

/* Reads the next line into js->line; 1 at the end of the file. */
static int read_line(vds_reader *r, vds_err *e) {
  vds_jsonl *js = r->js;
  vds_src *s = &r->src;
  js->len = 0;
  for (;;) {
    const uint8_t *p, *nl;
    size_t avail, take;
    int f;
    if (!s->gz) {
      f = s->pos < s->mem_len ? 0 : 1;
      p = s->mem + s->pos;
      avail = (size_t)(s->mem_len - s->pos);
    } else {
      f = vds_src_fill(s);
      p = s->buf + s->bpos;
      avail = s->blen - s->bpos;
    }
    if (f < 0) return vds_src_error(s, e);
    if (f == 1) {
      if (js->len == 0) return 1;
      break; /* a last line without its newline */
    }
    nl = (const uint8_t *)memchr(p, '\n', avail);
    take = nl ? (size_t)(nl - p) + 1 : avail;
    if (js->len + take > VDS_MAX_LINE)
      return vds_fail(e, VALORI_ETOOBIG, s->name, "line %llu is longer than %u bytes", (unsigned long long)js->lineno + 1,
                      VDS_MAX_LINE);
    if (js->len + take + 1 > js->cap) {
      size_t nc = js->cap ? js->cap : 4096;
      char *nb;
      while (nc < js->len + take + 1) nc *= 2;
      if (!(nb = (char *)realloc(js->line, nc))) return vds_fail(e, VALORI_ENOMEM, s->name, "out of memory");
      js->line = nb;
      js->cap = nc;
    }
    memcpy(js->line + js->len, p, take);
    js->len += take;
    if (!s->gz) s->pos += take;
    else {
      s->bpos += take;
      s->pos += take;
    }
    if (nl) break;
  }
  js->lineno++;
  while (js->len && (js->line[js->len - 1] == '\n' || js->line[js->len - 1] == '\r')) js->len--;
  js->line[js->len] = 0;
  return VALORI_OK;
}

static int blank(const char *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') return 0;
  return 1;
}

/* Reads lines up to the next non-blank one; 1 at the end. */
static int next_record_line(vds_reader *r, vds_err *e) {
  for (;;) {
    int rc = read_line(r, e);
    if (rc) return rc;
    if (!blank(r->js->line, r->js->len)) return VALORI_OK;
  }
}

/* 1 when the line holds the escape \u0000 (in any case of hex digits), outside of an escaped
** backslash. */
static int has_nul_escape(const char *p, size_t n) {
  size_t i;
  for (i = 0; i + 5 < n; i++) {
    if (p[i] != '\\') continue;
    if (p[i + 1] == 'u' && p[i + 2] == '0' && p[i + 3] == '0' && p[i + 4] == '0' && p[i + 5] == '0') return 1;
    i++; /* skip the escaped character (\\ included) */
  }
  return 0;
}

static int parse_tag(const cJSON *t, uint64_t *out) {
  if (cJSON_IsNumber(t)) {
    double d = t->valuedouble;
    if (!(d >= 0 && d <= 9007199254740991.0) || d != (double)(uint64_t)d) return -1;
    *out = (uint64_t)d;
    return 0;
  }
  if (cJSON_IsString(t)) {
    const char *p = t->valuestring;
    uint64_t v = 0;
    if (!*p) return -1;
    for (; *p; p++) {
      if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) return -1;
      v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return 0;
  }
  return -1;
}

static int meta_append(vds_reader *r, const void *p, size_t n, vds_err *e) {
  vds_jsonl *js = r->js;
  if (js->meta_len + n > js->meta_cap) {
    size_t nc = js->meta_cap ? js->meta_cap : 65536;
    uint8_t *nb;
    while (nc < js->meta_len + n) nc *= 2;
    if (!(nb = (uint8_t *)realloc(js->meta, nc))) return vds_fail(e, VALORI_ENOMEM, r->src.name, "out of memory");
    js->meta = nb;
    js->meta_cap = nc;
  }
  if (n) memcpy(js->meta + js->meta_len, p, n);
  js->meta_len += n;
  return VALORI_OK;
}

/* Parses r->js->line as row `row`. With r->dim 0 (the first record) it sets the dimension. vec
** receives dim floats (may be NULL when only the dimension is wanted); x->meta receives an offset
** into js->meta (fixed up by the caller). */
static int parse_record(vds_reader *r, uint64_t row, float *vec, vds_extra *x, vds_err *e) {
  vds_jsonl *js = r->js;
  const char *end = NULL;
  cJSON *o = cJSON_ParseWithLengthOpts(js->line, js->len, &end, 0), *it, *v = NULL, *t = NULL, *m = NULL;
  unsigned long long ln = (unsigned long long)js->lineno;
  int n, j, rc = VALORI_OK;
  if (!o) return vds_fail(e, VALORI_ECORRUPT, r->src.name, "line %llu: malformed JSON", ln);
  if (has_nul_escape(js->line, js->len)) { /* cJSON's strings end at a NUL: the bytes after it would be lost */
    cJSON_Delete(o);
    return vds_fail(e, VALORI_EINVAL, r->src.name, "line %llu: a string holding \\u0000 (not supported)", ln);
  }
  if (end && !blank(end, js->len - (size_t)(end - js->line))) {
    cJSON_Delete(o);
    return vds_fail(e, VALORI_ECORRUPT, r->src.name, "line %llu: more than one JSON value on the line", ln);
  }
  if (!cJSON_IsObject(o)) {
    cJSON_Delete(o);
    return vds_fail(e, VALORI_EINVAL, r->src.name, "line %llu: expected an object {\"vector\": [...], ...}", ln);
  }
  for (it = o->child; it; it = it->next) {
    cJSON **slot = strcmp(it->string, "vector") == 0 ? &v : strcmp(it->string, "tag") == 0 ? &t : strcmp(it->string, "meta") == 0 ? &m : NULL;
    if (!slot || *slot) {
      rc = vds_fail(e, VALORI_EINVAL, r->src.name, "line %llu: %s field '%.40s' (fields: vector, tag, meta)", ln,
                    slot ? "repeated" : "unknown", it->string);
      goto out;
    }
    *slot = it;
  }
  if (!v || !cJSON_IsArray(v)) {
    rc = vds_fail(e, VALORI_EINVAL, r->src.name, "line %llu: \"vector\" %s", ln, v ? "is not an array of numbers" : "is missing");
    goto out;
  }
  n = cJSON_GetArraySize(v);
  if (n == 0 || n > VALORI_MAX_DIM) {
    rc = vds_fail(e, n ? VALORI_ETOOBIG : VALORI_EDIM, r->src.name, "line %llu: a vector of %d components (1..%d)", ln, n, VALORI_MAX_DIM);
    goto out;
  }
  if (r->dim == 0) r->dim = (uint32_t)n;
  if ((uint32_t)n != r->dim) {
    rc = vds_fail(e, VALORI_EDIM, r->src.name, "line %llu: a vector of %d components; the first record has %u", ln, n, r->dim);
    goto out;
  }
  for (it = v->child, j = 0; it; it = it->next, j++) {
    double d;
    float f;
    if (!cJSON_IsNumber(it)) {
      rc = vds_fail(e, VALORI_EINVAL, r->src.name, "line %llu: vector[%d] is not a number", ln, j);
      goto out;
    }
    d = it->valuedouble;
    if (d > 256.0 || d < -256.0) { /* also what overflows binary32, like 1e39 (the server's rule) */
      rc = vds_fail(e, VALORI_ERANGE, r->src.name, "line %llu: vector[%d]: %g is outside [-%d, %d]", ln, j, d, VALORI_MAX_ABS_INT,
                    VALORI_MAX_ABS_INT);
      goto out;
    }
    f = (float)d;
    if (vec) vec[j] = f;
  }
  if (x) {
    memset(x, 0, sizeof *x);
    if (t) {
      if (parse_tag(t, &x->tag) != 0) {
        rc = vds_fail(e, VALORI_EINVAL, r->src.name,
                      "line %llu: \"tag\" must be an integer 0..2^53-1 or a string of decimal digits up to 2^64-1", ln);
        goto out;
      }
      x->has_tag = 1;
    }
    if (m && !cJSON_IsNull(m)) {
      char *txt = NULL;
      const char *bytes;
      size_t len;
      if (cJSON_IsString(m)) bytes = m->valuestring;
      else if (!(bytes = txt = cJSON_PrintUnformatted(m))) {
        rc = vds_fail(e, VALORI_ENOMEM, r->src.name, "out of memory");
        goto out;
      }
      len = strlen(bytes);
      if (len > VALORI_MAX_META) {
        free(txt);
        rc = vds_fail(e, VALORI_ETOOBIG, r->src.name, "line %llu: \"meta\" is %zu bytes (at most %d)", ln, len, VALORI_MAX_META);
        goto out;
      }
      x->meta = (const uint8_t *)(uintptr_t)(js->meta_len + 1); /* an offset + 1 until the batch is read */
      x->meta_len = len;
      rc = meta_append(r, bytes, len, e);
      free(txt);
    }
  }
  (void)row;
out:
  cJSON_Delete(o);
  return rc;
}

int vds_jsonl_open(vds_reader *r, vds_err *e) {
  int rc;
  if (!(r->js = (vds_jsonl *)calloc(1, sizeof *r->js))) return vds_fail(e, VALORI_ENOMEM, r->src.name, "out of memory");
  rc = next_record_line(r, e);
  if (rc == 1) return VALORI_OK; /* no records: dim 0 */
  if (rc) return rc;
  if ((rc = parse_record(r, 0, NULL, NULL, e)) != VALORI_OK) return rc;
  r->js->pending = 1;
  return VALORI_OK;
}

int vds_jsonl_read(vds_reader *r, size_t max, float *vecs, vds_extra *extras, size_t *got, vds_err *e) {
  vds_jsonl *js = r->js;
  vds_extra tmp;
  size_t n = 0, i;
  js->meta_len = 0;
  while (n < max) {
    int rc;
    if (js->pending) js->pending = 0;
    else {
      rc = next_record_line(r, e);
      if (rc == 1) break;
      if (rc) {
        r->failed = 1;
        return rc;
      }
    }
    rc = parse_record(r, r->position + n, vecs + n * r->dim, extras ? &extras[n] : &tmp, e);
    if (rc) {
      r->failed = 1;
      return rc;
    }
    n++;
  }
  if (extras)
    for (i = 0; i < n; i++)
      if (extras[i].meta) extras[i].meta = js->meta + ((uintptr_t)extras[i].meta - 1);
  r->position += n;
  *got = n;
  return VALORI_OK;
}

int vds_jsonl_skip(vds_reader *r, uint64_t n, uint64_t *skipped, vds_err *e) {
  uint64_t k = 0;
  while (k < n) {
    int rc;
    if (r->js->pending) r->js->pending = 0;
    else if ((rc = next_record_line(r, e)) == 1) break;
    else if (rc) {
      r->failed = 1;
      return rc;
    }
    k++;
  }
  r->position += k;
  *skipped = k;
  return VALORI_OK;
}

void vds_jsonl_free(vds_reader *r) {
  if (!r->js) return;
  free(r->js->line);
  free(r->js->meta);
  free(r->js);
  r->js = NULL;
}
