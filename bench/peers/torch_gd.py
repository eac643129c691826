#!/usr/bin/python3
"""The authors' experiments as plain PyTorch loops (full-batch GD on W with torch.optim.SGD), for
side-by-side runs with amflow. Written for amflow after the paper's description (facebookresearch/pal,
projects/gradient_descent): logits = E[x] @ W @ U^T (their W is the transpose of amflow's), loss =
sum_x p(x) cross_entropy, accuracy recorded before each update.

  torch_gd.py grid  [--dtype float32|float64] [--p-count n] [--steps K]
      the learning-rate grid: p0 = sigmoid(logspace(-0.5, 0.5, 10)), alpha = linspace(0.5, 1, 10),
      eta = logspace(-1, 1, 10); prints csv p0_logit,alpha,eta,first_perfect_step and the seconds.
  torch_gd.py spike [--dtype ...] [--eta 10] [--steps 35]
      the spike experiment (alpha = 0.95, p0 = 0.75): prints csv step,loss,zero_one_loss.
Run with Debian's interpreter (/usr/bin/python3), which sees python3-torch.
"""
import argparse
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def pair_embeddings(alpha, dtype):
    E = torch.eye(2, dtype=dtype)
    E[1, 0] = alpha
    E[1, 1] = np.sqrt(1 - alpha**2)
    return E


def run_gd(E, U, proba, eta, steps, dtype, record_losses=False):
    """Full-batch GD from W = 0; returns (first perfect step, losses, 0-1 losses)."""
    x = torch.arange(E.shape[0])
    y = x.clone()
    W = torch.zeros(E.shape[1], E.shape[1], dtype=dtype, requires_grad=True)
    opt = torch.optim.SGD([W], lr=eta, momentum=0)
    accuracy = torch.zeros(steps, dtype=dtype)
    losses, errors = [], []
    for i in range(steps):
        score = E[x] @ W @ U.T
        loss = (proba * F.cross_entropy(score, y, reduction="none")).sum()
        with torch.no_grad():
            pred = score.argmax(dim=1)
            accuracy[i] = proba[pred == y].sum().item()
        if record_losses:
            losses.append(loss.item())
            errors.append(1 - accuracy[i].item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    accuracy[-1] = 1
    return int(accuracy.argmax().item()), losses, errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("experiment", choices=["grid", "spike"])
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--p-count", type=int, default=10)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--eta", type=float, default=10.0)
    a = ap.parse_args()
    dtype = getattr(torch, a.dtype)
    U = torch.eye(2, dtype=dtype)
    if a.experiment == "spike":
        steps = a.steps or 35
        proba = torch.tensor([0.75, 0.25], dtype=dtype)
        _, losses, errors = run_gd(pair_embeddings(0.95, dtype), U, proba, a.eta, steps, dtype, True)
        print("step,loss,zero_one_loss")
        for k, (l, e) in enumerate(zip(losses, errors)):
            print(f"{k},{l!r},{e!r}")
        return
    steps = a.steps or 1000
    log_p = np.logspace(-0.5, 0.5, 10)[: a.p_count]
    alphas = np.linspace(0.5, 1, 10)
    etas = np.logspace(-1, 1, 10)
    start = time.perf_counter()
    print("p0_logit,alpha,eta,first_perfect_step")
    for lp in log_p:
        p = 1 / (1 + np.exp(-lp))
        proba = torch.tensor([p, 1 - p], dtype=dtype)
        for alpha in alphas:
            E = pair_embeddings(alpha, dtype)
            for eta in etas:
                first, _, _ = run_gd(E, U, proba, eta, steps, dtype)
                print(f"{lp!r},{alpha!r},{eta!r},{first}")
    print(f"# seconds: {time.perf_counter() - start:.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()
