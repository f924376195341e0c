#!/usr/bin/env bash
# Fine-tunes every layer of torchvision's squeezenet1_1 on hymenoptera_data (the transfer-learning tutorial's
# recipe: 15 epochs, SGD lr 0.001 momentum 0.9, global batch 8) two ways: 2 MPI ranks x batch 4 (one thread each)
# and 1 process x batch 8 (two threads). They take the same steps on the same global batches, and sum each step's
# gradient in the same order (the pairwise tree over the images), so they end with the same parameters bit for bit
# and the same best validation accuracy; on one machine the two ranks share its cores, so this shows no speed-up.
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
/usr/bin/python3 - "$OUT/ranks2/checkpoint.safetensors" "$OUT/single/checkpoint.safetensors" <<'PY'
import json, struct, sys
def tensors(path):
    with open(path, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        body = f.read()
    return {k: body[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in header.items() if k != "__metadata__"}
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
print(f"last checkpoints (parameters and momentum, {len(a)} tensors): "
      + ("bit-identical" if not differ else f"{len(differ)} tensors differ, e.g. {differ[0]}"))
sys.exit(1 if differ else 0)
PY
