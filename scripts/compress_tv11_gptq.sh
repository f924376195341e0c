#!/usr/bin/env bash
# torchvision's squeezenet1_1 under 0.5 MB without pruning: GPTQ-assigned shared codes (`compress --gptq`, fitted
# to every 4th image of the sorted sample, all in the tune half), code widths per layer and entropy-constrained
# codebooks, Huffman coding. One row per recipe: bytes; top-1 and agreement with the dense model's top-1 class on
# the tune half (even positions), which chooses between recipes; top-1 on the test half (odd positions), reported
# only. Writes OUT/gptq-FIT.tsv (name, bytes, tune top-1, tune agreement, test top-1) and prints it.
#   scripts/compress_tv11_gptq.sh [BUILD_DIR]           env: FIT (fp32 | sequential; default fp32), RECIPES (names)
#   /usr/bin/python3 scripts/compress_plot.py --gptq build/compress/gptq-fp32.tsv build/compress/gptq-sequential.tsv \
#     docs/compress_gptq_tv11.png
set -euo pipefail
cd "$(dirname "$0")/.."
cli="${1:-build}/squeezenet"
data="${SQUEEZENET_DATA:-../shared/data}"
out="${OUT:-build/compress}"
weights="$data/pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param"
sample="$data/imagenet-sample-1000"
fit="${FIT:-fp32}"
table="$out/gptq-$fit.tsv"
mkdir -p "$out"

# The small layers at 5 bits (every squeeze and expand1x1) and conv1 at 6: 167K of the 1.24M weights.
small=features.0=6
for f in 3 4 6 7 9 10 11 12; do small="$small,features.$f.squeeze=5,features.$f.expand1x1=5"; done
declare -A recipe=(
  [4-3]="--bits 4,classifier.1=3"
  [5-3]="--bits 5,classifier.1=3"
  [4-4]="--bits 4,classifier.1=4"
  [4-4-ec0.03]="--bits 4,classifier.1=4 --entropy-weight classifier.1=0.03"
  [4-4-ec0.05]="--bits 4,classifier.1=4 --entropy-weight classifier.1=0.05"
  [4-4-ec0.1]="--bits 4,classifier.1=4 --entropy-weight classifier.1=0.1"
  [4-5-ec0.1]="--bits 4,classifier.1=5 --entropy-weight classifier.1=0.1"
  [mixed-3]="--bits 4,classifier.1=3,$small"
  [mixed-4-ec0.05]="--bits 4,classifier.1=4,$small --entropy-weight classifier.1=0.05"
  [mixed-4-ec0.1]="--bits 4,classifier.1=4,$small --entropy-weight classifier.1=0.1"
  [mixed-4-ec0.2]="--bits 4,classifier.1=4,$small --entropy-weight classifier.1=0.2"
  [mixed-4-ec0.05-f0.003]="--bits 4,classifier.1=4,$small --entropy-weight 0.003,classifier.1=0.05"
  [mixed-4-ec0.1-f0.003]="--bits 4,classifier.1=4,$small --entropy-weight 0.003,classifier.1=0.1"
  [mixed-4-ec0.3]="--bits 4,classifier.1=4,$small --entropy-weight classifier.1=0.3"
  [mixed-4-ec0.2-f0.01]="--bits 4,classifier.1=4,$small --entropy-weight 0.01,classifier.1=0.2"
  [mixed-3-ec0.1]="--bits 4,classifier.1=3,$small --entropy-weight classifier.1=0.1"
)
names="${RECIPES:-4-3 5-3 4-4 4-4-ec0.03 4-4-ec0.05 4-4-ec0.1 4-5-ec0.1 mixed-3 mixed-4-ec0.05 mixed-4-ec0.1 mixed-4-ec0.2 mixed-4-ec0.05-f0.003 mixed-4-ec0.1-f0.003 mixed-4-ec0.3 mixed-4-ec0.2-f0.01 mixed-3-ec0.1}"

top1() { sed -E 's/.*"top1":([0-9.]+).*/\1/'; }
# Share of the tune-half images whose top-1 class is the dense model's.
agreement() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import csv, sys
top = [{r["path"]: r["top1"] for r in csv.DictReader(open(p))} for p in sys.argv[1:]]
print(f"{sum(top[0][k] == top[1][k] for k in top[0]) / len(top[0]):.3f}")
PY
}
dense_tune=$("$cli" eval -q -w "$weights" --every 2 --offset 0 --predictions "$out/dense.tune.csv" "$sample" | tail -1 | top1)
dense_test=$("$cli" eval -q -w "$weights" --every 2 --offset 1 "$sample" | tail -1 | top1)
: > "$table"
dense_bytes=$(($(stat -c %s "$weights") + $(stat -c %s "${weights%.param}.bin")))
printf 'dense\t%s\t%s\t1.000\t%s\n' "$dense_bytes" "$dense_tune" "$dense_test" >> "$table"
for name in $names; do
  file="$out/gptq-$fit-$name.sqz"
  # shellcheck disable=SC2086  # the recipe is its words
  "$cli" compress -w "$weights" ${recipe[$name]} --init linear --fp16 --gptq "$sample" --tune-every 4 \
    --gptq-fit "$fit" --out "$file" > "${file%.sqz}.log"
  tune=$("$cli" eval -q -w "$file" --every 2 --offset 0 --predictions "${file%.sqz}.tune.csv" "$sample" | tail -1 | top1)
  test=$("$cli" eval -q -w "$file" --every 2 --offset 1 "$sample" | tail -1 | top1)
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$(stat -c %s "$file")" "$tune" \
    "$(agreement "$out/dense.tune.csv" "${file%.sqz}.tune.csv")" "$test" >> "$table"
done
column -t "$table"
