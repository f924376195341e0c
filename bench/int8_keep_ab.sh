#!/usr/bin/env bash
# What keeping convs in fp32 costs int8: `bench --precision int8` on int8 files that differ only in their kept
# convs (scripts/int8_keep_sweep.py writes them), interleaved round by round so that load hits all alike.
# Prints each file's median of the per-round medians and its minimum, and the ratio to the first file.
#   bench/int8_keep_ab.sh ROUNDS BATCH THREADS FILE...   (the first FILE is the baseline, e.g. keep-none)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="$1" batch="$2" threads="$3"
shift 3
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) vCPU"
for ((r = 0; r < rounds; r++)); do
  for f in "$@"; do
    line=$(build/squeezenet bench -w "$f" --precision int8 --batch "$batch" --threads "$threads" --iters 50 |
      grep 'latency per batch')
    echo "$f $(echo "$line" | sed -E 's/.*min ([0-9.]+) ms, median ([0-9.]+) ms.*/\1 \2/')" >>"$tmp"
  done
done
/usr/bin/python3 - "$tmp" "$@" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
base = None
for f in sys.argv[2:]:
    mins = [float(r[1]) for r in rows if r[0] == f]
    meds = [float(r[2]) for r in rows if r[0] == f]
    med, low = statistics.median(meds), min(mins)
    base = base or (med, low)
    print(f"{f}: median {med:.3f} ms ({med / base[0]:.3f}x), min {low:.3f} ms ({low / base[1]:.3f}x), {len(meds)} rounds")
PY
