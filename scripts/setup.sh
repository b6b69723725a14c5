#!/usr/bin/env bash
# Installs every system and npm package Valori needs on a fresh Debian 12 machine.
# Idempotent: when everything is present it prints one line and exits.
# Usage: scripts/setup.sh            (everything)
#        VALORI_SETUP_SKIP_NPM=1 ...  (system packages only)
#        VALORI_APT_WAIT=SECONDS ...  (how long to wait for another package manager; default 900)
# When another apt or dpkg holds the package lock, it waits (saying so every 15 s) instead of
# failing; long steps print progress (scripts/apt.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/apt.sh
. scripts/apt.sh

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
  libhnswlib-dev python3-hnswlib python3-numpy python3-matplotlib linux-perf
  python3-pytest python3-setuptools python3-pip python3-wheel python3-venv
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
  t0=$SECONDS
  echo "setup: apt-get update"
  apt_run "apt-get update" $SUDO apt-get -q -o DPkg::Lock::Timeout=10 update
  # gcc-multilib must never be installed: it removes the cross compilers.
  apt_run "apt-get install" $SUDO apt-get -q -y -o DPkg::Lock::Timeout=10 -o Dpkg::Use-Pty=0 \
    install --no-install-recommends "${missing[@]}"
  echo "setup: Debian packages installed in $((SECONDS - t0)) s"
fi

if [ -z "${VALORI_SETUP_SKIP_NPM:-}" ] && [ -f package.json ]; then
  if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ]; then
    echo "setup: installing npm packages (npm ci)"
    t0=$SECONDS
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
    echo "setup: npm packages installed in $((SECONDS - t0)) s"
  fi
fi
[ ${#missing[@]} -gt 0 ] || echo "setup: all system packages present"
