/*
** vl_int.h: private helpers shared by every core module: allocator wrappers with overflow-checked
** sizes, little-endian encode/decode, a growable byte buffer and a bounded reader. Nothing here
** touches the OS; nothing here keeps state.
*/
#ifndef VL_INT_H
#define VL_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "valori.h"

#define VL_UNUSED(x) ((void)(x))
#define VL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VL_MAX(a, b) ((a) > (b) ? (a) : (b))
#define VL_TRY(expr)               \
  do {                             \
    int vl_rc_ = (expr);           \
    if (vl_rc_ != VALORI_OK) return vl_rc_; \
  } while (0)

/* SQLite-style defensive checks. VL_ALWAYS(X) marks a condition the code believes always holds,
** VL_NEVER(X) one it believes never does ("this commit cannot fail"). Both evaluate to X, so the
** defensive branch stays in release builds; with VALORI_DEBUG (the sanitizer build) a wrong belief
** traps at once instead of being quietly handled. */
#ifdef VALORI_DEBUG
#define VL_ALWAYS(X) ((X) ? 1 : (__builtin_trap(), 0))
#define VL_NEVER(X) ((X) ? (__builtin_trap(), 1) : 0)
#else
#define VL_ALWAYS(X) ((X) ? 1 : 0)
#define VL_NEVER(X) ((X) ? 1 : 0)
#endif

/* ---- Allocation through the vtable. Sizes are checked for overflow before any call. */
static inline void *vl_alloc(const valori_allocator *a, size_t n) {
  return n ? a->alloc(a->ctx, n) : NULL;
}
static inline void vl_free(const valori_allocator *a, void *p, size_t n) {
  if (p) a->free(a->ctx, p, n);
}
/* a*b without overflow; returns 0 and leaves *out on overflow. */
static inline int vl_mul_ok(size_t a, size_t b, size_t *out) {
  if (b && a > SIZE_MAX / b) return 0;
  *out = a * b;
  return 1;
}
/* Allocates n elements of size sz, zero-filled. NULL on overflow or failure. */
static inline void *vl_calloc(const valori_allocator *a, size_t n, size_t sz) {
  size_t bytes;
  void *p;
  if (!vl_mul_ok(n, sz, &bytes) || bytes == 0) return NULL;
  p = a->alloc(a->ctx, bytes);
  if (p) memset(p, 0, bytes);
  return p;
}
/* Grows *p from old_n to new_n elements of size sz (new tail zeroed). VALORI_ENOMEM on failure,
** with *p unchanged. */
static inline int vl_grow(const valori_allocator *a, void **p, size_t old_n, size_t new_n, size_t sz) {
  size_t ob, nb;
  void *q;
  if (!vl_mul_ok(new_n, sz, &nb) || !vl_mul_ok(old_n, sz, &ob)) return VALORI_ENOMEM;
  if (nb <= ob) return VALORI_OK;
  q = *p ? a->realloc(a->ctx, *p, ob, nb) : a->alloc(a->ctx, nb);
  if (!q) return VALORI_ENOMEM;
  memset((uint8_t *)q + ob, 0, nb - ob);
  *p = q;
  return VALORI_OK;
}

/* Grows k parallel arrays from old_n to new_n elements all or nothing: new blocks are allocated
** for arrays 0..k-2 first, then the last array is grown with the allocator's realloc, and only
** when all of that succeeded are the other contents copied and their old blocks freed. A failed
** realloc keeps its block, so a failure leaves every array (and the caller's capacity field)
** exactly as it was. Callers put their largest array last: realloc may grow it in place (the
** default allocator moves blocks of 8 MiB and more with mremap, host_libc.c), so a growth never
** holds two copies of it. sz[i] is the element size of array i; new tails are zeroed. */
static inline int vl_grow_all(const valori_allocator *a, void **const *arr, const size_t *sz, int k, size_t old_n,
                              size_t new_n) {
  void *nb[12];
  size_t bytes[12], ob;
  int i, j;
  if (k > 12 || k < 1) return VALORI_EINVAL;
  for (i = 0; i < k; i++) {
    if (!vl_mul_ok(new_n, sz[i], &bytes[i]) || !vl_mul_ok(old_n, sz[i], &ob)) break;
    if (i == k - 1) { /* the last (largest) array: realloc */
      nb[i] = *arr[i] ? a->realloc(a->ctx, *arr[i], ob ? ob : 1, bytes[i] ? bytes[i] : 1)
                      : a->alloc(a->ctx, bytes[i] ? bytes[i] : 1);
    } else {
      nb[i] = a->alloc(a->ctx, bytes[i] ? bytes[i] : 1);
    }
    if (!nb[i]) break;
  }
  if (i < k) {
    for (j = 0; j < i; j++) a->free(a->ctx, nb[j], bytes[j] ? bytes[j] : 1);
    return VALORI_ENOMEM;
  }
  ob = old_n * sz[k - 1];
  memset((uint8_t *)nb[k - 1] + ob, 0, bytes[k - 1] - ob);
  *arr[k - 1] = nb[k - 1];
  for (i = 0; i < k - 1; i++) {
    ob = old_n * sz[i];
    if (*arr[i]) memcpy(nb[i], *arr[i], ob);
    memset((uint8_t *)nb[i] + ob, 0, bytes[i] - ob);
    if (*arr[i]) a->free(a->ctx, *arr[i], ob ? ob : 1);
    *arr[i] = nb[i];
  }
  return VALORI_OK;
}

/* ---- Little-endian codec (byte by byte: independent of host endianness and alignment). */
/* VL_HOST_LE: the compiler says the host is little-endian, so an array of int32 in host order has
** exactly the bytes of its little-endian encoding and bulk copies (memcpy) may replace the
** per-component codec below; other hosts keep the byte-by-byte loops. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define VL_HOST_LE 1
#endif
static inline void vl_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void vl_put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void vl_put64(uint8_t *p, uint64_t v) { vl_put32(p, (uint32_t)v); vl_put32(p + 4, (uint32_t)(v >> 32)); }
static inline uint16_t vl_get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t vl_get32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t vl_get64(const uint8_t *p) { return (uint64_t)vl_get32(p) | ((uint64_t)vl_get32(p + 4) << 32); }

/* ---- Growable byte buffer (owned; allocator-backed). */
typedef struct vl_buf {
  const valori_allocator *a;
  uint8_t *p;
  size_t len, cap;
} vl_buf;

static inline void vl_buf_init(vl_buf *b, const valori_allocator *a) { b->a = a; b->p = NULL; b->len = b->cap = 0; }
static inline void vl_buf_free(vl_buf *b) { vl_free(b->a, b->p, b->cap); b->p = NULL; b->len = b->cap = 0; }
/* Ensures room for `extra` more bytes. */
static inline int vl_buf_reserve(vl_buf *b, size_t extra) {
  size_t need, ncap;
  if (extra > SIZE_MAX - b->len) return VALORI_ENOMEM;
  need = b->len + extra;
  if (need <= b->cap) return VALORI_OK;
  ncap = b->cap ? b->cap : 256;
  while (ncap < need) ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
  {
    void *q = b->p;
    int rc = vl_grow(b->a, &q, b->cap, ncap, 1);
    if (rc) return rc;
    b->p = (uint8_t *)q;
    b->cap = ncap;
  }
  return VALORI_OK;
}
/* Appends raw bytes; callers reserve first when they need all-or-nothing. */
static inline int vl_buf_put(vl_buf *b, const void *src, size_t n) {
  VL_TRY(vl_buf_reserve(b, n));
  if (n) memcpy(b->p + b->len, src, n);
  b->len += n;
  return VALORI_OK;
}
static inline int vl_buf_u32(vl_buf *b, uint32_t v) { uint8_t t[4]; vl_put32(t, v); return vl_buf_put(b, t, 4); }
static inline int vl_buf_u64(vl_buf *b, uint64_t v) { uint8_t t[8]; vl_put64(t, v); return vl_buf_put(b, t, 8); }

/* ---- Bounded reader: every read checks the remaining length; `bad` latches on the first overrun
** so decoders check once at the end of a section. */
typedef struct vl_rd {
  const uint8_t *p;
  size_t n;   /* bytes left */
  int bad;
} vl_rd;

static inline void vl_rd_init(vl_rd *r, const uint8_t *p, size_t n) { r->p = p; r->n = n; r->bad = 0; }
static inline const uint8_t *vl_rd_take(vl_rd *r, size_t k) {
  const uint8_t *q;
  if (r->bad || k > r->n) { r->bad = 1; return NULL; }
  q = r->p; r->p += k; r->n -= k;
  return q;
}
static inline uint32_t vl_rd_u32(vl_rd *r) { const uint8_t *q = vl_rd_take(r, 4); return q ? vl_get32(q) : 0; }
static inline uint64_t vl_rd_u64(vl_rd *r) { const uint8_t *q = vl_rd_take(r, 8); return q ? vl_get64(q) : 0; }

/* Two-way parallel work (core/host_threads.c). A vl_par is one persistent worker thread, started by
** the first vl_par2 that uses it and joined by vl_par_free (vl_par_new: VALORI_ENOMEM when the worker's
** memory or its mutex and condition variables cannot be had). vl_par2 runs fn(b) on the worker and
** fn(a) on the caller, returning when both are done; serial (fn(a) then fn(b)) when w is NULL, on
** builds without VALORI_THREADS, when the thread cannot be started, or when another thread is using
** the worker at that moment. The two calls must write disjoint memory. vl_par_available: 1 when
** this build can run them on two threads. */
typedef struct vl_par vl_par;
int vl_par_new(const valori_allocator *a, vl_par **out);
void vl_par_free(vl_par *w);
void vl_par2(vl_par *w, void (*fn)(void *), void *a, void *b);
/* An async job: vl_par_async hands fn(arg) to the worker and returns at once (runs it on the caller
** when the worker cannot take it, as vl_par2 would); the caller that started it owns it until
** vl_par_wait, which waits for it to finish and gives the worker back; until then vl_par2 finds the
** worker taken and runs serially, so the owner waits before a vl_par2 it wants in parallel (a reader
** calling vl_par2 meanwhile is correct either way). vl_par_async and vl_par_free wait for the
** previous one first. vl_par_running: it has not finished yet (never blocks).
** vl_par_await waits for it to finish without giving the worker back and writes nothing (but in a
** forked child, where one of the waiting threads runs the job itself), so any number of readers
** may call it while the owner is not running (the owner's exclusive lock); every write of the job
** is visible after it returns. */
void vl_par_async(vl_par *w, void (*fn)(void *), void *arg);
void vl_par_wait(vl_par *w);
int vl_par_running(const vl_par *w);
void vl_par_await(const vl_par *w);
int vl_par_available(void);

#endif /* VL_INT_H */
