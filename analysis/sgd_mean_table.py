#!/usr/bin/env python3
"""The mean over seeds of SGD against full-batch GD, as the batch grows (standard library only):

  python3 analysis/sgd_mean_table.py build/amflow [--problem pair] [--eta 1/2] [--steps 40]
                                     [--seeds 400] [--batches 1,4,16,64,256,1024]

For each batch B: gap = max over steps k and tokens x of |mean_seeds m_x(SGD, k) - m_x(GD, k)|, and
the largest standard error of that mean (sd / sqrt(seeds)), as a markdown table. The bias of the
mean shrinks like 1/B; the gap is meaningful while it is well above the standard error.
"""
import argparse
import csv
import io
import subprocess


def table(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return list(csv.DictReader(line for line in io.StringIO(out) if not line.startswith("#")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("amflow")
    ap.add_argument("--problem", default="pair")
    ap.add_argument("--eta", default="1/2")
    ap.add_argument("--steps", default="40")
    ap.add_argument("--seeds", default="400")
    ap.add_argument("--batches", default="1,4,16,64,256,1024")
    a = ap.parse_args()
    base = [a.amflow, "gd", "--problem", a.problem, "--eta", a.eta, "--steps", a.steps,
            "--format", "csv"]
    gd = table(base)
    tokens = [c for c in gd[0] if c.startswith("m_")]
    print(f"{a.problem}, eta = {a.eta}, {a.steps} steps, mean over {a.seeds} seeds\n")
    print("| batch B | max gap mean(SGD) - GD | max standard error | gap x B |")
    print("|---|---|---|---|")
    for b in a.batches.split(","):
        mean = table(base + ["--batch", b, "--seeds", a.seeds])
        gap = max(abs(float(r[t]) - float(g[t])) for r, g in zip(mean, gd) for t in tokens)
        se = max(float(r[t + "_sd"]) for r in mean for t in tokens) / float(a.seeds) ** 0.5
        print(f"| {b} | {gap:.3e} | {se:.3e} | {gap * int(b):.3f} |")


if __name__ == "__main__":
    main()
