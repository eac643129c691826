"""Precision as an experiment: is a float32 loss spike the dynamics or the rounding?

Trains the paper's Transformer from the same weights and batches in float32 (--digits 7), double
(15) and at 50 digits, below and above the stability threshold of the W_O^2 block (eta as a
multiple of 2 / sharpness at the start, measured by the 50-digit run's first row), and reports the
first step at which float32 and double leave the 50-digit trajectory: the relative difference of
the wo1 margins, max_k |m_k - m50_k| / max_k |m50_k|, above 1e-2 (and where it first exceeds 1e-6).
The 50-digit run itself agrees with a 60-digit one (checked here too) far beyond 1e-2.

Usage: /usr/bin/python3 analysis/transformer_precision.py build/amflow [--train all] [--steps 100]
       [--dim 16] [--length 32] [--batch 16] [--ratios 0.5,4]
"""
import argparse
import json
import subprocess


def run(amflow, digits, eta, a):
    out = subprocess.run([amflow, "transformer", "--digits", str(digits), "--train", a.train,
                          "--eta", repr(eta), "--steps", str(a.steps), "--dim", str(a.dim),
                          "--length", str(a.length), "--batch", str(a.batch),
                          "--sharpness-every", str(max(a.steps, 1)), "--format", "jsonl"],
                         check=True, capture_output=True, text=True).stdout
    lines = [json.loads(line) for line in out.splitlines()]
    return [line for line in lines if "epoch" in line]


def gap(rows, ref):
    out = []
    for r, s in zip(rows, ref):
        scale = max(abs(x) for x in s["wo1_margins"])
        out.append(max(abs(x - y) for x, y in zip(r["wo1_margins"], s["wo1_margins"])) / scale)
    return out


def first(gaps, level):
    return next((t for t, g in enumerate(gaps) if g > level), None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("amflow")
    ap.add_argument("--train", default="all")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--dim", type=int, default=16)
    ap.add_argument("--length", type=int, default=32)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--ratios", default="0.5,4")
    a = ap.parse_args()
    probe = run(a.amflow, 50, 1.0, argparse.Namespace(**{**vars(a), "steps": 0}))
    threshold = 2 / float(probe[0]["sharpness"])
    print(f"{a.train}, d = {a.dim}, T = {a.length}, B = {a.batch}, {a.steps} steps; the W_O^2 "
          f"block's threshold 2 / sharpness at the start: {threshold:.6g}")
    print(f"{'eta/threshold':>13} {'eta':>9} {'run':>8} {'gap > 1e-6 at':>14} {'gap > 1e-2 at':>14}"
          f" {'max gap':>9} {'max loss':>9}")
    for ratio in (float(r) for r in a.ratios.split(",")):
        eta = ratio * threshold
        ref = run(a.amflow, 50, eta, a)
        for digits, name in ((60, "60 dig."), (15, "double"), (7, "float32")):
            g = gap(run(a.amflow, digits, eta, a), ref)
            show = lambda t: "never" if t is None else str(t)
            print(f"{ratio:13g} {eta:9.4g} {name:>8} {show(first(g, 1e-6)):>14} "
                  f"{show(first(g, 1e-2)):>14} {max(g):9.2e} "
                  f"{max(r['loss'] for r in ref):9.4g}")


if __name__ == "__main__":
    main()
