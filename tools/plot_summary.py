#!/usr/bin/python3
"""Figures of an experiment's runs, from summary.csv:
  summary.png         one panel per metric, one bar per run (log axis where the values span decades), with
                      the metric's interval (columns <metric>_low, <metric>_high) as an error bar;
  summary_pareto.png  quality against seconds per image (log x), one point per run with its interval, the
                      Pareto front marked;
  summary_curves.png  when runs have a learning curve (<run_id>/curve.csv): PSNR and the classifier Frechet
                      distance against training steps and training seconds, the runs without a curve as
                      horizontal lines; each such run also gets <run_id>/curve.png.

    tools/plot_summary.py results/<experiment>/summary.csv   ->   summary.png, summary_pareto.png beside it

davi_run calls it after writing the tables. Needs Debian's python3-matplotlib (tools/davi setup installs it),
hence /usr/bin/python3 rather than whatever python3 comes first on PATH.
"""
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter  # noqa: E402

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


def is_interval(column):
    return column.endswith("_low") or column.endswith("_high")


def error_bars(rows, column):
    """(below, above) distances to a metric's interval ends (NaN where a run has none), or None."""
    if not rows or column + "_low" not in rows[0]:
        return None
    values, low, high = numbers(rows, column), numbers(rows, column + "_low"), numbers(rows, column + "_high")
    return [[max(v - l, 0) if v == v and l == l else float("nan") for v, l in zip(values, low)],
            [max(h - v, 0) if v == v and h == h else float("nan") for v, h in zip(values, high)]]


def run_labels(rows, columns):
    """A label per run from the swept columns (or the method and run id when nothing is swept)."""
    axes = [c for c in columns if c not in FIXED and not is_interval(c)]
    labels = []
    for row in rows:
        parts = [stacked(row[a]) for a in axes if row[a]]
        method = stacked(row["method"])
        labels.append("\n".join([method] + parts) if parts else f"{method}\n{row['run_id'][:6]}")
    return labels


# (column, axis label, higher is better) for each quality-against-cost panel.
PARETO = [
    ("psnr", "PSNR (dB)", True),
    ("classifier_frechet_distance", "classifier Frechet distance", False),
]
SPAN_FOR_LOG = 30  # a bar panel whose positive values span more than this factor gets a log axis


def number(text):
    """A table cell as a float; empty, "nan", infinite and astronomically large cells (beyond what a log axis
    can hold) become NaN, which no axis draws."""
    try:
        value = float(text) if text else float("nan")
    except ValueError:
        return float("nan")
    return value if math.isfinite(value) and abs(value) < 1e100 else float("nan")


def numbers(rows, column):
    return [number(r.get(column)) for r in rows]


def pareto_front(costs, qualities, higher_is_better):
    """Indices of the runs no other run beats on both cost (lower) and quality, ordered by cost."""
    points = [(c, q if higher_is_better else -q, i) for i, (c, q) in enumerate(zip(costs, qualities))
              if c == c and q == q and c > 0]
    front, best = [], float("-inf")
    for cost, quality, i in sorted(points, key=lambda p: (p[0], -p[1])):
        if quality > best:
            front.append(i)
            best = quality
    return front


def save(fig, out):
    tmp = out + ".tmp.png"
    fig.savefig(tmp, dpi=110, bbox_inches="tight")  # "tight" keeps a key placed beside the panels
    os.replace(tmp, out)  # atomic: a reader never sees half a figure
    plt.close(fig)
    print(f"figure: {out}")


def tick_labels(ax, labels):
    """Stacked labels under the bars when few; numbers when many (the figure's key names them), so
    neighbouring labels never overlap."""
    ax.set_xticks(range(len(labels)))
    if len(labels) <= 6:
        ax.set_xticklabels(labels, fontsize=7)
    else:
        ax.set_xticklabels([str(i + 1) for i in range(len(labels))], fontsize=6)


def log_axis(axis, values):
    """A log axis whose labels never overlap: decades when the values span more than ten, else four
    ticks spread over the range (a narrow log range would otherwise print crowded minor labels)."""
    positive = [v for v in values if v == v and v > 0]
    axis.set_minor_formatter(NullFormatter())
    if positive and max(positive) <= 10 * min(positive):
        low, high = min(positive), max(positive)
        ticks = [low * (high / low) ** (k / 3) for k in range(4)] if high > low else [low]
        axis.set_major_locator(FixedLocator(ticks))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.2g}"))


def plot_pareto(rows, labels, experiment, out):
    costs = numbers(rows, "seconds_per_image")
    drawable = lambda column: any(c > 0 and q == q for c, q in zip(costs, numbers(rows, column)))  # noqa: E731
    panels = [p for p in PARETO if drawable(p[0])]
    if not panels:
        return
    few = len(rows) <= 6  # few runs: names beside the points; more: a numbered legend
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels) + (0 if few else 4), 4.8), squeeze=False)
    for ax, (column, title, higher) in zip(axes.flat, panels):
        qualities = numbers(rows, column)
        bars = error_bars(rows, column)
        if bars:
            ax.errorbar(costs, qualities, yerr=bars, fmt="none", ecolor="0.5", elinewidth=0.8, capsize=2, zorder=2)
        for i, (cost, quality) in enumerate(zip(costs, qualities)):
            name = labels[i].replace("\n", " ")
            ax.scatter(cost, quality, color=f"C{i % 10}", marker="os^Dv"[i // 10 % 5], s=30, zorder=3,
                       label=None if few else f"{i + 1}: {name}")
            ax.annotate(name if few else str(i + 1), (cost, quality), fontsize=6, xytext=(4, 3),
                        textcoords="offset points")
        front = pareto_front(costs, qualities, higher)
        (line,) = ax.plot([costs[i] for i in front], [qualities[i] for i in front], color="k", linewidth=1,
                          linestyle="--", zorder=2, label="Pareto front")
        ax.set_xscale("log")
        log_axis(ax.xaxis, costs)
        if not higher and all(q > 0 for q in qualities if q == q):
            ax.set_yscale("log")
            log_axis(ax.yaxis, qualities)
        ax.set_xlabel("seconds per image (log)", fontsize=8)
        ax.set_ylabel(title, fontsize=8)
        ax.set_title(f"{title} against cost ({'higher' if higher else 'lower'} is better)", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.legend(handles=[line], fontsize=6)
    if not few:  # the numbered runs, once, right of the panels
        points = [h for h in axes.flat[0].collections if h.get_label() and not h.get_label().startswith("_")]
        axes.flat[-1].legend(handles=points + [line], fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                             borderaxespad=0)
    fig.suptitle(f"{experiment}: quality against seconds per image, {len(rows)} runs", fontsize=10)
    fig.tight_layout()
    save(fig, out)


# (metric, axis label) of the curve panels; a curve's columns are the metric, or ema_/online_ + the metric.
CURVE_METRICS = [("psnr", "PSNR (dB), higher is better"),
                 ("classifier_frechet_distance", "classifier Frechet distance, lower is better")]


def read_curve(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames or [], list(reader)


def draw_curves(curves, baselines, title, out):
    """curves: (label, columns, rows) of curve.csv files; baselines: (label, {metric: value}) drawn flat."""
    metrics = [(m, axis) for m, axis in CURVE_METRICS
               if any(c in (m, "ema_" + m, "online_" + m) for _, columns, _ in curves for c in columns)]
    if not metrics:
        return
    fig, axes = plt.subplots(len(metrics), 2, figsize=(12, 3.8 * len(metrics)), squeeze=False)
    for row, (metric, axis_label) in enumerate(metrics):
        for col, (x_column, x_label) in enumerate([("step", "training steps"), ("seconds", "training seconds")]):
            ax = axes[row][col]
            for i, (label, columns, rows) in enumerate(curves):
                for prefix, style in (("", "-"), ("ema_", "-"), ("online_", ":")):
                    if prefix + metric in columns:
                        name = f"{label} ({prefix[:-1]})" if prefix else label
                        ax.plot(numbers(rows, x_column), numbers(rows, prefix + metric), style, color=f"C{i % 10}",
                                marker=".", label=name)
            for j, (label, values) in enumerate(baselines):
                value = values.get(metric, float("nan"))
                if value == value:
                    ax.axhline(value, color="0.4", linestyle="--", linewidth=0.8)
                    ax.annotate(label, (1.0, value), xycoords=("axes fraction", "data"), fontsize=6,
                                xytext=(3, 0), textcoords="offset points", va="center")
            ax.set_xlabel(x_label, fontsize=8)
            ax.set_ylabel(axis_label, fontsize=8)
            ax.tick_params(labelsize=7)
            if row == 0 and col == 0:
                ax.legend(fontsize=6)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save(fig, out)


def plot_curves(rows, labels, folder, experiment):
    """summary_curves.png and each curve's curve.png; the runs without a curve are the flat lines (they are
    measured on the evaluation's images, the curves on validation images: see the titles)."""
    curves, baselines = [], []
    for row, label in zip(rows, labels):
        path = os.path.join(folder, row["run_id"], "curve.csv")
        name = label.replace("\n", " ")
        if os.path.exists(path):
            columns, curve_rows = read_curve(path)
            curves.append((name, columns, curve_rows, os.path.dirname(path)))
        else:
            baselines.append((name, {m: number(row.get(m)) for m, _ in CURVE_METRICS}))
    if not curves:
        return
    note = "curves: first validation images; flat lines: the evaluation's images"
    for name, columns, curve_rows, run_folder in curves:
        draw_curves([(name, columns, curve_rows)], baselines, f"{experiment}: {name}\n({note})",
                    os.path.join(run_folder, "curve.png"))
    draw_curves([c[:3] for c in curves], baselines, f"{experiment}: learning curves\n({note})",
                os.path.join(folder, "summary_curves.png"))


def main(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        columns, rows = reader.fieldnames or [], list(reader)
    if not rows:
        print(f"figure: {path} has no finished runs yet; nothing to plot")
        return 0
    panels = [p for p in PANELS if p[0] in columns and any(r[p[0]] for r in rows)]
    labels = run_labels(rows, columns)
    width = max(2.8, 0.3 * len(rows) + 1.2) if len(rows) > 6 else max(2.8, 0.55 * len(rows) + 1.2)
    ncols = min(4 if len(rows) <= 6 else 2 if len(rows) <= 14 else 1, len(panels))
    nrows = (len(panels) + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, 3.8 * nrows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax, (column, title, better) in zip(axes.flat, panels):
        values = numbers(rows, column)
        ax.bar(range(len(rows)), values, color=[f"C{i % 10}" for i in range(len(rows))],
               yerr=error_bars(rows, column), error_kw={"elinewidth": 0.8, "capsize": 2})
        positive = [v for v in values if v == v and v > 0]
        if column == "seconds_per_image" or (len(positive) == len(values) and max(positive) > SPAN_FOR_LOG * min(positive)):
            ax.set_yscale("log")
            log_axis(ax.yaxis, values)
            title = title if "(log)" in title else f"{title} (log)"
        if column == "consistency" and number(rows[0].get("sigma_y")) == number(rows[0].get("sigma_y")):
            ax.axhline(number(rows[0]["sigma_y"]), color="k", linestyle="--", linewidth=1, label="sigma_y")
            ax.legend(fontsize=7)
        ax.set_title(f"{title}\n({better} is better)" if better not in ("-", "sigma_y") else title, fontsize=9)
        tick_labels(ax, labels)
        ax.tick_params(axis="y", labelsize=7)
    experiment = os.path.basename(os.path.dirname(os.path.abspath(path)))
    fig.suptitle(f"{experiment}: {len(rows)} runs (from {os.path.basename(path)})", fontsize=10)
    fig.tight_layout()
    if len(rows) > 6:  # the key of the numbered bars
        key = [Patch(color=f"C{i % 10}", label=f"{i + 1}: {label.replace(chr(10), ' ')}") for i, label in enumerate(labels)]
        fig.legend(handles=key, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 0.95), borderaxespad=0)
    save(fig, os.path.join(os.path.dirname(path), "summary.png"))
    plot_pareto(rows, labels, experiment, os.path.join(os.path.dirname(path), "summary_pareto.png"))
    plot_curves(rows, labels, os.path.dirname(path), experiment)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: tools/plot_summary.py results/<experiment>/summary.csv", file=sys.stderr)
        sys.exit(2)
    try:
        sys.exit(main(sys.argv[1]))
    except Exception as error:  # one line, like davi_run's own messages; the tables are already written
        print(f"figure: cannot draw {sys.argv[1]}: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
              file=sys.stderr)
        sys.exit(1)
