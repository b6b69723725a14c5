#!/usr/bin/env bash
# Runs every Valori test on this machine, installing what it needs first (scripts/setup.sh).
# This is the command the README gives and .ci/run calls. Steps:
#   1. native build in build/ + ctest (unit, property, golden, store, crash, fuzz-corpus replay, the
#      valori command, install + C example); scripts/demo.sh builds build-release/ instead
#   2. the same tests under AddressSanitizer + UndefinedBehaviorSanitizer (clang)
#   3. the cross-target bit-identity matrix, in memory and through durable stores (scripts/identity.sh)
#   4. the npm package in Node and headless Chromium, and the demo page (tests/demo) (npm test)
#   5. the Python SDK under pytest, embedded and against a live server (tests/python)
#   6. the quick benchmark, so the benchmark code cannot rot (bench/run.sh --quick)
# Exits non-zero on the first failing step. VALORI_TEST_ONLY="native sanitize ..." runs a subset.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
only="${VALORI_TEST_ONLY:-native sanitize identity npm python bench}"
want() { case " $only " in *" $1 "*) return 0;; *) return 1;; esac; }
step() { printf '\n=== %s ===\n' "$*"; }

step "setup"
bash scripts/setup.sh

if want native; then
  step "native build and tests (gcc, RelWithDebInfo)"
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j "$JOBS"
  ctest --test-dir build --output-on-failure -j "$JOBS" -LE long
fi

if want sanitize; then
  step "native tests under ASan + UBSan (clang)"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DVALORI_SANITIZE=ON >/dev/null
  cmake --build build-asan -j "$JOBS"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$JOBS" -LE "long|nosan"
fi

if want identity && [ -x scripts/identity.sh ]; then
  step "cross-target bit identity"
  bash scripts/identity.sh
fi

if want npm && [ -f package.json ]; then
  step "npm package (Node and Chromium)"
  npm test
fi

if want python; then
  step "Python SDK: pytest, embedded and remote (tests/python)"
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j "$JOBS"               # libvalori.so, valori serve, the C cross-host program
  bash scripts/build-wasm.sh                    # the cross-host test runs the npm package too
  PY=""; for p in /usr/bin/python3 python3; do "$p" -c 'import pytest' 2>/dev/null && { PY=$(command -v "$p"); break; }; done
  [ -n "$PY" ] || { echo "no python3 with pytest (scripts/setup.sh installs python3-pytest)"; exit 1; }
  echo "python: $PY, $("$PY" --version 2>&1) (the first python3 on PATH may lack pytest and NumPy)"
  "$PY" -m pytest -q -p no:cacheprovider tests/python
fi

if want bench && [ -x bench/run.sh ]; then
  step "quick benchmark"
  bash bench/run.sh --quick
fi

step "all tests passed"
