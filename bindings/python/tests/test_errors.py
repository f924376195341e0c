"""Bad input raises: TypeError for the wrong kind of Python object, squeezenet.Error with the library's one-line
message (naming the file or what is wrong) for everything else."""
import os

import numpy as np
import pytest

import squeezenet
from conftest import IMAGES, random_input


@pytest.fixture(scope="module")
def model(v11_pth):
    return squeezenet.load(v11_pth[0])


def test_bad_arrays(model):
    with pytest.raises(TypeError, match=r"float32, got a float64 array of shape \(1, 3, 64, 64\)"):
        model.logits(np.zeros((1, 3, 64, 64)))
    with pytest.raises(TypeError, match="C-contiguous"):
        model.logits(random_input((1, 3, 64, 64)).transpose(0, 1, 3, 2))
    with pytest.raises(TypeError, match="numpy array, not <class 'list'>"):
        model.logits([[1.0]])
    with pytest.raises(squeezenet.Error, match=r"input must be 4-D \[N, 3, H, W\], got \[3, 64, 64\]"):
        model.logits(random_input((3, 64, 64)))
    with pytest.raises(squeezenet.Error, match="3 channels"):
        model.logits(random_input((1, 1, 64, 64)))
    with pytest.raises(squeezenet.Error, match="batch must be at least 1"):
        model.logits(random_input((0, 3, 64, 64)))
    with pytest.raises(squeezenet.Error, match="too small"):
        model.logits(random_input((1, 3, 8, 8)))


def test_bad_files(tmp_path):
    with pytest.raises(squeezenet.Error, match="missing.pth"):
        squeezenet.load(tmp_path / "missing.pth")
    (tmp_path / "notes.pth").write_text("not weights")
    with pytest.raises(squeezenet.Error, match="notes.pth"):
        squeezenet.load(tmp_path / "notes.pth")
    with pytest.raises(squeezenet.Error, match="preset"):
        squeezenet.load(tmp_path / "notes.pth", preset="imagenet")


def test_bad_images(model, tmp_path):
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(open(os.path.join(IMAGES, "n01440764_tench.JPEG"), "rb").read()[:3000])
    with pytest.raises(squeezenet.Error, match="cut.jpg"):
        model.classify(cut)
    with pytest.raises(squeezenet.Error, match="image bytes"):
        model.classify(b"GIF89a")
    with pytest.raises(squeezenet.Error, match="missing.png"):
        squeezenet.preprocess(tmp_path / "missing.png")
    with pytest.raises(TypeError, match="uint8 of shape"):
        model.classify(np.zeros((32, 32, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="uint8 of shape"):
        model.classify(np.zeros((32, 32, 4), dtype=np.uint8))
    with pytest.raises(TypeError, match="an image is a path"):
        model.classify(42)
    with pytest.raises(squeezenet.Error, match="top must be at least 1"):
        model.classify(np.zeros((32, 32, 3), dtype=np.uint8), top=0)
    with pytest.raises(squeezenet.Error, match="class 1000 is out of range"):
        model.cam(np.zeros((64, 64, 3), dtype=np.uint8), class_index=1000)


def test_bad_saves(model, tmp_path):
    with pytest.raises(squeezenet.Error, match="out.txt"):
        squeezenet.save(model, tmp_path / "out.txt")
    state = model.state_dict()
    state["classifier.1.bias"] = np.zeros(7, dtype=np.float32)
    with pytest.raises(squeezenet.Error, match="classifier.1"):
        squeezenet.save(state, tmp_path / "w.safetensors")
    del state["classifier.1.bias"]
    with pytest.raises(squeezenet.Error, match="classifier.1.bias"):
        squeezenet.save(state, tmp_path / "w.safetensors")
    with pytest.raises(TypeError, match="save takes"):
        squeezenet.save([1, 2], tmp_path / "w.safetensors")
    assert not os.listdir(tmp_path)
