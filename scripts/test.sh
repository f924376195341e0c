#!/usr/bin/env bash
# The whole test suite, as CI runs it: install, build, then every test (unit, parity with torchvision, Python),
# then every fuzzer for 20 s under ASan + UBSan (scripts/sanitize.sh fuzz; README "Reliability" gives the costs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 900
scripts/sanitize.sh fuzz
