#!/usr/bin/env bash
# The main job: installs what Valori needs (scripts/setup.sh), builds a release `valori` in
# build-release/ and the WebAssembly core (scripts/build-wasm.sh), assembles the demo page
# (scripts/demo-site.sh -> build-release/demo), imports Fashion-MNIST into the collection `fashion`
# with `valori import` on the first start (when ./valori_db has no such collection yet; progress
# on stderr), and runs
# `valori serve` on ./valori_db with the page at `/` (127.0.0.1:3000 unless VALORI_LISTEN,
# VALORI_HTTP_PORT or flags say otherwise; every flag of `valori serve --help` may be passed:
#   bash scripts/serve.sh --listen 127.0.0.1:8080 --token-file tokens.txt
# Settings: VALORI_DEMO_IMAGES (images loaded on the first start, default 10000: the number the
# page's browser follows, examples/demo/README.md), VALORI_DEMO_COLLECTION (default fashion).
# The API is docs/HTTP.md. Stop with Ctrl-C: the server finishes in-flight requests and closes
# every collection cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
IMAGES=${VALORI_DEMO_IMAGES:-10000}
COLL=${VALORI_DEMO_COLLECTION:-fashion}
FMNIST=/usr/share/datasets/fashion-mnist
VALORI_SETUP_SKIP_NPM=1 bash scripts/setup.sh
echo "serve: building build-release/ (Release)"
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DVALORI_BUILD_TESTS=OFF -DVALORI_BUILD_BENCH=OFF >/dev/null
cmake --build build-release -j "$JOBS" --target valori
echo "serve: building the WebAssembly core (js/dist) and the demo page (build-release/demo)"
bash scripts/build-wasm.sh
bash scripts/demo-site.sh build-release/demo

# the data directory and the flags the caller gave
data=${VALORI_DATA:-./valori_db}
has_data=0 has_static=0 prev=
for a in "$@"; do
  case "$a" in --data=*) data=${a#--data=}; has_data=1 ;; --static|--static=*) has_static=1 ;; esac
  if [ "$prev" = --data ]; then data=$a; has_data=1; fi
  prev=$a
done
if [ "$has_data" = 0 ] && [ -z "${VALORI_DATA:-}" ]; then set -- --data "$data" "$@"; fi
if [ "$has_static" = 0 ] && [ -z "${VALORI_STATIC:-}" ]; then set -- --static build-release/demo "$@"; fi

# First start: the collection is missing (or an earlier first start was interrupted: its marker is
# still there), so `valori import` loads the images with their classes and the graph the page
# expands (docs/IMPORT.md). The import is resumable: a rerun continues where the last one stopped.
marker="$data/.$COLL.importing"
if [ ! -d "$data/$COLL" ] || [ -e "$marker" ]; then
  echo "serve: first start: importing $IMAGES Fashion-MNIST images into the collection '$COLL' of $data"
  mkdir -p "$data"
  : >"$marker"
  build-release/native/valori import "$FMNIST/train-images-idx3-ubyte.gz" --labels "$FMNIST/train-labels-idx1-ubyte.gz" \
    --data "$data" --collection "$COLL" --limit "$IMAGES" --graph
  rm -f "$marker"
fi
echo "serve: the demo page is at the URL printed below (open it in a browser); the API is under /v1"
exec build-release/native/valori serve "$@"
