/*
** cpu.h: run-time CPU feature detection, in one place for every kernel that has a faster version
** for some CPUs (dist.c: AVX2 / AVX-512F / AVX-512BW distances; fixed.c: AVX2 conversion; lthash.c: AVX2 / AVX-512F fold;
** sha256.c: SHA-NI compression). Each fast kernel computes exactly its scalar reference's result,
** so what this reports changes speed, never state, roots or results.
**
** VL_CPU_DISPATCH is defined where kernels may be compiled for instruction sets the build does not
** assume (x86 with GCC or Clang: `target` attributes) and chosen at run time; VL_CPU_SHA_DISPATCH
** where the SHA extensions can be tested too (GCC 11 or later; clang 14's __builtin_cpu_supports
** has no "sha"). VALORI_NO_SIMD turns both off, as it does every SIMD kernel: a freestanding x86
** build without libgcc's CPU detection, and the identity suite's scalar-only target.
** VALORI_NO_CPU_DISPATCH turns off every run-time kernel choice (AVX2 / AVX-512 distances and
** LtHash fold, AVX2 conversion, SHA-NI): an x86 build then runs its baseline SSE2 kernels on any
** CPU (bench/run.sh builds search_probe so, to compare the native core at WebAssembly's 128-bit
** SIMD width with the wasm core on the same machine).
**
** The tests are inline: __builtin_cpu_supports reads a word that libgcc fills once at start-up,
** so a test costs a load and a bit test, cheap enough for the distance kernels, which test on
** every call, and nothing here writes global state.
*/
#ifndef VL_CPU_H
#define VL_CPU_H

#if !defined(VALORI_NO_SIMD) && !defined(VALORI_NO_CPU_DISPATCH) && (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define VL_CPU_DISPATCH 1
static inline int vl_cpu_avx2(void) { return __builtin_cpu_supports("avx2") != 0; }
static inline int vl_cpu_avx512f(void) { return __builtin_cpu_supports("avx512f") != 0; }
/* AVX-512BW (512-bit 16-bit multiply-adds, the whole-valued distance kernels) implies AVX-512F. */
static inline int vl_cpu_avx512bw(void) { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"); }
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#define VL_CPU_SHA_DISPATCH 1
/* The SHA extensions and what the SHA-NI kernel also uses (SSE4.1 blends, SSSE3 shuffles). */
static inline int vl_cpu_sha_ni(void) {
  return __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("ssse3");
}
#endif
#endif

#endif /* VL_CPU_H */
