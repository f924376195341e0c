#!/usr/bin/env bash
# A training run killed with SIGKILL at random moments always leaves a checkpoint that loads and resumes, and the
# resumed run ends where an uninterrupted one does: the same parameters and momentum, bit for bit.
#   tests/faults/kill_training.sh CLI [TRIES [SEED]]      (CI runs 3 tries; the README's check 10)
# A kill before the first checkpoint was written leaves none, which is fine as long as nothing torn is there
# either; such tries are counted and restarted from scratch. A kill in the middle of a write leaves the writer's
# temporary file: the next run into the folder removes it. So that every try checks this, a dead writer's
# temporary is planted beside what the kill left, with a file of the user's named alike, which must stay.
source "$(dirname "$0")/common.sh"
tries="${2:-${KILL_TRIES:-10}}"
RANDOM="${3:-1616}"
compare="$(dirname "$0")/same_tensors.py"

# train/ and val/ of two classes, three images each: an epoch is a few seconds, so a run has several checkpoints.
small_hymenoptera "$work/data" 3
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
  mkdir -p "$out"  # a kill before the run made it
  left_by_kill=$(temporaries_in "$out" | wc -l)
  dead=$(bash -c 'echo $$')
  : >"$out/.best.safetensors.tmp-$dead-Zz9Zz9"
  echo "the user's" >"$out/.notes.tmp-$dead"
  if [ ! -e "$ckpt" ]; then
    killed_before_first=$((killed_before_first + 1))
    echo "try $try: killed at ${delay_ms} ms, before the first checkpoint ($left_by_kill temporaries left); starting again"
    "$cli" "${train[@]}" --out "$out" >/dev/null 2>&1
  else
    "$cli" info -w "$ckpt" >/dev/null 2>"$work/err" || { echo "try $try: the checkpoint left does not load:"; cat "$work/err"; exit 1; }
    "$cli" "${train[@]}" --out "$out" --resume "$ckpt" >/dev/null 2>"$work/err" ||
      { echo "try $try: resuming failed:"; cat "$work/err"; exit 1; }
    echo "try $try: killed at ${delay_ms} ms ($left_by_kill temporaries left), the checkpoint loaded, resumed"
  fi
  if temporaries_in "$out" | grep -q . || [ ! -e "$out/.notes.tmp-$dead" ]; then
    echo "try $try: after the run, temporaries left or the user's file removed:"
    ls -a "$out"
    exit 1
  fi
  /usr/bin/python3 "$compare" "$work/ref/checkpoint.safetensors" "$ckpt" ||
    { echo "try $try: the resumed run ended elsewhere than the uninterrupted one"; exit 1; }
done
echo "kill_training: $tries tries, $killed_before_first before the first checkpoint, every checkpoint loaded and resumed to the uninterrupted run's end, no temporary left"
