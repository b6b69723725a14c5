/*
** test_store_posix.c: the durable store over the real POSIX VFS: create, reopen, the flock lock
** (a second writer of the same directory gets ELOCKED, also inside one process; a reader does
** not need the lock; LOCK is never removed or renamed; another process holding LOCK through
** flock(1), as the Node host does, keeps a native writer out until it dies), missing
** directories, and a background snapshot written by a second thread
** while the first keeps inserting (the server's pattern: begin under the lock, write without it,
** end under it).
*/
#define _DEFAULT_SOURCE 1
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vt.h"
#ifdef VALORI_HAVE_NATIVE
#include "valori_native.h"

static char dir[256];

static void opts(valori_options *o, valori_vfs *v) {
  valori_options_init(o);
  o->dim = 4;
  o->flags = VALORI_OPEN_CREATE;
  o->segment_bytes = 4096;
  o->snapshot_every = UINT64_MAX;
  o->vfs = v;
}

static void test_lock_and_reopen(void) {
  valori_vfs *v1 = NULL, *v2 = NULL;
  valori_options o;
  valori_db *a = NULL, *b = NULL;
  float vec[4] = {1, 2, 3, 4};
  uint64_t id;
  uint8_t r1[32], r2[32];
  int i;
  VT_REQUIRE(valori_posix_vfs_open(dir, 1, &v1) == VALORI_OK);
  VT_REQUIRE(valori_posix_vfs_open(dir, 0, &v2) == VALORI_OK);
  opts(&o, v1);
  VT_REQUIRE(valori_open(dir, &o, &a) == VALORI_OK);
  for (i = 0; i < 100; i++) VT_EQ_INT(valori_insert(a, vec, (uint64_t)i, "x", 1, &id), VALORI_OK);
  opts(&o, v2);
  VT_EQ_INT(valori_open(dir, &o, &b), VALORI_ELOCKED);
  o.flags = VALORI_OPEN_READONLY;
  VT_EQ_INT(valori_open(dir, &o, &b), VALORI_OK);
  if (b) {
    valori_stats st;
    valori_stats_get(b, &st);
    VT_EQ_INT(st.height, 100);
    valori_close(b);
  }
  valori_state_root(a, r1);
  VT_EQ_INT(valori_close(a), VALORI_OK);
  opts(&o, v2);
  VT_EQ_INT(valori_open(dir, &o, &b), VALORI_OK);
  if (b) {
    valori_state_root(b, r2);
    VT_CHECK(memcmp(r1, r2, 32) == 0);
    valori_close(b);
  }
  /* LOCK stays (same inode), holds "<pid> native", and the VFS refuses to remove or rename it */
  {
    char path[300], buf[64] = "";
    struct stat st1, st2;
    FILE *f;
    snprintf(path, sizeof path, "%s/LOCK", dir);
    VT_REQUIRE(stat(path, &st1) == 0);
    VT_EQ_INT(v1->remove(v1->ctx, "LOCK"), VALORI_EINVAL);
    VT_EQ_INT(v1->rename(v1->ctx, "LOCK", "LOCK2"), VALORI_EINVAL);
    VT_EQ_INT(v1->rename(v1->ctx, "HEAD", "LOCK"), VALORI_EINVAL);
    opts(&o, v1);
    VT_REQUIRE(valori_open(dir, &o, &a) == VALORI_OK);
    f = fopen(path, "r");
    VT_REQUIRE(f != NULL);
    VT_CHECK(fgets(buf, sizeof buf, f) != NULL && strstr(buf, " native") != NULL);
    fclose(f);
    VT_EQ_INT(valori_close(a), VALORI_OK);
    VT_REQUIRE(stat(path, &st2) == 0);
    VT_CHECK(st1.st_ino == st2.st_ino);
  }
  valori_posix_vfs_close(v1);
  valori_posix_vfs_close(v2);
  {
    valori_vfs *v = NULL;
    char missing[300];
    snprintf(missing, sizeof missing, "%s/does/not/exist", dir);
    VT_EQ_INT(valori_posix_vfs_open(missing, 0, &v), VALORI_ENOTFOUND);
  }
}

/* Another process holds LOCK with flock(1) (util-linux), the way the Node host does: a native
** writer gets ELOCKED until that process dies (SIGKILL), then opens. Bounded in time. */
static void test_lock_held_by_flock_process(void) {
  char path[300];
  valori_vfs *v = NULL;
  valori_options o;
  valori_db *db = NULL;
  pid_t pid;
  int i, rc = VALORI_OK, status;
  snprintf(path, sizeof path, "%s/LOCK", dir);
  if (access("/usr/bin/flock", X_OK) != 0) {
    printf("  /usr/bin/flock missing: skipped\n");
    return;
  }
  VT_REQUIRE(valori_posix_vfs_open(dir, 1, &v) == VALORI_OK);
  pid = fork();
  VT_REQUIRE(pid >= 0);
  if (pid == 0) {
    setpgid(0, 0);
    execl("/usr/bin/flock", "flock", "-w", "10", path, "sleep", "30", (char *)NULL); /* waits (bounded) while this process polls */
    _exit(127);
  }
  setpgid(pid, pid);
  opts(&o, v);
  for (i = 0; i < 500; i++) { /* wait (at most 5 s) until the child holds the lock */
    struct timespec ts = {0, 10 * 1000 * 1000};
    rc = valori_open(dir, &o, &db);
    if (rc == VALORI_ELOCKED) break;
    if (rc == VALORI_OK) valori_close(db);
    db = NULL;
    nanosleep(&ts, NULL);
  }
  VT_EQ_INT(rc, VALORI_ELOCKED);
  kill(-pid, SIGKILL); /* flock and its sleep: the kernel drops the lock */
  waitpid(pid, &status, 0);
  for (i = 0; i < 500; i++) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    rc = valori_open(dir, &o, &db);
    if (rc != VALORI_ELOCKED) break;
    nanosleep(&ts, NULL);
  }
  VT_EQ_INT(rc, VALORI_OK);
  if (db) VT_EQ_INT(valori_close(db), VALORI_OK);
  valori_posix_vfs_close(v);
}

typedef struct shared {
  pthread_mutex_t mu;
  valori_db *db;
  int stop;
  int snapshots;
  int errors;
} shared;

static void *snapshotter(void *arg) {
  shared *S = (shared *)arg;
  int k;
  for (k = 0; k < 5; k++) {
    valori_snapjob *job = NULL;
    int rc;
    pthread_mutex_lock(&S->mu);
    rc = valori_snapshot_begin(S->db, &job);
    pthread_mutex_unlock(&S->mu);
    if (rc != VALORI_OK) { S->errors++; continue; }
    rc = valori_snapshot_write(S->db, job); /* no lock: inserts continue */
    pthread_mutex_lock(&S->mu);
    if (valori_snapshot_end(S->db, job, rc) != VALORI_OK) S->errors++;
    else S->snapshots++;
    pthread_mutex_unlock(&S->mu);
    usleep(2000);
  }
  return NULL;
}

static void test_background_snapshot_thread(void) {
  valori_vfs *v = NULL;
  valori_options o;
  shared S;
  pthread_t th;
  float vec[4];
  uint64_t id;
  int i;
  uint8_t r1[32], r2[32];
  char sub[300];
  snprintf(sub, sizeof sub, "%s/bg", dir);
  VT_REQUIRE(valori_posix_vfs_open(sub, 1, &v) == VALORI_OK);
  opts(&o, v);
  memset(&S, 0, sizeof S);
  pthread_mutex_init(&S.mu, NULL);
  VT_REQUIRE(valori_open(sub, &o, &S.db) == VALORI_OK);
  pthread_create(&th, NULL, snapshotter, &S);
  for (i = 0; i < 300; i++) {
    vec[0] = (float)(i % 7); vec[1] = (float)(i % 11); vec[2] = (float)(i % 13); vec[3] = 1;
    pthread_mutex_lock(&S.mu);
    if (valori_insert(S.db, vec, (uint64_t)i, NULL, 0, &id) != VALORI_OK) S.errors++;
    pthread_mutex_unlock(&S.mu);
  }
  pthread_join(th, NULL);
  VT_EQ_INT(S.errors, 0);
  VT_EQ_INT(S.snapshots, 5);
  valori_state_root(S.db, r1);
  valori_close(S.db);
  VT_REQUIRE(valori_open(sub, &o, &S.db) == VALORI_OK);
  valori_state_root(S.db, r2);
  VT_CHECK(memcmp(r1, r2, 32) == 0);
  {
    valori_recovery rec;
    valori_recovery_info(S.db, &rec);
    VT_CHECK(rec.snapshot_height > 0);
  }
  valori_close(S.db);
  o.flags = VALORI_OPEN_READONLY;
  VT_EQ_INT(valori_verify(&o, NULL, NULL, NULL), VALORI_OK);
  valori_posix_vfs_close(v);
  pthread_mutex_destroy(&S.mu);
}

/* Group commit by leader election, the pattern a server uses (valori.h valori_commit_*): every
** writer applies its write under the mutex; if its height is not durable yet it either becomes the
** one thread that syncs (begin, unlock, fsync, lock, end) or waits for that sync to finish. Each
** fsync then commits everything written while the previous one ran. */
#define GC_THREADS 4
#define GC_WRITES 60
typedef struct gc_shared {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  valori_db *db;
  int syncing;
  uint64_t durable;
  int fsyncs, errors;
  uint64_t acked[GC_THREADS * GC_WRITES];
  int nacked;
} gc_shared;

static void *gc_writer(void *arg) {
  gc_shared *S = (gc_shared *)arg;
  int k;
  for (k = 0; k < GC_WRITES; k++) {
    float vec[4] = {(float)k, 1, 2, 3};
    uint64_t id = 0;
    valori_stats st;
    pthread_mutex_lock(&S->mu);
    if (valori_insert(S->db, vec, (uint64_t)k, NULL, 0, &id) != VALORI_OK) {
      S->errors++;
      pthread_mutex_unlock(&S->mu);
      break;
    }
    valori_stats_get(S->db, &st);
    while (S->durable < st.height) {
      if (!S->syncing) {
        valori_commit c;
        int rc;
        S->syncing = 1;
        rc = valori_commit_begin(S->db, &c);
        pthread_mutex_unlock(&S->mu);
        if (rc == VALORI_OK) rc = valori_commit_sync(S->db, &c); /* no lock held */
        pthread_mutex_lock(&S->mu);
        if (rc == VALORI_OK || c.state) rc = valori_commit_end(S->db, &c, rc);
        S->syncing = 0;
        S->fsyncs++;
        if (rc != VALORI_OK) { S->errors++; pthread_cond_broadcast(&S->cv); break; }
        S->durable = c.height;
        pthread_cond_broadcast(&S->cv);
      } else {
        pthread_cond_wait(&S->cv, &S->mu);
      }
    }
    if (S->durable >= st.height) S->acked[S->nacked++] = id; /* acknowledged only when durable */
    pthread_mutex_unlock(&S->mu);
  }
  return NULL;
}

static void test_group_commit_threads(void) {
  valori_vfs *v = NULL;
  valori_options o;
  gc_shared *S = (gc_shared *)calloc(1, sizeof *S);
  pthread_t th[GC_THREADS];
  char sub[300];
  int i;
  snprintf(sub, sizeof sub, "%s/gc", dir);
  VT_REQUIRE(valori_posix_vfs_open(sub, 1, &v) == VALORI_OK);
  opts(&o, v);
  o.sync_mode = VALORI_SYNC_RELAXED;
  pthread_mutex_init(&S->mu, NULL);
  pthread_cond_init(&S->cv, NULL);
  VT_REQUIRE(valori_open(sub, &o, &S->db) == VALORI_OK);
  for (i = 0; i < GC_THREADS; i++) pthread_create(&th[i], NULL, gc_writer, S);
  for (i = 0; i < GC_THREADS; i++) pthread_join(th[i], NULL);
  VT_EQ_INT(S->errors, 0);
  VT_EQ_INT(S->nacked, GC_THREADS * GC_WRITES);
  VT_CHECK(S->fsyncs < GC_THREADS * GC_WRITES); /* writes shared fsyncs */
  printf("  %d durable writes from %d threads with %d fsyncs\n", S->nacked, GC_THREADS, S->fsyncs);
  valori_close(S->db);
  o.sync_mode = VALORI_SYNC_FULL;
  VT_REQUIRE(valori_open(sub, &o, &S->db) == VALORI_OK);
  for (i = 0; i < S->nacked; i++) VT_EQ_INT(valori_get(S->db, S->acked[i], NULL, NULL, NULL, 0, NULL), VALORI_OK);
  valori_close(S->db);
  valori_posix_vfs_close(v);
  pthread_cond_destroy(&S->cv);
  pthread_mutex_destroy(&S->mu);
  free(S);
}
#endif

int main(void) {
#ifdef VALORI_HAVE_NATIVE
  char cmd[300];
  snprintf(dir, sizeof dir, "/tmp/valori-test-posix-%ld", (long)getpid());
  VT_RUN(test_lock_and_reopen);
  VT_RUN(test_lock_held_by_flock_process);
  VT_RUN(test_background_snapshot_thread);
  VT_RUN(test_group_commit_threads);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) return 1;
#else
  printf("no native VFS in this build: skipped\n");
#endif
  return VT_DONE();
}
