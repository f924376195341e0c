#!/usr/bin/python3
"""Whether training through the int8 grids buys back top-1 agreement that calibration cannot: torchvision's
squeezenet1_1 in PyTorch, every weight on a symmetric per-output-channel 8-bit grid and every post-ReLU map but
the final conv's on a u8 grid with one scale per tensor (as `scripts/int8_activation_grid.py`, whose calibration
this shares: the `mse` rule on 64 images of hymenoptera_data/train), trained with straight-through rounding
(quantization-aware training) to give the fp32 model's outputs (KL distillation, no labels) on new random crops
of the training images every epoch. The scales stay fixed; the fp32 weights behind the rounded ones learn.

After every epoch it prints, as one JSON line, the share of all 1000 images of imagenet-sample-1000 whose top-1
class under the grids is fp32's (epoch 0: before training, weights rounded to nearest).

  /usr/bin/python3 scripts/int8_fake_quant_training.py --weights W [--train hymenoptera|debian-photos+hymenoptera]
      [--epochs 4] [--lr 1e-5]
W is any weights file `squeezenet convert` reads (torchvision preset). debian-photos+hymenoptera adds the 39
photographs of `scripts/calibration_sets.sh` (installed with apt-get when missing), three times each, to the
243 ants and bees (the `.jpg` images of hymenoptera_data/train)."""
import argparse
import copy
import glob
import json
import os
import random
import subprocess
import sys

import torch
import torchvision.transforms as T
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from int8_activation_grid import (calibration_images, load_model, mapped_convs, mse_scale,  # noqa: E402
                                  post_relu_maps, preprocess, round_weights)

AUGMENT = T.Compose([T.RandomResizedCrop(224, scale=(0.25, 1)), T.RandomHorizontalFlip(), T.ToTensor(),
                     T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])


def through(x, rounded):
    """x in the forward, rounded's value; the gradient of x in the backward (straight-through)."""
    return x + (rounded - x).detach()


def grid_weight(w):
    return through(w, round_weights(w.detach()))


def grid_map(o, s):
    y = torch.clamp(torch.relu(o), 0, 255 * s)  # no gradient where the grid clips
    return through(y, torch.round(y / s) * s)


class GridForward:
    """The model's forward with its weights, maps and image on the int8 grids."""

    def __init__(self, model, scales, image_scale):
        self.model, self.scales, self.image_scale = model, scales, image_scale
        self.convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]

    def __call__(self, x):
        hooks = [m.register_forward_hook(lambda mod, i, o, s=s: grid_map(o, s)) for m, s in self.scales.items()]
        weights = {m: m.weight for m in self.convs}
        for m in self.convs:  # the rounded weights stand in for the parameters during this forward
            del m._parameters["weight"]
            m.weight = grid_weight(weights[m])
        try:
            xi = torch.clamp(x / self.image_scale, -128, 127)
            return self.model(through(xi, torch.round(xi)) * self.image_scale)
        finally:
            for m in self.convs:
                del m.weight
                m._parameters["weight"] = weights[m]
            for h in hooks:
                h.remove()


def training_paths(data, which):
    paths = sorted(glob.glob(os.path.join(data, "hymenoptera_data", "train", "*", "*.jpg")))
    if which == "debian-photos+hymenoptera":
        listed = subprocess.run(["bash", "-c", f'. "{HERE}/calibration_sets.sh"; debian_photos_ready && '
                                 'printf "%s\\n" "${debian_photos[@]}"'], check=True, capture_output=True,
                                text=True, env=dict(os.environ, DATA=data)).stdout.split()
        paths += listed * 3
    return paths


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--data", default=os.environ.get("SQUEEZENET_DATA", os.path.join(HERE, "..", "..", "shared", "data")))
    ap.add_argument("--cli", default=os.path.join(HERE, "..", "build", "squeezenet"))
    ap.add_argument("--train", choices=("hymenoptera", "debian-photos+hymenoptera"), default="hymenoptera")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=1e-5)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    torch.manual_seed(0)

    teacher = load_model(args.cli, args.weights)
    calibration = calibration_images(args.data, 64)
    student = copy.deepcopy(teacher)
    student_maps = dict(zip(mapped_convs(teacher), mapped_convs(student)))
    scales = {student_maps[m]: mse_scale(a.flatten()) for m, a in post_relu_maps(teacher, calibration).items()}
    grid = GridForward(student, scales, calibration.abs().max().item() / 127)

    images = sorted(glob.glob(os.path.join(args.data, "imagenet-sample-1000", "*.JPEG")))
    batches = [preprocess(images[i:i + 100]) for i in range(0, len(images), 100)]
    with torch.no_grad():
        reference = [teacher(x).argmax(1) for x in batches]

    def report(epoch, loss):
        with torch.no_grad():
            same = sum(int((grid(x).argmax(1) == r).sum()) for x, r in zip(batches, reference))
        print(json.dumps({"epoch": epoch, "train": args.train, "lr": args.lr, "distillation_loss": loss,
                          "same_top1": same / len(images), "images": len(images)}), flush=True)

    report(0, None)
    paths = training_paths(args.data, args.train)
    optimizer = torch.optim.Adam(student.parameters(), lr=args.lr)
    for epoch in range(1, args.epochs + 1):
        random.Random(epoch).shuffle(paths)
        total = 0.0
        for i in range(0, len(paths), args.batch):
            x = torch.stack([AUGMENT(Image.open(p).convert("RGB")) for p in paths[i:i + args.batch]])
            with torch.no_grad():
                target = torch.log_softmax(teacher(x), 1)
            loss = torch.nn.functional.kl_div(torch.log_softmax(grid(x), 1), target, log_target=True,
                                              reduction="batchmean")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
        report(epoch, total / len(paths))


if __name__ == "__main__":
    main()
