/*
** kill9.c: RELIABILITY.md scenario 2 with real processes, real files and real fsync: an ingest
** driver (batched inserts and deletes through the public API over the POSIX VFS, automatic
** snapshots and log rotations) is killed with SIGKILL at a random moment, again and again on the
** same store, and after every kill the store is recovered and checked:
** - every acknowledged insert is present (tag == id), every acknowledged delete is absent;
** - no phantom: every record present was attempted, with the tag the driver gave it (an event
**   applied twice or out of place would show up as a wrong id/tag pairing);
** - the recovered root equals the root of a fresh full replay (valori_verify) and valori_check
**   passes;
** - recovery reports no false loss (HEAD's floor, the last rotation's or open's, is never above
**   what the killed process had made durable), and after the checker's own clean close verify
**   proves the whole log (HEAD's floor = its end). Kills that land inside a HEAD publish (a
**   HEAD.tmp left behind) are counted.
** The driver writes "T ..." before a write and "A ..." after it was acknowledged to an append-only
** file with write(2), which survives the process's death.
**
** usage: kill9 run DIR TRIALS SEED      (the harness; re-executes itself as the driver)
**        kill9 ingest DIR SEED ACKFILE  (the driver; runs until killed)
*/
#define _DEFAULT_SOURCE 1
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "valori.h"
#include "valori_native.h"

#define DIM 16

static uint64_t rnd(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static void opts(valori_options *o, valori_vfs *v) {
  valori_options_init(o);
  o->dim = DIM;
  o->hnsw_m = 8;
  o->hnsw_ef_construction = 32;
  o->flags = VALORI_OPEN_CREATE;
  o->snapshot_every = 150;
  o->segment_bytes = 128u << 10;
  o->vfs = v;
}

static void say(int fd, const char *kind, uint64_t a, uint64_t b) {
  char line[96];
  int n = snprintf(line, sizeof line, "%s %llu %llu\n", kind, (unsigned long long)a, (unsigned long long)b);
  if (write(fd, line, (size_t)n) != n) _exit(5);
}

static int ingest(const char *dir, uint64_t seed, const char *ackfile) {
  valori_vfs *v;
  valori_options o;
  valori_db *db;
  int fd = open(ackfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644), rc;
  uint64_t *mine = NULL;
  size_t nmine = 0, cap = 0;
  uint64_t it;
  if (fd < 0) return 3;
  if (valori_posix_vfs_open(dir, 1, &v) != VALORI_OK) return 3;
  opts(&o, v);
  rc = valori_open(dir, &o, &db);
  if (rc != VALORI_OK) {
    fprintf(stderr, "driver: open: %s\n", valori_strerror(rc));
    return 3;
  }
  for (it = 0; it < 1000000u; it++) {
    uint64_t r = rnd(&seed);
    if (r % 10u == 0 && nmine > 0) {
      size_t k = (size_t)(rnd(&seed) % nmine);
      uint64_t id = mine[k];
      mine[k] = mine[--nmine];
      say(fd, "TD", id, 0);
      rc = valori_delete(db, id);
      if (rc != VALORI_OK) { fprintf(stderr, "driver: delete: %s\n", valori_strerror(rc)); return 3; }
      say(fd, "AD", id, 0);
    } else {
      float vec[DIM * 40];
      uint64_t tags[40], first = 0;
      valori_stats st;
      size_t n = 1 + (size_t)(r % 40u), k, j;
      valori_stats_get(db, &st);
      for (k = 0; k < n; k++) {
        tags[k] = st.next_record_id + k;
        for (j = 0; j < DIM; j++) vec[k * DIM + j] = (float)((int)(rnd(&seed) % 512u) - 256) / 8.0f;
      }
      say(fd, "TI", st.next_record_id, n);
      rc = valori_insert_batch(db, n, vec, tags, NULL, NULL, &first);
      if (rc != VALORI_OK || first != st.next_record_id) {
        fprintf(stderr, "driver: insert: %s\n", valori_strerror(rc));
        return 3;
      }
      say(fd, "AI", first, n);
      if (nmine + n > cap) {
        cap = (cap + n) * 2;
        mine = (uint64_t *)realloc(mine, cap * sizeof *mine);
        if (!mine) return 3;
      }
      for (k = 0; k < n; k++) mine[nmine++] = first + k;
    }
    if (it % 97u == 96u && valori_snapshot(db) != VALORI_OK) return 3;
  }
  valori_close(db);
  valori_posix_vfs_close(v);
  return 0;
}

/* ---- checker */
typedef struct ledger {
  uint8_t *ins;  /* 0 never, 1 attempted, 2 acknowledged */
  uint8_t *del;  /* 0 never, 1 attempted, 2 acknowledged */
  uint64_t cap, max_attempted;
} ledger;

static void ledger_need(ledger *L, uint64_t id) {
  if (id < L->cap) return;
  {
    uint64_t nc = L->cap ? L->cap : 1024;
    while (nc <= id) nc *= 2;
    L->ins = (uint8_t *)realloc(L->ins, nc);
    L->del = (uint8_t *)realloc(L->del, nc);
    memset(L->ins + L->cap, 0, nc - L->cap);
    memset(L->del + L->cap, 0, nc - L->cap);
    L->cap = nc;
  }
}

static int ledger_load(ledger *L, const char *ackfile) {
  FILE *f = fopen(ackfile, "r");
  char kind[8];
  unsigned long long a, b;
  if (!f) return 1;
  while (fscanf(f, "%7s %llu %llu", kind, &a, &b) == 3) {
    uint64_t k;
    if (kind[1] == 'I') {
      ledger_need(L, a + b);
      for (k = a; k < a + b; k++) L->ins[k] = (uint8_t)(kind[0] == 'A' ? 2 : (L->ins[k] > 1 ? L->ins[k] : 1));
      if (a + b - 1 > L->max_attempted) L->max_attempted = a + b - 1;
    } else {
      ledger_need(L, a);
      L->del[a] = (uint8_t)(kind[0] == 'A' ? 2 : (L->del[a] > 1 ? L->del[a] : 1));
    }
  }
  fclose(f);
  return 1;
}

/* Recovers the store and checks it against the ledger; returns 0 when everything holds. */
static int check(const char *dir, const char *ackfile, uint64_t *records, uint64_t *height) {
  ledger L;
  valori_vfs *v;
  valori_options o;
  valori_db *db;
  valori_stats st;
  valori_recovery rep;
  uint8_t root[32], vroot[32];
  uint64_t id, vh = 0, lim;
  int rc, bad = 0;
  memset(&L, 0, sizeof L);
  ledger_load(&L, ackfile);
  if (valori_posix_vfs_open(dir, 0, &v) != VALORI_OK) return 1;
  opts(&o, v);
  rc = valori_open(dir, &o, &db);
  if (rc != VALORI_OK) {
    fprintf(stderr, "check: recovery failed: %s\n", valori_strerror(rc));
    valori_posix_vfs_close(v);
    return 1;
  }
  valori_stats_get(db, &st);
  valori_state_root(db, root);
  if (st.next_record_id > L.max_attempted + 1) {
    fprintf(stderr, "check: phantom: next id %llu beyond the last attempted %llu\n",
            (unsigned long long)st.next_record_id, (unsigned long long)L.max_attempted);
    bad = 1;
  }
  lim = L.max_attempted + 1 > st.next_record_id ? L.max_attempted + 1 : st.next_record_id;
  ledger_need(&L, lim);
  for (id = 1; id < lim && bad < 10; id++) {
    uint64_t tag = 0;
    int present = valori_get(db, id, NULL, &tag, NULL, 0, NULL) == VALORI_OK;
    if (L.ins[id] == 2 && L.del[id] == 0 && !present) { fprintf(stderr, "check: acknowledged id %llu missing\n", (unsigned long long)id); bad++; }
    if (L.del[id] == 2 && present) { fprintf(stderr, "check: deleted id %llu present\n", (unsigned long long)id); bad++; }
    if (present && (L.ins[id] == 0 || tag != id)) { fprintf(stderr, "check: phantom id %llu (tag %llu)\n", (unsigned long long)id, (unsigned long long)tag); bad++; }
  }
  if (valori_check(db) != VALORI_OK) { fprintf(stderr, "check: valori_check failed\n"); bad++; }
  *records = st.records;
  *height = st.height;
  valori_close(db);
  o.flags = VALORI_OPEN_READONLY;
  rc = valori_verify(&o, &rep, &vh, vroot);
  if (rc != VALORI_OK) {
    fprintf(stderr, "check: verify: %s: %s at %s:%llu\n", valori_strerror(rc), rep.detail, rep.file, (unsigned long long)rep.offset);
    bad++;
  } else if (vh != st.height || memcmp(vroot, root, 32) != 0) {
    fprintf(stderr, "check: recovered root differs from a fresh replay\n");
    bad++;
  } else if (!rep.head || rep.proven_height != vh || rep.proven_by != VALORI_PROOF_HEAD_CLOSE) {
    fprintf(stderr, "check: after a clean close verify proves height %llu (%s), not the end %llu\n",
            (unsigned long long)rep.proven_height, valori_proof_name(rep.proven_by), (unsigned long long)vh);
    bad++;
  }
  valori_posix_vfs_close(v);
  free(L.ins);
  free(L.del);
  return bad ? 1 : 0;
}

static int run(const char *self, const char *dir, int trials, uint64_t seed) {
  char ackfile[4096], headtmp[4096];
  int t, failures = 0, in_head = 0;
  uint64_t records = 0, height = 0;
  snprintf(ackfile, sizeof ackfile, "%s.acks", dir);
  snprintf(headtmp, sizeof headtmp, "%s/HEAD.tmp", dir);
  unlink(ackfile);
  mkdir(dir, 0755);
  for (t = 0; t < trials; t++) {
    pid_t pid;
    int status;
    uint64_t ms = 20 + rnd(&seed) % 300u;
    struct timespec ts;
    char s[32];
    snprintf(s, sizeof s, "%llu", (unsigned long long)rnd(&seed));
    pid = fork();
    if (pid < 0) return 3;
    if (pid == 0) {
      execl(self, self, "ingest", dir, s, ackfile, (char *)NULL);
      _exit(127);
    }
    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
      fprintf(stderr, "trial %d: the driver exited by itself (status %d)\n", t, status);
      failures++;
      continue;
    }
    if (access(headtmp, F_OK) == 0) in_head++;
    if (check(dir, ackfile, &records, &height) != 0) {
      fprintf(stderr, "trial %d: FAILED (store kept in %s)\n", t, dir);
      failures++;
      break;
    }
  }
  printf("kill -9: %d trials (%d inside a HEAD publish), %d failures; store at height %llu with %llu records\n",
         trials, in_head, failures, (unsigned long long)height, (unsigned long long)records);
  return failures ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "run") == 0) {
    char cmd[8192];
    int rc;
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.acks'", argv[2], argv[2]);
    if (system(cmd) != 0) return 3;
    rc = run(argv[0], argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 10));
    if (rc == 0) {
      rc = system(cmd) == 0 ? 0 : 0;
    }
    return rc;
  }
  if (argc == 5 && strcmp(argv[1], "ingest") == 0) return ingest(argv[2], strtoull(argv[3], NULL, 10), argv[4]);
  fprintf(stderr, "usage: kill9 run DIR TRIALS SEED | kill9 ingest DIR SEED ACKFILE\n");
  return 2;
}
