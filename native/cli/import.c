/*
** import.c: the import engine (import.h): resume check, graph repair, then batches of rows from the
** reader into the target, each batch one atomic insert followed (with --graph) by its nodes and
** edges and one commit, with progress on stderr.
*/
#define _POSIX_C_SOURCE 200809L
#include "import_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *const vimp_fashion_classes[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- class names and class nodes */

typedef struct class_node {
  char *label;
  uint64_t id;
} class_node;

typedef struct vimp_ctx {
  const vimp_job *j;
  vds_reader *r;
  vds_labels *lab;
  vimp_target *t;
  class_node *cls;
  size_t ncls, capcls;
  uint64_t by_tag[1024]; /* class node of tags 0..1023, once looked up (0: not yet) */
  char errbuf[512];
} vimp_ctx;

/* The class name of a tag: the job's names, else the tag's decimal digits. */
static const char *class_name(const vimp_job *j, uint64_t tag, char buf[24]) {
  if (tag < j->nclasses) return j->classes[tag];
  snprintf(buf, 24, "%llu", (unsigned long long)tag);
  return buf;
}

static int fail_msg(vimp_ctx *c, int rc, const char *msg) {
  snprintf(c->t->err, sizeof c->t->err, "%s", msg);
  return rc;
}

static int add_class(vimp_ctx *c, const char *label, size_t len, uint64_t id) {
  if (c->ncls == c->capcls) {
    size_t nc = c->capcls ? c->capcls * 2 : 16;
    class_node *n = (class_node *)realloc(c->cls, nc * sizeof *n);
    if (!n) return fail_msg(c, VALORI_ENOMEM, "out of memory");
    c->cls = n;
    c->capcls = nc;
  }
  if (!(c->cls[c->ncls].label = (char *)malloc(len + 1))) return fail_msg(c, VALORI_ENOMEM, "out of memory");
  memcpy(c->cls[c->ncls].label, label, len);
  c->cls[c->ncls].label[len] = 0;
  c->cls[c->ncls++].id = id;
  return VALORI_OK;
}

/* Finds the class nodes already in the collection (kind VIMP_NODE_CLASS; the first of a label wins). */
static int load_classes(vimp_ctx *c, uint64_t next_node_id) {
  uint64_t id;
  char label[256];
  for (id = 1; id < next_node_id; id++) {
    uint32_t kind = 0;
    size_t len = 0, i;
    int rc = c->t->ops->node_get(c->t, id, &kind, label, sizeof label - 1, &len);
    if (rc == VALORI_ENOTFOUND) continue;
    if (rc) return rc;
    if (kind != VIMP_NODE_CLASS || len >= sizeof label) continue;
    for (i = 0; i < c->ncls; i++)
      if (strlen(c->cls[i].label) == len && memcmp(c->cls[i].label, label, len) == 0) break;
    if (i == c->ncls && (rc = add_class(c, label, len, id)) != VALORI_OK) return rc;
  }
  return VALORI_OK;
}

/* The class node of a tag, created when missing. */
static int class_of(vimp_ctx *c, uint64_t tag, uint64_t *node) {
  char buf[24];
  const char *name;
  size_t i, len;
  int rc;
  if (tag < 1024 && c->by_tag[tag]) {
    *node = c->by_tag[tag];
    return VALORI_OK;
  }
  name = class_name(c->j, tag, buf);
  len = strlen(name);
  for (i = 0; i < c->ncls; i++)
    if (strcmp(c->cls[i].label, name) == 0) break;
  if (i < c->ncls) {
    *node = c->cls[i].id;
  } else {
    if ((rc = c->t->ops->node_create(c->t, VIMP_NODE_CLASS, 0, name, len, node)) != VALORI_OK) return rc;
    if ((rc = add_class(c, name, len, *node)) != VALORI_OK) return rc;
  }
  if (tag < 1024) c->by_tag[tag] = *node;
  return VALORI_OK;
}

/* The record's node and its edge to its class node (each only when missing). */
static int link_record(vimp_ctx *c, uint64_t record, uint64_t tag, int node_known_missing) {
  uint64_t node = 0, cls;
  int rc = VALORI_ENOTFOUND, has = 0;
  if (!node_known_missing) rc = c->t->ops->node_of_record(c->t, record, &node);
  if (rc == VALORI_ENOTFOUND) {
    if ((rc = c->t->ops->node_create(c->t, VIMP_NODE_RECORD, record, NULL, 0, &node)) != VALORI_OK) return rc;
  } else if (rc) {
    return rc;
  } else if ((rc = c->t->ops->has_class_edge(c->t, node, &has)) != VALORI_OK) {
    return rc;
  }
  if (has) return VALORI_OK;
  if ((rc = class_of(c, tag, &cls)) != VALORI_OK) return rc;
  return c->t->ops->edge_create(c->t, node, cls, VIMP_EDGE_CLASS);
}

/* After a crash inside a batch's graph events: the records from the end back to the last one with
** its node and class edge get theirs. */
static int repair_graph(vimp_ctx *c, uint64_t last_id, uint64_t *repaired) {
  uint64_t id = last_id, from;
  int rc;
  *repaired = 0;
  while (id >= 1) {
    uint64_t node;
    int has = 0;
    rc = c->t->ops->node_of_record(c->t, id, &node);
    if (rc == VALORI_OK && (rc = c->t->ops->has_class_edge(c->t, node, &has)) != VALORI_OK) return rc;
    if (rc != VALORI_OK && rc != VALORI_ENOTFOUND) return rc;
    if (has) break;
    id--;
  }
  for (from = id + 1; from <= last_id; from++) {
    int32_t q[VALORI_MAX_DIM];
    uint64_t tag = 0;
    rc = c->t->ops->get(c->t, from, q, &tag);
    if (rc == VALORI_ENOTFOUND) continue; /* deleted since: nothing to link */
    if (rc) return rc;
    if ((rc = link_record(c, from, tag, 0)) != VALORI_OK) return rc;
    (*repaired)++;
  }
  if (*repaired) return c->t->ops->commit(c->t);
  return VALORI_OK;
}

/* ---- rows */

/* Reads up to n rows with their tags and metadata (labels, class metadata). */
static int read_rows(vimp_ctx *c, size_t n, float *vecs, vds_extra *x, uint64_t *tags, size_t *got) {
  vds_err e;
  size_t i;
  int rc = vds_read(c->r, n, vecs, x, got, &e);
  if (rc) return fail_msg(c, rc, e.msg);
  if (c->lab && *got && (rc = vds_labels_read(c->lab, *got, tags, &e)) != VALORI_OK) return fail_msg(c, rc, e.msg);
  if (!c->lab)
    for (i = 0; i < *got; i++) tags[i] = x[i].has_tag ? x[i].tag : 0;
  return VALORI_OK;
}

static int skip_rows(vimp_ctx *c, uint64_t n, uint64_t *skipped) {
  vds_err e;
  int rc = vds_skip(c->r, n, skipped, &e);
  if (rc) return fail_msg(c, rc, e.msg);
  if (c->lab && *skipped && (rc = vds_labels_skip(c->lab, *skipped, &e)) != VALORI_OK) return fail_msg(c, rc, e.msg);
  return VALORI_OK;
}

/* Appends s to buf as a JSON string body (quotes and backslashes escaped, control bytes as \u00XX). */
static size_t json_escape(char *out, size_t cap, const char *s) {
  size_t n = 0;
  for (; *s && n + 7 < cap; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') {
      out[n++] = '\\';
      out[n++] = (char)ch;
    } else if (ch < 0x20) {
      n += (size_t)snprintf(out + n, cap - n, "\\u%04x", ch);
    } else {
      out[n++] = (char)ch;
    }
  }
  out[n] = 0;
  return n;
}

/* Is the record `id` row `row` of the file (vector and tag)? */
static int same_row(vimp_ctx *c, uint64_t id, const float *vec, uint64_t tag, int *same) {
  static int32_t q[VALORI_MAX_DIM];
  uint64_t t = 0;
  uint32_t d, dim = vds_dim(c->r);
  int rc = c->t->ops->get(c->t, id, q, &t);
  *same = 0;
  if (rc == VALORI_ENOTFOUND) return VALORI_OK;
  if (rc) return rc;
  if (t != tag) return VALORI_OK;
  for (d = 0; d < dim; d++) {
    int32_t want;
    if (valori_f32_to_q16(vec[d], &want) != VALORI_OK || want != q[d]) return VALORI_OK;
  }
  *same = 1;
  return VALORI_OK;
}

static void fmt_secs(char *b, size_t cap, double s) {
  if (s < 0 || s > 1e7) snprintf(b, cap, "?");
  else if (s < 100) snprintf(b, cap, "%.0f s", s);
  else snprintf(b, cap, "%.0f min", s / 60);
}

static void progress(const vimp_job *j, vds_reader *r, uint64_t done_now, uint64_t total, double t0, int final) {
  double el = now_s() - t0, rate = el > 0 ? (double)done_now / el : 0, frac = -1;
  char eta[32];
  if (total != UINT64_MAX && total) frac = (double)done_now / (double)total;
  else if (total == UINT64_MAX) frac = vds_fraction(r);
  fmt_secs(eta, sizeof eta, frac > 0 ? el / frac - el : -1);
  if (j->quiet) return;
  if (total != UINT64_MAX)
    fprintf(stderr, "%s  %llu / %llu rows  %5.1f%%  %.0f rows/s  ETA %s   %s", j->tty ? "\r" : "", (unsigned long long)done_now,
            (unsigned long long)total, frac >= 0 ? frac * 100 : 100.0, rate, final ? "0 s" : eta, j->tty && !final ? "" : "\n");
  else
    fprintf(stderr, "%s  %llu rows  %5.1f%% of the file  %.0f rows/s  ETA %s   %s", j->tty ? "\r" : "",
            (unsigned long long)done_now, frac >= 0 ? frac * 100 : 0.0, rate, final ? "0 s" : eta, j->tty && !final ? "" : "\n");
}

int vimp_run(const vimp_job *j, vds_reader *r, vds_labels *lab, vimp_target *t, vimp_result *res) {
  vimp_ctx c;
  vimp_state st;
  uint64_t done, skipped, total, rows = vds_rows(r), imported = 0;
  size_t batch = j->batch, dim = vds_dim(r), i;
  float *vecs = NULL;
  vds_extra *x = NULL;
  uint64_t *tags = NULL;
  const void **metas = NULL;
  size_t *lens = NULL;
  char *metabuf = NULL;
  double t0, last = 0;
  int rc;
  memset(&c, 0, sizeof c);
  memset(res, 0, sizeof *res);
  c.j = j;
  c.r = r;
  c.lab = lab;
  c.t = t;
  vecs = (float *)malloc(batch * dim * sizeof *vecs);
  x = (vds_extra *)calloc(batch, sizeof *x);
  tags = (uint64_t *)calloc(batch, sizeof *tags);
  metas = (const void **)calloc(batch, sizeof *metas);
  lens = (size_t *)calloc(batch, sizeof *lens);
  metabuf = (char *)malloc(batch * VIMP_META_SLOT);
  if (!vecs || !x || !tags || !metas || !lens || !metabuf) {
    rc = fail_msg(&c, VALORI_ENOMEM, "out of memory for one batch (try a smaller --batch)");
    goto out;
  }
  if (j->graph && !t->ops->node_create) {
    rc = fail_msg(&c, VALORI_EINVAL, "--graph needs a local target (--collection or --store)");
    goto out;
  }
  if ((rc = t->ops->state(t, &st)) != VALORI_OK) goto out;
  done = st.next_record_id - 1;
  if (j->graph && (rc = load_classes(&c, st.next_node_id)) != VALORI_OK) goto out;
  /* where this import stands: rows offset .. offset+done-1 are in (checked at both ends) */
  if ((rc = skip_rows(&c, j->offset, &skipped)) != VALORI_OK) goto out;
  if (skipped < j->offset) {
    snprintf(t->err, sizeof t->err, "%s: --offset %llu is beyond the file's %llu rows", j->file, (unsigned long long)j->offset,
             (unsigned long long)skipped);
    rc = VALORI_EINVAL;
    goto out;
  }
  if (done) {
    uint64_t want[2], k;
    int same = 1;
    want[0] = 1;
    want[1] = done;
    for (k = 0; k < (done > 1 ? 2u : 1u) && same; k++) {
      size_t got = 0;
      uint64_t pos = j->offset + want[k] - 1;
      if (vds_position(r) < pos && (rc = skip_rows(&c, pos - vds_position(r), &skipped)) != VALORI_OK) goto out;
      if ((rc = read_rows(&c, 1, vecs, x, tags, &got)) != VALORI_OK) goto out;
      if (got == 0) same = 0;
      else if ((rc = same_row(&c, want[k], vecs, tags[0], &same)) != VALORI_OK) goto out;
    }
    if (!same) {
      snprintf(t->err, sizeof t->err,
               "%s already holds %llu records that are not rows %llu.. of %s (a resumed import must be the same command); "
               "choose another collection",
               t->where, (unsigned long long)done, (unsigned long long)j->offset, j->file);
      rc = VALORI_EEXIST;
      goto out;
    }
    res->resumed_from = done;
    if (!j->quiet)
      fprintf(stderr, "resuming: %s holds rows %llu..%llu of this file; continuing with row %llu\n", t->where,
              (unsigned long long)j->offset, (unsigned long long)(j->offset + done - 1), (unsigned long long)(j->offset + done));
    if (j->graph) {
      uint64_t fixed = 0;
      if ((rc = repair_graph(&c, done, &fixed)) != VALORI_OK) goto out;
      if (fixed && !j->quiet) fprintf(stderr, "  graph: linked %llu records an interrupted run left without their node or edge\n", (unsigned long long)fixed);
    }
  }
  total = j->limit ? j->limit : rows != UINT64_MAX ? (rows > j->offset ? rows - j->offset : 0) : UINT64_MAX;
  t0 = now_s();
  while (!j->limit || done < j->limit) {
    size_t n = batch, got = 0;
    uint64_t first = 0, row0 = vds_position(r);
    char *mp = metabuf;
    if (j->limit && j->limit - done < n) n = (size_t)(j->limit - done);
    if ((rc = read_rows(&c, n, vecs, x, tags, &got)) != VALORI_OK) goto out;
    if (got == 0) break;
    for (i = 0; i < got; i++) {
      if (x[i].meta) {
        metas[i] = x[i].meta;
        lens[i] = x[i].meta_len;
      } else if (lab) {
        char nb[24], esc[VIMP_META_SLOT - 40];
        json_escape(esc, sizeof esc, class_name(j, tags[i], nb));
        lens[i] = (size_t)snprintf(mp, VIMP_META_SLOT, "{\"class\":\"%s\",\"index\":%llu}", esc, (unsigned long long)(row0 + i));
        metas[i] = mp;
        mp += VIMP_META_SLOT;
      } else {
        metas[i] = NULL;
        lens[i] = 0;
      }
    }
    if ((rc = t->ops->insert_batch(t, got, vecs, tags, metas, lens, done + 1, &first)) != VALORI_OK) {
      if (rc == VALORI_EEXIST)
        snprintf(t->err + strlen(t->err), sizeof t->err - strlen(t->err),
                 "; another writer added records to this collection (a batch of an interrupted run that arrived "
                 "late, or another client): nothing of this batch was written; rerun to resume from there");
      goto out;
    }
    if (first != done + 1) {
      snprintf(t->err, sizeof t->err,
               "%s: the batch got ids from %llu, expected %llu: another writer adds records to this collection; an import "
               "needs a collection of its own to be resumable",
               t->where, (unsigned long long)first, (unsigned long long)(done + 1));
      rc = VALORI_EEXIST;
      goto out;
    }
    if (j->graph)
      for (i = 0; i < got; i++)
        if ((rc = link_record(&c, first + i, tags[i], 1)) != VALORI_OK) goto out;
    if ((rc = t->ops->commit(t)) != VALORI_OK) goto out;
    done += got;
    imported += got;
    if (j->stop && *j->stop) { /* SIGINT / SIGTERM: this batch is committed; stop here */
      res->interrupted = 1;
      break;
    }
    if (now_s() - last >= (j->tty ? 0.25 : 2.0)) {
      progress(j, r, done - res->resumed_from, total == UINT64_MAX ? total : total - res->resumed_from, t0, 0);
      last = now_s();
    }
  }
  progress(j, r, done - res->resumed_from, total == UINT64_MAX ? total : total - res->resumed_from, t0, 1);
  res->imported = imported;
  res->seconds = now_s() - t0;
  res->total_in_collection = done;
  rc = VALORI_OK;
out:
  for (i = 0; i < c.ncls; i++) free(c.cls[i].label);
  free(c.cls);
  free(vecs);
  free(x);
  free(tags);
  free(metas);
  free(lens);
  free(metabuf);
  return rc;
}
