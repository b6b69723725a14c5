/*
** event.h: the canonical binary encoding of events (docs/FORMAT.md, "Events").
**
** Every event: u16 opcode | u16 flags (0) | u32 body_len | body. All integers little-endian.
** Vectors are carried already converted to Q16.16 (LE int32), so replay never converts floats.
** Bodies:
**   INSERT        record
**   INSERT_BATCH  u32 count | u32 0 | record * count
**     record    = u64 tag | u32 meta_len | i32[dim] | meta bytes
**   DELETE        u64 id
**   UPDATE        u64 id | u32 fields (1 = vector, 2 = tag) | u32 0 | [u64 tag] | [i32[dim]]
**   SET_META      u64 id | u32 len | bytes
**   UPDATE_RECORD u64 id | u32 fields (1 vector, 2 tag, 4 meta) | u32 meta_len (0 unless 4)
**                 | [u64 tag] | [i32[dim]] | [meta bytes]
**   NODE_CREATE   u32 kind | u32 label_len | u64 record_id (0 none) | label bytes
**   NODE_DELETE   u64 id
**   EDGE_CREATE   u64 from | u64 to | u32 kind | u32 has_weight | i32 weight (0 when unweighted)
**   EDGE_DELETE   u64 id
** vl_event_decode checks the structure completely (lengths, reserved fields, component ranges,
** size limits) but not the state (unknown ids); the engine checks that. UPDATE, SET_META and
** UPDATE_RECORD decode to one shape: the record id, the VL_UPD_* fields they change, and the new
** tag, vector and metadata (SET_META is fields = VL_UPD_META), so the engine applies all three
** with one function.
*/
#ifndef VL_EVENT_H
#define VL_EVENT_H
#include "vl_int.h"

#define VL_EV_HEADER 8u
/* The fields an update changes: the public VALORI_UPDATE_* bits. */
#define VL_UPD_VECTOR VALORI_UPDATE_VECTOR
#define VL_UPD_TAG VALORI_UPDATE_TAG
#define VL_UPD_META VALORI_UPDATE_META
#define VL_UPD_ALL (VL_UPD_VECTOR | VL_UPD_TAG | VL_UPD_META)

typedef struct vl_event {
  uint32_t op;
  uint32_t count;        /* INSERT(1) / INSERT_BATCH records */
  const uint8_t *recs;   /* first record (INSERT*) */
  uint64_t id;           /* DELETE, UPDATE*, SET_META, NODE_DELETE, EDGE_DELETE */
  uint32_t fields;       /* UPDATE, UPDATE_RECORD; VL_UPD_META for SET_META */
  uint64_t tag;          /* new tag (fields & VL_UPD_TAG) */
  const uint8_t *vec;    /* new vector, dim LE int32 (fields & VL_UPD_VECTOR) */
  const uint8_t *bytes;  /* new metadata (fields & VL_UPD_META), NODE_CREATE label */
  uint32_t nbytes;
  uint32_t kind;         /* NODE_CREATE, EDGE_CREATE */
  uint64_t record_id;    /* NODE_CREATE */
  uint64_t from, to;     /* EDGE_CREATE */
  uint32_t has_weight;
  int32_t weight;
} vl_event;

/* A decoded view of one record inside an INSERT/INSERT_BATCH body. */
typedef struct vl_ev_rec {
  uint64_t tag;
  uint32_t meta_len;
  const uint8_t *vec;    /* dim LE int32 */
  const uint8_t *meta;
} vl_ev_rec;

/* Parses and structurally validates an event for a store of dimension dim. */
int vl_event_decode(const uint8_t *p, size_t n, uint32_t dim, vl_event *ev);
/* Reads the record at *cursor (inside a validated event) and advances the cursor. */
void vl_ev_rec_next(const uint8_t **cursor, uint32_t dim, vl_ev_rec *r);
/* Decodes dim LE int32 components. */
void vl_ev_vec(const uint8_t *p, uint32_t dim, int32_t *out);

/* ---- Encoders (append to a buffer). Float vectors are converted at this boundary: a bad
** component returns its code with buf->len restored. A record is checked in valori.h's order: the
** vector (NULL, then its first bad component) before the metadata (NULL with a length, then size
** over VALORI_MAX_META: ETOOBIG). */
int vl_ev_begin(vl_buf *b, uint32_t op, size_t *mark);
void vl_ev_end(vl_buf *b, size_t mark);
int vl_ev_put_record(vl_buf *b, const float *vec, uint32_t dim, uint64_t tag, const void *meta, size_t meta_len);
int vl_ev_put_vec(vl_buf *b, const float *vec, uint32_t dim);
/* Converts dim floats into p as LE Q16.16 (dim * 4 bytes, any alignment): the code of the first bad
** component (p partly written), else VALORI_OK. */
int vl_ev_write_vec(uint8_t *p, const float *vec, uint32_t dim);
/* An UPDATE (op VALORI_OP_UPDATE: fields VECTOR and/or TAG, no metadata) or UPDATE_RECORD event,
** complete, with the checks and their order of valori_update_record (valori.h) for the arguments
** it is given; vec, meta only read when fields select them. On error buf->len is restored. */
int vl_ev_put_update(vl_buf *b, uint32_t op, uint64_t id, uint32_t fields, uint32_t dim, const float *vec,
                     uint64_t tag, const void *meta, size_t meta_len);

#endif
