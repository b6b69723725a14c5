/*
** vds_src.c: byte sources for the dataset readers (vds_src.h): zlib for files (it reads gzip'd and
** plain files alike; gzdirect says which), or a borrowed buffer.
*/
#define _POSIX_C_SOURCE 200809L
#include "vds_src.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "valori.h"

#define VDS_BUF (1u << 18)

int vds_fail(vds_err *e, int code, const char *name, const char *fmt, ...) {
  va_list ap;
  int n;
  if (!e) return code;
  e->code = code;
  n = snprintf(e->msg, sizeof e->msg, "%s: ", name);
  if (n < 0 || (size_t)n >= sizeof e->msg) n = 0;
  va_start(ap, fmt);
  vsnprintf(e->msg + n, sizeof e->msg - (size_t)n, fmt, ap);
  va_end(ap);
  return code;
}

static void set_name(vds_src *s, const char *name) {
  size_t n = strlen(name);
  if (n >= sizeof s->name) { /* keep the end of a long path: it names the file */
    name += n - (sizeof s->name - 4);
    snprintf(s->name, sizeof s->name, "...%s", name);
  } else {
    memcpy(s->name, name, n + 1);
  }
}

int vds_src_open_file(vds_src *s, const char *path, vds_err *e) {
  struct stat st;
  memset(s, 0, sizeof *s);
  set_name(s, path);
  if (stat(path, &st) != 0)
    return vds_fail(e, VALORI_EIO, s->name, "cannot open: %s", strerror(errno));
  if (S_ISDIR(st.st_mode)) return vds_fail(e, VALORI_EINVAL, s->name, "is a directory, not a data file");
  s->file_bytes = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
  s->gz = gzopen(path, "rb");
  if (!s->gz) return vds_fail(e, VALORI_EIO, s->name, "cannot open: %s", strerror(errno ? errno : EIO));
  gzbuffer(s->gz, 1u << 17);
  s->buf = (uint8_t *)malloc(VDS_BUF);
  if (!s->buf) {
    gzclose(s->gz);
    s->gz = NULL;
    return vds_fail(e, VALORI_ENOMEM, s->name, "out of memory");
  }
  /* gzdirect is only meaningful once zlib has looked at the first bytes */
  if (vds_src_fill(s) < 0) {
    int rc = vds_src_error(s, e);
    vds_src_close(s);
    return rc;
  }
  s->plain = gzdirect(s->gz) && s->file_bytes > 0;
  return VALORI_OK;
}

void vds_src_open_mem(vds_src *s, const uint8_t *buf, size_t len, const char *name) {
  memset(s, 0, sizeof *s);
  set_name(s, name);
  s->mem = buf;
  s->mem_len = len;
  s->plain = 1;
}

void vds_src_close(vds_src *s) {
  if (s->gz) gzclose(s->gz);
  free(s->buf);
  s->gz = NULL;
  s->buf = NULL;
}

int vds_src_fill(vds_src *s) {
  int got;
  if (!s->gz) return s->pos < s->mem_len ? 0 : 1;
  if (s->bpos < s->blen) return 0;
  if (s->eof) return 1;
  if (s->ioerr) return -1;
  got = gzread(s->gz, s->buf, VDS_BUF);
  if (got < 0) {
    int err = 0;
    gzerror(s->gz, &err);
    s->ioerr = err ? err : Z_ERRNO;
    return -1;
  }
  s->bpos = 0;
  s->blen = (size_t)got;
  if (got == 0) {
    int err = 0;
    gzerror(s->gz, &err);
    if (err != Z_OK) { /* Z_BUF_ERROR: a gzip stream cut short; Z_DATA_ERROR: damaged; Z_ERRNO: read(2) */
      s->ioerr = err;
      return -1;
    }
    s->eof = 1;
    return 1;
  }
  return 0;
}

size_t vds_src_read(vds_src *s, void *out, size_t n) {
  uint8_t *o = (uint8_t *)out;
  size_t done = 0;
  if (!s->gz) {
    uint64_t left = s->mem_len - s->pos;
    size_t k = left < n ? (size_t)left : n;
    if (k) memcpy(o, s->mem + s->pos, k);
    s->pos += k;
    return k;
  }
  while (done < n) {
    size_t k;
    if (vds_src_fill(s) != 0) break;
    k = s->blen - s->bpos;
    if (k > n - done) k = n - done;
    memcpy(o + done, s->buf + s->bpos, k);
    s->bpos += k;
    done += k;
  }
  s->pos += done;
  return done;
}

uint64_t vds_src_left(const vds_src *s) {
  if (!s->gz) return s->mem_len - s->pos;
  if (s->plain && s->file_bytes >= s->pos) return s->file_bytes - s->pos;
  return UINT64_MAX;
}

double vds_src_fraction(const vds_src *s) {
  if (!s->gz) return s->mem_len ? (double)s->pos / (double)s->mem_len : 1.0;
  if (!s->file_bytes) return -1;
  if (s->plain) return (double)s->pos / (double)s->file_bytes;
  {
    z_off_t off = gzoffset(s->gz); /* compressed bytes read (a little ahead of what was used) */
    double f = off < 0 ? -1 : (double)off / (double)s->file_bytes;
    return f > 1 ? 1 : f;
  }
}

int vds_src_error(const vds_src *s, vds_err *e) {
  if (s->ioerr == Z_BUF_ERROR) return vds_fail(e, VALORI_ECORRUPT, s->name, "the gzip stream is cut short (truncated file)");
  if (s->ioerr == Z_DATA_ERROR) return vds_fail(e, VALORI_ECORRUPT, s->name, "damaged gzip data");
  if (s->ioerr == Z_MEM_ERROR) return vds_fail(e, VALORI_ENOMEM, s->name, "out of memory");
  return vds_fail(e, VALORI_EIO, s->name, "read error: %s", strerror(errno ? errno : EIO));
}
