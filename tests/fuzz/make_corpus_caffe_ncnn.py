#!/usr/bin/env python3
"""Seed corpora for fuzz_caffemodel and fuzz_ncnn, generated from a fixed seed (nothing here is committed).

    python3 tests/fuzz/make_corpus_caffe_ncnn.py --out build-fuzz/corpus [--data ../shared/data]

writes OUT/caffemodel/*.caffemodel and OUT/ncnn/*.ncnn: whole SqueezeNets of both architectures (1 class,
so that they stay small) in every layout the readers accept, plus small files that stop early in the
parsers. An .ncnn seed is the layout fuzz_ncnn.cpp reads: uint32 LE length of the .param text, the text,
then the .bin bytes. With --data, the two real ncnn models of the shared data are added as seeds too.

Run the fuzzers with -max_len=4000000: libFuzzer otherwise cuts inputs at 1 MB, and the whole-model seeds
(1.4 to 2.9 MB) would never get past the weights into the checks that follow them.
"""
import argparse
import os
import struct

import numpy as np
from seed_corpus import write_seeds

# torchvision's Fire(inplanes, squeeze, expand1x1, expand3x3) lists and the fires after which a max pool
# comes, as numbered in the Caffe names (fire2 .. fire9).
FIRES = [(16, 64), (16, 64), (32, 128), (32, 128), (48, 192), (48, 192), (64, 256), (64, 256)]
ARCHS = {
    "squeezenet1_0": {"conv1": (96, 7), "pool_after": {4, 8}},
    "squeezenet1_1": {"conv1": (64, 3), "pool_after": {3, 5}},
}


def convs(arch, classes):
    """(caffe name, out, in, kernel, stride, pad) for the 26 convs in forward order."""
    out1, k1 = ARCHS[arch]["conv1"]
    rows = [("conv1", out1, 3, k1, 2, 0)]
    inplanes = out1
    for i, (s, e) in enumerate(FIRES):
        f = f"fire{i + 2}/"
        rows += [(f + "squeeze1x1", s, inplanes, 1, 1, 0), (f + "expand1x1", e, s, 1, 1, 0),
                 (f + "expand3x3", e, s, 3, 1, 1)]
        inplanes = 2 * e
    rows.append(("conv10", classes, 512, 1, 1, 1 if arch == "squeezenet1_0" else 0))
    return rows


def weights(rng, rows):
    return [(rng.standard_normal((o, i, k, k)).astype("<f4") * 0.1, rng.standard_normal(o).astype("<f4") * 0.1)
            for _, o, i, k, _, _ in rows]


# --- protobuf, by hand: only varints and length-delimited fields are needed -------------------------------
def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field(num, value):
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    return varint(num << 3 | 2) + varint(len(value)) + value


def blob(array, legacy):
    if legacy:  # V1: num/channels/height/width (fields 1-4), a bias as 1x1x1xN
        dims = (1,) * (4 - array.ndim) + array.shape
        head = b"".join(field(n, d) for n, d in zip((1, 2, 3, 4), dims))
    else:  # BlobShape (field 7) of packed dims
        head = field(7, b"".join(field(1, d) for d in array.shape))
    return head + field(5, array.astype("<f4").tobytes())


def conv_param(out, k, stride, pad):
    p = field(1, out) + field(4, k)
    if stride != 1:
        p += field(6, stride)
    if pad != 0:
        p += field(3, pad)
    return p


def caffemodel(rows, params, v1):
    net = field(1, b"squeezenet")
    for (name, out, _, k, stride, pad), (w, b) in zip(rows, params):
        if v1:  # V1LayerParameter in NetParameter.layers (2): name 4, type 5 (CONVOLUTION = 4), blobs 6, param 10
            layer = field(4, name.encode()) + field(5, 4) + field(6, blob(w, True)) + field(6, blob(b, True))
            net += field(2, layer + field(10, conv_param(out, k, stride, pad)))
        else:  # LayerParameter in NetParameter.layer (100): name 1, type 2, bottom 3, top 4, blobs 7, param 106
            layer = field(1, name.encode()) + field(2, b"Convolution") + field(7, blob(w, False)) + field(7, blob(b, False))
            net += field(100, layer + field(106, conv_param(out, k, stride, pad)))
    return net


# --- ncnn ----------------------------------------------------------------------------------------------------
def ncnn_model(arch, rows, params, fp16, caffe_names):
    """A .param text and .bin bytes in the layout of ncnn's converters (Split before each Fire's expands)."""
    lines, blobs = [], 0

    def layer(kind, name, inputs, outputs, args=""):
        nonlocal blobs
        blobs += len(outputs)
        lines.append(f"{kind} {name} {len(inputs)} {len(outputs)} {' '.join(inputs + outputs)} {args}".rstrip())

    def conv(i, src):
        name, out, _, k, stride, pad = rows[i]
        w = params[i][0]
        label = name if caffe_names else f"convrelu_{i}"
        layer("Convolution", label, [src], [label + "_out"], f"0={out} 1={k} 3={stride} 4={pad} 5=1 6={w.size} 9=1")
        return label + "_out"

    layer("Input", "data", [], ["data"], "0=227 1=227 2=3")
    x = conv(0, "data")
    layer("Pooling", "pool1", [x], ["pool1"], "0=0 1=3 2=2")
    x = "pool1"
    for f in range(8):
        i = 1 + 3 * f
        sq = conv(i, x)
        layer("Split", f"split{f}", [sq], [sq + "_a", sq + "_b"])
        e1, e3 = conv(i + 1, sq + "_a"), conv(i + 2, sq + "_b")
        layer("Concat", f"concat{f}", [e1, e3], [f"concat{f}"], "0=0")
        x = f"concat{f}"
        if f + 2 in ARCHS[arch]["pool_after"]:
            layer("Pooling", f"pool{f + 2}", [x], [f"pool{f + 2}"], "0=0 1=3 2=2")
            x = f"pool{f + 2}"
    x = conv(25, x)
    layer("Pooling", "pool10", [x], ["pool10"], "0=1 4=1")
    text = "7767517\n" + f"{len(lines)} {blobs}\n" + "\n".join(lines) + "\n"
    bin_ = bytearray()
    for w, b in params:
        if fp16:
            data = w.astype("<f2").tobytes()
            bin_ += struct.pack("<I", 0x01306B47) + data + b"\0" * (-len(data) % 4)
        else:
            bin_ += struct.pack("<I", 0) + w.tobytes()
        bin_ += b.tobytes()
    return text.encode(), bytes(bin_)


def pack_ncnn(param, bin_):
    return struct.pack("<I", len(param)) + param + bin_


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default=os.environ.get("SQUEEZENET_DATA"))
    args = ap.parse_args()
    rng = np.random.default_rng(20240917)
    caffe_seeds, ncnn_seeds = {}, {}
    for arch in ARCHS:
        rows = convs(arch, 1)
        params = weights(rng, rows)
        caffe_seeds[f"{arch}.caffemodel"] = caffemodel(rows, params, v1=False)
        caffe_seeds[f"{arch}_v1.caffemodel"] = caffemodel(rows, params, v1=True)
        caffe_seeds[f"{arch}_first3.caffemodel"] = caffemodel(rows[:3], params[:3], v1=False)
        for fp16 in (True, False):
            for caffe_names in (True, False):
                tag = ("fp16" if fp16 else "fp32") + ("_caffe" if caffe_names else "_pnnx")
                ncnn_seeds[f"{arch}_{tag}.ncnn"] = pack_ncnn(*ncnn_model(arch, rows, params, fp16, caffe_names))
    small = [np.ones((2, 3, 3, 3), "<f4"), np.ones(2, "<f4")]
    caffe_seeds["one_conv.caffemodel"] = caffemodel([("c", 2, 3, 3, 1, 0)], [small], v1=False)
    caffe_seeds["inner_product.caffemodel"] = field(
        100, field(1, b"fc") + field(2, b"InnerProduct") + field(7, blob(small[1], False)))
    caffe_seeds["empty.caffemodel"] = b""
    one = b"7767517\n2 2\nInput in 0 1 in\nConvolution c 1 1 in out 0=2 1=3 5=1 6=54 9=1 -23310=1,0.0\n"
    ncnn_seeds["one_conv.ncnn"] = pack_ncnn(one, struct.pack("<I", 0) + small[0].tobytes() + small[1].tobytes())
    ncnn_seeds["magic_only.ncnn"] = pack_ncnn(b"7767517\n", b"")

    if args.data:
        for folder, stem in [("pnnx-ncnn-torchvision-squeezenet1.1-fp16", "squeezenet_v1.1.ncnn"),
                             ("ncnn-caffe-squeezenet1.1-fp16", "squeezenet_v1.1")]:
            base = os.path.join(args.data, folder, stem)
            if os.path.exists(base + ".param"):
                with open(base + ".param", "rb") as p, open(base + ".bin", "rb") as b:
                    ncnn_seeds[f"real_{folder}.ncnn"] = pack_ncnn(p.read(), b.read())
    write_seeds(args.out, "fuzz_caffemodel", caffe_seeds)
    write_seeds(args.out, "fuzz_ncnn", ncnn_seeds)


if __name__ == "__main__":
    main()
