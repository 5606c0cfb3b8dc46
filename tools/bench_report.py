#!/usr/bin/python3
"""Speed-up ratios and fractions of the machine's ceilings, from one run of the benchmarks.

usage: tools/bench_report.py [results/bench]

Reads bm_peak.json, bm_unet.json, bm_davi.json and bm_solvers.json (written by `tools/davi bench`) and
writes summary.md beside them:
  - the ceilings of bm_peak (GEMM and the UNet's 3x3 convolutions, GFLOP/s per precision and layout);
  - for every network benchmark and batch: time on the fp32/NCHW path, on the fast path, their ratio,
    and GFLOP/s; the issue's targets, each marked met or not;
  - the UNet forward at batch 64 as a fraction of the convolution ceiling of the same path.
Ratios are only meaningful between numbers of one run on an otherwise idle machine.
"""
import json
import os
import sys

TARGETS = {  # benchmark -> the speed-up of the fast path over fp32/NCHW that issue 10 asks for
    "BM_DaviTrainStep": 2.0,
    "BM_DaviOneStepInference": 2.0,
    "BM_PriorDsmStep": 2.0,
    "BM_SolverStep<solvers::Ddrm>": 1.8,
    "BM_SolverStep<solvers::Dps>": 1.8,
}
FAST = "1"  # the path argument of the fast path (benchmarks/bench_paths.hpp)


def load(folder, name):
    path = os.path.join(folder, name + ".json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [b for b in json.load(f)["benchmarks"] if b.get("run_type", "iteration") == "iteration"]


def args_of(name):
    """'BM_X/batch:32/path:1' -> ('BM_X', {'batch': '32', 'path': '1'})"""
    parts = name.split("/")
    return parts[0], dict(p.split(":", 1) for p in parts[1:] if ":" in p)


def ms(b):
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
    return b["real_time"] * scale


def gflops(b):
    return b.get("FLOPS", 0.0) / 1e9


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "results/bench"
    lines = ["# Benchmarks: ceilings, speed-ups and targets", "",
             f"Written by `tools/bench_report.py {os.path.relpath(folder)}` from the JSON of one `tools/davi bench` run.", ""]

    peak = load(folder, "bm_peak")
    conv_ceiling = {}  # label of the path (e.g. 'fp32/nchw fwd') -> best GFLOP/s over the UNet's shapes
    lines += ["## Ceilings (bm_peak)", "", "| case | path | GFLOP/s |", "|---|---|---|"]
    for b in peak:
        base, args = args_of(b["name"])
        case = base if base == "BM_Gemm" else f"conv3x3 {args.get('channels')}ch {args.get('side')}x{args.get('side')}"
        lines.append(f"| {case} | {b.get('label', '')} | {gflops(b):.0f} |")
        if base == "BM_Conv3x3":
            conv_ceiling[b["label"]] = max(conv_ceiling.get(b["label"], 0.0), gflops(b))
    lines.append("")

    lines += ["## Fast path (bf16/channels_last) against fp32/NCHW", "",
              "| benchmark | batch | fp32/nchw ms | fast ms | speed-up | fp32 GFLOP/s | fast GFLOP/s | target |",
              "|---|---|---|---|---|---|---|---|"]
    unet_fraction = []
    for program in ("bm_unet", "bm_davi", "bm_solvers"):
        cases = {}
        for b in load(folder, program):
            base, args = args_of(b["name"])
            if "path" in args:
                cases.setdefault((base, args.get("batch")), {})[args["path"]] = b
        for (base, batch), paths in cases.items():
            if "0" not in paths or FAST not in paths:
                continue
            slow, fast = paths["0"], paths[FAST]
            ratio = ms(slow) / ms(fast)
            target = TARGETS.get(base)
            verdict = "" if target is None or batch == "1" else f"{target:.1f}x: {'met' if ratio >= target else 'not met'}"
            lines.append(f"| {base} | {batch} | {ms(slow):.1f} | {ms(fast):.1f} | {ratio:.2f}x | {gflops(slow):.0f} | "
                         f"{gflops(fast):.0f} | {verdict} |")
            if base == "BM_UNetForward" and batch == "64":
                for b in paths.values():
                    ceiling = conv_ceiling.get(b.get("label", "") + " fwd")
                    if ceiling:
                        unet_fraction.append((b["label"], gflops(b), ceiling))
    lines.append("")
    if unet_fraction:
        lines += ["## UNet forward at batch 64 against the convolution ceiling of its path (target: 50%)", "",
                  "| path | UNet GFLOP/s | best 3x3 conv GFLOP/s | fraction |", "|---|---|---|---|"]
        for label, achieved, ceiling in unet_fraction:
            lines.append(f"| {label} | {achieved:.0f} | {ceiling:.0f} | {100 * achieved / ceiling:.0f}% |")
        lines.append("")
    with open(os.path.join(folder, "summary.md"), "w") as f:
        f.write("\n".join(lines))
    print(os.path.join(folder, "summary.md"))


if __name__ == "__main__":
    main()
