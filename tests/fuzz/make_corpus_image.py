#!/usr/bin/python3
"""Seed corpus for fuzz_image: small JPEGs and PNGs of every kind the decoder handles, seeded.

    tests/fuzz/make_corpus_image.py --out corpus/image
    build-fuzz/tests/fuzz/fuzz_image corpus/image -max_total_time=60
"""
import argparse
import io
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from make_image_fixtures import png_bytes  # noqa: E402  (the PNG writer for what PIL cannot write)
from seed_corpus import write_seeds  # noqa: E402

SEED = 1602


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(SEED)
    # A gradient with noise: compresses to a few hundred bytes but exercises every code path of the decoders.
    y, x = np.mgrid[0:12, 0:17]
    rgb = np.dstack([x * 15, y * 20, (x + y) * 8]).astype(np.uint8) ^ rng.integers(0, 16, (12, 17, 3), np.uint8)
    grey = rgb[:, :, 1]
    im = Image.fromarray(rgb)
    seeds = {}

    def pil(name, image, fmt, **options):
        buf = io.BytesIO()
        image.save(buf, fmt, **options)
        seeds[name] = buf.getvalue()

    pil("baseline_420.jpg", im, "JPEG", quality=80)
    pil("baseline_444.jpg", im, "JPEG", quality=95, subsampling=0)
    pil("baseline_422.jpg", im, "JPEG", quality=60, subsampling=1)
    pil("progressive.jpg", im, "JPEG", progressive=True)
    pil("restart.jpg", im, "JPEG", restart_marker_blocks=1)
    pil("optimized.jpg", im, "JPEG", optimize=True)
    pil("grey.jpg", Image.fromarray(grey), "JPEG")
    pil("cmyk.jpg", im.convert("CMYK"), "JPEG")
    pil("rgb8.png", im, "PNG")
    pil("rgba8.png", Image.fromarray(np.dstack([rgb, grey])), "PNG")
    pil("la8.png", Image.fromarray(np.dstack([grey, grey[::-1]]), "LA"), "PNG")
    pil("palette.png", im.quantize(16), "PNG", transparency=2)
    seeds["grey1.png"] = png_bytes(grey >> 7, 1, 0)
    seeds["grey2_adam7.png"] = png_bytes(grey >> 6, 2, 0, interlace=True)
    seeds["grey4.png"] = png_bytes(grey >> 4, 4, 0, trns=b"\x00\x03")
    seeds["grey16.png"] = png_bytes(grey.astype(np.uint16) * 3, 16, 0)
    seeds["rgb16_adam7.png"] = png_bytes(rgb.astype(np.uint16) * 257, 16, 2, interlace=True)
    seeds["rgba16.png"] = png_bytes(np.dstack([rgb, grey]).astype(np.uint16) * 250, 16, 6)
    seeds["la16.png"] = png_bytes(np.dstack([grey, grey]).astype(np.uint16) * 256, 16, 4)
    seeds["palette2_short.png"] = png_bytes(grey >> 6, 2, 3, palette=[[255, 0, 0], [0, 255, 0]])
    write_seeds(args.out, "fuzz_image", seeds)


if __name__ == "__main__":
    main()
