#!/usr/bin/env bash
# bench/run.sh: builds the benchmark drivers, runs them, and writes the report.
#
#   bench/run.sh --quick   seconds: 5k base vectors, 200 queries, two ef values, every measurement
#                          once on a small scale. Writes only bench/out/ (results-quick.jsonl,
#                          REPORT-quick.md, *.png). This is what the test suite runs.
#   bench/run.sh --full    the real benchmark: 60k x 784 Fashion-MNIST, 10k queries, four dataset
#                          variants. Writes bench/REPORT.md, bench/plots/*.png and
#                          bench/results-full.jsonl (committed), plus bench/out/ (not committed).
# Options: --no-build (use the existing build), --build-dir DIR (default build-bench/),
#          --bin DIR (use the drivers already built in DIR, e.g. <build>/bench; implies --no-build;
#          this is how ctest runs the quick mode against the project's own build).
# Environment: BENCH_REQUIRE_VALORI=1 makes a missing Valori driver an error instead of a skip.
#
# The build is a Release CMake build. When the top-level CMakeLists.txt includes bench/ (the normal
# case), it builds the repository's own project, so valori_bench links the real valori_core. Until
# then it builds bench/ alone through a generated wrapper project, and the Valori driver is skipped
# with a message. Once valori_bench exists, any failure of any driver stops the run with a nonzero
# exit status. Progress goes to stderr; results are JSON lines (see bench/common.h).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MODE=quick
DO_BUILD=1
BUILD="$ROOT/build-bench"
BIN_OVERRIDE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) MODE=quick ;;
    --full) MODE=full ;;
    --no-build) DO_BUILD=0 ;;
    --build-dir) BUILD="$2"; shift ;;
    --bin) BIN_OVERRIDE="$2"; DO_BUILD=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

PY=/usr/bin/python3 # Debian's python, which has numpy/matplotlib (a pyenv python3 may not)
OUT="$ROOT/bench/out"
JSONL="$OUT/results-$MODE.jsonl"
T0=$(date +%s)
say() { echo "[bench $(( $(date +%s) - T0 ))s] $*" >&2; }
die() { echo "[bench] ERROR: $*" >&2; exit 1; }

[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
  die "Fashion-MNIST missing: install dataset-fashion-mnist (scripts/setup.sh)"
mkdir -p "$OUT" "$ROOT/bench/data"

# ---- build
if [ -n "$BIN_OVERRIDE" ]; then
  say "using the drivers in $BIN_OVERRIDE (no build)"
else
  SRC="$ROOT"
  EXTRA=(-DVALORI_BUILD_TESTS=OFF)
  say "building the project's bench targets into $BUILD"
fi
GEN=()
if command -v ninja >/dev/null && [ ! -f "$BUILD/Makefile" ]; then GEN=(-G Ninja); fi
if [ "$DO_BUILD" = 1 ]; then
  cmake -S "$SRC" -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release "${EXTRA[@]}" >"$OUT/cmake-$MODE.log" 2>&1 ||
    { cat "$OUT/cmake-$MODE.log" >&2; die "cmake configure failed"; }
  TARGETS=(bench_prepare kernel_bench kernel_bench_native)
  HELP="$(cmake --build "$BUILD" --target help 2>/dev/null || true)"
  has_target() { grep -Eq "(^|[. ])$1(:|$)" <<<"$HELP"; }
  has_target hnswlib_bench && TARGETS+=(hnswlib_bench)
  has_target valori_bench && TARGETS+=(valori_bench)
  say "building: ${TARGETS[*]}"
  cmake --build "$BUILD" --target "${TARGETS[@]}" -j 2 >&2 || die "build failed"
fi
BIN="${BIN_OVERRIDE:-$BUILD/bench}"
[ -x "$BIN/bench_prepare" ] || die "no drivers in $BIN (run without --no-build)"

HAVE_VALORI=0
if [ -x "$BIN/valori_bench" ]; then
  HAVE_VALORI=1
elif [ "${BENCH_REQUIRE_VALORI:-0}" = 1 ]; then
  die "valori_bench was not built (valori_core missing from this build) and BENCH_REQUIRE_VALORI=1"
else
  say "SKIPPING the Valori driver: valori_bench was not built (valori_core is not part of this build yet)"
fi
[ -x "$BIN/hnswlib_bench" ] || die "hnswlib_bench was not built: install libhnswlib-dev (scripts/setup.sh)"

# ---- run
: >"$JSONL"
loadavg() { cut -d' ' -f1 /proc/loadavg; }
run_driver() { # name, args...: runs one driver, appending its JSON lines plus one "load" line
  local name="$1"; shift
  local l0 t0 rc=0
  l0=$(loadavg); t0=$(date +%s)
  say "running $name $* (load average $l0)"
  "$BIN/$name" "$@" >>"$JSONL" || rc=$?
  [ "$rc" = 0 ] || die "$name $* failed (exit $rc)"
  printf '{"engine":"env","kind":"load","driver":"%s","args":"%s","load_before":%s,"load_after":%s,"wall_s":%s,"ncpu":%s}\n' \
    "$name" "$*" "$l0" "$(loadavg)" "$(( $(date +%s) - t0 ))" "$(nproc)" >>"$JSONL"
}
run_valori() { # args...: the Valori driver when it was built
  if [ "$HAVE_VALORI" = 1 ]; then run_driver valori_bench "$@"; fi
}

if [ "$MODE" = quick ]; then
  COMMON=(--mode quick --n 5000 --nq 200 --ef 10,40 --filter-ef 40 --filter-nq 200 --exact-nq 100
          --ingest-n 1000 --runs 3)
  run_driver bench_prepare --dataset fmnist-l2 "${COMMON[@]}"
  run_driver hnswlib_bench --dataset fmnist-l2 "${COMMON[@]}"
  run_valori --dataset fmnist-l2 "${COMMON[@]}"
  # The inner-product path, small.
  IPQ=(--mode quick --n 2000 --nq 100 --ef 40 --runs 1 --tests search,exact --exact-nq 50)
  run_driver bench_prepare --dataset fmnist-ip "${IPQ[@]}" --sel 0.5 --filter-nq 10
  run_driver hnswlib_bench --dataset fmnist-ip "${IPQ[@]}"
  run_valori --dataset fmnist-ip "${IPQ[@]}"
  run_driver kernel_bench --mode quick --runs 1
  run_driver kernel_bench_native --mode quick --runs 1
  # Ingestion and snapshots on 128-d data, small: raw append (index-less) vs HNSW by batch size,
  # durable batches and single inserts with fsync in a temporary store directory.
  run_valori --dataset fmnist-p128-l2 --mode quick --n 2000 --nq 50 --tests append,durable,snapshot \
    --ingest-n 2000 --durable-single-n 10 --runs 1
else
  FULL=(--mode full --runs 3)
  for ds in fmnist-l2 fmnist-pm1-l2 fmnist-ip fmnist-p128-l2; do
    run_driver bench_prepare --dataset "$ds" "${FULL[@]}"
  done
  # Everything on the reference set; recall/QPS, exact and filters on the variants.
  run_driver hnswlib_bench --dataset fmnist-l2 "${FULL[@]}"
  run_valori --dataset fmnist-l2 "${FULL[@]}"
  for ds in fmnist-pm1-l2 fmnist-ip fmnist-p128-l2; do
    run_driver hnswlib_bench --dataset "$ds" "${FULL[@]}" --tests search,exact,filter
    run_valori --dataset "$ds" "${FULL[@]}" --tests search,exact,filter
  done
  for kb in kernel_bench kernel_bench_native; do
    run_driver "$kb" --dataset fmnist-l2 "${FULL[@]}"
    run_driver "$kb" --dataset fmnist-p128-l2 "${FULL[@]}"
  done
  # Ingestion and snapshots for 50k x 128-d (issue 6 items 5 and 6): raw append into an index-less
  # store vs HNSW ingestion at batch sizes 1/1000/10000, durable ingestion with fsync (batches of
  # 1000, and 300 single inserts) in a temporary store directory, in-memory and store snapshots.
  run_valori --dataset fmnist-p128-l2 --n 50000 --nq 100 "${FULL[@]}" --tests append,durable,snapshot \
    --ingest-n 50000 --durable-single-n 300
fi
say "$(wc -l <"$JSONL") result lines in $JSONL"

# ---- report
if [ "$MODE" = quick ]; then
  "$PY" "$ROOT/bench/report.py" --mode quick --results "$JSONL" --report "$OUT/REPORT-quick.md" \
    --plots "$OUT" || die "report.py failed"
else
  cp "$JSONL" "$ROOT/bench/results-full.jsonl"
  mkdir -p "$ROOT/bench/plots"
  "$PY" "$ROOT/bench/report.py" --mode full --results "$JSONL" --report "$ROOT/bench/REPORT.md" \
    --plots "$ROOT/bench/plots" || die "report.py failed"
fi
say "done ($MODE)"
