#!/usr/bin/python3
"""amflow next to the authors' PyTorch loops, in one command (needs python3-torch):

  /usr/bin/python3 bench/peers/side_by_side.py build/amflow [--p-count 1]

1. The learning-rate grid (1000 cells, 1000 GD steps each): amflow sweep runs the whole grid; the
   PyTorch loop runs the first --p-count rows of p0 (100 cells each) and its time is scaled to 1000
   cells. Prints both times, the ratio, and how many of the cells PyTorch ran agree.
2. The spike experiment (alpha = 0.95, p0 = 0.75, eta = 10 and 1, 35 steps): the largest loss
   difference between amflow in double and PyTorch in float32, and between 50 and 100 digits.
"""
import argparse
import csv
import io
import os
import subprocess
import sys
import time
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
GRID = ["--grid", "p0_logit=logspace:-0.5:0.5:10", "--grid", "alpha=linspace:0.5:1:10",
        "--grid", "eta=logspace:-1:1:10", "--steps", "1000"]


def rows(text):
    return list(csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#")))


def run(cmd):
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return out, time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("amflow")
    ap.add_argument("--p-count", type=int, default=1)
    a = ap.parse_args()
    torch_script = os.path.join(HERE, "torch_gd.py")

    sweep = [a.amflow, "sweep", "--problem", "pair", *GRID, "--format", "csv"]
    ours = run(sweep)[0]
    # Best of five: the process start is part of every run.
    best = min(run(sweep)[1] for _ in range(5))
    best_one = min(run(sweep + ["--threads", "1"])[1] for _ in range(5))
    theirs, t_theirs = run([sys.executable, torch_script, "grid", "--p-count", str(a.p_count)])
    ours_rows, their_rows = rows(ours), list(csv.DictReader(io.StringIO(theirs)))
    agree = sum(o["first_perfect_step"] == t["first_perfect_step"]
                for o, t in zip(ours_rows, their_rows))
    cells = len(their_rows)
    scaled = t_theirs * 1000 / cells
    print("## learning-rate grid, 1000 cells x 1000 steps")
    print(f"amflow sweep (double), whole grid: {best:.3f} s on all cores, {best_one:.3f} s on one "
          "(best of 5, process start included)")
    print(f"PyTorch loop (float32, torch's default threads), {cells} cells: {t_theirs:.1f} s -> {scaled:.0f} s "
          f"for 1000 cells")
    print(f"ratio: {scaled / best:.0f}x (all cores), {scaled / best_one:.0f}x (one core)")
    print(f"first_perfect_step agrees on {agree} of the {cells} cells PyTorch ran")

    print("## spike experiment, 35 steps")
    for eta in ["10", "1"]:
        t32 = list(csv.DictReader(io.StringIO(run(
            [sys.executable, torch_script, "spike", "--eta", eta])[0])))
        ours = {d: rows(run([a.amflow, "gd", "--problem", "pair", "--eta", eta, "--steps", "34",
                             "--digits", str(d), "--format", "csv"])[0]) for d in (15, 50, 100)}
        d32 = max(abs(float(o["loss"]) - float(t["loss"])) for o, t in zip(ours[15], t32))
        d50 = max(abs(Decimal(o["loss"]) - Decimal(t["loss"]))
                  for o, t in zip(ours[50], ours[100]))
        final = ours[50][-1]
        print(f"eta = {eta}: max |loss(amflow double) - loss(PyTorch float32)| = {d32:.2e}; "
              f"max |loss(50 digits) - loss(100 digits)| = {d50:.1e}; final loss "
              f"{float(final['loss']):.6f}, 0-1 loss {float(final['zero_one_loss']):.2f}")


if __name__ == "__main__":
    main()
