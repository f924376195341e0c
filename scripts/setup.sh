#!/usr/bin/env bash
# Installs what squeezenet.cpp needs on Debian 12 and builds it into build/. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
