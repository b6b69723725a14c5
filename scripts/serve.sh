#!/usr/bin/env bash
# The main job: installs what Valori needs (scripts/setup.sh), builds a release `valori` in
# build-release/ and the WebAssembly core (scripts/build-wasm.sh), assembles the demo page
# (scripts/demo-site.sh -> build-release/demo), loads Fashion-MNIST into the collection `fashion`
# on the first start (when ./valori_db has no such collection yet; progress on stderr), and runs
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

if [ ! -d "$data/$COLL" ]; then
  echo "serve: first start: loading $IMAGES Fashion-MNIST images into the collection '$COLL' of $data"
  mkdir -p "$data"
  # through a server of our own on a free loopback port, stopped before the real one starts
  log=$(mktemp)
  build-release/native/valori serve --listen 127.0.0.1:0 --data "$data" >"$log" 2>&1 &
  pid=$!
  trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
  url=
  for _ in $(seq 1 200); do
    url=$(sed -n 's/^valori listening on \(http:[^ ]*\)$/\1/p' "$log")
    if [ -n "$url" ] && grep -q '^ready: ' "$log"; then break; fi
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  if ! node examples/demo/load.mjs "$url/v1/collections/$COLL" --limit "$IMAGES" \
      --images "$FMNIST/train-images-idx3-ubyte.gz" --labels "$FMNIST/train-labels-idx1-ubyte.gz"; then
    echo "serve: loading failed; removing the partial collection $data/$COLL" >&2
    kill "$pid"; wait "$pid" || true
    rm -rf "${data:?}/$COLL"
    exit 1
  fi
  kill "$pid"; wait "$pid" || true
  trap - EXIT
  rm -f "$log"
fi
echo "serve: the demo page is at the URL printed below (open it in a browser); the API is under /v1"
exec build-release/native/valori serve "$@"
