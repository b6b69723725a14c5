#!/usr/bin/env bash
# demo-site.sh OUT: assembles the demo page's site in OUT (default build-release/demo), the folder
# `valori serve --static OUT` serves at `/` (examples/demo/README.md, "How it is shipped"):
#   OUT/index.html, demo.js, demo.css, ...   examples/demo/ (the page; its README.md excluded)
#   OUT/valori/src/*.js                      the npm package's sources (js/src/)
#   OUT/valori/dist/valori.{mjs,wasm}        its WebAssembly core (js/dist/, from scripts/build-wasm.sh)
# The page imports ./valori/src/index.js, which loads ../dist/valori.mjs: the same relative layout as
# the package itself, so the browser runs exactly the files `npm pack` ships. Copies (not links):
# the server refuses to serve anything whose real path is outside OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-build-release/demo}"
for f in js/dist/valori.mjs js/dist/valori.wasm; do
  [ -f "$f" ] || { echo "demo-site: $f is missing: run scripts/build-wasm.sh first" >&2; exit 1; }
done
rm -rf "$OUT.tmp"
mkdir -p "$OUT.tmp/valori/src" "$OUT.tmp/valori/dist"
for f in examples/demo/*; do
  [ "$(basename "$f")" = README.md ] || cp -p "$f" "$OUT.tmp/"
done
cp -p js/src/*.js "$OUT.tmp/valori/src/"
cp -p js/dist/valori.mjs js/dist/valori.wasm "$OUT.tmp/valori/dist/"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
