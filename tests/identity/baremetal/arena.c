/* arena.c: see arena.h. */
#include "arena.h"

#include <string.h>

#define MIN_CLASS 4u /* 16 bytes */

static unsigned class_of(size_t n) {
  unsigned c = MIN_CLASS;
  while (((size_t)1 << c) < n) c++;
  return c;
}

static void *a_alloc(void *ctx, size_t n) {
  wl_arena *a = (wl_arena *)ctx;
  unsigned c;
  void *p;
  if (n == 0) n = 1;
  c = class_of(n);
  if (c >= 32) return NULL;
  if (a->free_list[c]) {
    p = a->free_list[c];
    memcpy(&a->free_list[c], p, sizeof(void *));
  } else {
    if ((size_t)(a->end - a->top) < ((size_t)1 << c)) return NULL;
    p = a->top;
    a->top += (size_t)1 << c;
  }
  a->used += (size_t)1 << c;
  if (a->used > a->peak) a->peak = a->used;
  a->exact += n;
  if (a->exact > a->exact_peak) a->exact_peak = a->exact;
  return p;
}

static void a_free(void *ctx, void *p, size_t n) {
  wl_arena *a = (wl_arena *)ctx;
  unsigned c;
  if (!p) return;
  if (n == 0) n = 1;
  c = class_of(n);
  memcpy(p, &a->free_list[c], sizeof(void *));
  a->free_list[c] = p;
  a->used -= (size_t)1 << c;
  a->exact -= n;
}

static void *a_realloc(void *ctx, void *p, size_t o, size_t n) {
  void *q;
  if (!p) return a_alloc(ctx, n);
  if (class_of(o ? o : 1) == class_of(n ? n : 1)) return p;
  q = a_alloc(ctx, n);
  if (!q) return NULL;
  memcpy(q, p, o < n ? o : n);
  a_free(ctx, p, o);
  return q;
}

const valori_allocator *wl_arena_init(wl_arena *a, void *mem, size_t size) {
  uintptr_t b = ((uintptr_t)mem + 15u) & ~(uintptr_t)15u;
  memset(a, 0, sizeof *a);
  a->base = a->top = (uint8_t *)b;
  a->end = (uint8_t *)mem + size;
  a->vt.ctx = a;
  a->vt.alloc = a_alloc;
  a->vt.realloc = a_realloc;
  a->vt.free = a_free;
  return &a->vt;
}
