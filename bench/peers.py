#!/usr/bin/python3
"""squeezenet.cpp against ONNX Runtime, OpenCV DNN, PyTorch and oneDNN on this machine, written to BENCHMARKS.md.

--precision picks the number format every engine runs in: fp32 (all of them), bf16 (oneDNN's and PyTorch's bf16
convs; ONNX Runtime and OpenCV have none on CPU) or int8 (ONNX Runtime on our QDQ export and oneDNN's int8
primitives, both on the very file we run: real weights quantized by `squeezenet quantize`, calibrated on
hymenoptera_data/train, so that all three do the same arithmetic). fp32 and bf16 use random weights.

Every engine runs in its own process, one configuration at a time, in rounds that rotate the engines' order, so
that a busy neighbour or a clock change hits all of them alike; a configuration's figure is the median of all its
timed forwards over all rounds. Five rounds by default: at batch 1 a round is a fraction of a second per engine,
and with three, one disturbed round of an engine moved its median by up to 8 % on this shared machine.

Setup, once:  scripts/install_deps.sh --bench && cmake --build build -j2 && /usr/bin/python3 bench/export_onnx.py &&
              (cd bench && npm install --ignore-scripts)
Run:          /usr/bin/python3 bench/peers.py [--precision fp32|bf16|int8] [--cli build/squeezenet] [--rounds 5]
Writes BENCHMARKS.md (fp32) or BENCHMARKS-bf16.md / BENCHMARKS-int8.md and, beside it, a bar chart of every
engine's speed relative to the first peer (with matplotlib). Engines that are not installed are left out, with a
note saying why; each row carries the load average at its end.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import statistics
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
ARCHS = ("squeezenet1_0", "squeezenet1_1")
MACS = {"squeezenet1_0": 818.9e6, "squeezenet1_1": 349.2e6}  # at 224x224, as `squeezenet info` prints
ENGINES = {
    "fp32": ("onnxruntime", "opencv", "pytorch", "onednn"),
    "bf16": ("onednn", "pytorch"),
    "int8": ("onnxruntime", "onednn"),
}
# The real weights each version's int8 file is quantized from (../shared/data, see each folder's SOURCE.md).
REAL_WEIGHTS = {
    "squeezenet1_0": "deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net",
    "squeezenet1_1": "pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param",
}


def worker(engine, arch, batch, threads, iters, side, onnx_dir, precision):
    """Times one engine in this process and prints {"seconds": [...]}."""
    import time

    import numpy as np

    x = np.random.default_rng(0).uniform(-2, 2, (batch, 3, side, side)).astype(np.float32)
    if precision != "fp32" and engine != "pytorch":
        raise SystemExit(f"{engine} has no {precision} worker")
    if engine == "opencv":
        import cv2

        cv2.setNumThreads(threads)
        net = cv2.dnn.readNetFromONNX(str(onnx_dir / f"{arch}.onnx"))

        def forward():
            net.setInput(x)
            net.forward()
    elif engine == "pytorch":
        import torch
        import torchvision

        torch.set_num_threads(threads)
        model = getattr(torchvision.models, arch)().eval()
        t = torch.from_numpy(x)
        if precision == "bf16":  # oneDNN's bf16 convs, in the layout they run fastest in
            model = model.to(torch.bfloat16).to(memory_format=torch.channels_last)
            t = t.to(torch.bfloat16).to(memory_format=torch.channels_last)

        def forward():
            with torch.no_grad():
                model(t)
    else:
        raise SystemExit(f"unknown engine {engine}")
    for _ in range(2):
        forward()
    seconds = []
    for _ in range(iters):
        start = time.perf_counter()
        forward()
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds": seconds}))


def run_ours(cli, arch, batch, threads, iters, side, precision, weights):
    out = subprocess.run([cli, "bench", "--arch", arch, "--batch", str(batch), "--threads", str(threads), "--iters",
                          str(iters), "--input", str(side), "--precision", precision, "--runs"] +
                         (["--weights", str(weights)] if weights else []),
                         check=True, capture_output=True, text=True).stdout
    return [float(v) for v in re.search(r"runs \(s\): (.*)", out).group(1).split()]


def run_peer(engine, arch, batch, threads, iters, side, onnx_dir, precision, weights, onednn):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    if engine == "onnxruntime":
        model = weights.with_suffix(".onnx") if weights else onnx_dir / f"{arch}.onnx"
        cmd = ["node", str(HERE / "ort_bench.js"), str(model), str(batch), str(threads), str(iters), str(side)]
    elif engine == "onednn":
        cmd = [onednn, "--arch", arch, "--batch", str(batch), "--threads", str(threads), "--iters", str(iters),
               "--input", str(side), "--precision", precision] + (["--weights", str(weights)] if weights else [])
    else:
        cmd = [sys.executable, __file__, "--worker", engine, "--arch", arch, "--batch", str(batch), "--threads",
               str(threads), "--iters", str(iters), "--input", str(side), "--onnx-dir", str(onnx_dir),
               "--precision", precision]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])["seconds"]


def quantized_files(cli, data, out_dir, weight_bits):
    """Per version, the int8 file all engines run (made once: quantize the real weights, convert to QDQ ONNX)."""
    files = {}
    out_dir.mkdir(parents=True, exist_ok=True)
    for arch, rel in REAL_WEIGHTS.items():
        q = out_dir / (f"{arch}.int8.safetensors" if weight_bits == 8 else f"{arch}.int8.w{weight_bits}.safetensors")
        if not q.exists():
            subprocess.run([cli, "quantize", "--weights", str(data / rel), "--calibrate",
                            str(data / "hymenoptera_data" / "train"), "--count", "64", "--weight-bits",
                            str(weight_bits), "--out", str(q)], check=True)
        if not q.with_suffix(".onnx").exists():
            subprocess.run([cli, "convert", str(q), str(q.with_suffix(".onnx"))], check=True)
        files[arch] = q
    return files


def available(engine, onnx_dir, precision, onednn):
    """None when the engine can run here, else why not."""
    if engine in ("onnxruntime", "opencv") and precision == "fp32" and not (onnx_dir / "squeezenet1_1.onnx").exists():
        return f"no ONNX files in {onnx_dir}: run bench/export_onnx.py"
    if engine == "onednn" and not os.access(onednn, os.X_OK):
        return f"no {onednn}: install libdnnl-dev and build the onednn_bench target"
    if engine == "onnxruntime" and not (HERE / "node_modules" / "onnxruntime-node").exists():
        return "onnxruntime-node is not installed: (cd bench && npm install --ignore-scripts)"
    module = {"opencv": "cv2", "pytorch": "torchvision"}.get(engine)
    if module and subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True).returncode:
        return f"python module {module} is missing"
    return None


def versions(onednn):
    v = {}
    if os.access(onednn, os.X_OK):
        v["onednn"] = subprocess.run([onednn, "--version"], capture_output=True, text=True).stdout.strip()
    try:
        v["onnxruntime"] = json.loads((HERE / "node_modules" / "onnxruntime-node" / "package.json").read_text())["version"]
    except OSError:
        pass
    for engine, code in (("opencv", "import cv2; print(cv2.__version__)"),
                         ("pytorch", "import torch; print(torch.__version__)")):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if r.returncode == 0:
            v[engine] = r.stdout.strip()
    return v


def cpu_info():
    """The CPU's name and its flags, from /proc/cpuinfo where there is one."""
    name, flags = platform.processor() or "unknown CPU", set()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    return name, flags


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=str(HERE.parent / "build" / "squeezenet"), help="the squeezenet binary")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters-b1", type=int, default=30, help="timed forwards per round at batch 1")
    ap.add_argument("--iters-batch", type=int, default=3, help="timed forwards per round at the large batch")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--input", type=int, default=224)
    ap.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    ap.add_argument("--onnx-dir", default=str(HERE / "results" / "onnx"))
    ap.add_argument("--precision", choices=sorted(ENGINES), default="fp32")
    ap.add_argument("--weight-bits", type=int, default=8, choices=(6, 7, 8),
                    help="int8: the weights' bits (7 or 6: every engine runs the same narrower file, see README)")
    ap.add_argument("--onednn", default=str(HERE.parent / "build" / "bench" / "onednn_bench"),
                    help="the oneDNN peer program")
    ap.add_argument("--data", default=os.environ.get("SQUEEZENET_DATA", str(HERE.parent.parent / "shared" / "data")),
                    help="real weights and calibration images, for int8")
    ap.add_argument("--out", help="default: BENCHMARKS.md beside this script (fp32), else BENCHMARKS-PRECISION.md")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--arch", help=argparse.SUPPRESS)
    ap.add_argument("--iters", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    onnx_dir = pathlib.Path(args.onnx_dir)
    if args.worker:
        return worker(args.worker, args.arch, args.batch, int(args.threads), args.iters, args.input, onnx_dir,
                      args.precision)

    precision = args.precision
    out = pathlib.Path(args.out or HERE / ("BENCHMARKS.md" if precision == "fp32" else f"BENCHMARKS-{precision}.md"))
    engines, notes = ["squeezenet.cpp"], []
    for e in ENGINES[precision]:
        why = available(e, onnx_dir, precision, args.onednn)
        (notes.append(f"{e} left out: {why}") if why else engines.append(e))
    weights = (quantized_files(args.cli, pathlib.Path(args.data), HERE / "results" / "int8", args.weight_bits)
               if precision == "int8" else {})
    threads = [int(t) for t in args.threads.split(",")]
    load_before = os.getloadavg()[0]
    configs = [(arch, b, t) for arch in ARCHS for b in (1, args.batch) for t in threads]
    results, loads = {}, {}
    for arch, batch, t in configs:
        iters = args.iters_b1 if batch == 1 else args.iters_batch
        runs = {e: [] for e in engines}
        for r in range(args.rounds):
            for e in engines[r % len(engines):] + engines[:r % len(engines)]:
                if e == "squeezenet.cpp":
                    runs[e] += run_ours(args.cli, arch, batch, t, iters, args.input, precision, weights.get(arch))
                else:
                    runs[e] += run_peer(e, arch, batch, t, iters, args.input, onnx_dir, precision, weights.get(arch),
                                        args.onednn)
        results[(arch, batch, t)] = {e: statistics.median(s) for e, s in runs.items()}
        loads[(arch, batch, t)] = os.getloadavg()[0]
        print(arch, f"batch {batch}", f"{t} thread(s):",
              ", ".join(f"{e} {1e3 * s:.2f} ms" for e, s in results[(arch, batch, t)].items()), flush=True)

    v = versions(args.onednn)
    name, flags = cpu_info()
    what = (f"int8, real weights quantized by `squeezenet quantize --weight-bits {args.weight_bits}` (its default calibration on 64 hymenoptera_data/train images); "
            "ONNX Runtime on its QDQ export, oneDNN on its s8 weights and scales" if precision == "int8"
            else f"{precision}, random weights")
    lines = [
        "# Benchmarks" if precision == "fp32" else f"# Benchmarks at {precision}",
        "",
        f"Made by `bench/peers.py --precision {precision}` on {datetime.date.today()}: {name}, {os.cpu_count()} "
        f"logical CPUs, input {args.input}x{args.input}, {what}. Median of all timed forwards over {args.rounds} "
        "rounds, engines interleaved. Peers: " + ", ".join(f"{e} {v[e]}" for e in engines[1:] if e in v) + ".",
        "",
        f"- Load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after: above 0 the machine was running "
        "other work too, which lengthens every engine's times alike; compare engines within a row.",
    ]
    if "avx512f" in flags:
        lines.append("- This CPU has AVX-512: ONNX Runtime and squeezenet.cpp both use it.")
    units = {"avx512_vnni": "AVX512-VNNI", "avx_vnni": "AVX-VNNI", "avx512_bf16": "AVX512-BF16", "amx_int8": "AMX-INT8",
             "amx_bf16": "AMX-BF16"}
    here = [u for f, u in units.items() if f in flags]
    lines.append("- Low-precision units: " + (", ".join(here) if here else "none (AVX2 and FMA only)") +
                 ("" if "amx_int8" in flags or not here else "; no AMX") + ".")
    lines += [f"- {n}" for n in notes]
    lines += ["", "| model | batch | threads | " + " | ".join(engines) + " | fastest peer / ours | load |",
              "|---|---:|---:|" + "---:|" * (len(engines) + 2)]
    for (arch, batch, t), med in results.items():
        def cell(e):
            s = med[e]
            return f"{1e3 * s:.2f} ms" if batch == 1 else f"{batch / s:.1f} img/s"
        peers = [med[e] for e in engines[1:]]
        ratio = f"{min(peers) / med['squeezenet.cpp']:.2f}x" if peers else "-"
        lines.append(f"| {arch} | {batch} | {t} | " + " | ".join(cell(e) for e in engines) +
                     f" | {ratio} | {loads[(arch, batch, t)]:.1f} |")
    lines += ["", "Batch 1: latency per forward; larger batches: images per second. "
              f"{MACS['squeezenet1_0'] / 1e6:.1f} M MACs per 224x224 image for 1.0, "
              f"{MACS['squeezenet1_1'] / 1e6:.1f} M for 1.1.", ""]
    chart = bar_chart(results, engines, out.with_suffix(".png"), precision)
    if chart:
        lines += [f"![speed relative to the first peer]({chart.name})", ""]
    write_atomically(out, "\n".join(lines).encode())
    print("wrote", out, "and", chart if chart else "no chart (matplotlib is missing)")


def write_atomically(path, data):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def bar_chart(results, engines, path, precision):
    """Every engine's speed per configuration as a multiple of ONNX Runtime's (or of the first peer's)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    base = "onnxruntime" if "onnxruntime" in engines else engines[1 if len(engines) > 1 else 0]
    labels = [f"{arch.replace('squeezenet1_', '1.')} b{batch} {t}T" for arch, batch, t in results]
    fig, ax = plt.subplots(figsize=(10, 5))
    width = 0.8 / len(engines)
    for i, e in enumerate(engines):
        speed = [med[base] / med[e] for med in results.values()]
        bars = ax.bar([x + (i - (len(engines) - 1) / 2) * width for x in range(len(labels))], speed, width, label=e)
        if e == "squeezenet.cpp":
            ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.axhline(1.3, color="gray", linewidth=0.8, linestyle="--", label=f"1.3x {base}")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel(f"speed relative to {base} (higher is faster)")
    ax.set_title(f"SqueezeNet forward at 224x224, {precision} (version, batch, threads)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(engines) + 1, frameon=False)
    fig.tight_layout()
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)
    return path


if __name__ == "__main__":
    main()
