#!/usr/bin/python3
"""Seeded mutants of every file format the CLI reads, each through the CLI: every run must end with exit 0, or
exit 1 and one printable line on stderr, within the time limit. Anything else (a crash, a sanitizer report, a
hang, several lines, raw bytes) fails the test and keeps the mutant for replay. Meant for a sanitizer build.

    scripts/mutation_test.py BUILD/squeezenet [--count 600] [--seed 1616] [--jobs 2] [--keep DIR]

Formats: safetensors (F32, F16 and int8 I8), .pth (zip) and legacy .pth, caffemodel, Deep Compression .net,
.sqz, ONNX, ncnn .param and .bin, a folder of .npy, JPEG and PNG. Weights go through `info` (and one in four
through `classify`, so the model also runs on what was read); images through `classify`.
"""
import argparse
import concurrent.futures
import io
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("SQUEEZENET_DATA", HERE.parent.parent / "shared" / "data"))
DC_NET = DATA / "deep-compression-squeezenet-v1.0" / "compressed_SqueezeNet.net"
NCNN = DATA / "pnnx-ncnn-torchvision-squeezenet1.1-fp16" / "squeezenet_v1.1.ncnn.param"
NPY = DATA / "webnn-squeezenet1.1-nchw-npy" / "weights"
IMAGE = DATA / "imagenet-sample-1000" / "n01531178_goldfinch.JPEG"
INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 2**63 - 1, 2**64 - 1]


def run(cmd, **kw):
    subprocess.run([str(c) for c in cmd], check=True, stdout=subprocess.DEVNULL, **kw)


def f16_safetensors(src, dst):
    raw = src.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    body, out, offset = raw[8 + n :], {}, 0
    chunks = []
    for name, t in header.items():
        if name == "__metadata__":
            out[name] = t
            continue
        a, b = t["data_offsets"]
        half = np.frombuffer(body[a:b], "<f4").astype("<f2").tobytes()
        out[name] = {"dtype": "F16", "shape": t["shape"], "data_offsets": [offset, offset + len(half)]}
        chunks.append(half)
        offset += len(half)
    text = json.dumps(out).encode()
    dst.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def legacy_pth(src, dst):
    import torch

    raw = src.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    body = raw[8 + n :]
    state = {}
    for name, t in header.items():
        if name != "__metadata__":
            a, b = t["data_offsets"]
            state[name] = torch.from_numpy(np.frombuffer(body[a:b], "<f4").reshape(t["shape"]).copy())
    torch.save(state, dst, _use_new_zipfile_serialization=False)


def make_bases(cli, work):
    """Every format once, from the shared files; returns {label: (path, kind)}."""
    w = work / "bases"
    w.mkdir()
    st = w / "w.safetensors"
    run([cli, "convert", DC_NET, st])
    for ext in ("pth", "caffemodel", "onnx"):
        run([cli, "convert", DC_NET, w / f"w.{ext}"])
    run([cli, "compress", "-w", DC_NET, "-o", w / "w.sqz", "--bits", "6"])
    calib = w / "calib"
    calib.mkdir()
    shutil.copy(IMAGE, calib)
    run([cli, "quantize", "-w", DC_NET, "--calibrate", calib, "--count", "1", "-o", w / "int8.safetensors"])
    f16_safetensors(st, w / "f16.safetensors")
    legacy_pth(st, w / "legacy.pth")
    shutil.copytree(NPY, w / "npy")
    for suffix in (".param", ".bin"):
        shutil.copy(NCNN.with_suffix(suffix), w / f"ncnn{suffix}")
    shutil.copy(DC_NET, w / "dc.net")
    small = Image.open(IMAGE).convert("RGB").resize((96, 72))
    small.save(w / "image.jpg", "JPEG", quality=85)
    small.save(w / "progressive.jpg", "JPEG", progressive=True)
    small.save(w / "image.png", "PNG")
    weights = ["w.safetensors", "f16.safetensors", "int8.safetensors", "w.pth", "legacy.pth", "w.caffemodel",
               "dc.net", "w.sqz", "w.onnx", "ncnn.param", "ncnn.bin", "npy"]
    return {name: w / name for name in weights}, [w / n for n in ("image.jpg", "progressive.jpg", "image.png")]


def mutate(data, rng):
    """1-4 edits, half of them in the first 4 KiB and the last 1 KiB, where headers and directories are."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not b:
            b = bytearray(rng.randbytes(rng.randint(1, 64)))
        n = len(b)
        r = rng.random()
        pos = rng.choice([rng.randrange(min(n, 4096)), max(0, n - 1 - rng.randrange(min(n, 1024))), rng.randrange(n)])
        if r < 0.3:
            for _ in range(rng.randint(1, 8)):
                b[rng.randrange(n)] ^= 1 << rng.randrange(8)
        elif r < 0.5:
            width = rng.choice([1, 2, 4, 8])
            value = rng.choice(INTERESTING) & ((1 << (8 * width)) - 1)
            b[pos : pos + width] = value.to_bytes(width, "little")[: max(0, n - pos)]
        elif r < 0.65:
            del b[rng.randrange(n) :]  # truncation
        elif r < 0.8:
            del b[pos : pos + rng.randint(1, 256)]
        elif r < 0.9:
            src = rng.randrange(n)
            b[pos:pos] = b[src : src + rng.randint(1, 512)]
        else:
            b[pos:pos] = rng.randbytes(rng.randint(1, 64))
    return bytes(b)


def make_mutant(i, label, base, images, rng, out):
    """Writes mutant i under out/; returns the command's arguments (after the CLI) and what to keep."""
    d = out / f"{i:04d}"
    d.mkdir()
    if label == "npy":
        target = d / "npy"
        target.mkdir()
        names = sorted(p.name for p in base.iterdir())
        victim = rng.choice(names)
        for name in names:
            if name != victim:
                os.symlink(base / name, target / name)
        (target / victim).write_bytes(mutate((base / victim).read_bytes(), rng))
    elif label.startswith("ncnn"):
        param, binary = d / "ncnn.param", d / "ncnn.bin"
        shutil.copy(base.with_suffix(".param"), param)
        shutil.copy(base.with_suffix(".bin"), binary)
        victim = param if label == "ncnn.param" else binary
        victim.write_bytes(mutate(victim.read_bytes(), rng))
        target = param
    else:
        target = d / base.name
        target.write_bytes(mutate(base.read_bytes(), rng))
    if label in ("image.jpg", "progressive.jpg", "image.png"):
        return ["classify", "-w", DC_NET, target], d
    if i % 4 == 0:
        return ["classify", "-w", target, rng.choice(images)], d
    return ["info", "-w", target], d


def judge(cli, args, timeout):
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:exitcode=86", UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    try:
        p = subprocess.run([str(cli)] + [str(a) for a in args], capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return "hang", b""
    err = p.stderr
    if p.returncode == 0:
        return "ok", err
    if p.returncode != 1:
        return f"exit {p.returncode}", err
    lines = err.decode("latin-1").splitlines()
    if len(lines) != 1 or not lines[0].startswith("squeezenet: error: "):
        return f"{len(lines)} lines", err
    if any(c < 0x20 or c > 0x7E for c in err.rstrip(b"\n")):
        return "unprintable", err
    return "refused", err


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cli")
    ap.add_argument("--count", type=int, default=600)
    ap.add_argument("--seed", type=int, default=1616)
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--keep", help="folder for the failing mutants (default: beside the work folder, printed)")
    args = ap.parse_args()
    cli = Path(args.cli).resolve()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        weights, images = make_bases(cli, work)
        labels = list(weights) + [p.name for p in images]
        bases = dict(weights, **{p.name: p for p in images})
        mutants = work / "mutants"
        mutants.mkdir()
        jobs = []
        for i in range(args.count):
            label = labels[i % len(labels)]
            cmd, d = make_mutant(i, label, bases[label], images, random.Random(rng.getrandbits(64)), mutants)
            jobs.append((label, cmd, d))
        tally, failures = {}, []
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            results = pool.map(lambda j: judge(cli, j[1], args.timeout), jobs)
            for (label, cmd, d), (verdict, err) in zip(jobs, results):
                t = tally.setdefault(label, {})
                t[verdict] = t.get(verdict, 0) + 1
                if verdict not in ("ok", "refused"):
                    failures.append((label, cmd, d, verdict, err))
        for label in labels:
            print(f"{label:18s} " + ", ".join(f"{v} {n}" for v, n in sorted(tally.get(label, {}).items())))
        if failures:
            keep = Path(args.keep or tempfile.mkdtemp(prefix="mutants-"))
            keep.mkdir(parents=True, exist_ok=True)
            for label, cmd, d, verdict, err in failures:
                shutil.copytree(d, keep / d.name, symlinks=False, dirs_exist_ok=True)
                text = err.decode("latin-1")
                print(f"FAILED {label} #{d.name}: {verdict}: squeezenet {' '.join(map(str, cmd))}\n{text[:2000]}")
            print(f"{len(failures)} of {args.count} mutants failed; kept in {keep}")
            sys.exit(1)
        print(f"mutation_test: {args.count} mutants, each exit 0 or one clear line with exit 1")


if __name__ == "__main__":
    main()
