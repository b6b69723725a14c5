/*
** fuzz_http_decode.c: libFuzzer target for the server's request decoders (native/server/decode.c):
** the JSON pre-pass and cJSON parse, every JSON body decoder, and the binary ingest decoder.
** Input: one byte choosing the collection's dimension (1..8) and the decoder, then the body.
** Checks what a decoder promises on success (vectors in range, counts within the limits, tags
** within the filter bound) and must never crash, leak or trip a sanitizer.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_vec(const float *v, uint32_t dim) {
  uint32_t i;
  for (i = 0; i < dim; i++) {
    int32_t q;
    if (valori_f32_to_q16(v[i], &q) != VALORI_OK) abort(); /* a decoded vector is always valid */
  }
}

static void json_decoders(const cJSON *j, uint32_t dim, int which) {
  vs_limits lim = {64, 100, 200, 64};
  vs_err e;
  switch (which) {
    case 0: {
      vs_create_req c;
      if (vs_decode_create(j, &lim, &c, &e) == VALORI_OK && (!vs_name_valid(c.name) || c.opt.dim > lim.max_dim)) abort();
      break;
    }
    case 1: {
      vs_records r;
      if (vs_decode_insert(j, dim, &r, &e) == VALORI_OK) {
        check_vec(r.vecs, dim);
        if (r.meta_lens[0] > VALORI_MAX_META) abort();
        vs_records_free(&r);
      }
      break;
    }
    case 2: {
      vs_records r;
      if (vs_decode_batch(j, dim, lim.max_batch, &r, &e) == VALORI_OK) {
        size_t i;
        if (r.n == 0 || r.n > lim.max_batch) abort();
        for (i = 0; i < r.n; i++) check_vec(r.vecs + i * dim, dim);
        vs_records_free(&r);
      }
      break;
    }
    case 3: {
      vs_update_req u;
      if (vs_decode_update(j, dim, &u, &e) == VALORI_OK) {
        if (!u.fields) abort();
        if (u.fields & VS_UPD_VECTOR) check_vec(u.vec, dim);
        vs_update_free(&u);
      }
      break;
    }
    case 4: {
      vs_search_req s;
      if (vs_decode_search(j, dim, &lim, &s, &e) == VALORI_OK) {
        check_vec(s.vec, dim);
        if (s.p.k < 1 || s.p.k > lim.max_k || s.p.ef > lim.max_ef || s.p.ntags > VALORI_MAX_TAGS) abort();
        if ((s.p.ntags == 0) != (s.p.tags == NULL)) abort();
        vs_search_free(&s);
      }
      break;
    }
    case 5: {
      vs_node_req n;
      if (vs_decode_node(j, &n, &e) == VALORI_OK) {
        if (n.label_len > VALORI_MAX_META) abort();
        vs_node_free(&n);
      }
      break;
    }
    case 6: {
      vs_edge_req x;
      (void)vs_decode_edge(j, &x, &e);
      break;
    }
    default: {
      vs_expand_req x;
      if (vs_decode_expand(j, &x, &e) == VALORI_OK) {
        if (x.nseeds == 0 || x.nseeds > x.max_nodes || x.hops > VALORI_MAX_HOPS) abort();
        vs_expand_free(&x);
      }
      break;
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint32_t dim;
  int which;
  cJSON *j = NULL;
  vs_err e;
  vs_records r;
  if (size < 1) return 0;
  dim = 1u + (data[0] & 7u);
  which = (data[0] >> 3) & 7;
  data++;
  size--;
  if (vs_json_parse((const char *)data, size, &j, &e) == VALORI_OK) {
    json_decoders(j, dim, which);
    cJSON_Delete(j);
  } else if (e.code != VS_EJSON) {
    abort(); /* the parser reports nothing but EJSON */
  }
  if (vs_decode_binary(data, size, dim, 64, &r, &e) == VALORI_OK) {
    size_t i;
    for (i = 0; i < r.n; i++) check_vec(r.vecs + i * dim, dim);
    vs_records_free(&r);
  }
  return 0;
}
