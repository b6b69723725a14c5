/*
** vserr.c: names and HTTP statuses of the core's and the server's error codes (docs/HTTP.md,
** section 3), and vs_fail, which fills a vs_err.
*/
#include "vserr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "valori.h"

int vs_fail(vs_err *e, int code, const char *fmt, ...) {
  va_list ap;
  if (!e) return code;
  memset(e, 0, sizeof *e);
  e->code = code;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  return code;
}

const char *vs_code_name(int code) {
  switch (code) {
#define VS_X_NAME(name, num, status) \
  case num: return #name;
    VS_SERVER_CODES(VS_X_NAME)
#undef VS_X_NAME
    default: return valori_code_name(code);
  }
}

int vs_code_status(int code) {
  switch (code) {
#define VS_X_STATUS(name, num, status) \
  case num: return status;
    VS_SERVER_CODES(VS_X_STATUS)
#undef VS_X_STATUS
    case VALORI_ENOTFOUND: return 404;
    case VALORI_EEXIST:
    case VALORI_ECONFIG:
    case VALORI_ELOCKED:
    case VALORI_EHEIGHT:
    case VALORI_EDIVERGED: return 409; /* a leader refusing a follower's position; a diverged follower's reads say 503 */
    case VALORI_EREADONLY: return 403;
    case VALORI_ENOMEM:
    case VALORI_EPOISONED:
    case VALORI_ECLOSED: return 503;
    case VALORI_ENOSPC: return 507;
    case VALORI_EIO:
    case VALORI_ECORRUPT:
    case VALORI_EVERSION: return 500;
    default: return 400; /* EINVAL, ENAN, EINF, ERANGE, EDIM, ETOOBIG, EK, EEMPTY, EOPCODE, EBUFSIZE */
  }
}
