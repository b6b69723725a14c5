/*
** fuzz_frame.c: libFuzzer target for the replication stream's frame decoder (valori_frame_decode,
** docs/REPLICATION.md section 5) and what a follower does with what it decodes: the input is read as
** a stream body, frame after frame; every frame that decodes must encode back to exactly its own
** bytes; a HELLO with a small configuration (re)creates an in-memory follower of that configuration
** and every RECORD goes through valori_check_record (a dry run: position unchanged) and then
** valori_apply_record, which must give the same code and result (decode, height, chain, predicted
** root: any refusal must leave the follower's position unchanged). Must never crash, leak or break a property.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "valori.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static valori_db *follower_for(const uint32_t cfg[5]) {
  valori_options o;
  valori_db *db = NULL;
  valori_options_init(&o);
  o.dim = cfg[0];
  o.metric = cfg[1];
  if (cfg[2] == 0) o.index = VALORI_INDEX_NONE;
  o.hnsw_m = cfg[2];
  o.hnsw_ef_construction = cfg[3];
  o.hnsw_ef_search = cfg[4];
  if (o.dim == 0 || o.dim > 64 || o.hnsw_ef_construction > 64) return NULL; /* keep inputs cheap */
  return valori_open(":memory:", &o, &db) == VALORI_OK ? db : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint32_t dflt[5] = {8, 0, 4, 16, 16}; /* the corpus stores' configuration */
  valori_db *db = NULL;
  size_t off = 0;
  uint8_t *re = NULL;
  while (off < size) {
    valori_frame f;
    size_t used = 0, len = 0;
    int rc = valori_frame_decode(data + off, size - off, &f, &used);
    if (rc != VALORI_OK || used == 0) break;
    re = (uint8_t *)realloc(re, used);
    if (!re || valori_frame_encode(&f, re, used, &len) != VALORI_OK || len != used || memcmp(re, data + off, used) != 0)
      abort(); /* a decoded frame is its own bytes */
    if (f.type == VALORI_FRAME_HELLO) {
      valori_close(db);
      db = follower_for(f.config);
    } else if (f.type == VALORI_FRAME_RECORD) {
      valori_position before, after;
      valori_apply_result res;
      if (!db) db = follower_for(dflt);
      if (db && valori_position_get(db, &before) == VALORI_OK) {
        valori_position mid;
        valori_apply_result dry;
        int drc = valori_check_record(db, f.data, (size_t)f.data_len, &dry);
        if (valori_position_get(db, &mid) != VALORI_OK || memcmp(&mid, &before, sizeof mid) != 0) abort(); /* a dry run */
        rc = valori_apply_record(db, f.data, (size_t)f.data_len, &res);
        if (rc != drc || memcmp(&dry, &res, sizeof dry) != 0) abort(); /* the dry run said what the apply did */
        if (valori_position_get(db, &after) != VALORI_OK) abort();
        if (rc != VALORI_OK && (after.height != before.height || memcmp(after.root, before.root, 32) != 0 ||
                                memcmp(after.chain, before.chain, 32) != 0))
          abort(); /* a refused record changes nothing */
        if (rc == VALORI_OK && after.height != before.height + 1) abort();
      }
    }
    off += used;
  }
  free(re);
  valori_close(db);
  return 0;
}
