#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for SECONDS (default 600), JOBS of
# them at a time (default: one per core).
#   scripts/fuzz.sh [-j JOBS] [SECONDS] [TARGET ...]      e.g. scripts/fuzz.sh 60 fuzz_pth
# Seed corpora come from tests/fuzz/make_corpus_*.py (seeded, so every run starts from the same files), plus the
# committed regression inputs of tests/fuzz/regressions/TARGET/; findings land in build-fuzz/findings/TARGET/.
# A finding, once fixed, is copied into tests/fuzz/regressions/TARGET/, where ctest replays it in every build.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"
if [ "${1:-}" = "-j" ]; then jobs="$2"; shift 2; fi
seconds="${1:-600}"
shift || true
scripts/install_deps.sh --fuzz
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSQUEEZENET_BUILD_TESTS=OFF \
  -DSQUEEZENET_BUILD_FUZZERS=ON "${launcher[@]}" >/dev/null
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cd tests/fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]}"
export SQUEEZENET_DATA="${SQUEEZENET_DATA:-$(cd .. && pwd)/shared/data}"
for gen in tests/fuzz/make_corpus_*.py; do /usr/bin/python3 "$gen" --out build-fuzz/corpus; done
fuzz_one() {
  local t="$1"
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/findings/$t"
  local seeds=("build-fuzz/corpus/$t")
  [ -d "tests/fuzz/regressions/$t" ] && seeds+=("tests/fuzz/regressions/$t")
  if build-fuzz/tests/fuzz/"$t" -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=4000000 \
      -artifact_prefix="build-fuzz/findings/$t/" "${seeds[@]}" 2>"build-fuzz/$t.log"; then
    echo "$t: ${seconds}s, no crash; $(grep -Eo '^#[0-9]+' "build-fuzz/$t.log" | tail -1 | tr -d '#') executions," \
      "$(grep -Eo 'cov: [0-9]+' "build-fuzz/$t.log" | tail -1) edges, $(ls "build-fuzz/corpus/$t" | wc -l) corpus files"
  else
    echo "$t: CRASH, see build-fuzz/$t.log and build-fuzz/findings/$t/"
    return 1
  fi
}
status=0
running=0
for t in "${targets[@]}"; do
  fuzz_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done
exit $status
