#!/usr/bin/env bash
# The CLI's main commands once each on real files, for a sanitizer build: run under ASan, a leak, an invalid
# access or undefined behaviour makes the command fail, and this script with it.
#   scripts/cli_smoke.sh BUILD/squeezenet
set -euo pipefail
cli="$(realpath "$1")"
data="${SQUEEZENET_DATA:-$(cd "$(dirname "$0")/../.." && pwd)/shared/data}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
net="$data/deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net"
param="$data/pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param"
npy="$data/webnn-squeezenet1.1-nchw-npy/weights"
images="$data/imagenet-sample-1000"
run() {
  echo "+ squeezenet $*"
  "$cli" "$@" >"$work/out" 2>&1 || { cat "$work/out"; echo "cli_smoke: 'squeezenet $*' failed" >&2; exit 1; }
}

run info --arch squeezenet1_0
for w in "$net" "$param" "$npy"; do run info -w "$w"; done
run classify -w "$param" -t 2 "$images/n01531178_goldfinch.JPEG" "$images/n01440764_tench.JPEG"
run classify -w "$net" --json --cam "$work/cam.png" "$images/n01531178_goldfinch.JPEG"
run convert "$net" "$work/dc.safetensors"
run convert "$param" "$work/tv.pth"
run convert "$work/tv.pth" "$work/tv.caffemodel"
head -c $((3 * 64 * 64 * 4)) /dev/urandom >"$work/x.bin"
run predict -w "$work/tv.caffemodel" --input "$work/x.bin" --shape 1,3,64,64 -o "$work/logits.bin"

# A labelled folder of four ImageNet files (wnid_*.JPEG), and train/ + val/ of two classes, two images each.
mkdir -p "$work/eval" "$work"/data/{train,val}/{ants,bees}
for f in n01440764_tench n01531178_goldfinch n02099601_golden_retriever n01443537_goldfish; do
  cp "$images/$f.JPEG" "$work/eval/"
done
run eval -w "$param" -q "$work/eval" --csv "$work/per_class.csv"
for split in train val; do
  for cls in ants bees; do
    mapfile -t files < <(find "$data/hymenoptera_data/$split/$cls" -name '*.jpg' | sort)
    cp "${files[@]:0:2}" "$work/data/$split/$cls/"
  done
done
run finetune --weights "$work/tv.pth" --data "$work/data" --classes 2 --epochs 1 --batch-size 2 --quiet --out "$work/run"
run train --arch squeezenet1_1 --data "$work/data" --epochs 1 --batch-size 2 --quiet --out "$work/scratch"
run bench --arch squeezenet1_1 --batch 1 --threads 2 --iters 2 --input 64
echo "cli_smoke: every command ran clean"
