#!/usr/bin/env bash
# Builds the WebAssembly core into build-wasm/valori.mjs + build-wasm/valori.wasm (see wasm/CMakeLists.txt).
# Incremental (about 2 s when nothing changed), so `npm test` always runs it: a stale .wasm can never be
# tested. Quiet on success; prints the build log on failure. BUILD_DIR overrides the output folder.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build-wasm}"
export NODE_PATH=/usr/share/nodejs   # Debian's emcc needs acorn from Debian's node modules
if ! command -v emcmake >/dev/null; then
  if [ -f "$BUILD_DIR/valori.wasm" ] && [ -f "$BUILD_DIR/valori.mjs" ]; then
    echo "build-wasm: emcmake not found; using the existing $BUILD_DIR/valori.{mjs,wasm}" >&2
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
