#!/usr/bin/env bash
# Accuracy of every real weights file in ../shared/data on the 1000-image ImageNet sample, ours beside
# PyTorch's (same weights, same preprocessing written with PIL/torchvision or OpenCV), with per-image top-1
# agreement. Prints a Markdown table; per-image CSVs stay in build/accuracy/. Takes ~10 minutes on 2 cores.
#   scripts/accuracy.sh [--every K]      (K > 1 evaluates every K-th image only)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${SQUEEZENET_DATA:-$(cd .. && pwd)/shared/data}"
every=1
[ "${1:-}" = "--every" ] && every="$2"
[ -x build/squeezenet ] || scripts/setup.sh
out=build/accuracy
mkdir -p "$out"
folder="$DATA/imagenet-sample-1000"

source scripts/real_models.sh
echo "| weights | preset | images | ours top-1 | ours top-5 | PyTorch top-1 | PyTorch top-5 | same top-1 |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
status=0
for m in "${models[@]}"; do
  IFS='|' read -r name weights preset <<<"$m"
  build/squeezenet convert "$weights" "$out/$name.safetensors" >/dev/null
  build/squeezenet eval "$folder" -w "$out/$name.safetensors" --preset "$preset" --every "$every" -q \
    --predictions "$out/$name.ours.csv" --csv "$out/$name.per_class.csv" >"$out/$name.ours.json"
  /usr/bin/python3 tools/reference/eval_reference.py --weights "$out/$name.safetensors" --preset "$preset" \
    --folder "$folder" --every "$every" --out "$out/$name.torch.csv" >"$out/$name.torch.json" 2>/dev/null
  /usr/bin/python3 tools/reference/compare_predictions.py "$out/$name.ours.csv" "$out/$name.torch.csv" \
    >"$out/$name.compare.json" || status=1
  /usr/bin/python3 - "$out/$name.compare.json" "$name" "$preset" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
print(f"| {sys.argv[2]} | {sys.argv[3]} | {c['images']} | {c['ours_top1']:.1f} % | {c['ours_top5']:.1f} % | "
      f"{c['reference_top1']:.1f} % | {c['reference_top5']:.1f} % | {100 * c['top1_agreement']:.1f} % |")
PY
done
exit $status
