/*
** vds_src.h: the byte source under every vds reader (private to native/dataset): a file read through
** zlib (gzip'd or plain) or bytes in memory, with its own read buffer so that line and record reads
** cost no system call each.
*/
#ifndef VALORI_VDS_SRC_H
#define VALORI_VDS_SRC_H
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "vds.h"

typedef struct vds_src {
  gzFile gz;           /* NULL for memory */
  const uint8_t *mem;  /* memory source */
  uint64_t mem_len;
  uint64_t file_bytes; /* size on disk, 0 unknown */
  int plain;           /* 1: the file is not gzip'd (sizes on disk are the data's) */
  uint64_t pos;        /* data bytes consumed */
  uint8_t *buf;        /* file sources: read buffer */
  size_t bpos, blen;
  int eof, ioerr; /* ioerr: zlib's error code (Z_BUF_ERROR, Z_DATA_ERROR, Z_ERRNO...) */
  char name[200];
} vds_src;

/* Fills e (code and "NAME: " + message); returns code. */
int vds_fail(vds_err *e, int code, const char *name, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
int vds_src_open_file(vds_src *s, const char *path, vds_err *e);
void vds_src_open_mem(vds_src *s, const uint8_t *buf, size_t len, const char *name);
void vds_src_close(vds_src *s);
/* Reads up to n bytes; returns how many (< n only at the end or on an I/O error: s->ioerr). */
size_t vds_src_read(vds_src *s, void *out, size_t n);
/* Makes at least one byte available (0) or says end (1) / I/O error (-1). */
int vds_src_fill(vds_src *s);
/* Data bytes left when known (a plain file or memory), else UINT64_MAX. */
/* The error behind a fill that returned -1: ECORRUPT for a cut or damaged gzip stream, EIO else. */
int vds_src_error(const vds_src *s, vds_err *e);
uint64_t vds_src_left(const vds_src *s);
double vds_src_fraction(const vds_src *s);
#endif
