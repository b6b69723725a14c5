/*
** cursor.c: a read-only cursor over a store's log (valori.h valori_cursor_*), for a leader that
** streams its records to followers while its own writer keeps appending. It walks the segments
** recovery walks with recovery's checks (segment header, first height, configuration and chain
** continuity across segments; record CRC, height sequence, synced range and chain inside them) and
** hands out each record exactly as stored. It reads records one at a time through the VFS (two
** reads each: the header, then the rest), so a live tail segment costs no re-read of what was sent,
** and it never touches a record above the caller's max_height: such a record may still be in the
** middle of being written, while everything at or below it is complete and durable, so any damage
** met there is reported as corruption. Open segment files stay readable after the writer's pruning
** removes them (POSIX semantics, modelled by the fault VFS too).
*/
#include "store_int.h"

struct valori_cursor {
  const valori_allocator *a;
  const valori_vfs *vfs;
  valori_file *f;            /* the segment being read */
  char name[VL_NAME_MAX];    /* its name */
  vl_config cfg;             /* the store's configuration (from the first segment read) */
  uint64_t off;              /* offset of the next record in f */
  uint64_t next;             /* height of the next record */
  uint8_t chain[32];         /* chain value at next - 1 */
  vl_buf rec;                /* the record last handed out */
  int failed;                /* the error that stopped the cursor (0 while it works) */
  int ended;                 /* it failed because the log ends before the next record */
  const char *what;          /* its static reason */
};

/* Stops the cursor with code and reason. */
static int cur_fail(valori_cursor *c, int code, const char *what) {
  c->failed = code;
  c->what = what;
  return code;
}

/* Listing: the first heights of the store's segments (unsorted). */
typedef struct cur_list {
  const valori_allocator *a;
  uint64_t *v;
  size_t n, cap;
} cur_list;

static int cur_list_cb(void *arg, const char *name) {
  cur_list *l = (cur_list *)arg;
  uint64_t h;
  if (vl_name_parse(name, &h) != VL_NAME_SEGMENT) return VALORI_OK;
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 16;
    void *p = l->v;
    VL_TRY(vl_grow(l->a, &p, l->cap, nc, sizeof(uint64_t)));
    l->v = (uint64_t *)p;
    l->cap = nc;
  }
  l->v[l->n++] = h;
  return VALORI_OK;
}

/* The first height of the segment that holds `h` (the last one starting at or below it) in *first,
** and the oldest segment's first height in *oldest; VALORI_EHEIGHT when no segment starts at or
** below h. */
static int cur_find(valori_cursor *c, uint64_t h, uint64_t *first, uint64_t *oldest) {
  cur_list l;
  size_t i;
  int rc, found = 0;
  memset(&l, 0, sizeof l);
  l.a = c->a;
  rc = c->vfs->list(c->vfs->ctx, cur_list_cb, &l);
  *oldest = UINT64_MAX;
  for (i = 0; rc == VALORI_OK && i < l.n; i++) {
    if (l.v[i] < *oldest) *oldest = l.v[i];
    if (l.v[i] <= h && (!found || l.v[i] > *first)) {
      *first = l.v[i];
      found = 1;
    }
  }
  vl_free(c->a, l.v, l.cap * sizeof(uint64_t));
  if (rc != VALORI_OK) return cur_fail(c, rc, "cannot list the store directory");
  if (!found) return cur_fail(c, VALORI_EHEIGHT, "that height is older than the oldest log segment the store keeps");
  return VALORI_OK;
}

/* Opens the segment starting at `first` and checks its header. continuing: it must continue the
** cursor's position exactly (first height = next, chain_in = chain, the same configuration). */
static int cur_segment(valori_cursor *c, uint64_t first, int continuing) {
  uint8_t hdr[VL_SEG_HDR];
  valori_file *f = NULL;
  vl_seg_hdr sh;
  const char *what = "";
  size_t got = 0;
  int rc;
  vl_name_segment(c->name, first);
  rc = c->vfs->open(c->vfs->ctx, c->name, VALORI_VFS_READ, &f);
  if (rc != VALORI_OK) return cur_fail(c, rc, "cannot open the log segment");
  rc = c->vfs->read(c->vfs->ctx, f, 0, hdr, sizeof hdr, &got);
  if (rc == VALORI_OK) rc = vl_seg_hdr_decode(hdr, got, &sh, &what);
  if (rc == VALORI_OK && sh.first_height != first) {
    rc = VALORI_ECORRUPT;
    what = "segment header height differs from its name";
  }
  if (rc == VALORI_OK && continuing && (!vl_config_eq(&sh.cfg, &c->cfg) || memcmp(sh.chain_in, c->chain, 32) != 0)) {
    rc = VALORI_ECORRUPT;
    what = "segment does not continue the previous one (configuration or chain)";
  }
  if (rc != VALORI_OK) {
    c->vfs->close(c->vfs->ctx, f);
    return cur_fail(c, rc, rc == VALORI_EIO ? "cannot read the segment header" : what);
  }
  if (c->f) c->vfs->close(c->vfs->ctx, c->f);
  c->f = f;
  c->cfg = sh.cfg;
  c->off = VL_SEG_HDR;
  c->next = first;
  memcpy(c->chain, sh.chain_in, 32);
  return VALORI_OK;
}

/* Reads the record at the cursor's position into c->rec and moves past it; the caller made sure its
** height is at most what it knows to be complete. Moves to the next segment at the end of one. */
static int cur_step(valori_cursor *c) {
  uint8_t hdr[VL_REC_HDR];
  uint8_t next_chain[32];
  uint64_t size, total;
  uint32_t len;
  size_t got = 0;
  const char *what;
  vl_rec r;
  int rc = c->vfs->size(c->vfs->ctx, c->f, &size);
  if (rc != VALORI_OK) return cur_fail(c, rc, "cannot read the log segment's size");
  if (c->off == size) { /* this segment ends here: height `next` opens the next one */
    uint64_t first = 0, oldest = 0;
    rc = cur_segment(c, c->next, 1);
    if (rc == VALORI_ENOTFOUND) {
      c->failed = 0;
      rc = cur_find(c, c->next, &first, &oldest);
      c->ended = rc == VALORI_OK;
      if (rc == VALORI_OK || rc == VALORI_EHEIGHT)
        return cur_fail(c, oldest != UINT64_MAX && oldest > c->next ? VALORI_EHEIGHT : VALORI_ECORRUPT,
                        oldest != UINT64_MAX && oldest > c->next
                            ? "the log was pruned past the cursor while it read (behind a newer snapshot)"
                            : "the log does not hold a record its writer reported as durable");
      return rc;
    }
    if (rc != VALORI_OK) return rc;
    VL_TRY(c->vfs->size(c->vfs->ctx, c->f, &size));
  }
  if (size - c->off < VL_REC_HDR) return cur_fail(c, VALORI_ECORRUPT, "truncated record header");
  rc = c->vfs->read(c->vfs->ctx, c->f, c->off, hdr, sizeof hdr, &got);
  if (rc != VALORI_OK || got != sizeof hdr) return cur_fail(c, rc ? rc : VALORI_ECORRUPT, "cannot read a record header");
  len = vl_get32(hdr);
  if (len > VALORI_MAX_EVENT) return cur_fail(c, VALORI_ECORRUPT, "record length out of range");
  total = (uint64_t)VL_REC_HDR + len;
  if (size - c->off < total) return cur_fail(c, VALORI_ECORRUPT, "truncated record");
  c->rec.len = 0;
  if (vl_buf_reserve(&c->rec, (size_t)total) != VALORI_OK) return cur_fail(c, VALORI_ENOMEM, "out of memory");
  memcpy(c->rec.p, hdr, VL_REC_HDR);
  got = 0;
  if (len) {
    rc = c->vfs->read(c->vfs->ctx, c->f, c->off + VL_REC_HDR, c->rec.p + VL_REC_HDR, len, &got);
    if (rc != VALORI_OK || got != len) return cur_fail(c, rc ? rc : VALORI_ECORRUPT, "cannot read a record");
  }
  c->rec.len = (size_t)total;
  if (vl_rec_decode(c->rec.p, c->rec.len, &r, &what) != VALORI_OK) return cur_fail(c, VALORI_ECORRUPT, what);
  if (r.height != c->next) return cur_fail(c, VALORI_ECORRUPT, "record height out of sequence");
  if (r.synced < VL_SEG_HDR || r.synced > c->off) return cur_fail(c, VALORI_ECORRUPT, "record synced offset out of range");
  vl_chain_next(c->chain, r.height, r.root, r.ev, r.len, next_chain);
  if (memcmp(next_chain, r.chain, 32) != 0) return cur_fail(c, VALORI_ECORRUPT, "record chain mismatch");
  memcpy(c->chain, next_chain, 32);
  c->off += total;
  c->next++;
  return VALORI_OK;
}

/* valori_cursor_open; *ended (may be NULL) says whether a failure was the log ending before `from`. */
static int cursor_open(const valori_options *opt, uint64_t from, uint64_t max_height, valori_cursor **out, int *ended) {
  const valori_allocator *a;
  valori_cursor *c;
  uint64_t first = 0, oldest = 0;
  int rc, tries;
  if (!opt || !opt->vfs || !out || from == 0) return VALORI_EINVAL;
  if (from - 1u > max_height) return VALORI_EHEIGHT;
  a = opt->allocator ? opt->allocator : valori_libc_allocator();
  if (!a) return VALORI_EINVAL;
  c = (valori_cursor *)vl_calloc(a, 1, sizeof *c);
  if (!c) return VALORI_ENOMEM;
  c->a = a;
  c->vfs = opt->vfs;
  c->what = "";
  vl_buf_init(&c->rec, a);
  for (tries = 0;; tries++) { /* a segment pruned between the listing and the open: list again */
    c->failed = 0;
    rc = cur_find(c, from, &first, &oldest);
    if (rc == VALORI_OK) rc = cur_segment(c, first, 0);
    if (rc != VALORI_ENOTFOUND || tries == 2) break;
  }
  if (rc == VALORI_ENOTFOUND) rc = VALORI_EHEIGHT;
  while (rc == VALORI_OK && c->next < from) rc = cur_step(c);
  if (rc != VALORI_OK) {
    if (ended) *ended = c->ended;
    valori_cursor_close(c);
    return rc;
  }
  *out = c;
  return VALORI_OK;
}

int valori_cursor_open(const valori_options *opt, uint64_t from, uint64_t max_height, valori_cursor **out) {
  return cursor_open(opt, from, max_height, out, NULL);
}

int valori_cursor_next(valori_cursor *c, uint64_t max_height, const uint8_t **rec, size_t *len) {
  if (!c || !rec || !len) return VALORI_EINVAL;
  if (c->failed) return c->failed;
  if (c->next > max_height) {
    *rec = NULL;
    *len = 0;
    return VALORI_OK;
  }
  VL_TRY(cur_step(c));
  *rec = c->rec.p;
  *len = c->rec.len;
  return VALORI_OK;
}

int valori_cursor_chain(const valori_cursor *c, uint64_t *next_height, uint8_t chain[32]) {
  if (!c) return VALORI_EINVAL;
  if (next_height) *next_height = c->next;
  if (chain) memcpy(chain, c->chain, 32);
  return VALORI_OK;
}

const char *valori_cursor_error(const valori_cursor *c, const char **file) {
  if (file) *file = c && c->failed && c->name[0] ? c->name : NULL;
  return c && c->failed ? c->what : "";
}

void valori_cursor_close(valori_cursor *c) {
  if (!c) return;
  if (c->f) c->vfs->close(c->vfs->ctx, c->f);
  vl_buf_free(&c->rec);
  vl_free(c->a, c, sizeof *c);
}

/* The chain at a height: 0, a kept snapshot's header, or the log; see valori.h. */
int valori_store_chain_at(const valori_options *opt, uint64_t height, uint8_t chain[32]) {
  valori_cursor *c = NULL;
  char name[VL_NAME_MAX];
  valori_file *f = NULL;
  uint8_t hdr[VL_SNAP_HDR];
  size_t got = 0;
  uint64_t next;
  int rc, ended = 0;
  if (!opt || !opt->vfs || !chain) return VALORI_EINVAL;
  if (height == 0) {
    memset(chain, 0, 32);
    return VALORI_OK;
  }
  vl_name_snapshot(name, height);
  rc = opt->vfs->open(opt->vfs->ctx, name, VALORI_VFS_READ, &f);
  if (rc == VALORI_OK) {
    vl_snap_hdr sh;
    const char *what;
    rc = opt->vfs->read(opt->vfs->ctx, f, 0, hdr, sizeof hdr, &got);
    opt->vfs->close(opt->vfs->ctx, f);
    if (rc == VALORI_OK && got == sizeof hdr && vl_snap_hdr_decode(hdr, got, &sh, &what) == VALORI_OK &&
        sh.height == height) {
      memcpy(chain, sh.chain, 32);
      return VALORI_OK;
    }
    /* a damaged snapshot proves nothing: ask the log */
  }
  rc = cursor_open(opt, height + 1u, height, &c, &ended);
  if (rc == VALORI_OK) rc = valori_cursor_chain(c, &next, chain);
  valori_cursor_close(c);
  return ended ? VALORI_EHEIGHT : rc; /* the log ends below that height */
}
