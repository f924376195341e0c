"""`squeezenet convert W model.onnx` writes a standard graph that other engines run to our logits.

onnx.checker (full check, with shape inference) accepts it; ONNX Runtime and OpenCV DNN give logits within 1e-4
of ours, on the batch size and input size of the case (the graph has symbolic batch, height and width).
"""
import os

import numpy as np
import onnx
import pytest

from conftest import DATA, FIXTURES
from onnx_runtimes import onnxruntime_logits, opencv_logits

# name: (weights, input shape, input scale, final_conv_pad, preset)
CASES = {
    "v1.0": (os.path.join(FIXTURES, "squeezenet1_0_c1000.pth"), (2, 3, 224, 224), 1.0, 0, None),
    "v1.1-nonsquare": (os.path.join(FIXTURES, "squeezenet1_1_c10.pth"), (3, 3, 199, 256), 1.0, 0, None),
    # The Caffe head: conv10 with pad 1, on Caffe-scale input (0..255 BGR minus the mean).
    "v1.0-deep-compression": (os.path.join(DATA, "deep-compression-squeezenet-v1.0", "compressed_SqueezeNet.net"),
                              (1, 3, 227, 227), 60.0, 1, "caffe"),
}


def export(cli, tmp_path, weights):
    if not os.path.exists(weights):
        pytest.skip(f"{weights} is missing")
    model = tmp_path / "m.onnx"
    code, text = cli("convert", weights, model)
    assert code == 0, text
    return model


def ours(cli, tmp_path, weights, x):
    np.ascontiguousarray(x, "<f4").tofile(tmp_path / "x.bin")
    code, text = cli("predict", "--weights", weights, "--input", tmp_path / "x.bin", "--shape",
                     ",".join(map(str, x.shape)), "-o", tmp_path / "y.bin")
    assert code == 0, text
    return np.fromfile(tmp_path / "y.bin", "<f4")


def case_input(shape, scale):
    return (np.random.default_rng(13).standard_normal(shape) * scale).astype(np.float32)


@pytest.mark.parametrize("weights,shape,scale,pad,preset", CASES.values(), ids=CASES.keys())
def test_export_is_a_standard_opset13_graph(cli, tmp_path, weights, shape, scale, pad, preset):
    m = onnx.load(str(export(cli, tmp_path, weights)))
    onnx.checker.check_model(m, full_check=True)
    assert [(o.domain, o.version) for o in m.opset_import] == [("", 13)]
    (inp,), (out,) = m.graph.input, m.graph.output
    assert inp.name == "input" and out.name == "logits"
    assert [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim] == ["batch", 3, "height", "width"]
    assert out.type.tensor_type.shape.dim[0].dim_param == "batch"
    pools = [n for n in m.graph.node if n.op_type == "MaxPool"]
    assert len(pools) == 3
    for n in pools:
        assert {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}["ceil_mode"] == 1
    final_conv = [n for n in m.graph.node if n.op_type == "Conv"][-1]
    assert {a.name: list(a.ints) for a in final_conv.attribute}["pads"] == [pad] * 4
    meta = {p.key: p.value for p in m.metadata_props}
    assert meta.get("preset") == preset
    assert {t.name for t in m.graph.initializer} >= {"features.0.weight", "classifier.1.bias"}


@pytest.mark.parametrize("runtime", ["onnxruntime", "opencv"])
@pytest.mark.parametrize("weights,shape,scale,pad,preset", CASES.values(), ids=CASES.keys())
def test_other_engines_give_our_logits(cli, tmp_path, runtime, weights, shape, scale, pad, preset):
    model = export(cli, tmp_path, weights)
    x = case_input(shape, scale)
    mine = ours(cli, tmp_path, model, x)
    # The .onnx holds the same weights: logits bit for bit those of the original file.
    assert np.array_equal(mine, ours(cli, tmp_path, weights, x))
    if runtime == "onnxruntime":
        theirs = onnxruntime_logits(model, x, tmp_path)
    else:
        theirs = np.concatenate([opencv_logits(model, x[i:i + 1]) for i in range(shape[0])])
    assert theirs.shape == mine.shape
    diff = float(np.abs(theirs - mine).max())
    print(f"{os.path.basename(weights)} {shape}: max |ours - {runtime}| = {diff:.3g}, "
          f"max |logit| = {float(np.abs(mine).max()):.3g}")
    assert diff <= 1e-4
