/*
** example.c: the README's C example as a real program, against the installed library
** (examples/c/README.md): an in-memory database, then the same writes in a durable store on disk
** (the POSIX VFS of valori_native.h) that is closed, reopened and found identical.
**
**   cc -std=c11 example.c $(pkg-config --cflags --libs valori) -o example
**   ./example [DIR]        DIR: where the durable store goes (default: valori_example_db)
**
** Prints what it did; exits 0 when every step worked, 1 otherwise (the failing call is named).
*/
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "valori.h"
#include "valori_native.h"

/* Reports a failed call and yields 1 (the program's exit status). */
static int fail(const char *what, int rc) {
  fprintf(stderr, "example: %s: %s (%s)\n", what, valori_strerror(rc), valori_code_name(rc));
  return 1;
}

static void print_root(const char *label, const uint8_t root[32]) {
  int i;
  printf("%s", label);
  for (i = 0; i < 32; i++) printf("%02x", root[i]);
  printf("\n");
}

/* The writes both databases receive: three records, one rejected insert, one search. */
static int write_and_search(valori_db *db, const char *name) {
  const float v[3][3] = {{0.5f, -1.25f, 3.0f}, {0.0f, 1.0f, 2.0f}, {-4.0f, 0.25f, 0.125f}};
  const char *notes[3] = {"note", "todo", "idea"};
  float bad[3] = {1.0f, NAN, 0.0f};
  uint64_t id, first;
  valori_hit hits[10];
  size_t n, i;
  valori_search_params p = {.k = 10};
  int rc;
  if ((rc = valori_insert(db, v[0], /*tag*/ 7, notes[0], strlen(notes[0]), &id)) != VALORI_OK) return fail("insert", rc);
  {
    const void *metas[2] = {notes[1], notes[2]};
    size_t lens[2] = {strlen(notes[1]), strlen(notes[2])};
    uint64_t tags[2] = {7, 8};
    rc = valori_insert_batch(db, 2, &v[1][0], tags, metas, lens, &first); /* atomic: both or none */
    if (rc != VALORI_OK) return fail("insert_batch", rc);
  }
  /* bad input gets a stable code and changes nothing */
  rc = valori_insert(db, bad, 7, NULL, 0, &id);
  if (rc != VALORI_ENAN) {
    fprintf(stderr, "example: a NaN component gave %s, expected ENAN\n", valori_code_name(rc));
    return 1;
  }
  printf("%s: a NaN component is refused: %s (%s)\n", name, valori_code_name(rc), valori_strerror(rc));
  if ((rc = valori_search(db, NULL, v[0], &p, hits, &n)) != VALORI_OK) return fail("search", rc);
  printf("%s: %zu hits for record 1's vector:", name, n);
  for (i = 0; i < n; i++) printf(" id %" PRIu64 " (distance %" PRId64 ")", hits[i].id, hits[i].distance);
  printf("\n");
  if (n != 3 || hits[0].id != 1 || hits[0].distance != 0) {
    fprintf(stderr, "example: expected 3 hits, the first being record 1 at distance 0\n");
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "valori_example_db";
  valori_options o;
  valori_db *mem = NULL, *disk = NULL;
  valori_vfs *vfs = NULL;
  valori_stats st;
  uint8_t root_mem[32], root_disk[32], root_again[32];
  int rc, bad = 0;

  printf("valori %s\n", VALORI_VERSION_STRING);
  /* 1. in memory: vfs = NULL */
  valori_options_init(&o);
  o.dim = 3;
  if ((rc = valori_open(":memory:", &o, &mem)) != VALORI_OK) return fail("open :memory:", rc);
  bad = write_and_search(mem, "memory");
  valori_state_root(mem, root_mem);
  print_root("memory: state root ", root_mem);
  if ((rc = valori_close(mem)) != VALORI_OK && !bad) bad = fail("close", rc);
  if (bad) return 1;

  /* 2. on disk: a store directory through the POSIX VFS; full durability (every write is fsync'd
  ** before it returns). A store that already exists is refused here, to keep the example's
  ** comparison exact: delete the directory to run it again. */
  if ((rc = valori_posix_vfs_open(dir, 1, &vfs)) != VALORI_OK) return fail(dir, rc);
  o.flags = VALORI_OPEN_CREATE;
  o.vfs = vfs;
  if ((rc = valori_open(dir, &o, &disk)) != VALORI_OK) {
    valori_posix_vfs_close(vfs);
    return fail(dir, rc);
  }
  valori_stats_get(disk, &st);
  if (st.height != 0) {
    fprintf(stderr, "example: %s already holds a store at height %" PRIu64 "; remove it first\n", dir, st.height);
    valori_close(disk);
    valori_posix_vfs_close(vfs);
    return 1;
  }
  bad = write_and_search(disk, "disk");
  valori_state_root(disk, root_disk);
  if ((rc = valori_close(disk)) != VALORI_OK && !bad) bad = fail("close", rc);
  /* reopen: dim 0 = use the recorded configuration; recovery replays the log */
  o.dim = 0;
  o.flags = 0;
  if (!bad && (rc = valori_open(dir, &o, &disk)) != VALORI_OK) bad = fail("reopen", rc);
  if (!bad) {
    valori_stats_get(disk, &st);
    valori_state_root(disk, root_again);
    printf("disk: reopened %s at height %" PRIu64 " with %" PRIu64 " records\n", dir, st.height, st.records);
    print_root("disk: state root ", root_again);
    if (memcmp(root_mem, root_disk, 32) != 0 || memcmp(root_disk, root_again, 32) != 0) {
      fprintf(stderr, "example: the roots differ (memory, disk, reopened)\n");
      bad = 1;
    } else {
      printf("same state root in memory, on disk and after the reopen\n");
    }
    if ((rc = valori_close(disk)) != VALORI_OK && !bad) bad = fail("close", rc);
  }
  valori_posix_vfs_close(vfs);
  return bad;
}
