#!/usr/bin/env bash
# A user's own model under 100 KB: torchvision's squeezenet1_1 fine-tuned on hymenoptera_data (ants vs bees,
# scripts/finetune_hymenoptera.sh, new final conv only), pruned gradually with masked fine-tuning on
# hymenoptera_data/train (labelled, new random crops every epoch, distilled from the dense model at every step),
# shared to 4 bits with centroid retraining, and Huffman-coded. Every row is accuracy on hymenoptera_data/val
# (153 images). Appends to OUT/stages.tsv.
#   scripts/compress_hymenoptera.sh [BUILD_DIR]
# env: WEIGHTS (default: the fine-tune's best checkpoint, fine-tuned first if missing), STEPS (the Fires' densities
#      of the gradual pruning, each one for every Fire layer or SQUEEZE:EXPAND1X1:EXPAND3X3), BITS, PRUNE_EPOCHS,
#      PRUNE_LR, EPOCHS, LR, TUNE_ARGS (more `compress` options for every retraining)
. "$(dirname "$0")/compress_stages.sh"
series=hymenoptera
weights="${WEIGHTS:-$out/ft/tv_v1.1-features/best.safetensors}"
if [ ! -f "$weights" ]; then
  STARTS=tv_v1.1 MODES=features TORCH_EPOCHS=0 OUT="$out/ft" scripts/finetune_hymenoptera.sh "$build" >&2
fi
# conv1 (1,728 weights) and the new 2-class conv (1,024) cost little and matter most: only the Fires are pruned,
# this far. The layer names come from the model.
layers=$("$cli" compress -w "$weights" --out "$out/names.sqz" --bits 8 | awk '$1 ~ /^features\.[0-9]+\./ {print $1}')
rm -f "$out/names.sqz"
fires() {  # the Fires' density: one for every layer, or SQUEEZE:EXPAND1X1:EXPAND3X3
  local d="features.0=1" l sq e1 e3
  IFS=: read -r sq e1 e3 <<< "$1"
  e1="${e1:-$sq}" e3="${e3:-$sq}"
  for l in $layers; do
    case "$l" in
      *.squeeze) d="$d,$l=$sq" ;;
      *.expand1x1) d="$d,$l=$e1" ;;
      *.expand3x3) d="$d,$l=$e3" ;;
    esac
  done
  echo "$d"
}
steps=()
for d in ${STEPS:-0.5 0.3 0.2 0.135}; do steps+=("$(fires "$d")"); done
bits="${BITS:-4}"
eval_args=("$data/hymenoptera_data/val")
# The dense model teaches every step (not the step before, which has lost accuracy already), on crops drawn anew
# every epoch, so that 244 images are not learnt by heart.
tune_args=(--tune "$data/hymenoptera_data/train" --augment --teacher "$weights" ${TUNE_ARGS:-})
prune_args=(--prune-epochs "${PRUNE_EPOCHS:-6}" --prune-lr "${PRUNE_LR:-2e-4}")
share_args=(--epochs "${EPOCHS:-4}" --lr "${LR:-1e-4}")
run_stages
