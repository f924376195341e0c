#!/usr/bin/env bash
# Seeds of one randomised compression recipe: compresses the Deep-Compression v1.0 weights (or WEIGHTS) once per seed and
# evaluates each file on the test half of imagenet-sample-1000 (odd positions of the sorted names). Prints one
# line per seed, then the mean and spread of bytes and top-1: a single lucky seed is not a result. Each seed's
# compress output (its tuning losses) is kept beside its file, OUT/seed-N.log.
#   scripts/compress_seeds.sh SEEDS [compress arguments...]
#   scripts/compress_seeds.sh 5 --bits 6 --init kmeans++ --fp16 --entropy-weight 0.0035
#   WEIGHTS=../shared/data/pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param scripts/compress_seeds.sh 3 ...
set -euo pipefail
cd "$(dirname "$0")/.."
cli="${BUILD:-build}/squeezenet"
data="${SQUEEZENET_DATA:-../shared/data}"
out="${OUT:-build/compress}"
seeds="$1"
shift
mkdir -p "$out"
weights="${WEIGHTS:-$data/deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net}"
for seed in $(seq 1 "$seeds"); do
  file="$out/seed-$seed.sqz"
  "$cli" compress -w "$weights" --out "$file" --seed "$seed" "$@" > "$out/seed-$seed.log"
  top1=$("$cli" eval -q -w "$file" --every 2 --offset 1 "$data/imagenet-sample-1000" | tail -1 |
         sed -E 's/.*"top1":([0-9.]+).*/\1/')
  echo "seed $seed: $(du -b "$file" | cut -f1) bytes, top-1 $top1"
done | tee /dev/stderr | awk '{b[NR] = $3; t[NR] = $6 * 100}
  END {
    for (i = 1; i <= NR; ++i) { sb += b[i]; st += t[i] }
    mb = sb / NR; mt = st / NR
    for (i = 1; i <= NR; ++i) { vt += (t[i] - mt) ^ 2; if (i == 1 || t[i] < lo) lo = t[i]; if (i == 1 || t[i] > hi) hi = t[i];
                                if (i == 1 || b[i] > bmax) bmax = b[i] }
    printf "%d seeds: mean %.0f bytes (max %d), top-1 mean %.2f %%, sd %.2f, range %.1f-%.1f %%\n",
           NR, mb, bmax, mt, (NR > 1 ? sqrt(vt / (NR - 1)) : 0), lo, hi
  }'
