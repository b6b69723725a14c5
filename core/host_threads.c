/*
** host_threads.c: the one place in core/ that may start a thread (like host_libc.c for the heap).
** It is compiled with threads only where the build defines VALORI_THREADS (native CMake builds on
** hosts with POSIX threads, see CMakeLists.txt); WebAssembly and freestanding builds get the
** serial version, which runs both halves on the caller, one after the other.
**
** A vl_par is one persistent worker thread (one per engine opened with threads on). It is started
** by the first vl_par2 or vl_par_async that uses it and joined by vl_par_free. vl_par2 hands fn(b) to the worker,
** runs fn(a) on the caller, then waits until the worker has finished fn(b): the two calls must write
** disjoint memory and read nothing the other writes. A caller that combines their outputs by an
** order-free operation (the engine adds two LtHash accumulators, lane-wise mod 2^16) gets the same
** bytes whatever the schedule, and the same bytes as the serial version. Whenever the worker
** cannot take the job (it could not be started, or another caller is using it at that moment),
** fn(b) runs on the caller after fn(a), with the same result.
**
** The handoff: the caller publishes the job and bumps a sequence number (release), the worker
** publishes completion by copying it to `done` (release); each side reads the other's counter with
** acquire, so every write of fn(b) is visible to the caller after the wait, and every write the
** caller made before the handoff is visible to fn(b). A side that finds nothing to do polls the
** other's counter a few times (VL_PAR_SPIN: it catches a half that is just finishing), then keeps
** polling with sched_yield between polls for up to VL_PAR_YIELD_NS, then sleeps on a condition
** variable, so an idle worker burns no CPU. Pure spinning was measured to cost more than it saves
** on a machine with more runnable threads than cores: the spinner holds the core the other side
** needs (one handoff of a short job took 4-5 us with 0 or 32 polls, 11-26 us with 256, against
** 10-140 us for starting a thread per call, on a loaded 2-core machine); yielding hands that core
** over. Going to sleep at once cost the other side a futex wake-up per handoff, three per raw-append
** batch (measure with `valori_bench --tests append`, "threads":2). The
** sleeping flags are read and written under the mutex, so a wake-up cannot be lost: a side sets
** its flag and re-checks the counter under the mutex before waiting, and the other side changes
** the counter before taking the mutex to look at the flag.
**
** An async job (vl_par_async) is a handoff whose caller returns at once and waits later
** (vl_par_wait; or vl_par_await for readers, which only reads the counters and, past the spin and
** yield budget, naps 20 us between reads instead of sleeping on the condition variable, whose
** flag is the owner's). The worker counts it like any job.
**
** fork: a child process has no copy of the worker thread. vl_par2 and vl_par_free compare the
** process id the worker was started in with getpid() (an unfinished async job is run in the child
** by whoever waits for it): in a child, vl_par2 starts afresh (new
** mutex, condition variables and counters, a new thread), and vl_par_free does not join a thread
** that is not there (tests/unit/test_threads.c, test_fork).
*/
#define _POSIX_C_SOURCE 200809L /* clock_gettime, sched_yield */
#include "vl_int.h"

#if defined(VALORI_THREADS) && !defined(VALORI_FREESTANDING)
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

/* A side that waits first polls VL_PAR_SPIN times, then yields its core (sched_yield) between polls
** until VL_PAR_YIELD_NS have passed since it began waiting, then sleeps on its condition variable. */
#define VL_PAR_SPIN 32
#define VL_PAR_YIELD_NS 50000

#if defined(__x86_64__) || defined(__i386__)
#define VL_CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define VL_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define VL_CPU_RELAX() ((void)0)
#endif

/* Monotonic nanoseconds; -1 when the clock cannot be read (the yield budget then counts as spent). */
static int64_t mono_ns(void) {
  struct timespec t;
  if (clock_gettime(CLOCK_MONOTONIC, &t) != 0) return -1;
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Waits without sleeping until *c != v (ne) or *c == v (!ne), within the spin and yield budget;
** returns the last value read (acquire). */
static unsigned spin_wait(atomic_uint *c, unsigned v, int ne) {
  unsigned x = atomic_load_explicit(c, memory_order_acquire);
  int64_t t0;
  int i;
  for (i = 0; i < VL_PAR_SPIN && (x == v) == ne; i++) {
    VL_CPU_RELAX();
    x = atomic_load_explicit(c, memory_order_acquire);
  }
  if ((x == v) != ne) return x;
  t0 = mono_ns();
  if (t0 < 0) return x;
  for (;;) {
    int64_t t;
    (void)sched_yield();
    x = atomic_load_explicit(c, memory_order_acquire);
    if ((x == v) != ne) break;
    t = mono_ns();
    if (t < 0 || t - t0 >= VL_PAR_YIELD_NS) break;
  }
  return x;
}

struct vl_par {
  const valori_allocator *a;
  pthread_mutex_t mu;
  pthread_cond_t job_cv, done_cv;
  atomic_uint seq;  /* jobs handed over (caller writes) */
  atomic_uint done; /* jobs finished (worker writes) */
  atomic_int busy;  /* 1 while a caller owns the worker (vl_par2 from two threads at once, an async job) */
  unsigned async;   /* the sequence number of the async job the owner has not waited for, else 0 */
  atomic_int rerun; /* in a forked child: 1 once a thread has claimed running the async job itself */
  void (*fn)(void *);
  void *arg;
  int worker_sleeps, caller_sleeps, quit; /* under mu */
  int started;                            /* the thread runs (only the owning caller and free) */
  pid_t pid;                              /* the process that started it */
  pthread_t t;
};

static void *vl_par_main(void *p) {
  vl_par *w = (vl_par *)p;
  unsigned last = 0;
  for (;;) {
    unsigned s;
    int quit = 0;
    s = spin_wait(&w->seq, last, 1);
    if (s == last) {
      pthread_mutex_lock(&w->mu);
      w->worker_sleeps = 1;
      while ((s = atomic_load_explicit(&w->seq, memory_order_acquire)) == last && !w->quit)
        pthread_cond_wait(&w->job_cv, &w->mu);
      w->worker_sleeps = 0;
      quit = w->quit;
      pthread_mutex_unlock(&w->mu);
      if (s == last && quit) return NULL;
    }
    last = s;
    w->fn(w->arg);
    atomic_store_explicit(&w->done, s, memory_order_release);
    pthread_mutex_lock(&w->mu);
    if (w->caller_sleeps) pthread_cond_signal(&w->done_cv);
    pthread_mutex_unlock(&w->mu);
  }
}

int vl_par_available(void) { return 1; }

/* (Re)initializes the handoff state; with started 0 the next vl_par2 starts a thread. */
static int par_init(vl_par *w) {
  if (pthread_mutex_init(&w->mu, NULL)) return VALORI_ENOMEM;
  if (pthread_cond_init(&w->job_cv, NULL)) {
    pthread_mutex_destroy(&w->mu);
    return VALORI_ENOMEM;
  }
  if (pthread_cond_init(&w->done_cv, NULL)) {
    pthread_cond_destroy(&w->job_cv);
    pthread_mutex_destroy(&w->mu);
    return VALORI_ENOMEM;
  }
  atomic_init(&w->seq, 0u);
  atomic_init(&w->done, 0u);
  w->worker_sleeps = w->caller_sleeps = w->quit = 0;
  w->started = 0;
  w->async = 0;
  atomic_init(&w->rerun, 0);
  return VALORI_OK;
}
int vl_par_new(const valori_allocator *a, vl_par **out) {
  vl_par *w = (vl_par *)vl_alloc(a, sizeof *w);
  *out = NULL;
  if (!w) return VALORI_ENOMEM;
  memset(w, 0, sizeof *w);
  w->a = a;
  if (par_init(w) != VALORI_OK) {
    vl_free(a, w, sizeof *w);
    return VALORI_ENOMEM;
  }
  atomic_init(&w->busy, 0);
  *out = w;
  return VALORI_OK;
}

void vl_par_free(vl_par *w) {
  if (!w) return;
  vl_par_wait(w);
  if (w->started && w->pid == getpid()) { /* (a forked child has no worker to join) */
    pthread_mutex_lock(&w->mu);
    w->quit = 1;
    pthread_cond_signal(&w->job_cv);
    pthread_mutex_unlock(&w->mu);
    (void)pthread_join(w->t, NULL);
  }
  pthread_cond_destroy(&w->done_cv);
  pthread_cond_destroy(&w->job_cv);
  pthread_mutex_destroy(&w->mu);
  vl_free(w->a, w, sizeof *w);
}

/* Takes the worker and hands it fn(b): returns the job's sequence number, or 0 when the worker
** cannot take it (no worker, another caller has it, no thread could be started), and then the
** caller is to run fn(b) itself. */
static unsigned handoff(vl_par *w, void (*fn)(void *), void *b) {
  unsigned s;
  int expect = 0;
  if (!w || !atomic_compare_exchange_strong_explicit(&w->busy, &expect, 1, memory_order_acquire,
                                                     memory_order_relaxed))
    return 0;
  if (w->started && w->pid != getpid() && par_init(w) != VALORI_OK) { /* a forked child: start afresh */
    atomic_store_explicit(&w->busy, 0, memory_order_release);
    return 0;
  }
  if (!w->started) {
    if (pthread_create(&w->t, NULL, vl_par_main, w) != 0) { /* no thread (this time): serially */
      atomic_store_explicit(&w->busy, 0, memory_order_release);
      return 0;
    }
    w->started = 1;
    w->pid = getpid();
  }
  w->fn = fn;
  w->arg = b;
  s = atomic_load_explicit(&w->seq, memory_order_relaxed) + 1u;
  if (s == 0) s = 1; /* 0 means "no job" to the callers; the worker only compares for a change */
  atomic_store_explicit(&w->seq, s, memory_order_release);
  pthread_mutex_lock(&w->mu);
  if (w->worker_sleeps) pthread_cond_signal(&w->job_cv);
  pthread_mutex_unlock(&w->mu);
  return s;
}

/* Waits until the worker has finished job s (the acquire of `done` orders every write of the job
** before the caller's reads), then gives the worker back. */
static void finish(vl_par *w, unsigned s) {
  if (spin_wait(&w->done, s, 0) != s) {
    pthread_mutex_lock(&w->mu);
    w->caller_sleeps = 1;
    while (atomic_load_explicit(&w->done, memory_order_acquire) != s) pthread_cond_wait(&w->done_cv, &w->mu);
    w->caller_sleeps = 0;
    pthread_mutex_unlock(&w->mu);
  }
  atomic_store_explicit(&w->busy, 0, memory_order_release);
}

void vl_par2(vl_par *w, void (*fn)(void *), void *a, void *b) {
  unsigned s = handoff(w, fn, b); /* (0 while an async job holds the worker) */
  fn(a);
  if (s) finish(w, s);
  else fn(b); /* no worker, or another caller has it: the same work, serially */
}

void vl_par_async(vl_par *w, void (*fn)(void *), void *arg) {
  unsigned s;
  vl_par_wait(w);
  s = handoff(w, fn, arg);
  if (s) w->async = s;
  else fn(arg);
}

/* In a forked child the worker that had the async job is gone: the job is run by the first thread
** of the child that waits for it (its inputs are the caller's and intact; a copy of a half-written
** output is overwritten), claimed by a compare-and-swap so that concurrent readers of the child
** do not both run it; the others wait for its `done`. */
static int forked_async(vl_par *w) {
  int expect = 0;
  if (w->pid == getpid()) return 0;
  if (atomic_load_explicit(&w->done, memory_order_acquire) == w->async) return 1;
  if (atomic_compare_exchange_strong_explicit(&w->rerun, &expect, 1, memory_order_acq_rel, memory_order_acquire)) {
    w->fn(w->arg);
    atomic_store_explicit(&w->done, w->async, memory_order_release);
  } else {
    while (atomic_load_explicit(&w->done, memory_order_acquire) != w->async) (void)sched_yield();
  }
  return 1;
}

void vl_par_wait(vl_par *w) {
  if (!w || !w->async) return;
  if (forked_async(w)) atomic_store_explicit(&w->busy, 0, memory_order_release);
  else finish(w, w->async);
  w->async = 0;
}

int vl_par_running(const vl_par *w) {
  return w && w->async && atomic_load_explicit(&((vl_par *)w)->done, memory_order_acquire) != w->async;
}

void vl_par_await(const vl_par *w) {
  vl_par *m = (vl_par *)w; /* only read: atomics and the owner's `async` (stable while readers run) */
  struct timespec nap;
  if (!w || !w->async || forked_async(m)) return; /* (a forked child has one thread: it may run it) */
  if (spin_wait(&m->done, w->async, 0) == w->async) return;
  nap.tv_sec = 0;
  nap.tv_nsec = 20000;
  while (atomic_load_explicit(&m->done, memory_order_acquire) != w->async) (void)nanosleep(&nap, NULL);
}
#else
struct vl_par {
  const valori_allocator *a;
};

int vl_par_available(void) { return 0; }

int vl_par_new(const valori_allocator *a, vl_par **out) {
  vl_par *w = (vl_par *)vl_alloc(a, sizeof *w);
  *out = w;
  if (!w) return VALORI_ENOMEM;
  w->a = a;
  return VALORI_OK;
}

void vl_par_free(vl_par *w) {
  if (w) vl_free(w->a, w, sizeof *w);
}

void vl_par2(vl_par *w, void (*fn)(void *), void *a, void *b) {
  (void)w;
  fn(a);
  fn(b);
}

void vl_par_async(vl_par *w, void (*fn)(void *), void *arg) {
  (void)w;
  fn(arg);
}
void vl_par_wait(vl_par *w) { (void)w; }
int vl_par_running(const vl_par *w) { (void)w; return 0; }
void vl_par_await(const vl_par *w) { (void)w; }
#endif
