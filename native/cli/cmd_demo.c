/*
** cmd_demo.c: `valori demo`: the command-line demo. Builds a durable store from Fashion-MNIST
** (Debian's dataset-fashion-mnist: 60,000 training images as records, tagged with their class),
** links every record into a small knowledge graph (record node -> class node), then answers
** the test images as queries: nearest neighbours with their classes, recall@10 of the HNSW index
** against exact search, a class-filtered search, and a search-then-expand. Running it again
** reopens the store (crash recovery included) instead of rebuilding it.
**
** Errors are said in the user's terms before anything is created: a missing or unusable data set
** (with the package to install), a --dir that is a file, a store of another configuration or one
** held by another writer. A directory the demo created for a store it then could not open is
** removed again.
*/
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "idx.h"

static const char *const CLASSES[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int fail(const char *what, int rc) {
  fprintf(stderr, "error: %s: %s (%s)\n", what, valori_strerror(rc), valori_code_name(rc));
  return vcli_exit_for(rc);
}

static uint64_t tag_of(const valori_db *db, uint64_t id) {
  uint64_t t = 0;
  valori_get(db, id, NULL, &t, NULL, 0, NULL);
  return t;
}

/* Ingests n images with their class as tag and "class #index" as metadata, in atomic batches,
** relaxed sync plus one flush at the end (group commit); every record gets a graph node linked to
** its class node. */
static int ingest(valori_db *db, const float *img, const uint8_t *lab, size_t n, size_t dim) {
  enum { BATCH = 1000 };
  uint64_t tags[BATCH], first, class_node[10], node, edge;
  char metabuf[BATCH][32];
  const void *metas[BATCH];
  size_t lens[BATCH], i, j;
  double t0 = now_s();
  int rc;
  for (i = 0; i < 10; i++) {
    rc = valori_node_create(db, 1, 0, CLASSES[i], strlen(CLASSES[i]), &class_node[i]);
    if (rc) return fail("create class node", rc);
  }
  for (i = 0; i < n; i += BATCH) {
    size_t m = n - i < BATCH ? n - i : BATCH;
    for (j = 0; j < m; j++) {
      tags[j] = lab[i + j];
      lens[j] = (size_t)snprintf(metabuf[j], sizeof metabuf[j], "%s #%zu", CLASSES[lab[i + j]], i + j);
      metas[j] = metabuf[j];
    }
    rc = valori_insert_batch(db, m, img + i * dim, tags, metas, lens, &first);
    if (rc) return fail("insert batch", rc);
    for (j = 0; j < m; j++) {
      rc = valori_node_create(db, 2, first + j, NULL, 0, &node);
      if (!rc) rc = valori_edge_create(db, node, class_node[lab[i + j]], 1, NULL, &edge);
      if (rc) return fail("link record into the graph", rc);
    }
    fprintf(stderr, "\r  ingest %6zu / %zu records  (%.0f vectors/s)", i + m, n, (double)(i + m) / (now_s() - t0));
  }
  rc = valori_flush(db);
  if (rc) return fail("flush", rc);
  fprintf(stderr, "\n  durable after one flush; %.1f s in all\n", now_s() - t0);
  rc = valori_snapshot(db);
  if (rc) return fail("snapshot", rc);
  return 0;
}

/* Reads n images and their labels from data/<prefix>-{images-idx3,labels-idx1}-ubyte.gz and checks
** that they fit the demo (784 components, as many labels as images, classes 0..9). */
static int load_set(const char *data, const char *prefix, size_t n, float **img, uint8_t **lab, size_t *rows) {
  char ip[4096], lp[4096];
  size_t dim = 0, lrows = 0, i;
  if ((size_t)snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", data, prefix) >= sizeof ip ||
      (size_t)snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", data, prefix) >= sizeof lp) {
    fprintf(stderr, "error: --data path too long\n");
    return VCLI_USAGE;
  }
  if (valori_idx_images(ip, n, img, rows, &dim) != 0) return VCLI_FAILED; /* the reader said why */
  if (valori_idx_labels(lp, n, lab, &lrows) != 0) return VCLI_FAILED;
  if (dim != 784) {
    fprintf(stderr, "error: %s: images of %zu pixels; the demo needs Fashion-MNIST's 28 x 28 = 784\n", ip, dim);
    return VCLI_FAILED;
  }
  if (lrows != *rows) {
    fprintf(stderr, "error: %s holds %zu labels for %zu images\n", lp, lrows, *rows);
    return VCLI_FAILED;
  }
  for (i = 0; i < lrows; i++)
    if ((*lab)[i] > 9) {
      fprintf(stderr, "error: %s: label %u of image %zu is not a class 0..9\n", lp, (unsigned)(*lab)[i], i);
      return VCLI_FAILED;
    }
  return VCLI_OK;
}

/* Parses the value of option `name` as an integer in 1..max. */
static int demo_count(const char *name, const char *s, uint64_t max, uint64_t *out) {
  if (!vcli_parse_u64(s, out) || *out < 1 || *out > max)
    return vcli_usage_error("demo", "%s must be a whole number from 1 to %llu (got '%s')", name, (unsigned long long)max, s);
  return VCLI_OK;
}

int vcli_demo(int argc, char **argv) {
  const char *dir = "valori_db", *data = VALORI_FMNIST_DIR;
  size_t n = 60000, nq = 200, rows, i, j;
  uint32_t ef = 64;
  int n_given = 0, created;
  float *img = NULL, *qs = NULL;
  uint8_t *lab = NULL, *qlab = NULL, root[32];
  valori_options o;
  valori_vfs *vfs = NULL;
  valori_db *db = NULL;
  valori_stats st;
  valori_recovery rec;
  valori_searcher *s = NULL;
  struct stat dst;
  double t0, thnsw = 0;
  long hit = 0;
  int rc, code = VCLI_FAILED;
  /* cli.c has checked the option names and that each has a value */
  for (i = 1; i < (size_t)argc; i++) {
    uint64_t v = 0;
    const char *a = argv[i];
    if (a[0] != '-') return vcli_usage_error("demo", "unexpected argument '%s' (the store directory is --dir DIR)", a);
    if (strcmp(a, "--dir") == 0) dir = argv[++i];
    else if (strcmp(a, "--data") == 0) data = argv[++i];
    else if (strcmp(a, "--n") == 0) {
      if ((rc = demo_count(a, argv[++i], 60000, &v)) != VCLI_OK) return rc;
      n = (size_t)v;
      n_given = 1;
    } else if (strcmp(a, "--queries") == 0) {
      if ((rc = demo_count(a, argv[++i], 10000, &v)) != VCLI_OK) return rc;
      nq = (size_t)v;
    } else if (strcmp(a, "--ef") == 0) {
      if ((rc = demo_count(a, argv[++i], VALORI_MAX_EF, &v)) != VCLI_OK) return rc;
      ef = (uint32_t)v;
    } else {
      return vcli_usage_error("demo", "unknown option '%s'", a);
    }
  }
  if (!dir[0] || !data[0]) return vcli_usage_error("demo", "--dir and --data need a non-empty path");
  printf("Valori %s demo: Fashion-MNIST in a durable store at %s/\n", VALORI_VERSION_STRING, dir);
  fflush(stdout);
  /* the queries first: a missing or unusable data set stops the demo before it creates anything */
  if ((code = load_set(data, "t10k", nq, &qs, &qlab, &rows)) != VCLI_OK) goto out;
  nq = rows;
  code = VCLI_FAILED;
  created = stat(dir, &dst) != 0;
  if (!created && !S_ISDIR(dst.st_mode)) {
    fprintf(stderr, "error: --dir %s: exists and is not a directory\n", dir);
    goto out;
  }
  if ((rc = valori_posix_vfs_open(dir, 1, &vfs)) != VALORI_OK) {
    fprintf(stderr, "error: cannot create or open the directory %s: %s (%s)\n", dir, valori_strerror(rc), valori_code_name(rc));
    goto out;
  }
  valori_options_init(&o);
  o.dim = 784;
  o.flags = VALORI_OPEN_CREATE;
  o.sync_mode = VALORI_SYNC_RELAXED; /* the demo groups its writes and flushes once */
  o.vfs = vfs;
  t0 = now_s();
  rc = valori_open(dir, &o, &db);
  if (rc) {
    if (rc == VALORI_ECONFIG)
      fprintf(stderr, "error: %s holds a store with another configuration; the demo needs dim 784, L2, HNSW "
                      "(choose another --dir)\n", dir);
    else if (rc == VALORI_ELOCKED)
      fprintf(stderr, "error: %s is open for writing in another process (ELOCKED); close it or choose another --dir\n", dir);
    else
      code = fail(dir, rc);
    if (rc == VALORI_ECORRUPT || rc == VALORI_EVERSION)
      fprintf(stderr, "  (`valori verify %s` names the damaged file and offset)\n", dir);
    valori_posix_vfs_close(vfs);
    vfs = NULL;
    if (created) rmdir(dir); /* leave nothing behind; fails harmlessly when the directory is not empty */
    goto out;
  }
  valori_recovery_info(db, &rec);
  valori_stats_get(db, &st);
  printf("  opened in %.0f ms: height %llu, %llu records (snapshot at %llu + %llu log records replayed)\n",
         (now_s() - t0) * 1e3, (unsigned long long)st.height, (unsigned long long)st.records,
         (unsigned long long)rec.snapshot_height, (unsigned long long)rec.replayed);
  if (st.records == 0) {
    fprintf(stderr, "  loading %zu training images from %s...\n", n, data);
    if ((code = load_set(data, "train", n, &img, &lab, &rows)) != VCLI_OK) goto out;
    if ((code = ingest(db, img, lab, rows, 784)) != 0) goto out;
    valori_stats_get(db, &st);
  } else if (n_given) {
    printf("  (the store already holds %llu records: --n applies to a new store only)\n", (unsigned long long)st.records);
  }
  code = VCLI_FAILED;
  if ((rc = valori_searcher_create(db, &s)) != 0) {
    code = fail("searcher", rc);
    goto out;
  }
  /* queries: HNSW vs exact */
  fprintf(stderr, "  answering %zu test images (k=10, ef=%u) with HNSW and with exact search...\n", nq, ef);
  for (i = 0; i < nq; i++) {
    valori_hit h[10], x[10];
    size_t nh, nx, a, b;
    valori_search_params p = {10, ef, VALORI_SEARCH_HNSW, 0, NULL}, pe = {10, 0, VALORI_SEARCH_EXACT, 0, NULL};
    double t1 = now_s();
    if ((rc = valori_search(db, s, qs + i * 784, &p, h, &nh)) != 0) { code = fail("search", rc); goto out; }
    thnsw += now_s() - t1;
    if ((rc = valori_search(db, s, qs + i * 784, &pe, x, &nx)) != 0) { code = fail("exact search", rc); goto out; }
    for (a = 0; a < nx; a++)
      for (b = 0; b < nh; b++)
        if (h[b].id == x[a].id) { hit++; break; }
    if (i < 3) {
      printf("  query %zu (a %s): nearest classes", i, CLASSES[qlab[i]]);
      for (j = 0; j < nh && j < 5; j++) printf(" %s%s", j ? "| " : "", CLASSES[tag_of(db, h[j].id) % 10]);
      printf("\n");
    }
  }
  printf("  HNSW recall@10 vs exact: %.4f over %zu queries, %.0f queries/s (single thread)\n",
         (double)hit / (10.0 * (double)nq), nq, (double)nq / thnsw);
  /* a filtered search and a search-then-expand */
  {
    uint64_t dress = 3;
    valori_hit h[10];
    valori_reach r[32];
    size_t nh, nr;
    valori_search_params p = {5, ef, VALORI_SEARCH_AUTO, 1, &dress};
    if ((rc = valori_search(db, s, qs, &p, h, &nh)) != 0) { code = fail("filtered search", rc); goto out; }
    printf("  only Dresses, nearest to query 0:");
    for (j = 0; j < nh; j++) printf(" #%llu", (unsigned long long)h[j].id);
    printf("\n");
    p.ntags = 0;
    p.tags = NULL; /* no filter (tags with ntags 0 would be an empty set: EINVAL) */
    p.k = 10;
    rc = valori_search_expand(db, s, qs, &p, 1, VALORI_DIR_OUT, 32, h, &nh, r, 32, &nr);
    if (rc) { code = fail("search_expand", rc); goto out; }
    printf("  search-then-expand from query 0: %zu hits, %zu graph nodes reached", nh, nr);
    for (j = 0; j < nr && j < 32; j++) {
      valori_node nd;
      char label[32];
      size_t ll;
      if (r[j].depth == 1 && valori_node_get(db, r[j].node_id, &nd, label, sizeof label - 1, &ll) == VALORI_OK && nd.kind == 1) {
        label[ll < sizeof label - 1 ? ll : sizeof label - 1] = 0;
        printf(" -> class node \"%s\"", label);
      }
    }
    printf("\n");
  }
  valori_state_root(db, root);
  printf("  state root at height %llu: ", (unsigned long long)st.height);
  vcli_hex(stdout, root);
  printf("\n  (run `valori verify %s` to check every checksum and replay the log)\n", dir);
  code = VCLI_OK;
out:
  valori_searcher_free(s);
  if (db && (rc = valori_close(db)) != 0 && code == VCLI_OK) code = fail("close", rc);
  valori_posix_vfs_close(vfs);
  free(img);
  free(lab);
  free(qs);
  free(qlab);
  return code;
}
