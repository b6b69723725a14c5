/*
** cmd_demo.c: `valori demo`: the command-line demo. Builds a durable store from Fashion-MNIST
** (Debian's dataset-fashion-mnist: 60,000 training images as records, tagged with their class),
** links every record into a small knowledge graph (record node -> class node), then answers
** the test images as queries: nearest neighbours with their classes, recall@10 of the HNSW index
** against exact search, a class-filtered search, and a search-then-expand. Running it again
** reopens the store (crash recovery included) instead of rebuilding it.
*/
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

int vcli_demo(int argc, char **argv) {
  const char *dir = "valori_db";
  size_t n = 60000, nq = 200, rows, dim, lrows, i, j;
  uint32_t ef = 64;
  float *img = NULL, *qs = NULL;
  uint8_t *lab = NULL, *qlab = NULL, root[32];
  valori_options o;
  valori_vfs *vfs = NULL;
  valori_db *db = NULL;
  valori_stats st;
  valori_recovery rec;
  valori_searcher *s = NULL;
  double t0, thnsw = 0;
  long hit = 0;
  int rc, code = VCLI_FAILED;
  for (i = 1; i < (size_t)argc; i++) {
    uint64_t v = 0;
    if (strcmp(argv[i], "--dir") == 0 && i + 1 < (size_t)argc) dir = argv[++i];
    else if (strcmp(argv[i], "--n") == 0 && i + 1 < (size_t)argc && vcli_parse_u64(argv[++i], &v) && v > 0 && v <= 60000) n = v;
    else if (strcmp(argv[i], "--queries") == 0 && i + 1 < (size_t)argc && vcli_parse_u64(argv[++i], &v) && v > 0 && v <= 10000) nq = v;
    else if (strcmp(argv[i], "--ef") == 0 && i + 1 < (size_t)argc && vcli_parse_u64(argv[++i], &v) && v > 0 && v <= VALORI_MAX_EF) ef = (uint32_t)v;
    else {
      fprintf(stderr, "usage: valori demo [--dir DIR] [--n RECORDS<=60000] [--queries Q<=10000] [--ef EF]\n");
      return VCLI_USAGE;
    }
  }
  printf("Valori %s demo: Fashion-MNIST in a durable store at %s/\n", VALORI_VERSION_STRING, dir);
  if (valori_posix_vfs_open(dir, 1, &vfs) != VALORI_OK) {
    fprintf(stderr, "error: cannot open directory %s\n", dir);
    return VCLI_FAILED;
  }
  valori_options_init(&o);
  o.dim = 784;
  o.flags = VALORI_OPEN_CREATE;
  o.sync_mode = VALORI_SYNC_RELAXED; /* the demo groups its writes and flushes once */
  o.vfs = vfs;
  t0 = now_s();
  rc = valori_open(dir, &o, &db);
  if (rc) {
    code = fail("open store", rc);
    goto out;
  }
  valori_recovery_info(db, &rec);
  valori_stats_get(db, &st);
  printf("  opened in %.0f ms: height %llu, %llu records (snapshot at %llu + %llu log records replayed)\n",
         (now_s() - t0) * 1e3, (unsigned long long)st.height, (unsigned long long)st.records,
         (unsigned long long)rec.snapshot_height, (unsigned long long)rec.replayed);
  if (valori_idx_images(VALORI_FMNIST_DIR "/t10k-images-idx3-ubyte.gz", nq, &qs, &rows, &dim) ||
      valori_idx_labels(VALORI_FMNIST_DIR "/t10k-labels-idx1-ubyte.gz", nq, &qlab, &lrows))
    goto out;
  nq = rows;
  if (st.records == 0) {
    fprintf(stderr, "  loading %zu training images...\n", n);
    if (valori_idx_images(VALORI_FMNIST_DIR "/train-images-idx3-ubyte.gz", n, &img, &rows, &dim) ||
        valori_idx_labels(VALORI_FMNIST_DIR "/train-labels-idx1-ubyte.gz", n, &lab, &lrows))
      goto out;
    if ((code = ingest(db, img, lab, rows, dim)) != 0) goto out;
    valori_stats_get(db, &st);
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
    if ((rc = valori_search(db, s, qs + i * dim, &p, h, &nh)) != 0) { code = fail("search", rc); goto out; }
    thnsw += now_s() - t1;
    if ((rc = valori_search(db, s, qs + i * dim, &pe, x, &nx)) != 0) { code = fail("exact search", rc); goto out; }
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
