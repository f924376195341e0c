#!/usr/bin/env python3
"""Writes torchvision's SqueezeNet 1.0 and 1.1 as ONNX files for the peer benchmark (bench/peers.py).

Weights are torchvision's own initialisation (biases: small uniform values) from a fixed seed: speed does not depend on their values, and
nothing is downloaded. Batch is a dynamic axis, so one file serves every batch size.
"""
import argparse
import pathlib

import torch
import torchvision


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "results" / "onnx"),
                    help="folder for squeezenet1_0.onnx and squeezenet1_1.onnx")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for arch in ("squeezenet1_0", "squeezenet1_1"):
        torch.manual_seed(args.seed)
        model = getattr(torchvision.models, arch)().eval()
        # torchvision's zero biases are identical tensors, which the exporter shares through Identity nodes that
        # OpenCV's importer rejects; small random biases keep every initializer distinct.
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, torch.nn.Conv2d):
                    m.bias.uniform_(-0.1, 0.1)
        path = out / f"{arch}.onnx"
        torch.onnx.export(model, torch.zeros(1, 3, 224, 224), str(path), input_names=["input"],
                          output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=13)
        print(path)


if __name__ == "__main__":
    main()
