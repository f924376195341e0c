#!/usr/bin/python3
"""Writes data/imagenet_classes.txt: the 1000 ILSVRC-2012 classes in index order, `wnid<TAB>name`.

Names are torchvision's (the categories its ImageNet weights carry); wnids, sorted, define the index order
(n01440764 = 0, tench), taken from a classes list of the ImageNet sample (../shared/data by default).
"""
import argparse
import os

from torchvision.models import SqueezeNet1_1_Weights


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("SQUEEZENET_DATA", "../shared/data"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data", "imagenet_classes.txt"))
    args = ap.parse_args()
    names = SqueezeNet1_1_Weights.IMAGENET1K_V1.meta["categories"]
    with open(os.path.join(args.data, "imagenet-sample-1000", "classes.txt")) as f:
        wnids = [line.split("\t")[0] for line in f if line.strip()]
    assert len(names) == len(wnids) == 1000 and wnids == sorted(wnids)
    with open(args.out, "w") as f:
        for wnid, name in zip(wnids, names):
            f.write(f"{wnid}\t{name}\n")


if __name__ == "__main__":
    main()
