#!/usr/bin/env bash
# Dynamic batching, A/B: `squeezenet serve --max-batch 32` against `--max-batch 1` (one image at a time through the
# engine) under the same wrk load, alternated ROUNDS times, with the load average beside each run. For each run it
# also prints, from the server's own /metrics, the mean decode time per image, the forward's time per image (wall
# time of a forward over the images in it: one core's with --max-batch 32, where each member runs its own chunk;
# the whole pool's with --max-batch 1) and the mean batch.
#   bench/serve_batching.sh [ROUNDS [SECONDS [CLIENTS]]]   (defaults 5, 20, 32)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/serve_common.sh
ROUNDS="${1:-5}"
SECONDS_PER_RUN="${2:-20}"
CLIENTS="${3:-32}"
DATA="${SQUEEZENET_DATA:-../shared/data}"
CLI="${SQUEEZENET_CLI:-build/squeezenet}"
WEIGHTS="$DATA/pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param"
export BODY_FILE="$DATA/imagenet-sample-1000/n02099601_golden_retriever.JPEG"
THREADS="${THREADS:-$(nproc)}"
for f in "$CLI" "$WEIGHTS" "$BODY_FILE"; do
  [ -e "$f" ] || { echo "serve_batching.sh: $f is missing" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "serve_batching.sh: wrk is missing (scripts/install_deps.sh --bench)" >&2; exit 1; }
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; true' EXIT
RATES=$(mktemp)

# Mean of a histogram from /metrics: its _sum over its _count, times $2.
mean_of() { awk -v n="$1" -v k="$2" '$1 == n "_sum" {s = $2} $1 == n "_count" {c = $2} END {printf "%.1f", c ? s / c * k : 0}'; }
# Forward time per image: the inference histogram's sum over the images in batches (the batch histogram's sum).
forward_per_image() {
  awk '$1 == "squeezenet_inference_duration_seconds_sum" {s = $2} $1 == "squeezenet_batch_size_sum" {n = $2}
       END {printf "%.1f", n ? s / n * 1000 : 0}'
}

run() {  # max_batch
  local port out metrics
  port=$(free_port)
  "$CLI" serve --weights "sq11=$WEIGHTS" --host 127.0.0.1 --port "$port" --threads "$THREADS" --no-access-log \
    --max-batch "$1" 2>/dev/null &
  PID=$!
  wait_port "$port"
  curl -sf -o /dev/null --data-binary @"$BODY_FILE" "http://127.0.0.1:$port/v1/classify"
  out=$(wrk -t 2 -c "$CLIENTS" -d "${SECONDS_PER_RUN}s" --timeout 30s --latency -s bench/serve_post.lua \
    "http://127.0.0.1:$port/v1/classify")
  metrics=$(curl -sf "http://127.0.0.1:$port/metrics")
  kill -TERM "$PID"; wait "$PID" || true; PID=""
  wrk_figures "$out"
  echo "$1 $RPS" >>"$RATES"
  printf "| %s | %s | %s | %s | %s ms | %s ms | %s | %s |\n" "$1" "$RPS" "$P50" "$P99" \
    "$(mean_of squeezenet_decode_duration_seconds 1000 <<<"$metrics")" \
    "$(forward_per_image <<<"$metrics")" \
    "$(mean_of squeezenet_batch_size 1 <<<"$metrics")" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

cpu_line "$CLIENTS clients, $SECONDS_PER_RUN s per run, $THREADS compute threads; $(date -u '+%F %H:%M UTC')"
echo
echo "| --max-batch | req/s | p50 | p99 | decode / image | forward / image | mean batch | load average |"
echo "|---:|---:|---:|---:|---:|---:|---:|---|"
for _ in $(seq "$ROUNDS"); do
  run 32
  run 1
done
echo
/usr/bin/python3 - "$RATES" <<'PY'
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
    batch, rps = line.split()
    rates.setdefault(batch, []).append(float(rps))
b32, b1 = statistics.median(rates["32"]), statistics.median(rates["1"])
ratios = [a / b for a, b in zip(rates["32"], rates["1"])]
print(f"median req/s: --max-batch 32 {b32:.1f}, --max-batch 1 {b1:.1f}; ratio of medians {b32 / b1:.2f}x; "
      f"per-round ratios {', '.join(f'{r:.2f}' for r in ratios)}")
PY
rm -f "$RATES"
