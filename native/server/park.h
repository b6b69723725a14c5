/*
** park.h: parked requests. A request that has to wait for a collection's durable height (a
** replication stream with nothing to send, a long poll, a read with min_height) or for a deadline
** (the stream's next heartbeat, a long poll's or read's wait_ms) suspends its connection and parks
** here, so no thread waits for it (docs/REPLICATION.md sections 5, 6 and 9). The registry's "durable
** height advanced" notification (vs_reg_opts.on_durable) and one timer thread fire entries; a fired
** entry is unlinked and its fire callback (which resumes the connection) runs once.
*/
#ifndef VS_PARK_H
#define VS_PARK_H

#include <pthread.h>
#include <stdint.h>

#include "collection.h"

/* Why an entry fired (vs_park.why). */
enum { VS_PARK_HEIGHT = 1, VS_PARK_DEADLINE = 2, VS_PARK_SHUTDOWN = 3, VS_PARK_FAILED = 4 };

typedef struct vs_park {
  struct vs_park *prev, *next;
  char coll[VS_MAX_NAME + 1]; /* the collection whose durable height it waits for ("": a deadline
                       ** only). A name, not a reference: a parked request holds no reference, so it
                       ** never keeps a collection from being deleted or closed */
  uint64_t height;     /* fire when c's durable height reaches it (0: never for the height) */
  double deadline;     /* monotonic seconds (vs_park_now); fire then */
  void (*fire)(struct vs_park *p); /* resumes the connection; must not block or call into park */
  void *arg;
  int why;             /* set before fire: VS_PARK_* */
  int rc;              /* VS_PARK_FAILED: the collection's error (poisoned, going) */
  int linked;
} vs_park;

typedef struct vs_parking vs_parking;

double vs_park_now(void);
/* Starts the timer thread. NULL on failure. */
vs_parking *vs_parking_new(void);
/* Fires every entry (VS_PARK_SHUTDOWN), refuses new ones from now on (they fire at once), stops the
** timer thread and frees. */
void vs_parking_free(vs_parking *k);
/* Parks p (its coll, height, deadline, fire set); c is that collection, referenced by the caller for
** the duration of the call (NULL when coll is ""). Fires it at once, on the calling thread, when c is
** already durable up to height, when it is going or poisoned, or during shutdown. */
void vs_park_add(vs_parking *k, vs_park *p, vs_coll *c);
/* Fires every entry now, without stopping (the server is stopping: streams end themselves). */
void vs_park_wake_all(vs_parking *k);
/* The registry's on_durable (arg: the vs_parking). */
void vs_park_on_durable(void *arg, vs_coll *c, uint64_t durable, int rc);
/* Entries parked now. */
int vs_park_count(vs_parking *k);

#endif /* VS_PARK_H */
