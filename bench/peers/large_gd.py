#!/usr/bin/python3
"""GD in double on a large problem, side by side (needs python3-numpy):

  /usr/bin/python3 bench/peers/large_gd.py build/amflow [--tokens 10000 --classes 5 --dim 100]

The problem: N tokens, M classes, dimension d, unit Gaussian (sphere) input and output embeddings
(seeds 1 and 2), Zipf(2) frequencies, target x mod M, W0 = 0, eta = 1. Three ways to take GD steps:
  - amflow in W space (what `--space auto` picks here: the meta says why);
  - amflow in particle coordinates (`--space particle`, the path every GD run took before);
  - a NumPy float64 loop on W doing the same step: Z = E (W^T U^T), the softmax, the residual
    R = diag(p) (P - Y), the loss and the margins (amflow watches both at every step), the gradient
    U^T (R^T E) and W -= eta G; E and U are amflow's own (`amflow problem check`).
Each amflow time per step is (wall(K2 steps) - wall(K1 steps)) / (K2 - K1): the process start and
the problem's set-up cancel. The final W of NumPy and amflow are compared (relative max difference).
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np


def wall(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("amflow")
    ap.add_argument("--tokens", type=int, default=10000)
    ap.add_argument("--classes", type=int, default=5)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--steps", type=int, default=200, help="steps in W space and NumPy")
    ap.add_argument("--particle-steps", type=int, default=100)
    a = ap.parse_args()
    N, M, d = a.tokens, a.classes, a.dim
    spec = {"tokens": N, "classes": M, "dim": d, "inputs": {"kind": "sphere", "seed": 1},
            "outputs": {"kind": "sphere", "seed": 2}, "frequencies": {"kind": "zipf", "exponent": 2},
            "target": {"kind": "mod", "modulus": M}, "init": {"kind": "zero"}}
    work = tempfile.mkdtemp()
    problem = os.path.join(work, "problem.json")
    with open(problem, "w") as f:
        json.dump(spec, f)

    def gd(steps, space, out="/dev/null"):
        return wall([a.amflow, "gd", problem, "--eta", "1", "--steps", str(steps), "--every",
                     str(steps), "--space", space, "--format", "json", "--output", out])

    per_w = (gd(a.steps + 1, "auto") - gd(1, "auto")) / a.steps
    per_p = (gd(a.particle_steps + 1, "particle") - gd(1, "particle")) / a.particle_steps
    subprocess.run([a.amflow, "gd", problem, "--eta", "1", "--steps", "1", "--format", "json",
                    "--output", os.path.join(work, "meta.json")], check=True)
    space = json.load(open(os.path.join(work, "meta.json")))["meta"]["space"]

    resolved = os.path.join(work, "resolved.json")
    subprocess.run([a.amflow, "problem", "check", problem, "--format", "json",
                    "--output", resolved], check=True)
    r = json.load(open(resolved))["resolved"]
    E = np.array(r["inputs"]["rows"], dtype=np.float64)
    U = np.array(r["outputs"]["rows"], dtype=np.float64)
    p = np.array([float(x) for x in r["frequencies"]["p"]])
    t = np.arange(N) % M
    Y = np.zeros((N, M))
    Y[np.arange(N), t] = 1
    W = np.zeros((d, d))
    eta = 1.0

    def step(W):
        Z = E @ (W.T @ U.T)
        top = Z.max(axis=1, keepdims=True)
        P = np.exp(Z - top)
        s = P.sum(axis=1, keepdims=True)
        P /= s
        loss = float(p @ (top[:, 0] + np.log(s[:, 0]) - Z[np.arange(N), t]))
        others = np.where(Y > 0, -np.inf, Z).max(axis=1)
        margins = Z[np.arange(N), t] - others
        R = p[:, None] * (P - Y)
        G = U.T @ (R.T @ E)
        return W - eta * G, loss, margins

    start = time.perf_counter()
    for _ in range(a.steps):
        W, loss, margins = step(W)
    per_np = (time.perf_counter() - start) / a.steps
    _, loss, _ = step(W)  # the loss of the state after the last step, as amflow's last row

    out = os.path.join(work, "w.json")
    subprocess.run([a.amflow, "gd", problem, "--eta", "1", "--steps", str(a.steps), "--every",
                    str(a.steps), "--format", "json", "--output", out], check=True)
    rows = json.load(open(out))["rows"]
    amflow_loss = float(rows[-1]["loss"])
    print(f"problem: N = {N}, M = {M}, d = {d}, sphere embeddings, Zipf(2), eta = 1")
    print(f"amflow --space auto: {space}")
    print(f"amflow W space:      {per_w * 1e3:9.3f} ms per step ({a.steps} steps)")
    print(f"amflow particle:     {per_p * 1e3:9.3f} ms per step ({a.particle_steps} steps)"
          f"  -> W space {per_p / per_w:.1f}x faster")
    print(f"NumPy float64 on W:  {per_np * 1e3:9.3f} ms per step ({a.steps} steps)"
          f"  -> amflow / NumPy = {per_w / per_np:.2f}")
    print(f"loss after {a.steps} steps: amflow {amflow_loss:.15g}, NumPy {loss:.15g}, "
          f"relative difference {abs(amflow_loss - loss) / loss:.1e}")


if __name__ == "__main__":
    main()
