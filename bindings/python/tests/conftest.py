import os

import numpy as np
import pytest
import torch
import torchvision

DATA = os.environ.get("SQUEEZENET_DATA", "../shared/data")
IMAGES = os.path.join(DATA, "imagenet-sample-1000")
DEEP_COMPRESSION = os.path.join(DATA, "deep-compression-squeezenet-v1.0", "compressed_SqueezeNet.net")
TORCHVISION_11 = os.path.join(DATA, "pnnx-ncnn-torchvision-squeezenet1.1-fp16", "squeezenet_v1.1.ncnn.param")


def torchvision_model(arch, num_classes, seed):
    """A seeded torchvision SqueezeNet in eval mode (random weights: the oracle's own initialisation)."""
    torch.manual_seed(seed)
    model = getattr(torchvision.models, arch)(weights=None, num_classes=num_classes).eval()
    with torch.no_grad():  # non-zero biases, so that a bias read wrongly shows
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.uniform_(-0.1, 0.1)
    return model


@pytest.fixture(scope="session")
def v11_pth(tmp_path_factory):
    """torchvision's squeezenet1_1 (1000 classes) saved with torch.save, and the torch model itself."""
    model = torchvision_model("squeezenet1_1", 1000, seed=11)
    path = tmp_path_factory.mktemp("weights") / "squeezenet1_1.pth"
    torch.save(model.state_dict(), path)
    return path, model


def random_input(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)
