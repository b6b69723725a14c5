/*
** vserr.h: the server's error codes. The core's VALORI_E* codes (valori.h) keep their numbers and
** names; the server adds its own from 100 up (docs/HTTP.md, section 3). One X-macro list gives
** each server code its name and HTTP status; vs_code_status maps the core's codes too.
*/
#ifndef VS_ERR_H
#define VS_ERR_H

#define VS_SERVER_CODES(X)        \
  X(EJSON, 100, 400)              \
  X(EBINARY, 101, 400)            \
  X(EAUTH, 102, 401)              \
  X(EFORBIDDEN, 103, 403)         \
  X(EHOST, 104, 403)              \
  X(EORIGIN, 105, 403)            \
  X(ENOROUTE, 106, 404)           \
  X(ENOCOLLECTION, 107, 404)      \
  X(ENOSNAPSHOT, 108, 404)        \
  X(EMETHOD, 109, 405)            \
  X(ETOOLARGE, 110, 413)          \
  X(EMEDIA, 111, 415)             \
  X(ETOOMANY, 112, 429)           \
  X(EUNAVAILABLE, 113, 503)       \
  X(ETIMEOUT, 114, 503)

enum vs_code {
#define VS_X_ENUM(name, num, status) VS_##name = num,
  VS_SERVER_CODES(VS_X_ENUM)
#undef VS_X_ENUM
  VS_CODE_END
};

/* An error on its way to a response: a code (core or server) and an English message. */
typedef struct vs_err {
  int code;
  char msg[240];
  /* ECORRUPT details from verify (file "" when none) */
  char file[64];
  unsigned long long offset, height;
  /* more members of the error object, already JSON (",\"leader\":\"...\""), or "" */
  char extra[600];
} vs_err;

/* Returns from the calling function when x is not VALORI_OK. */
#define VS_TRY(x)              \
  do {                         \
    int vs_rc_ = (x);          \
    if (vs_rc_) return vs_rc_; \
  } while (0)

/* Sets e (printf-style message) and returns code. */
int vs_fail(vs_err *e, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Symbolic name of a core or server code ("EDIM", "EJSON"). */
const char *vs_code_name(int code);
/* HTTP status for a core or server code. */
int vs_code_status(int code);

#endif /* VS_ERR_H */
