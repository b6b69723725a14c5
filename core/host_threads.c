/*
** host_threads.c: the one place in core/ that may start a thread (like host_libc.c for the heap).
** It is compiled with threads only where the build defines VALORI_THREADS (native CMake builds on
** hosts with POSIX threads, see CMakeLists.txt); WebAssembly and freestanding builds get the
** serial version, which runs both halves on the caller, one after the other.
**
** vl_par2 runs fn(b) on a second thread and fn(a) on the caller, then waits for the second: the
** two calls must write disjoint memory and read nothing the other writes. A caller that combines
** their outputs by an order-free operation (the engine adds two LtHash accumulators, lane-wise mod
** 2^16) gets the same bytes whatever the schedule, and the same bytes as the serial version; if
** the thread cannot be started, fn(b) runs on the caller after fn(a), with the same result.
*/
#include "vl_int.h"

#if defined(VALORI_THREADS) && !defined(VALORI_FREESTANDING)
#include <pthread.h>

typedef struct vl_par_job {
  void (*fn)(void *);
  void *arg;
} vl_par_job;

static void *vl_par_main(void *p) {
  vl_par_job *j = (vl_par_job *)p;
  j->fn(j->arg);
  return NULL;
}

int vl_par_available(void) { return 1; }

void vl_par2(void (*fn)(void *), void *a, void *b) {
  pthread_t t;
  vl_par_job j;
  j.fn = fn;
  j.arg = b;
  if (pthread_create(&t, NULL, vl_par_main, &j) != 0) { /* no thread: the same work, serially */
    fn(a);
    fn(b);
    return;
  }
  fn(a);
  (void)pthread_join(t, NULL); /* the join orders every write of fn(b) before the caller's reads */
}
#else
int vl_par_available(void) { return 0; }

void vl_par2(void (*fn)(void *), void *a, void *b) {
  fn(a);
  fn(b);
}
#endif
