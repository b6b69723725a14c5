/*
** vt.h: the minimal test harness of the native unit tests. VT_CHECK records a failure and goes on;
** VT_REQUIRE stops the test function. main() returns non-zero when any check failed.
*/
#ifndef VT_H
#define VT_H
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int vt_failures = 0;
static int vt_checks = 0;

#define VT_CHECK(cond)                                                          \
  do {                                                                          \
    vt_checks++;                                                                \
    if (!(cond)) {                                                              \
      vt_failures++;                                                            \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
    }                                                                           \
  } while (0)
#define VT_REQUIRE(cond)                                                        \
  do {                                                                          \
    vt_checks++;                                                                \
    if (!(cond)) {                                                              \
      vt_failures++;                                                            \
      fprintf(stderr, "%s:%d: required: %s\n", __FILE__, __LINE__, #cond);      \
      return;                                                                   \
    }                                                                           \
  } while (0)
#define VT_EQ_INT(a, b)                                                                   \
  do {                                                                                    \
    long long vt_a_ = (long long)(a), vt_b_ = (long long)(b);                             \
    vt_checks++;                                                                          \
    if (vt_a_ != vt_b_) {                                                                 \
      vt_failures++;                                                                      \
      fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, \
              vt_a_, #b, vt_b_);                                                          \
    }                                                                                     \
  } while (0)
#define VT_RUN(fn)                                     \
  do {                                                 \
    int vt_before_ = vt_failures;                      \
    fn();                                              \
    printf("%-48s %s\n", #fn, vt_failures == vt_before_ ? "ok" : "FAILED"); \
  } while (0)
#define VT_DONE()                                                            \
  (printf("%d checks, %d failed\n", vt_checks, vt_failures), vt_failures ? 1 : 0)

/* Deterministic test RNG (splitmix64): tests are reproducible from their seed. */
static inline uint64_t vt_rand(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
#endif
