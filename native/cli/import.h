/*
** import.h: the engine of `valori import` (docs/IMPORT.md): rows of a data file (native/dataset/vds.h)
** into a collection, in atomic batches, resumable, optionally with a class graph. The collection is
** a target: a local store directory opened through valori.h (import_local.c) or a server
** collection over HTTP (import_http.c). The engine (import.c) only sees the target's operations.
**
** Resumability: the rows of one import run become records with consecutive ids in file order, one
** atomic batch at a time, and nothing else writes records into the collection. So the records a
** collection holds say how far an import got: a rerun of the same command finds next_id - 1
** records, checks that the first and the last of them are the file's rows offset and
** offset + count - 1 (vector and tag), and continues with the row after. With --graph, the nodes
** and edges of the last batch may be missing after a crash; the rerun adds them first.
*/
#ifndef VALORI_CLI_IMPORT_H
#define VALORI_CLI_IMPORT_H
#include <stddef.h>
#include <stdint.h>

#include "valori.h"

#define VIMP_NODE_CLASS 1  /* --graph: one node per class (tag value), labelled with the class name */
#define VIMP_NODE_RECORD 2 /* one node per record, linked to it, without a label */
#define VIMP_EDGE_CLASS 1  /* record node -> its class node */

/* What a target says about its collection. */
typedef struct vimp_state {
  uint32_t dim;
  uint64_t next_record_id, next_node_id;
} vimp_state;

typedef struct vimp_target vimp_target;
/* A target's operations; each returns a VALORI_* code (or a server code mapped to one) and on
** failure writes a message into t->err. */
typedef struct vimp_ops {
  int (*state)(vimp_target *t, vimp_state *st);
  /* The record's Q16.16 vector and tag; VALORI_ENOTFOUND when it is not live. */
  int (*get)(vimp_target *t, uint64_t id, int32_t *q16, uint64_t *tag);
  /* One atomic batch whose ids must start at want_first: a target that can check it (the server's
  ** first_id) refuses otherwise with VALORI_EEXIST and writes nothing. */
  int (*insert_batch)(vimp_target *t, size_t n, const float *vecs, const uint64_t *tags, const void *const *metas,
                      const size_t *lens, uint64_t want_first, uint64_t *first);
  /* Graph (NULL in a target without graph operations: --graph is refused): a node's kind and label (label_cap bytes, *label_len the full length); the node linked
  ** to a record (ENOTFOUND: none); whether a node has an edge out of kind VIMP_EDGE_CLASS. */
  int (*node_get)(vimp_target *t, uint64_t id, uint32_t *kind, char *label, size_t label_cap, size_t *label_len);
  int (*node_of_record)(vimp_target *t, uint64_t record, uint64_t *node);
  int (*has_class_edge)(vimp_target *t, uint64_t node, int *has);
  int (*node_create)(vimp_target *t, uint32_t kind, uint64_t record, const char *label, size_t label_len, uint64_t *id);
  int (*edge_create)(vimp_target *t, uint64_t from, uint64_t to, uint32_t kind);
  /* Makes every write so far durable (one fsync for a batch and its graph events). */
  int (*commit)(vimp_target *t);
  /* After the last row: a snapshot (local) and close; rc is the import's result so far. */
  int (*finish)(vimp_target *t, int rc);
  /* Where the rows went, for the summary line ("DIR/NAME", the URL): height, root. */
  int (*summary)(vimp_target *t, uint64_t *records, uint64_t *height, uint8_t root[32]);
} vimp_ops;

struct vimp_target {
  const vimp_ops *ops;
  char where[600];
  char err[1536];
  void *impl;
};

/* How to create a missing collection (the options of `valori import`). 0 fields: defaults. */
typedef struct vimp_create {
  uint32_t dim; /* from the file; --dim must agree */
  uint32_t metric, index, m, ef_construction;
  int metric_set, index_set, m_set, efc_set;
} vimp_create;

/* Local target: DATA/NAME (like valori serve's layout), or a store directory `store` (name NULL).
** Creates the collection when it is missing (atomically: a hidden directory renamed into place),
** else opens it and checks it against the file's dim and any option given. */
int vimp_local_open(const char *data, const char *name, const vimp_create *c, int quiet, vimp_target *t);

/* 1 when name follows the server's collection name rule (1..64 of A-Z a-z 0-9 _ -, first a letter
** or digit). */
int vimp_name_ok(const char *name);
#endif
