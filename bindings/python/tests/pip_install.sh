#!/usr/bin/env bash
# What a user does on Debian 12 without network: `pip install --no-build-isolation --no-index .` into a venv that
# sees Debian's packages (numpy, torch for the tests), then the module's tests run against that install.
# Usage: pip_install.sh SOURCE_DIR BUILD_DIR (an existing CMake build, reused: only the module is relinked if stale).
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
# Debian's own pip (python3-pip, seen through the system site-packages) installs into the venv; copying a second
# pip into it would add 20 s on a busy machine and test nothing of ours.
/usr/bin/python3 -m venv --system-site-packages --without-pip "$venv"
start=$(date +%s%N)
SQUEEZENET_BUILD_DIR="$build" "$venv/bin/python" -m pip install --no-build-isolation --no-index -q "$src"
echo "pip install took $(( ($(date +%s%N) - start) / 1000000 )) ms"
cd "$venv"
SQUEEZENET_INSTALLED=1 PYTHONPATH= "$venv/bin/python" -m pytest -q -p no:cacheprovider "$src/bindings/python/tests"
