"""amflow's Transformer step against PyTorch's autograd on the same weights and batch.

The model is written here from the spec (docs/transformer.md, the authors' simplified two-layer
attention-only Transformer with nn.Linear's convention y = x W^T), independently of amflow's code;
autograd differentiates it. Checks the loss, the gradients of W_K^1, W_K^2 and W_O^2, and the
margin probes: float64 within 1e-12 relative, float32 within 1e-5 relative (of the largest entry);
then the weights after three steps of torch.optim's SGD (plain, momentum 0.9, Nesterov; weight
decay 1e-4) and Adam against amflow's update rules, float64 within 1e-12.
Exits 77 (skipped) when PyTorch is not installed (Debian's python3-torch).

Usage: torch_check.py PATH/TO/torch_fixture
"""
import json
import subprocess
import sys

try:
    import torch
except ImportError:
    print("torch_check: PyTorch (python3-torch) is not installed: skipped")
    sys.exit(77)


def forward(f, dtype):
    t = lambda name: torch.tensor(f[name], dtype=dtype)
    WK1, WK2, WO2 = (t(n).requires_grad_(True) for n in ("WK1", "WK2", "WO2"))
    loss, n = loss_of(f, dtype, WK1, WK2, WO2)
    loss.backward()
    E, WV1, WO1, WV2, WU = (t(n) for n in ("E", "WV1", "WO1", "WV2", "WU"))
    # The probes: wo1 scores E W_V2^T W_O2^T W_U^T; wk1 S = E_a W_K2 W_O1 W_V1 E_a^T.
    with torch.no_grad():
        s1 = E @ WV2.T @ WO2.T @ WU.T
        ea = E[torch.tensor(f["probe"])]
        s2 = ea @ (ea @ WV1.T @ WO1.T @ WK2.T).T

        def margins(s):
            off = s.clone()
            off.fill_diagonal_(float("-inf"))
            return torch.diagonal(s) - off.max(dim=1).values

        m1, m2 = margins(s1), margins(s2)
    return loss.item(), n, {"gWK1": WK1.grad, "gWK2": WK2.grad, "gWO2": WO2.grad}, m1, m2


def loss_of(f, dtype, WK1, WK2, WO2):
    t = lambda name: torch.tensor(f[name], dtype=dtype)
    d, T, B = f["d"], f["T"], f["B"]
    E, P, WV1, WO1, WV2, WU = (t(n) for n in ("E", "P", "WV1", "WO1", "WV2", "WU"))
    x = torch.tensor(f["x"]).reshape(B, T)
    y = torch.tensor(f["y"]).reshape(B, T)
    outs = torch.tensor(f["outs"]).reshape(B, T)
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)

    def attention(h, wk, wv):
        scores = h @ (h @ wk.T).transpose(1, 2) / d ** 0.5
        scores = scores.masked_fill(mask, float("-inf"))
        return torch.softmax(scores, dim=-1) @ (h @ wv.T)

    h0 = E[x] + P[:T]
    h1 = h0 + attention(h0, WK1, WV1) @ WO1.T
    h2 = h1 + attention(h1, WK2, WV2) @ WO2.T
    logits = h2 @ WU.T
    sel = outs >= 2 if f["loss_positions"] == "head" else torch.ones_like(outs, dtype=torch.bool)
    return torch.nn.functional.cross_entropy(logits[sel], y[sel]), int(sel.sum())


def trained(f, cfg):
    """The weights after three steps of torch.optim from the fixture's, on its batch."""
    params = [torch.tensor(f[n], dtype=torch.float64, requires_grad=True)
              for n in ("WK1", "WK2", "WO2")]
    lr, wd = cfg["lr"], cfg["weight_decay"]
    rule = cfg["rule"]
    if rule == "adam":
        opt = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)
    else:
        opt = torch.optim.SGD(params, lr=lr, momentum=0.0 if rule == "gd" else 0.9,
                              nesterov=rule == "nesterov", weight_decay=wd)
    for _ in range(3):
        opt.zero_grad()
        loss_of(f, torch.float64, *params)[0].backward()
        opt.step()
    return dict(zip(("WK1", "WK2", "WO2"), (p.detach() for p in params)))


def relative_error(mine, ref):
    mine = torch.tensor(mine, dtype=torch.float64)
    ref = ref.to(torch.float64)
    return float((mine - ref).abs().max() / ref.abs().max())


def main():
    failures = 0
    for args in (["8", "24", "3", "head"], ["8", "24", "3", "all"], ["16", "64", "4", "head"]):
        f = json.loads(subprocess.run([sys.argv[1], *args], check=True, capture_output=True,
                                      text=True).stdout)
        for name, dtype, tol in (("float64", torch.float64, 1e-12), ("float32", torch.float32, 1e-5)):
            loss, n, grads, m1, m2 = forward(f, dtype)
            mine = f[name]
            checks = [("loss", abs(mine["loss"] - loss) / abs(loss)),
                      ("wo1_margins", relative_error(mine["wo1_margins"], m1)),
                      ("wk1_margins", relative_error(mine["wk1_margins"], m2))]
            checks += [(g, relative_error(mine[g], grads[g])) for g in ("gWK1", "gWK2", "gWO2")]
            if mine["selected"] != n:
                print(f"FAIL {args} {name}: {mine['selected']} loss positions, torch {n}")
                failures += 1
            for what, err in checks:
                ok = err <= tol
                failures += not ok
                print(f"{'ok  ' if ok else 'FAIL'} d={args[0]} T={args[1]} B={args[2]} "
                      f"{args[3]:4} {name} {what:11} relative error {err:.2e} (tolerance {tol:g})")
        for cfg in f["training"]:
            ref = trained(f, cfg)
            for name in ("WK1", "WK2", "WO2"):
                err = relative_error(cfg[name], ref[name])
                ok = err <= 1e-12
                failures += not ok
                print(f"{'ok  ' if ok else 'FAIL'} d={args[0]} T={args[1]} B={args[2]} "
                      f"{args[3]:4} {cfg['rule']:8} 3 steps {name} relative error {err:.2e} "
                      f"(tolerance 1e-12)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
