#!/usr/bin/python3
"""The best setting of each method in a tuning sweep, by validation PSNR.

usage: tools/tuned_settings.py results/tune_baselines_deblur [more experiment folders]

Reads the experiment's summary.csv (written by davi_run) and each run's resolved config.json, finds for
each method the option(s) the sweep varied, and writes tuned.md beside summary.md: per method, every
value tried with its PSNR, SSIM and feature distance, the one with the highest PSNR, and a warning when
that value sits at an end of the grid (the optimum may lie outside it). Given several folders, it also
writes tuned_defaults.md into their common parent: per method, the value with the highest PSNR averaged
over the folders (tasks), which is what the solvers take as their default.
"""
import csv
import json
import math
import os
import sys


def psnr_of(row):
    """The row's PSNR; a diverged run (nan) ranks below every other."""
    value = float(row["psnr"])
    return value if math.isfinite(value) else -math.inf


def shown(value):
    return f"{value:.2f}" if math.isfinite(value) else "nan (diverged)"


def method_runs(folder):
    with open(os.path.join(folder, "summary.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    by_method = {}
    for row in rows:
        with open(os.path.join(folder, row["run_id"], "config.json")) as f:
            method = json.load(f)["method"]
        by_method.setdefault(method["name"], []).append((method, row))
    return by_method


def swept_keys(runs):
    keys = sorted({k for method, _ in runs for k in method})
    return [k for k in keys if len({json.dumps(method.get(k)) for method, _ in runs}) > 1]


def table(folder, by_method):
    lines = [f"# Tuned settings: {os.path.basename(os.path.normpath(folder))}", "",
             "Written by `tools/tuned_settings.py " + folder + "` from summary.csv and each run's config.json. "
             "The best value is the one with the highest PSNR on the validation images.", ""]
    for name, runs in by_method.items():
        keys = swept_keys(runs)
        if not keys:
            continue
        runs.sort(key=lambda r: [r[0][k] for k in keys])
        best = max(runs, key=lambda r: psnr_of(r[1]))
        lines += [f"## {name}", "", "| " + " | ".join(keys) + " | psnr | ssim | classifier_feature_distance | |",
                  "|" + "---|" * (len(keys) + 4)]
        for method, row in runs:
            mark = "best" if (method, row) == best else ""
            lines.append("| " + " | ".join(str(method[k]) for k in keys) +
                         f" | {shown(float(row['psnr']))} | {float(row['ssim']):.3f} | "
                         f"{float(row['classifier_feature_distance']):.3f} | {mark} |")
        edge = best is runs[0] or best is runs[-1]
        lines += ["", f"best: {', '.join(f'{k} = {best[0][k]}' for k in keys)}" +
                  (" (at an end of the grid: the optimum may lie outside it)" if edge and len(keys) == 1 else ""), ""]
    return "\n".join(lines)


def across_tasks(folders, runs_of):
    """Mean validation PSNR of each (method, swept value) tried in every folder."""
    psnr = {}
    for folder in folders:
        for name, runs in runs_of[folder].items():
            keys = swept_keys(runs)
            for method, row in runs:
                setting = ", ".join(f"{k} = {method[k]}" for k in keys)
                psnr.setdefault(name, {}).setdefault(setting, []).append(psnr_of(row))
    names = ", ".join(os.path.basename(os.path.normpath(f)) for f in folders)
    lines = ["# Tuned defaults", "", f"Written by `tools/tuned_settings.py {' '.join(folders)}`. Per method, the "
             f"mean validation PSNR over {names}; the best is each solver's default.", ""]
    for name, settings in psnr.items():
        complete = {k: v for k, v in settings.items() if len(v) == len(folders) and k}
        if not complete:
            continue
        best = max(complete, key=lambda k: sum(complete[k]))
        lines += [f"## {name}", "", "| setting | mean psnr | per task | |", "|---|---|---|---|"]
        for setting, values in complete.items():
            per_task = " / ".join(shown(v) for v in values)
            lines.append(f"| {setting} | {shown(sum(values) / len(values))} | {per_task} | "
                         f"{'default' if setting == best else ''} |")
        lines.append("")
    return "\n".join(lines)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip().splitlines()[2])
    runs_of = {folder: method_runs(folder) for folder in sys.argv[1:]}  # each folder's configs read once
    for folder in sys.argv[1:]:
        text = table(folder, runs_of[folder])
        with open(os.path.join(folder, "tuned.md"), "w") as f:
            f.write(text)
        print(text)
    if len(sys.argv) > 2:
        text = across_tasks(sys.argv[1:], runs_of)
        parent = os.path.commonpath([os.path.abspath(f) for f in sys.argv[1:]])
        with open(os.path.join(parent, "tuned_defaults.md"), "w") as f:
            f.write(text)
        print(text)


if __name__ == "__main__":
    main()
