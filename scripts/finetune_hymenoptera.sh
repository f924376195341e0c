#!/usr/bin/env bash
# Fine-tunes on hymenoptera_data (ants vs bees: 244 train / 153 val images) from two pretrained starts, with the
# transfer-learning tutorial's recipe (15 epochs, batch 8, SGD lr 0.001 momentum 0.9), training only the new
# final conv (feature extraction) and then every layer; then the same in PyTorch for accuracy and speed, with
# its convolutions in oneDNN and in its own im2col + BLAS path (whichever BLAS libblas.so.3 is).
#
#   scripts/finetune_hymenoptera.sh [BUILD_DIR]
# env: EPOCHS, TORCH_EPOCHS (0 skips PyTorch), THREADS, OUT, STARTS ("dc_v1.0 tv_v1.1"), MODES ("features all"),
#      TORCH_CONVS ("onednn blas")
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
DATA=${SQUEEZENET_DATA:-../shared/data}
EPOCHS=${EPOCHS:-15}
TORCH_EPOCHS=${TORCH_EPOCHS:-$EPOCHS}
THREADS=${THREADS:-2}
OUT=${OUT:-$BUILD/finetune_hymenoptera}
STARTS=${STARTS:-dc_v1.0 tv_v1.1}
MODES=${MODES:-features all}
TORCH_CONVS=${TORCH_CONVS:-onednn blas}
CLI=$BUILD/squeezenet
mkdir -p "$OUT"

# The same starting weights for both sides: safetensors written by `squeezenet convert`.
"$CLI" convert "$DATA/deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net" "$OUT/dc_v1.0.safetensors"
"$CLI" convert "$DATA/pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param" "$OUT/tv_v1.1.safetensors"

for start in $STARTS; do
  for mode in $MODES; do
    freeze=$([ "$mode" = features ] && echo features || echo none)
    run=$OUT/$start-$mode
    echo "== ours: $start, $mode"
    /usr/bin/time -f "%e s wall" "$CLI" finetune --weights "$OUT/$start.safetensors" --data "$DATA/hymenoptera_data" \
      --out "$run" --epochs "$EPOCHS" --batch-size 8 --lr 0.001 --momentum 0.9 --freeze "$freeze" \
      --threads "$THREADS" --workers 2 --quiet
    [ "$TORCH_EPOCHS" -gt 0 ] || continue
    for convs in $TORCH_CONVS; do
      echo "== PyTorch ($convs): $start, $mode"
      # PyTorch already spreads a batch over its threads: OpenBLAS's own threads on top would oversubscribe.
      OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/reference/finetune_reference.py \
        --weights "$OUT/$start.safetensors" --data "$DATA/hymenoptera_data" --mode "$mode" --epochs "$TORCH_EPOCHS" \
        --batch-size 8 --lr 0.001 --momentum 0.9 --threads "$THREADS" --workers 2 \
        $([ "$convs" = blas ] && echo --no-mkldnn) | tee "$run.torch-$convs.csv"
    done
  done
done
