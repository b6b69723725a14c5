#!/usr/bin/env bash
# identity.sh: proves "the same events give the same bits everywhere" (tests/identity/README.md).
#
# Builds the seeded identity workload runner for every target into build-id-<target>/, runs it, and
# compares every checkpoint (state root, HNSW index digest, snapshot hash, search/expand results and
# result codes, after every 1,000 events and at the end) with the golden transcripts committed in
# tests/golden/. Every native target (gcc, clang, aarch64, armhf, i686) runs twice: in memory, and as
# "<target>+store" writing the same workload into a durable store through the POSIX VFS, reopened
# and compared at every checkpoint, after a 64-bit file-offset check (wasm and Cortex-M stay in
# memory). Prints a line as each target finishes, each mismatch (target, configuration, height,
# component), a final table, and exits non-zero on any mismatch. Finally it proves the suite can
# fail: a scratch copy of the core with one rounding rule flipped (round half up instead of half to
# even, core/fixed.c) must be caught.
#
# Usage: scripts/identity.sh [options]
#   --targets a,b,...   only these targets (default: all; see TARGETS below)
#   --configs a,b,...   only these golden configurations (default: all: seed1..seed5)
#   --cortex-m-configs  golden configurations for the Cortex-M run (default: seed1; "all" = every one)
#   --full              every configuration on every target, Cortex-M included (slower)
#   --no-store          skip the durable-store runs (<target>+store)
#   --plant             only the planted-difference check
#   --no-plant          skip the planted-difference check
#   --bless             rewrite tests/golden/ from the gcc-O3 target, then check every target against it
#   -j N                parallel jobs (default: number of CPUs)
# Environment: CHROMIUM (default /usr/bin/chromium).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export NODE_PATH=/usr/share/nodejs # emcc 3.1.6 (Debian) needs Debian's acorn

ALL_TARGETS="gcc-O0 gcc-O3 gcc-O3-nosimd clang-O0 clang-O3 aarch64 armhf i686 wasm-node wasm-node-nosimd wasm-chromium cortex-m"
ALL_CONFIGS=$(ls tests/golden/identity-*.txt 2>/dev/null | sed 's|.*/identity-||; s|\.txt$||' | sort | xargs)
[ -n "$ALL_CONFIGS" ] || ALL_CONFIGS="seed1 seed2 seed3 seed4 seed5"
TARGETS=$ALL_TARGETS
CONFIGS=$ALL_CONFIGS
CM_CONFIGS="seed1"
PLANT=1
STORE=1
ONLY_PLANT=0
BLESS=0
JOBS=$(nproc 2>/dev/null || echo 2)
while [ $# -gt 0 ]; do
  case "$1" in
    --targets) TARGETS=$(echo "$2" | tr ',' ' '); shift ;;
    --configs) CONFIGS=$(echo "$2" | tr ',' ' '); CONFIGS_SET=1; shift ;;
    --cortex-m-configs) CM_CONFIGS=$(echo "$2" | tr ',' ' '); shift ;;
    --full) CM_CONFIGS=all ;;
    --plant) ONLY_PLANT=1 ;;
    --no-plant) PLANT=0 ;;
    --bless) BLESS=1 ;;
    -j) JOBS=$2; shift ;;
    --no-store) STORE=0 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "identity: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$CM_CONFIGS" = all ] && CM_CONFIGS=$CONFIGS
if [ "$ONLY_PLANT" = 1 ]; then TARGETS=""; PLANT=1; fi
if [ "$BLESS" = 1 ]; then
  case " $TARGETS " in *" gcc-O3 "*) ;; *) TARGETS="gcc-O3 $TARGETS" ;; esac
  # every configuration the runner knows (wl_golden_configs), unless --configs names some: a new
  # configuration gets its first golden this way
  [ "${CONFIGS_SET:-0}" = 1 ] || CONFIGS=$(grep -o '^ *{"seed[0-9]*"' tests/identity/workload.c | tr -d ' {"' | xargs)
fi

T0=$(date +%s.%N)
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# ---- prerequisites (scripts/setup.sh installs them all)
need() { command -v "$1" >/dev/null 2>&1 || { echo "identity: '$1' not found: run scripts/setup.sh" >&2; exit 2; }; }
need cmake; need ninja; need awk
for t in $TARGETS; do
  case $t in
    gcc-*) need gcc ;; clang-*) need clang ;;
    aarch64) need aarch64-linux-gnu-gcc; need qemu-aarch64 ;;
    armhf) need arm-linux-gnueabihf-gcc; need qemu-arm ;;
    i686) need i686-linux-gnu-gcc; need qemu-i386 ;;
    wasm-*) need emcc; need node ;;
    cortex-m) need arm-none-eabi-gcc; need qemu-system-arm ;;
    *) echo "identity: unknown target $t (known: $ALL_TARGETS)" >&2; exit 2 ;;
  esac
done
case " $TARGETS " in *" wasm-chromium "*) [ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "identity: chromium not found: run scripts/setup.sh" >&2; exit 2; } ;; esac

# ---- build + run one target (runs as a background job; everything goes to build-id-<t>/)
COMMON=(-G Ninja -DVALORI_BUILD_NATIVE=OFF -DVALORI_WITH_OPENSSL=OFF -DVALORI_BUILD_TESTS=ON -Wno-dev)
configure() { # dir, source, cmake args...
  local dir=$1 src=$2; shift 2
  if [ ! -f "$dir/build.ninja" ]; then cmake -S "$src" -B "$dir" "${COMMON[@]}" "$@" >"$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; return 1; }; fi
}
build_target() { # target, dir, source
  local t=$1 dir=$2 src=$3
  case $t in
    gcc-O0|plant-O0) configure "$dir" "$src" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-O0 -g" ;;
    gcc-O3) configure "$dir" "$src" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O3" ;;
    # The scalar reference paths of every SIMD kernel (distances, conversion, LtHash, SHA-256): the
    # other x86 targets run only the widest kernels this CPU has.
    gcc-O3-nosimd|plant) configure "$dir" "$src" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O3" -DCMAKE_C_FLAGS=-DVALORI_NO_SIMD ;;
    clang-O0) configure "$dir" "$src" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-O0 -g" ;;
    clang-O3) configure "$dir" "$src" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O3" ;;
    aarch64) configure "$dir" "$src" -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchains/aarch64-linux-gnu.cmake" -DCMAKE_BUILD_TYPE=Release ;;
    armhf) configure "$dir" "$src" -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchains/arm-linux-gnueabihf.cmake" -DCMAKE_BUILD_TYPE=Release ;;
    i686) configure "$dir" "$src" -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchains/i686-linux-gnu.cmake" -DCMAKE_BUILD_TYPE=Release ;;
    wasm) [ -f "$dir/build.ninja" ] || emcmake cmake -S "$src" -B "$dir" "${COMMON[@]}" -DCMAKE_BUILD_TYPE=Release >"$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; return 1; } ;;
    wasm-nosimd) [ -f "$dir/build.ninja" ] || emcmake cmake -S "$src" -B "$dir" "${COMMON[@]}" -DCMAKE_BUILD_TYPE=Release -DVALORI_WASM_SIMD=OFF >"$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; return 1; } ;;
    cortex-m) configure "$dir" "$src" -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchains/arm-none-eabi.cmake" -DCMAKE_BUILD_TYPE=Release ;;
  esac || return 1
  local tgt=identity_runner
  [ "$t" = cortex-m ] && tgt=identity_baremetal
  cmake --build "$dir" --target "$tgt" -- -j1 >"$dir/build-identity.log" 2>&1 || { tail -40 "$dir/build-identity.log"; return 1; }
}
run_target() { # target, dir, configs... (stdout: transcript)
  local t=$1 dir=$2; shift 2
  local bin=$dir/tests/identity/identity_runner
  case $t in # <target>+store: the same runner writing into build-id-results/<target>+store/store/
    *+store) set -- --store "$ROOT/build-id-results/$t/store" "$@"; t=${t%+store} ;;
  esac
  case $t in
    gcc-*|clang-*|plant*) "$bin" "$@" ;;
    aarch64) qemu-aarch64 -L /usr/aarch64-linux-gnu "$bin" "$@" ;;
    armhf) qemu-arm -L /usr/arm-linux-gnueabihf "$bin" "$@" ;;
    i686) qemu-i386 -L /usr/i686-linux-gnu "$bin" "$@" ;;
    wasm-node|wasm-node-nosimd) (cd "$dir/tests/identity" && node --no-experimental-fetch identity_runner.js "$@") ;;
    wasm-chromium) node tests/identity/chromium_run.mjs "$dir/tests/identity" "$(echo "$*" | tr ' ' ',')" ;;
    cortex-m) timeout 1800 qemu-system-arm -M mps3-an524 -display none -monitor none -serial none \
                -chardev stdio,id=sh0 -semihosting-config enable=on,target=native,chardev=sh0 \
                -kernel "$dir/tests/identity/identity_baremetal.elf" -append "$*" ;;
  esac
}
bdir() { case $1 in *+store) bdir "${1%+store}" ;; wasm-node-nosimd) echo build-id-wasm-nosimd ;; wasm-*) echo build-id-wasm ;; *) echo "build-id-$1" ;; esac; }
# The job whose build another job runs on (it starts once that build is done), or nothing.
dep() { case $1 in *+store) echo "${1%+store}" ;; wasm-chromium) case " $ALL_JOBS " in *" wasm-node "*) echo wasm-node ;; esac ;; esac; }
ready() { local d; d=$(dep "$1"); [ -z "$d" ] || [ -f "build-id-results/$d/built" ] || [ -f "build-id-results/$d/status" ]; }
job() { # target: build (once per build dir) and run; writes $out/{transcript.txt,status,times}
  local t=$1 dir out=build-id-results/$1 b0 b1 r1 cfgs rc=0
  dir=$(bdir "$t")
  mkdir -p "$out" "$dir"
  b0=$(now)
  if [ -n "$(dep "$t")" ]; then # runs on another job's build (started once it is done: ready)
    [ -f "build-id-results/$(dep "$t")/built" ] || { echo "build failed (see $(dep "$t"))" >"$out/status"; echo 0 0 >"$out/times"; progress "$t"; return; }
  elif ! build_target "$(case $t in wasm-node-nosimd) echo wasm-nosimd ;; wasm-*) echo wasm ;; *) echo "$t" ;; esac)" "$dir" "$ROOT" >"$out/build-errors.txt" 2>&1; then
    echo "build failed" >"$out/status"; echo 0 0 >"$out/times"; progress "$t"; return
  fi
  touch "$out/built"
  b1=$(now)
  cfgs=$CONFIGS
  [ "$t" = cortex-m ] && cfgs=$CM_CONFIGS
  run_target "$t" "$dir" $cfgs >"$out/transcript.txt" 2>"$out/stderr.txt" || rc=$?
  r1=$(now)
  echo "$(secs "$b0" "$b1") $(secs "$b1" "$r1")" >"$out/times"
  echo "$cfgs" >"$out/configs"
  echo "exit $rc" >"$out/status"
  progress "$t"
}
# One line as each job finishes: how far the matrix is, and this target's verdict.
progress() { # target
  local t=$1 out=build-id-results/$1 verdict done_n bt rt
  if compare_target "$t" >/dev/null 2>&1; then verdict="identical"; else verdict="MISMATCH ($(cat "$out/cells" 2>/dev/null | tr ' ' '\n' | grep -v '^identical$' | sort -u | head -3 | xargs)): details at the end"; fi
  done_n=$(ls build-id-results/*/status 2>/dev/null | wc -l)
  read -r bt rt <"$out/times" 2>/dev/null || { bt=0; rt=0; }
  echo "identity: [$done_n/$NJOBS] $t: build ${bt}s, run ${rt}s ($(wc -w <"$out/configs" 2>/dev/null || echo 0) configurations): $verdict"
}

# ---- compare one target's transcript with the goldens; prints mismatches, writes $out/cells
compare_target() { # target
  local t=$1 out=build-id-results/$1 c res cells=()
  local -A first=([root]=identical [digest]=identical [snapshot]=identical [results]=identical [other]=identical)
  if ! grep -q '^exit' "$out/status" 2>/dev/null; then
    echo "MISMATCH target=$t: $(cat "$out/status" 2>/dev/null || echo 'no result')"
    [ -s "$out/build-errors.txt" ] && sed 's/^/    /' "$out/build-errors.txt" | tail -20
    echo "BUILD-FAILED BUILD-FAILED BUILD-FAILED BUILD-FAILED BUILD-FAILED" >"$out/cells"
    return 1
  fi
  mkdir -p "$out/split"
  awk -v d="$out/split" '/^identity v1 config=/ { split($3, a, "="); f = d "/identity-" a[2] ".txt" } f { print > f } /^end config=/ { close(f); f = "" }' "$out/transcript.txt"
  local bad=0
  for c in $(cat "$out/configs"); do
    [ -f "$out/split/identity-$c.txt" ] || : >"$out/split/identity-$c.txt"
    res=$(awk -v target="$t" -v config="$c" -v store="$(case $t in *+store) echo 1 ;; *) echo 0 ;; esac)" \
          -f tests/identity/compare.awk "tests/golden/identity-$c.txt" "$out/split/identity-$c.txt")
    echo "$res" | grep '^MISMATCH' && bad=1
    for kv in $(echo "$res" | grep '^RESULT' | cut -d' ' -f2-); do
      local k=${kv%%=*} v=${kv#*=}
      [ "$v" != ok ] && [ "${first[$k]}" = identical ] && first[$k]="DIFF@$c:$v"
    done
  done
  if ! grep -q '^exit 0' "$out/status"; then
    echo "MISMATCH target=$t: runner $(cat "$out/status") (internal check failed or crashed); stderr:"; tail -5 "$out/stderr.txt" | sed 's/^/    /'
    [ "${first[other]}" = identical ] && first[other]="EXIT-$(cut -d' ' -f2 "$out/status")"
    bad=1
  fi
  echo "${first[root]} ${first[digest]} ${first[snapshot]} ${first[results]} ${first[other]}" >"$out/cells"
  return $bad
}

# Locates the first differing event of a mismatching hosted target by tracing both sides.
locate_event() { # target config
  local t=$1 c=$2 dir ref=build-id-gcc-O3/tests/identity/identity_runner
  dir=$(bdir "$t")
  case $t in wasm-chromium|cortex-m|*+store) return ;; esac
  [ -x "$ref" ] || return
  "$ref" --trace "$c" >"build-id-results/$t/trace-ref.txt" 2>/dev/null
  run_target "$t" "$dir" --trace "$c" >"build-id-results/$t/trace.txt" 2>/dev/null
  local d
  d=$(diff <(grep '^  e=' "build-id-results/$t/trace-ref.txt") <(grep '^  e=' "build-id-results/$t/trace.txt") | grep -m2 '^[<>]')
  [ -n "$d" ] && printf "    first differing event (gcc-O3 '<' vs %s '>'):\n%s\n" "$t" "$(echo "$d" | sed 's/^/      /')"
}

# ---- planted difference: a scratch core copy with round-half-up must be detected
plant_check() {
  local src=build-id-plant/src dir=build-id-plant/build out=build-id-results/plant p0
  p0=$(now)
  rm -rf "$src" && mkdir -p "$src" "$dir" "$out"
  cp -r CMakeLists.txt cmake core native tests examples "$src/"
  # The one rounding rule: ties (rem == half) round up instead of to even, in both scalar
  # conversions (the reference in fixed.c and the branch-free whole-vector one in fixed.h); the
  # scratch build has no SIMD (gcc-O3-nosimd flags), so every conversion runs one of the two.
  sed -i 's/if (rem > half || (rem == half \&\& (q \& 1u))) q++;/if (rem >= half) q++; \/* PLANTED: round half up *\//' "$src/core/fixed.c"
  sed -i 's/inc = ((uint32_t)(rem > half) | ((uint32_t)(rem == half) \& q)) \& 1u \& (uint32_t)(r != 0);/inc = (uint32_t)(rem >= half) \& (uint32_t)(r != 0); \/* PLANTED: round half up *\//' "$src/core/fixed.h"
  if ! grep -q 'PLANTED: round half up' "$src/core/fixed.c" || ! grep -q 'PLANTED: round half up' "$src/core/fixed.h"; then
    echo "PLANT: could not apply the planted change to core/fixed.[ch] (rounding code changed?)"; return 1
  fi
  build_target plant "$dir" "$ROOT/$src" >"$out/build-errors.txt" 2>&1 || { echo "PLANT: scratch build failed"; cat "$out/build-errors.txt"; return 1; }
  local rc=0 res
  run_target plant "$dir" seed1 >"$out/transcript.txt" 2>/dev/null || rc=$?
  res=$(awk -v target=plant -v config=seed1 -f tests/identity/compare.awk tests/golden/identity-seed1.txt <(sed -n '/^identity v1 config=seed1 /,/^end config=seed1 /p' "$out/transcript.txt"))
  PLANT_TIME=$(secs "$p0" "$(now)")
  if echo "$res" | grep '^MISMATCH' | grep -q 'component=other'; then
    echo "PLANT: INVALID: the scratch run differs outside the engine (generator stream or checks), so it proves nothing:"
    echo "$res" | grep '^MISMATCH' | sed 's/^/    /'
    return 1
  fi
  if echo "$res" | grep -q '^MISMATCH'; then
    echo "PLANT: DETECTED. A scratch core with round-half-up in fixed.c (gcc -O3, seed1) was caught:"
    echo "$res" | grep '^MISMATCH' | sed 's/^/    /'
    return 0
  fi
  echo "PLANT: NOT DETECTED: the planted rounding change produced golden-identical transcripts (runner exit $rc)"
  return 1
}

# ---- run the matrix (one run per checkout at a time: they share build-id-*/)
mkdir -p build-id-results
exec 9>build-id-results/.lock
if ! flock -n 9; then
  echo "identity: another scripts/identity.sh run is using this checkout; waiting for it"
  flock 9
fi
mkdir -p build-id-results
rm -rf build-id-results/* 2>/dev/null
echo "identity: targets: ${TARGETS:-none}; configurations: $CONFIGS; cortex-m: $CM_CONFIGS; jobs: $JOBS"
# longest first, so the slow emulated targets overlap the quick native ones; every native target
# also as <target>+store (the durable-store run on the same build)
ORDER=""
for t in i686 armhf cortex-m aarch64 wasm-node wasm-chromium wasm-node-nosimd gcc-O0 clang-O0 gcc-O3 gcc-O3-nosimd clang-O3; do
  case " $TARGETS " in *" $t "*) ORDER="$ORDER $t" ;; esac
  case $t in gcc-*|clang-*|aarch64|armhf|i686) [ "$STORE" = 1 ] && case " $TARGETS " in *" $t "*) ORDER="$ORDER $t+store" ;; esac ;; esac
done
ALL_JOBS=$(echo $ORDER)
NJOBS=$(echo $ORDER | wc -w)
if [ "$BLESS" = 1 ]; then # golden transcripts come from gcc -O3 first
  job gcc-O3
  mkdir -p tests/golden
  sed -n '1,$p' build-id-results/gcc-O3/transcript.txt | awk -v d=tests/golden '/^identity v1 config=/ { split($3, a, "="); f = d "/identity-" a[2] ".txt" } f { print > f } /^end config=/ { close(f); f = "" }'
  grep -q '^exit 0' build-id-results/gcc-O3/status || { echo "identity: --bless: the gcc-O3 run failed its internal checks"; exit 1; }
  echo "identity: --bless: wrote tests/golden/identity-{$(echo $CONFIGS | tr ' ' ',')}.txt from gcc-O3"
  ORDER=$(echo " $ORDER " | sed 's/ gcc-O3 / /')
fi
# start jobs as slots free up, each once the build it runs on is done (dep/ready)
pending=$ORDER
while [ -n "$(echo $pending)" ]; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
  next=""
  for t in $pending; do if ready "$t"; then next=$t; break; fi; done
  if [ -z "$next" ]; then sleep 0.5; continue; fi
  pending=$(echo " $pending " | sed "s/ $next / /")
  echo "identity: started $next"
  job "$next" &
done
wait

FAIL=0
for t in $ALL_JOBS; do
  if ! compare_target "$t"; then
    FAIL=1
    for c in $(cat "build-id-results/$t/configs" 2>/dev/null); do
      if grep -q "config=$c " <(compare_target "$t" 2>/dev/null | grep MISMATCH); then locate_event "$t" "$c"; break; fi
    done
  fi
done

# When targets fail, tell "every target changed the same way" (the goldens are stale or the change
# is intentional) apart from "targets disagree with each other" (a determinism bug).
if [ "$FAIL" = 1 ] && [ -n "$TARGETS" ]; then
  sums=""
  for t in $ALL_JOBS; do
    for c in $(cat "build-id-results/$t/configs" 2>/dev/null); do
      f=build-id-results/$t/split/identity-$c.txt
      [ -s "$f" ] && sums="$sums$c $(grep -v -e '^  e=' -e '^reopened ' -e '^store ' "$f" | sha256sum | cut -c1-16) $t"$'\n'
    done
  done
  variants=$(echo "$sums" | awk 'NF { print $1, $2 }' | sort -u | awk '{ n[$1]++ } END { for (c in n) if (n[c] > 1) print c }')
  if [ -z "$variants" ]; then
    echo "NOTE: every target produced the same transcripts, but they differ from tests/golden/: the core's"
    echo "      behaviour changed identically everywhere. If the change is intended, run scripts/identity.sh --bless"
    echo "      and commit the new goldens with it; otherwise it is a regression."
  else
    echo "NOTE: targets disagree with each other for: $variants (a determinism bug; transcripts grouped by hash):"
    echo "$sums" | awk 'NF' | sort | awk '{ k = $1 " " $2; g[k] = g[k] " " $3 } END { for (k in g) print "      " k ":" g[k] }' | sort
  fi
fi

PLANT_RESULT="skipped"
PLANT_TIME=0
if [ "$PLANT" = 1 ]; then
  if plant_check; then PLANT_RESULT="detected"; else PLANT_RESULT="NOT DETECTED"; FAIL=1; fi
fi

# ---- table
if [ -n "$TARGETS" ]; then
  echo
  printf "%-20s %-8s %-20s %-20s %-20s %-20s %-14s %s\n" target configs root digest snapshot results other "build/run s"
  for t in $ALL_JOBS; do
    read -r r d s x o <"build-id-results/$t/cells"
    printf "%-20s %-8s %-20s %-20s %-20s %-20s %-14s %s\n" "$t" "$(wc -w <"build-id-results/$t/configs" 2>/dev/null || echo 0)" "$r" "$d" "$s" "$x" "$o" \
      "$(tr ' ' '/' <"build-id-results/$t/times" 2>/dev/null)"
  done
fi
echo "planted difference (round half up in core/fixed.c): $PLANT_RESULT (${PLANT_TIME}s)"
echo "identity: total $(secs "$T0" "$(now)")s"
if [ "$FAIL" = 0 ]; then
  echo "identity: OK: every target reproduced the golden transcripts bit for bit"
else
  echo "identity: FAILED (see MISMATCH lines above)"
fi
exit $FAIL
