"""Our classifications against PyTorch's, image by image, on a slice of the real ImageNet sample: the same
weights, each preset's reference pipeline (PIL + torchvision, or OpenCV for Caffe). The full 1000 images:
scripts/accuracy.sh."""
import json
import os
import subprocess
import sys

import pytest

from conftest import CLI, DATA

HERE = os.path.dirname(__file__)
REFERENCE = os.path.join(HERE, "..", "..", "tools", "reference")

CASES = [
    ("deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net", "caffe"),
    ("pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param", "torchvision"),
]


@pytest.mark.parametrize("weights,preset", CASES)
def test_top1_agrees_with_pytorch_on_every_image(cli, tmp_path, weights, preset):
    folder = os.path.join(DATA, "imagenet-sample-1000")
    st = tmp_path / "w.safetensors"
    code, out = cli("convert", os.path.join(DATA, weights), st)
    assert code == 0, out
    code, out = cli("eval", folder, "-w", st, "--every", "25", "-q", "--predictions", tmp_path / "ours.csv")
    assert code == 0, out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["images"] == 40 and summary["failed"] == 0 and summary["preset"] == preset
    subprocess.run([sys.executable, os.path.join(REFERENCE, "eval_reference.py"), "--weights", str(st),
                    "--folder", folder, "--every", "25", "--out", str(tmp_path / "ref.csv")],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cmp = subprocess.run([sys.executable, os.path.join(REFERENCE, "compare_predictions.py"), str(tmp_path / "ours.csv"),
                          str(tmp_path / "ref.csv"), "--min-agreement", "1.0", "--max-gap", "0"],
                         stdout=subprocess.PIPE, text=True)
    result = json.loads(cmp.stdout)
    assert cmp.returncode == 0, result
    assert result["images"] == 40 and result["top1_agreement"] == 1.0


def test_eval_and_classify_report_bad_images_and_go_on(cli, tmp_path):
    good = os.path.join(DATA, "imagenet-sample-1000", "n01440764_tench.JPEG")
    weights = os.path.join(DATA, "pnnx-ncnn-torchvision-squeezenet1.1-fp16", "squeezenet_v1.1.ncnn.param")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.png").write_text("not a picture")
    truncated = open(good, "rb").read()[:5000]
    (tmp_path / "cut.jpg").write_bytes(truncated)
    code, out = cli("classify", "-w", weights, good, tmp_path / "empty.jpg", tmp_path / "text.png",
                    tmp_path / "cut.jpg", tmp_path / "missing.jpg")
    assert code == 1
    assert "tench" in out  # the good image is still classified
    for name in ("empty.jpg", "text.png", "cut.jpg", "missing.jpg"):
        assert name in out, out
    assert "4 of 5 images failed" in out

    code, out = cli("classify", "-w", weights, good, "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report[0]["top"][0]["name"] == "tench" and len(report[0]["top"]) == 5

    # eval: a broken image in the middle is skipped and counted, not fatal
    folder = tmp_path / "set" / "n01440764"
    folder.mkdir(parents=True)
    (folder / "a.JPEG").write_bytes(open(good, "rb").read())
    (folder / "b.JPEG").write_bytes(truncated)
    code, out = cli("eval", tmp_path / "set", "-w", weights, "-q", "--csv", tmp_path / "c.csv")
    assert code == 0, out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["images"] == 1 and summary["failed"] == 1 and summary["top1"] == 1.0
    assert "b.JPEG" in out
    assert "tench" in (tmp_path / "c.csv").read_text()

    (tmp_path / "none").mkdir()
    code, out = cli("eval", tmp_path / "none", "-w", weights)
    assert code == 1 and "no images" in out


def test_cam_writes_a_png(cli, tmp_path):
    from PIL import Image
    good = os.path.join(DATA, "imagenet-sample-1000", "n02099601_golden_retriever.JPEG")
    weights = os.path.join(DATA, "pnnx-ncnn-torchvision-squeezenet1.1-fp16", "squeezenet_v1.1.ncnn.param")
    code, out = cli("classify", "-w", weights, good, "--cam", tmp_path / "cam.png")
    assert code == 0, out
    cam, src = Image.open(tmp_path / "cam.png"), Image.open(good)
    assert cam.size == src.size and cam.mode == "RGB"
    code, out = cli("classify", "-w", weights, good, good, "--cam", tmp_path / "two.png")
    assert code == 1 and "exactly one image" in out
