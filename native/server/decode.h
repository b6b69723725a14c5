/*
** decode.h: request decoders: JSON (parsed by cJSON) and binary bodies -> the C values passed to
** valori.h. Pure functions with no server state, so the libFuzzer target tests/fuzz/fuzz_http_decode.c
** drives them directly. Every decoder validates the whole body first and reports the first problem
** as a vs_err (code + message naming the field, e.g. "records[1].vector[2]"); on error nothing is
** left allocated. Rules: docs/HTTP.md section 2 (u64 as strings or safe integers, base64 bytes,
** no unknown or repeated fields, nesting <= 32).
*/
#ifndef VS_DECODE_H
#define VS_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "valori.h"
#include "vserr.h"

#define VS_MAX_NAME 64
#define VS_JSON_MAX_DEPTH 32
#define VS_MAX_EXPAND_NODES (1u << 20)
#define VS_MAX_NEIGHBORS 100000u

/* Limits the decoders enforce (server flags; each at most the core's limit). */
typedef struct vs_limits {
  uint32_t max_batch, max_k, max_ef, max_dim;
} vs_limits;

/* Checks UTF-8, control characters in strings, \u0000 and nesting, then parses with cJSON.
** VS_EJSON on failure. *out is freed by the caller with cJSON_Delete. */
int vs_json_parse(const char *body, size_t len, cJSON **out, vs_err *e);

/* 1..64 characters from A-Z a-z 0-9 _ -, first a letter or digit (VS_NAME_RULE, the error text). */
#define VS_NAME_RULE "1 to 64 characters from A-Z a-z 0-9 _ -, starting with a letter or digit"
int vs_name_valid(const char *s);

typedef struct vs_create_req {
  char name[VS_MAX_NAME + 1];
  valori_options opt; /* dim, metric, index, hnsw_*, traversal filled; the rest default */
} vs_create_req;
int vs_decode_create(const cJSON *j, const vs_limits *lim, vs_create_req *out, vs_err *e);

/* Records for insert / batch (malloc'd arrays; vs_records_free). metas[i] is NULL when absent. */
typedef struct vs_records {
  size_t n;
  uint32_t dim;
  float *vecs;
  uint64_t *tags;
  uint8_t **metas;
  size_t *meta_lens;
  int has_meta; /* any record has metadata */
} vs_records;
void vs_records_free(vs_records *r);
int vs_decode_insert(const cJSON *j, uint32_t dim, vs_records *out, vs_err *e);
int vs_decode_batch(const cJSON *j, uint32_t dim, uint32_t max_batch, vs_records *out, vs_err *e);
/* application/vnd.valori.vectors (docs/HTTP.md section 7). */
int vs_decode_binary(const uint8_t *p, size_t len, uint32_t dim, uint32_t max_batch, vs_records *out, vs_err *e);

#define VS_UPD_VECTOR 1u
#define VS_UPD_TAG 2u
#define VS_UPD_META 4u
typedef struct vs_update_req {
  uint32_t fields; /* VS_UPD_* */
  float *vec;      /* dim floats when VECTOR (malloc'd) */
  uint64_t tag;
  uint8_t *meta;   /* when META (malloc'd; NULL when clearing) */
  size_t meta_len;
} vs_update_req;
void vs_update_free(vs_update_req *u);
int vs_decode_update(const cJSON *j, uint32_t dim, vs_update_req *out, vs_err *e);

typedef struct vs_search_req {
  float *vec; /* malloc'd, dim floats */
  valori_search_params p;
  uint64_t tags[VALORI_MAX_TAGS];
  int with_meta;
  int expand; /* 1: search then expand */
  uint32_t hops, dir, max_nodes;
} vs_search_req;
void vs_search_free(vs_search_req *s);
int vs_decode_search(const cJSON *j, uint32_t dim, const vs_limits *lim, vs_search_req *out, vs_err *e);

typedef struct vs_node_req {
  uint32_t kind;
  uint64_t record; /* 0 = none */
  uint8_t *label;  /* malloc'd or NULL */
  size_t label_len;
} vs_node_req;
void vs_node_free(vs_node_req *n);
int vs_decode_node(const cJSON *j, vs_node_req *out, vs_err *e);

typedef struct vs_edge_req {
  uint64_t from, to;
  uint32_t kind;
  int has_weight;
  float weight;
} vs_edge_req;
int vs_decode_edge(const cJSON *j, vs_edge_req *out, vs_err *e);

typedef struct vs_expand_req {
  uint64_t *seeds; /* malloc'd */
  size_t nseeds;
  uint32_t hops, dir, max_nodes;
} vs_expand_req;
void vs_expand_free(vs_expand_req *x);
int vs_decode_expand(const cJSON *j, vs_expand_req *out, vs_err *e);

/* Path and query pieces. */
int vs_parse_u64_text(const char *s, size_t n, uint64_t *out); /* decimal digits, no sign; 1 on success */
int vs_parse_dir(const char *s, uint32_t *out);                 /* out / in / both; 1 on success */

#endif /* VS_DECODE_H */
