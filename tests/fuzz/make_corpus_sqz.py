#!/usr/bin/python3
"""Seed corpus for fuzz_sqz, written by an encoder of docs/sqz-format.md independent of the C++ writer.

    python3 tests/fuzz/make_corpus_sqz.py --out build-fuzz/corpus

writes OUT/fuzz_sqz/*: small files with float32, float16 and coded tensors (both position modes, long gaps
that need escape symbols, a one-symbol table), from a fixed seed.
"""
import argparse
import hashlib
import heapq
import struct

import numpy as np
from seed_corpus import write_seeds


def huffman_lengths(counts):
    heap = [(c, i, [s]) for i, (s, c) in enumerate(sorted(counts.items()))]
    if len(heap) == 1:
        return {heap[0][2][0]: 1}
    lengths = {s: 0 for s in counts}
    heapq.heapify(heap)
    tie = len(heap)
    while len(heap) > 1:
        ca, _, a = heapq.heappop(heap)
        cb, _, b = heapq.heappop(heap)
        for s in a + b:
            lengths[s] += 1
        heapq.heappush(heap, (ca + cb, tie, a + b))
        tie += 1
    return lengths


def stream(symbols):
    counts = {}
    for s in symbols:
        counts[s] = counts.get(s, 0) + 1
    lengths = huffman_lengths(counts)
    top = max(lengths.values())
    order = sorted(lengths, key=lambda s: (lengths[s], s))
    codes, code, prev = {}, 0, 1
    for s in order:
        code <<= lengths[s] - prev
        prev = lengths[s]
        codes[s] = code
        code += 1
    bits = "".join(format(codes[s], "0%db" % lengths[s]) for s in symbols)
    bits += "0" * (-len(bits) % 8)
    data = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
    table = struct.pack("<B", top) + b"".join(struct.pack("<H", sum(1 for s in order if lengths[s] == l))
                                              for l in range(1, top + 1))
    return table + bytes(order) + struct.pack("<I", len(data)) + data


def coded(values, codebook, gaps, half=False):
    code_of = {v: i + 1 for i, v in enumerate(codebook)}
    flat = values.ravel()
    out = struct.pack("<BH", 1 if half else 0, len(codebook))
    out += np.asarray(codebook, "<f2" if half else "<f4").tobytes()
    nz = [i for i in range(flat.size) if flat[i] != 0]
    out += struct.pack("<BI", 1 if gaps else 0, len(nz))
    if not gaps:
        return out + stream([code_of.get(float(v), 0) for v in flat])
    gap_symbols, prev = [], -1
    for i in nz:
        g = i - prev - 1
        while g >= 255:
            gap_symbols.append(255)
            g -= 255
        gap_symbols.append(g)
        prev = i
    return out + stream([code_of[float(flat[i])] for i in nz]) + stream(gap_symbols)


def record(name, shape, kind, payload):
    n = name.encode()
    return struct.pack("<H", len(n)) + n + struct.pack("<B", len(shape)) + struct.pack("<%dI" % len(shape), *shape) + \
        struct.pack("<B", kind) + payload


def sqz(meta, records):
    body = b"SQZN" + struct.pack("<II", 1, len(meta))
    for k, v in meta.items():
        body += struct.pack("<H", len(k)) + k.encode() + struct.pack("<I", len(v)) + v.encode()
    body += struct.pack("<I", len(records)) + b"".join(records)
    return body + hashlib.sha256(body).digest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default=None, help="unused; accepted like the other generators")
    args = ap.parse_args()
    rng = np.random.default_rng(11)
    codebook = [float(np.float32(x)) for x in np.linspace(-1, 1, 7) if x != 0]
    sparse = np.where(rng.random((4, 3, 3, 3)) < 0.3, rng.choice(codebook, (4, 3, 3, 3)), 0).astype("<f4")
    dense = rng.choice(codebook, (8, 4, 1, 1)).astype("<f4")
    long_gaps = np.zeros((2, 300, 1, 1), "<f4")
    long_gaps[0, 0], long_gaps[1, 299] = codebook[0], codebook[3]
    bias = rng.standard_normal(4).astype("<f4")
    meta = {"arch": "squeezenet1_1", "num_classes": "4"}
    seeds = {
        "floats": sqz(meta, [record("a.bias", [4], 0, bias.tobytes()),
                             record("b.bias", [4], 1, bias.astype("<f2").tobytes())]),
        "sparse": sqz(meta, [record("c.weight", list(sparse.shape), 2, coded(sparse, codebook, True))]),
        "dense": sqz({}, [record("d.weight", list(dense.shape), 2, coded(dense, codebook, False, half=True))]),
        "escapes": sqz({}, [record("e.weight", list(long_gaps.shape), 2, coded(long_gaps, codebook, True))]),
        "one_symbol": sqz({}, [record("f.weight", [3, 3], 2, coded(np.full((3, 3), codebook[2], "<f4"), codebook, False))]),
    }
    write_seeds(args.out, "fuzz_sqz", seeds)


if __name__ == "__main__":
    main()
