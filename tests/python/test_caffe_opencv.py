"""OpenCV DNN runs our .caffemodel files with the authors' deploy.prototxts and must give our logits.

OpenCV pairs the prototxt's layers with the .caffemodel's by name, so this checks the names, the blob
layout and the conv geometry we write, and our forward pass against an independent Caffe implementation.
"""
import os

import numpy as np
import pytest

from conftest import DATA
from torch_reference import read_safetensors

cv2 = pytest.importorskip("cv2")

PROTOTXT = os.path.join(DATA, "forresti-squeezenet-prototxt")
# Real weights we can read, one per architecture: (source file, prototxt folder, arch, final_conv_pad)
CASES = {
    "v1.0-deep-compression": ("deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net", "SqueezeNet_v1.0",
                              "squeezenet1_0", "1"),
    "v1.1-ncnn-caffe": ("ncnn-caffe-squeezenet1.1-fp16/squeezenet_v1.1.param", "SqueezeNet_v1.1", "squeezenet1_1", "0"),
}
SHAPE = (1, 3, 227, 227)


def caffe_input(seed):
    """Random pixels 0..255 minus Caffe's BGR mean: the range the Caffe weights were trained on."""
    rng = np.random.default_rng(seed)
    mean = np.array([104.0, 117.0, 123.0]).reshape(1, 3, 1, 1)
    return (rng.uniform(0.0, 255.0, SHAPE) - mean).astype("<f4")


def opencv_logits(prototxt, caffemodel, x):
    net = cv2.dnn.readNetFromCaffe(str(prototxt), str(caffemodel))
    net.setInput(x)
    # The deploy net ends in Softmax 'prob'; the logits are the global average pool before it.
    return net.forward("pool10").reshape(x.shape[0], -1)


def convert(cli, src, dst):
    code, text = cli("convert", src, dst)
    assert code == 0, text


@pytest.mark.parametrize("source,version,arch,pad", CASES.values(), ids=CASES.keys())
def test_opencv_runs_our_caffemodel(cli, tmp_path, source, version, arch, pad):
    caffemodel = tmp_path / "w.caffemodel"
    convert(cli, os.path.join(DATA, source), caffemodel)
    x = caffe_input(1234)
    x.tofile(tmp_path / "x.bin")
    code, text = cli("predict", "--weights", caffemodel, "--input", tmp_path / "x.bin", "--shape",
                     ",".join(map(str, SHAPE)), "--output", tmp_path / "y.bin")
    assert code == 0, text
    ours = np.fromfile(tmp_path / "y.bin", "<f4").reshape(1, -1)

    deploy = os.path.join(PROTOTXT, version, "deploy.prototxt")
    theirs = opencv_logits(deploy, caffemodel, x)
    assert ours.shape == theirs.shape == (1, 1000)
    diff = float(np.abs(ours - theirs).max())
    print(f"{version} ({arch}, final_conv_pad {pad}): max |ours - OpenCV| = {diff:.3g}, "
          f"max |logit| = {float(np.abs(theirs).max()):.3g}")
    assert diff <= 1e-4

    if pad == "1":
        # The pad on v1.0's 1x1 conv10 matters: without it OpenCV's logits move well beyond the tolerance.
        unpadded = tmp_path / "deploy_nopad.prototxt"
        text = open(deploy).read()
        conv10 = text.index('name: "conv10"')
        unpadded.write_text(text[:conv10] + text[conv10:].replace("pad: 1", "", 1))
        assert float(np.abs(ours - opencv_logits(unpadded, caffemodel, x)).max()) > 1e-2


@pytest.mark.parametrize("source,version,arch,pad", CASES.values(), ids=CASES.keys())
def test_caffemodel_keeps_every_tensor(cli, tmp_path, source, version, arch, pad):
    src = os.path.join(DATA, source)
    convert(cli, src, tmp_path / "direct.safetensors")
    convert(cli, src, tmp_path / "w.caffemodel")
    convert(cli, tmp_path / "w.caffemodel", tmp_path / "via_caffe.safetensors")
    want, _ = read_safetensors(tmp_path / "direct.safetensors")
    got, meta = read_safetensors(tmp_path / "via_caffe.safetensors")
    assert set(got) == set(want)
    for name in want:
        assert np.array_equal(got[name], want[name]), name
    assert meta["arch"] == arch and meta.get("final_conv_pad", "0") == pad and meta["preset"] == "caffe"
