#!/usr/bin/python3
"""What the u8 activation grid costs in top-1 agreement, and whether a scale per channel would buy it back: a
PyTorch fake-quantization of torchvision's squeezenet1_1 (float arithmetic rounded to the grids, not our kernels),
scored as `scripts/int8_agreement.py` scores our int8 files: the share of images whose top-1 class is fp32's.

Calibration: 64 images of hymenoptera_data/train (a seeded draw), none in the evaluation set. Every post-ReLU map
but the final conv's gets u8 scales chosen as `quantize --method mse` does (the clipping threshold with the least
squared error, exact zeros left out), per tensor or per channel; the image gets zero point 128 and one scale, its
largest magnitude / 127. Weights, when quantized, are rounded to nearest on a symmetric per-output-channel grid
(no GPTQ, no bias correction: those are our quantizer's, and this measures the activations).

  /usr/bin/python3 scripts/int8_activation_grid.py --weights W [--scale-factors 0.8,1.25,2]
W is any weights file `squeezenet convert` reads (torchvision preset). Prints one JSON line per variant.
--scale-factors adds variants with fp32 weights whose per-tensor scales are the mse rule's times each factor, and one
with every scale at its tensor's largest value / 255 (minmax): whether the rule's choice of clipping is the limit."""
import argparse
import glob
import json
import os
import random
import subprocess
import sys
import tempfile

import torch
import torchvision
import torchvision.transforms as T
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def preprocess(paths):
    tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                    T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    return torch.stack([tf(Image.open(p).convert("RGB")) for p in paths])


def mse_scale(v, steps=range(20, 101, 2)):
    """The u8 scale whose clipping threshold (a share of the largest value) gives the least squared error."""
    v = v[v > 0]
    if v.numel() == 0:
        return 1.0
    if v.numel() > 400_000:
        v = v[torch.randperm(v.numel(), generator=torch.Generator().manual_seed(0))[:400_000]]
    top = v.max().item()
    best = None
    for k in steps:
        s = top * k / 100 / 255
        err = ((torch.clamp(torch.round(v / s), 0, 255) * s - v) ** 2).sum().item()
        if best is None or err < best[0]:
            best = (err, s)
    return best[1]


def round_weights(w, bits=8):
    q = 2 ** (bits - 1) - 1
    s = w.abs().amax(dim=(1, 2, 3), keepdim=True) / q
    return torch.round(w / s).clamp(-q, q) * s


def load_model(cli, weights):
    """torchvision's squeezenet1_1 with the weights of any file `squeezenet convert` reads, in eval mode."""
    model = torchvision.models.squeezenet1_1()
    with tempfile.TemporaryDirectory() as tmp:
        pth = os.path.join(tmp, "w.pth")
        subprocess.run([cli, "convert", weights, pth], check=True, stdout=subprocess.DEVNULL)
        model.load_state_dict(torch.load(pth))
    return model.eval()


def calibration_images(data, count):
    """The seeded draw of `count` hymenoptera_data/train images every variant is calibrated on."""
    paths = sorted(glob.glob(os.path.join(data, "hymenoptera_data", "train", "*", "*.jpg")))
    random.Random(0).shuffle(paths)
    return preprocess(paths[:count])


def mapped_convs(model):
    """The convs whose post-ReLU output is a u8 map: all but the final conv."""
    return [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m is not model.classifier[1]]


def post_relu_maps(model, images):
    """Each mapped conv's post-ReLU output on `images`."""
    maps = {m: [] for m in mapped_convs(model)}
    hooks = [m.register_forward_hook(lambda mod, i, o: maps[mod].append(torch.relu(o))) for m in maps]
    with torch.no_grad():
        model(images)
    for h in hooks:
        h.remove()
    return {m: torch.cat(v) for m, v in maps.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--data", default=os.environ.get("SQUEEZENET_DATA", os.path.join(HERE, "..", "..", "shared", "data")))
    ap.add_argument("--cli", default=os.path.join(HERE, "..", "build", "squeezenet"))
    ap.add_argument("--count", type=int, default=64, help="calibration images")
    ap.add_argument("--scale-factors", default="", help="comma-separated factors on the per-tensor mse scales")
    args = ap.parse_args()
    torch.manual_seed(0)

    model = load_model(args.cli, args.weights)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    mapped = mapped_convs(model)
    fp32_weights = {m: m.weight.data.clone() for m in convs}
    rounded_weights = {m: round_weights(w) for m, w in fp32_weights.items()}  # 8 bits

    calibration = calibration_images(args.data, args.count)
    per_tensor, per_channel, minmax = {}, {}, {}
    for m, a in post_relu_maps(model, calibration).items():
        per_tensor[m] = torch.full((a.shape[1],), mse_scale(a.flatten()))
        minmax[m] = torch.full((a.shape[1],), a.max().item() / 255)
        per_channel[m] = torch.tensor([mse_scale(a[:, c].flatten()) for c in range(a.shape[1])])
    image_scale = calibration.abs().max().item() / 127

    def forward(x, activations, weights):
        """activations: None (fp32) or a u8 scale per channel of every mapped conv (per_tensor, per_channel, minmax
        or per_tensor moved by a factor); weights: fp32_weights or rounded_weights."""
        for m in convs:
            m.weight.data = weights[m]
        hooks = []
        if activations is not None:
            for m in mapped:
                s = activations[m].view(1, -1, 1, 1)
                hooks.append(m.register_forward_hook(
                    lambda mod, i, o, s=s: torch.clamp(torch.round(torch.relu(o) / s), 0, 255) * s))
            x = (torch.clamp(torch.round(x / image_scale) + 128, 0, 255) - 128) * image_scale
        with torch.no_grad():
            y = model(x)
        for h in hooks:
            h.remove()
        return y.argmax(1)

    variants = [("weights 8-bit, activations fp32", None, rounded_weights),
                ("weights fp32, activations per tensor", per_tensor, fp32_weights),
                ("weights fp32, activations per channel", per_channel, fp32_weights),
                ("weights 8-bit, activations per tensor", per_tensor, rounded_weights),
                ("weights 8-bit, activations per channel", per_channel, rounded_weights)]
    factors = [float(f) for f in args.scale_factors.split(",") if f]
    variants += [(f"weights fp32, activations per tensor, mse scales x {f:g}",
                  {m: s * f for m, s in per_tensor.items()}, fp32_weights) for f in factors]
    if factors:
        variants.append(("weights fp32, activations per tensor, minmax scales", minmax, fp32_weights))
    images = sorted(glob.glob(os.path.join(args.data, "imagenet-sample-1000", "*.JPEG")))
    same = [0] * len(variants)
    for i in range(0, len(images), 50):
        x = preprocess(images[i:i + 50])
        reference = forward(x, None, fp32_weights)
        for k, (_, acts, weights) in enumerate(variants):
            same[k] += int((forward(x, acts, weights) == reference).sum())
        print(f"{min(i + 50, len(images))}/{len(images)} images", file=sys.stderr, flush=True)
    for (name, *_), s in zip(variants, same):
        print(json.dumps({"variant": name, "same_top1": s / len(images), "images": len(images)}), flush=True)


if __name__ == "__main__":
    main()
