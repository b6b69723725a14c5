/*
** vds_int.h: the reader's internals, shared by vds.c (fixed-size formats, dispatch, labels) and
** vds_jsonl.c (JSON lines). Private to native/dataset.
*/
#ifndef VALORI_VDS_INT_H
#define VALORI_VDS_INT_H
#include "vds.h"
#include "vds_src.h"

typedef struct vds_elem {
  char kind;     /* 'f' float, 'i' signed, 'u' unsigned */
  unsigned size; /* bytes: 1, 2, 4, 8 */
  int big;       /* big-endian */
} vds_elem;

typedef struct npy_hdr_out {
  uint64_t rows, dim;
} npy_hdr_out;

struct vds_reader {
  vds_src src;
  vds_format fmt;
  uint32_t dim;
  uint64_t rows;     /* UINT64_MAX unknown */
  uint64_t position; /* next row */
  int failed;        /* a decode error: the stream position is undefined */
  vds_elem el;       /* fixed-size formats */
  uint8_t *row;      /* one row's bytes */
  size_t row_bytes;
  struct vds_jsonl *js; /* JSON lines state */
};

/* Reads a .npy header from s (the magic first) and checks dtype, order and ndim (2 or 1). */
int vds_npy_header(vds_src *s, vds_elem *el, npy_hdr_out *out, int want_ndim, vds_err *e);

int vds_jsonl_open(vds_reader *r, vds_err *e);
int vds_jsonl_read(vds_reader *r, size_t max, float *vecs, vds_extra *extras, size_t *got, vds_err *e);
int vds_jsonl_skip(vds_reader *r, uint64_t n, uint64_t *skipped, vds_err *e);
void vds_jsonl_free(vds_reader *r);
#endif
