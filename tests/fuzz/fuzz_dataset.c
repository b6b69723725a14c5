/*
** fuzz_dataset.c: libFuzzer target for the data file decoders of `valori import`
** (native/dataset/vds.h): fvecs, bvecs, ivecs, npy, idx, JSON lines and labels, over bytes in
** memory. Input: one byte choosing the decoder (value % 7), then the file's bytes.
** Checks what the readers promise: every decoded component converts to Q16.16 (a reader never hands
** out NaN, infinity or a value out of range), dim is 1..VALORI_MAX_DIM, a row count the header
** declares is never exceeded, metadata is at most VALORI_MAX_META bytes, an error carries a code
** and a message, and skipping k rows then reading gives the rows a plain read gives from row k on.
** Must never crash, leak or trip a sanitizer. The corpus tests/fuzz/corpus/dataset is written by
** `python3 tests/import/import_test.py corpus - tests/fuzz/corpus/dataset`.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "valori.h"
#include "vds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BATCH 7
#define MAX_ROWS 4096 /* rows compared between the plain and the skipping reader */

static const vds_format formats[6] = {VDS_FVECS, VDS_BVECS, VDS_IVECS, VDS_NPY, VDS_IDX, VDS_JSONL};

static void check_err(int rc, const vds_err *e) {
  if (rc == VALORI_OK) return;
  if (e->code != rc || !e->msg[0]) abort(); /* every failure says what and why */
}

/* Reads every row; keeps up to MAX_ROWS of them in *keep (dim floats each). Returns the rows read;
** *failed = 1 when a read failed (a bad row: its batch counts as not read). */
static size_t read_all(vds_reader *r, float *keep, uint64_t first_row, int *failed) {
  float vecs[BATCH * VALORI_MAX_DIM];
  vds_extra x[BATCH];
  uint32_t dim = vds_dim(r);
  size_t total = 0;
  vds_err e;
  *failed = 0;
  for (;;) {
    size_t got = 0, i, j;
    int rc = vds_read(r, BATCH, vecs, x, &got, &e);
    check_err(rc, &e);
    if (rc) *failed = 1;
    if (rc || got == 0) break;
    if (got > BATCH || vds_dim(r) != dim) abort();
    if (vds_rows(r) != UINT64_MAX && vds_position(r) > vds_rows(r)) abort();
    for (i = 0; i < got; i++) {
      int32_t q;
      for (j = 0; j < dim; j++)
        if (valori_f32_to_q16(vecs[i * dim + j], &q) != VALORI_OK) abort();
      if (x[i].meta_len > VALORI_MAX_META || (x[i].meta_len && !x[i].meta)) abort();
      if (keep && first_row + total + i < MAX_ROWS) memcpy(keep + (first_row + total + i) * dim, vecs + i * dim, dim * sizeof(float));
    }
    total += got;
  }
  return total;
}

static void fuzz_reader(const uint8_t *buf, size_t len, vds_format f) {
  vds_reader *r = NULL, *r2 = NULL;
  vds_err e;
  float *all = NULL, *again = NULL;
  size_t n, n2;
  uint64_t skipped = 0, k;
  int failed = 0, failed2 = 0;
  uint32_t dim;
  int rc = vds_open_mem(buf, len, f, "fuzz", &r, &e);
  check_err(rc, &e);
  if (rc) {
    if (r) abort();
    return;
  }
  dim = vds_dim(r);
  if (dim > VALORI_MAX_DIM || (dim == 0 && f != VDS_JSONL && vds_rows(r) != 0)) abort();
  if (dim == 0) { /* an empty vecs file, JSON lines without records */
    vds_close(r);
    return;
  }
  all = (float *)calloc((size_t)MAX_ROWS * dim, sizeof(float));
  again = (float *)calloc((size_t)MAX_ROWS * dim, sizeof(float));
  if (!all || !again) abort();
  n = read_all(r, all, 0, &failed);
  vds_close(r);
  /* the same bytes, skipping k rows first: the rows from k on must be the same */
  k = n / 2;
  rc = vds_open_mem(buf, len, f, "fuzz", &r2, &e);
  if (rc) abort(); /* it opened before */
  rc = vds_skip(r2, k, &skipped, &e);
  check_err(rc, &e);
  if (!rc) {
    if (skipped != k || vds_position(r2) != k) abort();
    n2 = read_all(r2, again, k, &failed2);
    /* a file read to its end reads the same from row k on (with a bad row, where the failing batch
    ** starts differs, so only the failure itself must repeat) */
    if (!failed && (failed2 || n2 != n - k)) abort();
    if (failed && !failed2) abort();
    if (!failed && n < MAX_ROWS && memcmp(all + k * dim, again + k * dim, (size_t)(n - k) * dim * sizeof(float)) != 0) abort();
  }
  vds_close(r2);
  free(all);
  free(again);
}

static void fuzz_labels(const uint8_t *buf, size_t len) {
  vds_labels *l = NULL;
  vds_err e;
  uint64_t tags[BATCH], i;
  int rc = vds_labels_open_mem(buf, len, "fuzz", &l, &e);
  check_err(rc, &e);
  if (rc) return;
  for (i = 0; i < vds_labels_count(l) / BATCH + 1 && i < 100000; i++) {
    size_t n = vds_labels_count(l) - i * BATCH < BATCH ? (size_t)(vds_labels_count(l) - i * BATCH) : BATCH;
    rc = vds_labels_read(l, n, tags, &e);
    check_err(rc, &e);
    if (rc) break;
  }
  vds_labels_close(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *copy;
  unsigned which;
  if (size < 1) return 0;
  which = data[0] % 7u;
  /* an exact-size copy, so that a read past the end is seen by ASan */
  copy = (uint8_t *)malloc(size - 1 ? size - 1 : 1);
  if (!copy) return 0;
  memcpy(copy, data + 1, size - 1);
  if (which < 6) fuzz_reader(copy, size - 1, formats[which]);
  else fuzz_labels(copy, size - 1);
  free(copy);
  return 0;
}
