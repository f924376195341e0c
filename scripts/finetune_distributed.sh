#!/usr/bin/env bash
# Fine-tunes every layer of torchvision's squeezenet1_1 on hymenoptera_data (the transfer-learning tutorial's
# recipe: 15 epochs, SGD lr 0.001 momentum 0.9, global batch 8) two ways: 2 MPI ranks x batch 4 (one thread each)
# and 1 process x batch 8 (two threads). They take the same steps on the same global batches, so they reach the
# same best validation accuracy; on one machine the two ranks share its cores, so this shows no speed-up.
#
#   scripts/finetune_distributed.sh [BUILD_DIR]        env: EPOCHS, OUT
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
DATA=${SQUEEZENET_DATA:-../shared/data}
EPOCHS=${EPOCHS:-15}
OUT=${OUT:-$BUILD/finetune_distributed}
CLI=$BUILD/squeezenet
MPIRUN=(mpirun -np 2 --oversubscribe)
[ "$(id -u)" -ne 0 ] || MPIRUN+=(--allow-run-as-root)
common=(finetune --weights "$DATA/pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param"
        --data "$DATA/hymenoptera_data" --classes 2 --epochs "$EPOCHS" --lr 0.001 --momentum 0.9 --seed 1 --quiet)
rm -rf "$OUT/ranks2" "$OUT/single"
"${MPIRUN[@]}" "$CLI" "${common[@]}" --batch-size 4 --threads 1 --out "$OUT/ranks2"
"$CLI" "${common[@]}" --batch-size 8 --threads 2 --out "$OUT/single"

for run in ranks2 single; do
  /usr/bin/python3 - "$OUT/$run/metrics.csv" "$run" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
best = max(rows, key=lambda r: float(r["val_acc"]))
print(f"{sys.argv[2]:7s} best val acc {100 * float(best['val_acc']):.2f}% (epoch {best['epoch']}), "
      f"median {statistics.median(float(r['seconds']) for r in rows):.2f} s/epoch over {len(rows)} epochs")
PY
done
