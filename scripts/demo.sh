#!/usr/bin/env bash
# The main job: installs what is needed, builds Valori (Release, in build-release/: scripts/test.sh
# builds build/ as RelWithDebInfo, so neither rebuilds the other's tree) and runs the Fashion-MNIST
# demo on the default store ./valori_db (created on the first run, reopened and recovered on later
# runs). Extra arguments go to `valori demo` (see `valori demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
VALORI_SETUP_SKIP_NPM=1 bash scripts/setup.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release --target valori -j "$(nproc 2>/dev/null || echo 2)"
exec ./build-release/native/valori demo "$@"
