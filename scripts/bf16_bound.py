#!/usr/bin/python3
"""What bounds bf16's agreement with fp32: PyTorch's own bf16 against its fp32 on the same images, and a PyTorch
model that rounds as our bf16 engine does, with one conv at a time left in fp32.

Ours (README, "Lower precision: BF16"): each conv's weights and input rounded to bf16 (round to nearest even), products
summed in fp32, outputs, ReLU, pooling and the average pool in fp32; 1.1's 3x3 stem stays fp32. "mimic" is that, as a
direct conv (our 3x3 expands run Winograd F(2x2), whose transformed inputs are rounded instead: the mimic's flips are
compared with ours image by image). PyTorch's two bf16 modes round more: `model.to(torch.bfloat16)` with a bf16 image
keeps every activation and output in bf16, autocast runs the convs in bf16 and rounds their outputs.

Prints one JSON line per weights file: same top-1 share against PyTorch fp32 for each mode, the images each flips, and
with --per-layer the flips of the mimic with each conv kept fp32 ("keep") and with only that conv rounded ("only").
Only near ties can flip, so the per-layer runs take the --near images of smallest fp32 top-1/top-2 logit margin (the
JSON says whether they hold every flip of the full mimic).
  scripts/bf16_bound.py --weights W.safetensors --folder DIR [--preset P] [--ours-fp32 A.csv --ours-bf16 B.csv]
                        [--per-layer] [--near N] [--every K] [--threads T]"""
import argparse
import copy
import csv
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "reference"))
from eval_reference import labelled_images  # noqa: E402
from torch_reference import model_from_safetensors, preprocess  # noqa: E402


def bf16(t):
    return t.to(torch.bfloat16).to(torch.float32)


class RoundedConv(torch.nn.Module):
    """A conv whose weights and input are rounded to bf16, summed in fp32: our bf16 conv's numbers."""

    def __init__(self, conv):
        super().__init__()
        self.conv, self.weight = conv, bf16(conv.weight.detach())
        self.rounded = True

    def forward(self, x):
        if not self.rounded:
            return self.conv(x)
        c = self.conv
        return F.conv2d(bf16(x), self.weight, c.bias, c.stride, c.padding, c.dilation, c.groups)


def conv_names(model):
    return [n for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]


def mimic(model, arch):
    """Replaces every conv of `model` by a RoundedConv; 1.1's stem stays fp32 as ours does."""
    convs = {}
    for name in conv_names(model):
        parent_name, _, leaf = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        convs[name] = RoundedConv(getattr(parent, leaf))
        setattr(parent, leaf, convs[name])
    if arch == "squeezenet1_1":
        convs["features.0"].rounded = False
    return convs


def logits(model, images, dtype=torch.float32, autocast=False):
    out = []
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        for b in range(0, len(images), 50):
            out.append(model(images[b:b + 50].to(dtype)).float())
    return torch.cat(out)


def top1s(*args, **kwargs):
    return logits(*args, **kwargs).argmax(1)


def load_top1(path):
    """Top-1 by file name: the CSV's paths may name the folder another way than --folder does."""
    with open(path) as f:
        return {os.path.basename(r["path"]): int(r["top1"]) for r in csv.DictReader(f)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True, help="safetensors written by `squeezenet convert`")
    ap.add_argument("--folder", required=True)
    ap.add_argument("--preset")
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--ours-fp32", help="`squeezenet eval --predictions` CSV of our fp32 on the same images")
    ap.add_argument("--ours-bf16", help="the same for --precision bf16")
    ap.add_argument("--per-layer", action="store_true")
    ap.add_argument("--near", type=int, default=100)
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="1 is faster on a busy machine")
    ap.add_argument("--classes", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                                                      "imagenet_classes.txt"))
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    model, meta = model_from_safetensors(args.weights)
    preset = args.preset or meta.get("preset", "torchvision")
    items = labelled_images(args.folder, args.classes)[:: args.every]
    paths = [p for p, _ in items]
    images = torch.stack([preprocess(p, preset) for p in paths])
    fp32_logits = logits(model, images)
    fp32 = fp32_logits.argmax(1)
    flips = lambda t: sorted(os.path.basename(paths[i]) for i in torch.nonzero(t != fp32).flatten().tolist())
    share = lambda t: round(100.0 * float((t == fp32).double().mean()), 2)
    result = {"weights": os.path.basename(args.weights), "images": len(paths)}
    if args.ours_fp32 and args.ours_bf16:
        a, b = load_top1(args.ours_fp32), load_top1(args.ours_bf16)
        names = [os.path.basename(p) for p in paths]
        ours = torch.tensor([b[n] for n in names])
        result["ours"] = round(100.0 * float((ours == torch.tensor([a[n] for n in names])).double().mean()), 2)
        result["ours_flips"] = sorted(n for n in names if a[n] != b[n])
        result["ours_against_pytorch_fp32"] = share(ours)
    autocast = top1s(model, images, autocast=True)
    result["autocast"], result["autocast_flips"] = share(autocast), flips(autocast)
    bf16_model = top1s(copy.deepcopy(model).to(torch.bfloat16), images, torch.bfloat16)
    result["bf16_model"], result["bf16_model_flips"] = share(bf16_model), flips(bf16_model)
    convs = mimic(model, meta["arch"])
    mimicked = top1s(model, images)
    result["mimic"], result["mimic_flips"] = share(mimicked), flips(mimicked)
    print(json.dumps(result), file=sys.stderr, flush=True)  # the per-layer runs take as long again
    if args.per_layer:
        two = fp32_logits.topk(2, dim=1).values
        near = torch.argsort(two[:, 0] - two[:, 1])[: args.near]
        near_fp32, near_images = fp32[near], images[near]
        near_flips = lambda: int((top1s(model, near_images) != near_fp32).sum())
        result["near"] = len(near)
        result["near_holds_all_mimic_flips"] = near_flips() == len(result["mimic_flips"])
        result["keep"], result["only"] = {}, {}
        default = {n: c.rounded for n, c in convs.items()}
        for name in convs:
            if not default[name]:
                continue
            convs[name].rounded = False
            result["keep"][name] = near_flips()
            for n, c in convs.items():
                c.rounded = n == name
            result["only"][name] = near_flips()
            for n, c in convs.items():
                c.rounded = default[n]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
