/*
** records.c: slot storage, id map and tag postings (see records.h for the model).
*/
#include "records.h"
#include "compact.h"
#include "dist.h"

void vl_rec_init(vl_records *r, const valori_allocator *a, uint32_t dim, uint32_t trav) {
  memset(r, 0, sizeof *r);
  r->a = a;
  r->dim = dim;
  r->trav = trav;
  vl_map_init(&r->ids);
  vl_map_init(&r->tags);
}

void vl_rec_free(vl_records *r) {
  const valori_allocator *a = r->a;
  uint32_t i;
  for (i = 0; i < r->nslots; i++) vl_free(a, r->meta[i], r->meta_len[i]);
  for (i = 0; i < r->npost; i++) vl_free(a, r->post[i].slots, (size_t)r->post[i].cap * 4);
  vl_free(a, r->vec, (size_t)r->cap * r->dim * 4);
  vl_free(a, r->id, (size_t)r->cap * 8);
  vl_free(a, r->tag, (size_t)r->cap * 8);
  vl_free(a, r->node, (size_t)r->cap * 8);
  vl_free(a, r->meta, (size_t)r->cap * sizeof(uint8_t *));
  vl_free(a, r->meta_len, (size_t)r->cap * 4);
  vl_free(a, r->tagpos, (size_t)r->cap * 4);
  vl_free(a, r->state, r->cap);
  vl_free(a, r->vflags, r->cap);
  if (r->cvec) vl_free(a, r->cvec, (size_t)r->cvec_cap * r->dim);
  vl_free(a, r->freel, (size_t)r->free_cap * 4);
  vl_free(a, r->post, (size_t)r->post_cap * sizeof(vl_posting));
  vl_map_free(&r->ids, a);
  vl_map_free(&r->tags, a);
  memset(r, 0, sizeof *r);
}

/* Grows every per-slot array to ncap, all or nothing. The compact copy (only when the store keeps
** one) grows first and on its own, with the allocator's realloc, as the vectors grow last in
** vl_grow_all: neither is ever held twice, so a growth's peak memory stays near its result (goal 3
** of issue 15). Its own capacity makes that safe: when the other arrays then fail, the copy is
** simply larger than the store (cvec_cap > cap), which nothing reads. */
static int grow_slots(vl_records *r, uint32_t ncap) {
  void **const arr[] = {(void **)&r->id, (void **)&r->tag, (void **)&r->node, (void **)&r->meta, (void **)&r->meta_len,
                        (void **)&r->tagpos, (void **)&r->state, (void **)&r->vflags, (void **)&r->freel, (void **)&r->vec};
  const size_t sz[] = {8, 8, 8, sizeof(uint8_t *), 4, 4, 1, 1, 4, (size_t)r->dim * 4};
  if (r->trav && r->cvec_cap < ncap) {
    void *c = r->cvec;
    VL_TRY(vl_grow(r->a, &c, r->cvec_cap, ncap, r->dim));
    r->cvec = (int8_t *)c;
    r->cvec_cap = ncap;
  }
  VL_TRY(vl_grow_all(r->a, arr, sz, 10, r->cap, ncap));
  r->cap = r->free_cap = ncap;
  return VALORI_OK;
}

int vl_rec_reserve_slots(vl_records *r, uint32_t extra) {
  uint64_t need;
  uint32_t ncap;
  if (extra <= r->nfree) return VALORI_OK;
  need = (uint64_t)r->nslots + (extra - r->nfree);
  if (need > 0x7FFFFFFFu) return VALORI_ENOMEM;
  if (need <= r->cap) return VALORI_OK;
  ncap = r->cap ? r->cap : 64;
  while (ncap < need) ncap = ncap + ncap / 2 + 16;
  return grow_slots(r, ncap);
}

int vl_rec_reserve_ids(vl_records *r, uint32_t extra) { return vl_map_reserve(&r->ids, r->a, extra); }

int vl_rec_reserve_tag(vl_records *r, uint64_t tag) {
  uint32_t pi;
  vl_posting *p;
  if (!vl_map_get(&r->tags, tag, &pi)) {
    if (r->npost == r->post_cap) {
      void *q = r->post;
      uint32_t nc = r->post_cap ? r->post_cap * 2 : 16;
      VL_TRY(vl_grow(r->a, &q, r->post_cap, nc, sizeof(vl_posting)));
      r->post = q;
      r->post_cap = nc;
    }
    VL_TRY(vl_map_reserve(&r->tags, r->a, 1));
    pi = r->npost++;
    memset(&r->post[pi], 0, sizeof(vl_posting));
    r->post[pi].tag = tag;
    vl_map_put(&r->tags, tag, pi);
  }
  p = &r->post[pi];
  if (p->n + p->pend + 1 > p->cap) {
    void *q = p->slots;
    uint32_t nc = p->cap ? p->cap * 2 : 8;
    while (nc < p->n + p->pend + 1) nc *= 2;
    VL_TRY(vl_grow(r->a, &q, p->cap, nc, 4));
    p->slots = q;
    p->cap = nc;
  }
  p->pend++;
  return VALORI_OK;
}

/* Undoes every reservation of a failed prepare, dropping postings it created (still empty). */
void vl_rec_unreserve_all(vl_records *r) {
  uint32_t i = r->npost;
  while (i-- > 0) {
    vl_posting *p = &r->post[i];
    p->pend = 0;
    if (p->n == 0) {
      vl_free(r->a, p->slots, (size_t)p->cap * 4);
      vl_map_del(&r->tags, p->tag);
      if (i != r->npost - 1) {
        r->post[i] = r->post[r->npost - 1];
        vl_map_put(&r->tags, r->post[i].tag, i);
      }
      r->npost--;
    }
  }
}

static void posting_add(vl_records *r, uint32_t slot, uint64_t tag) {
  uint32_t pi;
  vl_posting *p;
  if (VL_NEVER(!vl_map_get(&r->tags, tag, &pi))) return; /* reserved by vl_rec_reserve_tag */
  p = &r->post[pi];
  if (VL_NEVER(p->n >= p->cap)) return;
  if (p->pend) p->pend--;
  r->tagpos[slot] = p->n;
  p->slots[p->n++] = slot;
}

/* Swap-removes slot from its tag's posting; drops an empty posting (swap-remove in post[]). */
static void posting_remove(vl_records *r, uint32_t slot) {
  uint32_t pi, pos, last;
  vl_posting *p;
  if (VL_NEVER(!vl_map_get(&r->tags, r->tag[slot], &pi))) return; /* every LIVE slot is posted */
  p = &r->post[pi];
  pos = r->tagpos[slot];
  last = p->slots[--p->n];
  p->slots[pos] = last;
  r->tagpos[last] = pos;
  if (p->n == 0 && p->pend == 0) {
    uint32_t lastp = r->npost - 1;
    vl_free(r->a, p->slots, (size_t)p->cap * 4);
    vl_map_del(&r->tags, p->tag);
    if (pi != lastp) {
      r->post[pi] = r->post[lastp];
      vl_map_put(&r->tags, r->post[pi].tag, pi);
    }
    r->npost--;
  }
}

/* The commit of an insert whose vector is already in r->vec at slot. */
static uint32_t commit_slot(vl_records *r, uint32_t slot, uint64_t id, uint64_t tag, uint8_t *meta, uint32_t meta_len) {
  vl_rec_vec_changed(r, slot);
  r->id[slot] = id;
  r->tag[slot] = tag;
  r->node[slot] = 0;
  r->meta[slot] = meta;
  r->meta_len[slot] = meta_len;
  r->state[slot] = VL_SLOT_LIVE;
  vl_map_put(&r->ids, id, slot);
  posting_add(r, slot, tag);
  r->live++;
  return slot;
}

uint32_t vl_rec_commit_insert(vl_records *r, uint64_t id, uint64_t tag, const int32_t *vec, uint8_t *meta, uint32_t meta_len) {
  uint32_t slot = r->nfree ? r->freel[--r->nfree] : r->nslots++;
  memcpy(r->vec + (size_t)slot * r->dim, vec, (size_t)r->dim * 4);
  return commit_slot(r, slot, id, tag, meta, meta_len);
}

uint32_t vl_rec_commit_insert_le(vl_records *r, uint64_t id, uint64_t tag, const uint8_t *vec_le, uint8_t *meta,
                                 uint32_t meta_len) {
  uint32_t slot = r->nfree ? r->freel[--r->nfree] : r->nslots++;
  int32_t *v = r->vec + (size_t)slot * r->dim;
#if defined(VL_HOST_LE)
  memcpy(v, vec_le, (size_t)r->dim * 4);
#else
  uint32_t i;
  for (i = 0; i < r->dim; i++) v[i] = (int32_t)vl_get32(vec_le + 4u * i);
#endif
  return commit_slot(r, slot, id, tag, meta, meta_len);
}

void vl_rec_commit_kill(vl_records *r, uint32_t slot) {
  vl_map_del(&r->ids, r->id[slot]);
  posting_remove(r, slot);
  vl_free(r->a, r->meta[slot], r->meta_len[slot]);
  r->meta[slot] = NULL;
  r->meta_len[slot] = 0;
  r->node[slot] = 0;
  r->state[slot] = VL_SLOT_DEAD;
  r->live--;
  r->dead++;
}

void vl_rec_commit_release(vl_records *r, uint32_t slot) {
  r->state[slot] = VL_SLOT_FREE;
  r->id[slot] = 0;
  r->tag[slot] = 0;
  memset(r->vec + (size_t)slot * r->dim, 0, (size_t)r->dim * 4);
  vl_rec_vec_changed(r, slot);
  r->freel[r->nfree++] = slot;
  r->dead--;
}

void vl_rec_vec_changed(vl_records *r, uint32_t slot) {
  const int32_t *v = r->vec + (size_t)slot * r->dim;
  uint8_t f = vl_vec_whole(v, r->dim) ? VL_VEC_WHOLE : 0;
  if (r->trav && vl_trav_quantize(v, r->dim, r->trav, r->cvec + (size_t)slot * r->dim)) f |= VL_VEC_CEXACT;
  r->vflags[slot] = f;
}

void vl_rec_commit_retag(vl_records *r, uint32_t slot, uint64_t tag) {
  posting_remove(r, slot);
  r->tag[slot] = tag;
  posting_add(r, slot, tag);
}

const vl_posting *vl_rec_posting(const vl_records *r, uint64_t tag) {
  uint32_t pi;
  return vl_map_get(&r->tags, tag, &pi) ? &r->post[pi] : NULL;
}

size_t vl_rec_bytes_vectors(const vl_records *r) { return ((size_t)r->cap * 4 + (r->trav ? r->cvec_cap : 0)) * r->dim; }

size_t vl_rec_bytes_other(const vl_records *r) {
  size_t b = (size_t)r->cap * (8 + 8 + 8 + sizeof(uint8_t *) + 4 + 4 + 1 + 1 + 4);
  uint32_t i;
  for (i = 0; i < r->nslots; i++) b += r->meta_len[i];
  for (i = 0; i < r->npost; i++) b += (size_t)r->post[i].cap * 4;
  b += (size_t)r->post_cap * sizeof(vl_posting) + vl_map_bytes(&r->ids) + vl_map_bytes(&r->tags);
  return b;
}

int vl_rec_restore(vl_records *r, uint32_t slot, uint8_t state, uint64_t id, uint64_t tag, uint64_t node,
                   const int32_t *vec, uint8_t *meta, uint32_t meta_len) {
  memcpy(r->vec + (size_t)slot * r->dim, vec, (size_t)r->dim * 4);
  vl_rec_vec_changed(r, slot);
  r->id[slot] = id;
  r->tag[slot] = tag;
  r->node[slot] = node;
  r->meta[slot] = meta;
  r->meta_len[slot] = meta_len;
  r->state[slot] = state;
  if (state == VL_SLOT_DEAD) {
    r->dead++;
    return VALORI_OK;
  }
  if (vl_map_get(&r->ids, id, NULL)) return VALORI_EEXIST;
  VL_TRY(vl_map_reserve(&r->ids, r->a, 1));
  VL_TRY(vl_rec_reserve_tag(r, tag));
  vl_map_put(&r->ids, id, slot);
  posting_add(r, slot, tag);
  r->live++;
  return VALORI_OK;
}
