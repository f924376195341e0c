#!/usr/bin/python3
"""Size against accuracy: scripts/compress_table.sh's rows.tsv as docs/compress.png, and the per-stage lines of
scripts/compress_tv11.sh and scripts/compress_hymenoptera.sh (stages.tsv) as docs/compress_stages.png.

    /usr/bin/python3 scripts/compress_plot.py build/compress/rows.tsv docs/compress.png
    /usr/bin/python3 scripts/compress_plot.py --stages build/compress/stages.tsv docs/compress_stages.png
    /usr/bin/python3 scripts/compress_plot.py --gptq build/compress/gptq-fp32.tsv [build/compress/gptq-sequential.tsv ...] \
        docs/compress_gptq_tv11.png

One line per series: the authors' v1.0 file weight-shared at 8 (lossless), 6, 5, 4 bits, and its 6-bit file after
centroid retraining; torchvision's 1.1 dense, pruned only, and shared (+ pruned to 70 %) + Huffman-coded.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


STAGES = {  # stage in stages.tsv: legend, whether x is the stored (entropy-coded) size
    "pruning": ("pruning only (no retraining; float16 values + bitmask)", False),
    "sharing": ("+ sharing (no retraining; fixed-width codes + bitmask)", False),
    "retraining": ("+ retraining (masked fine-tuning, then shared)", False),
    "retraining-centroids": ("+ retraining (and centroid tuning, last step)", False),
    "coding": ("+ coding (the .sqz file: Huffman codes and gaps)", True),
}
PANELS = {  # series: title, y label, the size goal in KB
    "tv-1.1": ("torchvision squeezenet1_1 (ImageNet)", "top-1 on the test half (500 images), %", 524.288),
    "hymenoptera": ("squeezenet1_1 fine-tuned on hymenoptera", "val accuracy (153 images), %", 100),
}


def stages(tsv, png):
    """One line per stage through the steps of the gradual pruning; x is the size without entropy coding except
    on the coding line, which is the same weights as the retraining line, as stored."""
    rows = [r for r in csv.reader(open(tsv), delimiter="\t") if r]
    series = [s for s in PANELS if any(r[0] == s for r in rows)]
    fig, axes = plt.subplots(1, len(series), figsize=(6 * len(series), 4.2), squeeze=False)
    for ax, name in zip(axes[0], series):
        mine = [r for r in rows if r[0] == name]
        last = {r[1]: r for r in mine}  # a rerun's rows replace the earlier ones
        keyed = {(r[1], r[2]): r for r in mine}
        dense = last["dense"]
        ax.axhline(float(dense[4]) * 100, color="grey", linestyle="--", linewidth=1,
                   label=f"dense ({int(dense[3]) / 1000:.0f} KB)")
        tuned = [r for k, r in sorted(keyed.items()) if k[0] in ("retraining", "retraining-centroids")]
        for stage, (legend, stored) in STAGES.items():
            if stage == "coding":
                pts = [(int(r[3]), float(r[4])) for r in tuned]
            else:
                pts = [(int(r[5]), float(r[4])) for k, r in sorted(keyed.items()) if k[0] == stage]
            pts.sort()
            if pts:
                ax.plot([p[0] / 1000 for p in pts], [p[1] * 100 for p in pts], marker="o", label=legend)
        # compress_tv11.sh's entropy-constrained codebooks without pruning, as stored: sharing + coding alone.
        ecsq = sorted((int(r[3]), float(r[4]), r[1].endswith("-tuned")) for r in mine
                      if r[1].startswith("entropy-weight"))
        for tuned_, legend, marker in ((False, "sharing only, entropy-constrained, coded (no pruning)", "s"),
                                       (True, "the same under 0.5 MB + centroid tuning", "*")):
            pts = [p for p in ecsq if p[2] == tuned_]
            if pts:
                ax.plot([p[0] / 1000 for p in pts], [p[1] * 100 for p in pts], marker=marker, markersize=9 if tuned_
                        else 6, linestyle=":" if not tuned_ else "none", label=legend)
        ax.axvline(PANELS[name][2], color="grey", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        ax.set_xlabel(f"bytes (KB, log scale; dotted: the goal, {PANELS[name][2]:g} KB)")
        ax.set_ylabel(PANELS[name][1])
        ax.set_title(PANELS[name][0], fontsize=10)
        ax.legend(fontsize=7, loc="best")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def gptq(tables, png):
    """scripts/compress_tv11_gptq.sh's recipes (sharing + coding, no pruning), one series per fit (gptq-FIT.tsv):
    each file's top-1 on the test half (reported) and on the tune half (which chose between them), against size."""
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for i, tsv in enumerate(tables):
        fit = tsv.rsplit("gptq-", 1)[-1].removesuffix(".tsv")
        rows = [r for r in csv.reader(open(tsv), delimiter="\t") if r]
        dense = next(r for r in rows if r[0] == "dense")
        files = [r for r in rows if r[0] != "dense"]
        if i == 0:
            for column, half, style in ((4, "test half", "--"), (2, "tune half", "-.")):
                ax.axhline(float(dense[column]) * 100, color="grey", linestyle=style, linewidth=1,
                           label=f"dense, {half}: {float(dense[column]) * 100:.1f} %")
            ax.axhline(float(dense[4]) * 100 - 1.5, color="grey", linestyle=":", linewidth=1)
        for column, half, fill in ((4, "test half", True), (2, "tune half", False)):
            ax.plot([int(r[1]) / 1000 for r in files], [float(r[column]) * 100 for r in files], marker="os"[i % 2],
                    linestyle="none", color=f"C{i}", fillstyle="full" if fill else "none",
                    label=f"--gptq-fit {fit}, {half}")
        for r in files:
            ax.annotate(r[0], (int(r[1]) / 1000, float(r[4]) * 100), fontsize=5.5, xytext=(3, 2),
                        textcoords="offset points", color=f"C{i}")
    ax.axvline(524.288, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("file size (KB; dotted: the goal, 524.288 KB and 1.5 points under dense on the test half)")
    ax.set_ylabel("top-1, %")
    ax.set_title("torchvision squeezenet1_1 without pruning: code widths, entropy-constrained codebooks, GPTQ",
                 fontsize=9)
    ax.legend(fontsize=6.5, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main():
    if sys.argv[1] == "--stages":
        stages(sys.argv[2], sys.argv[3])
        return
    if sys.argv[1] == "--gptq":
        gptq(sys.argv[2:-1], sys.argv[-1])
        return
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
