#!/usr/bin/env bash
# Int8 against fp32 on the 1000-image ImageNet sample, for every real weights file in ../shared/data: each is
# quantized with `squeezenet quantize`, calibrated on hymenoptera_data/train (images not in the sample), then
# both precisions are evaluated and compared image by image (agreement, mean abs change of the top-1 probability,
# top-5 overlap: scripts/int8_agreement.py). Prints a Markdown table; files stay in
# build/accuracy_int8/. Exits 1 when int8 top-1 is more than 0.5 point off fp32 or agrees on < 97 % of images.
#   scripts/accuracy_int8.sh [--method minmax|percentile|kl|mse] [--fit sequential|independent] [--count N]
#                            [--every K] [--only NAME] [--keep-fp32 CONV,CONV...] [--calibration-set SET]
#                            [--weight-bits B]
# --calibration-set (scripts/calibration_sets.sh): hymenoptera (default), debian-photos, debian-photos+hymenoptera,
# or sample-tune-half, a diagnostic that calibrates on the sample's even positions and evaluates on its odd ones only.
# Any set but hymenoptera also prints the paired change against the hymenoptera file on the same images.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${SQUEEZENET_DATA:-$(cd .. && pwd)/shared/data}"
method=mse fit=sequential count=64 every=1 only="" keep=none set=hymenoptera bits=8
while [ $# -gt 0 ]; do
  case "$1" in
    --method) method="$2"; shift 2 ;;
    --fit) fit="$2"; shift 2 ;;
    --count) count="$2"; shift 2 ;;
    --every) every="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --keep-fp32) keep="$2"; shift 2 ;;
    --calibration-set) set="$2"; shift 2 ;;
    --weight-bits) bits="$2"; shift 2 ;;
    *) echo "usage: $0 [--method M] [--fit F] [--count N] [--every K] [--only NAME] [--keep-fp32 LIST] [--calibration-set SET] [--weight-bits B]" >&2
       exit 1 ;;
  esac
done
[ -x build/squeezenet ] || scripts/setup.sh
out=build/accuracy_int8
mkdir -p "$out"
folder="$DATA/imagenet-sample-1000"
source scripts/calibration_sets.sh
calibration=$(calibration_folder "$set" "$out")
offset=0
# The diagnostic's images are the sample's even positions: only the odd ones are fair to evaluate on.
[ "$set" = sample-tune-half ] && every=$((2 * every)) offset=1

source scripts/real_models.sh
echo "| weights | calibration | images | fp32 top-1 | int8 top-1 | change | same top-1 | mean abs dp | top-5 overlap |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
status=0
for m in "${models[@]}"; do
  IFS='|' read -r name weights preset <<<"$m"
  if [ -n "$only" ] && [ "$only" != "$name" ]; then continue; fi
  base="int8-$method-$fit-$count-keep-$keep" && [ "$bits" != 8 ] && base="$base-w$bits"
  tag="$base" && [ "$set" != hymenoptera ] && tag="$base-$set"
  fp32="$out/$name.safetensors" q="$out/$name.$tag.safetensors"
  build/squeezenet convert "$weights" "$fp32" >/dev/null
  build/squeezenet quantize --weights "$fp32" --preset "$preset" --calibrate "$calibration" --count "$count" \
    --method "$method" --fit "$fit" --keep-fp32 "$keep" --weight-bits "$bits" --out "$q" >"$out/$name.$tag.log" 2>&1
  images="--every $every --offset $offset"
  fp32_csv="$out/$name.fp32.every$every.offset$offset.csv"
  [ -s "$fp32_csv" ] ||
    build/squeezenet eval "$folder" -w "$fp32" --preset "$preset" $images -q --predictions "$fp32_csv" >/dev/null
  build/squeezenet eval "$folder" -w "$q" --preset "$preset" --precision int8 $images -q \
    --predictions "$out/$name.$tag.every$every.offset$offset.csv" >/dev/null
  baseline=()
  if [ "$set" != hymenoptera ] && [ -s "$out/$name.$base.safetensors" ]; then
    baseline_csv="$out/$name.$base.every$every.offset$offset.csv"
    [ -s "$baseline_csv" ] || build/squeezenet eval "$folder" -w "$out/$name.$base.safetensors" --preset "$preset" \
      --precision int8 $images -q --predictions "$baseline_csv" >/dev/null
    baseline=(--baseline "$baseline_csv")
  fi
  /usr/bin/python3 tools/reference/compare_predictions.py "$out/$name.$tag.every$every.offset$offset.csv" "$fp32_csv" \
    --min-agreement 0.97 --max-gap 0.5 >"$out/$name.$tag.compare.json" || status=1
  /usr/bin/python3 scripts/int8_agreement.py "$fp32_csv" "$out/$name.$tag.every$every.offset$offset.csv" "${baseline[@]}" \
    >"$out/$name.$tag.agreement.json"
  /usr/bin/python3 - "$out/$name.$tag.compare.json" "$out/$name.$tag.agreement.json" "$name" \
    "$set, $method, $fit, keep $keep, $bits-bit weights" "$count" <<'PY'
import json, sys
c, a = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
paired = f" (against hymenoptera: d {a['d_abs_dp']:+.4f}, z {a['z']:+.1f}, +{a['gained']} -{a['lost']})" if "z" in a else ""
print(f"| {sys.argv[3]} | {sys.argv[4]}, {sys.argv[5]} images | {c['images']} | {c['reference_top1']:.1f} % | "
      f"{c['ours_top1']:.1f} % | {c['ours_top1'] - c['reference_top1']:+.1f} pt | {100 * c['top1_agreement']:.1f} % | "
      f"{a['mean_top1_probability_change']:.4f}{paired} | {a['top5_overlap']:.3f} |")
PY
done
exit $status
