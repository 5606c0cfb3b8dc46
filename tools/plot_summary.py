#!/usr/bin/python3
"""Figures of an experiment's runs, from summary.csv:
  summary.png         one panel per metric, one bar per run (log axis where the values span decades), with
                      the metric's interval (columns <metric>_low, <metric>_high) as an error bar;
  summary_pareto.png  quality against seconds per image (log x), one point per run with its interval, the
                      Pareto front marked;
  summary_curves.png  when runs have a learning curve (<run_id>/curve.csv): PSNR and the classifier Frechet
                      distance against training steps and training seconds, the runs without a curve as
                      horizontal lines; each such run also gets <run_id>/curve.png.

    tools/plot_summary.py results/<experiment>/summary.csv [--compare results/<other>/summary.csv ...]
        ->   summary.png, summary_pareto.png (and the curves) beside the first summary

--compare (an experiment file's "compare_with", passed by davi_run) adds another experiment's finished runs
of the same task: hollow points in the Pareto figure and dashed lines on the learning curves. A Frechet
distance depends on the number of images it is measured over, so one is drawn beside another only when both
count the same images (metrics.json "images"; a curve's from its config's method.curve.images); PSNR is
drawn at any count.

davi_run calls it after writing the tables. Needs Debian's python3-matplotlib (tools/davi setup installs it),
hence /usr/bin/python3 rather than whatever python3 comes first on PATH.
"""
import csv
import json
import math
import os
import sys
from collections import namedtuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
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
FIXED = {"run_id", "method", "nfe", "network_backprops", "seconds_per_image", "seconds_per_image_alone",
         "training_seconds", "psnr",
         "psnr_of_mean", "ssim", "classifier_feature_distance", "classifier_frechet_distance", "diversity",
         "consistency", "sigma_y"}


def stacked(label):
    """'davi(a=1,b=ppb(h=0.1))' as one option per line ('davi', 'a=1', 'b=ppb(h=0.1)'), so neighbouring tick
    labels do not overlap; a nested policy stays on its line."""
    if "(" not in label or not label.endswith(")"):
        return label
    name, inner = label[:-1].split("(", 1)
    lines, depth = [name, ""], 0
    for char in inner:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            lines.append("")
        else:
            lines[-1] += char
    return "\n".join(lines)


def is_interval(column):
    return column.endswith("_low") or column.endswith("_high")


def error_bars(rows, column):
    """(below, above) distances to a metric's spread: the sd over seeds of a row that stands for several
    (over_seeds), else its interval's ends; NaN where a row has neither; None when no row has either."""
    if not rows or not any(column + "_low" in r or column + "_sd" in r for r in rows):
        return None
    below, above = [], []
    for row in rows:
        value, sd = number(row.get(column)), number(row.get(column + "_sd"))
        low, high = number(row.get(column + "_low")), number(row.get(column + "_high"))
        if sd == sd:
            below.append(sd), above.append(sd)
        else:
            below.append(max(value - low, 0) if value == value and low == low else float("nan"))
            above.append(max(high - value, 0) if value == value and high == high else float("nan"))
    return [below, above]


def seed_groups(rows, columns):
    """The rows grouped by configuration (every swept value but the seed, and the method), in the order
    they first appear; each row a group of its own when the experiment does not sweep `seed`."""
    if "seed" not in columns:
        return [[row] for row in rows]
    keys = [c for c in sweep_axes(columns) if c != "seed"] + ["method"]
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row.get(k, "") for k in keys), []).append(row)
    return list(groups.values())


def over_seeds(group):
    """One row for the runs of a configuration: each number the mean over its seeds, <column>_sd the
    sample standard deviation where two or more seeds have it, `seed` saying how many; the per-run
    intervals are left out (the spread over seeds stands for them). A single run is returned as it is."""
    if len(group) == 1:
        return group[0]
    row = dict(group[0], seed=f"{len(group)} seeds")
    swept = set(sweep_axes(list(row)))
    for column in list(row):
        if column in swept or column in ("run_id", "method"):
            continue  # the configuration's own values: the same for every seed
        if is_interval(column):
            row[column] = ""
            continue
        values = [v for v in (number(r.get(column)) for r in group) if v == v]
        mean = sum(values) / len(values) if values else float("nan")
        row[column] = repr(mean) if values else ""
        if len(values) > 1:
            row[column + "_sd"] = repr(math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)))
    return row


def sweep_axes(columns):
    """The swept columns of a summary: neither fixed, nor an interval end, nor a train-split metric."""
    return [c for c in columns if c not in FIXED and not is_interval(c) and not c.startswith("train_")]


def run_labels(rows, columns, with_id=True):
    """A label per run from the swept columns (or the method and, with_id, the run id when nothing is swept)."""
    axes = sweep_axes(columns)
    labels = []
    for row in rows:
        parts = [stacked(row[a]) for a in axes if row[a]]
        method = stacked(row["method"])
        labels.append("\n".join([method] + parts) if parts or not with_id else f"{method}\n{row['run_id'][:6]}")
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


FRECHET = "classifier_frechet_distance"

# A finished run drawn as a reference: its label, its summary row, the images its metrics count (or None), and
# the experiment it comes from when that is a compared one (or None).
Reference = namedtuple("Reference", "label row images source", defaults=(None,))


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def count_in(path, *keys):
    """The integer at keys... of a JSON file, or None when the file, a key or the integer is missing."""
    value = read_json(path)
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def images_of(folder, run_id):
    """The number of images a run's metrics were measured over (its metrics.json), or None when unknown."""
    return count_in(os.path.join(folder, run_id, "metrics.json"), "images")


def curve_images_of(run_folder):
    """The number of validation images a run's learning curve is measured on (config.json), or None."""
    return count_in(os.path.join(run_folder, "config.json"), "method", "curve", "images")


def comparable(metric, images, other_images):
    """Whether a metric over `other_images` images may be drawn beside one over `images`: a mean (PSNR) at
    any count; the Frechet distance, which small counts bias upwards, only at the same known count."""
    return metric != FRECHET or (images is not None and images == other_images)


def the_one(values):
    """The value all of `values` share, or None when they differ or are unknown."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def one_per_label(references, rank):
    """The highest-ranked reference of each label, in the order the labels first appear."""
    chosen = {}
    for ref in references:
        if ref.label not in chosen or rank(ref) > rank(chosen[ref.label]):
            chosen[ref.label] = ref
    return list(chosen.values())


def reference_lines(metric, references, images):
    """The references drawn as flat lines of `metric` beside values over `images` images: the comparable
    ones with a finite value, one per label (the one over the most images)."""
    drawable = [r for r in references
                if comparable(metric, images, r.images) and not math.isnan(number(r.row.get(metric)))]
    return one_per_label(drawable, lambda r: r.images or 0)


def distinct_references(references, own_labels, images):
    """The compared runs the Pareto figure adds: one per method and swept values, none that this experiment
    has itself (its own run is drawn), preferring a run over `images` images, else the one over the most."""
    return one_per_label([r for r in references if r.label not in own_labels],
                         lambda r: (images is not None and r.images == images, r.images or 0))


def read_compared(paths):
    """The finished runs of the compared experiments' summaries; a summary not written yet is skipped."""
    references = []
    for path in paths:
        if not os.path.exists(path):
            print(f"figure: {path} not written yet; drawn without it")
            continue
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            columns, rows = reader.fieldnames or [], list(reader)
        folder = os.path.dirname(path)
        # Labelled by method and swept values, not run id: the same method at two image counts is one line;
        # the seeds of a configuration are one reference, their mean with their spread.
        rows = [over_seeds(group) for group in seed_groups(rows, columns)]
        for row, label in zip(rows, run_labels(rows, columns, with_id=False)):
            references.append(Reference(label.replace("\n", " "), row, images_of(folder, row["run_id"]),
                                        os.path.basename(folder)))
    return references


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


def cost_of(row):
    """A run's seconds per image for the Pareto figure: timed alone (davi_run --time) where it was, else as
    measured during the run (which may have shared the machine)."""
    alone = number(row.get("seconds_per_image_alone"))
    return alone if alone == alone else number(row.get("seconds_per_image"))


def plot_pareto(rows, labels, experiment, out, references=(), images=None):
    """One point per run (filled) and per comparable run of the compared experiments (hollow), the Pareto
    front over both; `images`: the count this experiment's runs are measured over (None: several/unknown)."""
    few = len(rows) + len(references) <= 6  # few points: names beside them; more: a numbered legend
    panels = []
    for column, title, higher in PARETO:
        # A compared run keeps its number in every panel, even where its Frechet distance is left out.
        refs = [(len(rows) + k, r) for k, r in enumerate(references) if comparable(column, images, r.images)]
        costs = [cost_of(row) for row in rows] + [cost_of(r.row) for _, r in refs]
        qualities = numbers(rows, column) + [number(r.row.get(column)) for _, r in refs]
        if any(c > 0 and q == q for c, q in zip(costs, qualities)):
            panels.append((column, title, higher, refs, costs, qualities))
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels) + (0 if few else 4), 4.8), squeeze=False)
    for ax, (column, title, higher, refs, costs, qualities) in zip(axes.flat, panels):
        names = [label.replace("\n", " ") for label in labels] + [f"{r.label} [compared]" for _, r in refs]
        numbered = list(range(len(rows))) + [k for k, _ in refs]
        bars = error_bars(rows + [r.row for _, r in refs], column)
        if bars:
            ax.errorbar(costs, qualities, yerr=bars, fmt="none", ecolor="0.5", elinewidth=0.8, capsize=2, zorder=2)
        for i, cost, quality, name in zip(numbered, costs, qualities, names):
            own = i < len(rows)
            color = f"C{i % 10}"
            ax.scatter(cost, quality, marker="os^Dv"[i // 10 % 5], s=30, zorder=3,
                       facecolors=color if own else "none", edgecolors=color,
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
        counted = f", {images} images" if column == FRECHET and images else ""
        ax.set_title(f"{title} against cost ({'higher' if higher else 'lower'} is better{counted})", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.legend(handles=[line], fontsize=6)
    if not few:  # the numbered points of the widest panel, once, right of the panels
        widest = max(axes.flat[:len(panels)], key=lambda a: len(a.collections))
        points = [h for h in widest.collections if h.get_label() and not h.get_label().startswith("_")]
        axes.flat[-1].legend(handles=points + [line], fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                             borderaxespad=0)
    compared = f" and {len(references)} compared (hollow)" if references else ""
    everyone = list(rows) + [r.row for r in references]
    alone = sum(number(row.get("seconds_per_image_alone")) == number(row.get("seconds_per_image_alone")) for row in everyone)
    timed = (f"seconds timed alone (davi_run --time) for {alone} of {len(everyone)} points, the others as measured "
             "in their runs" if alone else "seconds as measured in the runs")
    fig.suptitle(f"{experiment}: quality against seconds per image, {len(rows)} runs{compared}\n({timed})",
                 fontsize=10)
    fig.tight_layout()
    save(fig, out)


# (metric, axis label, short name for the key) of each learning-curve panel row; a curve's columns are the
# metric, or ema_/online_ + the metric.
CURVE_METRICS = [("psnr", "PSNR (dB), higher is better", "PSNR"),
                 ("classifier_frechet_distance", "classifier Frechet distance, lower is better", "Frechet")]


def read_curve(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames or [], list(reader)


def curve_values(curves, metric):
    """Every value of `metric` in the curves (plain, EMA and online columns)."""
    return [v for _, columns, rows, _ in curves for prefix in ("", "ema_", "online_") if prefix + metric in columns
            for v in numbers(rows, prefix + metric)]


def value_range(curves, metric, references):
    """The y range of a curve panel: the curves after their first point (the untrained generator, whose
    Frechet distance is ~100 times the trained one's, would flatten the rest) and the references that lie
    within that range's own width of it. None when there is nothing to draw."""
    trained = [v for _, columns, rows, _ in curves for prefix in ("", "ema_", "online_") if prefix + metric in columns
               for step, v in zip(numbers(rows, "step"), numbers(rows, prefix + metric)) if step > 0 and v == v]
    if not trained:
        trained = [v for v in curve_values(curves, metric) if v == v]
    if not trained:
        return None
    low, high = min(trained), max(trained)
    width = max(high - low, 1e-6)
    near = [number(r.row.get(metric)) for r in references]
    near = [v for v in near if low - width <= v <= high + width]
    low, high = min([low] + near), max([high] + near)
    pad = 0.06 * max(high - low, 1e-6)
    return low - pad, high + pad


def spread_apart(positions, gap):
    """Positions (axes fractions, any order) moved apart to at least `gap` from each other, as little as the
    order allows and within [0, 1]: where reference lines lie close, their numbers do not overlap."""
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    placed = [positions[i] for i in order]
    for k in range(1, len(placed)):
        placed[k] = max(placed[k], placed[k - 1] + gap)
    overflow = placed[-1] - 1.0 if placed else 0.0
    if overflow > 0:  # pushed past the top: shift down, then keep the gaps from the bottom up again
        placed = [p - overflow for p in placed]
        for k in range(len(placed) - 2, -1, -1):
            placed[k] = min(placed[k], placed[k + 1] - gap)
    result = [0.0] * len(positions)
    for k, i in enumerate(order):
        result[i] = placed[k]
    return result


def draw_curves(curves, references, title, out, images):
    """curves: (label, columns, rows, colour index) of curve.csv files measured on `images` validation images
    (None: several or unknown; the seeds of one configuration share a colour); references: drawn flat, with their interval as a band, where comparable (see comparable).
    Each reference line carries a number at the panel's right edge; the key below the panels names it."""
    metrics = [(m, axis, short) for m, axis, short in CURVE_METRICS
               if any(c in (m, "ema_" + m, "online_" + m) for _, columns, _, _ in curves for c in columns)]
    if not metrics:
        return
    fig, axes = plt.subplots(len(metrics), 2, figsize=(11, 3.6 * len(metrics)), squeeze=False)
    number_of, notes, clipped_start = {}, {}, False  # notes: per reference label, what each panel row drew
    for row, (metric, axis_label, short) in enumerate(metrics):
        lines = reference_lines(metric, references, images)
        limits = value_range(curves, metric, lines)
        for col, (x_column, x_label) in enumerate([("step", "training steps"), ("seconds", "training seconds")]):
            ax = axes[row][col]
            for label, columns, rows, colour in curves:
                for prefix, style in (("", "-"), ("ema_", "-"), ("online_", ":")):
                    if prefix + metric in columns:
                        name = f"{label} ({prefix[:-1]})" if prefix else label
                        if len(curves) == 1:  # the title names the run: the key says only which weights
                            name = prefix[:-1] or label
                        ax.plot(numbers(rows, x_column), numbers(rows, prefix + metric), style,
                                color=f"C{colour % 10}", marker=".", label=name)
            if limits:
                ax.set_ylim(*limits)
                clipped_start |= any(not limits[0] <= v <= limits[1] for v in curve_values(curves, metric) if v == v)
            shown = []
            for ref in lines:
                value = number(ref.row.get(metric))
                counted = f"{ref.images} test images" if ref.images else "image count unknown"
                where = f"{short}: {counted}" + (f", {ref.source}" if ref.source else "")
                if limits and not limits[0] <= value <= limits[1]:
                    notes.setdefault(ref.label, {})[short] = f"{short}: {format(value, '.3g')}, off the panel"
                    continue
                notes.setdefault(ref.label, {})[short] = where
                low, high = number(ref.row.get(metric + "_low")), number(ref.row.get(metric + "_high"))
                ax.axhline(value, color="0.4", linestyle="--", linewidth=0.8)
                if low == low and high == high:
                    ax.axhspan(low, high, color="0.5", alpha=0.08, linewidth=0)
                shown.append((ref, value))
                number_of.setdefault(ref.label, len(number_of) + 1)
            bottom, top = ax.get_ylim()
            heights = spread_apart([(v - bottom) / (top - bottom) for _, v in shown], gap=0.055)
            for (ref, value), height in zip(shown, heights):
                ax.annotate(str(number_of[ref.label]), (1.0, value), xycoords=("axes fraction", "data"),
                            xytext=(1.015, height), textcoords="axes fraction", fontsize=6, va="center",
                            arrowprops={"arrowstyle": "-", "color": "0.6", "linewidth": 0.5})
            ax.set_xlabel(x_label, fontsize=8)
            ax.set_ylabel(axis_label, fontsize=8)
            ax.tick_params(labelsize=7)
    if clipped_start:
        title += "\n(the untrained generator's first point lies off the panels)"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    # The key goes below the panels: inside one, long run labels covered its curves and its axis label.
    handles, names = axes[0][0].get_legend_handles_labels()
    unnumbered = len(number_of) + 1  # lines off every panel come last, unnumbered
    for label in sorted(notes, key=lambda label: number_of.get(label, unnumbered)):
        drawn = label in number_of
        handles.append(Line2D([], [], color="0.4", linestyle="--" if drawn else "none", linewidth=0.8))
        names.append((f"{number_of[label]}: " if drawn else "") + f"{label} ({'; '.join(notes[label].values())})")
    if handles:
        fig.legend(handles, names, fontsize=6, loc="upper center", bbox_to_anchor=(0.5, 0.0), borderaxespad=0,
                   ncol=2 if len(names) > 6 else 1)
    save(fig, out)


def plot_curves(rows, labels, colours, own_lines, folder, experiment, references):
    """summary_curves.png and each curve's curve.png. The flat lines are `own_lines` (this experiment's
    configurations without a curve) and the compared runs, measured on the evaluation's (test) images, the
    curves on validation images; a Frechet line is drawn only where it counts as many images as the curve."""
    curves = []
    for row, label, colour in zip(rows, labels, colours):
        path = os.path.join(folder, row["run_id"], "curve.csv")
        if os.path.exists(path):
            columns, curve_rows = read_curve(path)
            curves.append((label.replace("\n", " "), columns, curve_rows, colour, os.path.dirname(path)))
    if not curves:
        return
    flat = own_lines + list(references)
    note = "curves: first validation images; dashed lines: test images, Frechet only at the curve's count"
    counts = []
    for name, columns, curve_rows, colour, run_folder in curves:
        images = curve_images_of(run_folder)
        counts.append(images)
        counted = f" on {images} images" if images else ""
        draw_curves([(name, columns, curve_rows, colour)], flat, f"{experiment}: {name}{counted}\n({note})",
                    os.path.join(run_folder, "curve.png"), images)
    draw_curves([c[:4] for c in curves], flat, f"{experiment}: learning curves\n({note})",
                os.path.join(folder, "summary_curves.png"), the_one(counts))


def main(path, compared=()):
    references = read_compared(compared)
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
    folder = os.path.dirname(path)
    row_images = [images_of(folder, row["run_id"]) for row in rows]
    images = the_one(row_images)
    points = [over_seeds(group) for group in seed_groups(rows, columns)]  # one per configuration
    own_labels = {label.replace("\n", " ") for label in run_labels(points, columns, with_id=False)}
    plot_pareto(points, run_labels(points, columns), experiment, os.path.join(folder, "summary_pareto.png"),
                distinct_references(references, own_labels, images), images)
    # The curves: a colour per configuration; its seeds' runs without a curve are one flat line, their mean.
    groups = seed_groups(rows, columns)
    colours = [next(k for k, group in enumerate(groups) if any(r is row for r in group)) for row in rows]
    flat = [over_seeds(g) for g in groups
            if not any(os.path.exists(os.path.join(folder, r["run_id"], "curve.csv")) for r in g)]
    own_lines = [Reference(label.replace("\n", " "), row, images_of(folder, row["run_id"]))
                 for row, label in zip(flat, run_labels(flat, columns))]
    plot_curves(rows, labels, colours, own_lines, folder, experiment, references)
    return 0


def parse_arguments(argv):
    """(summary, [compared summaries]) from SUMMARY [--compare OTHER ...]; None when malformed."""
    if len(argv) < 1 or len(argv) % 2 != 1 or any(flag != "--compare" for flag in argv[1::2]):
        return None
    return argv[0], argv[2::2]


if __name__ == "__main__":
    arguments = parse_arguments(sys.argv[1:])
    if arguments is None:
        print("usage: tools/plot_summary.py results/<experiment>/summary.csv [--compare results/<other>/summary.csv ...]",
              file=sys.stderr)
        sys.exit(2)
    try:
        sys.exit(main(*arguments))
    except Exception as error:  # one line, like davi_run's own messages; the tables are already written
        print(f"figure: cannot draw {sys.argv[1]}: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
              file=sys.stderr)
        sys.exit(1)
