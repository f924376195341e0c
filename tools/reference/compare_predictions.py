#!/usr/bin/python3
"""Per-image agreement of two prediction CSVs (ours from `squeezenet eval --predictions`, PyTorch's from
eval_reference.py): the share of images with the same top-1, and both accuracies. Exit 1 when the top-1
agreement is below --min-agreement or the accuracies differ by more than --max-gap points."""
import argparse
import csv
import json
import sys


def load(path):
    with open(path) as f:
        return {row["path"]: row for row in csv.DictReader(f)}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("ours")
    ap.add_argument("reference")
    ap.add_argument("--min-agreement", type=float, default=0.995)
    ap.add_argument("--max-gap", type=float, default=0.3, help="percentage points")
    args = ap.parse_args()
    ours, ref = load(args.ours), load(args.reference)
    common = sorted(set(ours) & set(ref))
    if not common or len(common) != len(ref):
        print(f"image lists differ: {len(ours)} ours, {len(ref)} reference, {len(common)} in both", file=sys.stderr)
        return 1
    same = sum(ours[p]["top1"] == ref[p]["top1"] for p in common)

    def acc(rows, k):
        col = "top1" if k == 1 else "top5"
        return 100.0 * sum(r["label"] in r[col].split(" ") for r in rows) / len(common)

    a1, a5 = acc([ours[p] for p in common], 1), acc([ours[p] for p in common], 5)
    r1, r5 = acc([ref[p] for p in common], 1), acc([ref[p] for p in common], 5)
    result = {"images": len(common), "top1_agreement": same / len(common), "ours_top1": a1, "ours_top5": a5,
              "reference_top1": r1, "reference_top5": r5,
              "disagreeing": [p for p in common if ours[p]["top1"] != ref[p]["top1"]][:20]}
    print(json.dumps(result))
    ok = same / len(common) >= args.min_agreement and abs(a1 - r1) <= args.max_gap and abs(a5 - r5) <= args.max_gap
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
