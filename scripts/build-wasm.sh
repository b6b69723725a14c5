#!/usr/bin/env bash
# Builds the WebAssembly core into build-wasm/valori.mjs + build-wasm/valori.wasm (see wasm/CMakeLists.txt)
# and copies the pair into the npm package, js/dist/ (git-ignored), which is where the package loads it
# from (js/src/module.js; `npm pack` in js/ ships it). Incremental (about 2 s when nothing changed), so
# `npm test` always runs it: a stale .wasm can never be tested. Quiet on success; prints the build log
# on failure. BUILD_DIR overrides the build folder; the copy into js/dist/ is made only from the default
# one (or into DIST_DIR when that is set), so a variant build never replaces the package's wasm.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build-wasm}"
if [ -n "${DIST_DIR:-}" ]; then DIST="$DIST_DIR"; elif [ "$BUILD_DIR" = build-wasm ]; then DIST=js/dist; else DIST=""; fi
export NODE_PATH=/usr/share/nodejs   # Debian's emcc needs acorn from Debian's node modules
if ! command -v emcmake >/dev/null; then
  if [ -f "$BUILD_DIR/valori.wasm" ] && [ -f "$BUILD_DIR/valori.mjs" ]; then
    echo "build-wasm: emcmake not found; using the existing $BUILD_DIR/valori.{mjs,wasm}" >&2
    if [ -n "$DIST" ]; then mkdir -p "$DIST" && cp -p "$BUILD_DIR/valori.mjs" "$BUILD_DIR/valori.wasm" "$DIST/"; fi
    exit 0
  fi
  echo "build-wasm: emcmake not found (scripts/setup.sh installs emscripten)" >&2
  exit 1
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { emcmake cmake -S wasm -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build "$BUILD_DIR"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "build-wasm: FAILED" >&2
  exit 1
fi
# The root package.json says "type":"module"; nothing in the build folder is CommonJS, but say so
# explicitly for any tool that runs files from it.
echo '{"type":"module"}' > "$BUILD_DIR/package.json"
# The npm package's copy (js/dist/): replaced only when the build changed, so its mtime is stable.
if [ -n "$DIST" ]; then
  mkdir -p "$DIST"
  for f in valori.mjs valori.wasm; do
    cmp -s "$BUILD_DIR/$f" "$DIST/$f" || cp -p "$BUILD_DIR/$f" "$DIST/$f"
  done
fi
