#!/usr/bin/env bash
# The main job: installs what Valori needs (scripts/setup.sh), builds a release `valori` in
# build-release/, and runs `valori serve` on ./valori_db (127.0.0.1:3000 unless VALORI_LISTEN,
# VALORI_HTTP_PORT or flags say otherwise; every flag of `valori serve --help` may be passed:
#   bash scripts/serve.sh --listen 127.0.0.1:8080 --token-file tokens.txt
# The API is docs/HTTP.md. Stop with Ctrl-C: the server finishes in-flight requests and closes
# every collection cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
VALORI_SETUP_SKIP_NPM=1 bash scripts/setup.sh
echo "serve: building build-release/ (Release)"
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DVALORI_BUILD_TESTS=OFF -DVALORI_BUILD_BENCH=OFF >/dev/null
cmake --build build-release -j "$JOBS" --target valori
has_data=0
for a in "$@"; do case "$a" in --data|--data=*) has_data=1;; esac; done
if [ "$has_data" = 0 ] && [ -z "${VALORI_DATA:-}" ]; then set -- --data ./valori_db "$@"; fi
exec build-release/native/valori serve "$@"
