/*
** store_wl.h: the deterministic workload the durable-store tests share (crash sweep, I/O errors,
** allocation failures, corruption): batched inserts, single inserts, updates, deletes, metadata,
** graph nodes and edges and their deletion, an explicit snapshot, automatic snapshots and log
** rotations (small segments). Every operation goes through the public API over a given VFS.
**
** wl_run records, for every height the database reached, the state root there (so a clean run is
** the reference: the state after recovery must equal the reference at the recovered height), the
** highest acknowledged height (every acknowledged write must survive) and the highest height the
** engine reached (nothing beyond it may appear).
*/
#ifndef STORE_WL_H
#define STORE_WL_H

#include "fault_vfs.h"
#include "valori.h"
#include "vt.h"

#define WL_DIM 8
#define WL_MAXH 512

typedef struct wl_result {
  int nops, nok, nfail;
  int first_fail_rc;     /* code of the first failed operation (0 if none) */
  int first_fail_op;     /* its index */
  int ok_after_poison;   /* operations that succeeded after the store was poisoned */
  int root_changed_on_fail; /* failed operations that changed the state root (must stay 0) */
  int io_fail_not_poisoned; /* mutations failing with EIO/ENOSPC that left the store writable */
  uint64_t acked;        /* height after the last acknowledged (durable) write */
  uint64_t reached;      /* engine height at the end (may include a write that failed to log) */
  uint8_t roots[WL_MAXH][32]; /* roots[h]: state root at height h, for h <= reached */
  uint8_t have[WL_MAXH];
} wl_result;

static void wl_vec(uint64_t seed, float *v) {
  uint64_t s = seed * 7919u + 13u;
  int i;
  for (i = 0; i < WL_DIM; i++) v[i] = (float)((int)(vt_rand(&s) % 2001u) - 1000) / 64.0f;
}

/* Index of the workload's store. The suites run once with an HNSW index and once index-less
** (WL_RUN_BOTH): the two take different delete and update paths (tombstones and purges, or slots
** freed and vectors rewritten at once) and write different format versions. */
static uint32_t wl_index = VALORI_INDEX_HNSW;

#define WL_RUN_BOTH(fn)                                          \
  do {                                                           \
    wl_index = VALORI_INDEX_HNSW;                                \
    VT_RUN(fn);                                                  \
    wl_index = VALORI_INDEX_NONE;                                \
    printf("  (index-less store)\n");                            \
    VT_RUN(fn);                                                  \
    wl_index = VALORI_INDEX_HNSW;                                \
  } while (0)

static void wl_options(valori_options *o, const valori_vfs *vfs, const valori_allocator *a, int relaxed) {
  valori_options_init(o);
  o->dim = WL_DIM;
  o->index = wl_index;
  if (wl_index == VALORI_INDEX_HNSW) {
    o->hnsw_m = 4;
    o->hnsw_ef_construction = 16;
    o->hnsw_ef_search = 16;
  }
  o->flags = VALORI_OPEN_CREATE;
  o->sync_mode = relaxed ? VALORI_SYNC_RELAXED : VALORI_SYNC_FULL;
  o->snapshot_every = 13;   /* automatic snapshots */
  o->segment_bytes = 2048;  /* several rotations */
  o->allocator = a;
  o->vfs = vfs;
}

static void wl_note(valori_db *db, wl_result *r) {
  valori_stats st;
  if (valori_stats_get(db, &st) != VALORI_OK) return;
  r->reached = st.height;
  if (st.height < WL_MAXH) {
    valori_state_root(db, r->roots[st.height]);
    r->have[st.height] = 1;
  }
}

/* Runs the workload on db (opened by the caller); keeps going after failures so that the tests see
** what later operations do. relaxed: the workload flushes every 5 operations and acknowledges at
** flushes. */
static void wl_run(valori_db *db, int nrounds, int relaxed, wl_result *r) {
  uint64_t last_rec = 0, batch_first = 0, node_prev = 0, node_cur = 0, edge_last = 0;
  int round, poisoned = 0;
  uint64_t pending_acked = 0;
  wl_note(db, r);
  r->acked = r->reached;
  for (round = 0; round < nrounds; round++) {
    int step;
    for (step = 0; step < 9; step++) {
      float v[WL_DIM * 6];
      uint64_t tags[6], id = 0, tag;
      const void *metas[6];
      size_t lens[6];
      char mb[6][8];
      int rc = VALORI_OK, k, seed = round * 16 + step;
      uint8_t before[32], after[32];
      valori_state_root(db, before);
      switch (step) {
        case 0:
          for (k = 0; k < 6; k++) {
            wl_vec((uint64_t)seed * 8u + (uint64_t)k, v + k * WL_DIM);
            tags[k] = (uint64_t)(k % 3);
            mb[k][0] = 'b'; mb[k][1] = (char)('a' + round % 26); mb[k][2] = (char)('0' + k); mb[k][3] = 0;
            metas[k] = mb[k];
            lens[k] = 3;
          }
          rc = valori_insert_batch(db, 6, v, tags, metas, lens, &id);
          if (rc == VALORI_OK) batch_first = id;
          break;
        case 1:
          wl_vec((uint64_t)seed, v);
          rc = valori_insert(db, v, 7, "single", 6, &id);
          if (rc == VALORI_OK) last_rec = id;
          break;
        case 2:
          wl_vec((uint64_t)seed + 1000u, v);
          tag = (uint64_t)round;
          rc = valori_update(db, batch_first + 1, v, &tag);
          break;
        case 3:
          rc = valori_node_create(db, 1, last_rec, "node", 4, &id);
          if (rc == VALORI_OK) { node_prev = node_cur ? node_cur : id; node_cur = id; }
          break;
        case 4: {
          float w = 0.5f;
          rc = valori_edge_create(db, node_prev, node_cur, 2, &w, &id);
          if (rc == VALORI_OK) edge_last = id;
          break;
        }
        case 5:
          rc = valori_delete(db, batch_first);
          break;
        case 6:
          rc = valori_set_meta(db, batch_first + 2, "meta!", 5);
          break;
        case 7:
          if (round % 2 == 1) rc = valori_edge_delete(db, edge_last);
          else if (round == 2) rc = valori_snapshot(db);
          else continue;
          break;
        default:
          if (round % 3 == 2) rc = valori_node_delete(db, node_prev);
          else continue;
          break;
      }
      r->nops++;
      wl_note(db, r);
      if (rc == VALORI_OK) {
        r->nok++;
        if (poisoned) r->ok_after_poison++;
        if (!relaxed) r->acked = r->reached;
        else pending_acked = r->reached;
      } else {
        valori_store_status ss;
        r->nfail++;
        if (!r->first_fail_rc) { r->first_fail_rc = rc; r->first_fail_op = r->nops; }
        if (valori_store_status_get(db, &ss) == VALORI_OK && ss.poisoned) poisoned = 1;
        if ((rc == VALORI_EIO || rc == VALORI_ENOSPC) && !poisoned && step != 7) r->io_fail_not_poisoned++;
        valori_state_root(db, after);
        /* a rejected event changes nothing; a write that failed to reach the log poisons instead */
        if (!poisoned && memcmp(before, after, 32) != 0) r->root_changed_on_fail++;
      }
      if (relaxed && r->nops % 5 == 0) {
        if (valori_flush(db) == VALORI_OK) {
          if (poisoned) r->ok_after_poison++;
          r->acked = pending_acked;
        } else {
          poisoned = 1;
        }
      }
    }
  }
  if (relaxed && valori_flush(db) == VALORI_OK) r->acked = pending_acked;
}

/* Opens db over vfs, failing the test on error. */
static valori_db *wl_open(const valori_vfs *vfs, const valori_allocator *a, int relaxed, int *rc_out) {
  valori_options o;
  valori_db *db = NULL;
  int rc;
  wl_options(&o, vfs, a, relaxed);
  rc = valori_open("wl", &o, &db);
  if (rc_out) *rc_out = rc;
  if (rc == VALORI_OK) { /* the store really is of the kind under test */
    valori_stats st;
    VT_CHECK(valori_stats_get(db, &st) == VALORI_OK && st.index == wl_index);
  }
  return rc == VALORI_OK ? db : NULL;
}

/* Checks that db (just recovered) is a prefix of the reference containing every acknowledged
** write. Returns 1 when it holds. */
static int wl_check_prefix(valori_db *db, const wl_result *ref, uint64_t acked, uint64_t reached) {
  valori_stats st;
  uint8_t root[32];
  int ok = 1;
  if (valori_stats_get(db, &st) != VALORI_OK) return 0;
  valori_state_root(db, root);
  if (st.height < acked || st.height > reached || st.height >= WL_MAXH || !ref->have[st.height]) {
    fprintf(stderr, "recovered height %llu outside [acked %llu, reached %llu]\n", (unsigned long long)st.height,
            (unsigned long long)acked, (unsigned long long)reached);
    ok = 0;
  } else if (memcmp(root, ref->roots[st.height], 32) != 0) {
    fprintf(stderr, "root at recovered height %llu differs from the reference\n", (unsigned long long)st.height);
    ok = 0;
  }
  if (valori_check(db) != VALORI_OK) {
    fprintf(stderr, "valori_check failed after recovery\n");
    ok = 0;
  }
  return ok;
}

/* The file names of a fault-VFS store (sorted, as fv_list_names gives them). */
typedef struct wl_names { char n[64][64]; int k; } wl_names;
static void wl_names_cb(void *arg, const char *name) {
  wl_names *N = (wl_names *)arg;
  if (N->k < 64) snprintf(N->n[N->k++], 64, "%s", name);
}
/* The name of the store's newest log segment ("" when none). */
static void wl_newest_segment(const fv_fs *fs, char out[64]) {
  wl_names N;
  int i;
  N.k = 0;
  out[0] = 0;
  fv_list_names(fs, wl_names_cb, &N);
  for (i = 0; i < N.k; i++)
    if (strncmp(N.n[i], "log-", 4) == 0) snprintf(out, 64, "%s", N.n[i]);
}

#endif /* STORE_WL_H */
