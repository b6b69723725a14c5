/*
** recover.c: rebuilding the engine from a store directory, for valori_open and for verify and
** replay. Recovery = the newest valid snapshot + replay of the log records after it, then the
** checks that the log still reaches every height the store had proven durable.
**
** The steps are the ones docs/STORAGE.md section 6 numbers, one function each over a shared
** state (vl_rcv), run in order by vl_store_recover:
**   1 list        the directory; heights sorted; temp files removed (writable)
**   2 head        read and check HEAD (the manifest: newest segment, floor height and chain)
**   3 empty       no segment and no snapshot: a new store, ENOTFOUND, or (with HEAD) damage
**   4 base        the base snapshot (newest valid; verify: check all, start from the oldest)
**   5 start       the segment holding base+1, found from the names alone
**   6 config      the configuration (snapshot, else the start segment's header)
**   7 replay      every segment from the start: records checked and applied, damage classified
**                 (torn tail trimmed in the last segment, anything else is corruption)
**   8 floors      the log must reach the newest snapshot and HEAD's floor, with HEAD's chain
**                 there, and HEAD's newest segment must exist
**   (9 tail       in store.c: continue in the last segment or create one; raise HEAD)
** Only damage (ECORRUPT) is ever passed over (a damaged snapshot, when an older one and the log
** still cover it); I/O errors, out of memory and newer versions stop recovery. Every error names
** the file and byte offset (valori_recovery), for messages and `valori verify`.
*/
#include "store_int.h"

/* Resets a report to "nothing happened". */
void vl_report_init(valori_recovery *rep) {
  memset(rep, 0, sizeof *rep);
  rep->detail = "";
  rep->skipped_detail = "";
}

/* Copies a file name into a report field; see store_int.h. */
void vl_copy_name(char dst[64], const char *src) {
  size_t i = 0;
  if (src)
    for (; src[i] && i < 63; i++) dst[i] = src[i];
  dst[i] = '\0';
}

/* Records an error in rep (the first one wins) and returns code. */
int vl_report_error(valori_recovery *rep, int code, const char *file, uint64_t off, uint64_t height,
                    const char *detail) {
  if (rep->code == VALORI_OK) {
    rep->code = code;
    vl_copy_name(rep->file, file);
    rep->offset = off;
    rep->height = height;
    rep->detail = detail ? detail : "";
  }
  return code;
}

/* Reads a whole file into buf; see store_int.h. */
int vl_read_file(const valori_vfs *vfs, const char *name, vl_buf *buf) {
  valori_file *f;
  uint64_t sz;
  size_t got = 0;
  int rc = vfs->open(vfs->ctx, name, VALORI_VFS_READ, &f);
  if (rc != VALORI_OK) return rc;
  buf->len = 0;
  rc = vfs->size(vfs->ctx, f, &sz);
  if (rc == VALORI_OK && sz > (uint64_t)(SIZE_MAX / 2)) rc = VALORI_ENOMEM;
  if (rc == VALORI_OK) rc = vl_buf_reserve(buf, (size_t)sz + 1u);
  if (rc == VALORI_OK && sz) rc = vfs->read(vfs->ctx, f, 0, buf->p, (size_t)sz, &got);
  if (rc == VALORI_OK) buf->len = got;
  {
    int rc2 = vfs->close(vfs->ctx, f);
    if (rc == VALORI_OK) rc = rc2;
  }
  return rc;
}

/* Appends h to a u64 array. */
static int vl_u64_push(const valori_allocator *a, uint64_t **v, size_t *n, size_t *cap, uint64_t h) {
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = *v;
    VL_TRY(vl_grow(a, &p, *cap, nc, sizeof(uint64_t)));
    *v = (uint64_t *)p;
    *cap = nc;
  }
  (*v)[(*n)++] = h;
  return VALORI_OK;
}

/* Insertion sort; see store_int.h. */
void vl_u64_sort(uint64_t *v, size_t n) {
  size_t i, j;
  for (i = 1; i < n; i++) {
    uint64_t x = v[i];
    for (j = i; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
    v[j] = x;
  }
}

/* Frees the arrays of a recover_out; see store_int.h. */
void vl_recover_out_free(const valori_allocator *a, vl_recover_out *out) {
  vl_free(a, out->segs, out->segcap * sizeof(uint64_t));
  vl_free(a, out->snaps, out->snapcap * sizeof(uint64_t));
  out->segs = out->snaps = NULL;
  out->nsegs = out->segcap = out->nsnaps = out->snapcap = 0;
}

/* A loaded (or verified) snapshot. */
typedef struct vl_snapinfo {
  uint64_t height;
  uint8_t root[32];
  uint8_t chain[32];
} vl_snapinfo;

/* Replay state passed to the scanner callback. */
typedef struct vl_replay {
  vl_engine *e;
  uint64_t base;             /* snapshot height replay started from */
  const uint8_t *base_chain;
  uint64_t to_height;
  uint8_t chain[32];         /* chain at the engine's height */
  const vl_snapinfo *checks; /* verify mode: snapshots to compare with (ascending) */
  size_t nchecks;
  uint64_t replayed;
  const char *what;
  const vl_head *head;       /* HEAD, when valid: its chain is checked at its floor */
} vl_replay;

#define VL_STOP 1000 /* private: the callback reached to_height */

/* The shared state of one recovery. */
typedef struct vl_rcv {
  const valori_allocator *a;
  const valori_vfs *vfs;
  const vl_config *want;  /* the caller's configuration (NULL or dim 0: use the stored one) */
  const vl_recover_opts *o;
  vl_recover_out *out;
  valori_recovery *rep;   /* &out->rep */
  vl_buf buf;             /* the file being read */
  uint64_t *tmps;         /* heights of snapshot temp files */
  size_t ntmps, tmpcap;
  int head_listed, head_tmp_listed;
  int head_damaged;       /* verify mode: HEAD is damaged, reported after everything else */
  uint64_t head_bad_off;
  uint64_t max_snap;      /* newest snapshot file's height, valid or not (a published snapshot
                             says the log was durable up to it) */
  vl_snapinfo base;       /* base snapshot (height 0 and zero chain: the empty state) */
  int have_base;
  vl_snapinfo *checks;    /* verify mode: every valid snapshot */
  size_t nchecks, checkcap;
  vl_engine *e;
  size_t start;           /* index in out->segs of the segment replay starts in */
  uint64_t prev_last;     /* height of the last valid record so far */
  uint8_t prev_chain[32]; /* chain there */
  int stopped;            /* replay reached to_height */
  int scanned_last;       /* the newest segment was scanned */
  vl_replay R;
} vl_rcv;

/* Shortcut: records the error in the report and returns its code. */
static int vl_fail(vl_rcv *c, int code, const char *file, uint64_t off, uint64_t height, const char *detail) {
  return vl_report_error(c->rep, code, file, off, height, detail);
}

/* Step 1 listing callback: files the store owns go into the height arrays; anything else is
** ignored. */
static int vl_list_cb(void *arg, const char *name) {
  vl_rcv *c = (vl_rcv *)arg;
  vl_recover_out *out = c->out;
  uint64_t h;
  switch (vl_name_parse(name, &h)) {
    case VL_NAME_SEGMENT: return vl_u64_push(c->a, &out->segs, &out->nsegs, &out->segcap, h);
    case VL_NAME_SNAPSHOT: return vl_u64_push(c->a, &out->snaps, &out->nsnaps, &out->snapcap, h);
    case VL_NAME_SNAPSHOT_TMP: return vl_u64_push(c->a, &c->tmps, &c->ntmps, &c->tmpcap, h);
    case VL_NAME_HEAD: c->head_listed = 1; return VALORI_OK;
    case VL_NAME_HEAD_TMP: c->head_tmp_listed = 1; return VALORI_OK;
    default: return VALORI_OK;
  }
}

/* Step 1: list the directory, sort the heights, remove files that were never published (snapshot
** temp files and HEAD.tmp) when writable. */
static int vl_step_list(vl_rcv *c) {
  vl_recover_out *out = c->out;
  char name[VL_NAME_MAX];
  size_t i;
  int rc = c->vfs->list(c->vfs->ctx, vl_list_cb, c);
  if (rc != VALORI_OK) return vl_fail(c, rc, NULL, 0, 0, "cannot list the store directory");
  vl_u64_sort(out->segs, out->nsegs);
  vl_u64_sort(out->snaps, out->nsnaps);
  c->max_snap = out->nsnaps ? out->snaps[out->nsnaps - 1] : 0;
  if (!c->o->writable) return VALORI_OK;
  for (i = 0; i < c->ntmps; i++) {
    vl_name_snapshot_tmp(name, c->tmps[i]);
    rc = c->vfs->remove(c->vfs->ctx, name);
    if (rc != VALORI_OK && rc != VALORI_ENOTFOUND) return vl_fail(c, rc, name, 0, 0, "cannot remove a snapshot temp file");
  }
  if (c->head_tmp_listed) {
    rc = c->vfs->remove(c->vfs->ctx, VL_HEAD_TMP_NAME);
    if (rc != VALORI_OK && rc != VALORI_ENOTFOUND) return vl_fail(c, rc, VL_HEAD_TMP_NAME, 0, 0, "cannot remove HEAD.tmp");
  }
  return VALORI_OK;
}

static const char vl_head_damaged_detail[] =
    "HEAD (the store's manifest) is damaged, so the log cannot be checked against it: run `valori verify` on the "
    "store; if it finds nothing else wrong, remove HEAD and open again (loss detection then rests on the snapshots "
    "until the next writable open writes a new HEAD)";

/* Step 2: read HEAD. Missing: a store written before HEAD existed (or HEAD removed; the two cannot
** be told apart): only snapshots prove a height. Damaged: ECORRUPT naming HEAD (verify mode notes it
** and goes on checking everything else, then reports it). */
static int vl_step_head(vl_rcv *c) {
  const char *what = "";
  uint64_t off = 0;
  int rc;
  if (!c->head_listed) return VALORI_OK;
  rc = vl_read_file(c->vfs, VL_HEAD_NAME, &c->buf);
  if (rc == VALORI_ENOTFOUND) return VALORI_OK; /* removed between the listing and the read */
  if (rc != VALORI_OK) return vl_fail(c, rc, VL_HEAD_NAME, 0, 0, "cannot read HEAD");
  rc = vl_head_decode(c->buf.p, c->buf.len, &c->out->head, &what, &off);
  if (rc == VALORI_EVERSION) return vl_fail(c, rc, VL_HEAD_NAME, off, 0, what);
  if (rc == VALORI_OK && c->want && c->want->dim && !vl_config_eq(c->want, &c->out->head.cfg))
    return vl_fail(c, VALORI_ECONFIG, VL_HEAD_NAME, VL_HEAD_OFF_CONFIG, 0,
                   "options conflict with the store's recorded configuration");
  if (rc != VALORI_OK) {
    if (!c->o->verify) return vl_fail(c, VALORI_ECORRUPT, VL_HEAD_NAME, off, 0, vl_head_damaged_detail);
    c->head_damaged = 1;
    c->head_bad_off = off;
    return VALORI_OK;
  }
  c->out->have_head = 1;
  c->rep->head = 1;
  c->R.head = &c->out->head;
  return VALORI_OK;
}

/* Step 3: a directory with no segment and no snapshot. Without HEAD: a new store (CREATE and a
** dimension) or ENOTFOUND. With HEAD: the store's files were removed. Returns VALORI_OK with
** c->e set when a new store was made, VL_STOP when the directory is not empty. */
static int vl_step_empty(vl_rcv *c) {
  int rc;
  if (c->out->nsegs != 0 || c->out->nsnaps != 0) return VL_STOP;
  if (c->out->have_head || c->head_damaged) {
    char name[VL_NAME_MAX];
    vl_name_segment(name, c->out->have_head ? c->out->head.newest_segment : 1u);
    return vl_fail(c, VALORI_ECORRUPT, name, 0, c->out->have_head ? c->out->head.newest_segment : 0,
                   "the store has HEAD but no log segment or snapshot: its files were removed");
  }
  if (!c->o->create) return vl_fail(c, VALORI_ENOTFOUND, NULL, 0, 0, "no store in this directory");
  if (!c->want || c->want->dim == 0) return vl_fail(c, VALORI_EINVAL, NULL, 0, 0, "creating a store needs a dimension");
  rc = vl_config_check(c->want);
  if (rc == VALORI_OK) rc = vl_engine_new(c->a, c->want, &c->e);
  if (rc != VALORI_OK) return vl_fail(c, rc, NULL, 0, 0, "cannot create the engine");
  c->out->cfg = *c->want;
  return VALORI_OK;
}

/* Reads, checks and (when eout != NULL) loads the snapshot at height h. Damage: ECORRUPT with the
** report's skipped_* fields set; other failures pass through. */
static int vl_snapshot_try(vl_rcv *c, uint64_t h, vl_snapinfo *si, vl_config *cfg_out, vl_engine **eout) {
  char name[VL_NAME_MAX];
  vl_snap_hdr sh;
  const char *what = "";
  uint64_t off = 0;
  vl_engine *e = NULL;
  uint8_t root[32];
  valori_recovery *rep = c->rep;
  int rc;
  vl_name_snapshot(name, h);
  rc = vl_read_file(c->vfs, name, &c->buf);
  if (rc != VALORI_OK) return vl_report_error(rep, rc, name, 0, h, "cannot read snapshot");
  rc = vl_snap_file_check(c->buf.p, c->buf.len, &sh, &what, &off);
  if (rc == VALORI_EVERSION) return vl_report_error(rep, rc, name, VL_SNAP_OFF_VERSION, h, what);
  if (rc == VALORI_OK && sh.height != h) {
    rc = VALORI_ECORRUPT;
    what = "snapshot height differs from its name";
    off = VL_SNAP_OFF_HEIGHT;
  }
  if (rc == VALORI_OK && c->want && c->want->dim && !vl_config_eq(c->want, &sh.cfg))
    return vl_report_error(rep, VALORI_ECONFIG, name, VL_SNAP_OFF_CONFIG, h,
                           "options conflict with the store's recorded configuration");
  if (rc == VALORI_OK) {
    rc = vl_engine_snapshot_load(c->a, c->buf.p + VL_SNAP_HDR, c->buf.len - VL_SNAP_HDR, &e);
    if (rc == VALORI_ENOMEM) return vl_report_error(rep, rc, name, 0, h, "out of memory loading snapshot");
    if (rc == VALORI_EVERSION)
      return vl_report_error(rep, rc, name, VL_SNAP_HDR, h, "snapshot payload version is newer than this library");
    if (rc != VALORI_OK) {
      rc = VALORI_ECORRUPT;
      what = "snapshot payload rejected by the engine";
      off = VL_SNAP_HDR;
    }
  }
  if (rc == VALORI_OK) {
    vl_engine_root(e, root);
    if (vl_engine_height(e) != h || memcmp(root, sh.root, 32) != 0 || !vl_config_eq(vl_engine_config(e), &sh.cfg)) {
      rc = VALORI_ECORRUPT;
      what = "snapshot payload disagrees with its header (height, root or configuration)";
      off = VL_SNAP_HDR;
    }
  }
  if (rc != VALORI_OK) {
    if (e) vl_engine_free(e);
    rep->snapshots_skipped++;
    vl_copy_name(rep->skipped_file, name);
    rep->skipped_offset = off;
    rep->skipped_detail = what;
    return VALORI_ECORRUPT;
  }
  si->height = h;
  memcpy(si->root, sh.root, 32);
  memcpy(si->chain, sh.chain, 32);
  *cfg_out = sh.cfg;
  if (eout) *eout = e;
  else if (e) vl_engine_free(e);
  return VALORI_OK;
}

/* Step 4, verify mode: check every snapshot (damaged ones are noted and reported at the end), then
** start from genesis when the log still begins at height 1, else from the oldest valid snapshot. */
static int vl_step_base_verify(vl_rcv *c) {
  vl_recover_out *out = c->out;
  size_t i, k = 0;
  int rc;
  for (i = 0; i < out->nsnaps; i++) {
    vl_snapinfo si;
    vl_config cf;
    if (c->nchecks == c->checkcap) {
      void *p = c->checks;
      size_t nc = c->checkcap ? c->checkcap * 2 : 8;
      rc = vl_grow(c->a, &p, c->checkcap, nc, sizeof *c->checks);
      if (rc != VALORI_OK) return vl_fail(c, rc, NULL, 0, 0, "out of memory");
      c->checks = (vl_snapinfo *)p;
      c->checkcap = nc;
    }
    rc = vl_snapshot_try(c, out->snaps[i], &si, &cf, NULL);
    if (rc == VALORI_ECORRUPT) continue;
    if (rc != VALORI_OK) return rc;
    c->checks[c->nchecks++] = si;
    out->snaps[k++] = out->snaps[i];
    out->cfg = cf;
  }
  out->nsnaps = k;
  c->R.checks = c->checks;
  c->R.nchecks = c->nchecks;
  if (out->nsegs > 0 && out->segs[0] == 1) return VALORI_OK; /* genesis */
  if (c->nchecks > 0) {
    vl_config cf;
    rc = vl_snapshot_try(c, c->checks[0].height, &c->base, &cf, &c->e);
    if (rc != VALORI_OK) return rc;
    c->have_base = 1;
    return VALORI_OK;
  }
  return vl_fail(c, VALORI_ECORRUPT, out->nsegs ? NULL : c->rep->skipped_file, 0, 0,
                 "no valid snapshot and the log does not start at height 1");
}

/* Step 4: the base snapshot: the newest valid one at or below to_height. A damaged one is skipped
** (reported in rep->snapshots_skipped and skipped_*): the log reaches back to the previous one. */
static int vl_step_base(vl_rcv *c) {
  vl_recover_out *out = c->out;
  size_t k = out->nsnaps, i, w = 0;
  int rc;
  if (c->o->verify) return vl_step_base_verify(c);
  while (k > 0) {
    vl_config cf;
    uint64_t h = out->snaps[--k];
    if (h > c->o->to_height) continue;
    rc = vl_snapshot_try(c, h, &c->base, &cf, &c->e);
    if (rc == VALORI_ECORRUPT) continue; /* damaged: fall back to the previous one */
    if (rc != VALORI_OK) return rc;
    c->have_base = 1;
    out->cfg = cf;
    break;
  }
  /* Keep the base and the older snapshots (for pruning); forget damaged ones, which stay on disk
  ** for inspection until a snapshot at the same height replaces them or pruning passes them. */
  for (i = 0; i < out->nsnaps; i++)
    if (c->have_base && out->snaps[i] <= c->base.height) out->snaps[w++] = out->snaps[i];
  out->nsnaps = w;
  return VALORI_OK;
}

/* Step 5: the segment holding height base+1: the last one whose first height is <= base+1. */
static int vl_step_start(vl_rcv *c) {
  vl_recover_out *out = c->out;
  char name[VL_NAME_MAX];
  size_t i;
  c->start = out->nsegs;
  for (i = 0; i < out->nsegs; i++)
    if (out->segs[i] <= c->base.height + 1u) c->start = i;
  if (c->start == out->nsegs && out->nsegs > 0) {
    vl_name_segment(name, out->segs[0]);
    if (c->o->to_height != UINT64_MAX && !c->o->verify)
      return vl_fail(c, VALORI_EHEIGHT, name, 0, c->o->to_height,
                     "that height is older than the oldest snapshot and log the store keeps");
    if (c->rep->snapshots_skipped)
      return vl_fail(c, VALORI_ECORRUPT, c->rep->skipped_file, c->rep->skipped_offset, c->base.height + 1u,
                     "newest snapshot is damaged and the log does not cover an older state");
    return vl_fail(c, VALORI_ECORRUPT, name, 0, c->base.height + 1u,
                   "the log does not continue from the snapshot (missing segment)");
  }
  if (!c->have_base && out->nsegs == 0)
    return vl_fail(c, VALORI_ECORRUPT, c->rep->skipped_file, c->rep->skipped_offset, 0,
                   "no valid snapshot and no log segment");
  return VALORI_OK;
}

/* Step 6: the configuration: the base snapshot's, else the start segment's header. A lone segment
** with an invalid header no longer than a header, in a directory without HEAD or snapshot, is a
** creation that never became durable: no store yet. */
static int vl_step_config(vl_rcv *c) {
  vl_recover_out *out = c->out;
  vl_seg_hdr sh;
  const char *what = "";
  char name[VL_NAME_MAX];
  int rc;
  if (c->have_base) return VALORI_OK;
  vl_name_segment(name, out->segs[c->start]);
  rc = vl_read_file(c->vfs, name, &c->buf);
  if (rc != VALORI_OK) return vl_fail(c, rc, name, 0, 0, "cannot read log segment");
  rc = vl_seg_hdr_decode(c->buf.p, c->buf.len, &sh, &what);
  if (rc == VALORI_ECORRUPT && out->nsegs == 1 && out->nsnaps == 0 && c->buf.len <= VL_SEG_HDR && !out->have_head &&
      !c->head_damaged) {
    if (!c->o->create || !c->want || c->want->dim == 0)
      return vl_fail(c, VALORI_ENOTFOUND, name, 0, 0, "no store in this directory (its creation was interrupted)");
    sh.cfg = *c->want;
    rc = VALORI_OK;
  }
  if (rc != VALORI_OK) return vl_fail(c, rc, name, rc == VALORI_EVERSION ? VL_SEG_OFF_VERSION : 0, 0, what);
  out->cfg = sh.cfg;
  if (c->want && c->want->dim && !vl_config_eq(c->want, &sh.cfg))
    return vl_fail(c, VALORI_ECONFIG, name, VL_SEG_OFF_CONFIG, 0, "options conflict with the store's recorded configuration");
  rc = vl_config_check(&out->cfg);
  if (rc == VALORI_OK) rc = vl_engine_new(c->a, &out->cfg, &c->e);
  if (rc != VALORI_OK) return vl_fail(c, rc, name, VL_SEG_OFF_CONFIG, 0, "cannot create the engine");
  return VALORI_OK;
}

/* Scanner callback of replay: records at or below the base are only checked (the chain at the base
** height against the snapshot's); later ones are applied and their root compared; HEAD's chain is
** compared at its floor; VL_STOP past to_height. Errors carry their reason in R->what. */
static int vl_replay_cb(void *arg, const vl_rec *r, uint64_t off) {
  vl_replay *R = (vl_replay *)arg;
  uint8_t root[32];
  size_t i;
  int rc;
  VL_UNUSED(off);
  if (R->head && r->height == R->head->floor && memcmp(r->chain, R->head->chain, 32) != 0) {
    R->what = "the log's chain at HEAD's floor height differs from HEAD's: this log is not the history HEAD recorded";
    return VALORI_ECORRUPT;
  }
  if (r->height <= R->base) {
    if (r->height == R->base && memcmp(r->chain, R->base_chain, 32) != 0) {
      R->what = "log chain at the snapshot height differs from the snapshot's chain";
      return VALORI_ECORRUPT;
    }
    return VALORI_OK;
  }
  if (r->height > R->to_height) return VL_STOP;
  rc = vl_engine_apply(R->e, r->ev, r->len, NULL);
  if (rc == VALORI_ENOMEM) { R->what = "out of memory during replay"; return rc; }
  if (rc != VALORI_OK) { R->what = "logged event rejected on replay"; return VALORI_ECORRUPT; }
  vl_engine_root(R->e, root);
  if (memcmp(root, r->root, 32) != 0) {
    R->what = "state root after replay differs from the root in the log record";
    return VALORI_ECORRUPT;
  }
  memcpy(R->chain, r->chain, 32);
  R->replayed++;
  for (i = 0; i < R->nchecks; i++) {
    if (R->checks[i].height != r->height) continue;
    if (memcmp(R->checks[i].root, root, 32) != 0 || memcmp(R->checks[i].chain, r->chain, 32) != 0) {
      R->what = "snapshot root or chain differs from the replayed log at its height";
      return VALORI_ECORRUPT;
    }
  }
  return VALORI_OK;
}

/* Opens name, truncates it to size and syncs (cutting a torn tail). */
static int vl_trim_file(const valori_vfs *vfs, const char *name, uint64_t size) {
  valori_file *f;
  int rc = vfs->open(vfs->ctx, name, VALORI_VFS_WRITE, &f), rc2;
  if (rc != VALORI_OK) return rc;
  rc = vfs->truncate(vfs->ctx, f, size);
  if (rc == VALORI_OK) rc = vfs->sync(vfs->ctx, f);
  rc2 = vfs->close(vfs->ctx, f);
  return rc != VALORI_OK ? rc : rc2;
}

/* Step 7a: a segment whose header is invalid. Only the newest segment may be a rotation that
** crashed before its header was durable: no longer than a header, continuing the log, above every
** snapshot and newer than the segment HEAD names (HEAD is written only after the header is
** durable). It holds nothing and is removed (writable). Returns VL_STOP after removing it;
** anything else is corruption. */
static int vl_seg_badhdr(vl_rcv *c, size_t i, const char *name, const vl_seg_scan *sc) {
  vl_recover_out *out = c->out;
  int rc;
  if (i + 1 == out->nsegs && c->buf.len <= VL_SEG_HDR && out->segs[i] > c->max_snap &&
      out->segs[i] == c->prev_last + 1u && !(out->have_head && out->segs[i] <= out->head.newest_segment)) {
    out->rep.trimmed_bytes += c->buf.len;
    vl_copy_name(out->rep.trimmed_file, name);
    out->rep.trimmed_offset = 0;
    if (c->o->writable) {
      rc = c->vfs->remove(c->vfs->ctx, name);
      if (rc == VALORI_OK) rc = c->vfs->sync_dir(c->vfs->ctx);
      if (rc != VALORI_OK) return vl_fail(c, rc, name, 0, 0, "cannot remove a torn segment");
    }
    out->nsegs--;
    return VL_STOP;
  }
  if (out->have_head && out->segs[i] == out->head.newest_segment && c->buf.len <= VL_SEG_HDR)
    return vl_fail(c, VALORI_ECORRUPT, name, 0, out->segs[i],
                   "the newest log segment (named by HEAD) is empty or its header is damaged; its header had been durable");
  return vl_fail(c, VALORI_ECORRUPT, name, 0, 0, sc->what);
}

/* Step 7: replays segment i (already chosen: start or later) and classifies its damage. */
static int vl_step_segment(vl_rcv *c, size_t i) {
  vl_recover_out *out = c->out;
  vl_seg_scan sc;
  char name[VL_NAME_MAX];
  int last = (i + 1 == out->nsegs), rc;
  vl_name_segment(name, out->segs[i]);
  rc = vl_read_file(c->vfs, name, &c->buf);
  if (rc != VALORI_OK) return vl_fail(c, rc, name, 0, 0, "cannot read log segment");
  rc = vl_seg_scan_run(c->buf.p, c->buf.len, vl_replay_cb, &c->R, &sc);
  if (rc == VL_STOP) {
    c->stopped = 1;
    return VL_STOP;
  }
  if (rc == VALORI_EVERSION) return vl_fail(c, rc, name, VL_SEG_OFF_VERSION, 0, sc.what);
  if (rc != VALORI_OK) return vl_fail(c, rc, name, sc.cb_off, sc.last_height + 1u, c->R.what);
  if (sc.state == VL_SEG_BADHDR) return vl_seg_badhdr(c, i, name, &sc);
  if (sc.hdr.first_height != out->segs[i])
    return vl_fail(c, VALORI_ECORRUPT, name, VL_SEG_OFF_FIRST, sc.hdr.first_height, "segment header height differs from its name");
  if (!vl_config_eq(&sc.hdr.cfg, &out->cfg))
    return vl_fail(c, VALORI_ECORRUPT, name, VL_SEG_OFF_CONFIG, 0, "segment configuration differs from the store's");
  if (i > c->start || sc.hdr.first_height == c->base.height + 1u) {
    if (sc.hdr.first_height != c->prev_last + 1u)
      return vl_fail(c, VALORI_ECORRUPT, name, VL_SEG_OFF_FIRST, c->prev_last + 1u, "gap or overlap between log segments");
    if (memcmp(sc.hdr.chain_in, c->prev_chain, 32) != 0)
      return vl_fail(c, VALORI_ECORRUPT, name, VL_SEG_OFF_CHAIN, c->prev_last + 1u,
                     "segment chain does not continue the previous one");
  }
  /* 7b. Damage classification: any segment but the newest was synced completely before the next
  ** one was created, so damage there is corruption; in the newest the scanner decides. */
  if (sc.state == VL_SEG_CORRUPT || (sc.state == VL_SEG_TORN && !last))
    return vl_fail(c, VALORI_ECORRUPT, name, sc.bad_off, sc.last_height + 1u, sc.what);
  if (sc.state == VL_SEG_TORN) {
    out->rep.trimmed_bytes = c->buf.len - sc.bad_off;
    vl_copy_name(out->rep.trimmed_file, name);
    out->rep.trimmed_offset = sc.bad_off;
    if (c->o->writable) {
      rc = vl_trim_file(c->vfs, name, sc.bad_off);
      if (rc != VALORI_OK) return vl_fail(c, rc, name, sc.bad_off, 0, "cannot trim the torn tail");
    }
  }
  if (out->rep.log_first_height == 0 && sc.nrec > 0) out->rep.log_first_height = sc.hdr.first_height;
  c->prev_last = sc.last_height;
  memcpy(c->prev_chain, sc.chain, 32);
  if (last) {
    c->scanned_last = 1;
    out->tail_first = sc.hdr.first_height;
    out->tail_end = sc.end;
    out->have_tail = (sc.last_height == vl_engine_height(c->e));
  }
  return VALORI_OK;
}

/* Step 7: replay from the start segment to the end of the log (or to_height). */
static int vl_step_replay(vl_rcv *c) {
  size_t i;
  int rc;
  c->R.e = c->e;
  c->R.base = c->base.height;
  c->R.base_chain = c->base.chain;
  c->R.to_height = c->o->to_height;
  c->R.what = "";
  memcpy(c->R.chain, c->base.chain, 32);
  memcpy(c->prev_chain, c->base.chain, 32);
  c->prev_last = c->base.height;
  for (i = c->start; i < c->out->nsegs; i++) {
    rc = vl_step_segment(c, i);
    if (rc == VL_STOP) break;
    if (rc != VALORI_OK) return rc;
  }
  if (!c->scanned_last) c->out->have_tail = 0;
  c->rep->log_end_height = c->prev_last;
  return VALORI_OK;
}

/* Step 8: the floors. Every snapshot is published only after the log reached its height durably,
** and HEAD records a height (with its chain) the log had durably reached and the newest segment
** then; a log that now ends below either, or lacks that segment, lost durable records. */
static int vl_step_floors(vl_rcv *c) {
  vl_recover_out *out = c->out;
  const vl_head *h = &out->head;
  char name[VL_NAME_MAX];
  size_t i;
  int found = 0;
  if (out->have_head) {
    if (!vl_config_eq(&h->cfg, &out->cfg))
      return vl_fail(c, VALORI_ECORRUPT, VL_HEAD_NAME, VL_HEAD_OFF_CONFIG, 0,
                     "HEAD records another configuration than the store's files: it belongs to another store");
    c->rep->proven_height = h->floor;
    c->rep->proven_by = h->reason == VL_HEAD_OPEN ? VALORI_PROOF_HEAD_OPEN
                        : h->reason == VL_HEAD_ROTATION ? VALORI_PROOF_HEAD_ROTATION : VALORI_PROOF_HEAD_CLOSE;
  }
  if (c->max_snap > c->rep->proven_height || (c->max_snap && !out->have_head)) {
    c->rep->proven_height = c->max_snap;
    c->rep->proven_by = VALORI_PROOF_SNAPSHOT;
  }
  if (c->stopped) return VALORI_OK; /* replay to an older height: the end of the log is not looked at */
  if (out->have_head) {
    for (i = 0; i < out->nsegs; i++)
      if (out->segs[i] >= h->newest_segment) found = 1;
    if (!found) {
      vl_name_segment(name, h->newest_segment);
      return vl_fail(c, VALORI_ECORRUPT, name, 0, h->newest_segment,
                     "the newest log segment, named by HEAD, is missing: durable records are lost");
    }
  }
  if (out->nsegs) vl_name_segment(name, out->segs[out->nsegs - 1]);
  if (c->prev_last < c->max_snap)
    return vl_fail(c, VALORI_ECORRUPT, out->nsegs ? name : NULL, out->nsegs ? out->tail_end : 0, c->prev_last + 1u,
                   "the log ends below the newest snapshot's height: durable records are missing");
  if (!out->have_head) return VALORI_OK;
  if (c->prev_last < h->floor)
    return vl_fail(c, VALORI_ECORRUPT, name, out->tail_end, c->prev_last + 1u,
                   "the log ends below the height HEAD records as durable: acknowledged records are missing");
  if (h->floor == c->base.height && c->have_base && memcmp(h->chain, c->base.chain, 32) != 0)
    return vl_fail(c, VALORI_ECORRUPT, VL_HEAD_NAME, VL_HEAD_OFF_CHAIN, h->floor,
                   "HEAD's chain differs from the snapshot's at the same height: HEAD belongs to another history");
  if (h->floor == 0) {
    static const uint8_t zero[32];
    if (memcmp(h->chain, zero, 32) != 0)
      return vl_fail(c, VALORI_ECORRUPT, VL_HEAD_NAME, VL_HEAD_OFF_CHAIN, 0, "HEAD's chain at height 0 is not the empty chain");
  }
  return VALORI_OK;
}

/* Frees what a failed or finished recovery holds besides out (and the engine when rc != OK). */
static void vl_rcv_free(vl_rcv *c) {
  vl_free(c->a, c->tmps, c->tmpcap * sizeof(uint64_t));
  vl_free(c->a, c->checks, c->checkcap * sizeof *c->checks);
  vl_buf_free(&c->buf);
  c->tmps = NULL;
  c->checks = NULL;
}

/* Recovery proper; see store_int.h. Runs the steps of docs/STORAGE.md section 6 in order. */
int vl_store_recover(const valori_allocator *a, const valori_vfs *vfs, const vl_config *cfg,
                     const vl_recover_opts *o, vl_recover_out *out) {
  vl_rcv c;
  int rc;
  memset(out, 0, sizeof *out);
  vl_report_init(&out->rep);
  memset(&c, 0, sizeof c);
  c.a = a;
  c.vfs = vfs;
  c.want = cfg;
  c.o = o;
  c.out = out;
  c.rep = &out->rep;
  vl_buf_init(&c.buf, a);
  rc = vl_step_list(&c);
  if (rc == VALORI_OK) rc = vl_step_head(&c);
  if (rc == VALORI_OK) {
    rc = vl_step_empty(&c);
    if (rc == VALORI_OK) { /* a new store */
      out->e = c.e;
      vl_rcv_free(&c);
      return VALORI_OK;
    }
    if (rc == VL_STOP) rc = VALORI_OK;
  }
  if (rc == VALORI_OK) rc = vl_step_base(&c);
  if (rc == VALORI_OK) rc = vl_step_start(&c);
  if (rc == VALORI_OK) rc = vl_step_config(&c);
  if (rc == VALORI_OK) rc = vl_step_replay(&c);
  if (rc == VALORI_OK) rc = vl_step_floors(&c);
  if (rc == VALORI_OK && o->to_height != UINT64_MAX && vl_engine_height(c.e) < o->to_height)
    rc = vl_fail(&c, VALORI_EHEIGHT, NULL, 0, o->to_height, "the store does not reach that height");
  if (rc == VALORI_OK && o->verify && c.head_damaged)
    rc = vl_fail(&c, VALORI_ECORRUPT, VL_HEAD_NAME, c.head_bad_off, 0, vl_head_damaged_detail);
  if (rc == VALORI_OK && o->verify && out->rep.snapshots_skipped)
    rc = vl_fail(&c, VALORI_ECORRUPT, out->rep.skipped_file, out->rep.skipped_offset, 0, out->rep.skipped_detail);
  if (rc != VALORI_OK) {
    vl_report_error(&out->rep, rc, NULL, 0, 0, "recovery failed");
    if (c.e) vl_engine_free(c.e);
    out->e = NULL;
    vl_rcv_free(&c);
    vl_recover_out_free(a, out);
    return rc;
  }
  memcpy(out->chain, c.R.chain, 32);
  out->e = c.e;
  out->rep.snapshot_height = c.base.height;
  out->rep.replayed = c.R.replayed;
  out->rep.height_recovered = vl_engine_height(c.e);
  out->rep.segments = (uint32_t)out->nsegs;
  vl_rcv_free(&c);
  return VALORI_OK;
}
