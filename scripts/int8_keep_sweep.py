#!/usr/bin/python3
"""Which convs int8 should keep in fp32: for one model, the int8 file with each single conv (or each given set)
kept in fp32, evaluated on a labelled folder against fp32. A kept variant is the all-int8 file with that conv's
I8 weight swapped for the fp32 one (and its uncorrected bias), which is what `quantize --keep-fp32` writes, without
calibrating again. Prints one JSON line per variant: top-1 agreement with fp32, top-1 change, mean absolute change
of the top-1 probability, mean top-5 overlap.
  scripts/int8_keep_sweep.py FP32.safetensors INT8.safetensors FOLDER --preset P --out DIR [--sets a,b c ...]"""
import argparse
import json
import os
import struct
import subprocess
import sys

import numpy as np

from int8_agreement import compare, load_csv

DTYPES = {"F32": np.float32, "I8": np.int8}


def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], DTYPES[v["dtype"]]).reshape(v["shape"])
               for k, v in header.items()}
    return tensors, meta


def write(path, tensors, meta):
    header, blobs, at = {"__metadata__": meta}, [], 0
    for k, v in tensors.items():
        b = np.ascontiguousarray(v).tobytes()
        header[k] = {"dtype": {np.dtype(np.float32): "F32", np.dtype(np.int8): "I8"}[v.dtype], "shape": list(v.shape),
                     "data_offsets": [at, at + len(b)]}
        blobs.append(b)
        at += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(path + ".tmp", path)


def kept(fp32, q, meta, names):
    t, m = dict(q), dict(meta)
    for n in names:
        t[n + ".weight"] = fp32[n + ".weight"].astype(np.float32)
        t[n + ".bias"] = fp32[n + ".bias"].astype(np.float32)
        del t[n + ".weight_scale"]
    m["keep_fp32"] = ",".join(names)
    return t, m


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("fp32")
    ap.add_argument("int8")
    ap.add_argument("folder")
    ap.add_argument("--preset", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sets", nargs="*", help="comma-separated conv sets to keep (default: none, then each conv)")
    ap.add_argument("--binary", default="build/squeezenet")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    fp32, _ = read(args.fp32)
    q, meta = read(args.int8)
    convs = [k[:-len(".weight_scale")] for k in q if k.endswith(".weight_scale")]
    order = lambda n: [int(x) if x.isdigit() else x for x in n.replace(".", " ").split()]
    sets = args.sets if args.sets is not None else ["none"] + sorted(convs, key=order)

    def evaluate(weights, precision, name):
        out = os.path.join(args.out, name + ".csv")
        if not os.path.exists(out):
            subprocess.run([args.binary, "eval", args.folder, "-w", weights, "--preset", args.preset, "-q",
                            "--precision", precision, "--predictions", out], check=True, stdout=subprocess.DEVNULL)
        return load_csv(out)

    ref = evaluate(args.fp32, "fp32", "fp32")
    for s in sets:
        names = [] if s == "none" else s.split(",")
        path = os.path.join(args.out, "keep-" + s.replace(",", "+") + ".safetensors")
        write(path, *kept(fp32, q, meta, names)) if names else write(path, q, meta)
        print(json.dumps({"keep_fp32": s, **compare(evaluate(path, "int8", "keep-" + s.replace(",", "+")), ref)}),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
