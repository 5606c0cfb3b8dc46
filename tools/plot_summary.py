#!/usr/bin/python3
"""Figure of an experiment's runs: one panel per metric, one bar per run, from summary.csv.

    tools/plot_summary.py results/<experiment>/summary.csv   ->   results/<experiment>/summary.png

davi_run calls it after writing the tables. Needs Debian's python3-matplotlib (tools/davi setup installs it),
hence /usr/bin/python3 rather than whatever python3 comes first on PATH.
"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# (column, title, better) for each panel; columns a summary lacks are left out.
PANELS = [
    ("psnr", "PSNR (dB)", "higher"),
    ("ssim", "SSIM", "higher"),
    ("classifier_feature_distance", "classifier feature distance", "lower"),
    ("classifier_frechet_distance", "classifier Frechet distance", "lower"),
    ("diversity", "diversity (std over samples)", "-"),
    ("consistency", "consistency |y - A x| / sqrt(m)", "sigma_y"),
    ("seconds_per_image", "seconds per image (log)", "lower"),
]
FIXED = {"run_id", "method", "nfe", "network_backprops", "seconds_per_image", "training_seconds", "psnr",
         "psnr_of_mean", "ssim", "classifier_feature_distance", "classifier_frechet_distance", "diversity",
         "consistency", "sigma_y"}


def stacked(label):
    """'davi(a=1,b=2)' as one option per line, so neighbouring tick labels do not overlap."""
    return label.replace("(", "\n").replace(",", "\n").rstrip(")")


def run_labels(rows, columns):
    """A label per run from the swept columns (or the method and run id when nothing is swept)."""
    axes = [c for c in columns if c not in FIXED]
    labels = []
    for row in rows:
        parts = [stacked(row[a]) for a in axes if row[a]]
        method = stacked(row["method"])
        labels.append("\n".join([method] + parts) if parts else f"{method}\n{row['run_id'][:6]}")
    return labels


def main(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        columns, rows = reader.fieldnames or [], list(reader)
    if not rows:
        print(f"figure: {path} has no finished runs yet; nothing to plot")
        return 0
    panels = [p for p in PANELS if p[0] in columns and any(r[p[0]] for r in rows)]
    labels = run_labels(rows, columns)
    width = max(2.8, 0.55 * len(rows) + 1.2)
    ncols = min(4, len(panels))
    nrows = (len(panels) + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, 3.8 * nrows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax, (column, title, better) in zip(axes.flat, panels):
        values = [float(r[column]) if r[column] else float("nan") for r in rows]
        ax.bar(range(len(rows)), values, color=[f"C{i % 10}" for i in range(len(rows))])
        if column == "seconds_per_image":
            ax.set_yscale("log")
        if column == "consistency" and rows[0].get("sigma_y"):
            ax.axhline(float(rows[0]["sigma_y"]), color="k", linestyle="--", linewidth=1, label="sigma_y")
            ax.legend(fontsize=7)
        ax.set_title(f"{title}\n({better} is better)" if better not in ("-", "sigma_y") else title, fontsize=9)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels(labels, fontsize=7, rotation=0)
        ax.tick_params(axis="y", labelsize=7)
    experiment = os.path.basename(os.path.dirname(os.path.abspath(path)))
    fig.suptitle(f"{experiment}: {len(rows)} runs (from {os.path.basename(path)})", fontsize=10)
    fig.tight_layout()
    out = os.path.join(os.path.dirname(path), "summary.png")
    tmp = out + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, out)  # atomic: a reader never sees half a figure
    print(f"figure: {out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
