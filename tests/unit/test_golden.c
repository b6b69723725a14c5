/*
** test_golden.c: a fixed workload (every event kind, fractional/negative/boundary values, a mass
** delete that triggers index purges, metadata, graph edits) must reproduce the committed state root,
** index digest and snapshot bytes exactly, on every compiler, optimization level and target.
** tests/golden/core.txt holds the hex values; tests/golden/core.vsnap the snapshot bytes. The same
** events on an index-less store (VALORI_INDEX_NONE) must reproduce tests/golden/core-flat.txt and
** core-flat.vsnap. VALORI_GOLDEN_WRITE=1 regenerates the files (only ever after a deliberate format
** change).
*/
#include "sha256.h"
#include "valori.h"
#include "vt.h"

#ifndef VALORI_SOURCE_DIR
#define VALORI_SOURCE_DIR "."
#endif

static void hex(const uint8_t *d, char *out) {
  int i;
  for (i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

/* The workload: only integer arithmetic decides values, so the floats are the same everywhere. */
static valori_db *workload(uint32_t index) {
  valori_options o;
  valori_db *db = NULL;
  uint64_t s = 2024, first, id, n1 = 0, n2, e;
  float v[12 * 40];
  int i, round;
  valori_options_init(&o);
  o.dim = 12;
  o.index = index;
  if (index == VALORI_INDEX_HNSW) {
    o.hnsw_m = 6;
    o.hnsw_ef_construction = 32;
  }
  if (valori_open(":memory:", &o, &db)) return NULL;
  for (round = 0; round < 25; round++) {
    uint64_t tags[40];
    for (i = 0; i < 12 * 40; i++) {
      int64_t r = (int64_t)(vt_rand(&s) % 2000001) - 1000000; /* [-1e6, 1e6] */
      v[i] = (float)r / 4096.0f;                              /* fractional, |x| < 245 */
      if (i % 97 == 0) v[i] = (i % 2) ? 256.0f : -256.0f;     /* range boundary */
      if (i % 89 == 0) v[i] = 1.0f / 131072.0f;               /* exactly half a unit: ties to even */
    }
    for (i = 0; i < 40; i++) tags[i] = vt_rand(&s) % 5;
    if (valori_insert_batch(db, 40, v, tags, NULL, NULL, &first)) return NULL;
    for (i = 0; i < 10; i++) {
      uint64_t target = 1 + vt_rand(&s) % (first + 39);
      char meta[32];
      int len = sprintf(meta, "m%d-%d", round, i);
      switch (i % 5) {
        case 0: valori_delete(db, target); break;
        case 1: valori_update(db, target, v + 12 * i, NULL); break;
        case 2: { uint64_t t = 9; valori_update(db, target, NULL, &t); } break;
        case 3: valori_set_meta(db, target, meta, (size_t)len); break;
        case 4:
          if (valori_node_create(db, (uint32_t)i, target, meta, (size_t)len, &n2) == VALORI_OK) {
            float w = (float)round / 8.0f;
            if (n1) valori_edge_create(db, n1, n2, (uint32_t)round % 3, (round & 1) ? &w : NULL, &e);
            n1 = n2;
          }
          break;
      }
    }
    valori_insert(db, v, 1234, "single", 6, &id);
  }
  /* mass delete of the oldest records (index purges, the entry point among them), then a refill */
  for (id = 1; id <= 400; id++) valori_delete(db, id);
  if (valori_insert_batch(db, 40, v, NULL, NULL, NULL, &first)) return NULL;
  return db;
}

static void golden(uint32_t index, const char *txt, const char *vsnap) {
  valori_db *db = workload(index);
  uint8_t root[32], dig[32], snaphash[32], *snap = NULL;
  size_t len = 0;
  char rh[65], dh[65], sh[65], line[256], want[3][65];
  FILE *f;
  VT_REQUIRE(db);
  VT_EQ_INT(valori_check(db), VALORI_OK);
  {
    valori_stats st; /* the mass delete went through at least one purge: few tombstones remain */
    valori_stats_get(db, &st);
    printf("  %llu records, %llu index tombstones after the mass delete\n", (unsigned long long)st.records,
           (unsigned long long)st.index_tombstones);
    VT_CHECK(st.index_tombstones < 100);
    VT_CHECK(index == VALORI_INDEX_HNSW || (st.index_tombstones == 0 && st.index_bytes == 0));
  }
  valori_state_root(db, root);
  valori_index_digest(db, dig);
  VT_REQUIRE(valori_snapshot_save(db, &snap, &len) == VALORI_OK);
  vl_sha256(snap, len, snaphash);
  hex(root, rh);
  hex(dig, dh);
  hex(snaphash, sh);
  printf("  root %s\n  index %s\n  snapshot %s (%zu bytes)\n", rh, dh, sh, len);
  if (getenv("VALORI_GOLDEN_WRITE")) {
    f = fopen(txt, "w");
    VT_REQUIRE(f);
    fprintf(f, "root %s\nindex %s\nsnapshot %s\n", rh, dh, sh);
    fclose(f);
    f = fopen(vsnap, "wb");
    VT_REQUIRE(f);
    fwrite(snap, 1, len, f);
    fclose(f);
  }
  f = fopen(txt, "r");
  VT_REQUIRE(f);
  for (int i = 0; i < 3 && fgets(line, sizeof line, f); i++) sscanf(line, "%*s %64s", want[i]);
  fclose(f);
  VT_CHECK(strcmp(rh, want[0]) == 0);
  VT_CHECK(strcmp(dh, want[1]) == 0);
  VT_CHECK(strcmp(sh, want[2]) == 0);
  /* the committed snapshot bytes load, check, and give the same root */
  {
    static uint8_t buf[1 << 20];
    size_t n;
    valori_db *x = NULL;
    uint8_t r2[32];
    f = fopen(vsnap, "rb");
    VT_REQUIRE(f);
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    VT_CHECK(n == len && memcmp(buf, snap, len) == 0);
    VT_REQUIRE(valori_snapshot_load(buf, n, NULL, &x) == VALORI_OK);
    valori_state_root(x, r2);
    VT_CHECK(memcmp(r2, root, 32) == 0);
    VT_EQ_INT(valori_check(x), VALORI_OK);
    valori_close(x);
  }
  valori_buffer_free(db, snap, len);
  valori_close(db);
}

static void test_golden_values(void) {
  golden(VALORI_INDEX_HNSW, VALORI_SOURCE_DIR "/tests/golden/core.txt", VALORI_SOURCE_DIR "/tests/golden/core.vsnap");
}
static void test_golden_values_no_index(void) {
  golden(VALORI_INDEX_NONE, VALORI_SOURCE_DIR "/tests/golden/core-flat.txt",
         VALORI_SOURCE_DIR "/tests/golden/core-flat.vsnap");
}

int main(void) {
  VT_RUN(test_golden_values);
  VT_RUN(test_golden_values_no_index);
  return VT_DONE();
}
