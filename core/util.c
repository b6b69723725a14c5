/*
** util.c: hash map, heapsort and candidate heaps (see util.h).
*/
#include "util.h"

void vl_map_init(vl_map *m) { memset(m, 0, sizeof *m); }

void vl_map_free(vl_map *m, const valori_allocator *a) {
  vl_free(a, m->keys, (size_t)m->cap * 8);
  vl_free(a, m->vals, (size_t)m->cap * 4);
  vl_map_init(m);
}

static uint32_t map_slot(const vl_map *m, uint64_t key) { return (uint32_t)vl_mix64(key) & (m->cap - 1); }

int vl_map_reserve(vl_map *m, const valori_allocator *a, uint32_t extra) {
  uint64_t need = (uint64_t)m->n + extra;
  uint32_t ncap = m->cap ? m->cap : 16, i;
  uint64_t *nk;
  uint32_t *nv;
  vl_map old;
  while ((uint64_t)ncap < need * 2) {
    if (ncap >= 0x80000000u) return VALORI_ENOMEM;
    ncap *= 2;
  }
  if (ncap == m->cap) return VALORI_OK;
  nk = (uint64_t *)vl_calloc(a, ncap, 8);
  nv = (uint32_t *)vl_calloc(a, ncap, 4);
  if (!nk || !nv) {
    vl_free(a, nk, (size_t)ncap * 8);
    vl_free(a, nv, (size_t)ncap * 4);
    return VALORI_ENOMEM;
  }
  old = *m;
  m->keys = nk; m->vals = nv; m->cap = ncap; m->n = 0; /* zhas/zval carried over */
  for (i = 0; i < old.cap; i++)
    if (old.keys[i]) vl_map_put(m, old.keys[i], old.vals[i]);
  vl_free(a, old.keys, (size_t)old.cap * 8);
  vl_free(a, old.vals, (size_t)old.cap * 4);
  return VALORI_OK;
}

int vl_map_get(const vl_map *m, uint64_t key, uint32_t *val) {
  uint32_t i;
  if (!key) { if (m->zhas && val) *val = m->zval; return (int)m->zhas; }
  if (!m->cap) return 0;
  for (i = map_slot(m, key);; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == key) { if (val) *val = m->vals[i]; return 1; }
    if (!m->keys[i]) return 0;
  }
}

void vl_map_put(vl_map *m, uint64_t key, uint32_t val) {
  uint32_t i;
  if (!key) { m->zhas = 1; m->zval = val; return; }
  if (VL_NEVER(m->n >= m->cap)) return; /* no room reserved: would probe forever (or index cap - 1 of 0) */
  for (i = map_slot(m, key);; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == key) { m->vals[i] = val; return; }
    if (!m->keys[i]) { m->keys[i] = key; m->vals[i] = val; m->n++; return; }
  }
}

void vl_map_del(vl_map *m, uint64_t key) {
  uint32_t i, j, mask = m->cap - 1;
  if (!key) { m->zhas = 0; m->zval = 0; return; }
  if (!m->cap) return;
  for (i = map_slot(m, key);; i = (i + 1) & mask) {
    if (!m->keys[i]) return;
    if (m->keys[i] == key) break;
  }
  /* backward-shift: move later entries of the probe run into the hole when that keeps them
  ** reachable from their home slot */
  for (j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
    uint32_t home = map_slot(m, m->keys[j]);
    if (((j - home) & mask) >= ((j - i) & mask)) {
      m->keys[i] = m->keys[j]; m->vals[i] = m->vals[j]; i = j;
    }
  }
  m->keys[i] = 0; m->vals[i] = 0; m->n--;
}

size_t vl_map_bytes(const vl_map *m) { return (size_t)m->cap * 12; }

static void swap_bytes(uint8_t *a, uint8_t *b, size_t n) {
  while (n--) { uint8_t t = *a; *a++ = *b; *b++ = t; }
}

static void sift(uint8_t *b, size_t root, size_t n, size_t sz, int (*cmp)(const void *, const void *)) {
  for (;;) {
    size_t c = 2 * root + 1, m = root;
    if (c < n && cmp(b + c * sz, b + m * sz) > 0) m = c;
    if (c + 1 < n && cmp(b + (c + 1) * sz, b + m * sz) > 0) m = c + 1;
    if (m == root) return;
    swap_bytes(b + root * sz, b + m * sz, sz);
    root = m;
  }
}

void vl_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
  uint8_t *b = (uint8_t *)base;
  size_t i;
  if (n < 2) return;
  for (i = n / 2; i-- > 0;) sift(b, i, n, size, cmp);
  for (i = n - 1; i > 0; i--) {
    swap_bytes(b, b + i * size, size);
    sift(b, 0, i, size, cmp);
  }
}

int vl_cand_cmp(const void *a, const void *b) {
  const vl_cand *x = (const vl_cand *)a, *y = (const vl_cand *)b;
  return vl_cand_less(x, y) ? -1 : vl_cand_less(y, x) ? 1 : 0;
}

