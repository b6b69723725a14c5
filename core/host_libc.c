/*
** host_libc.c: the libc allocator for hosted builds. It is the only file in core/ that touches
** libc's heap; a freestanding build (VALORI_FREESTANDING) leaves it out and passes its own
** valori_allocator in valori_options.
**
** Blocks under VL_HUGE_MIN bytes come from malloc. On Linux a block of VL_HUGE_MIN bytes or more
** (the vector, link and id arrays of a large store) is a mapping of its own, whole 2 MiB pages
** aligned to 2 MiB, advised for transparent huge pages (madvise MADV_HUGEPAGE), and grown with
** mremap: in place when the address space after it is free, else moved whole onto a fresh aligned
** range, so the kernel carries the pages over instead of copying them. A search fetches a few
** hundred vectors at random places of a 100+ MB array: with 4 KiB pages nearly every fetch also
** misses the TLB, with 2 MiB pages the whole array fits in it (bench/README.md, "Huge pages").
** Why the block is aligned and moved by us rather than left to malloc and realloc: glibc's own
** mmapped blocks start 16 bytes into a page, and moving such a block once its inside is made of
** huge pages held the old and the new copy at once (peak resident memory 1.33x the block while it
** grew; bench/README.md, "Huge pages"); an aligned move holds one.
**
** None of this changes a byte of any state. Where the kernel refuses the advice (THP "never",
** other kernels) it is ignored. VALORI_NO_HUGEPAGES=1 in the environment leaves the advice out
** (for hosts that keep THP away from their processes, and for A/B measurements); the blocks are
** mapped and grown the same way. Under AddressSanitizer every block comes from malloc (so the
** sanitizer checks them all) and is advised after malloc or realloc. Which kind a block is follows
** from its size alone, which the vtable passes to realloc and free (valori.h: the size given at
** allocation; test_store_alloc checks every call keeps to it). A host that wants other memory
** behaviour passes its own valori_allocator.
*/
#define _GNU_SOURCE /* mremap, MREMAP_MAYMOVE, MREMAP_FIXED, madvise, MADV_HUGEPAGE */
#include "valori.h"

#ifndef VALORI_FREESTANDING
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__linux__) && !defined(__EMSCRIPTEN__)
#include <errno.h>
#include <sys/mman.h>
/* Under AddressSanitizer every block stays on malloc, so the sanitizer sees all of them. */
#if defined(MREMAP_MAYMOVE) && defined(MREMAP_FIXED) && !defined(__SANITIZE_ADDRESS__) && !__has_feature(address_sanitizer)
#define VL_MAPPED 1
#endif
#endif

#define VL_HUGE_MIN ((size_t)8 << 20)
#define VL_HUGE_PAGE ((uintptr_t)2 << 20)

/* Advises the whole 2 MiB pages inside [p, p + n) for huge pages, unless VALORI_NO_HUGEPAGES. */
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

#ifdef VL_MAPPED
/* n rounded up to whole 2 MiB pages; 0 when that does not fit in a size_t. */
static size_t whole_pages(size_t n) {
  return n > SIZE_MAX - VL_HUGE_PAGE ? 0 : (n + VL_HUGE_PAGE - 1) & ~(size_t)(VL_HUGE_PAGE - 1);
}

/* len bytes (a multiple of VL_HUGE_PAGE) of fresh address space aligned to VL_HUGE_PAGE, with
** protection prot; NULL on failure. One page more is mapped and the unaligned ends unmapped.
** Writable memory is committed (no MAP_NORESERVE), so running out shows as NULL here, as with
** malloc, not later as the OOM killer; a PROT_NONE reservation commits nothing. */
static void *map_aligned(size_t len, int prot) {
  uint8_t *r, *b;
  if (len == 0 || len > SIZE_MAX - VL_HUGE_PAGE) return NULL;
  r = mmap(NULL, len + VL_HUGE_PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS | (prot == PROT_NONE ? MAP_NORESERVE : 0), -1,
           0);
  if (r == MAP_FAILED) return NULL;
  b = (uint8_t *)(((uintptr_t)r + VL_HUGE_PAGE - 1) & ~(VL_HUGE_PAGE - 1));
  if (b > r) munmap(r, (size_t)(b - r));
  if (r + len + VL_HUGE_PAGE > b + len) munmap(b + len, (size_t)(r + len + VL_HUGE_PAGE - (b + len)));
  return b;
}

static void *big_alloc(size_t n) {
  size_t len = whole_pages(n);
  void *p = map_aligned(len, PROT_READ | PROT_WRITE);
  advise_huge(p, len);
  return p;
}

/* Grows or shrinks a mapped block from o to n bytes (both >= VL_HUGE_MIN); NULL on failure with
** the block as it was. A shrink unmaps the tail (qemu-user's 32-bit targets get an in-place
** shrinking mremap wrong: they protect the pages after the block, not the freed tail). A growth
** tries mremap in place, then a move onto an aligned reservation. Only EINVAL from that move
** (refused before anything is unmapped) falls back to map, copy, unmap; on any other failure the
** kernel may already have unmapped the reservation, so it is not unmapped again (another thread
** may own that range by now): at worst its address space stays reserved, no memory. */
static void *big_realloc(void *p, size_t o, size_t n) {
  size_t ol = whole_pages(o), nl = whole_pages(n);
  void *q, *t;
  if (nl == 0) return NULL;
  if (nl == ol) return p;
  if (nl < ol) {
    munmap((uint8_t *)p + nl, ol - nl);
    return p;
  }
  q = mremap(p, ol, nl, 0); /* in place, when the address space after the block is free */
  if (q != MAP_FAILED) {
    advise_huge(p, nl);
    return p;
  }
  t = map_aligned(nl, PROT_NONE); /* the destination: mremap replaces this reservation */
  if (!t) return NULL;
  q = mremap(p, ol, nl, MREMAP_MAYMOVE | MREMAP_FIXED, t);
  if (q != MAP_FAILED) {
    advise_huge(q, nl);
    return q;
  }
  if (errno != EINVAL) return NULL;
  munmap(t, nl); /* a kernel or emulator without MREMAP_FIXED: map, copy, unmap */
  q = big_alloc(n);
  if (!q) return NULL;
  memcpy(q, p, o < n ? o : n);
  munmap(p, ol);
  return q;
}
#endif

static void *libc_alloc(void *ctx, size_t n) {
  void *p;
  (void)ctx;
#ifdef VL_MAPPED
  if (n >= VL_HUGE_MIN) return big_alloc(n);
#endif
  p = malloc(n);
  advise_huge(p, n);
  return p;
}

static void libc_free(void *ctx, void *p, size_t n) {
  (void)ctx, (void)n;
  if (!p) return;
#ifdef VL_MAPPED
  if (n >= VL_HUGE_MIN) {
    munmap(p, whole_pages(n));
    return;
  }
#endif
  free(p);
}

static void *libc_realloc(void *ctx, void *p, size_t o, size_t n) {
  void *q;
  (void)o;
  if (!p) return libc_alloc(ctx, n);
#ifdef VL_MAPPED
  if (o >= VL_HUGE_MIN && n >= VL_HUGE_MIN) return big_realloc(p, o, n);
  if (o >= VL_HUGE_MIN || n >= VL_HUGE_MIN) { /* crossing the threshold: one copy */
    q = libc_alloc(ctx, n);
    if (!q) return NULL;
    memcpy(q, p, o < n ? o : n);
    libc_free(ctx, p, o);
    return q;
  }
#endif
  q = realloc(p, n);
  advise_huge(q, n);
  return q;
}

static const valori_allocator vl_libc = {NULL, libc_alloc, libc_realloc, libc_free};

const valori_allocator *valori_libc_allocator(void) { return &vl_libc; }
#else
const valori_allocator *valori_libc_allocator(void) { return NULL; }
#endif
