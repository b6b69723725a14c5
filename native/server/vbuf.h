/*
** vbuf.h: the server's growable byte buffer and the JSON writer on top of it (escaped strings,
** u64 as decimal strings, Q16.16 values as exact decimals, shortest round-trip doubles, hex and
** base64), plus strict base64 and hex decoders. Output JSON is hand-written here; input JSON is
** parsed by cJSON only (decode.c). A buffer that failed to grow stays failed (vb->oom) and every
** later write is a no-op, so callers check once at the end.
*/
#ifndef VS_VBUF_H
#define VS_VBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct vbuf {
  char *p;
  size_t len, cap;
  int oom; /* 1 after a failed allocation */
} vbuf;

void vb_init(vbuf *b);
void vb_free(vbuf *b);
/* Hands the bytes to the caller (malloc'd, may be NULL when empty) and resets b. */
char *vb_take(vbuf *b, size_t *len);
int vb_reserve(vbuf *b, size_t more);
void vb_put(vbuf *b, const void *p, size_t n);
void vb_puts(vbuf *b, const char *s);
void vb_printf(vbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* JSON pieces. Strings are escaped (", \, control characters as \u00XX); the input must be UTF-8
** (bytes >= 0x80 are copied as they are). */
void vb_json_str(vbuf *b, const char *s);
void vb_json_strn(vbuf *b, const char *s, size_t n);
void vb_json_key(vbuf *b, const char *key); /* "key": (a comma before it when needed is the caller's) */
void vb_json_u64str(vbuf *b, uint64_t v);   /* "123" */
void vb_json_i64str(vbuf *b, int64_t v);    /* "-123" */
void vb_json_u64(vbuf *b, uint64_t v);      /* 123 */
void vb_json_q16(vbuf *b, int32_t q);       /* exact decimal of q / 65536 */
void vb_json_double(vbuf *b, double d);     /* shortest text that reads back as d */
void vb_json_hex(vbuf *b, const uint8_t *p, size_t n); /* "0a1b..." */
void vb_json_base64(vbuf *b, const void *p, size_t n); /* "AAE=" */

/* Lowercase hex of n bytes into out (2n chars + NUL). */
void vs_hex(char *out, const uint8_t *p, size_t n);
/* Strict standard base64 with padding: returns the decoded length, or -1 for invalid input.
** out must hold vs_b64_max(len) bytes. */
long vs_b64_decode(const char *s, size_t len, uint8_t *out);
size_t vs_b64_max(size_t len);

#endif /* VS_VBUF_H */
