#!/usr/bin/env bash
# The main job: classify an image with real ImageNet weights (torchvision's squeezenet1_1).
#   scripts/demo.sh [IMAGE...]
# Weights: ../shared/data's copy of torchvision's squeezenet1_1 when it is there (no internet needed),
# otherwise the official file, downloaded once into $SQUEEZENET_HOME (default ~/.cache/squeezenet).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${SQUEEZENET_DATA:-$(cd .. && pwd)/shared/data}"
[ -x build/squeezenet ] || scripts/setup.sh
local_weights="$DATA/pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param"
if [ -f "$local_weights" ]; then
  weights="$local_weights"
else
  weights="$(build/squeezenet fetch squeezenet1_1)"
fi
images=("$@")
if [ ${#images[@]} -eq 0 ]; then
  sample="$DATA/imagenet-sample-1000/n02099601_golden_retriever.JPEG"
  [ -f "$sample" ] || { echo "usage: scripts/demo.sh IMAGE..." >&2; exit 2; }
  images=("$sample")
fi
echo "weights: $weights"
if [ ${#images[@]} -eq 1 ]; then
  build/squeezenet classify -w "$weights" "${images[0]}" --cam build/cam.png
else
  build/squeezenet classify -w "$weights" "${images[@]}"
fi
