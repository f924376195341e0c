#!/usr/bin/python3
"""The size of a model's weights without entropy coding, in bytes, for the per-stage plot.

    /usr/bin/python3 scripts/compress_plain_size.py CLI WEIGHTS

Per weight tensor: a bitmask of the kept positions (1 bit each, only where some are pruned), then the kept values,
as fixed-width codes of ceil(log2(distinct + 1)) bits plus a float16 codebook where the tensor has at most 255
distinct non-zero values (weight-shared), else as float16 where every value is exactly one, else float32. Biases
as float16 where exact, else float32. A plain layout, so that the plot can set the entropy coding's gain apart.
"""
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools", "reference"))
from torch_reference import read_safetensors  # noqa: E402


def value_bits(values):
    return 16 if np.array_equal(values.astype(np.float16).astype(np.float32), values) else 32


def plain_bits(name, t):
    flat = t.ravel()
    if not name.endswith("weight"):
        return flat.size * value_bits(flat)
    kept = flat[flat != 0]
    mask = flat.size if kept.size < flat.size else 0
    distinct = np.unique(kept).size
    if distinct <= 255:
        return mask + kept.size * max(1, math.ceil(math.log2(distinct + 1))) + distinct * 16
    return mask + kept.size * value_bits(kept)


def main():
    cli, weights = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        st = os.path.join(tmp, "w.safetensors")
        subprocess.run([cli, "convert", weights, st], check=True, stdout=subprocess.DEVNULL)
        tensors, _ = read_safetensors(st)
    print(math.ceil(sum(plain_bits(k, v) for k, v in tensors.items()) / 8))


if __name__ == "__main__":
    main()
