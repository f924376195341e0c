#!/usr/bin/python3
"""Seed corpora for fuzz_safetensors, fuzz_npy and fuzz_deep_compression: small valid files and a few near-misses."""
import argparse
import json
import os
import struct

import numpy as np
from seed_corpus import write_seeds


def safetensors(tensors, meta=None):
    header, blobs, off = {}, b"", 0
    if meta:
        header["__metadata__"] = meta
    for name, a in tensors.items():
        raw = np.ascontiguousarray(a, "<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs += raw
        off += len(raw)
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + blobs


def npy(a):
    import io
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default=os.environ.get("SQUEEZENET_DATA", "../shared/data"))
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    seeds = {
        "fuzz_safetensors": {
            "small": safetensors({"a": rng.standard_normal((2, 3)), "b": rng.standard_normal(4)}, {"arch": "squeezenet1_1"}),
            "conv": safetensors({"features.0.weight": rng.standard_normal((64, 3, 3, 3)),
                                 "features.0.bias": np.zeros(64)}),
            "empty": safetensors({}),
        },
        "fuzz_npy": {
            "f4": npy(rng.standard_normal((3, 2)).astype("<f4")),
            "f2": npy(rng.standard_normal(5).astype("<f2")),
            "f8": npy(rng.standard_normal((1, 1, 2)).astype("<f8")),
            "scalar": npy(np.float32(3.0)),
        },
        "fuzz_deep_compression": {},
    }
    dc = os.path.join(args.data, "deep-compression-squeezenet-v1.0", "compressed_SqueezeNet.net")
    if os.path.exists(dc):
        data = open(dc, "rb").read()
        seeds["fuzz_deep_compression"]["full"] = data
        seeds["fuzz_deep_compression"]["head"] = data[:4096]
    for target, files in seeds.items():
        write_seeds(args.out, target, files)


if __name__ == "__main__":
    main()
