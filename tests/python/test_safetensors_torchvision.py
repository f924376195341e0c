"""Our safetensors files load into torchvision and give the logits our engine gives."""
import json
import os

import numpy as np
import pytest
import torch

from conftest import DATA, FIXTURES
from torch_reference import model_from_safetensors, read_safetensors


def logits_both_ways(cli, tmp_path, weights, shape, scale):
    out = tmp_path / "w.safetensors"
    code, text = cli("convert", weights, out)
    assert code == 0, text
    model, meta = model_from_safetensors(out)
    x = (torch.randn(shape, generator=torch.Generator().manual_seed(5)) * scale).numpy()
    x.astype("<f4").tofile(tmp_path / "x.bin")
    code, text = cli("predict", "--weights", out, "--input", tmp_path / "x.bin", "--shape", ",".join(map(str, shape)),
                     "--output", tmp_path / "y.bin")
    assert code == 0, text
    ours = np.fromfile(tmp_path / "y.bin", "<f4").reshape(shape[0], -1)
    with torch.no_grad():
        theirs = model(torch.from_numpy(x)).numpy()
    return ours, theirs, meta


def test_deep_compression_safetensors_in_torchvision(cli, tmp_path):
    weights = os.path.join(DATA, "deep-compression-squeezenet-v1.0", "compressed_SqueezeNet.net")
    ours, theirs, meta = logits_both_ways(cli, tmp_path, weights, (2, 3, 227, 227), 60.0)
    assert meta["arch"] == "squeezenet1_0" and meta["preset"] == "caffe"
    assert np.abs(ours - theirs).max() <= 1e-5 * max(1.0, np.abs(theirs).max())


@pytest.mark.parametrize("stem", ["squeezenet1_0_c10", "squeezenet1_1_c1000"])
def test_pth_to_safetensors_in_torchvision(cli, tmp_path, stem):
    weights = os.path.join(FIXTURES, stem + ".pth")
    ours, theirs, meta = logits_both_ways(cli, tmp_path, weights, (1, 3, 224, 224), 1.0)
    original = torch.load(weights)
    tensors, _ = read_safetensors(tmp_path / "w.safetensors")
    assert set(tensors) == set(original)
    for k, v in original.items():
        assert np.array_equal(tensors[k], v.numpy()), k
    assert np.abs(ours - theirs).max() <= 1e-4
