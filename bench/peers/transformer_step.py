"""One training step of the paper's Transformer, amflow against PyTorch, side by side.

The authors' size (B = 512 sequences of T = 256 tokens, d = 64, float32) by default. amflow's time
is its own `seconds_per_step` over `--steps` steps (sharpness off); PyTorch's is the median of
`--repeat` steps of the same model written here from the spec (docs/transformer.md; the forward
pass as tests/transformer/torch_check.py, autograd for the backward) on random weights and a
random batch, on all cores (torch.set_num_threads(os.cpu_count())).

Usage: /usr/bin/python3 bench/peers/transformer_step.py build/amflow [--dim 64] [--batch 512]
       [--length 256] [--steps 5] [--repeat 3]
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import torch


def torch_step(train, d, T, B, N=65, loss_fraction=0.29):
    g = torch.Generator().manual_seed(0)
    E, P = torch.randn(N, d, generator=g), torch.randn(T, d, generator=g)
    u = lambda *shape: (torch.rand(*shape, generator=g) * 2 - 1) / d ** 0.5
    WK1, WV1, WO1, WK2, WV2, WO2, WU = u(d, d), u(d, d), u(d, d), u(d, d), u(d, d), u(d, d), u(N, d)
    trained = [WO2] if train == "wo2" else [WK1, WK2, WO2]
    for w in trained:
        w.requires_grad_(True)
    x = torch.randint(0, N, (B, T), generator=g)
    y = torch.randint(0, N, (B, T), generator=g)
    sel = torch.rand(B, T, generator=g) < loss_fraction
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)

    def attention(h, wk, wv):
        s = (h @ (h @ wk.T).transpose(1, 2) / d ** 0.5).masked_fill(mask, float("-inf"))
        return torch.softmax(s, dim=-1) @ (h @ wv.T)

    def step():
        for w in trained:
            w.grad = None
        h0 = E[x] + P[:T]
        h1 = h0 + attention(h0, WK1, WV1) @ WO1.T
        h2 = h1 + attention(h1, WK2, WV2) @ WO2.T
        loss = torch.nn.functional.cross_entropy((h2 @ WU.T)[sel], y[sel])
        loss.backward()
        with torch.no_grad():
            for w in trained:
                w -= 0.1 * w.grad
    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("amflow")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--length", type=int, default=256)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    print(f"B = {a.batch}, T = {a.length}, d = {a.dim}, float32; PyTorch {torch.__version__} on "
          f"{torch.get_num_threads()} threads")
    print(f"{'trained':8} {'amflow s/step':>14} {'PyTorch s/step':>15} {'ratio':>7}")
    for train in ("wo2", "all"):
        out = subprocess.run([a.amflow, "transformer", "--train", train, "--dim", str(a.dim),
                              "--batch", str(a.batch), "--length", str(a.length), "--steps",
                              str(a.steps), "--sharpness-every", "0", "--format", "jsonl"],
                             check=True, capture_output=True, text=True).stdout
        summary = json.loads(out.strip().splitlines()[-1])["summary"]
        mine = float(summary["seconds_per_step"])
        step = torch_step(train, a.dim, a.length, a.batch)
        step()  # warm-up
        times = []
        for _ in range(a.repeat):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        theirs = statistics.median(times)
        print(f"{train:8} {mine:14.3f} {theirs:15.3f} {theirs / mine:7.1f}")


if __name__ == "__main__":
    main()
