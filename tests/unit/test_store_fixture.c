/*
** test_store_fixture.c: the committed format fixtures (tests/fixtures/v1-*) must open, forever,
** with the state recorded in their EXPECTED file: read-only over the POSIX VFS in place (nothing in
** the source tree is modified), fully verified, and writable on a copy in the fault VFS (the old
** format can be appended to). v1-torn recovers with its torn tail trimmed; v1-corrupt is refused
** with ECORRUPT naming the damaged segment. The v1-* stores predate HEAD: they open without one
** (only their snapshots prove a height) and a writable open adds it. v1-head-store was closed
** cleanly by a library that writes HEAD (version 1); v1-head-lost is it with its last record cut
** off at a record boundary, refused because the log ends below HEAD's floor.
*/
#define _DEFAULT_SOURCE 1
#include <dirent.h>

#include "store_wl.h"
#ifdef VALORI_HAVE_NATIVE
#include "valori_native.h"
#endif

static int expected(const char *dir, uint64_t *h, uint8_t root[32]) {
  char path[1024], hex[65];
  unsigned long long hh;
  FILE *f;
  int i;
  if (snprintf(path, sizeof path, "%s/EXPECTED", dir) >= (int)sizeof path) return 0;
  f = fopen(path, "r");
  if (!f) return 0;
  if (fscanf(f, "height %llu root %64s", &hh, hex) != 2) { fclose(f); return 0; }
  fclose(f);
  *h = hh;
  for (i = 0; i < 32; i++) {
    unsigned b;
    if (sscanf(hex + 2 * i, "%2x", &b) != 1) return 0;
    root[i] = (uint8_t)b;
  }
  return 1;
}

#ifdef VALORI_HAVE_NATIVE
/* Copies every file of dir into a fault-VFS file system. */
static fv_fs *load_into_fv(const char *dir) {
  fv_fs *fs = fv_new(1);
  DIR *d = opendir(dir);
  struct dirent *e;
  if (!d) return fs;
  while ((e = readdir(d)) != NULL) {
    char path[1024];
    FILE *f;
    long n;
    uint8_t *buf;
    if (e->d_name[0] == '.' || strcmp(e->d_name, "EXPECTED") == 0) continue;
    if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
    f = fopen(path, "rb");
    if (!f) continue;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (uint8_t *)malloc(n > 0 ? (size_t)n : 1);
    if (fread(buf, 1, (size_t)n, f) == (size_t)n) fv_file_set(fs, e->d_name, buf, (size_t)n);
    free(buf);
    fclose(f);
  }
  closedir(d);
  return fs;
}

static void check_fixture(const char *name, int want_rc, int has_head) {
  char dir[1024];
  uint64_t h = 0, got_h = 0;
  uint8_t root[32], got[32];
  valori_vfs *v = NULL;
  valori_options o;
  valori_db *db = NULL;
  valori_recovery rep;
  int rc;
  snprintf(dir, sizeof dir, "%s/tests/fixtures/%s", VALORI_SOURCE_DIR, name);
  VT_REQUIRE(expected(dir, &h, root));
  VT_REQUIRE(valori_posix_vfs_open(dir, 0, &v) == VALORI_OK);
  valori_options_init(&o);
  o.flags = VALORI_OPEN_READONLY;
  o.vfs = v;
  rc = valori_open(dir, &o, &db);
  VT_EQ_INT(rc, want_rc);
  if (db) {
    valori_stats st;
    valori_stats_get(db, &st);
    valori_state_root(db, got);
    VT_EQ_INT(st.height, h);
    VT_CHECK(memcmp(got, root, 32) == 0);
    VT_EQ_INT(valori_check(db), VALORI_OK);
    valori_close(db);
  }
  rc = valori_verify(&o, &rep, &got_h, got);
  VT_EQ_INT(rc, want_rc);
  VT_EQ_INT(rep.head, has_head);
  if (rc == VALORI_OK) {
    VT_EQ_INT(got_h, h);
    VT_CHECK(memcmp(got, root, 32) == 0);
    if (strcmp(name, "v1-torn") == 0) VT_EQ_INT(rep.trimmed_bytes, 61);
    VT_EQ_INT(rep.proven_height, has_head ? h : 22); /* HEAD's clean close, else the newest snapshot */
    VT_EQ_INT(rep.proven_by, has_head ? VALORI_PROOF_HEAD_CLOSE : VALORI_PROOF_SNAPSHOT);
  } else {
    VT_CHECK(strncmp(rep.file, "log-", 4) == 0);
    if (has_head) { /* v1-head-lost: the heights of the loss are named */
      VT_EQ_INT(rep.proven_height, h);
      VT_EQ_INT(rep.log_end_height, h - 1);
    }
  }
  valori_posix_vfs_close(v);
  /* writable on a copy: recover (trim), append, reopen */
  if (want_rc == VALORI_OK) {
    fv_fs *fs = load_into_fv(dir);
    float vec[WL_DIM] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint64_t id;
    db = wl_open(fv_vfs(fs), NULL, 0, &rc);
    VT_REQUIRE(db != NULL);
    VT_CHECK(fv_file_exists(fs, "HEAD")); /* a writable open of a store without HEAD adds it */
    VT_EQ_INT(valori_insert(db, vec, 1, NULL, 0, &id), VALORI_OK);
    valori_close(db);
    db = wl_open(fv_vfs(fs), NULL, 0, &rc);
    VT_REQUIRE(db != NULL);
    {
      valori_stats st;
      valori_stats_get(db, &st);
      VT_EQ_INT(st.height, h + 1);
    }
    valori_close(db);
    fv_free(fs);
  }
}

static void test_v1_store(void) { check_fixture("v1-store", VALORI_OK, 0); }
static void test_v1_torn(void) { check_fixture("v1-torn", VALORI_OK, 0); }
static void test_v1_corrupt(void) { check_fixture("v1-corrupt", VALORI_ECORRUPT, 0); }
static void test_v1_head_store(void) { check_fixture("v1-head-store", VALORI_OK, 1); }
static void test_v1_head_lost(void) { check_fixture("v1-head-lost", VALORI_ECORRUPT, 1); }
#endif

int main(void) {
#ifdef VALORI_HAVE_NATIVE
  VT_RUN(test_v1_store);
  VT_RUN(test_v1_torn);
  VT_RUN(test_v1_corrupt);
  VT_RUN(test_v1_head_store);
  VT_RUN(test_v1_head_lost);
#else
  printf("no native VFS in this build: fixtures skipped\n");
#endif
  return VT_DONE();
}
