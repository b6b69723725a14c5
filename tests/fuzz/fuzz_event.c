/*
** fuzz_event.c: libFuzzer target for the event decoder and the engine's validation and apply path.
** Input: one byte choosing the dimension (1..16), then the event bytes. A decoded event is applied
** to an engine that already holds a few records, nodes and an edge, so that state checks (unknown
** ids, links) run too. Must never crash, leak or trip a sanitizer.
*/
#include <stdint.h>
#include <string.h>

#include "engine.h"
#include "event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Builds one INSERT event for the seed state. */
static size_t seed_insert(uint8_t *p, uint32_t dim, uint64_t tag) {
  uint32_t i;
  size_t n = 8 + 8 + 4 + (size_t)dim * 4;
  vl_put16(p, 1);
  vl_put16(p + 2, 0);
  vl_put32(p + 4, (uint32_t)(n - 8));
  vl_put64(p + 8, tag);
  vl_put32(p + 16, 0);
  for (i = 0; i < dim; i++) vl_put32(p + 20 + 4 * i, (uint32_t)(int32_t)(i * 65536 - 3 * 65536));
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vl_config c;
  vl_engine *e = NULL;
  vl_event ev;
  uint8_t buf[8 + 8 + 4 + 16 * 4];
  uint64_t id;
  int k;
  if (size < 1) return 0;
  memset(&c, 0, sizeof c);
  c.dim = 1u + data[0] % 16u;
  c.metric = data[0] & 0x80 ? VALORI_METRIC_IP : VALORI_METRIC_L2;
  c.hnsw_m = 4;
  c.hnsw_ef_construction = 8;
  c.hnsw_ef_search = 8;
  (void)vl_event_decode(data + 1, size - 1, c.dim, &ev);
  if (vl_engine_new(valori_libc_allocator(), &c, &e) != VALORI_OK) return 0;
  for (k = 0; k < 3; k++) {
    size_t n = seed_insert(buf, c.dim, (uint64_t)k);
    (void)vl_engine_apply(e, buf, n, &id);
  }
  (void)vl_engine_validate(e, data + 1, size - 1);
  (void)vl_engine_apply(e, data + 1, size - 1, &id);
  vl_engine_free(e);
  return 0;
}
