/*
** vbuf.c: growable buffer and JSON output helpers for the server (see vbuf.h). The Q16.16 writer
** prints the exact decimal value with integer arithmetic only (k / 65536 always has a terminating
** decimal expansion of at most 16 digits), so vectors and weights read back bit for bit.
*/
#include "vbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vb_init(vbuf *b) { memset(b, 0, sizeof *b); }

void vb_free(vbuf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

char *vb_take(vbuf *b, size_t *len) {
  char *p = b->p;
  if (len) *len = b->len;
  memset(b, 0, sizeof *b);
  return p;
}

int vb_reserve(vbuf *b, size_t more) {
  size_t need, cap;
  char *np;
  if (b->oom) return -1;
  if (more > SIZE_MAX / 2 - b->len) {
    b->oom = 1;
    return -1;
  }
  need = b->len + more + 1;
  if (need <= b->cap) return 0;
  cap = b->cap ? b->cap : 256;
  while (cap < need) cap *= 2;
  np = (char *)realloc(b->p, cap);
  if (!np) {
    b->oom = 1;
    return -1;
  }
  b->p = np;
  b->cap = cap;
  return 0;
}

void vb_put(vbuf *b, const void *p, size_t n) {
  if (vb_reserve(b, n)) return;
  if (n) memcpy(b->p + b->len, p, n);
  b->len += n;
  b->p[b->len] = 0;
}

void vb_puts(vbuf *b, const char *s) { vb_put(b, s, strlen(s)); }

void vb_printf(vbuf *b, const char *fmt, ...) {
  va_list ap;
  int n;
  char small[256];
  va_start(ap, fmt);
  n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    vb_put(b, small, (size_t)n);
    return;
  }
  if (vb_reserve(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void vb_json_strn(vbuf *b, const char *s, size_t n) {
  size_t i;
  vb_put(b, "\"", 1);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"') vb_put(b, "\\\"", 2);
    else if (c == '\\') vb_put(b, "\\\\", 2);
    else if (c == '\n') vb_put(b, "\\n", 2);
    else if (c == '\r') vb_put(b, "\\r", 2);
    else if (c == '\t') vb_put(b, "\\t", 2);
    else if (c < 0x20 || c == 0x7f) vb_printf(b, "\\u%04x", c);
    else vb_put(b, &s[i], 1);
  }
  vb_put(b, "\"", 1);
}

void vb_json_str(vbuf *b, const char *s) { vb_json_strn(b, s, strlen(s)); }

void vb_json_key(vbuf *b, const char *key) {
  vb_json_str(b, key);
  vb_put(b, ":", 1);
}

void vb_json_u64(vbuf *b, uint64_t v) { vb_printf(b, "%llu", (unsigned long long)v); }
void vb_json_u64str(vbuf *b, uint64_t v) { vb_printf(b, "\"%llu\"", (unsigned long long)v); }
void vb_json_i64str(vbuf *b, int64_t v) { vb_printf(b, "\"%lld\"", (long long)v); }

void vb_json_q16(vbuf *b, int32_t q) {
  uint32_t mag = q < 0 ? (uint32_t)0 - (uint32_t)q : (uint32_t)q;
  uint32_t ip = mag >> 16;
  uint64_t frac = (uint64_t)(mag & 0xffffu) * 152587890625ull; /* * 10^16 / 65536 */
  char digits[17];
  int n = 16;
  if (q < 0) vb_put(b, "-", 1);
  vb_printf(b, "%u", ip);
  if (!frac) return;
  snprintf(digits, sizeof digits, "%016llu", (unsigned long long)frac);
  while (n > 0 && digits[n - 1] == '0') n--;
  vb_put(b, ".", 1);
  vb_put(b, digits, (size_t)n);
}

void vb_json_double(vbuf *b, double d) {
  char s[40];
  int prec;
  if (d != d || d > 1.7976931348623157e308 || d < -1.7976931348623157e308) { /* never in valid data */
    vb_puts(b, "null");
    return;
  }
  for (prec = 15; prec <= 17; prec++) {
    snprintf(s, sizeof s, "%.*g", prec, d);
    if (strtod(s, NULL) == d) break;
  }
  vb_puts(b, s);
}

void vs_hex(char *out, const uint8_t *p, size_t n) {
  static const char hx[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    out[2 * i] = hx[p[i] >> 4];
    out[2 * i + 1] = hx[p[i] & 15];
  }
  out[2 * n] = 0;
}

void vb_json_hex(vbuf *b, const uint8_t *p, size_t n) {
  if (vb_reserve(b, 2 * n + 2)) return;
  b->p[b->len++] = '"';
  vs_hex(b->p + b->len, p, n);
  b->len += 2 * n;
  b->p[b->len++] = '"';
  b->p[b->len] = 0;
}

static const char b64c[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void vb_json_base64(vbuf *b, const void *pv, size_t n) {
  const uint8_t *p = (const uint8_t *)pv;
  size_t i, o;
  if (n > (SIZE_MAX - 8) / 4 * 3 || vb_reserve(b, (n + 2) / 3 * 4 + 2)) return;
  o = b->len;
  b->p[o++] = '"';
  for (i = 0; i + 2 < n; i += 3) {
    uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8) | p[i + 2];
    b->p[o++] = b64c[v >> 18];
    b->p[o++] = b64c[(v >> 12) & 63];
    b->p[o++] = b64c[(v >> 6) & 63];
    b->p[o++] = b64c[v & 63];
  }
  if (i < n) {
    uint32_t v = (uint32_t)p[i] << 16;
    if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
    b->p[o++] = b64c[v >> 18];
    b->p[o++] = b64c[(v >> 12) & 63];
    b->p[o++] = i + 1 < n ? b64c[(v >> 6) & 63] : '=';
    b->p[o++] = '=';
  }
  b->p[o++] = '"';
  b->p[o] = 0;
  b->len = o;
}

size_t vs_b64_max(size_t len) { return len / 4 * 3 + 3; }

static int b64v(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

long vs_b64_decode(const char *s, size_t len, uint8_t *out) {
  size_t i, o = 0;
  if (len % 4) return -1;
  for (i = 0; i < len; i += 4) {
    int a = b64v(s[i]), b = b64v(s[i + 1]), c, d;
    int last = i + 4 == len;
    if (a < 0 || b < 0) return -1;
    if (last && s[i + 2] == '=') {
      if (s[i + 3] != '=' || (b & 15)) return -1; /* canonical: unused bits zero */
      out[o++] = (uint8_t)((a << 2) | (b >> 4));
      break;
    }
    c = b64v(s[i + 2]);
    if (c < 0) return -1;
    if (last && s[i + 3] == '=') {
      if (c & 3) return -1;
      out[o++] = (uint8_t)((a << 2) | (b >> 4));
      out[o++] = (uint8_t)(((b & 15) << 4) | (c >> 2));
      break;
    }
    d = b64v(s[i + 3]);
    if (d < 0) return -1;
    out[o++] = (uint8_t)((a << 2) | (b >> 4));
    out[o++] = (uint8_t)(((b & 15) << 4) | (c >> 2));
    out[o++] = (uint8_t)(((c & 3) << 6) | d);
  }
  return (long)o;
}
