/*
** import_run.h: one run of the import engine (import.c) over an open reader and target; used by
** `valori import` (cmd_import.c).
*/
#ifndef VALORI_CLI_IMPORT_RUN_H
#define VALORI_CLI_IMPORT_RUN_H
#include <signal.h>

#include "import.h"
#include "vds.h"

#define VIMP_META_SLOT 160 /* bytes of one {"class":...,"index":...} (class names longer are cut) */

extern const char *const vimp_fashion_classes[10]; /* Fashion-MNIST's classes, labels 0..9 */

typedef struct vimp_job {
  const char *file;
  uint64_t offset; /* rows of the file before the first imported one */
  uint64_t limit;  /* rows to import in all (resumed runs included); 0 = to the end */
  size_t batch;    /* rows per atomic batch */
  int graph;       /* --graph */
  int quiet, tty;  /* -q; stderr is a terminal (progress on one line) */
  const char *const *classes; /* class names by label (tag) value; others are named by their digits */
  size_t nclasses;
  /* set (by a signal handler) to stop after the batch in progress is committed: the run then
  ** returns VALORI_OK with vimp_result.interrupted = 1 */
  volatile const sig_atomic_t *stop;
} vimp_job;

typedef struct vimp_result {
  uint64_t imported;            /* rows this run added */
  uint64_t resumed_from;        /* records the collection held before (0: a fresh import) */
  uint64_t total_in_collection; /* rows of this import now in the collection */
  double seconds;
  int interrupted; /* stopped by *job.stop before the end of the rows */
} vimp_result;

/* Runs the import; on failure t->err holds the message. lab may be NULL. */
int vimp_run(const vimp_job *j, vds_reader *r, vds_labels *lab, vimp_target *t, vimp_result *res);
#endif
