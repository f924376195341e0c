#!/usr/bin/env bash
# The HTTP library by measurement: the smallest endpoint on cpp-httplib (plain, and with the read deadline
# `squeezenet serve` adds) against GNU libmicrohttpd, under wrk on loopback, alternated ROUNDS times: GET of a
# 13-byte JSON answer, and POST of the 500x375 test JPEG (the body read in full, its length answered).
#   bench/serve_http_libs.sh [ROUNDS [SECONDS [CLIENTS]]]   (defaults 3, 10, 64; needs libmicrohttpd-dev and wrk,
#   scripts/install_deps.sh --bench)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/serve_common.sh
ROUNDS="${1:-3}"
SECONDS_PER_RUN="${2:-10}"
CLIENTS="${3:-64}"
DATA="${SQUEEZENET_DATA:-../shared/data}"
export BODY_FILE="$DATA/imagenet-sample-1000/n02099601_golden_retriever.JPEG"
OUT=bench/results/http_libs
mkdir -p "$OUT"
flags=(-O2 -std=c++20 -DNDEBUG -Isrc)
g++ "${flags[@]}" bench/http_libs/hello_httplib.cpp src/serve/deadline_server.cpp -o "$OUT/hello_httplib" \
  $(pkg-config --cflags --libs cpp-httplib) -pthread
g++ "${flags[@]}" bench/http_libs/hello_mhd.cpp -o "$OUT/hello_mhd" $(pkg-config --cflags --libs libmicrohttpd) -pthread
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; true' EXIT
RATES=$(mktemp)


run() {  # name command...
  local name=$1 port out
  shift
  port=$(free_port)
  "$@" "$port" &
  PID=$!
  wait_port "$port"
  for what in GET POST; do
    if [ "$what" = GET ]; then
      out=$(wrk -t 2 -c "$CLIENTS" -d "${SECONDS_PER_RUN}s" --latency "http://127.0.0.1:$port/live")
    else
      out=$(wrk -t 2 -c "$CLIENTS" -d "${SECONDS_PER_RUN}s" --latency -s bench/serve_post.lua "http://127.0.0.1:$port/bytes")
    fi
    wrk_figures "$out"
    echo "$name|$what|$RPS" >>"$RATES"
    printf "| %s | %s | %s | %s | %s | %s |\n" "$name" "$what" "$RPS" "$P50" "$P99" "$(cut -d' ' -f1-3 /proc/loadavg)"
  done
  kill -TERM "$PID"; wait "$PID" || true; PID=""
}
# The port comes last; exec, so that the PID killed is the server.
httplib_run() { exec "$OUT/hello_httplib" "$2" 256 "$1"; }
mhd_run() { exec "$OUT/hello_mhd" "$1" "$(nproc)"; }

cpu_line "$CLIENTS keep-alive clients, $SECONDS_PER_RUN s per run; $(date -u '+%F %H:%M UTC')"
echo
echo "| library | request | req/s | p50 | p99 | load average |"
echo "|---|---|---:|---:|---:|---|"
for _ in $(seq "$ROUNDS"); do
  run "cpp-httplib $(pkg-config --modversion cpp-httplib)" httplib_run plain
  run "cpp-httplib + read deadline" httplib_run deadline
  run "libmicrohttpd $(pkg-config --modversion libmicrohttpd)" mhd_run
done
echo
/usr/bin/python3 - "$RATES" <<'PY'
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
    name, what, rps = line.strip().split("|")
    rates.setdefault((name, what), []).append(float(rps))
print("| library | request | median req/s |\n|---|---|---:|")
for (name, what), r in rates.items():
    print(f"| {name} | {what} | {statistics.median(r):.0f} |")
PY
rm -f "$RATES"
