#!/usr/bin/python3
"""Our engine at two precisions side by side: `squeezenet bench --precision P --runs` for every cell (1.0 / 1.1 x
batch 1 / 32 x 1 / 2 threads), the precisions interleaved in rounds that alternate their order, so that a busy
neighbour hits both alike. A cell's figure is the median of all its timed forwards over all rounds; the ratio is
the second precision's speed over the first's. Prints a Markdown table.

Run:  /usr/bin/python3 bench/precisions.py [--cli build/squeezenet] [--rounds 5] [--precisions fp32 bf16]
"""
import argparse
import re
import statistics
import subprocess

CELLS = [(arch, batch, threads) for arch in ("squeezenet1_0", "squeezenet1_1") for batch in (1, 32)
         for threads in (1, 2)]


def timed(cli, precision, arch, batch, threads):
    iters = 30 if batch == 1 else 5
    out = subprocess.run([cli, "bench", "--arch", arch, "--batch", str(batch), "--threads", str(threads), "--iters",
                          str(iters), "--precision", precision, "--runs"], check=True, capture_output=True,
                         text=True).stdout
    family = re.search(r", (\S+) kernels", out).group(1)
    return family, [float(s) for s in re.search(r"runs \(s\):(.*)", out).group(1).split()]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cli", default="build/squeezenet")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--precisions", nargs=2, default=["fp32", "bf16"])
    args = ap.parse_args()
    a, b = args.precisions
    print(f"| model | batch | threads | {a} | {b} | {b} vs {a} |")
    print("|---|---:|---:|---:|---:|---:|")
    families = {}
    for arch, batch, threads in CELLS:
        seconds = {a: [], b: []}
        for r in range(args.rounds):
            for p in (args.precisions if r % 2 == 0 else args.precisions[::-1]):
                families[p], runs = timed(args.cli, p, arch, batch, threads)
                seconds[p] += runs
        med = {p: statistics.median(s) for p, s in seconds.items()}
        fig = (lambda s: f"{s * 1e3:.2f} ms") if batch == 1 else (lambda s: f"{batch / s:.1f} img/s")
        print(f"| {arch[len('squeezenet'):].replace('_', '.')} | {batch} | {threads} | {fig(med[a])} | "
              f"{fig(med[b])} | **{med[a] / med[b]:.2f}x** |", flush=True)
    print(f"\nkernels: {a} {families[a]}, {b} {families[b]}")


if __name__ == "__main__":
    main()
