#!/usr/bin/env bash
# The whole test suite, as CI runs it: install, build, then every test (unit, parity with torchvision, Python),
# then the unit, parity, fault and CLI tests, the CLI smoke and 60 seeded mutants of every input format under
# ASan + UBSan + LeakSanitizer, then every fuzzer for 20 s under ASan + UBSan (scripts/sanitize.sh address fuzz;
# README "Reliability" gives the costs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# ONNX Runtime for the .onnx export checks (about 30 s); without the npm registry those checks are skipped.
npm install --prefix bench --ignore-scripts --no-package-lock --no-audit --no-fund --loglevel=error ||
  echo "npm install failed: the ONNX Runtime checks will be skipped"
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 900
MUTANTS=60 scripts/sanitize.sh address fuzz
