#!/usr/bin/python3
"""ImageNet training time of SqueezeNet on N machines, from what one rank measures: a model, not a run.

Step time = compute of the machine's share of the global batch + ring allreduce of the gradient:
  compute   = (global_batch / N) / images_per_s
  allreduce = 2 (N - 1) / N * gradient_bytes / bandwidth + 2 (N - 1) * latency   (ring: reduce-scatter + allgather)
and, when the allreduce is launched bucket by bucket during backward (DDP), at best max(compute, allreduce).
Our backward hides less ("our buckets"): it runs each image through all of `features` on one thread, so the
features' gradients are all final together at its end, and only the classifier's bucket (0.415 of the gradient
with 1000 classes) is summed while backward still computes; the rest stays exposed:
  compute + (1 - hidden) * allreduce, while hidden * allreduce fits in the backward.
Training is the authors' solver: 170,000 steps of 512 images (87 M images). Scaling stops where the allreduce
reaches the compute, or where the per-machine batch falls below one image.

Run: /usr/bin/python3 bench/scaling_model.py --images-per-s R [--gradient-bytes G] [--gbit 10] [--latency-us 20]
     [--hidden 0.415]
"""
import argparse

STEPS, GLOBAL_BATCH = 170_000, 512


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images-per-s", type=float, required=True, help="training images/s of one machine")
    p.add_argument("--gradient-bytes", type=float, default=1_235_496 * 4, help="squeezenet1_1, 1000 classes, fp32")
    p.add_argument("--gbit", type=float, default=10.0, help="link bandwidth per machine, Gbit/s")
    p.add_argument("--latency-us", type=float, default=20.0, help="per message")
    p.add_argument("--hidden", type=float, default=513_000 / 1_235_496,
                   help="share of the gradient summed while backward computes: the classifier's, 1000 classes")
    a = p.parse_args()
    bandwidth = a.gbit * 1e9 / 8
    print(f"{a.images_per_s:g} images/s per machine, {a.gradient_bytes / 1e6:.2f} MB of gradient, "
          f"{a.gbit:g} Gbit/s, {a.latency_us:g} us; {STEPS} steps of {GLOBAL_BATCH}")
    print("| N | batch per machine | compute per step | allreduce per step | hours, no overlap | hours, overlapped "
          "| hours, our buckets | speed-up, no overlap / our buckets |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    one = None
    for n in (1, 2, 4, 8, 16, 32, 64):
        compute = GLOBAL_BATCH / n / a.images_per_s
        reduce = 0.0 if n == 1 else 2 * (n - 1) / n * a.gradient_bytes / bandwidth + 2 * (n - 1) * a.latency_us * 1e-6
        serial, overlapped = STEPS * (compute + reduce) / 3600, STEPS * max(compute, reduce) / 3600
        # Backward is about half of a step's compute: the classifier's sum hides only behind that.
        ours = STEPS * (compute + reduce - min(a.hidden * reduce, compute / 2)) / 3600
        one = one or serial
        print(f"| {n} | {GLOBAL_BATCH / n:g} | {compute * 1e3:.0f} ms | {reduce * 1e3:.1f} ms | {serial:.1f} | "
              f"{overlapped:.1f} | {ours:.1f} | {one / serial:.1f}x / {one / ours:.1f}x |")
    # Where the allreduce catches up with the compute: N^2 / (N - 1) ~ N = batch * bandwidth / (2 G r).
    balance = GLOBAL_BATCH * bandwidth / (2 * a.gradient_bytes * a.images_per_s)
    print(f"allreduce = compute near N = {balance:.0f} machines (bandwidth term only)")


if __name__ == "__main__":
    main()
