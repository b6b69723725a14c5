/*
** cmd_serve.c: `valori serve`: the leader HTTP server over a data directory of collections. The
** server itself lives in native/server/ (docs/HTTP.md); this file only hands it the arguments.
*/
#include "cli.h"

int vs_serve_main(int argc, char **argv); /* native/server/serve.c */

int vcli_serve(int argc, char **argv) { return vs_serve_main(argc, argv); }
