/*
** cmd_import.c: `valori import FILE`: loads the rows of a vector data file (fvecs, bvecs, ivecs,
** npy, idx, JSON lines; gzip'd or not) into a collection: a local store (--data DIR --collection
** NAME, the layout of valori serve, or --store DIR) or a server collection (--url). Everything about
** the file and the options is checked before anything is created; rows go in atomic batches; a
** rerun of the same command after an interruption continues where the collection stands
** (import.h). docs/IMPORT.md.
*/
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "import_http.h"
#include "import_run.h"

#define CMD "import"

/* SIGINT / SIGTERM: finish the batch in progress, commit it, say how to resume, exit 130. */
static volatile sig_atomic_t vimp_stop;
static void on_stop(int sig) {
  (void)sig;
  vimp_stop = 1;
}

static int parse_count(const char *name, const char *s, uint64_t min, uint64_t max, uint64_t *out) {
  if (!vcli_parse_u64(s, out) || *out < min || *out > max)
    return vcli_usage_error(CMD, "%s must be a whole number from %llu to %llu (got '%s')", name, (unsigned long long)min,
                            (unsigned long long)max, s);
  return VCLI_OK;
}

/* --classes: "fashion-mnist" (the default with --labels), "none", or names separated by commas. */
static int parse_classes(const char *s, char ***names, size_t *n) {
  size_t k = 1, i = 0;
  const char *p;
  char *copy;
  *names = NULL;
  *n = 0;
  if (strcmp(s, "none") == 0) return VCLI_OK;
  for (p = s; *p; p++) k += *p == ',';
  if (!(*names = (char **)calloc(k + 1, sizeof **names)) || !(copy = strdup(s))) {
    free(*names);
    *names = NULL;
    fprintf(stderr, "error: out of memory\n");
    return VCLI_FAILED;
  }
  (*names)[0] = copy; /* the names point into one copy; names[0] owns it */
  for (p = copy; i < k; i++) {
    char *comma = strchr(p, ',');
    (*names)[i] = (char *)p;
    if (comma) {
      *comma = 0;
      p = comma + 1;
    }
    if (!(*names)[i][0]) {
      free(copy);
      free(*names);
      *names = NULL;
      return vcli_usage_error(CMD, "--classes: an empty class name (names separated by commas, or fashion-mnist, or none)");
    }
  }
  *n = k;
  return VCLI_OK;
}

int vcli_import(int argc, char **argv) {
  const char *file = NULL, *labels = NULL, *classes = NULL, *data = NULL, *coll = NULL, *store = NULL, *url = NULL;
  const char *token_file = NULL;
  vds_format fmt = VDS_AUTO;
  vimp_create cr;
  vimp_job j;
  vimp_target t;
  vimp_result res;
  vds_reader *r = NULL;
  vds_labels *lab = NULL;
  vds_err e;
  char **names = NULL;
  uint64_t v, dim_opt = 0, rows;
  int i, rc, code = VCLI_FAILED, target_open = 0;
  memset(&cr, 0, sizeof cr);
  memset(&j, 0, sizeof j);
  j.batch = 1000;
  /* cli.c has checked the option names and that each has a value */
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || !a[1]) {
      if (file) return vcli_usage_error(CMD, "unexpected argument '%s' (one FILE per import)", a);
      file = a;
    } else if (strcmp(a, "--format") == 0) {
      if (vds_format_parse(argv[++i], &fmt) != VALORI_OK)
        return vcli_usage_error(CMD, "--format must be fvecs, bvecs, ivecs, npy, idx or jsonl (got '%s')", argv[i]);
    } else if (strcmp(a, "--labels") == 0) labels = argv[++i];
    else if (strcmp(a, "--classes") == 0) classes = argv[++i];
    else if (strcmp(a, "--data") == 0) data = argv[++i];
    else if (strcmp(a, "--collection") == 0) coll = argv[++i];
    else if (strcmp(a, "--store") == 0) store = argv[++i];
    else if (strcmp(a, "--url") == 0) url = argv[++i];
    else if (strcmp(a, "--token-file") == 0) token_file = argv[++i];
    else if (strcmp(a, "--dim") == 0) {
      if ((rc = parse_count(a, argv[++i], 1, VALORI_MAX_DIM, &dim_opt)) != VCLI_OK) return rc;
    } else if (strcmp(a, "--metric") == 0) {
      const char *m = argv[++i];
      if (strcmp(m, "l2") && strcmp(m, "ip")) return vcli_usage_error(CMD, "--metric must be l2 or ip (got '%s')", m);
      cr.metric = strcmp(m, "ip") == 0 ? VALORI_METRIC_IP : VALORI_METRIC_L2;
      cr.metric_set = 1;
    } else if (strcmp(a, "--index") == 0) {
      const char *m = argv[++i];
      if (strcmp(m, "hnsw") && strcmp(m, "none")) return vcli_usage_error(CMD, "--index must be hnsw or none (got '%s')", m);
      cr.index = strcmp(m, "none") == 0 ? VALORI_INDEX_NONE : VALORI_INDEX_HNSW;
      cr.index_set = 1;
    } else if (strcmp(a, "--m") == 0) {
      if ((rc = parse_count(a, argv[++i], 2, VALORI_HNSW_MAX_M, &v)) != VCLI_OK) return rc;
      cr.m = (uint32_t)v;
      cr.m_set = 1;
    } else if (strcmp(a, "--ef-construction") == 0) {
      if ((rc = parse_count(a, argv[++i], 1, VALORI_MAX_EF, &v)) != VCLI_OK) return rc;
      cr.ef_construction = (uint32_t)v;
      cr.efc_set = 1;
    } else if (strcmp(a, "--limit") == 0) {
      if ((rc = parse_count(a, argv[++i], 1, UINT64_MAX, &j.limit)) != VCLI_OK) return rc;
    } else if (strcmp(a, "--offset") == 0) {
      if ((rc = parse_count(a, argv[++i], 0, UINT64_MAX, &j.offset)) != VCLI_OK) return rc;
    } else if (strcmp(a, "--batch") == 0) {
      if ((rc = parse_count(a, argv[++i], 1, VALORI_MAX_BATCH, &v)) != VCLI_OK) return rc;
      j.batch = (size_t)v;
    } else if (strcmp(a, "--graph") == 0) j.graph = 1;
    else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) j.quiet = 1;
    else return vcli_usage_error(CMD, "unknown option '%s'", a);
  }
  if (!file) return vcli_usage_error(CMD, "which file? (valori import FILE --collection NAME ...)");
  if (!!url + !!store + !!coll != 1)
    return vcli_usage_error(CMD, "name one target: --collection NAME (in --data DIR), --store DIR or --url URL");
  if (url && data) return vcli_usage_error(CMD, "--data is for a local target; with --url the server holds the data");
  if (store && data) return vcli_usage_error(CMD, "--store DIR is a store path of its own; --data DIR goes with --collection NAME");
  if (token_file && !url) return vcli_usage_error(CMD, "--token-file goes with --url");
  if (url && j.graph)
    return vcli_usage_error(CMD, "--graph needs a local target (--collection or --store): import before the server opens the "
                                 "collection, or without --graph");
  if (coll && !vimp_name_ok(coll))
    return vcli_usage_error(CMD, "--collection: 1 to 64 characters from A-Z a-z 0-9 _ -, starting with a letter or digit (got '%s')", coll);
  if (cr.index == VALORI_INDEX_NONE && (cr.m_set || cr.efc_set))
    return vcli_usage_error(CMD, "--m and --ef-construction are HNSW parameters; not with --index none");
  if (classes && !labels) return vcli_usage_error(CMD, "--classes names the values of --labels; give --labels FILE");
  if (!data) data = "valori_db";
  j.file = file;
  j.tty = isatty(2);
  /* the file (and its labels) first: nothing is created for a file that cannot be imported */
  if ((rc = vds_open_file(file, fmt, &r, &e)) != VALORI_OK) {
    fprintf(stderr, "error: %s (%s)\n", e.msg, vs_code_name(rc));
    return rc == VALORI_EINVAL && fmt == VDS_AUTO && vds_format_of_path(file) == VDS_AUTO ? VCLI_USAGE : VCLI_FAILED;
  }
  if (vds_dim(r) == 0) {
    fprintf(stderr, "error: %s: holds no rows (EEMPTY)\n", file);
    goto out;
  }
  if (dim_opt && dim_opt != vds_dim(r)) {
    fprintf(stderr, "error: %s: rows of dim %u, not --dim %llu (EDIM)\n", file, vds_dim(r), (unsigned long long)dim_opt);
    goto out;
  }
  cr.dim = vds_dim(r);
  if (labels) {
    if ((rc = vds_labels_open(labels, &lab, &e)) != VALORI_OK) {
      fprintf(stderr, "error: %s (%s)\n", e.msg, vs_code_name(rc));
      goto out;
    }
    rows = vds_rows(r);
    if (rows == UINT64_MAX) { /* JSON lines, gzip'd vecs: count the rows first (one pass, no parsing) */
      vds_reader *counter = NULL;
      if ((rc = vds_open_file(file, fmt, &counter, &e)) == VALORI_OK) rc = vds_skip(counter, UINT64_MAX, &rows, &e);
      vds_close(counter);
      if (rc) {
        fprintf(stderr, "error: %s (%s)\n", e.msg, vs_code_name(rc));
        goto out;
      }
    }
    if (vds_labels_count(lab) != rows) {
      fprintf(stderr, "error: %s holds %llu labels for the %llu rows of %s (EINVAL)\n", labels,
              (unsigned long long)vds_labels_count(lab), (unsigned long long)rows, file);
      goto out;
    }
    if ((code = parse_classes(classes ? classes : "fashion-mnist", &names, &j.nclasses)) != VCLI_OK) goto out;
    code = VCLI_FAILED;
    if (!classes || strcmp(classes, "fashion-mnist") == 0) {
      j.classes = vimp_fashion_classes;
      j.nclasses = 10;
    } else {
      j.classes = (const char *const *)names;
    }
  }
  if (j.offset && vds_rows(r) != UINT64_MAX && j.offset >= vds_rows(r)) {
    fprintf(stderr, "error: --offset %llu: %s has %llu rows (EINVAL)\n", (unsigned long long)j.offset, file, (unsigned long long)vds_rows(r));
    code = VCLI_USAGE;
    goto out;
  }
  rc = url ? vimp_http_open(url, token_file, &cr, j.quiet, &t) : vimp_local_open(store ? store : data, store ? NULL : coll, &cr, j.quiet, &t);
  if (rc) {
    fprintf(stderr, "error: %s (%s)\n", t.err, vs_code_name(rc));
    code = rc == VALORI_EINVAL ? VCLI_USAGE : vcli_exit_for(rc);
    goto out;
  }
  target_open = 1;
  {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART; /* no system call of a write in progress sees EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    j.stop = &vimp_stop;
  }
  rc = vimp_run(&j, r, lab, &t, &res);
  if (rc == VALORI_OK) {
    uint64_t records = 0, height = 0;
    uint8_t root[32];
    rc = t.ops->summary(&t, &records, &height, root);
    rc = t.ops->finish(&t, rc);
    target_open = 0;
    if (rc) {
      fprintf(stderr, "error: %s (%s)\n", t.err, vs_code_name(rc));
      code = vcli_exit_for(rc);
      goto out;
    }
    printf("imported %llu rows of %s into %s in %.1f s", (unsigned long long)res.imported, file, t.where, res.seconds);
    if (res.resumed_from) printf(" (resumed: %llu were in already)", (unsigned long long)res.resumed_from);
    printf("; rows %llu..%llu of the file are records 1..%llu\n", (unsigned long long)j.offset,
           (unsigned long long)(j.offset + res.total_in_collection - 1), (unsigned long long)res.total_in_collection);
    printf("%s: %llu records, height %llu, root ", t.where, (unsigned long long)records, (unsigned long long)height);
    vcli_hex(stdout, root);
    printf("\n");
    code = VCLI_OK;
    if (res.interrupted) {
      fprintf(stderr, "interrupted: every batch so far is committed; rerun the same command to continue with row %llu\n",
              (unsigned long long)(j.offset + res.total_in_collection));
      code = 130; /* 128 + SIGINT, as shells report an interrupted command */
    }
  } else {
    fprintf(stderr, "error: %s (%s)\n", t.err, vs_code_name(rc));
    code = VCLI_FAILED; /* a bad file (whatever its code) or a failed write: not a usage error, not a damaged store */
  }
out:
  if (target_open) t.ops->finish(&t, VALORI_EINVAL);
  if (names) free(names[0]);
  free(names);
  vds_labels_close(lab);
  vds_close(r);
  return code;
}
