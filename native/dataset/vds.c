/*
** vds.c: the fixed-size row formats (fvecs, bvecs, ivecs, npy, idx), the reader dispatch and the
** labels reader (vds.h). JSON lines are in vds_jsonl.c. Every header field is checked against the
** limits before it sizes anything, every size product is overflow-checked, and a plain (not
** gzip'd) file must be exactly as long as its header says.
*/
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "valori.h"
#include "vds_int.h"

/* ---- element conversion */

static uint64_t load_uint(const uint8_t *p, unsigned size, int big) {
  uint64_t v = 0;
  unsigned i;
  for (i = 0; i < size; i++) v |= (uint64_t)p[big ? size - 1 - i : i] << (8 * i);
  return v;
}

/* Checks a converted component the way the core will (NaN, infinity, |x| > 256), naming it. */
static int check_value(vds_reader *r, float f, uint64_t row, uint32_t j, vds_err *e) {
  if (f != f) return vds_fail(e, VALORI_ENAN, r->src.name, "row %llu component %u is NaN", (unsigned long long)row, j);
  if (f > 3.4e38f || f < -3.4e38f)
    return vds_fail(e, VALORI_EINF, r->src.name, "row %llu component %u is infinite", (unsigned long long)row, j);
  if (f > (float)VALORI_MAX_ABS_INT || f < -(float)VALORI_MAX_ABS_INT)
    return vds_fail(e, VALORI_ERANGE, r->src.name, "row %llu component %u: %g is outside [-%d, %d]", (unsigned long long)row,
                    j, (double)f, VALORI_MAX_ABS_INT, VALORI_MAX_ABS_INT);
  return VALORI_OK;
}

/* Converts dim elements of kind r->el at p to floats, checking each. */
static int convert_row(vds_reader *r, const uint8_t *p, float *out, uint64_t row, vds_err *e) {
  uint32_t j;
  unsigned sz = r->el.size;
  int rc;
  for (j = 0; j < r->dim; j++, p += sz) {
    uint64_t u = load_uint(p, sz, r->el.big);
    float f;
    if (r->el.kind == 'f' && sz == 4) {
      uint32_t b = (uint32_t)u;
      memcpy(&f, &b, 4);
    } else if (r->el.kind == 'f') {
      double d;
      memcpy(&d, &u, 8);
      if (d != d) return vds_fail(e, VALORI_ENAN, r->src.name, "row %llu component %u is NaN", (unsigned long long)row, j);
      if (d > 1.7976931348623157e308 || d < -1.7976931348623157e308)
        return vds_fail(e, VALORI_EINF, r->src.name, "row %llu component %u is infinite", (unsigned long long)row, j);
      if (d > 512 || d < -512)
        return vds_fail(e, VALORI_ERANGE, r->src.name, "row %llu component %u: %g is outside [-%d, %d]", (unsigned long long)row,
                        j, d, VALORI_MAX_ABS_INT, VALORI_MAX_ABS_INT);
      f = (float)d; /* IEEE round to nearest even, as a Float32Array does */
    } else if (r->el.kind == 'i') {
      int64_t v = sz == 8 ? (int64_t)u : (int64_t)(u << (64 - 8 * sz)) >> (64 - 8 * sz); /* sign-extend */
      if (v > VALORI_MAX_ABS_INT || v < -VALORI_MAX_ABS_INT)
        return vds_fail(e, VALORI_ERANGE, r->src.name, "row %llu component %u: %lld is outside [-%d, %d]", (unsigned long long)row,
                        j, (long long)v, VALORI_MAX_ABS_INT, VALORI_MAX_ABS_INT);
      f = (float)v;
    } else {
      if (u > VALORI_MAX_ABS_INT)
        return vds_fail(e, VALORI_ERANGE, r->src.name, "row %llu component %u: %llu is outside [-%d, %d]", (unsigned long long)row,
                        j, (unsigned long long)u, VALORI_MAX_ABS_INT, VALORI_MAX_ABS_INT);
      f = (float)u;
    }
    if ((rc = check_value(r, f, row, j, e)) != VALORI_OK) return rc;
    out[j] = f;
  }
  return VALORI_OK;
}

/* ---- reading whole rows of the fixed-size formats */

static int read_exact(vds_reader *r, void *p, size_t n, uint64_t row, const char *what, vds_err *e) {
  size_t got = vds_src_read(&r->src, p, n);
  if (got == n) return VALORI_OK;
  if (r->src.ioerr) return vds_src_error(&r->src, e);
  return vds_fail(e, VALORI_ECORRUPT, r->src.name, "truncated: the file ends inside %s %llu (%zu of %zu bytes)", what,
                  (unsigned long long)row, got, n);
}

/* Reads the next row's bytes into r->row (vecs: checks its dimension word). 1 = clean end. */
static int next_fixed_row(vds_reader *r, vds_err *e) {
  uint64_t row = r->position;
  int rc, f;
  if (r->rows != UINT64_MAX && row >= r->rows) {
    uint8_t extra;
    /* the end the header promised: anything more is trailing garbage */
    if (vds_src_read(&r->src, &extra, 1) == 1)
      return vds_fail(e, VALORI_ECORRUPT, r->src.name, "trailing bytes after the %llu rows the header declares",
                      (unsigned long long)r->rows);
    if (r->src.ioerr) return vds_src_error(&r->src, e);
    return 1;
  }
  if (r->fmt == VDS_FVECS || r->fmt == VDS_BVECS || r->fmt == VDS_IVECS) {
    uint8_t h[4];
    uint32_t d;
    f = vds_src_fill(&r->src);
    if (f < 0) return vds_src_error(&r->src, e);
    if (f == 1) return 1; /* the end of a vecs file is the end of its rows */
    if ((rc = read_exact(r, h, 4, row, "the dimension word of row", e)) != VALORI_OK) return rc;
    d = (uint32_t)load_uint(h, 4, 0);
    if (d != r->dim)
      return vds_fail(e, VALORI_EDIM, r->src.name, "row %llu declares dim %d; the first row has %u", (unsigned long long)row,
                      (int32_t)d, r->dim);
  }
  return read_exact(r, r->row, r->row_bytes, row, "row", e);
}

static int read_fixed(vds_reader *r, size_t max, float *vecs, vds_extra *extras, size_t *got, vds_err *e) {
  size_t n = 0;
  uint64_t start = r->position;
  while (n < max) {
    int rc = next_fixed_row(r, e);
    if (rc == 1) break;
    if (rc == VALORI_OK) rc = convert_row(r, r->row, vecs + n * r->dim, r->position, e);
    if (rc != VALORI_OK) {
      r->position = start; /* the caller sees whole batches only; the reader is not reusable now */
      r->failed = 1;
      return rc;
    }
    if (extras) memset(&extras[n], 0, sizeof extras[n]);
    n++;
    r->position++;
  }
  *got = n;
  return VALORI_OK;
}

static int skip_fixed(vds_reader *r, uint64_t n, uint64_t *skipped, vds_err *e) {
  uint64_t k = 0;
  while (k < n) {
    int rc = next_fixed_row(r, e);
    if (rc == 1) break;
    if (rc != VALORI_OK) {
      r->failed = 1;
      return rc;
    }
    k++;
    r->position++;
  }
  *skipped = k;
  return VALORI_OK;
}

/* ---- headers */

static int alloc_row(vds_reader *r, vds_err *e) {
  r->row_bytes = (size_t)r->dim * r->el.size;
  r->row = (uint8_t *)malloc(r->row_bytes ? r->row_bytes : 1);
  return r->row ? VALORI_OK : vds_fail(e, VALORI_ENOMEM, r->src.name, "out of memory");
}

/* Checks a plain file's remaining length against rows * bytes per row. */
static int check_length(vds_reader *r, uint64_t per_row, vds_err *e) {
  uint64_t left = vds_src_left(&r->src);
  if (left == UINT64_MAX || r->rows == UINT64_MAX) return VALORI_OK;
  if (per_row && r->rows > UINT64_MAX / per_row)
    return vds_fail(e, VALORI_ECORRUPT, r->src.name, "the header's sizes overflow");
  if (left < r->rows * per_row)
    return vds_fail(e, VALORI_ECORRUPT, r->src.name,
                    "truncated: the header declares %llu rows of %llu bytes (%llu bytes), the file holds %llu",
                    (unsigned long long)r->rows, (unsigned long long)per_row, (unsigned long long)(r->rows * per_row),
                    (unsigned long long)left);
  if (left > r->rows * per_row)
    return vds_fail(e, VALORI_ECORRUPT, r->src.name, "%llu trailing bytes after the %llu rows the header declares",
                    (unsigned long long)(left - r->rows * per_row), (unsigned long long)r->rows);
  return VALORI_OK;
}

static int open_vecs(vds_reader *r, vds_err *e) {
  uint8_t h[4];
  int32_t d;
  uint64_t left;
  int f = vds_src_fill(&r->src);
  r->el.kind = r->fmt == VDS_FVECS ? 'f' : r->fmt == VDS_BVECS ? 'u' : 'i';
  r->el.size = r->fmt == VDS_BVECS ? 1 : 4;
  if (f < 0) return vds_src_error(&r->src, e);
  if (f == 1) { /* an empty file: no rows */
    r->rows = 0;
    return alloc_row(r, e);
  }
  if (vds_src_fill(&r->src) == 0 && r->src.gz && r->src.blen - r->src.bpos >= 4) {
    memcpy(h, r->src.buf + r->src.bpos, 4); /* peek: the first row's dimension word stays in place */
  } else if (!r->src.gz && r->src.mem_len >= 4) {
    memcpy(h, r->src.mem, 4);
  } else {
    return vds_fail(e, VALORI_ECORRUPT, r->src.name, "truncated: shorter than one dimension word");
  }
  d = (int32_t)load_uint(h, 4, 0);
  if (d <= 0) return vds_fail(e, VALORI_ECORRUPT, r->src.name, "row 0 declares dim %d (not a %s file?)", d, vds_format_name(r->fmt));
  if (d > VALORI_MAX_DIM)
    return vds_fail(e, VALORI_ETOOBIG, r->src.name, "row 0 declares dim %d, above the limit %d", d, VALORI_MAX_DIM);
  r->dim = (uint32_t)d;
  left = vds_src_left(&r->src);
  if (left != UINT64_MAX) {
    uint64_t per = 4 + (uint64_t)r->dim * r->el.size;
    if (left % per)
      return vds_fail(e, VALORI_ECORRUPT, r->src.name,
                      "%llu bytes is not a whole number of rows of dim %u (%llu bytes each): truncated or not a %s file",
                      (unsigned long long)left, r->dim, (unsigned long long)per, vds_format_name(r->fmt));
    r->rows = left / per;
  }
  return alloc_row(r, e);
}

static int open_idx(vds_reader *r, vds_err *e) {
  uint8_t h[4], dims[4 * 8];
  int nd, i, rc;
  uint64_t dim = 1;
  if ((rc = read_exact(r, h, 4, 0, "the header, at byte", e)) != VALORI_OK) return rc;
  if (h[0] || h[1]) return vds_fail(e, VALORI_EINVAL, r->src.name, "not an idx file (magic %02x%02x%02x%02x)", h[0], h[1], h[2], h[3]);
  switch (h[2]) {
    case 0x08: r->el.kind = 'u'; r->el.size = 1; break;
    case 0x09: r->el.kind = 'i'; r->el.size = 1; break;
    case 0x0B: r->el.kind = 'i'; r->el.size = 2; break;
    case 0x0C: r->el.kind = 'i'; r->el.size = 4; break;
    case 0x0D: r->el.kind = 'f'; r->el.size = 4; break;
    case 0x0E: r->el.kind = 'f'; r->el.size = 8; break;
    default: return vds_fail(e, VALORI_EINVAL, r->src.name, "not an idx file (unknown type byte 0x%02x)", h[2]);
  }
  r->el.big = 1;
  nd = h[3];
  if (nd == 1)
    return vds_fail(e, VALORI_EINVAL, r->src.name, "a one-dimensional idx file (labels?): vectors need two or more dimensions; pass labels with --labels");
  if (nd < 1 || nd > 8) return vds_fail(e, VALORI_EINVAL, r->src.name, "idx file with %d dimensions (1..8 supported)", nd);
  if ((rc = read_exact(r, dims, 4 * (size_t)nd, 0, "the header, at byte", e)) != VALORI_OK) return rc;
  r->rows = load_uint(dims, 4, 1);
  for (i = 1; i < nd; i++) {
    dim *= load_uint(dims + 4 * i, 4, 1);
    if (dim > VALORI_MAX_DIM) return vds_fail(e, VALORI_ETOOBIG, r->src.name, "rows of more than %d components", VALORI_MAX_DIM);
  }
  if (dim == 0) return vds_fail(e, VALORI_ECORRUPT, r->src.name, "rows of 0 components");
  r->dim = (uint32_t)dim;
  if ((rc = check_length(r, dim * r->el.size, e)) != VALORI_OK) return rc;
  return alloc_row(r, e);
}

/* The .npy header dictionary, a Python literal: {'descr': '<f4', 'fortran_order': False,
** 'shape': (60000, 784), } (keys in any order, each once). */
typedef struct npy_hdr {
  char descr[8];
  int fortran, ndim;
  uint64_t shape[8];
} npy_hdr;

static const char *npy_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

/* A quoted string ('...' or "...", no escapes); returns the position after it or NULL. */
static const char *npy_str(const char *p, const char *end, char *out, size_t cap) {
  char q;
  size_t n = 0;
  if (p >= end || (*p != '\'' && *p != '"')) return NULL;
  q = *p++;
  while (p < end && *p != q) {
    if (*p == '\\' || n + 1 >= cap) return NULL;
    out[n++] = *p++;
  }
  if (p >= end) return NULL;
  out[n] = 0;
  return p + 1;
}

static int parse_npy_dict(const char *p, const char *end, npy_hdr *h) {
  int seen = 0;
  p = npy_ws(p, end);
  if (p >= end || *p++ != '{') return -1;
  for (;;) {
    char key[32];
    p = npy_ws(p, end);
    if (p < end && *p == '}') break;
    if (!(p = npy_str(p, end, key, sizeof key))) return -1;
    p = npy_ws(p, end);
    if (p >= end || *p++ != ':') return -1;
    p = npy_ws(p, end);
    if (strcmp(key, "descr") == 0 && !(seen & 1)) {
      if (!(p = npy_str(p, end, h->descr, sizeof h->descr))) return -1;
      seen |= 1;
    } else if (strcmp(key, "fortran_order") == 0 && !(seen & 2)) {
      if (end - p >= 4 && memcmp(p, "True", 4) == 0) { h->fortran = 1; p += 4; }
      else if (end - p >= 5 && memcmp(p, "False", 5) == 0) { h->fortran = 0; p += 5; }
      else return -1;
      seen |= 2;
    } else if (strcmp(key, "shape") == 0 && !(seen & 4)) {
      if (p >= end || *p++ != '(') return -1;
      h->ndim = 0;
      for (;;) {
        uint64_t v = 0;
        int digits = 0;
        p = npy_ws(p, end);
        if (p < end && *p == ')') { p++; break; }
        while (p < end && *p >= '0' && *p <= '9') {
          if (v > (UINT64_MAX - 9) / 10) return -1;
          v = v * 10 + (uint64_t)(*p++ - '0');
          digits++;
        }
        if (!digits || h->ndim >= 8) return -1;
        h->shape[h->ndim++] = v;
        p = npy_ws(p, end);
        if (p < end && *p == ',') p++;
        else if (p < end && *p == ')') { p++; break; }
        else return -1;
      }
      seen |= 4;
    } else {
      return -1;
    }
    p = npy_ws(p, end);
    if (p < end && *p == ',') p++;
    else if (p < end && *p == '}') break;
    else return -1;
  }
  if (seen != 7) return -1;
  p = npy_ws(p + 1, end); /* padding: spaces and the final newline */
  return p == end ? 0 : -1;
}

/* Reads and checks a .npy header; fills el and the shape. want_ndim 2 (vectors) or 1 (labels). */
int vds_npy_header(vds_src *s, vds_elem *el, npy_hdr_out *out, int want_ndim, vds_err *e) {
  uint8_t m[10];
  uint64_t hl;
  char *txt;
  npy_hdr h;
  size_t got;
  memset(&h, 0, sizeof h);
  got = vds_src_read(s, m, 8);
  if (got < 8 || memcmp(m, "\x93NUMPY", 6) != 0) {
    if (s->ioerr) return vds_src_error(s, e);
    return vds_fail(e, VALORI_EINVAL, s->name, "not a .npy file (no \\x93NUMPY magic)");
  }
  if (m[6] < 1 || m[6] > 3) return vds_fail(e, VALORI_EVERSION, s->name, ".npy format version %u.%u (1..3 supported)", m[6], m[7]);
  if (m[6] == 1) {
    if (vds_src_read(s, m + 8, 2) != 2) return vds_fail(e, VALORI_ECORRUPT, s->name, "truncated .npy header");
    hl = load_uint(m + 8, 2, 0);
  } else {
    uint8_t l[4];
    if (vds_src_read(s, l, 4) != 4) return vds_fail(e, VALORI_ECORRUPT, s->name, "truncated .npy header");
    hl = load_uint(l, 4, 0);
  }
  if (hl > (1u << 20)) return vds_fail(e, VALORI_ECORRUPT, s->name, ".npy header of %llu bytes (at most 1 MiB)", (unsigned long long)hl);
  txt = (char *)malloc(hl ? hl : 1);
  if (!txt) return vds_fail(e, VALORI_ENOMEM, s->name, "out of memory");
  if (vds_src_read(s, txt, hl) != hl) {
    free(txt);
    if (s->ioerr) return vds_src_error(s, e);
    return vds_fail(e, VALORI_ECORRUPT, s->name, "truncated .npy header");
  }
  if (parse_npy_dict(txt, txt + hl, &h) != 0) {
    free(txt);
    return vds_fail(e, VALORI_ECORRUPT, s->name, "malformed .npy header (want {'descr': ..., 'fortran_order': ..., 'shape': (...)})");
  }
  free(txt);
  if ((h.descr[0] != '<' && h.descr[0] != '>' && h.descr[0] != '|' && h.descr[0] != '=') || !strchr("fiu", h.descr[1]) ||
      !h.descr[2] || h.descr[3] || !strchr("1248", h.descr[2]) || (h.descr[1] == 'f' && h.descr[2] != '4' && h.descr[2] != '8'))
    return vds_fail(e, VALORI_EINVAL, s->name, "dtype '%s' is not supported (float32/64, int8..64, uint8..64)", h.descr);
  el->kind = h.descr[1];
  el->size = (unsigned)(h.descr[2] - '0');
  el->big = h.descr[0] == '>';
  if (h.fortran) return vds_fail(e, VALORI_EINVAL, s->name, "a Fortran-order array; save it in C order (np.ascontiguousarray)");
  if (h.ndim != want_ndim)
    return vds_fail(e, VALORI_EINVAL, s->name, "a %d-dimensional array; %s", h.ndim,
                    want_ndim == 2 ? "vectors need a 2-D array (rows, dim)" : "labels need a 1-D array");
  out->rows = h.shape[0];
  out->dim = want_ndim == 2 ? h.shape[1] : 1;
  return VALORI_OK;
}

static int open_npy(vds_reader *r, vds_err *e) {
  npy_hdr_out h;
  int rc = vds_npy_header(&r->src, &r->el, &h, 2, e);
  if (rc) return rc;
  if (h.dim == 0) return vds_fail(e, VALORI_ECORRUPT, r->src.name, "rows of 0 components");
  if (h.dim > VALORI_MAX_DIM)
    return vds_fail(e, VALORI_ETOOBIG, r->src.name, "rows of %llu components, above the limit %d", (unsigned long long)h.dim, VALORI_MAX_DIM);
  r->dim = (uint32_t)h.dim;
  r->rows = h.rows;
  if ((rc = check_length(r, (uint64_t)r->dim * r->el.size, e)) != VALORI_OK) return rc;
  return alloc_row(r, e);
}

/* ---- dispatch */

static const struct { const char *name; vds_format f; } vds_names[] = {
  {"fvecs", VDS_FVECS}, {"bvecs", VDS_BVECS}, {"ivecs", VDS_IVECS}, {"npy", VDS_NPY},
  {"idx", VDS_IDX},     {"jsonl", VDS_JSONL}, {"ndjson", VDS_JSONL}, {"json", VDS_JSONL}};

int vds_format_parse(const char *name, vds_format *out) {
  size_t i;
  for (i = 0; i < sizeof vds_names / sizeof vds_names[0]; i++)
    if (strcmp(name, vds_names[i].name) == 0) {
      *out = vds_names[i].f;
      return VALORI_OK;
    }
  return VALORI_EINVAL;
}

const char *vds_format_name(vds_format f) {
  size_t i;
  for (i = 0; i < sizeof vds_names / sizeof vds_names[0]; i++)
    if (vds_names[i].f == f) return vds_names[i].name;
  return "auto";
}

static int ends_with(const char *s, size_t n, const char *suf) {
  size_t k = strlen(suf);
  return n >= k && strncmp(s + n - k, suf, k) == 0;
}

vds_format vds_format_of_path(const char *path) {
  const char *base = strrchr(path, '/');
  size_t n;
  base = base ? base + 1 : path;
  n = strlen(base);
  if (ends_with(base, n, ".gz")) n -= 3;
  if (ends_with(base, n, ".fvecs")) return VDS_FVECS;
  if (ends_with(base, n, ".bvecs")) return VDS_BVECS;
  if (ends_with(base, n, ".ivecs")) return VDS_IVECS;
  if (ends_with(base, n, ".npy")) return VDS_NPY;
  if (ends_with(base, n, ".jsonl") || ends_with(base, n, ".ndjson") || ends_with(base, n, ".json")) return VDS_JSONL;
  if (ends_with(base, n, "ubyte") || ends_with(base, n, ".idx") || strstr(base, "-idx")) return VDS_IDX;
  return VDS_AUTO;
}

static int open_common(vds_reader *r, vds_format fmt, vds_err *e) {
  if (fmt == VDS_AUTO) fmt = vds_format_of_path(r->src.name);
  if (fmt == VDS_AUTO)
    return vds_fail(e, VALORI_EINVAL, r->src.name,
                    "cannot tell the format from the name; say --format fvecs|bvecs|ivecs|npy|idx|jsonl");
  r->fmt = fmt;
  r->rows = UINT64_MAX;
  switch (fmt) {
    case VDS_FVECS:
    case VDS_BVECS:
    case VDS_IVECS: return open_vecs(r, e);
    case VDS_NPY: return open_npy(r, e);
    case VDS_IDX: return open_idx(r, e);
    case VDS_JSONL: return vds_jsonl_open(r, e);
    default: return vds_fail(e, VALORI_EINVAL, r->src.name, "unknown format");
  }
}

static int finish_open(vds_reader *r, int rc, vds_reader **out) {
  if (rc != VALORI_OK) {
    vds_close(r);
    return rc;
  }
  *out = r;
  return VALORI_OK;
}

int vds_open_file(const char *path, vds_format fmt, vds_reader **out, vds_err *e) {
  vds_reader *r = (vds_reader *)calloc(1, sizeof *r);
  int rc;
  *out = NULL;
  if (!r) return vds_fail(e, VALORI_ENOMEM, path, "out of memory");
  if ((rc = vds_src_open_file(&r->src, path, e)) != VALORI_OK) {
    free(r);
    return rc;
  }
  return finish_open(r, open_common(r, fmt, e), out);
}

int vds_open_mem(const uint8_t *buf, size_t len, vds_format fmt, const char *name, vds_reader **out, vds_err *e) {
  vds_reader *r = (vds_reader *)calloc(1, sizeof *r);
  *out = NULL;
  if (!r) return vds_fail(e, VALORI_ENOMEM, name, "out of memory");
  vds_src_open_mem(&r->src, buf, len, name);
  return finish_open(r, open_common(r, fmt, e), out);
}

void vds_close(vds_reader *r) {
  if (!r) return;
  vds_src_close(&r->src);
  vds_jsonl_free(r);
  free(r->row);
  free(r);
}

vds_format vds_format_get(const vds_reader *r) { return r->fmt; }
uint32_t vds_dim(const vds_reader *r) { return r->dim; }
uint64_t vds_rows(const vds_reader *r) { return r->rows; }
uint64_t vds_position(const vds_reader *r) { return r->position; }
double vds_fraction(const vds_reader *r) { return vds_src_fraction(&r->src); }

int vds_read(vds_reader *r, size_t max, float *vecs, vds_extra *extras, size_t *got, vds_err *e) {
  *got = 0;
  if (r->failed) return vds_fail(e, VALORI_EINVAL, r->src.name, "the reader failed before; reopen it");
  if (r->fmt == VDS_JSONL) return vds_jsonl_read(r, max, vecs, extras, got, e);
  return read_fixed(r, max, vecs, extras, got, e);
}

int vds_skip(vds_reader *r, uint64_t n, uint64_t *skipped, vds_err *e) {
  *skipped = 0;
  if (r->failed) return vds_fail(e, VALORI_EINVAL, r->src.name, "the reader failed before; reopen it");
  if (r->fmt == VDS_JSONL) return vds_jsonl_skip(r, n, skipped, e);
  return skip_fixed(r, n, skipped, e);
}

/* ---- labels */

struct vds_labels {
  vds_src src;
  vds_elem el;
  uint64_t count, position;
};

static int labels_open(vds_labels *l, vds_err *e) {
  uint8_t h[8];
  size_t got;
  if (vds_src_fill(&l->src) < 0) return vds_src_error(&l->src, e);
  if (l->src.gz ? (l->src.blen - l->src.bpos >= 1 && l->src.buf[l->src.bpos] == 0x93)
                : (l->src.mem_len >= 1 && l->src.mem[0] == 0x93)) {
    npy_hdr_out o;
    int rc = vds_npy_header(&l->src, &l->el, &o, 1, e);
    if (rc) return rc;
    if (l->el.kind == 'f') return vds_fail(e, VALORI_EINVAL, l->src.name, "labels must be integers, not floats");
    l->count = o.rows;
  } else {
    got = vds_src_read(&l->src, h, 8);
    if (got < 8) {
      if (l->src.ioerr) return vds_src_error(&l->src, e);
      return vds_fail(e, VALORI_ECORRUPT, l->src.name, "truncated: shorter than an idx1 header");
    }
    if (h[0] || h[1] || h[2] != 0x08 || h[3] != 1)
      return vds_fail(e, VALORI_EINVAL, l->src.name,
                      "not a labels file (want an idx1 file of unsigned bytes, magic 00000801, or a 1-D integer .npy)");
    l->el.kind = 'u';
    l->el.size = 1;
    l->count = load_uint(h + 4, 4, 1);
  }
  {
    uint64_t left = vds_src_left(&l->src);
    if (left != UINT64_MAX && left != l->count * l->el.size)
      return vds_fail(e, VALORI_ECORRUPT, l->src.name, "the header declares %llu labels, the file holds %llu bytes of them",
                      (unsigned long long)l->count, (unsigned long long)left);
  }
  return VALORI_OK;
}

static int labels_finish(vds_labels *l, int rc, vds_labels **out) {
  if (rc) {
    vds_labels_close(l);
    return rc;
  }
  *out = l;
  return VALORI_OK;
}

int vds_labels_open(const char *path, vds_labels **out, vds_err *e) {
  vds_labels *l = (vds_labels *)calloc(1, sizeof *l);
  int rc;
  *out = NULL;
  if (!l) return vds_fail(e, VALORI_ENOMEM, path, "out of memory");
  if ((rc = vds_src_open_file(&l->src, path, e)) != VALORI_OK) {
    free(l);
    return rc;
  }
  return labels_finish(l, labels_open(l, e), out);
}

int vds_labels_open_mem(const uint8_t *buf, size_t len, const char *name, vds_labels **out, vds_err *e) {
  vds_labels *l = (vds_labels *)calloc(1, sizeof *l);
  *out = NULL;
  if (!l) return vds_fail(e, VALORI_ENOMEM, name, "out of memory");
  vds_src_open_mem(&l->src, buf, len, name);
  return labels_finish(l, labels_open(l, e), out);
}

uint64_t vds_labels_count(const vds_labels *l) { return l->count; }

int vds_labels_read(vds_labels *l, size_t n, uint64_t *tags, vds_err *e) {
  size_t i;
  for (i = 0; i < n; i++) {
    uint8_t b[8];
    uint64_t v;
    if (l->position >= l->count)
      return vds_fail(e, VALORI_ECORRUPT, l->src.name, "holds %llu labels; row %llu has none", (unsigned long long)l->count,
                      (unsigned long long)l->position);
    if (vds_src_read(&l->src, b, l->el.size) != l->el.size) {
      if (l->src.ioerr) return vds_src_error(&l->src, e);
      return vds_fail(e, VALORI_ECORRUPT, l->src.name, "truncated at label %llu", (unsigned long long)l->position);
    }
    v = load_uint(b, l->el.size, l->el.big);
    if (l->el.kind == 'i' && l->el.size < 8 && (v >> (8 * l->el.size - 1)) & 1)
      return vds_fail(e, VALORI_ERANGE, l->src.name, "label %llu is negative", (unsigned long long)l->position);
    if (l->el.kind == 'i' && l->el.size == 8 && (v >> 63))
      return vds_fail(e, VALORI_ERANGE, l->src.name, "label %llu is negative", (unsigned long long)l->position);
    tags[i] = v;
    l->position++;
  }
  return VALORI_OK;
}

int vds_labels_skip(vds_labels *l, uint64_t n, vds_err *e) {
  uint64_t tag;
  while (n--) {
    int rc = vds_labels_read(l, 1, &tag, e);
    if (rc) return rc;
  }
  return VALORI_OK;
}

void vds_labels_close(vds_labels *l) {
  if (!l) return;
  vds_src_close(&l->src);
  free(l);
}
