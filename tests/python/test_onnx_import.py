"""Every command reads SqueezeNet .onnx files made elsewhere, and refuses other graphs with one clear line.

The graphs come from tests/fixtures/make_onnx_fixtures.py: torch.onnx.export of torchvision's models at every
opset from 7 to 17, and the ONNX model zoo's squeezenet1.0 (Caffe2) and squeezenet1.1 (MXNet Gluon) layouts.
"""
import json
import os

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from conftest import FIXTURES
from onnx_runtimes import onnxruntime_logits
from torch_reference import read_safetensors

ONNX_FIXTURES = os.path.join(FIXTURES, "onnx")


def manifest():
    path = os.path.join(ONNX_FIXTURES, "manifest.json")
    return json.load(open(path))["cases"] if os.path.exists(path) else []


CASES = {c["name"]: c for c in manifest()}


def fixture(name):
    return os.path.join(ONNX_FIXTURES, name)


def predict(cli, tmp_path, model, input_bin, shape):
    code, text = cli("predict", "--weights", model, "--input", input_bin, "--shape", ",".join(map(str, shape)),
                     "-o", tmp_path / "y.bin")
    assert code == 0, text
    return np.fromfile(tmp_path / "y.bin", "<f4")


@pytest.mark.parametrize("name", CASES.keys())
def test_onnx_graphs_give_the_logits_of_their_origin(cli, tmp_path, name):
    c = CASES[name]
    got = predict(cli, tmp_path, fixture(c["file"]), fixture(c["input"]), c["input_shape"])
    want = np.fromfile(fixture(c["logits"]), "<f4")
    assert got.size == want.size
    diff = float(np.abs(got - want).max())
    print(f"{name}: max |ours - reference| = {diff:.3g}, max |logit| = {float(np.abs(want).max()):.3g}")
    assert diff <= c["tolerance"]

    code, text = cli("convert", fixture(c["file"]), tmp_path / "w.safetensors")
    assert code == 0, text
    _, meta = read_safetensors(tmp_path / "w.safetensors")
    assert meta["arch"] == c["arch"] and meta.get("final_conv_pad", "0") == str(c["final_conv_pad"])
    if c.get("softmax"):
        assert "Softmax" in meta["source"], meta["source"]


def test_rebuilt_zoo_squeezenet1_1_gives_the_zoo_output_in_onnx_runtime(tmp_path):
    """The rebuilt zoo 1.1 graph is faithful: ONNX Runtime reproduces the zoo's own reference output with it."""
    c = CASES.get("zoo_squeezenet1_1")
    if c is None:
        pytest.skip("no webnn-squeezenet1.1-nchw-npy in the shared data")
    x = np.fromfile(fixture(c["input"]), "<f4").reshape(c["input_shape"])
    theirs = onnxruntime_logits(fixture(c["file"]), x, tmp_path)
    assert float(np.abs(theirs - np.fromfile(fixture(c["logits"]), "<f4")).max()) <= c["tolerance"]


def edited(tmp_path, edit, base="torch_squeezenet1_1_opset13.onnx"):
    if base not in {c["file"] for c in CASES.values()}:
        pytest.skip("ONNX fixtures missing")
    m = onnx.load(fixture(base))
    edit(m)
    path = tmp_path / "edited.onnx"
    onnx.save(m, str(path))
    return path


def nodes(m, op):
    return [n for n in m.graph.node if n.op_type == op]


def set_attr(node, name, value):
    for a in list(node.attribute):
        if a.name == name:
            node.attribute.remove(a)
    node.attribute.append(helper.make_attribute(name, value))


def external(m):
    t = m.graph.initializer[0]
    t.ClearField("raw_data")
    t.data_location = onnx.TensorProto.EXTERNAL
    t.external_data.add(key="location", value="weights.bin")


def huge(m):
    t = m.graph.initializer[0]
    del t.dims[:]
    t.dims.extend([1 << 20, 1 << 20, 3, 3])


def swap_concat(m):
    n = nodes(m, "Concat")[0]
    a, b = n.input
    n.input[:] = [b, a]


def opset(m):
    m.opset_import[0].version = 21


def stray(m):
    m.graph.node.append(helper.make_node("Neg", [m.graph.initializer[0].name], ["stray"], name="stray_node"))


def alexnet_stem(m):
    first = m.graph.initializer[[t.name for t in m.graph.initializer].index(nodes(m, "Conv")[0].input[1])]
    first.CopyFrom(numpy_helper.from_array(np.zeros((64, 3, 11, 11), np.float32), first.name))


REFUSALS = {
    "other_activation": (lambda m: setattr(nodes(m, "Relu")[3], "op_type", "Sigmoid"), "where a SqueezeNet has Relu"),
    "grouped_conv": (lambda m: set_attr(nodes(m, "Conv")[2], "group", 2), "dilated or grouped"),
    "pool_kernel": (lambda m: set_attr(nodes(m, "MaxPool")[1], "kernel_shape", [2, 2]), "expected [3, 3] and [2, 2]"),
    "concat_order": (swap_concat, "concatenates expand1x1 then expand3x3"),
    "opset": (opset, "opset 21"),
    "external_data": (external, "external data file"),
    "huge_tensor": (huge, "too many values"),
    "stray_node": (stray, "'stray_node' ('Neg') is not part of a SqueezeNet"),
    "alexnet_stem": (alexnet_stem, "first convolution has shape [64, 3, 11, 11]"),
    "second_input": (lambda m: m.graph.input.append(helper.make_tensor_value_info("extra", 1, [1])), "2 inputs"),
}


@pytest.mark.parametrize("name", REFUSALS.keys())
def test_other_graphs_are_refused_with_one_line(cli, tmp_path, name):
    edit, message = REFUSALS[name]
    path = edited(tmp_path, edit)
    np.zeros((1, 3, 224, 224), "<f4").tofile(tmp_path / "x.bin")
    code, text = cli("predict", "--weights", path, "--input", tmp_path / "x.bin", "--shape", "1,3,224,224")
    assert code == 1, text
    assert len(text.strip().splitlines()) == 1, text
    assert str(path) in text and message in text, text
