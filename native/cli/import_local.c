/*
** import_local.c: the local target of `valori import` (import.h): a store directory, either
** DATA/NAME as valori serve lays out its collections or any store path, opened through valori.h and
** the POSIX VFS (which takes the store's single-writer lock: a running server holding the
** collection makes the import fail with ELOCKED, and the other way round).
**
** A missing collection is created the way the server creates one: the store is built in a hidden
** directory DATA/.tmp-NAME-PID (which the server removes at start if a crash left it), then renamed
** to DATA/NAME and the data directory is fsynced, so a crash leaves the whole collection or none.
** Writes go in relaxed mode; commit() is one valori_flush (fsync) per batch with its graph events.
*/
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "import.h"
#include "valori_native.h"

typedef struct vimp_local {
  valori_vfs *vfs;
  valori_db *db;
  uint64_t inserted;
  /* a missing collection is created by the first insert (so a file whose first batch is refused
  ** leaves nothing behind): until then pending is 1 and db NULL */
  int pending, quiet, make_data;
  char path[480], parent[480], base[480], data[480];
  vimp_create create;
} vimp_local;

static int open_existing(vimp_target *t);
static int materialize(vimp_target *t);

#define L(t) ((vimp_local *)(t)->impl)

static int lfail(vimp_target *t, int rc, const char *what) {
  snprintf(t->err, sizeof t->err, "%s: %s: %s", t->where, what, valori_strerror(rc));
  return rc;
}

int vimp_name_ok(const char *n) {
  size_t i, len = strlen(n);
  if (len < 1 || len > 64) return 0;
  for (i = 0; i < len; i++) {
    char c = n[i];
    int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '-'))) return 0;
  }
  return 1;
}

static int l_state(vimp_target *t, vimp_state *st) {
  valori_stats s;
  int rc;
  if (L(t)->pending) {
    st->dim = L(t)->create.dim;
    st->next_record_id = st->next_node_id = 1;
    return VALORI_OK;
  }
  rc = valori_stats_get(L(t)->db, &s);
  if (rc) return lfail(t, rc, "stats");
  st->dim = s.dim;
  st->next_record_id = s.next_record_id;
  st->next_node_id = s.next_node_id;
  return VALORI_OK;
}

static int l_get(vimp_target *t, uint64_t id, int32_t *q16, uint64_t *tag) {
  int rc;
  if (L(t)->pending) return VALORI_ENOTFOUND;
  rc = valori_get_q16(L(t)->db, id, q16);
  if (rc == VALORI_OK) rc = valori_get(L(t)->db, id, NULL, tag, NULL, 0, NULL);
  if (rc && rc != VALORI_ENOTFOUND) return lfail(t, rc, "read a record");
  return rc;
}

/* want_first: the store's lock keeps every other writer out, so the engine's check after the insert
** suffices here. */
static int l_insert(vimp_target *t, size_t n, const float *vecs, const uint64_t *tags, const void *const *metas,
                    const size_t *lens, uint64_t want_first, uint64_t *first) {
  int rc = L(t)->pending ? materialize(t) : VALORI_OK;
  if (rc) return rc;
  (void)want_first;
  rc = valori_insert_batch(L(t)->db, n, vecs, tags, metas, lens, first);
  if (rc) return lfail(t, rc, "insert a batch");
  L(t)->inserted += n;
  return VALORI_OK;
}

static int l_node_get(vimp_target *t, uint64_t id, uint32_t *kind, char *label, size_t cap, size_t *len) {
  valori_node nd;
  int rc = valori_node_get(L(t)->db, id, &nd, label, cap, len);
  if (rc && rc != VALORI_ENOTFOUND) return lfail(t, rc, "read a node");
  if (!rc) *kind = nd.kind;
  return rc;
}

static int l_node_of_record(vimp_target *t, uint64_t record, uint64_t *node) {
  int rc = valori_node_of_record(L(t)->db, record, node);
  if (rc && rc != VALORI_ENOTFOUND) return lfail(t, rc, "find a record's node");
  return rc;
}

static int l_has_class_edge(vimp_target *t, uint64_t node, int *has) {
  uint32_t kind = VIMP_EDGE_CLASS;
  valori_edge ed;
  size_t n = 0;
  int rc = valori_neighbors(L(t)->db, node, VALORI_DIR_OUT, &kind, &ed, 1, &n);
  if (rc) return lfail(t, rc, "read a node's edges");
  *has = n > 0;
  return VALORI_OK;
}

static int l_node_create(vimp_target *t, uint32_t kind, uint64_t record, const char *label, size_t len, uint64_t *id) {
  int rc = valori_node_create(L(t)->db, kind, record, label, len, id);
  return rc ? lfail(t, rc, "create a node") : VALORI_OK;
}

static int l_edge_create(vimp_target *t, uint64_t from, uint64_t to, uint32_t kind) {
  uint64_t id;
  int rc = valori_edge_create(L(t)->db, from, to, kind, NULL, &id);
  return rc ? lfail(t, rc, "create an edge") : VALORI_OK;
}

static int l_commit(vimp_target *t) {
  int rc;
  if (L(t)->pending) return VALORI_OK;
  rc = valori_flush(L(t)->db);
  return rc ? lfail(t, rc, "flush (fsync)") : VALORI_OK;
}

static int l_summary(vimp_target *t, uint64_t *records, uint64_t *height, uint8_t root[32]) {
  valori_stats s;
  int rc = L(t)->pending ? materialize(t) : VALORI_OK;
  if (!rc) rc = valori_stats_get(L(t)->db, &s);
  if (!rc) rc = valori_state_root(L(t)->db, root);
  if (rc) return lfail(t, rc, "state");
  *records = s.records;
  *height = s.height;
  return VALORI_OK;
}

static int l_finish(vimp_target *t, int rc) {
  vimp_local *l = L(t);
  int crc;
  if (rc == VALORI_OK && l->inserted) { /* a snapshot, so that the next open (the server's) is quick */
    if ((rc = valori_snapshot(l->db)) != VALORI_OK) lfail(t, rc, "snapshot");
  }
  crc = l->db ? valori_close(l->db) : VALORI_OK;
  l->db = NULL;
  if (crc && rc == VALORI_OK) rc = lfail(t, crc, "close");
  valori_posix_vfs_close(l->vfs);
  free(l);
  t->impl = NULL;
  return rc;
}

static const vimp_ops vimp_local_ops = {l_state, l_get, l_insert, l_node_get, l_node_of_record, l_has_class_edge,
                                        l_node_create, l_edge_create, l_commit, l_finish, l_summary};

static int fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY), rc;
  if (fd < 0) return -1;
  rc = fsync(fd);
  close(fd);
  return rc;
}

/* Removes a store directory that was never published (a flat directory of files). */
static void remove_flat(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *de;
  char p[1400];
  if (d) {
    while ((de = readdir(d)) != NULL) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
      snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
      unlink(p);
    }
    closedir(d);
  }
  rmdir(dir);
}

static int dir_is_empty(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *de;
  int empty = 1;
  if (!d) return 0;
  while ((de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
      empty = 0;
      break;
    }
  closedir(d);
  return empty;
}

static void fill_options(valori_options *o, const vimp_create *c) {
  valori_options_init(o);
  o->dim = c->dim;
  o->metric = c->metric;
  o->index = c->index;
  if (c->index != VALORI_INDEX_NONE) {
    o->hnsw_m = c->m;
    o->hnsw_ef_construction = c->ef_construction;
  }
}

/* Builds a new store in a hidden sibling directory and renames it to `path` (parent: `parent`). */
static int create_store(vimp_target *t, const char *parent, const char *path, const char *base, const vimp_create *c) {
  char tmp[1100];
  valori_vfs *vfs = NULL;
  valori_db *db = NULL;
  valori_options o;
  int rc;
  snprintf(tmp, sizeof tmp, "%s/.tmp-%s-%ld", parent, base, (long)getpid());
  if (mkdir(tmp, 0755) != 0) {
    snprintf(t->err, sizeof t->err, "cannot create %s: %s", tmp, strerror(errno));
    return VALORI_EIO;
  }
  fill_options(&o, c);
  o.flags = VALORI_OPEN_CREATE;
  rc = valori_posix_vfs_open(tmp, 0, &vfs);
  if (!rc) {
    o.vfs = vfs;
    rc = valori_open(tmp, &o, &db);
    if (!rc) rc = valori_close(db);
  }
  valori_posix_vfs_close(vfs);
  if (rc) {
    lfail(t, rc, "create the store");
    remove_flat(tmp);
    return rc;
  }
  if (rename(tmp, path) != 0) { /* another import created it meanwhile (ENOTEMPTY), or I/O */
    int err = errno;
    snprintf(t->err, sizeof t->err, "%s: cannot publish the new store: %s", t->where, strerror(err));
    remove_flat(tmp);
    return err == ENOTEMPTY || err == EEXIST ? VALORI_EEXIST : VALORI_EIO;
  }
  if (fsync_dir(parent) != 0) {
    snprintf(t->err, sizeof t->err, "%s: cannot make the new store durable: %s", t->where, strerror(errno));
    return VALORI_EIO;
  }
  return VALORI_OK;
}

/* Compares an existing store's configuration with the options the user gave. */
static int check_config(vimp_target *t, const valori_stats *s, const vimp_create *c) {
  const char *what = NULL;
  char msg[160];
  if (s->dim != c->dim) {
    snprintf(msg, sizeof msg, "the collection has dim %u, the file's rows have %u", s->dim, c->dim);
    snprintf(t->err, sizeof t->err, "%s: %s", t->where, msg);
    return VALORI_EDIM;
  }
  if (c->metric_set && s->metric != c->metric) what = "--metric";
  else if (c->index_set && s->index != c->index) what = "--index";
  else if (c->m_set && s->hnsw_m != c->m) what = "--m";
  else if (c->efc_set && s->hnsw_ef_construction != c->ef_construction) what = "--ef-construction";
  if (what) {
    snprintf(t->err, sizeof t->err, "%s: the existing collection was created with another %s", t->where, what + 2);
    return VALORI_ECONFIG;
  }
  return VALORI_OK;
}

int vimp_local_open(const char *data, const char *name, const vimp_create *c, int quiet, vimp_target *t) {
  char path[480], parent[480];
  const char *base;
  struct stat st;
  vimp_local *l;
  int rc;
  memset(t, 0, sizeof *t);
  if (strlen(data) + (name ? strlen(name) + 1 : 0) >= 400) {
    snprintf(t->err, sizeof t->err, "%.60s...: the path is too long (at most 400 bytes)", data);
    return VALORI_EINVAL;
  }
  if (name) {
    if (snprintf(path, sizeof path, "%s/%s", data, name) >= (int)sizeof path) return VALORI_EINVAL;
    snprintf(parent, sizeof parent, "%s", data);
    base = name;
  } else { /* a plain store path: its parent directory holds the hidden build directory */
    const char *slash;
    snprintf(path, sizeof path, "%s", data);
    while (strlen(path) > 1 && path[strlen(path) - 1] == '/') path[strlen(path) - 1] = 0;
    slash = strrchr(path, '/');
    if (slash) snprintf(parent, sizeof parent, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    else snprintf(parent, sizeof parent, ".");
    base = slash ? slash + 1 : path;
  }
  snprintf(t->where, sizeof t->where, "%s", path);
  if (name && stat(data, &st) == 0 && !S_ISDIR(st.st_mode)) {
    snprintf(t->err, sizeof t->err, "%s: exists and is not a directory", data);
    return VALORI_EINVAL;
  }
  if (!(l = (vimp_local *)calloc(1, sizeof *l))) {
    snprintf(t->err, sizeof t->err, "out of memory");
    return VALORI_ENOMEM;
  }
  snprintf(l->path, sizeof l->path, "%s", path);
  snprintf(l->parent, sizeof l->parent, "%s", parent);
  snprintf(l->base, sizeof l->base, "%s", base);
  snprintf(l->data, sizeof l->data, "%s", data);
  l->make_data = name != NULL;
  l->create = *c;
  l->quiet = quiet;
  t->impl = l;
  t->ops = &vimp_local_ops;
  if (stat(path, &st) != 0) {
    if (errno != ENOENT) {
      snprintf(t->err, sizeof t->err, "%s: %s", path, strerror(errno));
      rc = VALORI_EIO;
    } else {
      l->pending = 1; /* created by the first insert */
      return VALORI_OK;
    }
  } else if (!S_ISDIR(st.st_mode)) {
    snprintf(t->err, sizeof t->err, "%s: exists and is not a directory", path);
    rc = VALORI_EINVAL;
  } else if (dir_is_empty(path)) {
    l->pending = 1; /* an empty directory: the new store is renamed over it (rename(2) replaces it) */
    return VALORI_OK;
  } else {
    rc = open_existing(t);
  }
  if (rc) {
    free(l);
    t->impl = NULL;
  }
  return rc;
}

/* Creates the missing collection (and the data directory), then opens it. */
static int materialize(vimp_target *t) {
  vimp_local *l = L(t);
  struct stat st;
  int rc;
  if (l->make_data && stat(l->data, &st) != 0) {
    char up[480];
    const char *slash;
    if (errno != ENOENT || mkdir(l->data, 0755) != 0) {
      snprintf(t->err, sizeof t->err, "%s: cannot create the data directory: %s", l->data, strerror(errno));
      return VALORI_EIO;
    }
    slash = strrchr(l->data, '/'); /* make the new directory's entry durable too */
    if (slash) snprintf(up, sizeof up, "%.*s", slash == l->data ? 1 : (int)(slash - l->data), l->data);
    else snprintf(up, sizeof up, ".");
    fsync_dir(up);
  }
  if ((rc = create_store(t, l->parent, l->path, l->base, &l->create)) != VALORI_OK) return rc;
  if (!l->quiet) fprintf(stderr, "created %s (dim %u)\n", l->path, l->create.dim);
  l->pending = 0;
  return open_existing(t);
}

/* Opens the store at l->path for writing and checks it against the import's options. */
static int open_existing(vimp_target *t) {
  vimp_local *l = L(t);
  valori_options o;
  valori_stats s;
  int rc;
  if ((rc = valori_posix_vfs_open(l->path, 0, &l->vfs)) != VALORI_OK) return lfail(t, rc, "open the directory");
  valori_options_init(&o);
  o.vfs = l->vfs;
  o.sync_mode = VALORI_SYNC_RELAXED; /* one fsync per batch: commit() */
  rc = valori_open(l->path, &o, &l->db);
  if (rc == VALORI_ENOTFOUND)
    snprintf(t->err, sizeof t->err, "%s: the directory exists but holds no store", l->path);
  else if (rc == VALORI_ELOCKED)
    snprintf(t->err, sizeof t->err,
             "%s: the store is open for writing in another process: a running valori serve? import through it "
             "with --url http://HOST:PORT/v1/collections/NAME",
             l->path);
  else if (rc)
    lfail(t, rc, "open the store");
  if (!rc && (rc = valori_stats_get(l->db, &s)) == VALORI_OK) rc = check_config(t, &s, &l->create);
  if (rc) {
    if (l->db) valori_close(l->db);
    l->db = NULL;
    valori_posix_vfs_close(l->vfs);
    l->vfs = NULL;
  }
  return rc;
}
