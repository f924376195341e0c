"""classify, preprocess and cam on real ImageNet images, with every kind of image input."""
import os
import pathlib

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms

import squeezenet
from conftest import DEEP_COMPRESSION, IMAGES, TORCHVISION_11

GOLDFINCH = os.path.join(IMAGES, "n01531178_goldfinch.JPEG")
TENCH = os.path.join(IMAGES, "n01440764_tench.JPEG")


@pytest.fixture(scope="module")
def deep_compression():
    return squeezenet.load(DEEP_COMPRESSION)


def test_classify_a_real_image(deep_compression):
    assert deep_compression.preset == "caffe"
    top = deep_compression.classify(GOLDFINCH, top=5)
    assert len(top) == 5
    assert (top[0].index, top[0].name) == (11, "goldfinch")
    scores = [p.score for p in top]
    assert scores == sorted(scores, reverse=True) and 0.5 < sum(scores) <= 1.0 + 1e-6
    index, name, score = top[0]
    assert (index, name, score) == (top[0].index, top[0].name, top[0].score)


def test_every_kind_of_image_gives_the_same_answer(deep_compression):
    expected = [(p.index, p.score) for p in deep_compression.classify(GOLDFINCH)]
    pil = Image.open(GOLDFINCH)
    for image in (pathlib.Path(GOLDFINCH), open(GOLDFINCH, "rb").read(), pil, np.asarray(pil.convert("RGB")),
                  np.asfortranarray(np.asarray(pil.convert("RGB")))):
        assert [(p.index, p.score) for p in deep_compression.classify(image)] == expected


def test_a_list_of_images_is_classified_as_a_batch(deep_compression):
    single = [deep_compression.classify(p, top=3) for p in (GOLDFINCH, TENCH)]
    batch = deep_compression.classify([GOLDFINCH, TENCH], top=3)
    assert [[(p.index, p.score) for p in r] for r in batch] == [[(p.index, p.score) for p in r] for r in single]


def test_preprocess_is_torchvisions_transform():
    ours = squeezenet.preprocess(TENCH)
    reference = transforms.Compose([
        transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])(Image.open(TENCH).convert("RGB"))
    assert ours.shape == (1, 3, 224, 224) and ours.dtype == np.float32
    np.testing.assert_allclose(ours[0], reference.numpy(), rtol=0, atol=1e-6)


def test_classify_is_preprocess_then_logits():
    model = squeezenet.load(TORCHVISION_11)
    logits = model.logits(squeezenet.preprocess(TENCH, model.preset))[0]
    probs = torch.softmax(torch.from_numpy(logits), 0).numpy()
    top = model.classify(TENCH, top=3)
    assert [p.index for p in top] == list(np.argsort(-logits, kind="stable")[:3])
    np.testing.assert_allclose([p.score for p in top], probs[[p.index for p in top]], rtol=1e-5)


def test_cam_mean_is_the_logit(deep_compression):
    logits = deep_compression.logits(squeezenet.preprocess(GOLDFINCH, "caffe"))[0]
    top_map = deep_compression.cam(GOLDFINCH)
    assert top_map.shape == (15, 15)  # 227 input, the Caffe pad-1 head
    assert top_map.min() >= 0
    np.testing.assert_allclose(top_map.mean(), logits[11], rtol=1e-4)
    tench_map = deep_compression.cam(GOLDFINCH, class_index=0)
    np.testing.assert_allclose(tench_map.mean(), logits[0], rtol=1e-4, atol=1e-5)
