#!/usr/bin/python3
"""How near int8 predictions are to fp32 on the same images (prediction CSVs of `squeezenet eval --predictions`):
same top-1 share, top-1 change, mean absolute change of the top-1 probability |dp| and mean top-5 overlap, which move
less with noise than the agreement does. With --baseline (another int8 CSV of the same images), also the paired
difference of |dp| against it, its z (difference over its standard error: |z| > 2 is beyond noise) and how many
images gained and lost fp32's top-1. Prints one JSON line.
  scripts/int8_agreement.py FP32.csv INT8.csv [--baseline INT8_BEFORE.csv]"""
import argparse
import csv
import json
import sys

import numpy as np


def load_csv(path):
    with open(path) as f:
        return {r["path"]: r for r in csv.DictReader(f)}


def abs_dp(ours, ref, common):
    return np.array([abs(float(ours[p]["top1_probability"]) - float(ref[p]["top1_probability"])) for p in common])


def compare(ours, ref):
    common = sorted(ref)
    same = np.mean([ours[p]["top1"] == ref[p]["top1"] for p in common])
    acc = lambda rows: 100.0 * np.mean([r["label"] == r["top1"] for r in rows])
    top5 = np.mean([len(set(ours[p]["top5"].split()) & set(ref[p]["top5"].split())) / 5 for p in common])
    return {"images": len(common), "same_top1": 100.0 * same, "top1_change": acc([ours[p] for p in common]) - acc(
        [ref[p] for p in common]), "mean_top1_probability_change": float(abs_dp(ours, ref, common).mean()),
        "top5_overlap": top5}


def paired(ours, baseline, ref):
    common = sorted(ref)
    d = abs_dp(ours, ref, common) - abs_dp(baseline, ref, common)
    same = lambda rows, p: rows[p]["top1"] == ref[p]["top1"]
    return {"d_abs_dp": float(d.mean()), "z": float(d.mean() / max(d.std(ddof=1) / np.sqrt(len(d)), 1e-30)),
            "gained": sum(same(ours, p) and not same(baseline, p) for p in common),
            "lost": sum(same(baseline, p) and not same(ours, p) for p in common)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("fp32")
    ap.add_argument("int8")
    ap.add_argument("--baseline")
    args = ap.parse_args()
    ref, ours = load_csv(args.fp32), load_csv(args.int8)
    if set(ours) != set(ref):
        print(f"{args.int8}: not the images of {args.fp32}", file=sys.stderr)
        return 1
    result = compare(ours, ref)
    if args.baseline:
        baseline = load_csv(args.baseline)
        if set(baseline) != set(ref):
            print(f"{args.baseline}: not the images of {args.fp32}", file=sys.stderr)
            return 1
        result.update(paired(ours, baseline, ref))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
