/*
** serve.c: `valori serve`: the option table (each flag with its environment variable, default and
** hard limit: docs/HTTP.md section 1), the token file, the refusal to listen beyond loopback
** without tokens, start-up (bind and print the URL first, then recover every collection, then
** ready), and shutdown on SIGINT/SIGTERM (stop accepting, finish in-flight requests, close every
** store cleanly, exit 0). Signals are blocked in every thread and taken by sigwait here.
*/
#define _GNU_SOURCE 1
#include "server.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "follower.h"

typedef struct vs_opt {
  const char *flag, *env, *def, *help;
  int kind; /* O_STR, O_NUM */
  size_t off, size; /* where in vs_config; for numbers size is 4 or 8 */
  uint64_t lo, hi;
} vs_opt;
enum { O_STR, O_NUM };

#define OS(f, e, d, field, h) {f, e, d, h, O_STR, offsetof(vs_config, field), sizeof(((vs_config *)0)->field), 0, 0}
#define ON(f, e, d, field, lo, hi, h) {f, e, d, h, O_NUM, offsetof(vs_config, field), sizeof(((vs_config *)0)->field), lo, hi}

static const vs_opt opts[] = {
    OS("--listen", "VALORI_LISTEN", "127.0.0.1:3000", listen, "address to bind, ADDR:PORT or [IPV6]:PORT (port 0: any free port)"),
    OS("--data", "VALORI_DATA", "./valori_db", data, "data directory, one subdirectory per collection"),
    OS("--token-file", "VALORI_TOKEN_FILE", "", token_file, "bearer tokens, lines 'read TOKEN' / 'write TOKEN'"),
    OS("--allow-host", "VALORI_ALLOW_HOSTS", "", allow_hosts, "extra accepted Host names, comma-separated"),
    OS("--cors-origin", "VALORI_CORS_ORIGINS", "", cors, "origins allowed from browsers, comma-separated"),
    OS("--static", "VALORI_STATIC", "", static_dir, "serve files from this directory outside /v1"),
    OS("--access-log", "VALORI_ACCESS_LOG", "", access_log, "one line per request to this file ('-' = stderr)"),
    ON("--threads", "VALORI_THREADS", "16", threads, 1, 256, "HTTP worker threads"),
    ON("--commit-threads", "VALORI_COMMIT_THREADS", "2", commit_threads, 1, 64, "threads running fsyncs and snapshots"),
    ON("--max-connections", "VALORI_MAX_CONNECTIONS", "256", max_connections, 1, 100000, "open connections (more: 429)"),
    ON("--max-body", "VALORI_MAX_BODY", "67108864", max_body, 1024, (uint64_t)1 << 40, "request body bytes (more: 413)"),
    ON("--max-batch", "VALORI_MAX_BATCH", "100000", lim.max_batch, 1, VALORI_MAX_BATCH, "records in one batch"),
    ON("--max-k", "VALORI_MAX_K", "1000", lim.max_k, 1, VALORI_MAX_K, "search k"),
    ON("--max-ef", "VALORI_MAX_EF", "4096", lim.max_ef, 1, VALORI_MAX_EF, "search ef"),
    ON("--max-dim", "VALORI_MAX_DIM", "4096", lim.max_dim, 1, VALORI_MAX_DIM, "dimension of a new collection"),
    ON("--max-collections", "VALORI_MAX_COLLECTIONS", "10000", max_collections, 1, 1000000, "collections in the data directory"),
    ON("--max-open", "VALORI_MAX_OPEN", "128", max_open, 1, 100000, "collections held open at once (LRU)"),
    ON("--header-timeout", "VALORI_HEADER_TIMEOUT", "10", header_timeout, 1, 86400, "seconds for a request's headers"),
    ON("--body-timeout", "VALORI_BODY_TIMEOUT", "60", body_timeout, 1, 86400, "seconds for a request's body"),
    ON("--idle-timeout", "VALORI_IDLE_TIMEOUT", "30", idle_timeout, 1, 86400, "seconds of silence in the middle of a request"),
    ON("--snapshot-every", "VALORI_SNAPSHOT_EVERY", "100000", snapshot_every, 0, UINT64_MAX, "events between background snapshots (0 = never)"),
    ON("--segment-bytes", "VALORI_SEGMENT_BYTES", "4194304", segment_bytes, 1024, (uint64_t)1 << 40, "log segment rotation size of every collection (docs/STORAGE.md)"),
    ON("--shutdown-timeout", "VALORI_SHUTDOWN_TIMEOUT", "30", shutdown_timeout, 0, 86400, "seconds to let in-flight requests finish"),
    /* replication (docs/REPLICATION.md) */
    ON("--max-streams", "VALORI_MAX_STREAMS", "64", max_streams, 1, 100000, "replication streams and long polls open at once (more: 429)"),
    ON("--heartbeat-ms", "VALORI_HEARTBEAT_MS", "1000", heartbeat_ms, 50, 60000, "milliseconds between heartbeats of an idle replication stream"),
    OS("--replication-mode", "VALORI_REPLICATION_MODE", "leader", replication_mode, "leader, or follower (valori follow sets it)"),
    OS("--leader", "VALORI_LEADER_URL", "", leader, "follower: the leader, http://HOST:PORT or .../v1/collections/NAME"),
    OS("--leader-token-file", "VALORI_LEADER_TOKEN_FILE", "", leader_token_file, "follower: token for the leader (default: --token-file's read token)"),
    ON("--rebootstrap", "VALORI_REBOOTSTRAP", "0", rebootstrap, 0, 1, "follower: 1 = bootstrap diverged collections again once at start"),
    OS("--follower-id", "VALORI_FOLLOWER_ID", "", follower_id, "follower: the X-Valori-Follower it sends (default HOSTNAME:PORT)"),
    ON("--list-interval", "VALORI_LIST_INTERVAL", "5", list_interval, 1, 86400, "follower of a whole server: seconds between listings"),
    ON("--ack-interval-ms", "VALORI_ACK_INTERVAL_MS", "1000", ack_interval_ms, 0, 3600000, "follower: at most one ack per collection per this many ms (0 = never)"),
};
#define NOPTS ((int)(sizeof opts / sizeof opts[0]))

static void usage(FILE *f) {
  int i;
  fprintf(f, "usage: valori serve [options]\n\n"
             "Serves the collections of a data directory over HTTP (docs/HTTP.md). Each option can also be\n"
             "given as its environment variable; a flag wins over its variable, a variable over the default.\n"
             "VALORI_HTTP_PORT sets the port alone (overrides VALORI_LISTEN's port and the default's, not --listen).\n\n");
  for (i = 0; i < NOPTS; i++)
    fprintf(f, "  %-20s %-24s default %-16s %s\n", opts[i].flag, opts[i].env, opts[i].def[0] ? opts[i].def : "(none)",
            opts[i].help);
  fprintf(f, "  %-20s %-24s\n\nA non-loopback --listen needs --token-file. SIGINT/SIGTERM stop the server cleanly.\n",
          "-h, --help", "");
}

static int set_opt(vs_config *c, const vs_opt *o, const char *v, const char *from) {
  char *dst = (char *)c + o->off;
  if (o->kind == O_STR) {
    if (strlen(v) >= o->size) {
      fprintf(stderr, "error: %s: value too long\n", from);
      return 0;
    }
    strcpy(dst, v);
  } else {
    uint64_t n;
    if (!vs_parse_u64_text(v, strlen(v), &n) || n < o->lo || n > o->hi) {
      fprintf(stderr, "error: %s: expected a number in %llu..%llu, got '%s'\n", from, (unsigned long long)o->lo,
              (unsigned long long)o->hi, v);
      return 0;
    }
    if (o->size == 4) *(uint32_t *)(void *)dst = (uint32_t)n;
    else *(uint64_t *)(void *)dst = n;
  }
  return 1;
}

/* Defaults, then environment, then flags. 0: exit with status 2; -1: help printed. */
static int configure(vs_config *c, int argc, char **argv) {
  int i, k, listen_flag = 0;
  const char *port;
  memset(c, 0, sizeof *c);
  for (k = 0; k < NOPTS; k++)
    if (!set_opt(c, &opts[k], opts[k].def, opts[k].flag)) return 0;
  for (k = 0; k < NOPTS; k++) {
    const char *v = getenv(opts[k].env);
    if (v && !set_opt(c, &opts[k], v, opts[k].env)) return 0;
  }
  for (i = 1; i < argc; i++) {
    const char *a = argv[i], *val = NULL;
    size_t n;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return -1;
    }
    n = strcspn(a, "=");
    for (k = 0; k < NOPTS; k++)
      if (strlen(opts[k].flag) == n && strncmp(a, opts[k].flag, n) == 0) break;
    if (k == NOPTS) {
      fprintf(stderr, "error: unknown option '%s' (valori serve --help lists them)\n", a);
      return 0;
    }
    if (a[n] == '=') val = a + n + 1;
    else if (i + 1 < argc) val = argv[++i];
    else {
      fprintf(stderr, "error: %s needs a value\n", opts[k].flag);
      return 0;
    }
    if (!set_opt(c, &opts[k], val, opts[k].flag)) return 0;
    if (strcmp(opts[k].flag, "--listen") == 0) listen_flag = 1;
  }
  port = getenv("VALORI_HTTP_PORT");
  if (port && !listen_flag) {
    uint64_t p;
    char *colon = c->listen[0] == '[' ? strstr(c->listen, "]:") : strrchr(c->listen, ':');
    if (!vs_parse_u64_text(port, strlen(port), &p) || p > 65535) {
      fprintf(stderr, "error: VALORI_HTTP_PORT: expected a port 0..65535, got '%s'\n", port);
      return 0;
    }
    if (colon) {
      if (c->listen[0] == '[') colon++;
      snprintf(colon, sizeof c->listen - (size_t)(colon - c->listen), ":%llu", (unsigned long long)p);
    }
  }
  return 1;
}

static int split_list(const char *s, char out[][256], int max, const char *what) {
  int n = 0;
  while (*s) {
    size_t len = strcspn(s, ",");
    if (len > 0) {
      if (n == max || len >= 256) {
        fprintf(stderr, "error: %s: at most %d entries of at most 255 characters\n", what, max);
        return -1;
      }
      memcpy(out[n], s, len);
      out[n][len] = 0;
      n++;
    }
    s += len;
    if (*s == ',') s++;
  }
  return n;
}

static int token_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr("._~+/=-", ch);
}

static int load_tokens(vs_server *s) {
  FILE *f = fopen(s->cfg.token_file, "r");
  char line[1024];
  int ln = 0;
  if (!f) {
    fprintf(stderr, "error: --token-file %s: %s\n", s->cfg.token_file, strerror(errno));
    return 0;
  }
  while (fgets(line, sizeof line, f)) {
    char kind[16], tok[300], extra[4];
    size_t i, n;
    int got;
    ln++;
    n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    for (i = 0; line[i] == ' ' || line[i] == '\t'; i++) {
    }
    if (!line[i] || line[i] == '#') continue;
    got = sscanf(line + i, "%15s %299s %3s", kind, tok, extra);
    n = got >= 2 ? strlen(tok) : 0;
    if (got != 2 || (strcmp(kind, "read") != 0 && strcmp(kind, "write") != 0) || n < 16 || n > 256) {
      fprintf(stderr, "error: %s line %d: expected 'read TOKEN' or 'write TOKEN' with a token of 16 to 256 characters\n",
              s->cfg.token_file, ln);
      fclose(f);
      return 0;
    }
    for (i = 0; i < n; i++)
      if (!token_char(tok[i])) {
        fprintf(stderr, "error: %s line %d: a token may hold only A-Z a-z 0-9 . _ ~ + / = -\n", s->cfg.token_file, ln);
        fclose(f);
        return 0;
      }
    if (s->ntokens == VS_MAX_TOKENS) {
      fprintf(stderr, "error: %s: more than %d tokens\n", s->cfg.token_file, VS_MAX_TOKENS);
      fclose(f);
      return 0;
    }
    memcpy(s->tokens[s->ntokens].text, tok, n + 1);
    s->tokens[s->ntokens].len = n;
    s->tokens[s->ntokens].kind = strcmp(kind, "write") == 0 ? VS_AUTH_WRITE : VS_AUTH_READ;
    s->ntokens++;
  }
  fclose(f);
  if (!s->ntokens) {
    fprintf(stderr, "error: %s holds no token\n", s->cfg.token_file);
    return 0;
  }
  return 1;
}

static void on_recovered(void *arg, const vs_summary *s, int rc, const valori_recovery *rep) {
  char hex[65];
  (void)arg;
  if (rc != VALORI_OK) {
    printf("collection %s: cannot open: %s (%s)%s%s\n", s->name, valori_strerror(rc), valori_code_name(rc),
           rep->file[0] ? " in " : "", rep->file);
    fflush(stdout);
    return;
  }
  vs_hex(hex, s->root, 32);
  printf("collection %s: records %llu, height %llu, root %s (snapshot %llu + %llu log records)\n", s->name,
         (unsigned long long)s->st.records, (unsigned long long)s->st.height, hex, (unsigned long long)rep->snapshot_height,
         (unsigned long long)rep->replayed);
  fflush(stdout);
}

int vs_serve_main(int argc, char **argv) {
  static vs_server srv;
  vs_server *s = &srv;
  vs_reg_opts ro;
  vs_err e;
  sigset_t set;
  int sig, rc, failed;
  uint64_t n = 0, open = 0;
  rc = configure(&s->cfg, argc, argv);
  if (rc < 0) return 0;
  if (rc == 0) return 2;
  if ((s->nhosts = split_list(s->cfg.allow_hosts, s->hosts, VS_MAX_LIST, "--allow-host")) < 0) return 2;
  if ((s->norigins = split_list(s->cfg.cors, s->origins, VS_MAX_LIST, "--cors-origin")) < 0) return 2;
  if (s->cfg.token_file[0] && !load_tokens(s)) return 2;
  if (vs_http_parse_listen(s, &e) != VALORI_OK) {
    fprintf(stderr, "error: %s\n", e.msg);
    return 2;
  }
  if (strcmp(s->cfg.replication_mode, "leader") != 0 && strcmp(s->cfg.replication_mode, "follower") != 0) {
    fprintf(stderr, "error: --replication-mode: expected leader or follower, got '%s'\n", s->cfg.replication_mode);
    return 2;
  }
  if (strcmp(s->cfg.replication_mode, "follower") == 0 && !s->cfg.leader[0]) {
    fprintf(stderr, "error: follower mode needs the leader's URL (--leader or VALORI_LEADER_URL)\n");
    return 2;
  }
  if (!s->loopback && s->ntokens == 0) {
    fprintf(stderr,
            "error: refusing to listen on %s without --token-file: anyone who can reach it could read and write every "
            "collection\n",
            s->cfg.listen);
    return 2;
  }
  if (s->cfg.static_dir[0] && !realpath(s->cfg.static_dir, s->static_real)) {
    fprintf(stderr, "error: --static %s: %s\n", s->cfg.static_dir, strerror(errno));
    return 2;
  }
  if (s->cfg.access_log[0]) {
    s->access_log = strcmp(s->cfg.access_log, "-") == 0 ? stderr : fopen(s->cfg.access_log, "a");
    if (!s->access_log) {
      fprintf(stderr, "error: --access-log %s: %s\n", s->cfg.access_log, strerror(errno));
      return 2;
    }
  }
  { /* each open collection holds 3 descriptors (directory, LOCK, tail segment): allow what the system allows */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
  }
  /* every thread started from here on inherits the mask; main takes the signals with sigwait */
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  if (vs_repl_start(s, &e) != VALORI_OK) {
    fprintf(stderr, "error: %s\n", e.msg);
    return 3;
  }
  if (vs_http_start(s, &e) != VALORI_OK) {
    fprintf(stderr, "error: %s\n", e.msg);
    return e.code == VALORI_EINVAL ? 2 : 3;
  }
  printf("valori listening on http://%s:%u\n", s->host_literal, (unsigned)s->port);
  fflush(stdout);
  memset(&ro, 0, sizeof ro);
  ro.data_dir = s->cfg.data;
  ro.max_open = s->cfg.max_open;
  ro.max_collections = s->cfg.max_collections;
  ro.commit_threads = s->cfg.commit_threads;
  ro.snapshot_every = s->cfg.snapshot_every;
  ro.segment_bytes = s->cfg.segment_bytes;
  ro.on_recovered = on_recovered;
  ro.on_durable = vs_park_on_durable; /* streams, long polls and min_height reads wake on it */
  ro.arg = s->park;
  if (vs_reg_open(&ro, &s->reg, &e) != VALORI_OK) {
    fprintf(stderr, "error: %s\n", e.msg);
    s->stopping = 1;
    vs_http_stop(s);
    return 3;
  }
  if (strcmp(s->cfg.replication_mode, "follower") == 0 && vs_follower_start(s, &e) != VALORI_OK) {
    fprintf(stderr, "error: %s\n", e.msg);
    s->stopping = 1;
    vs_http_stop(s);
    vs_reg_close(s->reg);
    return 2;
  }
  vs_reg_counts(s->reg, &n, &open);
  s->ready = 1;
  printf("ready: %llu collections in %s\n", (unsigned long long)n, s->cfg.data);
  fflush(stdout);
  do {
    rc = sigwait(&set, &sig);
  } while (rc == EINTR);
  s->stopping = 1;
  printf("stopping (signal %d)\n", sig);
  fflush(stdout);
  vs_http_stop(s);      /* streams end with an ERROR frame; no request runs after this */
  vs_follower_stop(s);  /* the replication clients: applied records made durable */
  failed = vs_reg_close(s->reg);
  vs_repl_stop(s);
  s->reg = NULL;
  if (s->access_log && s->access_log != stderr) fclose(s->access_log);
  printf("stopped%s\n", failed ? " (some collections failed to close cleanly)" : "");
  fflush(stdout);
  return failed ? 3 : 0;
}
