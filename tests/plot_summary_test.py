#!/usr/bin/python3
"""Checks tools/plot_summary.py: the Pareto front on a known set of runs, and the figures (learning curves
included) from a small summary.csv (ctest: plot_summary). Exits non-zero on any mismatch."""
import csv
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import plot_summary  # noqa: E402

# Cost (lower better) and PSNR (higher better): run 2 is beaten by run 1 (cheaper, better); run 4 by run 3.
costs = [1e-3, 2e-3, 0.1, 0.2, 1.0]
psnr = [20.0, 19.0, 24.0, 23.0, 25.0]
front = plot_summary.pareto_front(costs, psnr, higher_is_better=True)
assert front == [0, 2, 4], front
# A distance (lower better): the same points, quality reversed.
distance = [50.0, 60.0, 20.0, 25.0, 30.0]
front = plot_summary.pareto_front(costs, distance, higher_is_better=False)
assert front == [0, 2], front
# Missing values (a diverged run) are left out, never on the front.
assert plot_summary.pareto_front([1.0, float("nan")], [1.0, 2.0], True) == [0]

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "summary.csv")
    columns = ["run_id", "method", "nfe", "network_backprops", "seconds_per_image", "training_seconds", "psnr",
               "psnr_of_mean", "classifier_frechet_distance", "sigma_y"]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for i, (c, p, d) in enumerate(zip(costs, psnr, distance)):
            writer.writerow([f"run{i}", f"m{i}", 1, 0, c, 0, p, p, d, 0.05])
    assert plot_summary.main(path) == 0
    for name in ("summary.png", "summary_pareto.png"):
        assert os.path.getsize(os.path.join(folder, name)) > 1000, name
    assert not os.path.exists(os.path.join(folder, "summary_curves.png"))  # no run has a curve
    # Intervals: error bars; their columns are not sweep axes, and a run without one has no bar.
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns + ["psnr_low", "psnr_high"])
        for i, (c, p, d) in enumerate(zip(costs, psnr, distance)):
            writer.writerow([f"run{i}", f"m{i}", 1, 0, c, 0, p, p, d, 0.05] + ([p - 1, p + 0.5] if i else ["", ""]))
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert plot_summary.run_labels(rows, list(rows[0].keys()))[1] == "m1\nrun1", plot_summary.run_labels(rows, list(rows[0]))
    below, above = plot_summary.error_bars(rows, "psnr")
    assert below[0] != below[0] and below[1] == 1 and above[1] == 0.5, (below, above)
    assert plot_summary.error_bars(rows, "ssim") is None
    assert plot_summary.main(path) == 0
    # Learning curves: run0 has one (EMA and online), the others are its flat lines.
    os.mkdir(os.path.join(folder, "run0"))
    with open(os.path.join(folder, "run0", "curve.csv"), "w") as f:
        f.write("step,seconds,ema_psnr,ema_classifier_frechet_distance,online_psnr,"
                "online_classifier_frechet_distance,measure_seconds\n")
        for step in range(0, 30, 10):
            f.write(f"{step},{step * 0.5},{15 + step / 5},{90 - step},{16 + step / 5},{80 - step},0.1\n")
    assert plot_summary.main(path) == 0
    for name in ("summary_curves.png", os.path.join("run0", "curve.png")):
        assert os.path.getsize(os.path.join(folder, name)) > 1000, name
    # Non-finite cells (a run whose metrics overflowed) are drawn as gaps, never as a traceback.
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerow(["a", "m0", 1, 0, 0.01, 0, "inf", "nan", "1e308", "1e308"])
        writer.writerow(["b", "m1", 1, 0, "inf", 0, 20.0, 20.0, 5.0, "inf"])
    assert plot_summary.main(path) == 0
    assert plot_summary.number("inf") != plot_summary.number("inf")  # NaN
    assert plot_summary.number("not a number") != plot_summary.number("not a number")
print("plot_summary: ok")
