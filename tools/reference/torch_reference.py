"""The PyTorch side of every comparison: torchvision models built from our safetensors files, and each
preprocessing preset written with the libraries the weights were made with (PIL + torchvision, OpenCV)."""
import json
import struct

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import transforms

MEAN_RGB = (0.485, 0.456, 0.406)
STD_RGB = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = np.array([104.0, 117.0, 123.0], np.float32)


def read_safetensors(path):
    """A reader written from the safetensors specification, independent of the C++ one."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": "<f4", "F16": "<f2", "F64": "<f8"}
    tensors = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        tensors[name] = np.frombuffer(data[a:b], dtypes[e["dtype"]]).reshape(e["shape"]).astype(np.float32)
    return tensors, meta


def model_from_safetensors(path):
    tensors, meta = read_safetensors(path)
    model = getattr(torchvision.models, meta["arch"])(num_classes=int(meta["num_classes"]))
    if meta.get("final_conv_pad") == "1":
        model.classifier[1].padding = (1, 1)
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in tensors.items()}, strict=True)
    return model.eval(), meta


_TORCHVISION = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                                   transforms.Normalize(MEAN_RGB, STD_RGB)])
_TFLITE = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.PILToTensor()])


def preprocess(path, preset):
    """[3, H, W] float tensor for one image file, as the preset's reference pipeline makes it."""
    image = Image.open(path).convert("RGB")
    if preset == "torchvision":
        return _TORCHVISION(image)
    if preset == "tflite":
        return (_TFLITE(image).float() - 127.5) / 127.5
    if preset == "caffe":
        import cv2
        rgb = np.asarray(image)
        resized = cv2.resize(rgb, (256, 256), interpolation=cv2.INTER_LINEAR)
        crop = resized[14:14 + 227, 14:14 + 227, ::-1].astype(np.float32) - CAFFE_MEAN_BGR
        return torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1)))
    raise ValueError(f"unknown preset {preset}")
