/*
** vds.h: streaming readers for vector data files, the decoders behind `valori import` and
** `valori search --row` (docs/IMPORT.md). One reader interface over every format:
**   fvecs / bvecs / ivecs  SIFT's formats: per row a little-endian int32 dim, then dim float32 /
**                          uint8 / int32 components
**   npy                    NumPy .npy, versions 1-3, a C-order 2-D array of float32, float64,
**                          (u)int8, (u)int16, (u)int32 or (u)int64, either byte order
**   idx                    MNIST-style idx files (type byte 08 09 0B 0C 0D 0E, 2 or more dims:
**                          rows = the first, dim = the product of the others)
**   jsonl                  JSON lines: {"vector": [...], "tag": N, "meta": ...} per line (cJSON)
** Any file may be gzip'd (read through zlib, which also reads plain files). A reader owns its file
** and buffers; rows come out as float32 in caller buffers, in file order.
**
** Errors: every function returns a VALORI_* code and fills a vds_err with a message that names the
** file, the row and what is wrong: VALORI_EINVAL (not a file of that format, an unsupported kind
** of array, an unknown format name), VALORI_ECORRUPT (truncated, malformed, sizes that do not add
** up, trailing bytes), VALORI_EDIM (a row of another dimension than the first), VALORI_ETOOBIG
** (dim above VALORI_MAX_DIM, a JSON line above VDS_MAX_LINE), VALORI_ERANGE / VALORI_ENAN /
** VALORI_EINF (a component the store cannot hold), VALORI_EIO (the file cannot be read),
** VALORI_ENOMEM. A header is checked whole at open, before any row is handed out.
*/
#ifndef VALORI_VDS_H
#define VALORI_VDS_H
#include <stddef.h>
#include <stdint.h>

typedef enum vds_format {
  VDS_AUTO = 0, /* from the file name (vds_format_of_path) */
  VDS_FVECS,
  VDS_BVECS,
  VDS_IVECS,
  VDS_NPY,
  VDS_IDX,
  VDS_JSONL
} vds_format;

#define VDS_MAX_LINE (64u << 20) /* bytes of one JSON line */

typedef struct vds_err {
  int code;      /* VALORI_* */
  char msg[320]; /* "FILE: row 12: ..." */
} vds_err;

typedef struct vds_reader vds_reader;

/* A row's extras (JSON lines only; other formats leave has_tag 0 and meta NULL). meta points into
** the reader and stays valid until the next vds_read or vds_close. */
typedef struct vds_extra {
  int has_tag;
  uint64_t tag;
  const uint8_t *meta; /* NULL: none */
  size_t meta_len;
} vds_extra;

/* "fvecs", "bvecs", "ivecs", "npy", "idx", "jsonl" (also "json", "ndjson"); 0 and *out set, or
** VALORI_EINVAL. */
int vds_format_parse(const char *name, vds_format *out);
const char *vds_format_name(vds_format f);
/* By extension, ignoring a trailing ".gz": .fvecs .bvecs .ivecs .npy .jsonl/.ndjson/.json, and
** idx for names containing "-idx" or ending in "ubyte"; VDS_AUTO when nothing fits. */
vds_format vds_format_of_path(const char *path);

/* Opens path (fmt VDS_AUTO: by its name) and checks the header. */
int vds_open_file(const char *path, vds_format fmt, vds_reader **out, vds_err *e);
/* The same over bytes in memory (not gzip'd), borrowed until vds_close; name is for messages. */
int vds_open_mem(const uint8_t *buf, size_t len, vds_format fmt, const char *name, vds_reader **out, vds_err *e);
void vds_close(vds_reader *r);

vds_format vds_format_get(const vds_reader *r);
/* Components per row (for JSON lines: of the first record, 0 for a file without records). */
uint32_t vds_dim(const vds_reader *r);
/* Rows in the file, or UINT64_MAX when the format or compression does not say (JSON lines, gzip'd
** vecs files). */
uint64_t vds_rows(const vds_reader *r);
/* Index of the next row vds_read returns (rows skipped included). */
uint64_t vds_position(const vds_reader *r);
/* Share of the file's bytes consumed, 0..1, or -1 when unknown (memory readers know it). */
double vds_fraction(const vds_reader *r);

/* Reads up to max rows: vecs receives *got * dim floats, extras (may be NULL) *got entries. *got 0
** means the end of the file. A row that cannot be decoded fails the call (nothing of it counts
** as read; earlier rows of the same call are dropped too, so callers see whole batches only). */
int vds_read(vds_reader *r, size_t max, float *vecs, vds_extra *extras, size_t *got, vds_err *e);
/* Skips n rows (fewer at the end of the file: *skipped says how many). */
int vds_skip(vds_reader *r, uint64_t n, uint64_t *skipped, vds_err *e);

/* ---- Labels: an idx1 file (type byte 08, one dim) or a 1-D integer .npy, as u64 tags in row
** order. */
typedef struct vds_labels vds_labels;
int vds_labels_open(const char *path, vds_labels **out, vds_err *e);
int vds_labels_open_mem(const uint8_t *buf, size_t len, const char *name, vds_labels **out, vds_err *e);
uint64_t vds_labels_count(const vds_labels *l);
/* Reads exactly n labels (VALORI_ECORRUPT if the file ends first). */
int vds_labels_read(vds_labels *l, size_t n, uint64_t *tags, vds_err *e);
int vds_labels_skip(vds_labels *l, uint64_t n, vds_err *e);
void vds_labels_close(vds_labels *l);
#endif
