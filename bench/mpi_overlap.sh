#!/usr/bin/env bash
# The sum over the ranks overlapped with backward or not, A/B: one epoch of every layer of hymenoptera_data on
# 2 ranks (mpirun, 1 thread each), per configuration BUCKET_MB:BATCH:ITER_SIZE (--bucket-mb, per-rank
# --batch-size, --iter-size), the configurations alternated ROUNDS times, with the load average beside each run.
# Prints each run's step time and the time its steps waited for the sum after backward ("exposed", rank 0's
# SQUEEZENET_PROFILE scope), then per configuration the medians, and the median over the rounds of each round's
# step time over the first configuration's in that round.
#   bench/mpi_overlap.sh [ROUNDS] [CONFIG...]   (default 5 rounds of 0:4:1 1:4:1 0.04:4:1)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-5}"
shift || true
CONFIGS=("$@")
[ ${#CONFIGS[@]} -gt 0 ] || CONFIGS=(0:4:1 1:4:1 0.04:4:1)
CLI="${SQUEEZENET_CLI:-build/squeezenet}"
DATA="${SQUEEZENET_DATA:-../shared/data}"
WEIGHTS="$DATA/pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param"
for f in "$CLI" "$WEIGHTS" "$DATA/hymenoptera_data"; do
  [ -e "$f" ] || { echo "mpi_overlap.sh: $f is missing" >&2; exit 1; }
done
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
RESULTS="$OUT/results"
source bench/serve_common.sh
cpu_line "2 MPI ranks, 1 thread each, $(date -u +%F)"
for round in $(seq "$ROUNDS"); do
  for config in "${CONFIGS[@]}"; do
    IFS=: read -r bucket batch iter <<< "$config"
    rm -rf "$OUT/run"
    load=$(cut -d' ' -f1 /proc/loadavg)
    SQUEEZENET_PROFILE=1 mpirun --allow-run-as-root --oversubscribe -np 2 "$CLI" finetune --weights "$WEIGHTS" \
      --data "$DATA/hymenoptera_data" --classes 2 --epochs 1 --lr 0.001 --momentum 0.9 --seed 1 --threads 1 \
      --batch-size "$batch" --iter-size "$iter" --bucket-mb "$bucket" --quiet --out "$OUT/run" > "$OUT/log" 2>&1
    seconds=$(tail -1 "$OUT/run/metrics.csv" | cut -d, -f7)
    # Profile rows: ms per image of rank 0, calls, name. Rank 0 takes batch x iter images a step.
    line=$(/usr/bin/python3 - "$OUT/log" "$seconds" "$batch" "$iter" <<'PY'
import re, sys
log, seconds, batch, iter_size = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = {m.group(3): (float(m.group(1)), int(m.group(2)))
        for m in re.finditer(r"^\s+([\d.]+)\s+(\d+)\s+(.+)$", open(log).read(), re.M)}
per_step = batch * iter_size
exposed, sums = rows["step allreduce, exposed"]
steps = -(-sums // iter_size)  # the epoch's last step may hold fewer micro-batches
print(f"{1000 * seconds / steps:.1f} {exposed * per_step:.2f} {rows['step backward'][0] * per_step:.1f} {steps}")
PY
)
    read -r step exposed backward steps <<< "$line"
    echo "round $round $config: step $step ms, exposed sum $exposed ms, backward $backward ms ($steps steps), load average $load"
    echo "$round $config $step $exposed $backward" >> "$RESULTS"
  done
done
/usr/bin/python3 - "$RESULTS" "${CONFIGS[@]}" <<'PY'
import statistics, sys
configs = sys.argv[2:]
runs = {c: {} for c in configs}
for line in open(sys.argv[1]):
    round_, config, *values = line.split()
    runs[config][round_] = [float(v) for v in values]
print("bucket MB:batch:iter-size  step ms  exposed sum ms  backward ms  step / first's (paired by round)")
for config, r in runs.items():
    step, exposed, backward = (statistics.median(v[i] for v in r.values()) for i in range(3))
    ratio = statistics.median(v[0] / runs[configs[0]][k][0] for k, v in r.items())
    print(f"{config:>26}  {step:7.1f}  {exposed:14.2f}  {backward:11.1f}  {ratio:.3f}x")
PY
