#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing (with --fuzz, fuzzing; with --bench, the peer
# benchmarks of bench/peers.py, bench/serve_load.sh and bench/serve_http_libs.sh, and the browser test of the server's page) need.
# Safe to run again: only missing packages are installed.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PACKAGES=(
  # build
  cmake g++ make pkg-config
  # libraries
  libzip-dev libprotobuf-dev protobuf-compiler libonnx-dev libturbojpeg0-dev libpng-dev libcurl4-openssl-dev libssl-dev
  libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev
  # oneDNN, the low-precision peer of bench/onednn_bench (whose fp32 logits a test checks against ours)
  libdnnl-dev
  # data-parallel training (mpirun -np N squeezenet train ...)
  libopenmpi-dev openmpi-bin
  # the Python module, and `pip install .` of it into a venv without network
  pybind11-dev python3-dev python3-setuptools python3-wheel python3-pip python3-venv
  # the PyTorch oracle of the tests and its helpers
  python3 python3-torch python3-torchvision python3-numpy python3-pil python3-opencv python3-pytest python3-onnx
)
for option in "$@"; do
  case "$option" in
    --fuzz) PACKAGES+=(clang libclang-rt-14-dev libomp-14-dev) ;;
    --bench) PACKAGES+=(python3-matplotlib libopenblas0 wrk curl bc chromium libmicrohttpd-dev) ;;
    *) echo "usage: $0 [--fuzz] [--bench]" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm run ONNX Runtime (npm onnxruntime-node), the other engine our .onnx files are checked in. A
# machine whose Node.js comes from elsewhere already has npm, and Debian's npm package would conflict with it.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
