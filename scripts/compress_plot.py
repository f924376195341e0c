#!/usr/bin/python3
"""Size against test-half top-1 from scripts/compress_table.sh's rows.tsv, as docs/compress.png.

    /usr/bin/python3 scripts/compress_plot.py build/compress/rows.tsv docs/compress.png

One line per series: the authors' v1.0 file weight-shared at 8 (lossless), 6, 5, 4 bits, and its 6-bit file after
centroid retraining; torchvision's 1.1 dense, pruned only, and shared (+ pruned to 70 %) + Huffman-coded.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main():
    rows = list(csv.reader(open(sys.argv[1]), delimiter="\t"))
    get = {(r[0], r[1]): (int(r[2]) / 1000, float(r[3]) * 100) for r in rows}
    fig, ax = plt.subplots(figsize=(7, 4.2))
    lines = {
        "Deep-Compression v1.0: .net, then .sqz shared to 8 (lossless), 6, 5, 4 bits":
            [("dc-v1.0", k) for k in ("original-net", "8bit-lossless", "6bit", "5bit", "4bit")],
        "Deep-Compression v1.0, 6 bits + centroid retraining (distilled, 500 tune images)": [("dc-v1.0", "6bit-tuned")],
        "torchvision 1.1: dense fp16 (ncnn), then pruned only (33 %)": [("tv-1.1", k) for k in ("dense", "pruned-0.33")],
        "torchvision 1.1 shared to 6, 5 bits + Huffman; pruned 70 % + 6 bits":
            [("tv-1.1", k) for k in ("6bit", "5bit", "pruned-0.7-6bit")],
    }
    for label, keys in lines.items():
        pts = [get[k] for k in keys if k in get]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
    ax.axvline(500, color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("file size (KB, log scale; dotted: 500 KB)")
    ax.set_ylabel("top-1 on the test half (500 images), %")
    ax.set_title("Deep Compression: file size against accuracy")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
