/*
** arena.h: a static-arena valori_allocator for the bare-metal build (no malloc anywhere).
** Power-of-two size classes with one free list each; the vtable passes the size back on free, so
** blocks carry no headers. Also compiled into the hosted runner's self-test (--arena) so its
** behaviour is checked natively.
*/
#ifndef VALORI_IDENTITY_ARENA_H
#define VALORI_IDENTITY_ARENA_H
#include <stddef.h>
#include <stdint.h>

#include "valori.h"

typedef struct wl_arena {
  uint8_t *base, *top, *end;
  void *free_list[32];
  size_t used, peak; /* bytes in live blocks (rounded to their class) */
  size_t exact, exact_peak; /* bytes requested by live blocks */
  valori_allocator vt;
} wl_arena;

/* Binds the arena to [mem, mem + size) and returns its vtable (valid while the arena lives). */
const valori_allocator *wl_arena_init(wl_arena *a, void *mem, size_t size);

#endif
