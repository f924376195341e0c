#!/usr/bin/python3
"""The fine-tuning recipe of `squeezenet finetune` in PyTorch, for side-by-side accuracy and speed.

Starts from a safetensors file that `squeezenet convert` wrote, replaces the final conv by a new one
(N(0, 0.01) weights, zero bias, as torchvision initialises it; the Caffe head keeps its pad 1), trains with
SGD on an ImageFolder (RandomResizedCrop + horizontal flip; evaluation with the preset's preprocessing) and
prints one line per epoch: train loss/accuracy, validation accuracy, seconds and images/s of the training pass.

  finetune_reference.py --weights w.safetensors --data ../shared/data/hymenoptera_data --mode features

--no-mkldnn turns oneDNN off, so that convolutions go through PyTorch's own im2col and the system BLAS (Debian's
libblas.so.3 alternative: OpenBLAS where installed, else the reference BLAS); the backend is printed to stderr.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
from torchvision import datasets, transforms

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import CAFFE_MEAN_BGR, MEAN_RGB, STD_RGB, model_from_safetensors, preprocess  # noqa: E402


def caffe_tensor(image):
    """A PIL crop as the Caffe weights expect it: BGR, 0..255, mean subtracted."""
    bgr = np.asarray(image, np.float32)[:, :, ::-1] - CAFFE_MEAN_BGR
    return torch.from_numpy(np.ascontiguousarray(bgr.transpose(2, 0, 1)))


def loaded_blas():
    """The file behind libblas.so.3 in this process: Debian's alternative, OpenBLAS or the reference BLAS."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line.rsplit("/", 1)[-1]}
    return ", ".join(sorted(os.path.realpath(p) for p in paths)) or "none loaded"


def train_transform(preset):
    size = 227 if preset == "caffe" else 224
    steps = [transforms.RandomResizedCrop(size), transforms.RandomHorizontalFlip()]
    if preset == "caffe":
        return transforms.Compose(steps + [transforms.Lambda(caffe_tensor)])
    return transforms.Compose(steps + [transforms.ToTensor(), transforms.Normalize(MEAN_RGB, STD_RGB)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--mode", choices=["features", "all"], default="features")
    ap.add_argument("--preset", default=None, help="default: the weights' metadata")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--lr", type=float, default=0.001)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-mkldnn", action="store_true",
                    help="convolutions through PyTorch's im2col + BLAS path instead of oneDNN")
    args = ap.parse_args()

    torch.backends.mkldnn.enabled = not args.no_mkldnn
    print(f"PyTorch {torch.__version__}, {args.threads} threads, convolutions: "
          + (f"im2col + BLAS ({loaded_blas()})" if args.no_mkldnn else "oneDNN"), file=sys.stderr)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    model, meta = model_from_safetensors(args.weights)
    preset = args.preset or meta.get("preset", "torchvision")
    train_set = datasets.ImageFolder(os.path.join(args.data, "train"), train_transform(preset))
    val_set = datasets.ImageFolder(os.path.join(args.data, "val"))
    old = model.classifier[1]
    model.classifier[1] = torch.nn.Conv2d(512, len(train_set.classes), 1, padding=old.padding)
    torch.nn.init.normal_(model.classifier[1].weight, 0.0, 0.01)
    torch.nn.init.zeros_(model.classifier[1].bias)
    if args.mode == "features":
        for p in model.features.parameters():
            p.requires_grad = False
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=args.lr, momentum=args.momentum)
    loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                         num_workers=args.workers)
    val_inputs = torch.stack([preprocess(path, preset) for path, _ in val_set.samples])
    val_labels = torch.tensor([label for _, label in val_set.samples])

    best = 0.0
    print("epoch,train_loss,train_acc,val_acc,seconds,images_per_s", flush=True)
    for epoch in range(1, args.epochs + 1):
        model.train()
        t0, seen, correct, loss_sum = time.perf_counter(), 0, 0, 0.0
        for x, y in loader:
            opt.zero_grad()
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            seen += len(y)
            correct += (logits.argmax(1) == y).sum().item()
            loss_sum += loss.item() * len(y)
        seconds = time.perf_counter() - t0
        model.eval()
        with torch.no_grad():
            val_acc = sum((model(val_inputs[i:i + 32]).argmax(1) == val_labels[i:i + 32]).sum().item()
                          for i in range(0, len(val_labels), 32)) / len(val_labels)
        best = max(best, val_acc)
        print(f"{epoch},{loss_sum / seen:.4f},{correct / seen:.4f},{val_acc:.4f},{seconds:.2f},{seen / seconds:.1f}",
              flush=True)
    print(f"best val acc {100 * best:.2f}%")


if __name__ == "__main__":
    main()
