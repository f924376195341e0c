"""`squeezenet convert Q.safetensors Q.onnx` on int8 weights writes the QDQ graph ONNX Runtime runs in int8.

The graph carries our scales, so ONNX Runtime's int8 forward is ours up to the int32 rounding of the biases: on
real photos it must pick our top-1 class, and its logits must stay within a few quantization steps of ours.

On a CPU without VNNI, ONNX Runtime multiplies u8 x s8 with vpmaddubsw, whose 16-bit pair sums saturate for 8-bit
weights (its documentation recommends 7-bit weights there): the file is then quantized with --weight-bits 7, which
fits them, so both engines stay exact.
"""
import os

import numpy as np
import onnx
import pytest

from conftest import DATA
from onnx_runtimes import onnxruntime_logits
from torch_reference import preprocess

WEIGHTS = os.path.join(DATA, "pnnx-ncnn-torchvision-squeezenet1.1-fp16", "squeezenet_v1.1.ncnn.param")
CALIBRATION = os.path.join(DATA, "hymenoptera_data", "train")
IMAGES = os.path.join(DATA, "imagenet-sample-1000")


def cpu_has_vnni():
    with open("/proc/cpuinfo") as f:
        flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    return "avx512_vnni" in flags or "avx_vnni" in flags


@pytest.fixture(scope="module")
def quantized(tmp_path_factory):
    from conftest import run_cli
    if not (os.path.exists(WEIGHTS) and os.path.isdir(CALIBRATION) and os.path.isdir(IMAGES)):
        pytest.skip(f"real weights or images missing under {DATA}")
    out = tmp_path_factory.mktemp("qdq")
    q, model = out / "q.safetensors", out / "q.onnx"
    bits = 8 if cpu_has_vnni() else 7
    code, text = run_cli("quantize", "--weights", WEIGHTS, "--calibrate", CALIBRATION, "--count", 16,
                         "--weight-bits", bits, "--out", q)
    assert code == 0, text
    code, text = run_cli("convert", q, model)
    assert code == 0, text
    return q, model


def test_qdq_graph_quantizes_every_conv_but_the_head(quantized):
    m = onnx.load(str(quantized[1]))
    onnx.checker.check_model(m, full_check=True)
    ops = [n.op_type for n in m.graph.node]
    assert ops.count("Conv") == 26 and ops.count("MaxPool") == 3 and ops.count("Concat") == 8
    # One QuantizeLinear for the image and one per conv whose output stays u8; the head's output is fp32.
    assert ops.count("QuantizeLinear") == 1 + 25
    init = {t.name: t for t in m.graph.initializer}
    w = init["features.3.expand3x3.weight_quantized"]
    assert w.data_type == onnx.TensorProto.INT8 and list(w.dims) == [64, 16, 3, 3]
    assert init["features.0.input_zero_point"].data_type == onnx.TensorProto.UINT8
    assert init["classifier.1.weight"].data_type == onnx.TensorProto.FLOAT
    axis = {n.name: {a.name: a.i for a in n.attribute} for n in m.graph.node if n.op_type == "DequantizeLinear"}
    assert axis["features.3.expand3x3.weight"] == {"axis": 0}  # per output channel


def test_onnxruntime_int8_picks_our_top1_on_real_photos(cli, tmp_path, quantized):
    q, model = quantized
    files = sorted(f for f in os.listdir(IMAGES) if f.endswith(".JPEG"))[::40]
    x = np.stack([preprocess(os.path.join(IMAGES, f), "torchvision").numpy() for f in files]).astype(np.float32)
    x.tofile(tmp_path / "x.bin")
    code, text = cli("predict", "--weights", q, "--precision", "int8", "--input", tmp_path / "x.bin", "--shape",
                     ",".join(map(str, x.shape)), "-o", tmp_path / "y.bin")
    assert code == 0, text
    ours = np.fromfile(tmp_path / "y.bin", "<f4").reshape(len(files), -1)
    theirs = onnxruntime_logits(model, x, tmp_path).reshape(ours.shape)
    same = ours.argmax(1) == theirs.argmax(1)
    diff = float(np.abs(ours - theirs).max())
    top2 = np.sort(ours, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    print(f"{len(files)} photos: same top-1 on {int(same.sum())}, max |ours - onnxruntime| = {diff:.3g} "
          f"(largest logit {float(np.abs(ours).max()):.3g}); margins where they differ: {margin[~same]}")
    assert diff < 0.02 * float(np.abs(ours).max())
    # A class may flip only where ours was a near tie, within twice the largest logit difference.
    assert np.all(same | (margin < 2 * diff))
    assert same.mean() >= 0.9
