#!/usr/bin/env bash
# Load test of `squeezenet serve` on loopback with wrk, against ONNX Runtime behind a minimal Node HTTP server
# (bench/ort_server.js). Prints a Markdown table: throughput, p50/p99 latency, server CPU and peak RSS.
#   bench/serve_load.sh [SECONDS [ROUNDS [HOSTILE_SECONDS]]]   (defaults 120, 3, 120; setup: scripts/install_deps.sh
#     --bench, cd bench && npm install --ignore-scripts, /usr/bin/python3 bench/export_onnx.py)
# Each round, interleaved: ours and ONNX Runtime at concurrency 1, 8, 64; ours at 32 with --max-batch 32 and with
# --max-batch 1 (dynamic batching). Then medians and ratios over the rounds, and 64 clients for HOSTILE_SECONDS with
# 10 % hostile requests (bench/serve_hostile.py).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/serve_common.sh
SECONDS_PER_RUN="${1:-120}"
ROUNDS="${2:-3}"
HOSTILE_SECONDS="${3:-120}"
DATA="${SQUEEZENET_DATA:-../shared/data}"
CLI="${SQUEEZENET_CLI:-build/squeezenet}"
WEIGHTS="$DATA/pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param"
ONNX="bench/results/onnx/squeezenet1_1.onnx"
export BODY_FILE="$DATA/imagenet-sample-1000/n02099601_golden_retriever.JPEG"
THREADS="${THREADS:-$(nproc)}"
for f in "$CLI" "$WEIGHTS" "$ONNX" bench/node_modules/onnxruntime-node; do
  [ -e "$f" ] || { echo "serve_load.sh: $f is missing (see the setup in this script's header)" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "serve_load.sh: wrk is missing (scripts/install_deps.sh --bench)" >&2; exit 1; }
mkdir -p bench/results
RATES=bench/results/serve_load_rates.txt
: >"$RATES"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; true' EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start_ours() {  # extra flags...
  PORT=$(free_port)
  "$CLI" serve --weights "sq11=$WEIGHTS" --host 127.0.0.1 --port "$PORT" --threads "$THREADS" --no-access-log "$@" \
    2>>bench/results/serve_load.log &
  PID=$!
  URL="http://127.0.0.1:$PORT/v1/classify"
  wait_port "$PORT"
}
start_ort() {
  PORT=$(free_port)
  node bench/ort_server.js "$ONNX" "$PORT" "$THREADS" 2>>bench/results/serve_load.log &
  PID=$!
  URL="http://127.0.0.1:$PORT/classify"
  wait_port "$PORT"
}
stop_server() { kill -TERM "$PID"; wait "$PID" || true; PID=""; }

# One wrk run against $URL: prints a table row.
measure() {  # name concurrency
  curl -sf -o /dev/null --data-binary @"$BODY_FILE" "$URL"  # warm-up, and a check that it answers
  local t0 c0 out
  t0=$(date +%s.%N); c0=$(cpu_ticks "$PID")
  out=$(wrk -t "$(( $2 < 2 ? 1 : 2 ))" -c "$2" -d "${SECONDS_PER_RUN}s" --timeout 30s --latency -s bench/serve_post.lua "$URL")
  local cpu wall rss bad
  cpu=$(( $(cpu_ticks "$PID") - c0 )); wall=$(echo "$(date +%s.%N) - $t0" | bc)
  rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$PID/status")
  wrk_figures "$out"
  bad=$(awk '/Non-2xx/ {print $5} /Socket errors/ {print "socket errors"}' <<<"$out" | paste -sd' ')
  echo "$1|$2|$RPS" >>"$RATES"
  printf "| %s | %s | %s | %s | %s | %.0f %% | %s MiB | %s | %s |\n" "$1" "$2" "$RPS" "$P50" "$P99" \
    "$(echo "$cpu / $(getconf CLK_TCK) / $wall * 100" | bc -l)" "$rss" "${bad:-0}" "$(cut -d' ' -f1 /proc/loadavg)"
}

cpu_line "$SECONDS_PER_RUN s per run; $(date -u +%F)"
echo
echo "| server | clients | req/s | p50 | p99 | server CPU (100 % = a core) | peak RSS | errors | load average |"
echo "|---|---:|---:|---:|---:|---:|---:|---|---:|"
for round in $(seq "$ROUNDS"); do
  for c in 1 8 64; do
    start_ours; measure "squeezenet serve" "$c"; stop_server
    start_ort; measure "ONNX Runtime + Node http" "$c"; stop_server
  done
  start_ours --max-batch 32; measure "squeezenet serve, --max-batch 32" 32; stop_server
  start_ours --max-batch 1; measure "squeezenet serve, --max-batch 1" 32; stop_server
done

echo
/usr/bin/python3 - "$RATES" <<'PY'
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
    name, clients, rps = line.strip().split("|")
    rates.setdefault((name, int(clients)), []).append(float(rps))
med = {k: statistics.median(v) for k, v in rates.items()}
print("| server | clients | median req/s over rounds |\n|---|---:|---:|")
for (name, clients), m in med.items():
    print(f"| {name} | {clients} | {m:.1f} |")
ours, ort = "squeezenet serve", "ONNX Runtime + Node http"
for c in (1, 8, 64):
    print(f"\nours / ONNX Runtime at {c} clients: {med[(ours, c)] / med[(ort, c)]:.2f}x", end="")
b32, b1 = med[(ours + ", --max-batch 32", 32)], med[(ours + ", --max-batch 1", 32)]
print(f"\ndynamic batching at 32 clients: --max-batch 32 / --max-batch 1 = {b32 / b1:.2f}x")
PY

echo
start_ours
/usr/bin/python3 bench/serve_hostile.py --url "http://127.0.0.1:$PORT" --pid "$PID" --image "$BODY_FILE" \
  --clients 64 --seconds "$HOSTILE_SECONDS"
stop_server
