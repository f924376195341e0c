#!/usr/bin/env bash
# A training run killed with SIGKILL at random moments always leaves a checkpoint that loads and resumes, and the
# resumed run ends where an uninterrupted one does: the same parameters and momentum, bit for bit.
#   tests/faults/kill_training.sh CLI [TRIES [SEED]]      (CI runs 3 tries; the README's check 10)
# A kill before the first checkpoint was written leaves none, which is fine as long as nothing torn is there
# either; such tries are counted and restarted from scratch.
set -euo pipefail
cli="$(realpath "$1")"
tries="${2:-${KILL_TRIES:-10}}"
RANDOM="${3:-1616}"
data="${SQUEEZENET_DATA:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/data}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
compare="$(dirname "$0")/same_tensors.py"

# train/ and val/ of two classes, three images each: an epoch is a few seconds, so a run has several checkpoints.
for split in train val; do
  for cls in ants bees; do
    mkdir -p "$work/data/$split/$cls"
    mapfile -t files < <(find "$data/hymenoptera_data/$split/$cls" -name '*.jpg' | sort)
    cp "${files[@]:0:3}" "$work/data/$split/$cls/"
  done
done
train=(train --arch squeezenet1_1 --data "$work/data" --epochs 5 --batch-size 2 --workers 1 --threads 1 --quiet)

start=$(date +%s%N)
"$cli" "${train[@]}" --out "$work/ref" >/dev/null 2>&1
full_ms=$((($(date +%s%N) - start) / 1000000))
echo "uninterrupted run: ${full_ms} ms"

killed_before_first=0
for try in $(seq 1 "$tries"); do
  out="$work/run$try"
  delay_ms=$((RANDOM * RANDOM % full_ms))
  "$cli" "${train[@]}" --out "$out" >/dev/null 2>&1 &
  pid=$!
  sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  ckpt="$out/checkpoint.safetensors"
  if [ ! -e "$ckpt" ]; then
    killed_before_first=$((killed_before_first + 1))
    echo "try $try: killed at ${delay_ms} ms, before the first checkpoint; starting again"
    "$cli" "${train[@]}" --out "$out" >/dev/null 2>&1
  else
    "$cli" info -w "$ckpt" >/dev/null 2>"$work/err" || { echo "try $try: the checkpoint left does not load:"; cat "$work/err"; exit 1; }
    "$cli" "${train[@]}" --out "$out" --resume "$ckpt" >/dev/null 2>"$work/err" ||
      { echo "try $try: resuming failed:"; cat "$work/err"; exit 1; }
    echo "try $try: killed at ${delay_ms} ms, resumed"
  fi
  /usr/bin/python3 "$compare" "$work/ref/checkpoint.safetensors" "$ckpt" ||
    { echo "try $try: the resumed run ended elsewhere than the uninterrupted one"; exit 1; }
done
echo "kill_training: $tries tries, $killed_before_first before the first checkpoint, every checkpoint loaded and resumed to the uninterrupted run's end"
