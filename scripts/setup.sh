#!/usr/bin/env bash
# Installs every system and npm package Valori needs on a fresh Debian 12 machine.
# Idempotent: when everything is present it prints one line and exits.
# Usage: scripts/setup.sh            (everything)
#        VALORI_SETUP_SKIP_NPM=1 ...  (system packages only)
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  build-essential cmake ninja-build clang-14 libclang-rt-14-dev llvm-14
  libssl-dev pkg-config zlib1g-dev
  emscripten
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
  gcc-i686-linux-gnu libc6-dev-i386-cross
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-user qemu-system-arm
  chromium
  libmicrohttpd-dev libcjson-dev libcurl4-openssl-dev python3-prometheus-client
  libhnswlib-dev python3-hnswlib python3-numpy python3-matplotlib
  dataset-fashion-mnist
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  # gcc-multilib must never be installed: it removes the cross compilers.
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -z "${VALORI_SETUP_SKIP_NPM:-}" ] && [ -f package.json ]; then
  if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ]; then
    echo "setup: installing npm packages"
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
  fi
fi
[ ${#missing[@]} -gt 0 ] || echo "setup: all system packages present"
