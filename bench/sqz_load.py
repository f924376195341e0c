#!/usr/bin/python3
"""Loading time of a .sqz against the same weights as .safetensors and as the authors' .net, interleaved.

Each round runs `squeezenet info -w FILE` once per file, in rotating order, and takes the whole process's CPU time
(user + system: start, read, decode, validate, print), so the figure is an upper bound on the load itself and does
not count time spent waiting for a core on a busy machine. Prints medians over the rounds and the ratio to
safetensors.

    /usr/bin/python3 bench/sqz_load.py [--cli build/squeezenet] [--rounds 30]
"""
import argparse
import os
import statistics
import subprocess
import tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default="build/squeezenet")
    ap.add_argument("--data", default=os.environ.get("SQUEEZENET_DATA", "../shared/data"))
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    net = os.path.join(args.data, "deep-compression-squeezenet-v1.0", "compressed_SqueezeNet.net")
    with tempfile.TemporaryDirectory() as tmp:
        files = {"sqz 6-bit": os.path.join(tmp, "w.sqz"), "safetensors": os.path.join(tmp, "w.safetensors"),
                 "net": os.path.join(tmp, "w.net")}
        subprocess.run([args.cli, "compress", "-w", net, "--bits", "6", "--out", files["sqz 6-bit"]], check=True,
                       stdout=subprocess.DEVNULL)
        for name in ("safetensors", "net"):
            subprocess.run([args.cli, "convert", files["sqz 6-bit"], files[name]], check=True, stdout=subprocess.DEVNULL)
        times = {k: [] for k in files}
        names = list(files)
        for r in range(args.rounds):
            for k in names[r % len(names):] + names[:r % len(names)]:
                p = subprocess.Popen([args.cli, "info", "-w", files[k]], stdout=subprocess.DEVNULL)
                _, status, usage = os.wait4(p.pid, 0)
                p.returncode = os.waitstatus_to_exitcode(status)
                if p.returncode != 0:
                    raise SystemExit(f"info -w {files[k]} failed")
                times[k].append(usage.ru_utime + usage.ru_stime)
        base = statistics.median(times["safetensors"])
        for k in names:
            m = statistics.median(times[k])
            print(f"{k:12s} {os.path.getsize(files[k]):9d} bytes  median {m * 1e3:6.1f} ms CPU  x{m / base:.2f} of safetensors")


if __name__ == "__main__":
    main()
