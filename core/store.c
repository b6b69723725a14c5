/*
** store.c: the durable store at run time (store.h): opening (lock, recovery in recover.c, the
** tail segment, HEAD), appending framed and chained records, group commit (one sync covers every
** pending append), segment rotation, the manifest HEAD, snapshots (prepare in memory, write +
** publish atomically, then prune) and closing.
**
** Sync rules (docs/STORAGE.md): a record is durable only after vfs->sync of its segment returned
** OK. Rotation syncs the old segment completely before the new one is created, and the new one's
** header is synced and its directory entry made durable (sync_dir) before any record goes into it;
** recovery relies on both. HEAD (newest segment, a floor height the log had durably reached and
** the chain there) is published like a snapshot, only ever naming what is already durable: after
** a rotation's new header, after the final sync of a clean close, and after a writable open that
** changed the log's end; never on the per-write path. Any failed write or sync poisons the store: the page cache may have
** dropped the data even if a retry would succeed (PostgreSQL's fsyncgate), so nothing more is
** appended until the store is reopened and recovered from what is really on disk.
** The append path allocates nothing (records are written from a stack header plus the caller's
** event bytes), so a failing allocator can never leave an event applied but unlogged.
*/
#include "store_int.h"

#include "crc32c.h"

/* Marks the store unusable for writes and passes rc through. */
static int vl_poison(vl_store *s, int rc) {
  s->poisoned = 1;
  return rc;
}

static int vl_readonly(const vl_store *s) { return (s->o.flags & VALORI_OPEN_READONLY) != 0; }

/* See store.h. */
int vl_store_poisoned(const vl_store *s) { return s->poisoned; }

/* Store options with the defaults of valori.h; see store.h. */
void vl_store_opts_resolve(const valori_options *opt, vl_store_opts *o) {
  o->flags = opt->flags;
  o->sync_mode = opt->sync_mode;
  o->snapshot_every = opt->snapshot_every ? opt->snapshot_every : VALORI_DEFAULT_SNAPSHOT_EVERY;
  o->segment_bytes = opt->segment_bytes ? opt->segment_bytes : VALORI_DEFAULT_SEGMENT_BYTES;
}

/* Publishes a small file atomically; see store_int.h. */
int vl_publish_file(const valori_vfs *v, const char *tmp, const char *name, const uint8_t *data, size_t len) {
  valori_file *f = NULL;
  int rc, rc2;
  rc = v->open(v->ctx, tmp, VALORI_VFS_WRITE | VALORI_VFS_CREATE | VALORI_VFS_TRUNC, &f);
  if (rc != VALORI_OK) return rc;
  rc = v->write(v->ctx, f, 0, data, len);
  if (rc == VALORI_OK) rc = v->sync(v->ctx, f);
  rc2 = v->close(v->ctx, f);
  if (rc == VALORI_OK) rc = rc2;
  if (rc == VALORI_OK) rc = v->rename(v->ctx, tmp, name);
  if (rc != VALORI_OK) {
    v->remove(v->ctx, tmp); /* best effort: recovery removes leftovers anyway */
    return rc;
  }
  return v->sync_dir(v->ctx);
}

/* Publishes HEAD naming the tail segment, with the floor at the store's durable height (every
** caller has just made everything up to s->height durable) and the chain there. On success s->head
** is what is on disk. */
static int vl_head_write(vl_store *s, uint32_t reason) {
  vl_head h;
  uint8_t buf[VL_HEAD_SIZE];
  int rc;
  memset(&h, 0, sizeof h);
  h.cfg = s->cfg;
  h.reason = reason;
  h.newest_segment = s->seg_first;
  h.floor = s->height;
  memcpy(h.chain, s->chain, 32);
  vl_head_encode(&h, buf);
  rc = vl_publish_file(s->vfs, VL_HEAD_TMP_NAME, VL_HEAD_NAME, buf, sizeof buf);
  if (rc == VALORI_OK) {
    s->head = h;
    s->have_head = 1;
  }
  return rc;
}

/* 1 when HEAD on disk already says (tail segment, floor at the current height, chain) and was
** written for `reason` (or reason is 0: any). */
static int vl_head_current(const vl_store *s, uint32_t reason) {
  return s->have_head && s->head.newest_segment == s->seg_first && s->head.floor == s->height &&
         memcmp(s->head.chain, s->chain, 32) == 0 && (reason == 0 || s->head.reason == reason);
}

/* Ensures room for one more entry in a u64 array (so that a later push cannot fail). */
static int vl_u64_room(const valori_allocator *a, uint64_t **v, size_t n, size_t *cap) {
  if (n < *cap) return VALORI_OK;
  {
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = *v;
    VL_TRY(vl_grow(a, &p, *cap, nc, sizeof(uint64_t)));
    *v = (uint64_t *)p;
    *cap = nc;
  }
  return VALORI_OK;
}

/* Creates the segment whose first record will have height `first`: header written and synced,
** directory entry synced, and the file left open as the tail. */
static int vl_seg_create(vl_store *s, uint64_t first) {
  char name[VL_NAME_MAX];
  uint8_t hdr[VL_SEG_HDR];
  vl_seg_hdr h;
  valori_file *f = NULL;
  int rc;
  memset(&h, 0, sizeof h);
  h.cfg = s->cfg;
  h.first_height = first;
  memcpy(h.chain_in, s->chain, 32);
  vl_seg_hdr_encode(&h, hdr);
  vl_name_segment(name, first);
  rc = s->vfs->open(s->vfs->ctx, name, VALORI_VFS_WRITE | VALORI_VFS_CREATE | VALORI_VFS_TRUNC, &f);
  if (rc != VALORI_OK) return rc;
  rc = s->vfs->write(s->vfs->ctx, f, 0, hdr, VL_SEG_HDR);
  if (rc == VALORI_OK) rc = s->vfs->sync(s->vfs->ctx, f);
  if (rc == VALORI_OK) rc = s->vfs->sync_dir(s->vfs->ctx);
  if (rc != VALORI_OK) {
    s->vfs->close(s->vfs->ctx, f);
    return rc;
  }
  s->seg = f;
  s->seg_first = first;
  s->seg_size = VL_SEG_HDR;
  s->seg_synced = VL_SEG_HDR;
  /* The in-memory list only serves pruning: when it cannot grow, this segment is simply not
  ** pruned before the next open (which lists the directory again). Rotation never fails for lack
  ** of memory, so an event the engine applied is never refused by the log for that reason. */
  if ((s->nsegs == 0 || s->segs[s->nsegs - 1] != first) &&
      vl_u64_room(s->a, &s->segs, s->nsegs, &s->segcap) == VALORI_OK)
    s->segs[s->nsegs++] = first;
  return VALORI_OK;
}

/* The height the store proves durable now: HEAD's floor or the newest snapshot, whichever is
** higher (valori_store_status). */
static void vl_store_proof(vl_store *s) {
  uint64_t snap = s->nsnaps ? s->snaps[s->nsnaps - 1] : 0;
  s->proven_height = 0;
  s->proven_by = VALORI_PROOF_NONE;
  if (s->have_head) {
    s->proven_height = s->head.floor;
    s->proven_by = s->head.reason == VL_HEAD_OPEN ? VALORI_PROOF_HEAD_OPEN
                   : s->head.reason == VL_HEAD_ROTATION ? VALORI_PROOF_HEAD_ROTATION : VALORI_PROOF_HEAD_CLOSE;
  }
  if (snap > s->proven_height || (snap && !s->have_head)) {
    s->proven_height = snap;
    s->proven_by = VALORI_PROOF_SNAPSHOT;
  }
}

/* Opens the store, also filling *rep; see store_int.h. */
int vl_store_open_report(const valori_allocator *a, const valori_vfs *vfs, const vl_config *cfg,
                         const vl_store_opts *o, vl_store **store, vl_engine **engine,
                         valori_recovery *rep) {
  vl_recover_opts ro;
  vl_recover_out out;
  vl_store *s;
  int rc, readonly = (o->flags & VALORI_OPEN_READONLY) != 0;
  if (rep) vl_report_init(rep);
  if (!a || !vfs || !o || !store || !engine) return VALORI_EINVAL;
  if (!readonly) {
    rc = vfs->lock(vfs->ctx);
    if (rc != VALORI_OK) {
      if (rep) vl_report_error(rep, rc, "LOCK", 0, 0, "cannot take the store's writer lock");
      return rc;
    }
  }
  memset(&ro, 0, sizeof ro);
  ro.writable = !readonly;
  ro.create = (o->flags & VALORI_OPEN_CREATE) != 0 && !readonly;
  ro.to_height = UINT64_MAX;
  rc = vl_store_recover(a, vfs, cfg, &ro, &out);
  if (rep) *rep = out.rep;
  if (rc != VALORI_OK) {
    if (!readonly) vfs->unlock(vfs->ctx);
    return rc;
  }
  s = (vl_store *)vl_calloc(a, 1, sizeof *s);
  if (!s) {
    vl_engine_free(out.e);
    vl_recover_out_free(a, &out);
    if (!readonly) vfs->unlock(vfs->ctx);
    if (rep) vl_report_error(rep, VALORI_ENOMEM, NULL, 0, 0, "out of memory");
    return VALORI_ENOMEM;
  }
  s->a = a;
  s->vfs = vfs;
  s->o = *o;
  if (VL_NEVER(s->o.segment_bytes == 0)) s->o.segment_bytes = VALORI_DEFAULT_SEGMENT_BYTES;   /* resolved by the caller */
  if (VL_NEVER(s->o.snapshot_every == 0)) s->o.snapshot_every = VALORI_DEFAULT_SNAPSHOT_EVERY;
  s->cfg = out.cfg;
  s->locked = !readonly;
  s->have_head = out.have_head;
  s->head = out.head;
  s->height = s->synced_height = vl_engine_height(out.e);
  memcpy(s->chain, out.chain, 32);
  s->segs = out.segs;
  s->nsegs = out.nsegs;
  s->segcap = out.segcap;
  s->snaps = out.snaps;
  s->nsnaps = out.nsnaps;
  s->snapcap = out.snapcap;
  s->rep = out.rep;
  /* the snapshot cadence counts from the newest snapshot, not from this open: a process that is
  ** restarted often must still get snapshots (and short recoveries) */
  s->since_snapshot = s->nsnaps && s->snaps[s->nsnaps - 1] <= s->height ? s->height - s->snaps[s->nsnaps - 1] : s->height;
  if (!readonly) {
    if (out.have_tail) {
      char name[VL_NAME_MAX];
      vl_name_segment(name, out.tail_first);
      rc = vfs->open(vfs->ctx, name, VALORI_VFS_WRITE, &s->seg);
      s->seg_first = out.tail_first;
      s->seg_size = s->seg_synced = out.tail_end;
    } else {
      rc = vl_seg_create(s, s->height + 1u);
    }
    if (rc != VALORI_OK) {
      s->seg = NULL;
      if (rep) vl_report_error(rep, rc, NULL, 0, 0, "cannot open the tail log segment");
      vl_engine_free(out.e);
      vl_store_close(s);
      return rc;
    }
    /* Raise HEAD to what recovery found (a new store, a crash, an older library's writes): the
    ** tail is synced first, since a crashed process leaves records that are readable but perhaps
    ** not durable, and HEAD must only name what is. After a clean close nothing changes here. */
    if (!vl_head_current(s, 0)) {
      rc = out.have_tail ? vfs->sync(vfs->ctx, s->seg) : VALORI_OK;
      if (rc == VALORI_OK) rc = vl_head_write(s, VL_HEAD_OPEN);
      if (rc != VALORI_OK) {
        if (rep) vl_report_error(rep, rc, VL_HEAD_NAME, 0, 0, "cannot write HEAD");
        vl_engine_free(out.e);
        s->poisoned = 1; /* close must not record a clean close over a HEAD it could not write */
        vl_store_close(s);
        return rc;
      }
    }
  }
  vl_store_proof(s);
  *store = s;
  *engine = out.e;
  return VALORI_OK;
}

/* Listing of a directory that is to become a bootstrapped store. */
typedef struct vl_boot_list {
  int store_files;   /* segments, snapshots or HEAD: a store is there already */
  const valori_vfs *vfs;
  int rc;            /* first failed removal of a leftover temp file */
} vl_boot_list;

static int vl_boot_list_cb(void *arg, const char *name) {
  vl_boot_list *b = (vl_boot_list *)arg;
  uint64_t h;
  switch (vl_name_parse(name, &h)) {
    case VL_NAME_SEGMENT:
    case VL_NAME_SNAPSHOT:
    case VL_NAME_HEAD: b->store_files++; break;
    case VL_NAME_SNAPSHOT_TMP:
    case VL_NAME_HEAD_TMP: { /* never published: an interrupted write, removed as recovery would */
      int rc = b->vfs->remove(b->vfs->ctx, name);
      if (rc != VALORI_OK && rc != VALORI_ENOTFOUND && b->rc == VALORI_OK) b->rc = rc;
      break;
    }
    default: break;
  }
  return VALORI_OK;
}

/* Creates a new store whose base is the checked snapshot file `file` (header h); see store_int.h. */
int vl_store_bootstrap(const valori_allocator *a, const valori_vfs *vfs, const vl_store_opts *o, const vl_snap_hdr *h,
                       const uint8_t *file, size_t len, vl_store **out, valori_recovery *rep) {
  char name[VL_NAME_MAX], tmp[VL_NAME_MAX];
  vl_boot_list bl;
  vl_store *s;
  int rc, published = 0;
  vl_report_init(rep);
  if (o->flags & VALORI_OPEN_READONLY) return vl_report_error(rep, VALORI_EINVAL, NULL, 0, 0, "a bootstrap writes a store");
  rc = vfs->lock(vfs->ctx);
  if (rc != VALORI_OK) return vl_report_error(rep, rc, "LOCK", 0, 0, "cannot take the store's writer lock");
  memset(&bl, 0, sizeof bl);
  bl.vfs = vfs;
  rc = vfs->list(vfs->ctx, vl_boot_list_cb, &bl);
  if (rc == VALORI_OK) rc = bl.rc;
  if (rc == VALORI_OK && bl.store_files) rc = VALORI_EEXIST;
  if (rc != VALORI_OK) {
    vfs->unlock(vfs->ctx);
    return vl_report_error(rep, rc, NULL, 0, 0,
                           rc == VALORI_EEXIST ? "the directory already holds a store" : "cannot list the store directory");
  }
  vl_name_snapshot(name, h->height);
  vl_name_snapshot_tmp(tmp, h->height);
  if (h->height > 0) { /* height 0 is the empty state: its configuration is in the segment header */
    rc = vl_publish_file(vfs, tmp, name, file, len);
    if (rc != VALORI_OK) {
      vfs->unlock(vfs->ctx);
      return vl_report_error(rep, rc, name, 0, h->height, "cannot write the snapshot");
    }
    published = 1;
  }
  s = (vl_store *)vl_calloc(a, 1, sizeof *s);
  if (!s || (published && vl_u64_room(a, &s->snaps, 0, &s->snapcap) != VALORI_OK)) {
    rc = VALORI_ENOMEM;
  } else {
    s->a = a;
    s->vfs = vfs;
    s->o = *o;
    s->cfg = h->cfg;
    s->locked = 1;
    s->height = s->synced_height = h->height;
    memcpy(s->chain, h->chain, 32);
    if (published) s->snaps[s->nsnaps++] = h->height;
    rc = vl_seg_create(s, h->height + 1u);
    if (rc == VALORI_OK) rc = vl_head_write(s, VL_HEAD_OPEN);
  }
  if (rc != VALORI_OK) { /* leave the directory as empty as it was (best effort) */
    char seg[VL_NAME_MAX];
    if (s) {
      s->poisoned = 1; /* no clean-close HEAD over a store that was never made */
      vl_store_close(s);
    } else {
      vfs->unlock(vfs->ctx);
    }
    vl_name_segment(seg, h->height + 1u);
    vfs->remove(vfs->ctx, seg);
    vfs->remove(vfs->ctx, VL_HEAD_NAME);
    if (published) vfs->remove(vfs->ctx, name);
    vfs->sync_dir(vfs->ctx);
    return vl_report_error(rep, rc, NULL, 0, h->height, "cannot create the bootstrapped store");
  }
  vl_store_proof(s);
  rep->snapshot_height = h->height;
  rep->height_recovered = h->height;
  rep->segments = 1;
  rep->head = 1;
  rep->proven_height = s->proven_height;
  rep->proven_by = s->proven_by;
  rep->log_end_height = h->height;
  s->rep = *rep;
  *out = s;
  return VALORI_OK;
}

/* Opens or creates the store; see store.h. */
int vl_store_open(const valori_allocator *a, const valori_vfs *vfs, const vl_config *cfg,
                  const vl_store_opts *o, vl_store **store, vl_engine **engine) {
  return vl_store_open_report(a, vfs, cfg, o, store, engine, NULL);
}

/* Appends one accepted event; see store.h. */
int vl_store_append(vl_store *s, const uint8_t *ev, size_t len, uint64_t height, const uint8_t root[32]) {
  return vl_store_append_chained(s, ev, len, height, root, NULL);
}

/* The chain at the appended height; see store.h. */
const uint8_t *vl_store_chain(const vl_store *s, uint64_t *height) {
  if (height) *height = s->height;
  return s->chain;
}

/* Appends one accepted event whose chain value is `known` (NULL: computed here); see store.h.
** Rotates first when the tail segment is full. */
int vl_store_append_chained(vl_store *s, const uint8_t *ev, size_t len, uint64_t height, const uint8_t root[32],
                            const uint8_t known[32]) {
  uint8_t hdr[VL_REC_HDR], chain[32];
  int rc;
  if (vl_readonly(s)) return VALORI_EREADONLY;
  if (s->poisoned) return VALORI_EPOISONED;
  /* The engine has applied the event already (store.h), so even a refusal for the arguments leaves
  ** it ahead of the log: poison. */
  if (height != s->height + 1u || (len && !ev)) return vl_poison(s, VALORI_EINVAL);
  if (len > VALORI_MAX_EVENT) return vl_poison(s, VALORI_ETOOBIG);
  /* Rotate when the tail is full; while commit tickets are in flight the old segment is retired
  ** instead of closed (a ticket may be syncing it), and if no retirement slot is free the
  ** rotation waits for a later append (the segment grows a little past segment_bytes). */
  if (!s->seg || (s->seg_size >= s->o.segment_bytes && s->seg_size > VL_SEG_HDR &&
                  (s->sync_inflight == 0 || s->nretired < sizeof s->retired / sizeof s->retired[0]))) {
    if (s->seg) {
      if (s->seg_size > s->seg_synced) {
        rc = s->vfs->sync(s->vfs->ctx, s->seg);
        if (rc != VALORI_OK) return vl_poison(s, rc);
        s->seg_synced = s->seg_size;
        s->synced_height = s->height;
      }
      if (s->sync_inflight) {
        s->retired[s->nretired++] = s->seg;
        rc = VALORI_OK;
      } else {
        rc = s->vfs->close(s->vfs->ctx, s->seg);
      }
      s->seg = NULL;
      if (rc != VALORI_OK) return vl_poison(s, rc);
    }
    rc = vl_seg_create(s, height);
    if (rc != VALORI_OK) return vl_poison(s, rc);
    /* HEAD now names the new segment, floor = the end of the sealed one (durable: synced above).
    ** A failed HEAD write leaves the old HEAD, which still names only durable things: the log is
    ** unaffected, so the write goes on; the failure is reported in valori_store_status and HEAD
    ** is written again at the next rotation or at close. */
    rc = vl_head_write(s, VL_HEAD_ROTATION);
    if (rc != VALORI_OK) {
      s->last_head_error = rc;
      s->head_failures++;
    } else {
      vl_store_proof(s);
    }
  }
  if (known) memcpy(chain, known, 32);
  else vl_chain_next(s->chain, height, root, ev, len, chain);
  vl_rec_frame(hdr, height, s->seg_synced, root, chain, ev, (uint32_t)len);
  rc = s->vfs->write(s->vfs->ctx, s->seg, s->seg_size, hdr, VL_REC_HDR);
  if (rc == VALORI_OK && len) rc = s->vfs->write(s->vfs->ctx, s->seg, s->seg_size + VL_REC_HDR, ev, len);
  if (rc != VALORI_OK) return vl_poison(s, rc);
  s->seg_size += VL_REC_HDR + (uint64_t)len;
  s->height = height;
  memcpy(s->chain, chain, 32);
  s->since_snapshot++;
  return VALORI_OK;
}

/* Makes every appended record durable with one sync; see store.h. */
int vl_store_sync(vl_store *s) {
  int rc;
  if (vl_readonly(s)) return VALORI_OK;
  if (s->poisoned) return VALORI_EPOISONED;
  if (s->seg && s->seg_size > s->seg_synced) {
    rc = s->vfs->sync(s->vfs->ctx, s->seg);
    if (rc != VALORI_OK) return vl_poison(s, rc);
    s->seg_synced = s->seg_size;
  }
  s->synced_height = s->height;
  return VALORI_OK;
}

/* Commit step 1 (exclusive lock): captures what the sync must cover; see store_int.h. */
int vl_store_commit_begin(vl_store *s, valori_commit *c) {
  memset(c, 0, sizeof *c);
  if (vl_readonly(s)) return VALORI_EREADONLY;
  if (s->poisoned) return VALORI_EPOISONED;
  c->height = s->height;
  if (!s->seg || s->seg_size <= s->seg_synced) {
    c->state = 1; /* nothing pending: durable already */
    return VALORI_OK;
  }
  c->file = s->seg;
  c->segment = s->seg_first;
  c->size = s->seg_size;
  c->state = 2;
  s->sync_inflight++;
  return VALORI_OK;
}

/* Commit step 2 (no lock): syncs the captured segment; see store_int.h. */
int vl_store_commit_run(const vl_store *s, valori_commit *c) {
  if (c->state != 2) return c->state == 1 ? VALORI_OK : VALORI_EINVAL;
  return s->vfs->sync(s->vfs->ctx, (valori_file *)c->file);
}

/* Commit step 3 (exclusive lock): records the durable point or poisons; closes retired segments
** once no ticket is in flight; see store_int.h. */
int vl_store_commit_end(vl_store *s, valori_commit *c, int run_rc) {
  int rc = run_rc;
  if (c->state == 2) {
    if (VL_NEVER(s->sync_inflight == 0)) return VALORI_EINVAL; /* a ticket ended twice */
    s->sync_inflight--;
    if (rc != VALORI_OK) {
      vl_poison(s, rc);
    } else if (!s->poisoned) {
      if (c->segment == s->seg_first && c->size > s->seg_synced) s->seg_synced = c->size;
      if (c->height > s->synced_height) s->synced_height = c->height;
    }
    if (s->sync_inflight == 0) {
      while (s->nretired > 0) {
        int rc2 = s->vfs->close(s->vfs->ctx, s->retired[--s->nretired]);
        if (rc2 != VALORI_OK && rc == VALORI_OK) rc = vl_poison(s, rc2);
      }
    }
  } else if (c->state != 1) {
    return VALORI_EINVAL;
  }
  c->state = 0;
  if (rc == VALORI_OK && s->poisoned) rc = VALORI_EPOISONED;
  return rc;
}

/* Serializes e into a new job (header + engine snapshot); see store_int.h. */
int vl_store_snapshot_prepare(const vl_store *s, const vl_engine *e, vl_snapjob **out) {
  vl_snapjob *j;
  vl_snap_hdr h;
  uint8_t zero[VL_SNAP_HDR];
  int rc;
  /* A snapshot is never published ahead of the durable log (recovery treats a log that ends
  ** below a snapshot's height as damage); relaxed-mode callers flush first. */
  if (vl_engine_height(e) != s->height || s->synced_height != s->height) return VALORI_EINVAL;
  j = (vl_snapjob *)vl_calloc(s->a, 1, sizeof *j);
  if (!j) return VALORI_ENOMEM;
  vl_buf_init(&j->file, s->a);
  memset(zero, 0, sizeof zero);
  rc = vl_buf_put(&j->file, zero, VL_SNAP_HDR);
  if (rc == VALORI_OK) rc = vl_engine_snapshot_save(e, &j->file);
  if (rc != VALORI_OK) {
    vl_buf_free(&j->file);
    vl_free(s->a, j, sizeof *j);
    return rc;
  }
  j->height = s->height;
  vl_engine_root(e, j->root);
  memcpy(j->chain, s->chain, 32);
  j->cfg = s->cfg;
  memset(&h, 0, sizeof h);
  h.cfg = s->cfg;
  h.height = j->height;
  h.payload_len = j->file.len - VL_SNAP_HDR;
  memcpy(h.root, j->root, 32);
  memcpy(h.chain, j->chain, 32);
  h.payload_crc = vl_crc32c(0, j->file.p + VL_SNAP_HDR, j->file.len - VL_SNAP_HDR);
  vl_snap_hdr_encode(&h, j->file.p);
  *out = j;
  return VALORI_OK;
}

/* Writes the job's file as snap-<h>.vsnap.tmp, syncs it, renames it into place and syncs the
** directory. Uses only the VFS: safe while the writer keeps appending. See store_int.h. */
int vl_store_snapshot_write(const vl_store *s, vl_snapjob *j) {
  char tmp[VL_NAME_MAX], name[VL_NAME_MAX];
  int rc;
  vl_name_snapshot_tmp(tmp, j->height);
  vl_name_snapshot(name, j->height);
  rc = vl_publish_file(s->vfs, tmp, name, j->file.p, j->file.len);
  if (rc == VALORI_OK) j->written = 1;
  return rc;
}

/* Removes files that the two newest snapshots make redundant: snapshots older than the second
** newest, and segments whose every record is at or below it. Keeping the log back to the second
** newest snapshot is what lets recovery fall back when the newest snapshot is damaged. Removal is
** best effort: a file that survives (or reappears after a crash) is only older history. */
static void vl_store_prune(vl_store *s) {
  uint64_t keep;
  size_t i, w;
  char name[VL_NAME_MAX];
  int removed = 0;
  if (s->nsnaps < 2) return;
  keep = s->snaps[s->nsnaps - 2];
  for (i = 0, w = 0; i < s->nsnaps; i++) {
    if (s->snaps[i] < keep) {
      vl_name_snapshot(name, s->snaps[i]);
      if (s->vfs->remove(s->vfs->ctx, name) == VALORI_OK) { removed = 1; continue; }
    }
    s->snaps[w++] = s->snaps[i];
  }
  s->nsnaps = w;
  for (i = 0, w = 0; i < s->nsegs; i++) {
    if (i + 1 < s->nsegs && s->segs[i + 1] <= keep + 1u && s->segs[i] != s->seg_first) {
      vl_name_segment(name, s->segs[i]);
      if (s->vfs->remove(s->vfs->ctx, name) == VALORI_OK) { removed = 1; continue; }
    }
    s->segs[w++] = s->segs[i];
  }
  s->nsegs = w;
  if (removed) (void)s->vfs->sync_dir(s->vfs->ctx);
}

/* Records a written snapshot, prunes, frees the job; see store_int.h. */
int vl_store_snapshot_finish(vl_store *s, vl_snapjob *j, int write_rc) {
  int rc = write_rc;
  s->since_snapshot = 0;
  if (rc == VALORI_OK && j->written) {
    if (s->nsnaps == 0 || s->snaps[s->nsnaps - 1] < j->height) {
      rc = vl_u64_room(s->a, &s->snaps, s->nsnaps, &s->snapcap);
      if (rc == VALORI_OK) s->snaps[s->nsnaps++] = j->height;
    }
    if (rc == VALORI_OK) vl_store_prune(s);
    vl_store_proof(s);
  }
  vl_buf_free(&j->file);
  vl_free(s->a, j, sizeof *j);
  return rc;
}

/* Writes a snapshot of e now; see store.h. The log is synced first so a snapshot never describes
** writes the log could still lose. */
int vl_store_snapshot(vl_store *s, const vl_engine *e) {
  vl_snapjob *j = NULL;
  int rc;
  if (vl_readonly(s)) return VALORI_EREADONLY;
  if (s->poisoned) return VALORI_EPOISONED;
  VL_TRY(vl_store_sync(s));
  if (s->nsnaps > 0 && s->snaps[s->nsnaps - 1] == s->height) {
    s->since_snapshot = 0;
    return VALORI_OK;
  }
  rc = vl_store_snapshot_prepare(s, e, &j);
  if (rc != VALORI_OK) {
    s->since_snapshot = 0;
    return rc;
  }
  rc = vl_store_snapshot_write(s, j);
  return vl_store_snapshot_finish(s, j, rc);
}

/* Takes a snapshot when snapshot_every events were appended since the last one (or since the last
** failed attempt, so a failing disk is not retried on every write); see store.h.
** Always returns VALORI_OK: the write that triggered it is already durable and acknowledging it as
** failed would invite a retry that duplicates it. A failure is kept in last_snapshot_error
** (valori_store_status) instead; the log stays complete, so nothing is lost but replay time. */
int vl_store_maybe_snapshot(vl_store *s, const vl_engine *e) {
  int rc;
  if (vl_readonly(s) || s->poisoned || s->o.snapshot_every == UINT64_MAX) return VALORI_OK;
  if (s->since_snapshot < s->o.snapshot_every) return VALORI_OK;
  rc = vl_store_snapshot(s, e);
  s->last_snapshot_error = rc;
  if (rc != VALORI_OK) s->snapshot_failures++;
  return VALORI_OK;
}

/* Syncs (unless poisoned or read-only), records the clean close in HEAD (floor = the end of the
** log, now durable), closes the tail, unlocks, frees; see store.h. */
int vl_store_close(vl_store *s) {
  int rc = VALORI_OK, rc2;
  if (!s) return VALORI_OK;
  if (!vl_readonly(s) && !s->poisoned) {
    rc = vl_store_sync(s);
    if (rc == VALORI_OK && s->seg && s->sync_inflight == 0 && !vl_head_current(s, VL_HEAD_CLOSE))
      rc = vl_head_write(s, VL_HEAD_CLOSE);
  }
  if (s->seg) {
    rc2 = s->vfs->close(s->vfs->ctx, s->seg);
    if (rc == VALORI_OK) rc = rc2;
  }
  while (s->nretired > 0) { /* only left when a commit ticket was never ended */
    rc2 = s->vfs->close(s->vfs->ctx, s->retired[--s->nretired]);
    if (rc == VALORI_OK) rc = rc2;
  }
  if (s->locked) {
    rc2 = s->vfs->unlock(s->vfs->ctx);
    if (rc == VALORI_OK) rc = rc2;
  }
  vl_free(s->a, s->segs, s->segcap * sizeof(uint64_t));
  vl_free(s->a, s->snaps, s->snapcap * sizeof(uint64_t));
  vl_free(s->a, s, sizeof *s);
  return rc;
}

/* The recovery report of the open; see store_int.h. */
const valori_recovery *vl_store_report(const vl_store *s) { return &s->rep; }

/* Fills the public status; see store_int.h. */
void vl_store_status_get(const vl_store *s, valori_store_status *o) {
  memset(o, 0, sizeof *o);
  o->durable_height = s->synced_height;
  o->appended_height = s->height;
  o->snapshot_height = s->nsnaps ? s->snaps[s->nsnaps - 1] : 0;
  o->snapshots = (uint32_t)s->nsnaps;
  o->segments = (uint32_t)s->nsegs;
  o->tail_segment_first = s->seg_first;
  o->tail_segment_bytes = s->seg_size;
  o->poisoned = s->poisoned;
  o->readonly = vl_readonly(s);
  o->last_snapshot_error = s->last_snapshot_error;
  o->snapshot_failures = s->snapshot_failures;
  o->skipped = s->rep.snapshots_skipped;
  o->skipped_kind = s->rep.snapshots_skipped ? VALORI_FILE_SNAPSHOT : VALORI_FILE_OTHER;
  vl_copy_name(o->skipped_file, s->rep.skipped_file);
  o->skipped_offset = s->rep.skipped_offset;
  o->skipped_detail = s->rep.skipped_detail ? s->rep.skipped_detail : "";
  o->trimmed_bytes = s->rep.trimmed_bytes;
  o->proven_height = s->proven_height;
  o->proven_by = s->proven_by;
  o->last_head_error = s->last_head_error;
  o->head_failures = s->head_failures;
  o->log_first_height = s->nsegs ? s->segs[0] : s->height + 1u;
}
