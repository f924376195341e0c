#!/usr/bin/python3
"""What the Python module costs over the C++ engine, and what releasing the GIL buys, on this machine.

1. `model.logits(x)` on a float32 batch against `squeezenet bench` (the C++ engine alone, same weights, batch and
   threads), in rounds that alternate the two; each side's figure is the median forward time over all rounds.
2. Two Python threads, each calling logits on its own model (threads=1 each), against one thread doing both
   models' calls in turn: the speed-up is the sequential time over the parallel one, median over rounds.

Run (after cmake --build build): /usr/bin/python3 bench/python_module.py [--build build] [--rounds 7]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("SQUEEZENET_DATA", os.path.join(HERE, "..", "..", "shared", "data"))
WEIGHTS = os.path.join(DATA, "pnnx-ncnn-torchvision-squeezenet1.1-fp16", "squeezenet_v1.1.ncnn.param")


def cpp_forward_seconds(cli, weights, batch, threads, iters):
    out = subprocess.run([cli, "bench", "-w", weights, "--batch", str(batch), "--threads", str(threads),
                          "--iters", str(iters), "--runs"], check=True, stdout=subprocess.PIPE, text=True).stdout
    return [float(s) for s in re.search(r"runs \(s\):(.*)", out).group(1).split()]


def python_forward_seconds(model, x, iters):
    model.logits(x)  # the plan for this shape is made on the first call, as the CLI's warm-up does
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        model.logits(x)
        times.append(time.perf_counter() - t)
    return times


def two_models(models, x, iters, parallel):
    def job(m):
        for _ in range(iters):
            m.logits(x)

    t = time.perf_counter()
    if parallel:
        threads = [threading.Thread(target=job, args=(m,)) for m in models]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    else:
        for m in models:
            job(m)
    return time.perf_counter() - t


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--weights", default=WEIGHTS)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--iters", type=int, default=5, help="forwards per side per round")
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(args.build, "python"))
    import squeezenet

    cli = os.path.join(args.build, "squeezenet")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"CPU: {cpu}, {os.cpu_count()} logical; load average {os.getloadavg()[0]:.1f}; squeezenet {squeezenet.__version__}")
    x = np.random.default_rng(0).uniform(-2, 2, (args.batch, 3, 224, 224)).astype(np.float32)

    for threads in (1, 2):
        model = squeezenet.load(args.weights, threads=threads)
        py, cpp = [], []
        for r in range(args.rounds):
            sides = [lambda: py.extend(python_forward_seconds(model, x, args.iters)),
                     lambda: cpp.extend(cpp_forward_seconds(cli, args.weights, args.batch, threads, args.iters))]
            for side in sides if r % 2 == 0 else reversed(sides):
                side()
        p, c = statistics.median(py), statistics.median(cpp)
        print(f"batch {args.batch}, {threads} thread(s): Python logits {p * 1e3:.1f} ms, C++ engine {c * 1e3:.1f} ms "
              f"(medians of {len(py)} forwards each): Python / C++ = {p / c:.3f}")

    models = [squeezenet.load(args.weights, threads=1) for _ in range(2)]
    speedups, one, two = [], [], []
    for m in models:
        m.logits(x)
    for r in range(args.rounds):
        s = two_models(models, x, args.iters, parallel=False)
        p = two_models(models, x, args.iters, parallel=True)
        one.append(s), two.append(p), speedups.append(s / p)
    print(f"two models x {args.iters} forwards of batch {args.batch}, threads=1 each: one Python thread "
          f"{statistics.median(one):.2f} s, two Python threads {statistics.median(two):.2f} s: speed-up "
          f"{statistics.median(speedups):.2f}x (median of {args.rounds} rounds, range {min(speedups):.2f}-{max(speedups):.2f})")


if __name__ == "__main__":
    main()
