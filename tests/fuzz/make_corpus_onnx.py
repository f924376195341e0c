#!/usr/bin/python3
"""Seed corpus for fuzz_onnx, generated from a fixed seed (nothing here is committed).

    python3 tests/fuzz/make_corpus_onnx.py --out build-fuzz/corpus

writes OUT/fuzz_onnx/*.onnx: whole SqueezeNets of both architectures (1 class, so that they stay small) in every
layout the reader accepts (torch.onnx.export before and after opset 10, the ONNX model zoo's Caffe2 and MXNet
layouts), weights as raw_data, as float_data and as float16, plus small graphs that stop early in the walk.
"""
import argparse
import io
import os
import sys
import warnings

import numpy as np
import onnx
import torch
import torchvision
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from onnx_layouts import zoo_graph  # noqa: E402
from seed_corpus import write_seeds  # noqa: E402


def seeded(arch, pad=0):
    torch.manual_seed(20240917)
    model = getattr(torchvision.models, arch)(num_classes=1).eval()
    model.classifier[1].padding = (pad, pad)
    return model


def torch_export(model, opset):
    buf = io.BytesIO()
    torch.onnx.export(model, torch.zeros(1, 3, 64, 64), buf, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}}, opset_version=opset)
    return onnx.load_from_string(buf.getvalue())


def with_storage(m, kind):
    """The same model with its initializers stored as float_data or as float16 raw_data."""
    m = onnx.ModelProto.FromString(m.SerializeToString())
    for t in m.graph.initializer:
        a = numpy_helper.to_array(t)
        if kind == "float_data":
            t.ClearField("raw_data")
            t.float_data[:] = a.reshape(-1).tolist()
        else:
            t.CopyFrom(numpy_helper.from_array(a.astype(np.float16), t.name))
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    seeds = {}

    def save(name, m):
        seeds[name + ".onnx"] = m if isinstance(m, bytes) else m.SerializeToString()

    for arch in ("squeezenet1_0", "squeezenet1_1"):
        for opset in (9, 13):
            m = torch_export(seeded(arch), opset)
            save(f"torch_{arch}_opset{opset}", m)
        save(f"torch_{arch}_float_data", with_storage(m, "float_data"))
        save(f"torch_{arch}_float16", with_storage(m, "float16"))
    save("zoo1.0", zoo_graph("zoo1.0", seeded("squeezenet1_0", pad=1)))
    save("zoo1.1", zoo_graph("zoo1.1", seeded("squeezenet1_1")))

    w = numpy_helper.from_array(np.ones((64, 3, 3, 3), np.float32), "w")
    b = numpy_helper.from_array(np.zeros(64, np.float32), "b")
    one_conv = helper.make_graph([helper.make_node("Conv", ["x", "w", "b"], ["y"], strides=[2, 2])], "g",
                                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w, b])
    save("one_conv", helper.make_model(one_conv))
    save("empty", b"")
    write_seeds(args.out, "fuzz_onnx", seeds)


if __name__ == "__main__":
    main()
