/*
** fint.h: the follower's private pieces, shared by follower.c (the manager: leader URL and token,
** the threads, whole-server listing, status, metrics), fcoll.c (one collection's replication loop:
** bootstrap, stream, apply, divergence) and fhttp.c (the libcurl requests).
*/
#ifndef VS_FINT_H
#define VS_FINT_H

#include <pthread.h>
#include <stdint.h>

#include "follower.h"

/* Follower states (docs/REPLICATION.md section 8), as reported. */
enum { VF_BOOTSTRAPPING, VF_CATCHING_UP, VF_LIVE, VF_DIVERGED, VF_STOPPED, VF_NSTATES };
extern const char *const vf_state_names[VF_NSTATES];

typedef struct vf_diverged {
  uint64_t height;
  char reason[16];        /* root, chain, event, history, config */
  uint8_t expected[32], actual[32];
  char message[300];
} vf_diverged;

typedef struct vf_coll {
  struct vf_coll *next;
  vs_follower *f;
  char name[VS_MAX_NAME + 1];
  pthread_t th;
  int started;
  /* under f->mu: */
  int stop;               /* the thread should end (follower stopping, or the leader dropped it) */
  int drop;               /* with stop: delete the local copy (whole-server follow) */
  int want_rebootstrap;
  int phase;              /* VF_BOOTSTRAPPING, VF_CATCHING_UP (running), VF_DIVERGED, VF_STOPPED */
  int connected;
  uint64_t applied;       /* durable height of the local copy */
  uint64_t leader_height;
  double behind_since;    /* monotonic time it first knew of a leader height it had not applied (0: caught up) */
  double last_heard;      /* monotonic time of the last HELLO or HEARTBEAT */
  uint32_t heartbeat_ms;
  uint64_t records_applied, bootstraps, reconnects, streams;
  int pending;            /* group commits asked for and not yet done (their waiters point here) */
  int last_code;          /* 0: no error since the last success */
  char last_msg[300];
  int diverged;
  vf_diverged div;
} vf_coll;

struct vs_follower {
  vs_server *s;
  char base[2048];        /* the leader: scheme://host:port (no trailing slash) */
  char single[VS_MAX_NAME + 1]; /* the one collection followed, or "" for every collection */
  char auth[320];         /* "Authorization: Bearer TOKEN" or "" */
  char id_header[100];    /* "X-Valori-Follower: ID" */
  pthread_mutex_t mu;
  pthread_cond_t cv;      /* stop, rebootstrap requests */
  vf_coll *colls;
  int stop;
  pthread_t lister;
  int lister_started;
};

/* fcoll.c: starts the thread of a new collection entry (f->mu held); its main loop. */
vf_coll *vf_coll_add(vs_follower *f, const char *name);
void *vf_coll_main(void *arg);
/* Waits up to `seconds` or until stop or a rebootstrap request for fc (f->mu not held). Returns 1 when
** fc should stop. */
int vf_sleep(vf_coll *fc, double seconds);
/* Records an error in fc's status (f->mu not held). */
void vf_error(vf_coll *fc, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* fhttp.c: one HTTP request with libcurl. */
typedef struct vf_http {
  /* in */
  const char *url;
  const char *method;          /* "GET" (NULL) or "POST" */
  const char *body;            /* POST: JSON body */
  const char *const *headers;  /* NULL-terminated, or NULL */
  size_t max_body;             /* the answer body is kept up to this size (0: 64 KiB) */
  /* streaming answers: called with each piece of a 2xx body; return 0 to abort the transfer */
  int (*on_data)(void *arg, const uint8_t *p, size_t n);
  /* called about once a second and with every piece: return 1 to abort */
  int (*abort_now)(void *arg);
  void *arg;
  long timeout_s;              /* whole transfer (0: none) */
  /* out */
  long status;                 /* HTTP status, 0 when no answer */
  vbuf resp;                   /* the body (non-2xx always; 2xx when on_data is NULL) */
  char x_height[24], x_root[65], x_chain[65]; /* X-Valori-* answer headers */
  char err[256];               /* transport error text ("" when an answer came) */
  int aborted;                 /* on_data or abort_now stopped it */
} vf_http;
/* Performs r. VALORI_OK when an HTTP answer arrived (any status: see r->status), else VALORI_EIO
** with r->err. The caller frees r->resp. */
int vf_http_do(vf_http *r);
/* The error object of a JSON error answer: its code (a core or server code number, 0 if none) and
** message; chain (may be NULL) receives its "chain" member when there is one (returns 1 then). */
int vf_http_error(const vf_http *r, int *code, char *msg, size_t cap, uint8_t chain[32]);

#endif /* VS_FINT_H */
