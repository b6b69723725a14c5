/*
** park.c: parked requests (park.h): one list under one mutex (entries are few: at most one per
** connection), a timer thread that sleeps until the earliest deadline on a monotonic condition
** variable, and the durable-height notification of the registry. Lock order: the park mutex, then a
** collection's commit mutex (vs_coll_durable_pos); the registry never holds a lock when it notifies.
*/
#define _GNU_SOURCE 1
#include "park.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct vs_parking {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  vs_park *head;
  int n;
  int closed, stop;
  pthread_t timer;
};

double vs_park_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void unlink_entry(vs_parking *k, vs_park *p) {
  if (p->prev) p->prev->next = p->next;
  else k->head = p->next;
  if (p->next) p->next->prev = p->prev;
  p->prev = p->next = NULL;
  p->linked = 0;
  k->n--;
}

/* Unlinks and fires p (park mutex held). */
static void fire(vs_parking *k, vs_park *p, int why, int rc) {
  unlink_entry(k, p);
  p->why = why;
  p->rc = rc;
  p->fire(p);
}

static void *timer_main(void *arg) {
  vs_parking *k = (vs_parking *)arg;
  pthread_mutex_lock(&k->mu);
  while (!k->stop) {
    double now = vs_park_now(), next = now + 1.0;
    vs_park *p = k->head, *nx;
    struct timespec ts;
    for (; p; p = nx) {
      nx = p->next;
      if (p->deadline <= now) fire(k, p, VS_PARK_DEADLINE, 0);
      else if (p->deadline < next) next = p->deadline;
    }
    ts.tv_sec = (time_t)next;
    ts.tv_nsec = (long)((next - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
    pthread_cond_timedwait(&k->cv, &k->mu, &ts);
  }
  pthread_mutex_unlock(&k->mu);
  return NULL;
}

vs_parking *vs_parking_new(void) {
  vs_parking *k = (vs_parking *)calloc(1, sizeof *k);
  pthread_condattr_t ca;
  if (!k) return NULL;
  pthread_mutex_init(&k->mu, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&k->cv, &ca);
  pthread_condattr_destroy(&ca);
  if (pthread_create(&k->timer, NULL, timer_main, k) != 0) {
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
    free(k);
    return NULL;
  }
  return k;
}

void vs_park_wake_all(vs_parking *k) {
  pthread_mutex_lock(&k->mu);
  k->closed = 1;
  while (k->head) fire(k, k->head, VS_PARK_SHUTDOWN, 0);
  pthread_mutex_unlock(&k->mu);
}

void vs_parking_free(vs_parking *k) {
  if (!k) return;
  vs_park_wake_all(k);
  pthread_mutex_lock(&k->mu);
  k->stop = 1;
  pthread_cond_signal(&k->cv);
  pthread_mutex_unlock(&k->mu);
  pthread_join(k->timer, NULL);
  pthread_mutex_destroy(&k->mu);
  pthread_cond_destroy(&k->cv);
  free(k);
}

void vs_park_add(vs_parking *k, vs_park *p, vs_coll *c) {
  pthread_mutex_lock(&k->mu);
  p->prev = NULL;
  p->next = k->head;
  if (k->head) k->head->prev = p;
  k->head = p;
  p->linked = 1;
  k->n++;
  if (k->closed) {
    fire(k, p, VS_PARK_SHUTDOWN, 0);
  } else if (c && (vs_coll_poisoned(c) || vs_coll_going(c))) {
    fire(k, p, VS_PARK_FAILED, vs_coll_going(c) ? VS_ENOCOLLECTION : VALORI_EPOISONED);
  } else {
    valori_position d;
    if (c && p->height) vs_coll_durable_pos(c, &d);
    if (c && p->height && d.height >= p->height) fire(k, p, VS_PARK_HEIGHT, 0);
    else pthread_cond_signal(&k->cv); /* perhaps an earlier deadline */
  }
  pthread_mutex_unlock(&k->mu);
}

void vs_park_on_durable(void *arg, vs_coll *c, uint64_t durable, int rc) {
  vs_parking *k = (vs_parking *)arg;
  const char *name = vs_coll_name(c);
  vs_park *p, *nx;
  pthread_mutex_lock(&k->mu);
  for (p = k->head; p; p = nx) {
    nx = p->next;
    if (strcmp(p->coll, name) != 0) continue;
    if (rc != VALORI_OK) fire(k, p, VS_PARK_FAILED, rc);
    else if (p->height && durable >= p->height) fire(k, p, VS_PARK_HEIGHT, 0);
  }
  pthread_mutex_unlock(&k->mu);
}

int vs_park_count(vs_parking *k) {
  int n;
  pthread_mutex_lock(&k->mu);
  n = k->n;
  pthread_mutex_unlock(&k->mu);
  return n;
}
