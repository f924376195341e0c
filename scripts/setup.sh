#!/usr/bin/env bash
# Installs what squeezenet.cpp needs on Debian 12 and builds it into build/. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
# Where a compiler cache is installed, rebuilding unchanged sources (a second clone, a sanitizer build) is instant.
LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then
  LAUNCHER=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "${LAUNCHER[@]}"
cmake --build build -j"$(nproc)"
