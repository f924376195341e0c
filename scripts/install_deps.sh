#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing (with --fuzz, fuzzing; with --bench, the peer
# benchmarks of bench/peers.py and bench/serve_load.sh, and the browser test of the server's page) need.
# Safe to run again: only missing packages are installed.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PACKAGES=(
  # build
  cmake g++ make pkg-config
  # libraries
  libzip-dev libprotobuf-dev protobuf-compiler libturbojpeg0-dev libpng-dev libcurl4-openssl-dev libssl-dev
  libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev
  # the PyTorch oracle of the tests and its helpers
  python3 python3-torch python3-torchvision python3-numpy python3-pil python3-opencv python3-pytest
)
for option in "$@"; do
  case "$option" in
    --fuzz) PACKAGES+=(clang libclang-rt-14-dev libomp-14-dev) ;;
    --bench) PACKAGES+=(nodejs npm python3-matplotlib libopenblas0 wrk curl bc chromium) ;;
    *) echo "usage: $0 [--fuzz] [--bench]" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
