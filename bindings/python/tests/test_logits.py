"""Model.logits against torchvision in the same process, on the oracle's own weights."""
import numpy as np
import pytest
import torch

import squeezenet
from conftest import random_input, torchvision_model


@pytest.mark.parametrize("arch,classes,shape", [
    ("squeezenet1_1", 1000, (1, 3, 224, 224)),
    ("squeezenet1_1", 10, (3, 3, 256, 181)),
    ("squeezenet1_0", 1000, (2, 3, 227, 227)),
    ("squeezenet1_0", 7, (1, 3, 199, 256)),
])
def test_logits_match_torchvision(tmp_path, arch, classes, shape):
    model = torchvision_model(arch, classes, seed=len(shape) + classes)
    torch.save(model.state_dict(), tmp_path / "w.pth")
    ours = squeezenet.load(tmp_path / "w.pth")
    assert (ours.arch, ours.num_classes) == (arch, classes)
    x = random_input(shape)
    y = ours.logits(x)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    assert y.dtype == np.float32 and y.shape == (shape[0], classes)
    np.testing.assert_allclose(y, expected, rtol=0, atol=5e-5 * max(1.0, np.abs(expected).max()))


def test_logits_read_unaligned_memory_in_place(v11_pth):
    path, _ = v11_pth
    model = squeezenet.load(path, threads=1)
    x = random_input((2, 3, 64, 64))
    # numpy's allocation is 16-byte aligned; a view one float in is not even that.
    buffer = np.empty(x.size + 1, dtype=np.float32)
    shifted = buffer[1:].reshape(x.shape)
    shifted[...] = x
    assert shifted.ctypes.data % 16 != 0
    np.testing.assert_array_equal(model.logits(shifted), model.logits(x))


def test_state_dict_is_torchvisions(v11_pth):
    path, torch_model = v11_pth
    state = squeezenet.load(path).state_dict()
    reference = torch_model.state_dict()
    assert list(state) == list(reference)
    for name, value in reference.items():
        assert state[name].dtype == np.float32
        np.testing.assert_array_equal(state[name], value.numpy())


def test_save_round_trips_models_and_state_dicts(v11_pth, tmp_path):
    path, torch_model = v11_pth
    model = squeezenet.load(path)
    x = random_input((1, 3, 96, 96), seed=3)
    squeezenet.save(model, tmp_path / "m.safetensors", preset="caffe")
    again = squeezenet.load(tmp_path / "m.safetensors")
    assert again.preset == "caffe"
    np.testing.assert_array_equal(again.logits(x), model.logits(x))

    # A torch state_dict (tensors convert through numpy) written as a .pth that torch reads back.
    squeezenet.save({k: v.numpy() for k, v in torch_model.state_dict().items()}, tmp_path / "sd.pth")
    loaded = torch.load(tmp_path / "sd.pth")
    for name, value in torch_model.state_dict().items():
        assert torch.equal(loaded[name], value)


def test_version_is_the_projects():
    import os
    import re
    cmake = os.path.join(os.path.dirname(__file__), "..", "..", "..", "CMakeLists.txt")
    version = re.search(r"project\(squeezenet_cpp VERSION ([0-9.]+)", open(cmake).read()).group(1)
    assert squeezenet.__version__ == version
