#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for SECONDS (default 600).
#   scripts/fuzz.sh [SECONDS] [TARGET ...]      e.g. scripts/fuzz.sh 60 fuzz_pth
# Seed corpora come from tests/fuzz/make_corpus_*.py; findings land in build-fuzz/findings/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
scripts/install_deps.sh --fuzz
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSQUEEZENET_BUILD_TESTS=OFF \
  -DSQUEEZENET_BUILD_FUZZERS=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)"
export SQUEEZENET_DATA="${SQUEEZENET_DATA:-$(cd .. && pwd)/shared/data}"
for gen in tests/fuzz/make_corpus_*.py; do /usr/bin/python3 "$gen" --out build-fuzz/corpus; done
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cd build-fuzz/tests/fuzz && ls fuzz_* | grep -v '\.')
status=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/findings/$t"
  echo "== $t: ${seconds}s"
  if build-fuzz/tests/fuzz/"$t" -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=1048576 \
      -artifact_prefix="build-fuzz/findings/$t/" "build-fuzz/corpus/$t" 2>"build-fuzz/$t.log"; then
    echo "$t: no crash; $(grep -Eo '#[0-9]+' "build-fuzz/$t.log" | tail -1 | tr -d '#') executions, $(ls "build-fuzz/corpus/$t" | wc -l) corpus files"
  else
    echo "$t: CRASH, see build-fuzz/$t.log and build-fuzz/findings/$t/"
    status=1
  fi
done
exit $status
