/*
** test_hugepages.c: the libc allocator (core/host_libc.c) advises blocks of 8 MiB and more for
** transparent huge pages, after an allocation and after a growth, and leaves smaller blocks alone;
** VALORI_NO_HUGEPAGES=1 turns the advice off. The advice is read back from the kernel: the mapping
** holding the block's first whole 2 MiB page carries the "hg" flag in /proc/self/smaps (VmFlags).
** A store's own arrays get it too (a 3,000 x 1,024 in-memory store: 12 MB of vectors). Such blocks
** are 2 MiB-aligned mappings of their own, keep their bytes when they grow, shrink or cross the
** threshold either way, and grow without holding two copies: growing one block from 8 MiB to 136 MiB
** by 1.5x steps (as the store's arrays grow, each new tail written) keeps the peak resident memory
** (VmHWM, reset through /proc/self/clear_refs) within 1.2x of the resident memory at the end; the
** earlier allocator (malloc, realloc, then the advice) peaked at 1.33x. Under AddressSanitizer the
** blocks stay on malloc (core/host_libc.c), so alignment and peak are not checked there. Linux
** only: elsewhere, or where the kernel has no THP, the test says so and is skipped (exit 77).
*/
#define _GNU_SOURCE /* MAP_FIXED_NOREPLACE */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vl_int.h"
#include "vt.h"

#define HUGE ((uintptr_t)2 << 20)

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define ON_MALLOC 1 /* host_libc.c keeps every block on malloc */
#else
#define ON_MALLOC 0
#endif

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

/* Crossing the threshold up and down keeps the bytes; a mapped block is 2 MiB-aligned. */
static void test_crossing(void) {
  const valori_allocator *a = valori_libc_allocator();
  size_t small = (size_t)1 << 20, big = (size_t)9 << 20, i;
  uint8_t *p = a->alloc(a->ctx, small), *q;
  VT_REQUIRE(p);
  for (i = 0; i < small; i++) p[i] = (uint8_t)(i * 7);
  q = a->realloc(a->ctx, p, small, big);
  VT_REQUIRE(q);
  VT_CHECK(ON_MALLOC || ((uintptr_t)q & (HUGE - 1)) == 0);
  for (i = 0; i < small && q[i] == (uint8_t)(i * 7); i++) {}
  VT_CHECK(i == small);
  memset(q + small, 3, big - small);
  p = a->realloc(a->ctx, q, big, small / 2); /* back under the threshold: malloc again */
  VT_REQUIRE(p);
  for (i = 0; i < small / 2 && p[i] == (uint8_t)(i * 7); i++) {}
  VT_CHECK(i == small / 2);
  a->free(a->ctx, p, small / 2);
}

/* A mapped block shrinks in place, keeps its bytes and leaves the mapping after it alone (qemu's
** 32-bit targets got an in-place shrinking mremap wrong there), and grows again. */
static void test_shrink(void) {
  const valori_allocator *a = valori_libc_allocator();
  size_t big = (size_t)40 << 20, mid = (size_t)16 << 20, i;
  uint8_t *p = a->alloc(a->ctx, big), *q, *after = NULL;
  VT_REQUIRE(p);
  for (i = 0; i < big; i += 4096) p[i] = (uint8_t)(i >> 12);
#if defined(MAP_FIXED_NOREPLACE)
  if (!ON_MALLOC) { /* a page of our own right after the block, where the space is free */
    void *m = mmap(p + big, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (m == (void *)(p + big)) after = m, after[0] = 77;
    else if (m != MAP_FAILED) munmap(m, 4096);
  }
#endif
  q = a->realloc(a->ctx, p, big, mid);
  VT_REQUIRE(q);
  VT_CHECK(ON_MALLOC || q == p);
  for (i = 0; i < mid && q[i] == (uint8_t)(i >> 12); i += 4096) {}
  VT_CHECK(i >= mid);
  if (after) {
    VT_CHECK(after[0] == 77);
    munmap(after, 4096);
  }
  p = a->realloc(a->ctx, q, mid, big);
  VT_REQUIRE(p);
  for (i = 0; i < mid && p[i] == (uint8_t)(i >> 12); i += 4096) {}
  VT_CHECK(i >= mid);
  p[big - 1] = 1;
  a->free(a->ctx, p, big);
}

/* A size that cannot be rounded to whole pages is a failure (NULL, the block kept), not a wrap. */
static void test_too_big(void) {
  const valori_allocator *a = valori_libc_allocator();
  size_t big = (size_t)9 << 20;
  uint8_t *p;
  if (ON_MALLOC) return; /* the sanitizer's malloc aborts on such sizes by default */
  VT_CHECK(a->alloc(a->ctx, SIZE_MAX - 4096) == NULL);
  p = a->alloc(a->ctx, big);
  VT_REQUIRE(p);
  p[big - 1] = 9;
  VT_CHECK(a->realloc(a->ctx, p, big, SIZE_MAX - 4096) == NULL);
  VT_CHECK(p[big - 1] == 9);
  a->free(a->ctx, p, big);
}

static long status_kb(const char *key) {
  char line[256];
  long v = -1;
  size_t n = strlen(key);
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, key, n)) v = atol(line + n);
  fclose(f);
  return v;
}

static void test_growth_peak(void) {
  const valori_allocator *a = valori_libc_allocator();
  size_t cap = (size_t)8 << 20, old = 0, i;
  uint8_t *p = NULL, *q;
  long base, hwm, rss;
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (!f || fputs("5", f) < 0 || fclose(f)) { /* 5: reset VmHWM to VmRSS */
    printf("  (no /proc/self/clear_refs: peak not measured)\n");
    return;
  }
  base = status_kb("VmRSS:");
  while (cap < ((size_t)190 << 20)) {
    q = p ? a->realloc(a->ctx, p, old, cap) : a->alloc(a->ctx, cap);
    VT_REQUIRE(q);
    for (i = 0; i < old; i += 4096)
      if (q[i] != (uint8_t)(i >> 12)) break;
    VT_CHECK(i >= old);
    for (i = old; i < cap; i += 4096) q[i] = (uint8_t)(i >> 12); /* the new tail, page by page */
    p = q, old = cap;
    cap += cap / 2;
  }
  hwm = status_kb("VmHWM:") - base, rss = status_kb("VmRSS:") - base;
  printf("  grew to %zu MiB: resident +%ld KiB, peak +%ld KiB (%.3f)\n", old >> 20, rss, hwm, (double)hwm / (double)rss);
  VT_CHECK(rss > 0 && (ON_MALLOC || (double)hwm <= 1.2 * (double)rss));
  a->free(a->ctx, p, old);
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
  VT_RUN(test_crossing);
  VT_RUN(test_too_big);
  VT_RUN(test_shrink);
  VT_RUN(test_growth_peak);
  VT_RUN(test_off);
  VT_RUN(test_store);
  return VT_DONE();
#else
  printf("not Linux: skipped\n");
  return 77;
#endif
}
