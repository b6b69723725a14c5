/*
** golden_workload.c: the fixed workload of js/test/workload.js, natively, through the public C API.
** Prints the state root (hex) of an in-memory database after it. js/test/golden.test.js compiles
** this against core/*.c with the project's determinism flags and compares with the wasm root.
*/
#include <stdio.h>
#include <string.h>
#include "valori.h"

#define DIM 16
static uint32_t s = 12345u;
static uint32_t next(void) { s = s * 1103515245u + 12345u; return s; }
static void vec(float *v) {
  int j;
  for (j = 0; j < DIM; j++) v[j] = (float)((int)((next() >> 8) % 2049u) - 1024) / 64.0f;
}
static int deleted(uint64_t id) { return id % 13 == 5; }
#define CK(x) do { int rc_ = (x); if (rc_) { fprintf(stderr, "%s: %s (line %d)\n", #x, valori_code_name(rc_), __LINE__); return 1; } } while (0)

int main(void) {
  valori_options o;
  valori_db *db;
  float v[DIM], bv[50 * DIM];
  uint64_t bt[50], id, out;
  const void *bm[50];
  size_t bl[50];
  char mb[50][8], txt[32];
  uint8_t root[32];
  int i, r, n, nodes = 0;
  valori_options_init(&o);
  o.dim = DIM;
  CK(valori_open(":memory:", &o, &db));
  for (i = 0; i < 200; i++) {
    vec(v);
    sprintf(txt, "m%d", i);
    CK(valori_insert(db, v, (uint64_t)(i % 5), i % 7 == 0 ? txt : NULL, i % 7 == 0 ? strlen(txt) : 0, &out));
  }
  for (i = 0; i < 50; i++) {
    vec(bv + i * DIM);
    bt[i] = 100 + (uint64_t)(i % 3);
    if (i % 2 == 0) sprintf(mb[i], "b%d", i); else mb[i][0] = 0;
    bm[i] = mb[i];
    bl[i] = strlen(mb[i]);
  }
  CK(valori_insert_batch(db, 50, bv, bt, bm, bl, &out));
  for (id = 5; id < 250; id += 13) CK(valori_delete(db, id));
  for (id = 2; id < 250; id += 11) {
    uint64_t tag = 9;
    if (deleted(id)) continue;
    vec(v);
    CK(valori_update(db, id, v, id % 2 == 0 ? &tag : NULL));
  }
  for (id = 4; id <= 20; id += 4) {
    if (deleted(id)) continue;
    sprintf(txt, "s%d", (int)id);
    CK(valori_set_meta(db, id, txt, strlen(txt)));
  }
  for (r = 1; r <= 30; r++) {
    if (deleted((uint64_t)r)) continue;
    sprintf(txt, "n%d", r);
    CK(valori_node_create(db, (uint32_t)(r % 3), (uint64_t)r, txt, strlen(txt), &out));
    nodes++;
  }
  for (n = 1; n < nodes; n++) {
    float w = (float)n / 4.0f;
    CK(valori_edge_create(db, (uint64_t)n, (uint64_t)n + 1, (uint32_t)(n % 2), n % 3 == 0 ? NULL : &w, &out));
  }
  CK(valori_edge_delete(db, 2));
  CK(valori_node_delete(db, 5));
  CK(valori_delete(db, 1));
  CK(valori_state_root(db, root));
  for (i = 0; i < 32; i++) printf("%02x", root[i]);
  printf("\n");
  return valori_close(db);
}
