/*
** cross_host.c: the C host of the Python SDK's cross-host test (tests/python/test_cross_host.py).
** It reads the operations file that test writes (JSON lines, format in cross_host_ops.py), applies
** each operation through libvalori.so's public API (valori.h) to an in-memory database, and prints
** one result line per operation ("ok", "ok ID", "ok ID,ID,..." for searches, or "err CODE"), then
** the final "root", "index", "height" and "records". The Python SDK (embedded and remote, i.e. the
** server) and the npm package print the same lines for the same file; the test compares them.
**
**   cross_host_c OPS_FILE
*/
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "valori.h"

static uint32_t g_dim;

static uint64_t u64_of(const cJSON *j) {
  if (cJSON_IsString(j)) return strtoull(j->valuestring, NULL, 10);
  if (cJSON_IsNumber(j)) return (uint64_t)j->valuedouble;
  return 0;
}

static float float_of(const cJSON *j) {
  if (cJSON_IsString(j)) {
    if (strcmp(j->valuestring, "NaN") == 0) return NAN;
    if (strcmp(j->valuestring, "Infinity") == 0) return INFINITY;
    if (strcmp(j->valuestring, "-Infinity") == 0) return -INFINITY;
  }
  return (float)j->valuedouble;
}

/* Fills out (capacity cap) from a JSON array; returns its length. */
static size_t floats_of(const cJSON *arr, float *out, size_t cap) {
  size_t n = 0;
  const cJSON *x;
  cJSON_ArrayForEach(x, arr) {
    if (n < cap) out[n] = float_of(x);
    n++;
  }
  return n;
}

/* base64 (RFC 4648, padded) into out; returns the length. */
static size_t unb64(const char *s, unsigned char *out) {
  static const char *A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = 0;
  unsigned v = 0;
  int bits = 0;
  for (; *s && *s != '='; s++) {
    const char *p = strchr(A, *s);
    if (!p) break;
    v = (v << 6) | (unsigned)(p - A);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (unsigned char)(v >> bits);
    }
  }
  return n;
}

static unsigned char g_meta[200000];

/* Metadata field: NULL/absent = none. Returns the length, data in *p. */
static size_t meta_of(const cJSON *j, const unsigned char **p) {
  *p = NULL;
  if (!cJSON_IsString(j)) return 0;
  *p = g_meta;
  return unb64(j->valuestring, g_meta);
}

static void print_result(int rc, const char *ok_fmt, uint64_t id) {
  if (rc) printf("err %s\n", valori_code_name(rc));
  else if (ok_fmt) printf(ok_fmt, (unsigned long long)id);
  else printf("ok\n");
}

static int run_op(valori_db *db, const cJSON *o) {
  const char *op = cJSON_GetObjectItem(o, "op")->valuestring;
  float v[64];
  uint64_t id = 0;
  int rc;
  if (strcmp(op, "insert") == 0) {
    const unsigned char *m;
    size_t ml = meta_of(cJSON_GetObjectItem(o, "meta"), &m);
    if (floats_of(cJSON_GetObjectItem(o, "vector"), v, 64) != g_dim) return printf("err EDIM\n"), 0;
    rc = valori_insert(db, v, u64_of(cJSON_GetObjectItem(o, "tag")), m, ml, &id);
    print_result(rc, "ok %llu\n", id);
  } else if (strcmp(op, "batch") == 0) {
    const cJSON *vs = cJSON_GetObjectItem(o, "vectors"), *ts = cJSON_GetObjectItem(o, "tags"),
                *ms = cJSON_GetObjectItem(o, "metas"), *x;
    size_t n = (size_t)cJSON_GetArraySize(vs), i = 0;
    float *flat = (float *)malloc((n ? n : 1) * g_dim * sizeof(float));
    uint64_t *tags = (uint64_t *)calloc(n ? n : 1, sizeof(uint64_t));
    const void **metas = (const void **)calloc(n ? n : 1, sizeof(void *));
    size_t *lens = (size_t *)calloc(n ? n : 1, sizeof(size_t));
    unsigned char *mbuf = (unsigned char *)malloc(n * 100000 + 1);
    size_t moff = 0;
    int bad = 0;
    cJSON_ArrayForEach(x, vs) {
      if (floats_of(x, v, 64) != g_dim) bad = 1;
      else memcpy(flat + i * g_dim, v, g_dim * sizeof(float));
      i++;
    }
    if (bad) {
      printf("err EDIM\n");
    } else {
      if (cJSON_IsArray(ts)) {
        i = 0;
        cJSON_ArrayForEach(x, ts) tags[i++] = u64_of(x);
      }
      if (cJSON_IsArray(ms)) {
        i = 0;
        cJSON_ArrayForEach(x, ms) {
          if (cJSON_IsString(x)) {
            lens[i] = unb64(x->valuestring, mbuf + moff);
            metas[i] = mbuf + moff;
            moff += lens[i];
          }
          i++;
        }
      }
      rc = valori_insert_batch(db, n, flat, cJSON_IsArray(ts) ? tags : NULL, cJSON_IsArray(ms) ? metas : NULL,
                               cJSON_IsArray(ms) ? lens : NULL, &id);
      print_result(rc, "ok %llu\n", id);
    }
    free(flat), free(tags), free(metas), free(lens), free(mbuf);
  } else if (strcmp(op, "update") == 0) {
    const cJSON *vj = cJSON_GetObjectItem(o, "vector"), *tj = cJSON_GetObjectItem(o, "tag");
    uint64_t tag = tj ? u64_of(tj) : 0;
    if (vj && floats_of(vj, v, 64) != g_dim) return printf("err EDIM\n"), 0;
    rc = valori_update(db, u64_of(cJSON_GetObjectItem(o, "id")), vj ? v : NULL, tj ? &tag : NULL);
    print_result(rc, NULL, 0);
  } else if (strcmp(op, "set_meta") == 0) {
    const unsigned char *m;
    size_t ml = meta_of(cJSON_GetObjectItem(o, "meta"), &m);
    rc = valori_set_meta(db, u64_of(cJSON_GetObjectItem(o, "id")), m, ml);
    print_result(rc, NULL, 0);
  } else if (strcmp(op, "delete") == 0) {
    print_result(valori_delete(db, u64_of(cJSON_GetObjectItem(o, "id"))), NULL, 0);
  } else if (strcmp(op, "node") == 0) {
    const unsigned char *m;
    size_t ml = meta_of(cJSON_GetObjectItem(o, "label"), &m);
    rc = valori_node_create(db, (uint32_t)cJSON_GetObjectItem(o, "kind")->valuedouble,
                            u64_of(cJSON_GetObjectItem(o, "record")), m, ml, &id);
    print_result(rc, "ok %llu\n", id);
  } else if (strcmp(op, "edge") == 0) {
    const cJSON *wj = cJSON_GetObjectItem(o, "weight");
    float w = wj && !cJSON_IsNull(wj) ? float_of(wj) : 0.0f;
    rc = valori_edge_create(db, u64_of(cJSON_GetObjectItem(o, "from")), u64_of(cJSON_GetObjectItem(o, "to")),
                            (uint32_t)cJSON_GetObjectItem(o, "kind")->valuedouble, wj && !cJSON_IsNull(wj) ? &w : NULL,
                            &id);
    print_result(rc, "ok %llu\n", id);
  } else if (strcmp(op, "delete_node") == 0) {
    print_result(valori_node_delete(db, u64_of(cJSON_GetObjectItem(o, "id"))), NULL, 0);
  } else if (strcmp(op, "delete_edge") == 0) {
    print_result(valori_edge_delete(db, u64_of(cJSON_GetObjectItem(o, "id"))), NULL, 0);
  } else if (strcmp(op, "search") == 0) {
    const cJSON *tj = cJSON_GetObjectItem(o, "tags"), *x, *mj = cJSON_GetObjectItem(o, "mode");
    uint64_t tags[300];
    valori_hit *hits;
    size_t nh = 0, i = 0;
    valori_search_params p;
    memset(&p, 0, sizeof p);
    p.k = (uint32_t)cJSON_GetObjectItem(o, "k")->valuedouble;
    p.mode = !mj ? VALORI_SEARCH_AUTO : strcmp(mj->valuestring, "exact") == 0 ? VALORI_SEARCH_EXACT
                                                                                : VALORI_SEARCH_AUTO;
    if (cJSON_IsArray(tj)) {
      cJSON_ArrayForEach(x, tj) tags[i++] = u64_of(x);
      p.ntags = (uint32_t)i;
      p.tags = tags;
    }
    if (floats_of(cJSON_GetObjectItem(o, "vector"), v, 64) != g_dim) return printf("err EDIM\n"), 0;
    hits = (valori_hit *)malloc((p.k && p.k <= VALORI_MAX_K ? p.k : 1) * sizeof *hits);
    rc = valori_search(db, NULL, v, &p, hits, &nh); /* k above VALORI_MAX_K: EK before anything is written */
    if (rc) {
      printf("err %s\n", valori_code_name(rc));
    } else {
      printf("ok");
      for (i = 0; i < nh; i++) printf("%c%llu", i ? ',' : ' ', (unsigned long long)hits[i].id);
      printf("\n");
    }
    free(hits);
  } else {
    fprintf(stderr, "unknown op %s\n", op);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  static char line[4 << 20];
  valori_options o;
  valori_db *db = NULL;
  uint8_t root[32], dig[32];
  valori_stats st;
  FILE *f;
  int i, first = 1, rc;
  if (argc != 2 || !(f = fopen(argv[1], "r"))) {
    fprintf(stderr, "usage: cross_host_c OPS_FILE\n");
    return 2;
  }
  while (fgets(line, sizeof line, f)) {
    cJSON *j = cJSON_Parse(line);
    if (!j) {
      fprintf(stderr, "bad line\n");
      return 2;
    }
    if (first) { /* {"dim": D, "hnsw": {"m": M, "ef_construction": E}} */
      const cJSON *h = cJSON_GetObjectItem(j, "hnsw");
      valori_options_init(&o);
      g_dim = o.dim = (uint32_t)cJSON_GetObjectItem(j, "dim")->valuedouble;
      o.hnsw_m = (uint32_t)cJSON_GetObjectItem(h, "m")->valuedouble;
      o.hnsw_ef_construction = (uint32_t)cJSON_GetObjectItem(h, "ef_construction")->valuedouble;
      if ((rc = valori_open(":memory:", &o, &db)) != VALORI_OK) {
        fprintf(stderr, "open: %s\n", valori_strerror(rc));
        return 3;
      }
      first = 0;
    } else if (run_op(db, j)) {
      return 2;
    }
    cJSON_Delete(j);
  }
  fclose(f);
  if (!db) return 2;
  valori_state_root(db, root);
  valori_index_digest(db, dig);
  valori_stats_get(db, &st);
  printf("root ");
  for (i = 0; i < 32; i++) printf("%02x", root[i]);
  printf("\nindex ");
  for (i = 0; i < 32; i++) printf("%02x", dig[i]);
  printf("\nheight %llu\nrecords %llu\n", (unsigned long long)st.height, (unsigned long long)st.records);
  return valori_close(db) == VALORI_OK ? 0 : 3;
}
