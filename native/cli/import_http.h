/*
** import_http.h: `valori import --url` and `valori search URL`: a server collection over HTTP
** (docs/HTTP.md) through libcurl, one connection kept open for the whole run. Codes are the
** server's (native/server/vserr.h: the core's plus EJSON, EBINARY, EAUTH, ENOCOLLECTION...), taken
** from its error answers; transport failures are VALORI_EIO.
*/
#ifndef VALORI_CLI_IMPORT_HTTP_H
#define VALORI_CLI_IMPORT_HTTP_H
#include <stddef.h>

#include "import.h"
#include "vserr.h"

typedef struct vimp_http vimp_http;

/* url: http://HOST:PORT/v1/collections/NAME. token_file (may be NULL): the server's token file
** format ("read TOKEN" / "write TOKEN" lines, # comments); writers present its first write token,
** readers its first read token (else the write one). Connects lazily (the first request). */
int vimp_http_connect(const char *url, const char *token_file, int want_write, vimp_http **out, char *err, size_t cap);
/* The collection's URL (no trailing slash). */
const char *vimp_http_base(const vimp_http *h);
/* One request with a JSON body (body may be NULL for GET/DELETE). A 2xx answer is VALORI_OK and
** kept (vimp_http_print_hits reads it); otherwise the answer's error code, message in err. */
int vimp_http_json(vimp_http *h, const char *method, const char *url, const char *body, size_t len, char *err, size_t cap);
/* Prints the kept search answer: as it came (json) or as the text table of valori search. */
int vimp_http_print_hits(vimp_http *h, int json);
void vimp_http_close(vimp_http *h);

/* The import target over HTTP (import.h): binary ingest (docs/HTTP.md section 7) for batches
** without metadata, the JSON batch with base64 metadata otherwise. No graph operations (--graph
** is refused with a URL before this is called). */
int vimp_http_open(const char *url, const char *token_file, const vimp_create *c, int quiet, vimp_target *t);
#endif
