/*
** update_wl.h: a deterministic workload of multi-field updates (valori_update_record) and a model
** of what every record holds after each of them, shared by test_update.c and the fuzz corpus
** generator. Include after store_wl.h (it uses WL_DIM and wl_vec).
**
** upd_fill inserts n records (record i + 1: vector wl_vec(i), tag i % 3, metadata "m<i>"); update
** number i (upd_fields) changes record 1 + 7i mod n, the fields 1 + i mod 7 (every combination in
** turn), to vector wl_vec(5000 + i), tag i % 5 and metadata "x<i>" (cleared every fourth time).
*/
#ifndef UPDATE_WL_H
#define UPDATE_WL_H

#include <stdio.h>

#define UPD_MAXREC 64
#define UPD_META_CAP 16

/* What one record holds, as read back through the public API. */
typedef struct upd_record {
  int32_t vec[WL_DIM];
  uint64_t tag;
  uint8_t meta[UPD_META_CAP];
  size_t meta_len;
} upd_record;

static int upd_read(const valori_db *db, uint64_t id, upd_record *r) {
  int rc;
  memset(r, 0, sizeof *r);
  rc = valori_get_q16(db, id, r->vec);
  if (!rc) rc = valori_get(db, id, NULL, &r->tag, r->meta, sizeof r->meta, &r->meta_len);
  return rc;
}

static int upd_same(const upd_record *a, const upd_record *b) {
  return memcmp(a->vec, b->vec, sizeof a->vec) == 0 && a->tag == b->tag && a->meta_len == b->meta_len &&
         memcmp(a->meta, b->meta, a->meta_len < UPD_META_CAP ? a->meta_len : UPD_META_CAP) == 0;
}

/* r's vector equals v converted (v != NULL), or else old's vector. */
static int upd_vec_is(const upd_record *r, const float *v, const upd_record *old) {
  int32_t q[WL_DIM];
  int i;
  if (!v) return memcmp(r->vec, old->vec, sizeof r->vec) == 0;
  for (i = 0; i < WL_DIM; i++)
    if (valori_f32_to_q16(v[i], &q[i]) != VALORI_OK) return 0;
  return memcmp(r->vec, q, sizeof q) == 0;
}

/* Records 1..n hold the same in a and b (or are missing from both). */
static int upd_same_records(const valori_db *a, const valori_db *b, int n) {
  int i;
  for (i = 1; i <= n; i++) {
    upd_record x, y;
    int ra = upd_read(a, (uint64_t)i, &x), rb = upd_read(b, (uint64_t)i, &y);
    if (ra != rb || (ra == VALORI_OK && !upd_same(&x, &y))) return 0;
  }
  return 1;
}

static int upd_fill(valori_db *db, int n) {
  float v[WL_DIM * UPD_MAXREC];
  uint64_t tags[UPD_MAXREC], first;
  const void *metas[UPD_MAXREC];
  size_t lens[UPD_MAXREC];
  char mb[UPD_MAXREC][UPD_META_CAP];
  int i;
  if (n > UPD_MAXREC) return VALORI_EINVAL;
  for (i = 0; i < n; i++) {
    wl_vec((uint64_t)i, v + i * WL_DIM);
    tags[i] = (uint64_t)(i % 3);
    lens[i] = (size_t)snprintf(mb[i], sizeof mb[i], "m%d", i);
    metas[i] = mb[i];
  }
  return valori_insert_batch(db, (size_t)n, v, tags, metas, lens, &first);
}

/* Update number i on a store of n records: its target id and fields (vec and mb are the caller's
** buffers the fields point into). */
static uint64_t upd_fields(int i, int n, valori_update_fields *u, float vec[WL_DIM], char mb[UPD_META_CAP]) {
  memset(u, 0, sizeof *u);
  wl_vec(5000u + (uint64_t)i, vec);
  u->fields = 1u + (uint32_t)i % 7u;
  u->vec = vec;
  u->tag = (uint64_t)(i % 5);
  u->meta_len = i % 4 == 0 ? 0 : (size_t)snprintf(mb, UPD_META_CAP, "x%d", i);
  u->meta = mb;
  return 1 + (uint64_t)(i * 7) % (uint64_t)n;
}

static int upd_step(valori_db *db, int i, int n) {
  valori_update_fields u;
  float vec[WL_DIM];
  char mb[UPD_META_CAP];
  uint64_t id = upd_fields(i, n, &u, vec, mb);
  return valori_update_record(db, id, &u);
}

/* The model: how many records exist (0 before upd_fill, else n) and per record the seed of its
** vector (wl_vec), its tag, and its metadata as the number of the update that wrote it (-1: the
** insert's "m<i>"). */
typedef struct upd_model {
  int nrec;
  uint64_t vseed[UPD_MAXREC];
  uint64_t tag[UPD_MAXREC];
  int meta_from[UPD_MAXREC];
} upd_model;

static void upd_model_init(upd_model *m, int n) {
  int i;
  m->nrec = n;
  for (i = 0; i < n; i++) {
    m->vseed[i] = (uint64_t)i;
    m->tag[i] = (uint64_t)(i % 3);
    m->meta_from[i] = -1;
  }
}

static void upd_model_step(upd_model *m, int i, int n) {
  valori_update_fields u;
  float vec[WL_DIM];
  char mb[UPD_META_CAP];
  uint64_t r = upd_fields(i, n, &u, vec, mb) - 1;
  if (u.fields & VALORI_UPDATE_VECTOR) m->vseed[r] = 5000u + (uint64_t)i;
  if (u.fields & VALORI_UPDATE_TAG) m->tag[r] = u.tag;
  if (u.fields & VALORI_UPDATE_META) m->meta_from[r] = i;
}

/* Records 1..n of db hold exactly what the model says (or are missing where it has none). */
static int upd_model_check(const valori_db *db, const upd_model *m, int n) {
  int i;
  for (i = 0; i < n; i++) {
    upd_record r, want;
    float v[WL_DIM];
    char mb[UPD_META_CAP];
    int k, j = m->meta_from[i], rc = upd_read(db, (uint64_t)i + 1, &r);
    if (i >= m->nrec) {
      if (rc != VALORI_ENOTFOUND) return 0;
      continue;
    }
    if (rc != VALORI_OK) return 0;
    wl_vec(m->vseed[i], v);
    for (k = 0; k < WL_DIM; k++) valori_f32_to_q16(v[k], &want.vec[k]);
    want.tag = m->tag[i];
    want.meta_len = j < 0 ? (size_t)snprintf(mb, sizeof mb, "m%d", i) : j % 4 == 0 ? 0 : (size_t)snprintf(mb, sizeof mb, "x%d", j);
    memcpy(want.meta, mb, want.meta_len);
    if (!upd_same(&r, &want)) return 0;
  }
  return 1;
}

#endif /* UPDATE_WL_H */
