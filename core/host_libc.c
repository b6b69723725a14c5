/*
** host_libc.c: the libc allocator for hosted builds. It is the only file in core/ that touches
** libc's heap; a freestanding build (VALORI_FREESTANDING) leaves it out and passes its own
** valori_allocator in valori_options.
*/
#include "valori.h"

#ifndef VALORI_FREESTANDING
#include <stdlib.h>

static void *libc_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void *libc_realloc(void *ctx, void *p, size_t o, size_t n) { (void)ctx; (void)o; return realloc(p, n); }
static void libc_free(void *ctx, void *p, size_t n) { (void)ctx; (void)n; free(p); }

static const valori_allocator vl_libc = {NULL, libc_alloc, libc_realloc, libc_free};

const valori_allocator *valori_libc_allocator(void) { return &vl_libc; }
#else
const valori_allocator *valori_libc_allocator(void) { return NULL; }
#endif
