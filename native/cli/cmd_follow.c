/*
** cmd_follow.c: `valori follow LEADER-URL [options]`: `valori serve` in follower mode
** (docs/REPLICATION.md section 10). The URL becomes --leader, --rebootstrap (a flag here) becomes
** --rebootstrap=1, every other option is serve's and passes through; the server does the rest.
*/
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int vs_serve_main(int argc, char **argv); /* native/server/serve.c */

static void follow_usage(FILE *f) {
  fprintf(f, "usage: valori follow LEADER-URL [--data DIR] [--listen ADDR:PORT] [--token-file F] [--rebootstrap] [serve options]\n\n"
             "Keeps a read-only copy of a leader's collections and serves the same read API (docs/REPLICATION.md).\n"
             "LEADER-URL is http://HOST:PORT (every collection) or http://HOST:PORT/v1/collections/NAME (one).\n"
             "--token-file: the tokens this server's clients present; its first read token is sent to the leader\n"
             "(--leader-token-file F overrides). --rebootstrap: bootstrap diverged collections again at start.\n"
             "Every option of `valori serve --help` applies.\n\n"
             "  -h, --help  print this help and exit\n");
}

int vcli_follow(int argc, char **argv) {
  char **av;
  int i, n = 0;
  const char *url = NULL;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      follow_usage(stdout);
      return VCLI_OK;
    }
  }
  if (argc < 2) {
    follow_usage(stderr);
    fprintf(stderr, "\nerror: the leader's URL comes first\n");
    return VCLI_USAGE;
  }
  if (argv[1][0] == '-') { /* an option where the URL must be: say so, the way cli.c does */
    fprintf(stderr, "error: unknown option '%s' before the leader's URL, which comes first (valori follow --help)\n",
            argv[1]);
    return VCLI_USAGE;
  }
  url = argv[1];
  av = (char **)calloc((size_t)argc + 6, sizeof *av);
  if (!av) return VCLI_FAILED;
  av[n++] = argv[0];
  av[n++] = "--replication-mode";
  av[n++] = "follower";
  av[n++] = "--leader";
  av[n++] = (char *)url;
  for (i = 2; i < argc; i++) av[n++] = strcmp(argv[i], "--rebootstrap") == 0 ? "--rebootstrap=1" : argv[i];
  i = vs_serve_main(n, av);
  free(av);
  return i;
}
