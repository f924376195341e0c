#!/usr/bin/python3
"""Exit 0 when two safetensors files hold the same tensors, byte for byte (metadata, such as timings, may differ).

    same_tensors.py A.safetensors B.safetensors
"""
import json
import struct
import sys


def tensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header.pop("__metadata__", None)
    body = raw[8 + n :]
    return {k: (v["dtype"], v["shape"], body[v["data_offsets"][0] : v["data_offsets"][1]]) for k, v in header.items()}


a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
if differ:
    print(f"{len(differ)} tensors differ, e.g. {differ[:3]}")
    sys.exit(1)
