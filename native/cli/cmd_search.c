/*
** cmd_search.c: `valori search TARGET (--vector '[...]' | --row FILE:I)`: the k nearest records of a
** collection, from a local store (opened read-only, without the writer lock, so it works next to
** a running server or import) or from a server (TARGET a URL: POST .../search). Prints id,
** distance, tag and metadata per hit, or with --json the server's search answer
** ({"hits": [{"id", "distance", "distance_raw", "tag", "meta"}], "height"}; docs/HTTP.md section 8),
** the same bytes from both kinds of target. --expand HOPS: search, then expand the graph out from the
** hits' nodes (the reached nodes follow the hits, as "nodes" in JSON). docs/IMPORT.md section 6.
*/
#define _POSIX_C_SOURCE 200809L
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "import_http.h"
#include "vbuf.h"
#include "vds.h"

#define CMD "search"

typedef struct search_args {
  uint32_t k, ef, mode;
  uint64_t tags[VALORI_MAX_TAGS];
  uint32_t ntags;
  int json;
  int expand;    /* --expand given: search, then expand the graph from the hits' nodes */
  uint32_t hops; /* out along edges, at most VIMP_EXPAND_MAX nodes (the server's default) */
} search_args;

#define VIMP_EXPAND_MAX 1000

/* --vector '[0.5, 1, ...]' into a malloc'd float array. */
static int parse_vector(const char *s, float **out, uint32_t *dim) {
  cJSON *a = cJSON_Parse(s), *it;
  int n, i = 0;
  if (!a || !cJSON_IsArray(a) || (n = cJSON_GetArraySize(a)) < 1 || n > VALORI_MAX_DIM) {
    cJSON_Delete(a);
    return vcli_usage_error(CMD, "--vector must be a JSON array of 1..%d numbers, like '[0.5, 1, 2]'", VALORI_MAX_DIM);
  }
  if (!(*out = (float *)malloc((size_t)n * sizeof **out))) {
    cJSON_Delete(a);
    fprintf(stderr, "error: out of memory\n");
    return VCLI_FAILED;
  }
  for (it = a->child; it; it = it->next, i++) {
    if (!cJSON_IsNumber(it) || it->valuedouble > 256.0 || it->valuedouble < -256.0) {
      cJSON_Delete(a);
      free(*out);
      *out = NULL;
      return vcli_usage_error(CMD, "--vector[%d]: %s", i, cJSON_IsNumber(it) ? "outside [-256, 256] (ERANGE)" : "not a number");
    }
    (*out)[i] = (float)it->valuedouble;
  }
  *dim = (uint32_t)n;
  cJSON_Delete(a);
  return VCLI_OK;
}

/* --row FILE:I: row I (from 0) of a data file, in any format valori import reads. */
static int read_row(const char *spec, float **out, uint32_t *dim) {
  const char *colon = strrchr(spec, ':');
  char path[4096];
  uint64_t row, skipped;
  size_t got = 0;
  vds_reader *r = NULL;
  vds_err e;
  int rc;
  if (!colon || colon == spec || !vcli_parse_u64(colon + 1, &row) || (size_t)(colon - spec) >= sizeof path)
    return vcli_usage_error(CMD, "--row must be FILE:ROW with ROW counted from 0 (got '%s')", spec);
  memcpy(path, spec, (size_t)(colon - spec));
  path[colon - spec] = 0;
  if ((rc = vds_open_file(path, VDS_AUTO, &r, &e)) != VALORI_OK) {
    fprintf(stderr, "error: %s (%s)\n", e.msg, valori_code_name(rc));
    return VCLI_FAILED;
  }
  if (!(*out = (float *)malloc((size_t)(vds_dim(r) ? vds_dim(r) : 1) * sizeof **out))) rc = VALORI_ENOMEM;
  if (!rc) rc = vds_skip(r, row, &skipped, &e);
  if (!rc) rc = vds_read(r, 1, *out, NULL, &got, &e);
  if (!rc && got == 0) {
    fprintf(stderr, "error: %s has %llu rows; no row %llu\n", path, (unsigned long long)vds_position(r), (unsigned long long)row);
    rc = -1;
  } else if (rc) {
    fprintf(stderr, "error: %s (%s)\n", e.msg, valori_code_name(rc));
  }
  *dim = vds_dim(r);
  vds_close(r);
  if (rc) {
    free(*out);
    *out = NULL;
    return VCLI_FAILED;
  }
  return VCLI_OK;
}

/* Metadata as text when it is printable UTF-8 (no control bytes), else base64:... */
static void print_meta(const uint8_t *m, size_t n) {
  size_t i;
  vbuf b;
  for (i = 0; i < n; i++)
    if (m[i] < 0x20 || m[i] == 0x7f) break;
  if (i == n) {
    printf("%.*s", (int)n, (const char *)m);
    return;
  }
  vb_init(&b);
  vb_json_base64(&b, m, n); /* "...": drop the quotes */
  if (!b.oom && b.len >= 2) printf("base64:%.*s", (int)(b.len - 2), b.p + 1);
  vb_free(&b);
}

static int search_local(const char *dir, const float *q, uint32_t dim, const search_args *a) {
  valori_vfs *vfs = vcli_open_dir(dir);
  valori_db *db = NULL;
  valori_options o;
  valori_stats st;
  valori_hit *hits = NULL;
  valori_reach *nodes = NULL;
  valori_search_params p;
  size_t n = 0, nn = 0, i;
  uint8_t *meta = NULL;
  vbuf b;
  int rc, code = VCLI_FAILED;
  if (!vfs) return VCLI_FAILED;
  valori_options_init(&o);
  o.flags = VALORI_OPEN_READONLY;
  o.vfs = vfs;
  if ((rc = valori_open(dir, &o, &db)) != VALORI_OK) {
    if (rc == VALORI_ENOTFOUND) fprintf(stderr, "error: no store at %s: the directory holds no store files (ENOTFOUND)\n", dir);
    else fprintf(stderr, "error: %s: %s (%s)\n", dir, valori_strerror(rc), valori_code_name(rc));
    valori_posix_vfs_close(vfs);
    return vcli_exit_for(rc);
  }
  valori_stats_get(db, &st);
  if (dim != st.dim) {
    fprintf(stderr, "error: the query has %u components; %s holds vectors of dim %u (EDIM)\n", dim, dir, st.dim);
    goto out;
  }
  hits = (valori_hit *)malloc(a->k * sizeof *hits);
  meta = (uint8_t *)malloc(VALORI_MAX_META);
  if (!hits || !meta) {
    fprintf(stderr, "error: out of memory\n");
    goto out;
  }
  memset(&p, 0, sizeof p);
  p.k = a->k;
  p.ef = a->ef;
  p.mode = a->mode;
  p.ntags = a->ntags;
  p.tags = a->ntags ? a->tags : NULL;
  if (a->expand && !(nodes = (valori_reach *)malloc(VIMP_EXPAND_MAX * sizeof *nodes))) {
    fprintf(stderr, "error: out of memory\n");
    goto out;
  }
  rc = a->expand ? valori_search_expand(db, NULL, q, &p, a->hops, VALORI_DIR_OUT, VIMP_EXPAND_MAX, hits, &n, nodes,
                                        VIMP_EXPAND_MAX, &nn)
                 : valori_search(db, NULL, q, &p, hits, &n);
  if (nn > VIMP_EXPAND_MAX) nn = VIMP_EXPAND_MAX;
  if (rc != VALORI_OK) {
    fprintf(stderr, "error: search: %s (%s)\n", valori_strerror(rc), valori_code_name(rc));
    code = rc == VALORI_EK || rc == VALORI_EINVAL || rc == VALORI_ETOOBIG ? VCLI_USAGE : vcli_exit_for(rc);
    goto out;
  }
  vb_init(&b);
  if (a->json) vb_puts(&b, "{\"hits\":[");
  else printf("%-10s %-20s %-20s %s\n", "id", "distance", "tag", "meta");
  for (i = 0; i < n; i++) {
    uint64_t tag = 0;
    size_t ml = 0;
    valori_get(db, hits[i].id, NULL, &tag, meta, VALORI_MAX_META, &ml);
    if (a->json) {
      vb_puts(&b, i ? ",{\"id\":" : "{\"id\":");
      vb_json_u64str(&b, hits[i].id);
      vb_puts(&b, ",\"distance\":");
      vb_json_double(&b, (double)hits[i].distance / 4294967296.0);
      vb_puts(&b, ",\"distance_raw\":");
      vb_json_i64str(&b, hits[i].distance);
      vb_puts(&b, ",\"tag\":");
      vb_json_u64str(&b, tag);
      vb_puts(&b, ",\"meta\":");
      if (ml) vb_json_base64(&b, meta, ml);
      else vb_puts(&b, "null");
      vb_puts(&b, "}");
    } else {
      vbuf d;
      vb_init(&d);
      vb_json_double(&d, (double)hits[i].distance / 4294967296.0);
      printf("%-10llu %-20.*s %-20llu ", (unsigned long long)hits[i].id, (int)d.len, d.p ? d.p : "", (unsigned long long)tag);
      vb_free(&d);
      if (ml) print_meta(meta, ml);
      printf("\n");
    }
  }
  if (a->expand && a->json) {
    vb_puts(&b, "],\"nodes\":[");
    for (i = 0; i < nn; i++) {
      vb_puts(&b, i ? ",{\"node\":" : "{\"node\":");
      vb_json_u64str(&b, nodes[i].node_id);
      vb_puts(&b, ",\"via\":");
      vb_json_u64str(&b, nodes[i].via_edge);
      vb_printf(&b, ",\"depth\":%u}", nodes[i].depth);
    }
  } else if (a->expand) {
    printf("\n%-10s %-6s %-10s %-6s %-10s %s\n", "node", "depth", "via", "kind", "record", "label");
    for (i = 0; i < nn; i++) {
      valori_node nd;
      size_t ll = 0;
      if (valori_node_get(db, nodes[i].node_id, &nd, meta, VALORI_MAX_META, &ll) != VALORI_OK) continue;
      printf("%-10llu %-6u %-10llu %-6u %-10llu ", (unsigned long long)nodes[i].node_id, nodes[i].depth,
             (unsigned long long)nodes[i].via_edge, nd.kind, (unsigned long long)nd.record_id);
      if (ll) print_meta(meta, ll);
      printf("\n");
    }
  }
  if (a->json) {
    vb_printf(&b, "],\"height\":%llu}", (unsigned long long)st.height);
    if (b.oom) {
      fprintf(stderr, "error: out of memory\n");
      vb_free(&b);
      goto out;
    }
    printf("%.*s\n", (int)b.len, b.p);
  }
  vb_free(&b);
  code = VCLI_OK;
out:
  free(hits);
  free(nodes);
  free(meta);
  valori_close(db);
  valori_posix_vfs_close(vfs);
  return code;
}

static int search_url(const char *url, const char *token_file, const float *q, uint32_t dim, const search_args *a) {
  vimp_http *h = NULL;
  vbuf b;
  uint32_t i;
  int rc;
  char err[512], target[1200];
  if ((rc = vimp_http_connect(url, token_file, 0, &h, err, sizeof err)) != VALORI_OK) {
    fprintf(stderr, "error: %s (%s)\n", err, vs_code_name(rc));
    return rc == VALORI_EINVAL ? VCLI_USAGE : VCLI_FAILED;
  }
  vb_init(&b);
  vb_puts(&b, "{\"vector\":[");
  for (i = 0; i < dim; i++) {
    if (i) vb_puts(&b, ",");
    vb_json_double(&b, (double)q[i]);
  }
  vb_printf(&b, "],\"k\":%u,\"ef\":%u,\"mode\":\"%s\",\"with_meta\":true", a->k, a->ef,
            a->mode == VALORI_SEARCH_EXACT ? "exact" : a->mode == VALORI_SEARCH_HNSW ? "hnsw" : "auto");
  if (a->ntags) {
    vb_puts(&b, ",\"tags\":[");
    for (i = 0; i < a->ntags; i++) {
      if (i) vb_puts(&b, ",");
      vb_json_u64str(&b, a->tags[i]);
    }
    vb_puts(&b, "]");
  }
  if (a->expand) vb_printf(&b, ",\"expand\":{\"hops\":%u,\"dir\":\"out\"}", a->hops);
  vb_puts(&b, "}");
  snprintf(target, sizeof target, "%s/search", vimp_http_base(h));
  rc = vimp_http_json(h, "POST", target, b.p, b.len, err, sizeof err);
  vb_free(&b);
  if (rc != VALORI_OK) {
    fprintf(stderr, "error: %s (%s)\n", err, vs_code_name(rc));
    vimp_http_close(h);
    return rc == VALORI_EDIM || rc == VALORI_EK || rc == VALORI_EINVAL ? VCLI_USAGE : VCLI_FAILED;
  }
  rc = vimp_http_print_hits(h, a->json);
  vimp_http_close(h);
  return rc ? VCLI_FAILED : VCLI_OK;
}

int vcli_search(int argc, char **argv) {
  const char *target = NULL, *coll = NULL, *vec = NULL, *row = NULL, *token_file = NULL;
  search_args a;
  float *q = NULL;
  uint32_t dim = 0;
  uint64_t v;
  char path[4096];
  int i, code;
  memset(&a, 0, sizeof a);
  a.k = 10;
  a.mode = VALORI_SEARCH_AUTO;
  for (i = 1; i < argc; i++) {
    const char *o = argv[i];
    if (o[0] != '-' || !o[1]) {
      if (target) return vcli_usage_error(CMD, "unexpected argument '%s' (one DIR or URL)", o);
      target = o;
    } else if (strcmp(o, "--collection") == 0) coll = argv[++i];
    else if (strcmp(o, "--vector") == 0) vec = argv[++i];
    else if (strcmp(o, "--row") == 0) row = argv[++i];
    else if (strcmp(o, "--token-file") == 0) token_file = argv[++i];
    else if (strcmp(o, "-k") == 0) {
      if (!vcli_parse_u64(argv[++i], &v) || v < 1 || v > VALORI_MAX_K)
        return vcli_usage_error(CMD, "-k must be a whole number from 1 to %d (got '%s')", VALORI_MAX_K, argv[i]);
      a.k = (uint32_t)v;
    } else if (strcmp(o, "--ef") == 0) {
      if (!vcli_parse_u64(argv[++i], &v) || v > VALORI_MAX_EF)
        return vcli_usage_error(CMD, "--ef must be a whole number from 0 to %d (got '%s')", VALORI_MAX_EF, argv[i]);
      a.ef = (uint32_t)v;
    } else if (strcmp(o, "--exact") == 0) a.mode = VALORI_SEARCH_EXACT;
    else if (strcmp(o, "--hnsw") == 0) a.mode = VALORI_SEARCH_HNSW;
    else if (strcmp(o, "--tag") == 0) {
      if (!vcli_parse_u64(argv[++i], &v)) return vcli_usage_error(CMD, "--tag must be a whole number (got '%s')", argv[i]);
      if (a.ntags == VALORI_MAX_TAGS) return vcli_usage_error(CMD, "at most %d --tag options", VALORI_MAX_TAGS);
      a.tags[a.ntags++] = v;
    } else if (strcmp(o, "--expand") == 0) {
      if (!vcli_parse_u64(argv[++i], &v) || v > VALORI_MAX_HOPS)
        return vcli_usage_error(CMD, "--expand must be a number of hops from 0 to %d (got '%s')", VALORI_MAX_HOPS, argv[i]);
      a.expand = 1;
      a.hops = (uint32_t)v;
    } else if (strcmp(o, "--json") == 0) a.json = 1;
    else return vcli_usage_error(CMD, "unknown option '%s'", o);
  }
  if (!target) return vcli_usage_error(CMD, "which collection? (valori search DIR --collection NAME --vector '[...]')");
  if (!!vec + !!row != 1) return vcli_usage_error(CMD, "give the query as --vector '[...]' or --row FILE:ROW (one of them)");
  if (coll && !vimp_name_ok(coll)) return vcli_usage_error(CMD, "--collection: not a collection name (got '%s')", coll);
  if (token_file && strncmp(target, "http", 4) != 0) return vcli_usage_error(CMD, "--token-file goes with a URL");
  if ((code = vec ? parse_vector(vec, &q, &dim) : read_row(row, &q, &dim)) != VCLI_OK) return code;
  if (strncmp(target, "http://", 7) == 0 || strncmp(target, "https://", 8) == 0) {
    char url[4096];
    if (coll) snprintf(url, sizeof url, "%s/v1/collections/%s", target, coll);
    else snprintf(url, sizeof url, "%s", target);
    code = search_url(url, token_file, q, dim, &a);
  } else {
    if (coll) snprintf(path, sizeof path, "%s/%s", target, coll);
    else snprintf(path, sizeof path, "%s", target);
    code = search_local(path, q, dim, &a);
  }
  free(q);
  return code;
}
