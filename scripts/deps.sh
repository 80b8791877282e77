#!/usr/bin/env bash
# Installs, with apt-get only, the Debian packages ringkv needs that are missing.
# Idempotent: a machine that already has them all is left untouched and no root is needed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache clang libclang-rt-14-dev
  libuv1-dev libjemalloc-dev libyaml-cpp-dev catch2 libhiredis-dev
  redis-tools redis-server python3 python3-redis iproute2 procps
)
# Extra packages a caller may ask for (e.g. `make bench-engines`).
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
  else
    echo "deps: these packages are missing and installing them needs root: ${missing[*]}" >&2
    echo "deps: run 'sudo make deps' (or as root: apt-get install ${missing[*]})" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
