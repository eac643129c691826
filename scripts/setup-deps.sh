#!/usr/bin/env bash
# Installs the Debian packages amflow needs to build and test, only those that are missing.
# Idempotent: a second run installs nothing. Needs root (or sudo) on Debian bookworm. Extra package
# names given as arguments are installed too (scripts/run-bench.sh adds libbenchmark-dev).
set -euo pipefail

packages=(
  build-essential g++ cmake python3
  libeigen3-dev libboost-dev libmpfr-dev libgmp-dev libflint-arb-dev
  libgtest-dev libcli11-dev nlohmann-json3-dev
  python3-matplotlib python3-numpy
  libopenmpi-dev openmpi-bin ccache ninja-build
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "amflow: installing missing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
