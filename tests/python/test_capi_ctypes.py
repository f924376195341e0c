"""The C API through Python's ctypes, against the shared library, as another language's FFI would use it."""
import ctypes
import os
import threading

import numpy as np
import pytest
import torch
import torchvision

from conftest import DATA, FIXTURES
from torch_reference import preprocess

LIBRARY = os.environ.get("SQUEEZENET_LIBRARY", "build/libsqueezenet.so")
IMAGE = os.path.join(DATA, "imagenet-sample-1000", "n02099601_golden_retriever.JPEG")
OK, ERROR_ARGUMENT, ERROR_INPUT = 0, 1, 2


class Prediction(ctypes.Structure):
    _fields_ = [("index", ctypes.c_int), ("score", ctypes.c_float)]


@pytest.fixture(scope="module")
def lib():
    lib = ctypes.CDLL(LIBRARY)
    handle, floats = ctypes.c_void_p, ctypes.POINTER(ctypes.c_float)
    signatures = {
        "squeezenet_version": (ctypes.c_char_p, []),
        "squeezenet_last_error": (ctypes.c_char_p, []),
        "squeezenet_classifier_load": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int,
                                                      ctypes.POINTER(handle)]),
        "squeezenet_classifier_free": (None, [handle]),
        "squeezenet_num_classes": (ctypes.c_int, [handle]),
        "squeezenet_class_name": (ctypes.c_char_p, [handle, ctypes.c_int]),
        "squeezenet_image_decode_memory": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                                          ctypes.POINTER(handle)]),
        "squeezenet_image_free": (None, [handle]),
        "squeezenet_classify": (ctypes.c_int, [handle, handle, ctypes.c_int, ctypes.POINTER(Prediction),
                                               ctypes.POINTER(ctypes.c_int)]),
        "squeezenet_logits": (ctypes.c_int, [handle, floats, ctypes.c_int, ctypes.c_int, ctypes.c_int, floats,
                                             ctypes.c_size_t]),
    }
    for name, (restype, argtypes) in signatures.items():
        getattr(lib, name).restype = restype
        getattr(lib, name).argtypes = argtypes
    return lib


def load(lib, path, threads=0):
    h = ctypes.c_void_p()
    status = lib.squeezenet_classifier_load(str(path).encode(), None, threads, ctypes.byref(h))
    assert status == OK, lib.squeezenet_last_error().decode()
    return h


def logits(lib, h, x):
    x = np.ascontiguousarray(x, dtype=np.float32)
    out = np.empty((x.shape[0], lib.squeezenet_num_classes(h)), np.float32)
    status = lib.squeezenet_logits(h, x.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), x.shape[0], x.shape[2],
                                   x.shape[3], out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), out.size)
    assert status == OK, lib.squeezenet_last_error().decode()
    return out


def test_version_is_the_commands(lib, cli):
    code, text = cli("--version")
    assert code == 0
    assert text.split() == ["squeezenet.cpp", lib.squeezenet_version().decode()]


@pytest.mark.parametrize("stem", ["squeezenet1_0_c10", "squeezenet1_1_c1000"])
def test_logits_match_torchvision(lib, stem):
    weights = os.path.join(FIXTURES, stem + ".pth")
    state = torch.load(weights)
    arch, classes = stem.rsplit("_c", 1)
    model = getattr(torchvision.models, arch)(num_classes=int(classes)).eval()
    model.load_state_dict(state)
    x = torch.randn((3, 3, 231, 224), generator=torch.Generator().manual_seed(3)).numpy()
    h = load(lib, weights)
    try:
        ours = logits(lib, h, x)
    finally:
        lib.squeezenet_classifier_free(h)
    with torch.no_grad():
        theirs = model(torch.from_numpy(x)).numpy()
    assert np.abs(ours - theirs).max() <= 1e-4


def test_classify_a_jpeg_from_memory_as_pytorch_does(lib):
    weights = os.path.join(DATA, "pnnx-ncnn-torchvision-squeezenet1.1-fp16", "squeezenet_v1.1.ncnn.param")
    h = load(lib, weights)
    image = ctypes.c_void_p()
    data = open(IMAGE, "rb").read()
    assert lib.squeezenet_image_decode_memory(data, len(data), b"dog.jpg", ctypes.byref(image)) == OK
    top = (Prediction * 5)()
    count = ctypes.c_int()
    try:
        assert lib.squeezenet_classify(h, image, 5, top, ctypes.byref(count)) == OK
        # The same crop through PIL + torchvision transforms, then our logits: the same ranking.
        reference = logits(lib, h, preprocess(IMAGE, "torchvision").numpy()[None])[0]
        names = [lib.squeezenet_class_name(h, p.index).decode() for p in top[:count.value]]
    finally:
        lib.squeezenet_image_free(image)
        lib.squeezenet_classifier_free(h)
    assert count.value == 5
    assert [p.index for p in top] == list(np.argsort(-reference, kind="stable")[:5])
    assert names[0] == "golden retriever"


def test_errors_are_status_codes_with_a_message_per_thread(lib):
    h = ctypes.c_void_p()
    assert lib.squeezenet_classifier_load(IMAGE.encode(), None, 0, ctypes.byref(h)) == ERROR_INPUT
    message = lib.squeezenet_last_error().decode()
    assert IMAGE in message and "\n" not in message
    assert h.value is None
    seen = []
    worker = threading.Thread(target=lambda: seen.append(lib.squeezenet_last_error().decode()))
    worker.start()
    worker.join()
    assert seen == [""]
    assert lib.squeezenet_classifier_load(None, None, 0, ctypes.byref(h)) == ERROR_ARGUMENT
    assert lib.squeezenet_last_error() == b"weights_path is NULL"
    image = ctypes.c_void_p()
    assert lib.squeezenet_image_decode_memory(b"\x89PNG\r\n\x1a\n broken", 16, b"upload.png",
                                              ctypes.byref(image)) == ERROR_INPUT
    assert b"upload.png" in lib.squeezenet_last_error()
