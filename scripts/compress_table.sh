#!/usr/bin/env bash
# The Deep Compression table of README.md: compresses the authors' v1.0 file and torchvision's squeezenet1_1
# (the fp16 ncnn copy) at several bit widths, densities and k-means starts, and evaluates each .sqz on the test
# half of imagenet-sample-1000 (odd positions of the sorted names; the even ones are reserved for tuning).
#   scripts/compress_table.sh [BUILD_DIR]        prints Markdown rows and writes OUT/rows.tsv for the plot
#   RETRAIN=1 scripts/compress_table.sh          adds the retrained rows (each 10-40 minutes on 2 busy cores)
set -euo pipefail
cd "$(dirname "$0")/.."
cli="${1:-build}/squeezenet"
data="${SQUEEZENET_DATA:-../shared/data}"
out="${OUT:-build/compress}"
mkdir -p "$out"
dc="$data/deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net"
tv="$data/pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param"
: > "$out/rows.tsv"
row() {  # series, label, weights, compress arguments (empty: evaluate the weights as they are)
  local series="$1" label="$2" weights="$3" file
  shift 3
  if [ $# -gt 0 ]; then
    file="$out/$series-$label.sqz"
    "$cli" compress -w "$weights" --out "$file" "$@" | tail -1 >&2
  else
    file="$weights"
  fi
  local bytes json top1 top5
  bytes=$(du -b "$file" | cut -f1)
  [[ "$file" != *.param ]] || bytes=$((bytes + $(du -b "${file%.param}.bin" | cut -f1)))  # ncnn: .param + .bin
  json=$("$cli" eval -q -w "$file" --every 2 --offset 1 "$data/imagenet-sample-1000" | tail -1)
  top1=$(echo "$json" | sed -E 's/.*"top1":([0-9.]+).*/\1/')
  top5=$(echo "$json" | sed -E 's/.*"top5":([0-9.]+).*/\1/')
  printf '%s\t%s\t%s\t%s\t%s\n' "$series" "$label" "$bytes" "$top1" "$top5" >> "$out/rows.tsv"
  printf '| %s | %s | %s | %.1f %% | %.1f %% |\n' "$series" "$label" "$bytes" "$(awk "BEGIN{print $top1*100}")" \
    "$(awk "BEGIN{print $top5*100}")"
}
echo "| weights | encoding | bytes | test-half top-1 | top-5 |"
echo "|---|---|---:|---:|---:|"
row dc-v1.0 original-net "$dc"
row dc-v1.0 8bit-lossless "$dc" --bits 8
for b in 6 5 4; do row dc-v1.0 "${b}bit" "$dc" --bits "$b"; done
row dc-v1.0 6bit-fp16 "$dc" --bits 6 --fp16
for init in density forgy kmeans++; do
  for b in 6 5 4; do row dc-v1.0 "${b}bit-$init" "$dc" --bits "$b" --init "$init"; done
done
for w in 0.001 0.004; do row dc-v1.0 "6bit-kmeans++-fp16-ecsq$w" "$dc" --bits 6 --init kmeans++ --fp16 --entropy-weight "$w"; done
row dc-v1.0 6bit-fp16-ecsq0.001 "$dc" --bits 6 --fp16 --entropy-weight 0.001
row dc-v1.0 7bit-classifier6-fp16-ecsq0.001 "$dc" --bits 7,classifier.1=6 --fp16 --entropy-weight 0.001
row tv-1.1 dense "$tv"
row tv-1.1 pruned-0.33 "$tv" --density 0.33
for b in 6 5; do row tv-1.1 "${b}bit" "$tv" --bits "$b" --fp16; done
row tv-1.1 pruned-0.7-6bit "$tv" --density 0.7 --bits 6 --fp16
if [ "${RETRAIN:-0}" = 1 ]; then
  tune=(--tune "$data/imagenet-sample-1000" --tune-every 2 --label-weight 0)
  row dc-v1.0 6bit-retrained-3ep "$dc" --bits 6 "${tune[@]}" --epochs 3 --lr 1e-4
  row dc-v1.0 6bit-retrained-4ep "$dc" --bits 6 "${tune[@]}" --epochs 4 --lr 3e-4
  row dc-v1.0 6bit-fp16-ecsq0.001-retrained-4ep "$dc" --bits 6 --fp16 --entropy-weight 0.001 "${tune[@]}" --epochs 4 --lr 3e-4
  row dc-v1.0 7bit-classifier6-fp16-ecsq0.001-retrained-4ep "$dc" --bits 7,classifier.1=6 --fp16 --entropy-weight 0.001 \
    "${tune[@]}" --epochs 4 --lr 3e-4
  row tv-1.1 pruned-0.5-masked-6bit-retrained "$tv" --density 0.5 --bits 6 --fp16 "${tune[@]}" --prune-epochs 2 \
    --prune-lr 1e-5 --epochs 2 --lr 1e-4
fi
