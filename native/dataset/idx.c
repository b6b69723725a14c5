/*
** idx.c: the idx file reader (idx.h), over zlib's gzip stream.
*/
#include "idx.h"

#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

static int read_all(gzFile f, void *buf, size_t n, const char *path) {
  uint8_t *p = (uint8_t *)buf;
  while (n) {
    int chunk = n > (1u << 30) ? (1 << 30) : (int)n, got = gzread(f, p, (unsigned)chunk);
    if (got <= 0) {
      fprintf(stderr, "error: %s: truncated or unreadable\n", path);
      return -1;
    }
    p += got;
    n -= (size_t)got;
  }
  return 0;
}

static uint32_t be32(const uint8_t *b) { return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3]; }

/* Opens path and checks its magic; fills the header's dimensions (1 for labels, 3 for images). */
static gzFile open_idx(const char *path, uint32_t magic, uint32_t *dims, int ndims) {
  uint8_t h[16];
  int i;
  gzFile f = gzopen(path, "rb");
  if (!f) {
    fprintf(stderr, "error: cannot open %s (install Debian's dataset-fashion-mnist: scripts/setup.sh)\n", path);
    return NULL;
  }
  if (read_all(f, h, 4 + 4 * (size_t)ndims, path) || be32(h) != magic) {
    fprintf(stderr, "error: %s: not an idx file of the expected kind\n", path);
    gzclose(f);
    return NULL;
  }
  for (i = 0; i < ndims; i++) dims[i] = be32(h + 4 + 4 * i);
  gzbuffer(f, 1u << 20);
  return f;
}

int valori_idx_images(const char *path, size_t max_rows, float **out, size_t *rows, size_t *dim) {
  uint32_t d[3];
  size_t n, dm, i;
  uint8_t *raw;
  float *v;
  gzFile f = open_idx(path, 0x803, d, 3);
  if (!f) return -1;
  n = max_rows && max_rows < d[0] ? max_rows : d[0];
  dm = (size_t)d[1] * d[2];
  if (n == 0 || dm == 0 || dm > (1u << 20)) {
    fprintf(stderr, "error: %s: unusable sizes\n", path);
    gzclose(f);
    return -1;
  }
  raw = (uint8_t *)malloc(n * dm);
  v = (float *)malloc(n * dm * sizeof(float));
  if (!raw || !v || read_all(f, raw, n * dm, path)) {
    free(raw);
    free(v);
    gzclose(f);
    return -1;
  }
  for (i = 0; i < n * dm; i++) v[i] = (float)raw[i];
  free(raw);
  gzclose(f);
  *out = v;
  *rows = n;
  *dim = dm;
  return 0;
}

int valori_idx_labels(const char *path, size_t max_rows, uint8_t **out, size_t *rows) {
  uint32_t d[1];
  size_t n;
  uint8_t *l;
  gzFile f = open_idx(path, 0x801, d, 1);
  if (!f) return -1;
  n = max_rows && max_rows < d[0] ? max_rows : d[0];
  l = (uint8_t *)malloc(n ? n : 1);
  if (!l || read_all(f, l, n, path)) {
    free(l);
    gzclose(f);
    return -1;
  }
  gzclose(f);
  *out = l;
  *rows = n;
  return 0;
}
