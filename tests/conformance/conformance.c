/*
** conformance.c: runs the calls of tests/conformance/bad_calls.json through the public C API
** (valori.h only, in-memory databases), so that js/test/conformance.node.test.js can require the JS
** package to give the same answer for the same call: the same result code for every bad call
** (issue 11 defect 6), and the same results and state root for a script of good calls even when
** the JS caller mutates every buffer right after each call (defect 5).
**
** usage: conformance FILE bad     after the setup calls, runs each bad call on the same database and
**                                 prints "<i> <CODE>"; prints "root-changed <i>" if a refused call
**                                 changed the state root, "unexpected <i> <CODE> <EXPECT>" if a code
**                                 differs from the file's "expect"; then "root <hex>"
**        conformance FILE script  on a fresh database runs the script, printing "<i> <CODE> <result>"
**                                 per call (the result encodings are in describe_*), then "root <hex>"
** Exit codes: 0 done (and, for bad, every code as expected), 1 a code differs from "expect" or a
** refused call changed the root, 2 usage or a malformed file, 3 a setup call failed.
**
** The JSON value conventions (shared with the JS test): a vector component or weight is a number
** (rounded to binary32) or "NaN" / "Infinity" / "-Infinity"; a u64 is a number or a decimal string;
** "meta" is a UTF-8 string, {"zeros": n} or null (clear, in update); "rows" is a list of
** {vector, tag, meta} or {"repeat": n, "row": {...}}; "tags" a list or {"count": n} (1..n); enum
** names are the JS API's, an unknown name becomes the value 99.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "valori.h"

#define CF_UNKNOWN_ENUM 99u

typedef struct cf_bytes {
  unsigned char *p;
  size_t n;
  int present; /* the key was given (meta: null counts as given, n = 0) */
} cf_bytes;

static int cf_dim;

static _Noreturn void die(const char *what) {
  fprintf(stderr, "conformance: %s\n", what);
  exit(2);
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  long n;
  char *buf;
  if (!f) die("cannot open the JSON file");
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) die("cannot size the JSON file");
  buf = (char *)malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) die("cannot read the JSON file");
  buf[n] = 0;
  fclose(f);
  return buf;
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static uint64_t as_u64(const cJSON *v) {
  if (cJSON_IsString(v)) return strtoull(v->valuestring, NULL, 10);
  if (cJSON_IsNumber(v)) return (uint64_t)v->valuedouble;
  die("a u64 must be a number or a decimal string");
  return 0;
}

static uint64_t u64_or(const cJSON *o, const char *k, uint64_t dflt) {
  const cJSON *v = get(o, k);
  return v ? as_u64(v) : dflt;
}

static uint32_t u32_or(const cJSON *o, const char *k, uint32_t dflt) {
  const cJSON *v = get(o, k);
  if (!v) return dflt;
  if (!cJSON_IsNumber(v)) die("a u32 must be a number");
  return (uint32_t)v->valuedouble;
}

static float as_f32(const cJSON *v) {
  if (cJSON_IsNumber(v)) return (float)v->valuedouble;
  if (cJSON_IsString(v)) {
    if (strcmp(v->valuestring, "NaN") == 0) return NAN;
    if (strcmp(v->valuestring, "Infinity") == 0) return INFINITY;
    if (strcmp(v->valuestring, "-Infinity") == 0) return -INFINITY;
  }
  die("a float must be a number, \"NaN\", \"Infinity\" or \"-Infinity\"");
  return 0;
}

/* dim floats of o.vector into out (missing: zeros). */
static void vector_of(const cJSON *o, float *out) {
  const cJSON *v = get(o, "vector"), *x;
  int i = 0;
  memset(out, 0, sizeof(float) * (size_t)cf_dim);
  if (!v) return;
  if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != cf_dim) die("a vector must be an array of dim values");
  cJSON_ArrayForEach(x, v) out[i++] = as_f32(x);
}

static cf_bytes bytes_of(const cJSON *o, const char *k) {
  cf_bytes b;
  const cJSON *v = get(o, k);
  memset(&b, 0, sizeof b);
  if (!v) return b;
  b.present = 1;
  if (cJSON_IsNull(v)) return b;
  if (cJSON_IsString(v)) {
    b.n = strlen(v->valuestring);
    b.p = (unsigned char *)malloc(b.n + 1);
    if (!b.p) die("out of memory");
    memcpy(b.p, v->valuestring, b.n);
    return b;
  }
  if (cJSON_IsObject(v) && get(v, "zeros")) {
    b.n = (size_t)as_u64(get(v, "zeros"));
    b.p = (unsigned char *)calloc(b.n + 1, 1);
    if (!b.p) die("out of memory");
    return b;
  }
  die("meta must be a string, {\"zeros\": n} or null");
  return b;
}

/* A u64 list (tags, seeds): *present 0 when the key is absent (NULL for C). */
static uint64_t *u64_list(const cJSON *o, const char *k, size_t *n, int *present) {
  const cJSON *v = get(o, k), *x;
  uint64_t *out;
  size_t i = 0;
  *n = 0;
  *present = v != NULL;
  if (!v) return NULL;
  if (cJSON_IsObject(v) && get(v, "count")) {
    *n = (size_t)as_u64(get(v, "count"));
    out = (uint64_t *)calloc(*n + 1, 8);
    if (!out) die("out of memory");
    for (i = 0; i < *n; i++) out[i] = i + 1;
    return out;
  }
  if (!cJSON_IsArray(v)) die("a list must be an array or {\"count\": n}");
  *n = (size_t)cJSON_GetArraySize(v);
  out = (uint64_t *)calloc(*n + 1, 8); /* never NULL, also for an empty list: the set is given */
  if (!out) die("out of memory");
  cJSON_ArrayForEach(x, v) out[i++] = as_u64(x);
  return out;
}

static uint32_t enum_of(const cJSON *o, const char *k, uint32_t dflt, const char *const *names, const uint32_t *values,
                        size_t count) {
  const cJSON *v = get(o, k);
  size_t i;
  if (!v) return dflt;
  if (!cJSON_IsString(v)) die("an enum must be a name");
  for (i = 0; i < count; i++)
    if (strcmp(v->valuestring, names[i]) == 0) return values[i];
  return CF_UNKNOWN_ENUM;
}

static uint32_t mode_of(const cJSON *o) {
  static const char *const n[] = {"auto", "exact", "hnsw"};
  static const uint32_t v[] = {VALORI_SEARCH_AUTO, VALORI_SEARCH_EXACT, VALORI_SEARCH_HNSW};
  return enum_of(o, "mode", VALORI_SEARCH_AUTO, n, v, 3);
}

static uint32_t dir_of(const cJSON *o) {
  static const char *const n[] = {"out", "in", "both"};
  static const uint32_t v[] = {VALORI_DIR_OUT, VALORI_DIR_IN, VALORI_DIR_BOTH};
  return enum_of(o, "dir", VALORI_DIR_OUT, n, v, 3);
}

/* ---- results as text, in the encoding the JS test builds from its own results */

static void put_hits(char *out, size_t cap, const valori_hit *h, size_t n) {
  size_t i, len = strlen(out);
  len += (size_t)snprintf(out + len, cap - len, "h=");
  for (i = 0; i < n && len < cap; i++)
    len += (size_t)snprintf(out + len, cap - len, "%s%llu:%lld", i ? ";" : "", (unsigned long long)h[i].id,
                            (long long)h[i].distance);
}

static void put_reach(char *out, size_t cap, const valori_reach *r, size_t n) {
  size_t i, len = strlen(out);
  len += (size_t)snprintf(out + len, cap - len, "%sn=", len ? " " : "");
  for (i = 0; i < n && len < cap; i++)
    len += (size_t)snprintf(out + len, cap - len, "%s%llu:%llu:%u", i ? ";" : "", (unsigned long long)r[i].node_id,
                            (unsigned long long)r[i].via_edge, r[i].depth);
}

/* Runs one call; *desc receives its result text (empty for writes without a result). */
static int run_call(valori_db **dbp, const cJSON *c, char *desc, size_t cap) {
  valori_db *db = *dbp;
  const cJSON *opv = get(c, "op");
  const char *op;
  float *vec = (float *)calloc((size_t)cf_dim + 1, sizeof(float));
  int rc = VALORI_EINVAL;
  uint64_t id = 0;
  desc[0] = 0;
  if (!vec) die("out of memory");
  if (!cJSON_IsString(opv)) die("a call needs an op");
  op = opv->valuestring;
  if (strcmp(op, "insert") == 0) {
    cf_bytes m = bytes_of(c, "meta");
    vector_of(c, vec);
    rc = valori_insert(db, vec, u64_or(c, "tag", 0), m.p, m.n, &id);
    if (!rc) snprintf(desc, cap, "id=%llu", (unsigned long long)id);
    free(m.p);
  } else if (strcmp(op, "batch") == 0 || strcmp(op, "batch_flat") == 0) {
    const cJSON *rows = get(c, "rows"), *row, *one = NULL;
    size_t n, i = 0;
    float *vecs;
    uint64_t *tags;
    const void **metas;
    size_t *lens;
    cf_bytes *mb;
    int any_tag = 0, any_meta = 0;
    if (cJSON_IsObject(rows)) {
      n = (size_t)as_u64(get(rows, "repeat"));
      one = get(rows, "row");
    } else if (cJSON_IsArray(rows)) {
      n = (size_t)cJSON_GetArraySize(rows);
    } else {
      die("rows must be an array or {\"repeat\": n, \"row\": {...}}");
      return 0;
    }
    vecs = (float *)calloc(n * (size_t)cf_dim + 1, sizeof(float));
    tags = (uint64_t *)calloc(n + 1, 8);
    metas = (const void **)calloc(n + 1, sizeof *metas);
    lens = (size_t *)calloc(n + 1, sizeof *lens);
    mb = (cf_bytes *)calloc(n + 1, sizeof *mb);
    if (!vecs || !tags || !metas || !lens || !mb) die("out of memory");
    row = one ? one : (rows->child);
    for (i = 0; i < n; i++) {
      vector_of(row, vecs + i * (size_t)cf_dim);
      if (get(row, "tag")) any_tag = 1;
      tags[i] = u64_or(row, "tag", 0);
      mb[i] = bytes_of(row, "meta");
      if (mb[i].present) any_meta = 1;
      metas[i] = mb[i].p;
      lens[i] = mb[i].n;
      if (!one) row = row->next;
    }
    rc = valori_insert_batch(db, n, vecs, any_tag ? tags : NULL, any_meta ? metas : NULL, any_meta ? lens : NULL, &id);
    if (!rc) snprintf(desc, cap, "id=%llu", (unsigned long long)id);
    for (i = 0; i < n; i++) free(mb[i].p);
    free(vecs);
    free(tags);
    free(metas);
    free(lens);
    free(mb);
  } else if (strcmp(op, "update") == 0) {
    valori_update_fields u;
    cf_bytes m = bytes_of(c, "meta");
    memset(&u, 0, sizeof u);
    if (get(c, "vector")) {
      u.fields |= VALORI_UPDATE_VECTOR;
      vector_of(c, vec);
      u.vec = vec;
    }
    if (get(c, "tag")) {
      u.fields |= VALORI_UPDATE_TAG;
      u.tag = u64_or(c, "tag", 0);
    }
    if (m.present) {
      u.fields |= VALORI_UPDATE_META;
      u.meta = m.p;
      u.meta_len = m.n;
    }
    rc = valori_update_record(db, u64_or(c, "id", 0), &u);
    free(m.p);
  } else if (strcmp(op, "set_meta") == 0) {
    cf_bytes m = bytes_of(c, "meta");
    rc = valori_set_meta(db, u64_or(c, "id", 0), m.p, m.n);
    free(m.p);
  } else if (strcmp(op, "delete") == 0) {
    rc = valori_delete(db, u64_or(c, "id", 0));
  } else if (strcmp(op, "search") == 0 || strcmp(op, "search_expand") == 0) {
    valori_search_params p;
    int present;
    size_t nt, nh = 0, nn = 0;
    uint64_t *tags = u64_list(c, "tags", &nt, &present);
    uint32_t k = u32_or(c, "k", 10), maxn = u32_or(c, "max_nodes", 1000);
    valori_hit *hits = (valori_hit *)calloc(k ? (k > VALORI_MAX_K ? VALORI_MAX_K : k) : 1, sizeof *hits);
    valori_reach *reach = (valori_reach *)calloc(maxn > (1u << 20) || maxn == 0 ? 1 : maxn, sizeof *reach);
    if (!hits || !reach) die("out of memory");
    vector_of(c, vec);
    p.k = k;
    p.ef = u32_or(c, "ef", 0);
    p.mode = mode_of(c);
    p.ntags = (uint32_t)nt;
    p.tags = present ? tags : NULL;
    if (op[6] == 0) {
      rc = valori_search(db, NULL, vec, &p, hits, &nh);
      if (!rc) put_hits(desc, cap, hits, nh);
    } else {
      rc = valori_search_expand(db, NULL, vec, &p, u32_or(c, "hops", 1), dir_of(c), maxn, hits, &nh, reach,
                                maxn > (1u << 20) || maxn == 0 ? 0 : maxn, &nn);
      if (!rc) {
        put_hits(desc, cap, hits, nh);
        put_reach(desc, cap, reach, nn);
      }
    }
    free(tags);
    free(hits);
    free(reach);
  } else if (strcmp(op, "expand") == 0) {
    int present;
    size_t ns, nn = 0;
    uint64_t *seeds = u64_list(c, "seeds", &ns, &present);
    uint32_t maxn = u32_or(c, "max_nodes", 1000);
    valori_reach *reach = (valori_reach *)calloc(maxn > (1u << 20) || maxn == 0 ? 1 : maxn, sizeof *reach);
    if (!reach) die("out of memory");
    rc = valori_expand(db, seeds, ns, u32_or(c, "hops", 1), dir_of(c), maxn, reach,
                       maxn > (1u << 20) || maxn == 0 ? 0 : maxn, &nn);
    if (!rc) put_reach(desc, cap, reach, nn);
    free(seeds);
    free(reach);
  } else if (strcmp(op, "neighbors") == 0) {
    valori_edge e[64];
    size_t n = 0, i, len;
    uint32_t kind = u32_or(c, "kind", 0);
    rc = valori_neighbors(db, u64_or(c, "node", 0), dir_of(c), get(c, "kind") ? &kind : NULL, e, 64, &n);
    if (!rc) {
      len = (size_t)snprintf(desc, cap, "e=");
      for (i = 0; i < n && i < 64; i++) {
        char w[16] = "-";
        if (e[i].has_weight) snprintf(w, sizeof w, "%d", e[i].weight_q16);
        len += (size_t)snprintf(desc + len, cap - len, "%s%llu:%llu:%llu:%u:%s", i ? ";" : "", (unsigned long long)e[i].id,
                                (unsigned long long)e[i].from, (unsigned long long)e[i].to, e[i].kind, w);
      }
    }
  } else if (strcmp(op, "node_create") == 0) {
    cf_bytes m = bytes_of(c, "meta");
    rc = valori_node_create(db, u32_or(c, "kind", 0), u64_or(c, "record", 0), m.p, m.n, &id);
    if (!rc) snprintf(desc, cap, "id=%llu", (unsigned long long)id);
    free(m.p);
  } else if (strcmp(op, "node_delete") == 0) {
    rc = valori_node_delete(db, u64_or(c, "id", 0));
  } else if (strcmp(op, "edge_create") == 0) {
    float w = 0;
    const cJSON *wv = get(c, "weight");
    if (wv) w = as_f32(wv);
    rc = valori_edge_create(db, u64_or(c, "from", 0), u64_or(c, "to", 0), u32_or(c, "kind", 0), wv ? &w : NULL, &id);
    if (!rc) snprintf(desc, cap, "id=%llu", (unsigned long long)id);
  } else if (strcmp(op, "edge_delete") == 0) {
    rc = valori_edge_delete(db, u64_or(c, "id", 0));
  } else if (strcmp(op, "get") == 0) {
    int32_t *q = (int32_t *)calloc((size_t)cf_dim + 1, 4);
    unsigned char meta[256];
    uint64_t tag = 0;
    size_t ml = 0, i, len;
    if (!q) die("out of memory");
    rc = valori_get(db, u64_or(c, "id", 0), NULL, &tag, meta, sizeof meta, &ml);
    if (!rc) rc = valori_get_q16(db, u64_or(c, "id", 0), q);
    if (!rc) {
      len = (size_t)snprintf(desc, cap, "r=%llu:%zu:", (unsigned long long)tag, ml);
      for (i = 0; i < (size_t)cf_dim; i++) len += (size_t)snprintf(desc + len, cap - len, "%s%d", i ? "," : "", q[i]);
    }
    free(q);
  } else if (strcmp(op, "open") == 0) {
    static const char *const mn[] = {"l2", "ip"};
    static const uint32_t mv[] = {VALORI_METRIC_L2, VALORI_METRIC_IP};
    static const char *const in[] = {"hnsw", "none"};
    static const uint32_t iv[] = {VALORI_INDEX_HNSW, VALORI_INDEX_NONE};
    valori_options o;
    valori_db *tmp = NULL;
    valori_options_init(&o);
    o.dim = u32_or(c, "dim", 0);
    o.metric = enum_of(c, "metric", VALORI_METRIC_L2, mn, mv, 2);
    o.index = enum_of(c, "index", VALORI_INDEX_HNSW, in, iv, 2);
    o.hnsw_m = u32_or(c, "m", 0);
    o.hnsw_ef_construction = u32_or(c, "efc", 0);
    o.hnsw_ef_search = u32_or(c, "efs", 0);
    rc = valori_open(":memory:", &o, &tmp);
    valori_close(tmp);
  } else if (strcmp(op, "apply") == 0) {
    const cJSON *ev = get(c, "event");
    size_t n, i;
    unsigned char *b;
    if (!cJSON_IsString(ev) || strlen(ev->valuestring) % 2) die("event must be a hex string");
    n = strlen(ev->valuestring) / 2;
    b = (unsigned char *)malloc(n + 1);
    if (!b) die("out of memory");
    for (i = 0; i < n; i++) {
      unsigned v;
      if (sscanf(ev->valuestring + 2 * i, "%2x", &v) != 1) die("event must be a hex string");
      b[i] = (unsigned char)v;
    }
    rc = valori_apply(db, b, n, &id);
    free(b);
  } else {
    die("unknown op");
  }
  free(vec);
  (void)dbp;
  return rc;
}

static void hex_root(const valori_db *db, char out[65]) {
  uint8_t r[32];
  int i;
  valori_state_root(db, r);
  for (i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", r[i]);
}

int main(int argc, char **argv) {
  cJSON *doc;
  const cJSON *calls, *c, *setup;
  valori_options o;
  valori_db *db = NULL;
  char *text, root[65], before[65];
  static char desc[1 << 16];
  int i = 0, bad, failed = 0;
  if (argc != 3 || (strcmp(argv[2], "bad") != 0 && strcmp(argv[2], "script") != 0)) {
    fprintf(stderr, "usage: conformance FILE bad|script\n");
    return 2;
  }
  bad = strcmp(argv[2], "bad") == 0;
  text = read_file(argv[1]);
  doc = cJSON_Parse(text);
  if (!doc) die("the file is not JSON");
  cf_dim = (int)u32_or(doc, "dim", 0);
  valori_options_init(&o);
  o.dim = (uint32_t)cf_dim;
  if (valori_open(":memory:", &o, &db) != VALORI_OK) die("cannot open an in-memory database");
  if (bad) {
    setup = get(doc, "setup");
    cJSON_ArrayForEach(c, setup) {
      int rc = run_call(&db, c, desc, sizeof desc);
      if (rc) {
        fprintf(stderr, "conformance: setup call %d: %s\n", i, valori_code_name(rc));
        return 3;
      }
      i++;
    }
  }
  calls = get(doc, bad ? "bad" : "script");
  if (!cJSON_IsArray(calls)) die("no calls");
  i = 0;
  cJSON_ArrayForEach(c, calls) {
    int rc;
    hex_root(db, before);
    rc = run_call(&db, c, desc, sizeof desc);
    if (bad) {
      const cJSON *want = get(c, "expect");
      printf("%d %s\n", i, valori_code_name(rc));
      hex_root(db, root);
      if (rc != VALORI_OK && strcmp(root, before) != 0) {
        printf("root-changed %d\n", i);
        failed = 1;
      }
      if (cJSON_IsString(want) && strcmp(want->valuestring, valori_code_name(rc)) != 0) {
        printf("unexpected %d %s %s\n", i, valori_code_name(rc), want->valuestring);
        failed = 1;
      }
    } else {
      printf("%d %s %s\n", i, valori_code_name(rc), desc);
    }
    i++;
  }
  hex_root(db, root);
  printf("root %s\n", root);
  valori_close(db);
  cJSON_Delete(doc);
  free(text);
  return failed;
}
