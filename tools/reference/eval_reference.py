#!/usr/bin/python3
"""PyTorch's answers for `squeezenet eval`: the same folder, weights and preset, per-image top-5 as CSV
(the same columns as `squeezenet eval --predictions`) and a JSON summary line.

  eval_reference.py --weights W.safetensors --preset caffe --folder DIR --out ref.csv [--every 5]
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from torch_reference import model_from_safetensors, preprocess  # noqa: E402

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def labelled_images(folder, classes_file):
    """Flat folders of wnid-named files (ImageNet indices) or ImageFolder layouts (sorted class folders)."""
    wnids = [line.split("\t")[0] for line in open(classes_file) if line.strip()]
    index = {w: i for i, w in enumerate(wnids)}
    subdirs = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
    items = []
    if subdirs:
        imagenet = all(d in index for d in subdirs)
        for k, d in enumerate(subdirs):
            files = sorted(os.path.join(root, f) for root, _, names in os.walk(os.path.join(folder, d)) for f in names)
            items += [(p, index[d] if imagenet else k) for p in files if p.lower().endswith(IMAGE_EXTENSIONS)]
    else:
        for f in sorted(os.listdir(folder)):
            if f.lower().endswith(IMAGE_EXTENSIONS):
                items.append((os.path.join(folder, f), index[f[:9]]))
    return items


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True, help="safetensors written by `squeezenet convert`")
    ap.add_argument("--preset", help="default: the weights' metadata")
    ap.add_argument("--folder", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--classes", default=os.path.join(here, "..", "..", "data", "imagenet_classes.txt"))
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    model, meta = model_from_safetensors(args.weights)
    preset = args.preset or meta.get("preset", "torchvision")
    items = labelled_images(args.folder, args.classes)[:: args.every]
    if args.limit:
        items = items[: args.limit]
    top1 = top5 = 0
    start = time.time()
    with open(args.out + ".tmp", "w") as out:
        out.write("path,label,top1,top5,top1_probability\n")
        for b in range(0, len(items), args.batch):
            chunk = items[b:b + args.batch]
            x = torch.stack([preprocess(p, preset) for p, _ in chunk])
            with torch.no_grad():
                probs = torch.softmax(model(x), dim=1)
            p5, i5 = probs.topk(5, dim=1)
            for (path, label), ps, idx in zip(chunk, p5.tolist(), i5.tolist()):
                top1 += idx[0] == label
                top5 += label in idx
                out.write(f"{json.dumps(path)},{label},{idx[0]},{' '.join(map(str, idx))},{ps[0]}\n")
            print(f"\r{b + len(chunk)}/{len(items)}", end="", file=sys.stderr)
    os.replace(args.out + ".tmp", args.out)
    print(file=sys.stderr)
    n = len(items)
    print(json.dumps({"weights": args.weights, "preset": preset, "images": n, "top1": top1 / n, "top5": top5 / n,
                      "top1_correct": top1, "top5_correct": top5, "seconds": time.time() - start}))


if __name__ == "__main__":
    main()
