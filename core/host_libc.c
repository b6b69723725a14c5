/*
** host_libc.c: the libc allocator for hosted builds. It is the only file in core/ that touches
** libc's heap; a freestanding build (VALORI_FREESTANDING) leaves it out and passes its own
** valori_allocator in valori_options.
**
** On Linux a block of VL_HUGE_MIN bytes or more (the vector, link and id arrays of a large store)
** is advised for transparent huge pages (madvise MADV_HUGEPAGE on the 2 MiB pages inside it), after
** every allocation and growth. A search fetches a few hundred vectors at random places of a
** 100+ MB array: with 4 KiB pages nearly every fetch also misses the TLB, with 2 MiB pages the whole
** array fits in it (bench/README.md, "Huge pages", measures what that gives). It
** changes no byte of any state; where the kernel refuses (THP "never", other kernels) the advice is
** ignored. VALORI_NO_HUGEPAGES=1 in the environment turns the advice off (for hosts that keep THP
** away from their processes, and for A/B measurements); a host that wants other memory behaviour
** altogether passes its own valori_allocator.
*/
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include "valori.h"

#ifndef VALORI_FREESTANDING
#include <stdint.h>
#include <stdlib.h>
#if defined(__linux__) && !defined(__EMSCRIPTEN__)
#include <sys/mman.h>
#endif

#define VL_HUGE_PAGE ((uintptr_t)2 << 20)
#define VL_HUGE_MIN ((size_t)8 << 20)

static void advise_huge(void *p, size_t n) {
#if defined(__linux__) && !defined(__EMSCRIPTEN__) && defined(MADV_HUGEPAGE)
  uintptr_t b = ((uintptr_t)p + VL_HUGE_PAGE - 1) & ~(VL_HUGE_PAGE - 1);
  uintptr_t e = ((uintptr_t)p + n) & ~(VL_HUGE_PAGE - 1);
  const char *off;
  if (!p || n < VL_HUGE_MIN || e <= b) return;
  off = getenv("VALORI_NO_HUGEPAGES");
  if (off && *off && *off != '0') return;
  (void)madvise((void *)b, (size_t)(e - b), MADV_HUGEPAGE);
#else
  (void)p, (void)n;
#endif
}

static void *libc_alloc(void *ctx, size_t n) {
  void *p = malloc(n);
  (void)ctx;
  advise_huge(p, n);
  return p;
}
static void *libc_realloc(void *ctx, void *p, size_t o, size_t n) {
  void *q = realloc(p, n);
  (void)ctx, (void)o;
  advise_huge(q, n);
  return q;
}
static void libc_free(void *ctx, void *p, size_t n) { (void)ctx; (void)n; free(p); }

static const valori_allocator vl_libc = {NULL, libc_alloc, libc_realloc, libc_free};

const valori_allocator *valori_libc_allocator(void) { return &vl_libc; }
#else
const valori_allocator *valori_libc_allocator(void) { return NULL; }
#endif
