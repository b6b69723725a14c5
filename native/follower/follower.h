/*
** follower.h: follower mode of the server (`valori follow`, or `valori serve` with
** VALORI_REPLICATION_MODE=follower; docs/REPLICATION.md section 10). The server's registry holds the
** local copies; this module keeps them equal to the leader's: one thread per followed collection
** bootstraps it from the leader's snapshot, streams the leader's records into it through
** valori_apply_record (libcurl), reconnects with backoff, re-bootstraps on EHEIGHT, and stops at a
** divergence until asked to re-bootstrap. Following a whole server adds a thread that lists the
** leader's collections. The server calls the functions below; they never block on the network.
*/
#ifndef VS_FOLLOWER_H
#define VS_FOLLOWER_H

#include "server.h"

/* Reads the leader URL and token from s->cfg, starts the threads (the registry must be open).
** Sets s->fol. VALORI_EINVAL with a message for a bad URL or token file. */
int vs_follower_start(vs_server *s, vs_err *e);
/* Stops every thread (open streams are closed, applied records made durable), frees, clears s->fol. */
void vs_follower_stop(vs_server *s);
/* 1 when reads of collection `coll` must be refused (diverged): *e is the 503 EDIVERGED answer. */
int vs_follower_gate(vs_follower *f, const char *coll, vs_err *e);
/* Appends the follower members of GET .../replication (section 3), each starting with a comma. */
void vs_follower_status_json(vs_follower *f, const char *coll, vbuf *b);
/* Asks the thread of `coll` to discard its copy and bootstrap again (POST .../rebootstrap). */
int vs_follower_rebootstrap(vs_follower *f, const char *coll, vs_err *e);
/* The follower metrics (section 11). */
void vs_follower_metrics(vs_follower *f, vbuf *b);

#endif /* VS_FOLLOWER_H */
