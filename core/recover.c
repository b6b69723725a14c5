/*
** recover.c: rebuilding the engine from a store directory, for valori_open and for the CLI's
** verify and replay. Recovery = the newest valid snapshot + replay of the log records after it.
**
** The rules (docs/STORAGE.md, "Recovery"):
** - Snapshots are tried newest first; a damaged one is skipped (and reported) as long as the log
**   still covers the next older one. Only damage (ECORRUPT) is skipped: I/O errors, out of memory
**   and newer format versions stop the open.
** - Replay starts in the segment that holds height H+1 (segments are named by first height, so no
**   older segment is read: recovery time follows the log after the snapshot, not the whole log).
**   Every record's CRC, height sequence and chain are checked, the event is applied, and the root
**   it carries must equal the engine's root (else ECORRUPT with the height).
** - Damage in any segment but the last is corruption (rotation syncs a segment completely before
**   the next one is created). In the last segment the scanner's torn/corrupt classification
**   decides (log.c). A torn tail is cut off (truncate + sync) on a writable open. A last segment
**   whose header never became durable (crash while rotating) is removed.
** - Every error names the file and byte offset (valori_recovery), for messages and `valori verify`.
*/
#include "store_int.h"

/* Resets a report to "nothing happened". */
void vl_report_init(valori_recovery *rep) {
  memset(rep, 0, sizeof *rep);
  rep->detail = "";
  rep->skipped_detail = "";
}

/* Copies a file name into a report field (truncated to 63 bytes; NULL gives ""). */
static void vl_copy_name(char dst[64], const char *src) {
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

/* Insertion sort (directory listings are short; order must not depend on the VFS). */
static void vl_u64_sort(uint64_t *v, size_t n) {
  size_t i, j;
  for (i = 1; i < n; i++) {
    uint64_t x = v[i];
    for (j = i; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
    v[j] = x;
  }
}

/* What the directory listing collects: the recover_out arrays plus the temp files. */
typedef struct vl_listing {
  const valori_allocator *a;
  vl_recover_out *out;
  uint64_t *tmps;
  size_t ntmps, tmpcap;
} vl_listing;

/* Listing callback: files the store owns go into the height arrays; anything else is ignored. */
static int vl_list_cb(void *arg, const char *name) {
  vl_listing *L = (vl_listing *)arg;
  uint64_t h;
  switch (vl_name_parse(name, &h)) {
    case 1: return vl_u64_push(L->a, &L->out->segs, &L->out->nsegs, &L->out->segcap, h);
    case 2: return vl_u64_push(L->a, &L->out->snaps, &L->out->nsnaps, &L->out->snapcap, h);
    case 3: return vl_u64_push(L->a, &L->tmps, &L->ntmps, &L->tmpcap, h);
    default: return VALORI_OK;
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

/* Reads, checks and (when eout != NULL) loads the snapshot at height h. Damage: ECORRUPT with the
** report's skipped_* fields set; other failures pass through. */
static int vl_snapshot_try(const valori_allocator *a, const valori_vfs *vfs, uint64_t h,
                           const vl_config *want, vl_buf *buf, vl_snapinfo *si, vl_config *cfg_out,
                           vl_engine **eout, valori_recovery *rep) {
  char name[VL_NAME_MAX];
  vl_snap_hdr sh;
  const char *what = "";
  uint64_t off = 0;
  vl_engine *e = NULL;
  uint8_t root[32];
  int rc;
  vl_name_snapshot(name, h);
  rc = vl_read_file(vfs, name, buf);
  if (rc != VALORI_OK) return vl_report_error(rep, rc, name, 0, h, "cannot read snapshot");
  rc = vl_snap_file_check(buf->p, buf->len, &sh, &what, &off);
  if (rc == VALORI_EVERSION) return vl_report_error(rep, rc, name, 8, h, what);
  if (rc == VALORI_OK && sh.height != h) { rc = VALORI_ECORRUPT; what = "snapshot height differs from its name"; off = 40; }
  if (rc == VALORI_OK && want && want->dim && !vl_config_eq(want, &sh.cfg))
    return vl_report_error(rep, VALORI_ECONFIG, name, 16, h,
                           "options conflict with the store's recorded configuration");
  if (rc == VALORI_OK) {
    rc = vl_engine_snapshot_load(a, buf->p + VL_SNAP_HDR, buf->len - VL_SNAP_HDR, &e);
    if (rc == VALORI_ENOMEM) return vl_report_error(rep, rc, name, 0, h, "out of memory loading snapshot");
    if (rc == VALORI_EVERSION) return vl_report_error(rep, rc, name, VL_SNAP_HDR, h, "snapshot payload version is newer than this library");
    if (rc != VALORI_OK) { rc = VALORI_ECORRUPT; what = "snapshot payload rejected by the engine"; off = VL_SNAP_HDR; }
  }
  if (rc == VALORI_OK) {
    vl_engine_root(e, root);
    if (vl_engine_height(e) != h || memcmp(root, sh.root, 32) != 0 ||
        !vl_config_eq(vl_engine_config(e), &sh.cfg)) {
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

/* Replay state passed to the scanner callback. */
typedef struct vl_replay {
  vl_engine *e;
  uint64_t base;          /* snapshot height replay started from */
  const uint8_t *base_chain;
  uint64_t to_height;
  uint8_t chain[32];      /* chain at the engine's height */
  const vl_snapinfo *checks; /* verify mode: snapshots to compare with (ascending) */
  size_t nchecks;
  uint64_t replayed;
  const char *what;
  int stopped;
} vl_replay;

#define VL_STOP 1000 /* private: the callback reached to_height */

/* Scanner callback of replay: records at or below the base are only checked (the chain at the base
** height against the snapshot's); later ones are applied and their root compared; VL_STOP past
** to_height. Errors carry their reason in R->what. */
static int vl_replay_cb(void *arg, const vl_rec *r, uint64_t off) {
  vl_replay *R = (vl_replay *)arg;
  uint8_t root[32];
  size_t i;
  int rc;
  VL_UNUSED(off);
  if (r->height <= R->base) {
    if (r->height == R->base && memcmp(r->chain, R->base_chain, 32) != 0) {
      R->what = "log chain at the snapshot height differs from the snapshot's chain";
      return VALORI_ECORRUPT;
    }
    return VALORI_OK;
  }
  if (r->height > R->to_height) { R->stopped = 1; return VL_STOP; }
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

/* Recovery proper; see store_int.h. The function is long because it is one algorithm read top to
** bottom; each numbered step matches docs/STORAGE.md. */
int vl_store_recover(const valori_allocator *a, const valori_vfs *vfs, const vl_config *cfg,
                     const vl_recover_opts *o, vl_recover_out *out) {
  vl_listing L;
  vl_buf buf;
  vl_snapinfo base, *checks = NULL;
  size_t nchecks = 0, checkcap = 0, i, start;
  vl_engine *e = NULL;
  vl_replay R;
  char name[VL_NAME_MAX];
  int rc = VALORI_OK, have_base = 0;
  uint64_t prev_last = 0, to = o->to_height;
  uint8_t prev_chain[32];
  int scanned_last = 0, stopped = 0;
  uint64_t max_snap = 0;

  memset(out, 0, sizeof *out);
  vl_report_init(&out->rep);
  memset(&L, 0, sizeof L);
  L.a = a;
  L.out = out;
  vl_buf_init(&buf, a);
  memset(&base, 0, sizeof base);

  /* 1. List the directory; sort by height. */
  rc = vfs->list(vfs->ctx, vl_list_cb, &L);
  if (rc != VALORI_OK) { vl_report_error(&out->rep, rc, NULL, 0, 0, "cannot list the store directory"); goto fail; }
  vl_u64_sort(out->segs, out->nsegs);
  vl_u64_sort(out->snaps, out->nsnaps);
  max_snap = out->nsnaps ? out->snaps[out->nsnaps - 1] : 0;

  /* 2. Temp files are snapshots that were never published: remove them. */
  if (o->writable)
    for (i = 0; i < L.ntmps; i++) {
      vl_name_snapshot_tmp(name, L.tmps[i]);
      rc = vfs->remove(vfs->ctx, name);
      if (rc != VALORI_OK && rc != VALORI_ENOTFOUND) { vl_report_error(&out->rep, rc, name, 0, 0, "cannot remove a snapshot temp file"); goto fail; }
    }
  vl_free(a, L.tmps, L.tmpcap * sizeof(uint64_t));
  L.tmps = NULL;

  /* 3. An empty directory: a new store. */
  if (out->nsegs == 0 && out->nsnaps == 0) {
    if (!o->create) { rc = vl_report_error(&out->rep, VALORI_ENOTFOUND, NULL, 0, 0, "no store in this directory"); goto fail; }
    if (!cfg || cfg->dim == 0) { rc = vl_report_error(&out->rep, VALORI_EINVAL, NULL, 0, 0, "creating a store needs a dimension"); goto fail; }
    rc = vl_config_check(cfg);
    if (rc == VALORI_OK) rc = vl_engine_new(a, cfg, &e);
    if (rc != VALORI_OK) { vl_report_error(&out->rep, rc, NULL, 0, 0, "cannot create the engine"); goto fail; }
    out->e = e;
    out->cfg = *cfg;
    vl_buf_free(&buf);
    return VALORI_OK;
  }

  /* 4. Choose the base snapshot. Normal mode: newest valid with height <= to. Verify mode: check
  ** every snapshot, then start from genesis when the log begins at 1, else from the oldest valid. */
  if (o->verify) {
    size_t k = 0;
    for (i = 0; i < out->nsnaps; i++) {
      vl_snapinfo si;
      vl_config c;
      if (nchecks == checkcap) {
        void *p = checks;
        size_t nc = checkcap ? checkcap * 2 : 8;
        rc = vl_grow(a, &p, checkcap, nc, sizeof *checks);
        if (rc != VALORI_OK) { vl_report_error(&out->rep, rc, NULL, 0, 0, "out of memory"); goto fail; }
        checks = (vl_snapinfo *)p;
        checkcap = nc;
      }
      rc = vl_snapshot_try(a, vfs, out->snaps[i], cfg, &buf, &si, &c, NULL, &out->rep);
      if (rc == VALORI_ECORRUPT) continue;
      if (rc != VALORI_OK) goto fail;
      checks[nchecks++] = si;
      out->snaps[k++] = out->snaps[i];
      out->cfg = c;
    }
    out->nsnaps = k;
    rc = VALORI_OK;
    if (out->nsegs > 0 && out->segs[0] == 1) {
      have_base = 0;
    } else if (nchecks > 0) {
      vl_config c;
      rc = vl_snapshot_try(a, vfs, checks[0].height, cfg, &buf, &base, &c, &e, &out->rep);
      if (rc != VALORI_OK) goto fail;
      have_base = 1;
    } else {
      rc = vl_report_error(&out->rep, VALORI_ECORRUPT, out->nsegs ? NULL : out->rep.skipped_file, 0, 0,
                           "no valid snapshot and the log does not start at height 1");
      goto fail;
    }
  } else {
    size_t k = out->nsnaps;
    while (k > 0) {
      vl_config c;
      uint64_t h = out->snaps[k - 1];
      k--;
      if (h > to) continue;
      rc = vl_snapshot_try(a, vfs, h, cfg, &buf, &base, &c, &e, &out->rep);
      if (rc == VALORI_ECORRUPT) continue; /* damaged: fall back to the previous one */
      if (rc != VALORI_OK) goto fail;
      have_base = 1;
      out->cfg = c;
      break;
    }
    rc = VALORI_OK;
    /* Keep the base and the older snapshots (for pruning); forget damaged ones, which stay on disk
    ** for inspection until a snapshot at the same height replaces them or pruning passes them. */
    {
      size_t w = 0;
      for (i = 0; i < out->nsnaps; i++)
        if (have_base && out->snaps[i] <= base.height) out->snaps[w++] = out->snaps[i];
      out->nsnaps = w;
    }
  }

  /* 5. The segment holding height base+1: the last one whose first height is <= base+1. */
  start = out->nsegs;
  for (i = 0; i < out->nsegs; i++)
    if (out->segs[i] <= base.height + 1u) start = i;
  if (start == out->nsegs && out->nsegs > 0 && to != UINT64_MAX && !o->verify) {
    vl_name_segment(name, out->segs[0]);
    rc = vl_report_error(&out->rep, VALORI_EHEIGHT, name, 0, to,
                         "that height is older than the oldest snapshot and log the store keeps");
    goto fail;
  }
  if (start == out->nsegs && out->nsegs > 0) {
    const char *why = out->rep.snapshots_skipped ? "newest snapshot is damaged and the log does not cover an older state"
                                                 : "the log does not continue from the snapshot (missing segment)";
    vl_name_segment(name, out->segs[0]);
    rc = vl_report_error(&out->rep, VALORI_ECORRUPT, out->rep.snapshots_skipped ? out->rep.skipped_file : name,
                         out->rep.snapshots_skipped ? out->rep.skipped_offset : 0, base.height + 1u, why);
    goto fail;
  }

  if (!have_base && out->nsegs == 0) {
    rc = vl_report_error(&out->rep, VALORI_ECORRUPT, out->rep.skipped_file, out->rep.skipped_offset, 0,
                         "no valid snapshot and no log segment");
    goto fail;
  }

  /* 6. Configuration: the snapshot's, else the start segment's header (checked below). */
  if (!have_base) {
    vl_seg_hdr sh;
    const char *what = "";
    vl_name_segment(name, out->segs[start]);
    rc = vl_read_file(vfs, name, &buf);
    if (rc != VALORI_OK) { vl_report_error(&out->rep, rc, name, 0, 0, "cannot read log segment"); goto fail; }
    rc = vl_seg_hdr_decode(buf.p, buf.len, &sh, &what);
    if (rc == VALORI_ECORRUPT && out->nsegs == 1 && out->nsnaps == 0 && buf.len <= VL_SEG_HDR) {
      /* The only segment of a store whose creation never became durable: no store yet. */
      if (!o->create || !cfg || cfg->dim == 0) {
        rc = vl_report_error(&out->rep, VALORI_ENOTFOUND, name, 0, 0, "no store in this directory (its creation was interrupted)");
        goto fail;
      }
      sh.cfg = *cfg;
      rc = VALORI_OK;
    }
    if (rc != VALORI_OK) { vl_report_error(&out->rep, rc, name, 0, 0, what); goto fail; }
    out->cfg = sh.cfg;
    if (cfg && cfg->dim && !vl_config_eq(cfg, &sh.cfg)) {
      rc = vl_report_error(&out->rep, VALORI_ECONFIG, name, 16, 0, "options conflict with the store's recorded configuration");
      goto fail;
    }
    rc = vl_config_check(&out->cfg);
    if (rc == VALORI_OK) rc = vl_engine_new(a, &out->cfg, &e);
    if (rc != VALORI_OK) { vl_report_error(&out->rep, rc, name, 16, 0, "cannot create the engine"); goto fail; }
  }

  /* 7. Replay. */
  memset(&R, 0, sizeof R);
  R.e = e;
  R.base = base.height;
  R.base_chain = base.chain;
  R.to_height = to;
  R.checks = checks;
  R.nchecks = nchecks;
  R.what = "";
  memcpy(R.chain, base.chain, 32);
  memcpy(prev_chain, base.chain, 32);
  prev_last = base.height;
  for (i = start; i < out->nsegs; i++) {
    vl_seg_scan sc;
    int last = (i + 1 == out->nsegs);
    vl_name_segment(name, out->segs[i]);
    rc = vl_read_file(vfs, name, &buf);
    if (rc != VALORI_OK) { vl_report_error(&out->rep, rc, name, 0, 0, "cannot read log segment"); goto fail; }
    rc = vl_seg_scan_run(buf.p, buf.len, vl_replay_cb, &R, &sc);
    if (rc == VL_STOP) { stopped = 1; break; }
    if (rc == VALORI_EVERSION) { vl_report_error(&out->rep, rc, name, 8, 0, sc.what); goto fail; }
    if (rc != VALORI_OK) {
      vl_report_error(&out->rep, rc, name, sc.cb_off, sc.last_height + 1u, R.what);
      goto fail;
    }
    if (sc.state == VL_SEG_BADHDR) {
      /* A torn creation is the newest segment, created when the log ended just below its first
      ** height and before any snapshot reached that height. */
      if (last && buf.len <= VL_SEG_HDR && out->segs[i] > max_snap && out->segs[i] == prev_last + 1u) {
        /* A segment whose creation never became durable (crash while rotating): no record can
        ** follow a header that was not synced, so the file holds nothing. */
        out->rep.trimmed_bytes += buf.len;
        vl_copy_name(out->rep.trimmed_file, name);
        out->rep.trimmed_offset = 0;
        if (o->writable) {
          rc = vfs->remove(vfs->ctx, name);
          if (rc == VALORI_OK) rc = vfs->sync_dir(vfs->ctx);
          if (rc != VALORI_OK) { vl_report_error(&out->rep, rc, name, 0, 0, "cannot remove a torn segment"); goto fail; }
        }
        out->nsegs--;
        break;
      }
      rc = vl_report_error(&out->rep, VALORI_ECORRUPT, name, 0, 0, sc.what);
      goto fail;
    }
    if (sc.hdr.first_height != out->segs[i]) {
      rc = vl_report_error(&out->rep, VALORI_ECORRUPT, name, 40, sc.hdr.first_height, "segment header height differs from its name");
      goto fail;
    }
    if (!vl_config_eq(&sc.hdr.cfg, &out->cfg)) {
      rc = vl_report_error(&out->rep, VALORI_ECORRUPT, name, 16, 0, "segment configuration differs from the store's");
      goto fail;
    }
    if (i > start || sc.hdr.first_height == base.height + 1u) {
      if (sc.hdr.first_height != prev_last + 1u) {
        rc = vl_report_error(&out->rep, VALORI_ECORRUPT, name, 40, prev_last + 1u, "gap or overlap between log segments");
        goto fail;
      }
      if (memcmp(sc.hdr.chain_in, prev_chain, 32) != 0) {
        rc = vl_report_error(&out->rep, VALORI_ECORRUPT, name, 48, prev_last + 1u, "segment chain does not continue the previous one");
        goto fail;
      }
    }
    if (sc.state == VL_SEG_CORRUPT || (sc.state == VL_SEG_TORN && !last)) {
      rc = vl_report_error(&out->rep, VALORI_ECORRUPT, name, sc.bad_off, sc.last_height + 1u, sc.what);
      goto fail;
    }
    if (sc.state == VL_SEG_TORN) {
      out->rep.trimmed_bytes = buf.len - sc.bad_off;
      vl_copy_name(out->rep.trimmed_file, name);
      out->rep.trimmed_offset = sc.bad_off;
      if (o->writable) {
        rc = vl_trim_file(vfs, name, sc.bad_off);
        if (rc != VALORI_OK) { vl_report_error(&out->rep, rc, name, sc.bad_off, 0, "cannot trim the torn tail"); goto fail; }
      }
    }
    if (out->rep.log_first_height == 0 && sc.nrec > 0) out->rep.log_first_height = sc.hdr.first_height;
    prev_last = sc.last_height;
    memcpy(prev_chain, sc.chain, 32);
    if (last) {
      scanned_last = 1;
      out->tail_first = sc.hdr.first_height;
      out->tail_end = sc.end;
      out->have_tail = (sc.last_height == vl_engine_height(e));
    }
  }
  if (!scanned_last) out->have_tail = 0;
  /* Every snapshot is published only after the log reached its height durably, so a log that
  ** now ends below the newest snapshot lost durable records (a truncated or removed segment). */
  if (!stopped && prev_last < max_snap) {
    if (out->nsegs) vl_name_segment(name, out->segs[out->nsegs - 1]);
    rc = vl_report_error(&out->rep, VALORI_ECORRUPT, out->nsegs ? name : NULL, out->nsegs ? out->tail_end : 0,
                         prev_last + 1u, "the log ends below the newest snapshot's height: durable records are missing");
    goto fail;
  }
  if (to != UINT64_MAX && vl_engine_height(e) < to) {
    rc = vl_report_error(&out->rep, VALORI_EHEIGHT, NULL, 0, to, "the store does not reach that height");
    goto fail;
  }
  if (o->verify && out->rep.snapshots_skipped) {
    rc = vl_report_error(&out->rep, VALORI_ECORRUPT, out->rep.skipped_file, out->rep.skipped_offset, 0,
                         out->rep.skipped_detail);
    goto fail;
  }
  memcpy(out->chain, R.chain, 32);
  out->e = e;
  out->rep.snapshot_height = base.height;
  out->rep.replayed = R.replayed;
  out->rep.height_recovered = vl_engine_height(e);
  out->rep.segments = (uint32_t)out->nsegs;
  vl_free(a, checks, checkcap * sizeof *checks);
  vl_buf_free(&buf);
  return VALORI_OK;

fail:
  if (rc == VALORI_OK) rc = VALORI_ECORRUPT;
  vl_report_error(&out->rep, rc, NULL, 0, 0, "recovery failed");
  if (e) vl_engine_free(e);
  out->e = NULL;
  vl_free(a, L.tmps, L.tmpcap * sizeof(uint64_t));
  vl_free(a, checks, checkcap * sizeof *checks);
  vl_buf_free(&buf);
  vl_recover_out_free(a, out);
  return rc;
}
