/*
** test_hugepages.c: the libc allocator (core/host_libc.c) advises blocks of 8 MiB and more for
** transparent huge pages, after an allocation and after a growth, and leaves smaller blocks alone;
** VALORI_NO_HUGEPAGES=1 turns the advice off. The advice is read back from the kernel: the mapping
** holding the block's first whole 2 MiB page carries the "hg" flag in /proc/self/smaps (VmFlags).
** A store's own arrays get it too (a 3,000 x 1,024 in-memory store: 12 MB of vectors). Linux only:
** elsewhere, or where the kernel has no THP, the test says so and is skipped (exit 77).
*/
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <unistd.h>

#include "vl_int.h"
#include "vt.h"

#define HUGE ((uintptr_t)2 << 20)

/* 1 if the mapping containing addr has VmFlags "hg", 0 if not, -1 if smaps cannot say. */
static int advised(uintptr_t addr) {
  char line[512];
  int in = 0, r = -1;
  FILE *f = fopen("/proc/self/smaps", "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
      in = addr >= lo && addr < hi;
      continue;
    }
    if (in && !strncmp(line, "VmFlags:", 8)) {
      r = strstr(line, " hg") != NULL;
      break;
    }
  }
  fclose(f);
  return r;
}

static uintptr_t first_huge(const void *p) { return ((uintptr_t)p + HUGE - 1) & ~(HUGE - 1); }

/* Any mapping of at least min bytes with "hg": a store's arrays are not reachable from the API. */
static int any_advised(unsigned long min) {
  char line[512];
  unsigned long lo = 0, hi = 0;
  int found = 0;
  FILE *f = fopen("/proc/self/smaps", "r");
  if (!f) return 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long a, b;
    if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' ')) {
      lo = a, hi = b;
      continue;
    }
    if (!strncmp(line, "VmFlags:", 8) && strstr(line, " hg") && hi - lo >= min) found = 1;
  }
  fclose(f);
  return found;
}

static void test_blocks(void) {
  const valori_allocator *a = valori_libc_allocator();
  size_t big = (size_t)16 << 20, bigger = (size_t)40 << 20, small = (size_t)1 << 20;
  uint8_t *p, *q, *s;
  unsetenv("VALORI_NO_HUGEPAGES");
  p = a->alloc(a->ctx, big);
  s = a->alloc(a->ctx, small);
  VT_REQUIRE(p && s);
  memset(p, 1, big);
  VT_EQ_INT(advised(first_huge(p)), 1);
  q = a->realloc(a->ctx, p, big, bigger);
  VT_REQUIRE(q);
  VT_CHECK(q[big - 1] == 1);
  VT_EQ_INT(advised(first_huge(q) + ((size_t)32 << 20)), 1); /* the grown part too */
  VT_EQ_INT(advised((uintptr_t)s), 0);                       /* 1 MiB: the heap, not advised */
  a->free(a->ctx, q, bigger);
  a->free(a->ctx, s, small);
}

static void test_off(void) {
  const valori_allocator *a = valori_libc_allocator();
  size_t big = (size_t)16 << 20;
  uint8_t *p;
  setenv("VALORI_NO_HUGEPAGES", "1", 1);
  p = a->alloc(a->ctx, big);
  VT_REQUIRE(p);
  VT_EQ_INT(advised(first_huge(p)), 0);
  a->free(a->ctx, p, big);
  unsetenv("VALORI_NO_HUGEPAGES");
}

static void test_store(void) {
  enum { N = 3000, D = 1024 };
  valori_options o;
  valori_db *db;
  float *v = malloc((size_t)N * D * sizeof *v);
  uint64_t first;
  size_t i;
  VT_REQUIRE(v);
  for (i = 0; i < (size_t)N * D; i++) v[i] = (float)(i % 97) / 97.0f;
  valori_options_init(&o);
  o.dim = D;
  VT_REQUIRE(valori_open(":memory:", &o, &db) == VALORI_OK);
  VT_EQ_INT(valori_insert_batch(db, N, v, NULL, NULL, NULL, &first), VALORI_OK);
  VT_CHECK(any_advised((unsigned long)8 << 20));
  VT_EQ_INT(valori_close(db), VALORI_OK);
  free(v);
}

int main(void) {
#ifdef __linux__
  if (access("/sys/kernel/mm/transparent_hugepage/enabled", R_OK) || advised((uintptr_t)&main) < 0) {
    printf("no transparent huge pages or no /proc/self/smaps here: skipped\n");
    return 77;
  }
  VT_RUN(test_blocks);
  VT_RUN(test_off);
  VT_RUN(test_store);
  return VT_DONE();
#else
  printf("not Linux: skipped\n");
  return 77;
#endif
}
