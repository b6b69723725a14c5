/*
** collection.c: the collection registry (see collection.h): a sorted array of collections by name,
** lazy open with an LRU bound on open stores, crash-atomic create (build in DATA/.tmp-*, rename,
** fsync the data directory) and delete (rename to DATA/.del-*, fsync, remove), the commit threads
** that run group commit (valori_commit_begin / sync / end, the fsync outside every lock) and wake
** the writers waiting for durability, and background snapshots (valori_snapshot_begin / write /
** end). Everything here talks to the store through valori.h and the POSIX VFS only.
*/
#define _GNU_SOURCE 1 /* pthread_rwlockattr_setkind_np, O_DIRECTORY, openat */
#include "collection.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "valori_native.h"

enum { CS_CLOSED, CS_OPENING, CS_OPEN, CS_CLOSING, CS_CREATING, CS_DELETING };

#define MAX_SEARCHERS 16

/* Searches of one collection at once: its searchers (each holds scratch of ~48 bytes per slot,
** sized to the collection) are bounded by the cores, not by --threads; a search beyond the bound
** waits for a searcher. Searches are CPU-bound, so more at once would not be faster, only larger. */
static int searcher_cap(void) {
  static int cap;
  if (!cap) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cap = n < 2 ? 2 : n > MAX_SEARCHERS ? MAX_SEARCHERS : (int)n;
  }
  return cap;
}

/* A queued job. Each collection has at most one commit and one snapshot job at a time (the
** commit_queued and snap_running flags), so both live inside the collection: queuing allocates
** nothing and cannot fail. */
typedef struct vs_job {
  struct vs_job *next;
  struct vs_coll *c;
  int kind; /* JOB_COMMIT, JOB_SNAPSHOT */
} vs_job;
enum { JOB_COMMIT = 1, JOB_SNAPSHOT = 2 };

struct vs_coll {
  char name[VS_MAX_NAME + 1];
  /* registry mutex: */
  int state, refs;
  uint64_t lru;
  int last_error;
  /* handle (valid while OPEN; owned by the thread that set OPENING/CLOSING otherwise): */
  valori_db *db;
  valori_vfs *vfs;
  pthread_rwlock_t rw;
  /* commit mutex: */
  pthread_mutex_t cmu;
  vs_summary sum;
  uint64_t durable;     /* every write up to here is durable */
  vs_waiter *waiters;   /* unordered */
  int commit_queued;    /* a commit job is queued or running */
  int snap_running;     /* a snapshot (background, checkpoint) or verify is queued or running */
  pthread_cond_t scv;   /* snap_running dropped */
  vs_job commit_job, snap_job;
  int poisoned;
  valori_position dpos; /* the durable position (replication offers nothing beyond it) */
  int going;            /* a delete or replace waits for the references to go */
  uint64_t gen;         /* vs_coll_generation */
  valori_searcher *searchers[MAX_SEARCHERS];
  int nsearchers;       /* idle, in searchers[] */
  int nbusy;            /* handed out by vs_coll_searcher_get */
  pthread_cond_t svcv;  /* a searcher came back */
};


struct vs_registry {
  vs_reg_opts o;
  char dir[4096];
  pthread_mutex_t mu;
  pthread_cond_t cv; /* state changes, refs dropping */
  vs_coll **colls;
  size_t n, cap;
  uint32_t nopen;
  uint64_t tick, seq;
  /* commit threads */
  pthread_mutex_t jmu;
  pthread_cond_t jcv;
  vs_job *jhead, *jtail;
  int stopping;
  pthread_t *threads;
  uint32_t nthreads;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- directory helpers */

static int fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;
  if (fd < 0) return VALORI_EIO;
  rc = fsync(fd) == 0 ? VALORI_OK : VALORI_EIO;
  close(fd);
  return rc;
}

/* Removes a store directory (regular files only) and the directory itself. */
static int remove_tree(const char *path) {
  DIR *d = opendir(path);
  struct dirent *de;
  int rc = VALORI_OK;
  if (!d) return errno == ENOENT ? VALORI_OK : VALORI_EIO;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    if (unlinkat(dirfd(d), de->d_name, 0) != 0) rc = VALORI_EIO;
  }
  closedir(d);
  if (rmdir(path) != 0) rc = VALORI_EIO;
  return rc;
}

uint64_t vs_coll_disk_bytes(vs_registry *r, const char *name) {
  char path[4400];
  DIR *d;
  struct dirent *de;
  uint64_t total = 0;
  snprintf(path, sizeof path, "%s/%s", r->dir, name);
  d = opendir(path);
  if (!d) return 0;
  while ((de = readdir(d)) != NULL) {
    struct stat st;
    if (de->d_name[0] == '.') continue;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) total += (uint64_t)st.st_size;
  }
  closedir(d);
  return total;
}

/* The newest snap-<20 digits>.vsnap in a store directory: 1 when there is one (a snapshot at height
** 0 included: a follower bootstraps from it), its name and mtime. */
static int newest_snapshot(const char *path, char *file, size_t cap, double *mtime) {
  DIR *d = opendir(path);
  struct dirent *de;
  uint64_t best = 0;
  int found = 0;
  if (!d) return 0;
  while ((de = readdir(d)) != NULL) {
    uint64_t h;
    if (strlen(de->d_name) != 5 + 20 + 6 || strncmp(de->d_name, "snap-", 5) != 0 ||
        strcmp(de->d_name + 25, ".vsnap") != 0)
      continue;
    if (!vs_parse_u64_text(de->d_name + 5, 20, &h) || (found && h <= best)) continue;
    best = h;
    found = 1;
    if (file) snprintf(file, cap, "%s", de->d_name);
    if (mtime) {
      struct stat st;
      *mtime = fstatat(dirfd(d), de->d_name, &st, 0) == 0 ? (double)st.st_mtime : 0;
    }
  }
  closedir(d);
  return found;
}

/* ---- registry array */

static size_t find_pos(vs_registry *r, const char *name, int *found) {
  size_t lo = 0, hi = r->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(r->colls[mid]->name, name);
    if (c == 0) {
      *found = 1;
      return mid;
    }
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  *found = 0;
  return lo;
}

static vs_coll *find(vs_registry *r, const char *name) {
  int f;
  size_t i = find_pos(r, name, &f);
  return f ? r->colls[i] : NULL;
}

static vs_coll *coll_new(const char *name) {
  vs_coll *c = (vs_coll *)calloc(1, sizeof *c);
  pthread_rwlockattr_t a;
  if (!c) return NULL;
  snprintf(c->name, sizeof c->name, "%s", name);
  snprintf(c->sum.name, sizeof c->sum.name, "%s", name);
  pthread_rwlockattr_init(&a);
  /* writers must not starve under a steady stream of searches */
  pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&c->rw, &a);
  pthread_rwlockattr_destroy(&a);
  pthread_mutex_init(&c->cmu, NULL);
  pthread_cond_init(&c->scv, NULL);
  pthread_cond_init(&c->svcv, NULL);
  c->commit_job.c = c;
  c->commit_job.kind = JOB_COMMIT;
  c->snap_job.c = c;
  c->snap_job.kind = JOB_SNAPSHOT;
  return c;
}

static void coll_free(vs_coll *c) {
  pthread_rwlock_destroy(&c->rw);
  pthread_mutex_destroy(&c->cmu);
  pthread_cond_destroy(&c->scv);
  pthread_cond_destroy(&c->svcv);
  free(c);
}

static int insert_coll(vs_registry *r, vs_coll *c) {
  int f;
  size_t i = find_pos(r, c->name, &f);
  if (f) return VALORI_EEXIST;
  if (r->n == r->cap) {
    size_t nc = r->cap ? r->cap * 2 : 64;
    vs_coll **np = (vs_coll **)realloc(r->colls, nc * sizeof *np);
    if (!np) return VALORI_ENOMEM;
    r->colls = np;
    r->cap = nc;
  }
  memmove(r->colls + i + 1, r->colls + i, (r->n - i) * sizeof *r->colls);
  r->colls[i] = c;
  r->n++;
  return VALORI_OK;
}

static void remove_coll(vs_registry *r, vs_coll *c) {
  int f;
  size_t i = find_pos(r, c->name, &f);
  if (!f) return;
  memmove(r->colls + i, r->colls + i + 1, (r->n - i - 1) * sizeof *r->colls);
  r->n--;
}

/* ---- open / close of one store (no registry lock held; the caller owns the handle) */

static void summary_refresh(vs_coll *c) {
  valori_store_status ss;
  /* caller holds rw (shared or exclusive) or owns the handle exclusively */
  pthread_mutex_lock(&c->cmu);
  valori_stats_get(c->db, &c->sum.st);
  valori_state_root(c->db, c->sum.root);
  if (valori_store_status_get(c->db, &ss) == VALORI_OK) c->sum.snapshot_height = ss.snapshot_height;
  c->sum.durable_height = c->durable;
  c->sum.known = 1;
  c->sum.last_error = VALORI_OK;
  pthread_mutex_unlock(&c->cmu);
}

static int store_open(vs_registry *r, vs_coll *c, valori_recovery *rep) {
  char path[4400];
  valori_options o;
  valori_vfs *v = NULL;
  valori_db *db = NULL;
  valori_store_status ss;
  int rc;
  snprintf(path, sizeof path, "%s/%s", r->dir, c->name);
  rc = valori_posix_vfs_open(path, 0, &v);
  if (rc != VALORI_OK) return rc;
  valori_options_init(&o);
  o.vfs = v;
  o.sync_mode = VALORI_SYNC_RELAXED;    /* group commit: the commit threads make writes durable */
  o.snapshot_every = UINT64_MAX;        /* snapshots are the server's background jobs */
  o.segment_bytes = r->o.segment_bytes;
  rc = valori_open_report(path, &o, &db, rep);
  if (rc != VALORI_OK) {
    valori_posix_vfs_close(v);
    return rc;
  }
  c->db = db;
  c->vfs = v;
  valori_store_status_get(db, &ss);
  pthread_mutex_lock(&c->cmu);
  c->durable = ss.durable_height;
  c->poisoned = 0;
  c->going = 0;
  if (valori_position_get(db, &c->dpos) != VALORI_OK) memset(&c->dpos, 0, sizeof c->dpos); /* all recovered is durable */
  pthread_mutex_unlock(&c->cmu);
  summary_refresh(c);
  return VALORI_OK;
}

static int store_close(vs_coll *c) {
  int rc, i;
  for (i = 0; i < c->nsearchers; i++) valori_searcher_free(c->searchers[i]);
  c->nsearchers = 0;
  rc = valori_close(c->db);
  valori_posix_vfs_close(c->vfs);
  c->db = NULL;
  c->vfs = NULL;
  if (rc != VALORI_OK)
    fprintf(stderr, "valori serve: closing collection %s: %s (%s)\n", c->name, valori_strerror(rc), valori_code_name(rc));
  return rc;
}

/* Closes an open collection nobody uses (registry lock held; dropped during the close). */
static void close_locked(vs_registry *r, vs_coll *c) {
  c->state = CS_CLOSING;
  pthread_mutex_unlock(&r->mu);
  store_close(c);
  pthread_mutex_lock(&r->mu);
  c->state = CS_CLOSED;
  r->nopen--;
}

/* Closes least-recently-used idle collections until fewer than max_open are open (registry lock
** held; it is dropped around each close). Returns 0 when a slot is free. */
static int make_room(vs_registry *r) {
  while (r->nopen >= r->o.max_open) {
    vs_coll *victim = NULL;
    size_t i;
    int busy_closing = 0;
    for (i = 0; i < r->n; i++) {
      vs_coll *c = r->colls[i];
      if (c->state == CS_CLOSING || c->state == CS_OPENING) busy_closing = 1;
      if (c->state == CS_OPEN && c->refs == 0 && (!victim || c->lru < victim->lru)) victim = c;
    }
    if (!victim) {
      if (!busy_closing) return -1;
      pthread_cond_wait(&r->cv, &r->mu); /* another thread is closing or opening one: see again */
      continue;
    }
    close_locked(r, victim);
    pthread_cond_broadcast(&r->cv);
  }
  return 0;
}

int vs_coll_acquire(vs_registry *r, const char *name, vs_coll **out, vs_err *e) {
  vs_coll *c;
  int rc;
  valori_recovery rep;
  /* an invalid name can never be a collection: EINVAL, as when creating one (the name is not echoed:
  ** it may be anything the path held) */
  if (!vs_name_valid(name)) return vs_fail(e, VALORI_EINVAL, "collection name: " VS_NAME_RULE);
  pthread_mutex_lock(&r->mu);
  for (;;) {
    c = find(r, name);
    if (!c || c->state == CS_CREATING || c->state == CS_DELETING || vs_coll_going(c)) {
      pthread_mutex_unlock(&r->mu);
      return vs_fail(e, VS_ENOCOLLECTION, "no collection named '%s'", name); /* (or it is being deleted: no new users) */
    }
    if (c->state == CS_OPEN && vs_coll_poisoned(c)) {
      if (c->refs > 0) {
        pthread_mutex_unlock(&r->mu);
        return vs_fail(e, VALORI_EPOISONED, "collection '%s' is being reopened from its log after a failed write; retry",
                       name);
      }
      close_locked(r, c); /* nobody uses it: reopen now (recovery replays the log) */
      pthread_cond_broadcast(&r->cv);
      continue;
    }
    if (c->state == CS_OPEN) {
      c->refs++;
      c->lru = ++r->tick;
      pthread_mutex_unlock(&r->mu);
      *out = c;
      return VALORI_OK;
    }
    if (c->state == CS_CLOSED) break;
    pthread_cond_wait(&r->cv, &r->mu); /* OPENING or CLOSING */
  }
  if (make_room(r) != 0) {
    pthread_mutex_unlock(&r->mu);
    return vs_fail(e, VS_EUNAVAILABLE, "all %u open-collection slots are in use; retry", r->o.max_open);
  }
  if (c->state != CS_CLOSED) { /* changed while make_room dropped the lock */
    pthread_mutex_unlock(&r->mu);
    return vs_coll_acquire(r, name, out, e);
  }
  c->state = CS_OPENING;
  r->nopen++;
  pthread_mutex_unlock(&r->mu);
  rc = store_open(r, c, &rep);
  pthread_mutex_lock(&r->mu);
  if (rc == VALORI_OK) {
    c->state = CS_OPEN;
    c->refs++;
    c->lru = ++r->tick;
    c->last_error = VALORI_OK;
  } else {
    c->state = CS_CLOSED;
    r->nopen--;
    c->last_error = rc;
    c->sum.last_error = rc;
  }
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  if (rc != VALORI_OK) {
    vs_fail(e, rc, "collection '%s' cannot be opened: %s%s%s", name, valori_strerror(rc), rep.file[0] ? " in " : "",
            rep.file);
    if (rep.file[0]) {
      snprintf(e->file, sizeof e->file, "%s", rep.file);
      e->offset = rep.offset;
      e->height = rep.height;
    }
    return rc;
  }
  *out = c;
  return VALORI_OK;
}

void vs_coll_release(vs_registry *r, vs_coll *c) {
  int reopen = 0;
  pthread_mutex_lock(&r->mu);
  c->refs--;
  if (c->refs == 0 && c->state == CS_OPEN) {
    pthread_mutex_lock(&c->cmu);
    reopen = c->poisoned;
    pthread_mutex_unlock(&c->cmu);
  }
  if (reopen) close_locked(r, c); /* recover from the log: the next acquire opens it again */
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

static void coll_ref(vs_registry *r, vs_coll *c) {
  pthread_mutex_lock(&r->mu);
  c->refs++;
  pthread_mutex_unlock(&r->mu);
}

valori_db *vs_coll_db(vs_coll *c) { return c->db; }
const char *vs_coll_name(const vs_coll *c) { return c->name; }
void vs_coll_rdlock(vs_coll *c) { pthread_rwlock_rdlock(&c->rw); }
void vs_coll_wrlock(vs_coll *c) { pthread_rwlock_wrlock(&c->rw); }
void vs_coll_unlock(vs_coll *c) { pthread_rwlock_unlock(&c->rw); }

valori_searcher *vs_coll_searcher_get(vs_coll *c) {
  valori_searcher *s = NULL;
  pthread_mutex_lock(&c->cmu);
  while (c->nbusy >= searcher_cap()) pthread_cond_wait(&c->svcv, &c->cmu);
  c->nbusy++;
  if (c->nsearchers > 0) s = c->searchers[--c->nsearchers];
  pthread_mutex_unlock(&c->cmu);
  if (!s && valori_searcher_create(c->db, &s) != VALORI_OK) s = NULL;
  return s;
}

/* Every vs_coll_searcher_get is paired with one put, also when it returned NULL. */
void vs_coll_searcher_put(vs_coll *c, valori_searcher *s) {
  pthread_mutex_lock(&c->cmu);
  if (s && c->nsearchers < MAX_SEARCHERS) {
    c->searchers[c->nsearchers++] = s;
    s = NULL;
  }
  c->nbusy--;
  pthread_cond_signal(&c->svcv);
  pthread_mutex_unlock(&c->cmu);
  if (s) valori_searcher_free(s);
}

void vs_coll_wrote(vs_coll *c, uint64_t *height, uint8_t root[32]) {
  summary_refresh(c);
  pthread_mutex_lock(&c->cmu);
  *height = c->sum.st.height;
  memcpy(root, c->sum.root, 32);
  pthread_mutex_unlock(&c->cmu);
}

void vs_coll_summary(vs_coll *c, vs_summary *out) {
  pthread_mutex_lock(&c->cmu);
  *out = c->sum;
  out->durable_height = c->durable;
  pthread_mutex_unlock(&c->cmu);
}

void vs_coll_write_failed(vs_coll *c) {
  valori_store_status ss;
  if (valori_store_status_get(c->db, &ss) != VALORI_OK || !ss.poisoned) return; /* a rejected event: nothing changed */
  pthread_mutex_lock(&c->cmu);
  c->poisoned = 1;
  pthread_mutex_unlock(&c->cmu);
  fprintf(stderr, "valori serve: a write to collection %s failed; it is reopened from its log\n", c->name);
}

int vs_coll_poisoned(vs_coll *c) {
  int p;
  pthread_mutex_lock(&c->cmu);
  p = c->poisoned;
  pthread_mutex_unlock(&c->cmu);
  return p;
}

int vs_coll_is_durable(vs_coll *c, uint64_t h) {
  int d;
  pthread_mutex_lock(&c->cmu);
  d = c->durable >= h;
  pthread_mutex_unlock(&c->cmu);
  return d;
}

/* ---- jobs: commits and snapshots */

/* Queues c's commit or snapshot job; the caller took a reference for it. */
static void job_push(vs_registry *r, vs_coll *c, int kind) {
  vs_job *j = kind == JOB_COMMIT ? &c->commit_job : &c->snap_job;
  j->next = NULL;
  pthread_mutex_lock(&r->jmu);
  if (r->jtail) r->jtail->next = j;
  else r->jhead = j;
  r->jtail = j;
  pthread_cond_signal(&r->jcv);
  pthread_mutex_unlock(&r->jmu);
}

/* Snapshots, checkpoints and verifies of one collection run one at a time. */
static void snap_claim(vs_coll *c) {
  pthread_mutex_lock(&c->cmu);
  while (c->snap_running) pthread_cond_wait(&c->scv, &c->cmu);
  c->snap_running = 1;
  pthread_mutex_unlock(&c->cmu);
}

static void snap_unclaim(vs_coll *c) {
  pthread_mutex_lock(&c->cmu);
  c->snap_running = 0;
  pthread_cond_broadcast(&c->scv);
  pthread_mutex_unlock(&c->cmu);
}

void vs_coll_add_waiter(vs_registry *r, vs_coll *c, vs_waiter *w) {
  int queue = 0, now = 0;
  pthread_mutex_lock(&c->cmu);
  if (c->durable >= w->height) {
    now = 1;
  } else if (c->poisoned) {
    w->rc = VALORI_EPOISONED;
    now = 2;
  } else {
    w->next = c->waiters;
    c->waiters = w;
    if (!c->commit_queued) {
      c->commit_queued = 1;
      queue = 1;
    }
  }
  pthread_mutex_unlock(&c->cmu);
  if (now == 1) {
    w->rc = VALORI_OK;
    w->wake(w);
    return;
  }
  if (now == 2) {
    w->wake(w);
    return;
  }
  if (queue) {
    coll_ref(r, c);
    job_push(r, c, JOB_COMMIT);
  }
}

/* One group commit of c. Returns 1 when more writes arrived meanwhile (run again). */
static int run_commit(vs_registry *r, vs_coll *c) {
  valori_commit t;
  int rc;
  double t0 = now_s(), t1, t2;
  uint64_t before;
  vs_waiter *done = NULL, **pp, *w;
  valori_position pend;
  int again = 0, snap = 0, advanced = 0;
  pthread_rwlock_wrlock(&c->rw);
  rc = valori_commit_begin(c->db, &t);
  if (rc == VALORI_OK && valori_position_get(c->db, &pend) != VALORI_OK) pend.height = 0; /* the position t covers */
  pthread_rwlock_unlock(&c->rw);
  t1 = now_s();
  if (rc == VALORI_OK) {
    int sync_rc = valori_commit_sync(c->db, &t); /* no lock: readers and writers go on */
    t2 = now_s();
    pthread_rwlock_wrlock(&c->rw);
    rc = valori_commit_end(c->db, &t, sync_rc);
    pthread_rwlock_unlock(&c->rw);
    vs_metrics_fsync(t2 - t1);
  }
  pthread_mutex_lock(&c->cmu);
  before = c->durable;
  if (rc == VALORI_OK) {
    if (t.height > c->durable) {
      c->durable = t.height;
      advanced = 1;
    }
    if (pend.height == t.height && t.height > c->dpos.height) c->dpos = pend;
  } else {
    c->poisoned = 1;
    fprintf(stderr, "valori serve: commit of collection %s failed: %s (%s); writes refused until it is reopened\n",
            c->name, valori_strerror(rc), valori_code_name(rc));
  }
  c->sum.durable_height = c->durable;
  for (pp = &c->waiters; (w = *pp) != NULL;) {
    if (rc != VALORI_OK || w->height <= c->durable) {
      *pp = w->next;
      w->rc = w->height <= c->durable ? VALORI_OK : rc;
      w->next = done;
      done = w;
    } else {
      pp = &w->next;
    }
  }
  if (c->waiters && rc == VALORI_OK) again = 1;
  else c->commit_queued = 0;
  if (rc == VALORI_OK && r->o.snapshot_every && !c->snap_running &&
      c->sum.st.height - c->sum.snapshot_height >= r->o.snapshot_every && c->durable == c->sum.st.height) {
    c->snap_running = 1;
    snap = 1;
  }
  pthread_mutex_unlock(&c->cmu);
  if (rc == VALORI_OK && c->durable > before) vs_metrics_commit(now_s() - t0, c->durable - before);
  while (done) {
    w = done;
    done = w->next;
    w->wake(w);
  }
  if (r->o.on_durable && (advanced || rc != VALORI_OK)) r->o.on_durable(r->o.arg, c, t.height, rc);
  if (snap) {
    coll_ref(r, c);
    job_push(r, c, JOB_SNAPSHOT);
  }
  return again;
}

/* Background snapshot in three steps; begin refuses (EINVAL) if a write is not durable yet. */
static int run_snapshot(vs_coll *c) {
  valori_snapjob *job = NULL;
  int rc, wrc;
  pthread_rwlock_rdlock(&c->rw);
  rc = valori_snapshot_begin(c->db, &job);
  pthread_rwlock_unlock(&c->rw);
  if (rc == VALORI_OK) {
    wrc = valori_snapshot_write(c->db, job);
    pthread_rwlock_wrlock(&c->rw);
    rc = valori_snapshot_end(c->db, job, wrc);
    pthread_rwlock_unlock(&c->rw);
    vs_metrics_snapshot(rc == VALORI_OK);
    if (rc != VALORI_OK)
      fprintf(stderr, "valori serve: snapshot of collection %s failed: %s\n", c->name, valori_strerror(rc));
  }
  pthread_rwlock_rdlock(&c->rw);
  summary_refresh(c);
  pthread_rwlock_unlock(&c->rw);
  return rc;
}

static void *commit_thread(void *arg) {
  vs_registry *r = (vs_registry *)arg;
  for (;;) {
    vs_job *j;
    pthread_mutex_lock(&r->jmu);
    while (!r->jhead && !r->stopping) pthread_cond_wait(&r->jcv, &r->jmu);
    j = r->jhead;
    if (!j) { /* stopping and drained */
      pthread_mutex_unlock(&r->jmu);
      return NULL;
    }
    r->jhead = j->next;
    if (!r->jhead) r->jtail = NULL;
    pthread_mutex_unlock(&r->jmu);
    if (j->kind == JOB_COMMIT) {
      while (run_commit(r, j->c)) {
      }
    } else {
      run_snapshot(j->c);
      snap_unclaim(j->c);
    }
    vs_coll_release(r, j->c);
  }
}

/* ---- checkpoint, verify, snapshot file */

/* Waits until every write so far is durable (a waiter on a condition variable). */
typedef struct sync_wait {
  vs_waiter w;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
} sync_wait;

static void sync_wake(vs_waiter *w) {
  sync_wait *s = (sync_wait *)w->arg;
  pthread_mutex_lock(&s->mu);
  s->done = 1;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static int wait_durable(vs_registry *r, vs_coll *c, uint64_t h) {
  sync_wait s;
  memset(&s, 0, sizeof s);
  pthread_mutex_init(&s.mu, NULL);
  pthread_cond_init(&s.cv, NULL);
  s.w.height = h;
  s.w.wake = sync_wake;
  s.w.arg = &s;
  vs_coll_add_waiter(r, c, &s.w);
  pthread_mutex_lock(&s.mu);
  while (!s.done) pthread_cond_wait(&s.cv, &s.mu);
  pthread_mutex_unlock(&s.mu);
  pthread_mutex_destroy(&s.mu);
  pthread_cond_destroy(&s.cv);
  return s.w.rc;
}

int vs_coll_wait_durable(vs_registry *r, vs_coll *c, uint64_t h) { return wait_durable(r, c, h); }

void vs_coll_durable_pos(vs_coll *c, valori_position *out) {
  pthread_mutex_lock(&c->cmu);
  *out = c->dpos;
  pthread_mutex_unlock(&c->cmu);
}

int vs_coll_going(vs_coll *c) {
  int g;
  pthread_mutex_lock(&c->cmu);
  g = c->going;
  pthread_mutex_unlock(&c->cmu);
  return g;
}

uint64_t vs_coll_generation(vs_coll *c) {
  uint64_t g;
  pthread_mutex_lock(&c->cmu);
  g = c->gen;
  pthread_mutex_unlock(&c->cmu);
  return g;
}

void vs_coll_dir(vs_registry *r, const char *name, char *out, size_t cap) { snprintf(out, cap, "%s/%s", r->dir, name); }

int vs_coll_checkpoint(vs_registry *r, vs_coll *c, uint64_t *snap_height, vs_err *e) {
  int rc, tries;
  for (tries = 0; tries < 100; tries++) {
    uint64_t h;
    pthread_rwlock_rdlock(&c->rw);
    pthread_mutex_lock(&c->cmu);
    h = c->sum.st.height;
    pthread_mutex_unlock(&c->cmu);
    pthread_rwlock_unlock(&c->rw);
    rc = wait_durable(r, c, h);
    if (rc != VALORI_OK) return vs_fail(e, rc, "making the collection durable failed: %s", valori_strerror(rc));
    snap_claim(c);
    rc = run_snapshot(c);
    snap_unclaim(c);
    if (rc == VALORI_OK) {
      pthread_mutex_lock(&c->cmu);
      *snap_height = c->sum.snapshot_height;
      pthread_mutex_unlock(&c->cmu);
      return VALORI_OK;
    }
    if (rc != VALORI_EINVAL) return vs_fail(e, rc, "snapshot failed: %s", valori_strerror(rc));
    /* EINVAL: a write landed after the commit and is not durable yet: commit again */
  }
  return vs_fail(e, VS_EUNAVAILABLE, "writes keep arriving; the snapshot could not catch up");
}

int vs_coll_verify(vs_registry *r, vs_coll *c, uint64_t *log_height, uint8_t root[32], valori_recovery *rep,
                   vs_err *e) {
  char path[4400];
  valori_options o;
  valori_vfs *v = NULL;
  uint8_t live[32];
  uint64_t h;
  int rc;
  vs_summary s;
  /* shared lock for the whole check: writes wait, reads go on */
  pthread_rwlock_rdlock(&c->rw);
  vs_coll_summary(c, &s);
  pthread_rwlock_unlock(&c->rw);
  rc = wait_durable(r, c, s.st.height);
  if (rc != VALORI_OK) return vs_fail(e, rc, "making the collection durable failed: %s", valori_strerror(rc));
  snap_claim(c); /* no snapshot is written or pruned while the files are read */
  pthread_rwlock_rdlock(&c->rw);
  rc = valori_check(c->db);
  if (rc != VALORI_OK) {
    pthread_rwlock_unlock(&c->rw);
    snap_unclaim(c);
    return vs_fail(e, rc, "the in-memory state fails its checks: %s", valori_strerror(rc));
  }
  valori_state_root(c->db, live);
  vs_coll_summary(c, &s);
  snprintf(path, sizeof path, "%s/%s", r->dir, c->name);
  rc = valori_posix_vfs_open(path, 0, &v);
  if (rc == VALORI_OK) {
    valori_options_init(&o);
    o.flags = VALORI_OPEN_READONLY;
    o.vfs = v;
    rc = valori_verify(&o, rep, &h, root);
    valori_posix_vfs_close(v);
  }
  pthread_rwlock_unlock(&c->rw);
  snap_unclaim(c);
  if (rc != VALORI_OK) {
    vs_fail(e, rc, "%s%s%s%s%s", valori_strerror(rc), rep->file[0] ? " in " : "", rep->file,
            rep->detail && rep->detail[0] ? ": " : "", rep->detail ? rep->detail : "");
    snprintf(e->file, sizeof e->file, "%s", rep->file);
    e->offset = rep->offset;
    e->height = rep->height;
    return rc;
  }
  if (h != s.st.height || memcmp(root, live, 32) != 0)
    return vs_fail(e, VALORI_ECORRUPT, "the log ends at height %llu but the live state is at height %llu with another root",
                   (unsigned long long)h, (unsigned long long)s.st.height);
  *log_height = h;
  return VALORI_OK;
}

static uint64_t rd64(const uint8_t *p) {
  uint64_t v = 0;
  int i;
  for (i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

int vs_coll_snapshot_file(vs_registry *r, vs_coll *c, int *fd, uint64_t *size, uint64_t *height, uint8_t root[32],
                          uint8_t chain[32], vs_err *e) {
  char dir[4400], path[4500], file[64];
  int tries;
  snprintf(dir, sizeof dir, "%s/%s", r->dir, c->name);
  for (tries = 0; tries < 4; tries++) { /* a snapshot may be pruned between listing and opening */
    uint8_t hdr[128];
    struct stat st;
    int f;
    if (!newest_snapshot(dir, file, sizeof file, NULL))
      return vs_fail(e, VS_ENOSNAPSHOT, "collection '%s' has no snapshot yet (POST .../checkpoint makes one)", c->name);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0) continue;
    if (fstat(f, &st) != 0 || st.st_size < 128 || pread(f, hdr, 128, 0) != 128 || memcmp(hdr, "VALORSNP", 8) != 0) {
      close(f);
      return vs_fail(e, VALORI_ECORRUPT, "snapshot file %s is damaged", file);
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    *height = rd64(hdr + 40);
    memcpy(root, hdr + 56, 32);
    memcpy(chain, hdr + 88, 32);
    return VALORI_OK;
  }
  return vs_fail(e, VALORI_EIO, "the newest snapshot of '%s' kept disappearing", c->name);
}

/* ---- create, delete, list */

int vs_coll_create(vs_registry *r, const vs_create_req *req, vs_summary *out, vs_err *e) {
  char tmp[4400], final[4400];
  vs_coll *c;
  valori_vfs *v = NULL;
  valori_db *db = NULL;
  valori_options o = req->opt;
  int rc;
  if (!vs_name_valid(req->name))
    return vs_fail(e, VALORI_EINVAL, "name: " VS_NAME_RULE);
  c = coll_new(req->name);
  if (!c) return vs_fail(e, VALORI_ENOMEM, "out of memory");
  c->state = CS_CREATING;
  pthread_mutex_lock(&r->mu);
  if (find(r, req->name)) {
    pthread_mutex_unlock(&r->mu);
    coll_free(c);
    return vs_fail(e, VALORI_EEXIST, "a collection named '%s' exists", req->name);
  }
  if (r->n >= r->o.max_collections) {
    pthread_mutex_unlock(&r->mu);
    coll_free(c);
    return vs_fail(e, VALORI_ETOOBIG, "the server holds %u collections, its limit (--max-collections)", r->o.max_collections);
  }
  rc = insert_coll(r, c);
  snprintf(tmp, sizeof tmp, "%s/.tmp-%s-%llu", r->dir, req->name, (unsigned long long)++r->seq);
  pthread_mutex_unlock(&r->mu);
  if (rc != VALORI_OK) {
    coll_free(c);
    return vs_fail(e, rc, "out of memory");
  }
  snprintf(final, sizeof final, "%s/%s", r->dir, req->name);
  rc = valori_posix_vfs_open(tmp, 1, &v);
  if (rc == VALORI_OK) {
    o.vfs = v;
    o.flags = VALORI_OPEN_CREATE;
    o.sync_mode = VALORI_SYNC_FULL;
    o.snapshot_every = UINT64_MAX;
    o.segment_bytes = r->o.segment_bytes;
    rc = valori_open(tmp, &o, &db);
    if (rc == VALORI_OK) {
      c->db = db;
      c->vfs = v;
      summary_refresh(c);
      c->db = NULL;
      c->vfs = NULL;
      rc = valori_close(db);
    }
    valori_posix_vfs_close(v);
  }
  if (rc == VALORI_OK && rename(tmp, final) != 0) rc = VALORI_EIO;
  if (rc == VALORI_OK) rc = fsync_dir(r->dir);
  pthread_mutex_lock(&r->mu);
  if (rc == VALORI_OK) {
    c->state = CS_CLOSED;
    c->sum.durable_height = c->sum.st.height;
    *out = c->sum;
  } else {
    remove_coll(r, c);
  }
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  if (rc != VALORI_OK) {
    remove_tree(tmp);
    coll_free(c);
    if (rc == VALORI_EINVAL && req->opt.traversal && req->opt.metric == VALORI_METRIC_IP)
      return vs_fail(e, rc, "traversal: an \"ip\" collection takes only a range whose int8 copy has centre 0, "
                     "lo = -128 * 2^(s-16) (e.g. [-1, 0.9921875] or [-128, 127]; docs/DETERMINISM.md)");
    return vs_fail(e, rc, "creating collection '%s' failed: %s", req->name, valori_strerror(rc));
  }
  return VALORI_OK;
}

/* Waits (registry lock held) until the collection `name` has no reference and is open or closed;
** holders of long-lived references are told to let go first (going, on_durable). NULL when there is
** no such collection. */
static vs_coll *drain(vs_registry *r, const char *name) {
  vs_coll *c;
  for (;;) {
    c = find(r, name);
    if (!c || c->state == CS_CREATING || c->state == CS_DELETING) return NULL;
    if ((c->state == CS_OPEN || c->state == CS_CLOSED) && c->refs == 0) return c;
    pthread_mutex_lock(&c->cmu);
    if (!c->going) {
      c->going = 1;
      pthread_mutex_unlock(&c->cmu);
      if (r->o.on_durable) {
        pthread_mutex_unlock(&r->mu);
        r->o.on_durable(r->o.arg, c, 0, VS_ENOCOLLECTION);
        pthread_mutex_lock(&r->mu);
      }
      continue;
    }
    pthread_mutex_unlock(&c->cmu);
    pthread_cond_wait(&r->cv, &r->mu);
  }
}

int vs_coll_delete(vs_registry *r, const char *name, vs_err *e) {
  char from[4400], to[4400];
  vs_coll *c;
  int rc, was_open;
  if (!vs_name_valid(name)) return vs_fail(e, VALORI_EINVAL, "collection name: " VS_NAME_RULE);
  pthread_mutex_lock(&r->mu);
  c = drain(r, name);
  if (!c) {
    pthread_mutex_unlock(&r->mu);
    return vs_fail(e, VS_ENOCOLLECTION, "no collection named '%s'", name);
  }
  was_open = c->state == CS_OPEN;
  c->state = CS_DELETING;
  snprintf(to, sizeof to, "%s/.del-%s-%llu", r->dir, name, (unsigned long long)++r->seq);
  pthread_mutex_unlock(&r->mu);
  if (was_open) store_close(c);
  snprintf(from, sizeof from, "%s/%s", r->dir, name);
  rc = rename(from, to) == 0 ? VALORI_OK : VALORI_EIO;
  if (rc == VALORI_OK) rc = fsync_dir(r->dir);
  pthread_mutex_lock(&r->mu);
  if (was_open) r->nopen--;
  if (rc == VALORI_OK) {
    remove_coll(r, c);
  } else {
    c->state = CS_CLOSED;
    c->going = 0;
  }
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  if (rc != VALORI_OK) return vs_fail(e, rc, "deleting collection '%s' failed: %s", name, strerror(errno));
  coll_free(c);
  if (remove_tree(to) != VALORI_OK)
    fprintf(stderr, "valori serve: could not remove %s (it is hidden and removed at the next start)\n", to);
  return VALORI_OK;
}

int vs_coll_exists(vs_registry *r, const char *name) {
  vs_coll *c;
  int yes;
  pthread_mutex_lock(&r->mu);
  c = find(r, name);
  yes = c && c->state != CS_CREATING && c->state != CS_DELETING;
  pthread_mutex_unlock(&r->mu);
  return yes;
}

int vs_coll_install(vs_registry *r, const char *name, int (*build)(void *arg, const char *dir), void *arg, vs_err *e) {
  char tmp[4400], final[4400], old[4400];
  vs_coll *c, *fresh = NULL;
  int rc, was_open = 0, existed;
  if (!vs_name_valid(name)) return vs_fail(e, VALORI_EINVAL, "bad collection name '%s'", name);
  pthread_mutex_lock(&r->mu);
  snprintf(tmp, sizeof tmp, "%s/.tmp-%s-%llu", r->dir, name, (unsigned long long)++r->seq);
  snprintf(old, sizeof old, "%s/.del-%s-%llu", r->dir, name, (unsigned long long)++r->seq);
  pthread_mutex_unlock(&r->mu);
  snprintf(final, sizeof final, "%s/%s", r->dir, name);
  rc = build(arg, tmp); /* the old copy, if any, serves meanwhile */
  if (rc != VALORI_OK) {
    remove_tree(tmp);
    return vs_fail(e, rc, "building collection '%s' failed: %s", name, valori_strerror(rc));
  }
  pthread_mutex_lock(&r->mu);
  c = drain(r, name);
  existed = c != NULL;
  if (!c) {
    if (find(r, name)) { /* being created or deleted by someone else */
      pthread_mutex_unlock(&r->mu);
      remove_tree(tmp);
      return vs_fail(e, VS_EUNAVAILABLE, "collection '%s' is being created or deleted; retry", name);
    }
    fresh = coll_new(name);
    if (!fresh || insert_coll(r, fresh) != VALORI_OK) {
      pthread_mutex_unlock(&r->mu);
      if (fresh) coll_free(fresh);
      remove_tree(tmp);
      return vs_fail(e, VALORI_ENOMEM, "out of memory");
    }
    c = fresh;
  }
  was_open = c->state == CS_OPEN;
  c->state = CS_CREATING;
  pthread_mutex_unlock(&r->mu);
  if (was_open) store_close(c);
  rc = VALORI_OK;
  if (existed && rename(final, old) != 0) rc = VALORI_EIO;
  if (rc == VALORI_OK && rename(tmp, final) != 0) {
    rc = VALORI_EIO;
    if (existed) rename(old, final); /* put the old copy back */
  }
  if (rc == VALORI_OK) rc = fsync_dir(r->dir);
  pthread_mutex_lock(&r->mu);
  if (was_open) r->nopen--;
  if (rc == VALORI_OK || existed) {
    c->state = CS_CLOSED;
    c->sum.known = 0;
    pthread_mutex_lock(&c->cmu);
    c->going = 0;
    c->poisoned = 0;
    if (rc == VALORI_OK) c->gen++;
    pthread_mutex_unlock(&c->cmu);
  } else {
    remove_coll(r, c);
  }
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  if (rc != VALORI_OK) {
    if (!existed) coll_free(c);
    remove_tree(tmp);
    return vs_fail(e, rc, "installing collection '%s' failed: %s", name, strerror(errno));
  }
  if (existed && remove_tree(old) != VALORI_OK)
    fprintf(stderr, "valori: could not remove %s (it is hidden and removed at the next start)\n", old);
  return VALORI_OK;
}

int vs_reg_list(vs_registry *r, const char *after, uint32_t limit, void (*cb)(void *arg, const vs_summary *s),
                void *arg, int *more) {
  size_t i = 0;
  uint32_t n = 0;
  pthread_mutex_lock(&r->mu);
  if (after) {
    int f;
    i = find_pos(r, after, &f);
    if (f) i++;
  }
  *more = 0;
  for (; i < r->n; i++) {
    vs_coll *c = r->colls[i];
    vs_summary s;
    if (c->state == CS_CREATING || c->state == CS_DELETING) continue;
    if (n == limit) {
      *more = 1;
      break;
    }
    vs_coll_summary(c, &s);
    cb(arg, &s);
    n++;
  }
  pthread_mutex_unlock(&r->mu);
  return VALORI_OK;
}

void vs_reg_counts(vs_registry *r, uint64_t *collections, uint64_t *open) {
  pthread_mutex_lock(&r->mu);
  *collections = r->n;
  *open = r->nopen;
  pthread_mutex_unlock(&r->mu);
}

void vs_reg_each(vs_registry *r, void (*cb)(void *arg, const vs_summary *s, uint64_t disk_bytes, double snap_age),
                 void *arg) {
  size_t i, n;
  vs_summary *all;
  pthread_mutex_lock(&r->mu);
  n = r->n;
  all = (vs_summary *)malloc((n ? n : 1) * sizeof *all);
  if (!all) n = 0;
  for (i = 0; i < n; i++) vs_coll_summary(r->colls[i], &all[i]);
  pthread_mutex_unlock(&r->mu);
  for (i = 0; i < n; i++) {
    char path[4400];
    double mt = 0, age = -1;
    struct timespec ts;
    snprintf(path, sizeof path, "%s/%s", r->dir, all[i].name);
    if (newest_snapshot(path, NULL, 0, &mt)) {
      clock_gettime(CLOCK_REALTIME, &ts);
      age = (double)ts.tv_sec - mt;
      if (age < 0) age = 0;
    }
    cb(arg, &all[i], vs_coll_disk_bytes(r, all[i].name), age);
  }
  free(all);
}

/* ---- start and stop */

int vs_reg_open(const vs_reg_opts *o, vs_registry **out, vs_err *e) {
  vs_registry *r = (vs_registry *)calloc(1, sizeof *r);
  DIR *d;
  struct dirent *de;
  uint32_t i;
  if (!r) return vs_fail(e, VALORI_ENOMEM, "out of memory");
  r->o = *o;
  snprintf(r->dir, sizeof r->dir, "%s", o->data_dir);
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  pthread_mutex_init(&r->jmu, NULL);
  pthread_cond_init(&r->jcv, NULL);
  r->seq = (uint64_t)time(NULL);
  if (mkdir(r->dir, 0755) != 0 && errno != EEXIST) {
    int err = errno;
    free(r);
    return vs_fail(e, VALORI_EIO, "cannot create the data directory %s: %s", o->data_dir, strerror(err));
  }
  d = opendir(r->dir);
  if (!d) {
    int err = errno;
    free(r);
    return vs_fail(e, VALORI_EIO, "cannot read the data directory %s: %s", o->data_dir, strerror(err));
  }
  while ((de = readdir(d)) != NULL) {
    struct stat st;
    char path[4400];
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    snprintf(path, sizeof path, "%s/%s", r->dir, de->d_name);
    if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (strncmp(de->d_name, ".tmp-", 5) == 0 || strncmp(de->d_name, ".del-", 5) == 0) {
      remove_tree(path); /* an interrupted create or delete */
      continue;
    }
    if (vs_name_valid(de->d_name)) {
      vs_coll *c = coll_new(de->d_name);
      if (!c || insert_coll(r, c) != VALORI_OK) {
        closedir(d);
        return vs_fail(e, VALORI_ENOMEM, "out of memory");
      }
    }
  }
  closedir(d);
  fsync_dir(r->dir);
  /* recover each once, in name order, and leave it closed (opened again on first use) */
  for (i = 0; i < r->n; i++) {
    vs_coll *c = r->colls[i];
    valori_recovery rep;
    int rc;
    memset(&rep, 0, sizeof rep);
    rc = store_open(r, c, &rep);
    c->last_error = rc;
    c->sum.last_error = rc;
    if (o->on_recovered) o->on_recovered(o->arg, &c->sum, rc, &rep);
    if (rc == VALORI_OK) store_close(c);
  }
  r->nthreads = o->commit_threads ? o->commit_threads : 1;
  r->threads = (pthread_t *)calloc(r->nthreads, sizeof(pthread_t));
  if (!r->threads) return vs_fail(e, VALORI_ENOMEM, "out of memory");
  for (i = 0; i < r->nthreads; i++) pthread_create(&r->threads[i], NULL, commit_thread, r);
  *out = r;
  return VALORI_OK;
}

int vs_reg_close(vs_registry *r) {
  uint32_t i;
  int failed = 0;
  size_t k;
  if (!r) return 0;
  pthread_mutex_lock(&r->jmu);
  r->stopping = 1;
  pthread_cond_broadcast(&r->jcv);
  pthread_mutex_unlock(&r->jmu);
  for (i = 0; i < r->nthreads; i++) pthread_join(r->threads[i], NULL);
  free(r->threads);
  for (k = 0; k < r->n; k++) {
    vs_coll *c = r->colls[k];
    if (c->state == CS_OPEN && store_close(c) != VALORI_OK) failed++;
    coll_free(c);
  }
  free(r->colls);
  pthread_mutex_destroy(&r->mu);
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->jmu);
  pthread_cond_destroy(&r->jcv);
  free(r);
  return failed;
}
