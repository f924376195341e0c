#!/usr/bin/env bash
# A lower precision against our own fp32, for every real weights file in ../shared/data on the 1000-image
# ImageNet sample (the models and presets of scripts/accuracy.sh): top-1 / top-5 of both and the share of
# images whose top-1 class is the same. Exit 1 when a model misses the bar: within --max-gap points of fp32
# in top-1 and top-5 and the same top-1 on at least --min-agreement of the images (bf16: 0.2 and 0.995).
#   scripts/accuracy_precision.sh bf16 [--every K]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${SQUEEZENET_DATA:-$(cd .. && pwd)/shared/data}"
precision="${1:?usage: scripts/accuracy_precision.sh bf16 [--every K]}"
every=1
[ "${2:-}" = "--every" ] && every="$3"
case "$precision" in
  bf16) gap=0.2 agreement=0.995 ;;
  int8) gap=0.5 agreement=0.97 ;;
  *) echo "precision must be bf16 or int8" >&2; exit 1 ;;
esac
[ -x build/squeezenet ] || scripts/setup.sh
out=build/accuracy
mkdir -p "$out"
folder="$DATA/imagenet-sample-1000"

source scripts/real_models.sh
echo "| weights | images | fp32 top-1 | $precision top-1 | fp32 top-5 | $precision top-5 | same top-1 |"
echo "|---|---:|---:|---:|---:|---:|---:|"
status=0
for m in "${models[@]}"; do
  IFS='|' read -r name weights preset <<<"$m"
  build/squeezenet convert "$weights" "$out/$name.safetensors" >/dev/null
  for p in fp32 "$precision"; do
    build/squeezenet eval "$folder" -w "$out/$name.safetensors" --preset "$preset" --every "$every" -q \
      --precision "$p" --predictions "$out/$name.$p.csv" >"$out/$name.$p.json"
  done
  /usr/bin/python3 tools/reference/compare_predictions.py "$out/$name.$precision.csv" "$out/$name.fp32.csv" \
    --max-gap "$gap" --min-agreement "$agreement" >"$out/$name.$precision-vs-fp32.json" || status=1
  /usr/bin/python3 - "$out/$name.$precision-vs-fp32.json" "$name" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
print(f"| {sys.argv[2]} | {c['images']} | {c['reference_top1']:.1f} % | {c['ours_top1']:.1f} % | "
      f"{c['reference_top5']:.1f} % | {c['ours_top5']:.1f} % | {100 * c['top1_agreement']:.1f} % |")
PY
done
exit $status
