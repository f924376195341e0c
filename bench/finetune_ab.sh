#!/usr/bin/env bash
# Fine-tuning cost, A/B: one epoch of every layer on hymenoptera_data (batch 8, 2 threads, the tutorial's
# recipe) by two builds of the command, alternated ROUNDS times, with the load average beside each run. Prints
# each run's training seconds (metrics.csv) and peak RSS, then per build the medians, and B's median over A's.
#   bench/finetune_ab.sh CLI_A CLI_B [ROUNDS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bench/finetune_ab.sh CLI_A CLI_B [ROUNDS]" >&2; exit 1; }
A="$1" B="$2" ROUNDS="${3:-5}"
DATA="${SQUEEZENET_DATA:-../shared/data}"
WEIGHTS="$DATA/pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param"
for f in "$A" "$B" "$WEIGHTS" "$DATA/hymenoptera_data"; do
  [ -e "$f" ] || { echo "finetune_ab.sh: $f is missing" >&2; exit 1; }
done
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
RESULTS="$OUT/results"
for round in $(seq "$ROUNDS"); do
  for side in A B; do
    cli=$A
    [ "$side" = B ] && cli=$B
    rm -rf "$OUT/run"
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -f "%M" -o "$OUT/rss" "$cli" finetune --weights "$WEIGHTS" --data "$DATA/hymenoptera_data" \
      --classes 2 --epochs 1 --lr 0.001 --momentum 0.9 --seed 1 --batch-size 8 --threads 2 --quiet \
      --out "$OUT/run" >/dev/null 2>&1
    seconds=$(tail -1 "$OUT/run/metrics.csv" | cut -d, -f7)
    rss=$(tail -1 "$OUT/rss")
    echo "round $round $side: $seconds s/epoch, peak RSS $((rss / 1024)) MiB, load average $load"
    echo "$side $seconds $rss" >> "$RESULTS"
  done
done
/usr/bin/python3 - "$RESULTS" <<'PY'
import statistics, sys
runs = {"A": [], "B": []}
for line in open(sys.argv[1]):
    side, seconds, rss = line.split()
    runs[side].append((float(seconds), int(rss)))
med = {s: statistics.median(t for t, _ in r) for s, r in runs.items()}
for s, r in runs.items():
    print(f"{s}: median {med[s]:.2f} s/epoch, peak RSS median {statistics.median(m for _, m in r) / 1024:.0f} MiB")
print(f"B / A: {med['B'] / med['A']:.3f}x the time per epoch")
PY
