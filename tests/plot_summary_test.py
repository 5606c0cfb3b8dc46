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

# The Pareto figure's cost: timed alone where a run was (davi_run --time), else as measured in the run.
assert plot_summary.cost_of({"seconds_per_image": "2", "seconds_per_image_alone": "0.5"}) == 0.5
assert plot_summary.cost_of({"seconds_per_image": "2", "seconds_per_image_alone": ""}) == 2.0
assert plot_summary.cost_of({"seconds_per_image": "2"}) == 2.0
# Stacked labels: one option per line, a nested policy kept whole on its line.
assert plot_summary.stacked("davi(adversarial=true,bridge=ppb(h=0.01),lr=0.1)") == "davi\nadversarial=true\nbridge=ppb(h=0.01)\nlr=0.1"
assert plot_summary.stacked("kl") == "kl" and plot_summary.stacked("ikl(t_max=400)") == "ikl\nt_max=400"
# Reference numbers beside close lines move apart to the gap, stay in order, and stay inside the panel.
spread = plot_summary.spread_apart([0.50, 0.51, 0.2, 0.99], gap=0.05)
assert spread[2] == 0.2 and spread[0] < spread[1] < spread[3] <= 1.0, spread
assert all(abs(a - b) >= 0.05 - 1e-12 for i, a in enumerate(spread) for b in spread[:i]), spread
assert plot_summary.spread_apart([], 0.05) == []
# A curve panel's range leaves out the untrained generator's first point and far references, keeps near ones.
curve = [("c", ["step", "ema_psnr"], [{"step": "0", "ema_psnr": "7"}, {"step": "10", "ema_psnr": "21"},
                                      {"step": "20", "ema_psnr": "23"}], 0)]
near, far = plot_summary.Reference("near", {"psnr": "24.5"}, 500), plot_summary.Reference("far", {"psnr": "6"}, 500)
low, high = plot_summary.value_range(curve, "psnr", [near, far])
assert 20 < low < 21 and 24.5 < high < 25, (low, high)
assert plot_summary.value_range(curve, "ssim", []) is None

# Seeds: the runs of a configuration are one point, their mean, with the sample sd over seeds as its spread;
# a configuration of one seed keeps its own interval.
columns = ["run_id", "seed", "method", "seconds_per_image", "psnr", "psnr_low", "psnr_high", "method.bridge"]
seeded = [dict(zip(columns, [f"r{i}", str(i), "davi", "0.01", str(20 + 2 * i), "19", "21", "0.1"])) for i in range(3)]
seeded.append(dict(zip(columns, ["s0", "0", "supervised", "0.02", "25", "24", "26.5", "0.1"])))
groups = plot_summary.seed_groups(seeded, columns)
assert [len(g) for g in groups] == [3, 1], groups
mean = plot_summary.over_seeds(groups[0])
assert float(mean["psnr"]) == 22.0 and float(mean["psnr_sd"]) == 2.0 and mean["psnr_low"] == "", mean
assert mean["seed"] == "3 seeds" and mean["method.bridge"] == "0.1", mean  # swept values stay as written
assert plot_summary.over_seeds(groups[1]) is groups[1][0]
assert plot_summary.error_bars([mean, groups[1][0]], "psnr") == [[2.0, 1.0], [2.0, 1.5]]
assert plot_summary.seed_groups(seeded, [c for c in columns if c != "seed"]) == [[r] for r in seeded]

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
    # The train split's metrics (evaluation.train_images) are not sweep axes either.
    with_train = [dict(r, train_psnr="30") for r in rows]
    assert plot_summary.run_labels(with_train, list(with_train[0].keys()))[1] == "m1\nrun1"
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
# Compared experiments: a Frechet distance only beside one over the same known count; PSNR at any count.
F = plot_summary.FRECHET
assert plot_summary.comparable("psnr", 200, 500) and plot_summary.comparable("psnr", None, 500)
assert plot_summary.comparable(F, 200, 200)
assert not plot_summary.comparable(F, 200, 500) and not plot_summary.comparable(F, None, None)
Ref = plot_summary.Reference
refs = [Ref("ddrm", {"psnr": "22.0", F: "20.0"}, 200), Ref("ddrm", {"psnr": "22.5", F: "15.0"}, 500),
        Ref("dps", {"psnr": "nan", F: "19.0"}, 200)]
# One line per label: the one over the most images; a NaN value is no line.
assert [(r.label, r.images) for r in plot_summary.reference_lines("psnr", refs, 200)] == [("ddrm", 500)]
assert [(r.label, r.images) for r in plot_summary.reference_lines(F, refs, 200)] == [("ddrm", 200), ("dps", 200)]
assert plot_summary.reference_lines(F, refs, 1000) == [] and plot_summary.reference_lines(F, refs, None) == []
# The Pareto figure adds each compared method once, and none this experiment has itself.
refs.append(Ref("pigdm", {"psnr": "21.0"}, 500))
assert [(r.label, r.images) for r in plot_summary.distinct_references(refs, {"pigdm"}, 200)] == [("ddrm", 200), ("dps", 200)]
assert [(r.label, r.images) for r in plot_summary.distinct_references(refs, set(), 1000)] == [("ddrm", 500), ("dps", 200), ("pigdm", 500)]
assert plot_summary.the_one([200, 200]) == 200 and plot_summary.the_one([200, 500]) is None
assert plot_summary.the_one([None]) is None and plot_summary.the_one([]) is None
assert plot_summary.parse_arguments(["a.csv"]) == ("a.csv", [])
assert plot_summary.parse_arguments(["a.csv", "--compare", "b.csv", "--compare", "c.csv"]) == ("a.csv", ["b.csv", "c.csv"])
for bad in ([], ["a.csv", "--compare"], ["a.csv", "b.csv", "c.csv"], ["a.csv", "--other", "b.csv"]):
    assert plot_summary.parse_arguments(bad) is None, bad


def write_run(folder, run_id, images, curve_images=None):
    os.makedirs(os.path.join(folder, run_id), exist_ok=True)
    with open(os.path.join(folder, run_id, "metrics.json"), "w") as f:
        f.write(f'{{"images": {images}}}')
    if curve_images:
        with open(os.path.join(folder, run_id, "config.json"), "w") as f:
            f.write(f'{{"method": {{"curve": {{"every": 10, "images": {curve_images}}}}}}}')


with tempfile.TemporaryDirectory() as folder:
    own, other = os.path.join(folder, "own"), os.path.join(folder, "other")
    columns = ["run_id", "method", "seconds_per_image", "psnr", F, "psnr_low", "psnr_high", F + "_low", F + "_high"]
    for path, runs in ((own, [("t0", "davi", 0.01, 22.0, 30.0)]),
                       (other, [("b0", "ddrm", 0.1, 22.5, 20.0), ("b1", "dps", 8.0, 22.6, 19.0)])):
        os.makedirs(path)
        with open(os.path.join(path, "summary.csv"), "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            for run_id, method, cost, p, d in runs:
                writer.writerow([run_id, method, cost, p, d, p - 0.3, p + 0.3, d - 3, d + 4])
    write_run(own, "t0", 500, curve_images=200)
    write_run(other, "b0", 500)
    write_run(other, "b1", 200)
    with open(os.path.join(own, "t0", "curve.csv"), "w") as f:
        f.write("step,seconds,ema_psnr,ema_classifier_frechet_distance,measure_seconds\n0,0,7,1300,1\n10,5,21,40,1\n")
    assert plot_summary.curve_images_of(os.path.join(own, "t0")) == 200
    assert plot_summary.images_of(own, "t0") == 500 and plot_summary.images_of(own, "absent") is None
    references = plot_summary.read_compared([os.path.join(other, "summary.csv"), os.path.join(folder, "none.csv")])
    assert [(r.label, r.images) for r in references] == [("ddrm", 500), ("dps", 200)], references
    assert plot_summary.main(os.path.join(own, "summary.csv"), [os.path.join(other, "summary.csv")]) == 0
    for name in ("summary_pareto.png", "summary_curves.png", os.path.join("t0", "curve.png")):
        assert os.path.getsize(os.path.join(own, name)) > 1000, name
print("plot_summary: ok")

# A seeded experiment draws end to end: one Pareto point per configuration, the seeds' curves in one colour.
with tempfile.TemporaryDirectory() as folder:
    columns = ["run_id", "seed", "method", "seconds_per_image", "psnr", F, "psnr_low", "psnr_high", F + "_low", F + "_high"]
    with open(os.path.join(folder, "summary.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for seed in range(3):
            writer.writerow([f"d{seed}", seed, "davi", 0.002, 22 + seed / 10, 20 - seed, 21.5, 22.5, 15, 25])
            writer.writerow([f"s{seed}", seed, "supervised", 0.003, 24 + seed / 10, 30 - seed, 23.5, 24.5, 25, 35])
    for seed in range(3):
        write_run(folder, f"d{seed}", 500, curve_images=200)
        with open(os.path.join(folder, f"d{seed}", "curve.csv"), "w") as f:
            f.write(f"step,seconds,ema_psnr,ema_{F},measure_seconds\n0,0,7,1300,1\n10,5,{21 + seed / 10},40,1\n20,9,22,30,1\n")
    assert plot_summary.main(os.path.join(folder, "summary.csv")) == 0
    for name in ("summary.png", "summary_pareto.png", "summary_curves.png", os.path.join("d1", "curve.png")):
        assert os.path.getsize(os.path.join(folder, name)) > 1000, name
print("plot_summary: seeds ok")
