#!/usr/bin/python3
"""amflow against the tools people use, on the same problems and the same machine, in one command:

  /usr/bin/python3 bench/peers/compare.py build/amflow [--cap 120] [--repeat 5]
        [--only mpmath,scipy,torch] [--json out.json] [--figure work-precision.png]

- mpmath's odefun (Taylor series, arbitrary precision) at 30 and 50 digits against `amflow flow` at
  the same digits: the pair problem to tau = 10 and 100, the three-token orthogonal problem to
  tau = 1e3. Each odefun run is a child process killed at --cap seconds ("did not finish in X s").
- SciPy's solve_ivp (DOP853, LSODA) in double against `amflow flow --digits 15`, each at a ladder of
  tolerances 1e-3 .. 1e-13, compared at equal achieved error (the work-precision diagram).
- The authors' PyTorch loops (float32, float64; bench/peers/torch_gd.py) against `amflow sweep`
  (their 1000-cell learning-rate grid) and `amflow gd` (the spike experiment).

Errors: the largest margin error at the final time against `amflow flow` at twice the digits (and,
for the orthogonal problem, against P1's closed form e^m + (M-1) m = p M tau + 1 solved here by
mpmath at 100 digits, independently of amflow). Times: the median over --repeat runs (one run when a
run takes more than 10 s); amflow's in-process time is the integration's own wall time (flow --timing); peers' in-process time is
measured inside Python around the solve, their whole-process time includes the interpreter and the
imports. The ratio is peer time / amflow time (in-process / in-process).

The ODE is written here from the paper (dZ/dtau = -G_E R(Z) G_U, R = diag(p)(softmax(Z) - Y),
Z = E W^T U^T from W = 0), not taken from amflow.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# The problems, as amflow's built-ins define them (amflow problem show pair / orthogonal).
PROBLEMS = {
    "pair": {"alpha": "0.95", "p": ["0.75", "0.25"], "N": 2, "M": 2},
    "orthogonal": {"p": ["0.5", "0.3", "0.2"], "N": 3, "M": 3},
}
MPMATH_CASES = [("pair", "10"), ("pair", "100"), ("orthogonal", "1000")]
SCIPY_CASES = [("pair", "10"), ("pair", "100"), ("orthogonal", "1000")]
LADDER = [f"1e-{k}" for k in range(3, 14)]
# amflow in double: its default stepper (the Taylor series) and Bulirsch-Stoer, for comparison.
AMFLOW_DOUBLE = {"amflow flow": (), "amflow bulirsch-stoer": ("--stepper", "bulirsch-stoer")}


# ---------------------------------------------------------------------------------------------
# The peers' right-hand sides


def gram(name, num, sqrt):
    pb = PROBLEMS[name]
    if name == "pair":
        a = num(pb["alpha"])
        e = [[num(1), num(0)], [a, sqrt(1 - a * a)]]
    else:
        e = [[num(1 if i == j else 0) for j in range(pb["N"])] for i in range(pb["N"])]
    n = len(e)
    return [[sum(e[i][k] * e[j][k] for k in range(len(e[0]))) for j in range(n)] for i in range(n)]


def mpmath_case(name, tau, digits):
    """Child process: odefun on the logit ODE; prints the margins and the in-process seconds."""
    import mpmath as mp

    mp.mp.dps = digits
    pb = PROBLEMS[name]
    N, M = pb["N"], pb["M"]
    p = [mp.mpf(v) for v in pb["p"]]
    G = gram(name, mp.mpf, mp.sqrt)

    def f(t, z):
        R = []
        for x in range(N):
            row = z[x * M:(x + 1) * M]
            top = max(row)
            ex = [mp.exp(v - top) for v in row]
            s = mp.fsum(ex)
            R.append([p[x] * (ex[y] / s - (1 if y == x else 0)) for y in range(M)])
        return [-mp.fsum(G[x][k] * R[k][y] for k in range(N)) for x in range(N) for y in range(M)]

    start = time.perf_counter()
    sol = mp.odefun(f, 0, [mp.mpf(0)] * (N * M))
    z = sol(mp.mpf(tau))
    seconds = time.perf_counter() - start
    margins = [z[x * M + x] - max(z[x * M + y] for y in range(M) if y != x) for x in range(N)]
    print(json.dumps({"margins": [mp.nstr(m, digits + 5) for m in margins], "seconds": seconds}))


def scipy_run(name, tau, method, tol):
    import numpy as np
    from scipy.integrate import solve_ivp

    pb = PROBLEMS[name]
    N, M = pb["N"], pb["M"]
    p = np.array([float(v) for v in pb["p"]])
    G = np.array(gram(name, float, lambda v: v**0.5))
    Y = np.eye(N, M)

    def f(t, z):
        Z = z.reshape(N, M)
        ex = np.exp(Z - Z.max(axis=1, keepdims=True))
        R = p[:, None] * (ex / ex.sum(axis=1, keepdims=True) - Y)
        return -(G @ R).ravel()

    start = time.perf_counter()
    sol = solve_ivp(f, (0.0, float(tau)), np.zeros(N * M), method=method, rtol=float(tol),
                    atol=float(tol), t_eval=[float(tau)])
    seconds = time.perf_counter() - start
    Z = sol.y[:, -1].reshape(N, M)
    margins = [Z[x, x] - max(Z[x, y] for y in range(M) if y != x) for x in range(N)]
    return margins, seconds, sol.status == 0


# ---------------------------------------------------------------------------------------------
# amflow's side


def exact_margins(amflow, name, tau, digits, extra=()):
    """amflow's margins as exact decimals (json parsed with Decimal), its own integration time
    (--timing) and the whole process's time. No error estimate (--error-estimate none): the peers
    give none, and amflow's rerun would double its work."""
    import decimal

    cmd = [amflow, "flow", "--problem", name, "--digits", str(digits), "--times", f"list:{tau}",
           "--format", "json", "--error-estimate", "none", "--timing", *extra]
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    whole = time.perf_counter() - start
    doc = json.loads(out, parse_float=decimal.Decimal)
    row = doc["rows"][-1]
    return [row[f"m_{x}"] for x in range(PROBLEMS[name]["N"])], float(doc["summary"]["seconds"]), whole


def timed_amflow(amflow, name, tau, digits, repeat, extra=()):
    """Margins, median in-process time (amflow's --timing), median whole-process time."""
    inproc, whole, margins = [], [], None
    for _ in range(repeat):
        margins, s, w = exact_margins(amflow, name, tau, digits, extra)
        inproc.append(s)
        whole.append(w)
    return margins, statistics.median(whole), statistics.median(inproc)


def closed_form_margins(name, tau):
    """P1 for the orthogonal problem: e^m + (M-1) m = p M tau + 1, by mpmath at 100 digits."""
    import mpmath as mp

    mp.mp.dps = 100
    pb = PROBLEMS[name]
    M = pb["M"]
    out = []
    for pv in pb["p"]:
        rhs = mp.mpf(pv) * M * mp.mpf(tau) + 1
        out.append(mp.findroot(lambda m: mp.exp(m) + (M - 1) * m - rhs, mp.log(rhs)))
    return out


def max_error(a, b):
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec = 120
        return max(abs(decimal.Decimal(str(x)) - decimal.Decimal(str(y))) for x, y in zip(a, b))


def fmt_err(e):
    return f"{float(e):.1e}" if e is not None else "-"


def fmt_time(s):
    if s is None:
        return "-"
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


# ---------------------------------------------------------------------------------------------


def run_mpmath(a, table):
    for digits in (30, 50):
        for name, tau in MPMATH_CASES:
            N = PROBLEMS[name]["N"]
            ref = exact_margins(a.amflow, name, tau, 2 * digits)[0]
            ours, whole, inproc = timed_amflow(a.amflow, name, tau, digits, a.repeat)
            cf = closed_form_margins(name, tau) if name == "orthogonal" else None
            row_ours = {"problem": f"{name}, tau = {tau}", "tool": "amflow flow",
                        "precision": f"{digits} digits", "error": max_error(ours, ref),
                        "error_closed_form": max_error(ours, cf) if cf else None,
                        "time": inproc, "whole": whole, "runs": a.repeat}
            table.append(row_ours)
            print_row(row_ours)
            start = time.perf_counter()
            try:
                r = subprocess.run([sys.executable, __file__, "_mpmath", name, tau, str(digits)],
                                   capture_output=True, text=True, timeout=a.cap)
                whole_peer = time.perf_counter() - start
                got = json.loads(r.stdout)
                theirs = got["margins"]
                peer_error = max_error(theirs, ref)
                # Matched accuracy: odefun works to its precision's epsilon, amflow to a default
                # tolerance of 10^-(0.85 D); the cheapest amflow run (more digits, the default
                # tolerance) whose error is at most odefun's is the one compared.
                match = row_ours
                for more in range(0, 41, 5):
                    if match["error"] <= peer_error:
                        break
                    m2, w2, s2 = timed_amflow(a.amflow, name, tau, digits + more + 5, a.repeat)
                    match = {"problem": row_ours["problem"], "tool": "amflow flow",
                             "precision": f"{digits + more + 5} digits (matched)",
                             "error": max_error(m2, ref), "time": s2, "whole": w2,
                             "runs": a.repeat}
                if match is not row_ours:
                    table.append(match)
                    print_row(match)
                table.append({"problem": row_ours["problem"], "tool": "mpmath odefun",
                              "precision": f"{digits} digits", "error": peer_error,
                              "error_closed_form": max_error(theirs, cf) if cf else None,
                              "time": got["seconds"], "whole": whole_peer, "runs": 1,
                              "ratio": got["seconds"] / match["time"] if match["time"] > 0 else None,
                              "ratio_whole": whole_peer / match["whole"]})
            except subprocess.TimeoutExpired:
                table.append({"problem": row_ours["problem"], "tool": "mpmath odefun",
                              "precision": f"{digits} digits", "error": None, "time": None,
                              "whole": None, "runs": 1,
                              "note": f"did not finish in {a.cap:g} s"})
            print_row(table[-1])


def run_scipy(a, table, ladder_rows):
    for name, tau in SCIPY_CASES:
        N = PROBLEMS[name]["N"]
        ref = exact_margins(a.amflow, name, tau, 30)[0]
        for tol in LADDER:
            for tool, extra in AMFLOW_DOUBLE.items():
                ours, whole, inproc = timed_amflow(a.amflow, name, tau, 15, a.repeat,
                                                   ("--tol", tol, *extra))
                ladder_rows.append({"problem": f"{name}, tau = {tau}", "tool": tool,
                                    "tol": tol, "error": float(max_error(ours, ref)),
                                    "time": inproc, "whole": whole})
            for method in ("DOP853", "LSODA"):
                times, margins, ok = [], None, True
                for _ in range(a.repeat):
                    margins, s, ok = scipy_run(name, tau, method, tol)
                    times.append(s)
                ladder_rows.append({"problem": f"{name}, tau = {tau}", "tool": f"scipy {method}",
                                    "tol": tol, "error": float(max_error(margins, ref)) if ok else None,
                                    "time": statistics.median(times), "whole": None})
        # Matched accuracy: for each SciPy rung, the fastest run of amflow's default at least as
        # accurate.
        ours = [r for r in ladder_rows
                if r["problem"] == f"{name}, tau = {tau}" and r["tool"] == "amflow flow"]
        for method in ("DOP853", "LSODA"):
            for r in ladder_rows:
                if r["problem"] != f"{name}, tau = {tau}" or r["tool"] != f"scipy {method}" or r["error"] is None:
                    continue
                match = [o for o in ours if o["error"] <= r["error"]]
                best = min(match, key=lambda o: o["time"]) if match else None
                r["amflow_time_at_this_error"] = best["time"] if best else None
                r["amflow_at_this_error"] = f"{best['tool']} tol {best['tol']}" if best else None
                r["ratio"] = r["time"] / best["time"] if best and best["time"] > 0 else None
        for r in ladder_rows:
            if r["problem"] == f"{name}, tau = {tau}":
                print(f"  {r['problem']:22s} {r['tool']:14s} tol {r['tol']:6s} error {fmt_err(r['error']):>8s} "
                      f"time {fmt_time(r['time']):>10s}"
                      + (f"  amflow at this error: {r['amflow_at_this_error']}, "
                         f"{fmt_time(r.get('amflow_time_at_this_error'))}, ratio {r['ratio']:.1f}x"
                         if r.get("ratio") else ""))


def run_torch(a, table):
    try:
        import torch  # noqa: F401
    except ImportError:
        print("PyTorch: python3-torch is not installed (AMFLOW_PEERS=1 bash scripts/run-bench.sh "
              "installs it); skipped")
        return
    r = subprocess.run([sys.executable, os.path.join(HERE, "side_by_side.py"), a.amflow,
                        "--p-count", "1"], capture_output=True, text=True, check=True)
    print(r.stdout)
    table.append({"problem": "learning-rate grid", "tool": "PyTorch (side_by_side.py)",
                  "precision": "float32", "note": r.stdout.strip().replace("\n", " | ")})


def print_row(r):
    extra = f", {r['note']}" if r.get("note") else ""
    ratio = (f", ratio {r['ratio']:.0f}x in-process, {r['ratio_whole']:.0f}x whole"
             if r.get("ratio") else "")
    cf = f", vs closed form {fmt_err(r['error_closed_form'])}" if r.get("error_closed_form") is not None else ""
    print(f"  {r['problem']:22s} {r['tool']:14s} {r['precision']:10s} error {fmt_err(r['error']):>8s}{cf} "
          f"in-process {fmt_time(r['time'])}, whole process {fmt_time(r['whole'])}{ratio}{extra}")


def figure(ladder_rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problems = sorted({r["problem"] for r in ladder_rows}, key=lambda s: [r["problem"] for r in ladder_rows].index(s))
    fig, all_axes = plt.subplots(1, len(problems) + 1, figsize=(7.0, 2.8), layout="constrained",
                                 gridspec_kw={"width_ratios": [1] * len(problems) + [0.6]})
    axes, key = all_axes[:-1], all_axes[-1]
    styles = {"amflow flow": ("o-", "#0072B2"), "amflow bulirsch-stoer": ("D-", "#56B4E9"),
              "scipy DOP853": ("s--", "#D55E00"), "scipy LSODA": ("^:", "#009E73")}
    for ax, prob in zip(axes, problems):
        for tool, (style, colour) in styles.items():
            pts = [(r["time"], r["error"]) for r in ladder_rows
                   if r["problem"] == prob and r["tool"] == tool and r["error"] and r["time"]]
            if pts:
                label = {"amflow flow": "amflow, default\n(Taylor)",
                         "amflow bulirsch-stoer": "amflow --stepper\nbulirsch-stoer"}.get(tool, tool)
                ax.loglog([t for t, _ in pts], [e for _, e in pts], style, color=colour, markersize=3, label=label)
        ax.set_title(prob, fontsize=8)
        ax.set_xlabel("time per solve (s)", fontsize=8)
        ax.set_ylabel("achieved margin error", fontsize=8)
        ax.tick_params(labelsize=7)
    key.axis("off")
    key.legend(*axes[0].get_legend_handles_labels(), loc="center", fontsize=6, frameon=False)
    fig.suptitle("Work-precision in double: amflow flow --digits 15 vs SciPy solve_ivp\n(tolerances "
                 "1e-3 .. 1e-13 in ladder order; in-process times; errors against amflow at 30 "
                 "digits)", fontsize=8)
    fig.savefig(path, dpi=150, metadata={"Software": None})


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "_mpmath":
        mpmath_case(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("amflow")
    ap.add_argument("--cap", type=float, default=120.0, help="seconds per mpmath run")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", default="mpmath,scipy,torch")
    ap.add_argument("--json")
    ap.add_argument("--figure")
    ap.add_argument("--replot", help="draw --figure from an earlier --json output, run nothing")
    a = ap.parse_args()
    if a.replot:
        with open(a.replot) as f:
            figure(json.load(f)["ladder"], a.figure)
        return
    a.amflow = os.path.abspath(a.amflow)
    only = set(a.only.split(","))
    table, ladder = [], []
    print(f"# machine: {os.cpu_count()} cores; {sys.version.split()[0]}")
    if "mpmath" in only:
        print("## mpmath odefun vs amflow flow (errors against amflow at twice the digits)")
        run_mpmath(a, table)
    if "scipy" in only:
        print("## SciPy solve_ivp vs amflow flow --digits 15 (errors against amflow at 30 digits)")
        run_scipy(a, table, ladder)
        if a.figure:
            figure(ladder, a.figure)
    if "torch" in only:
        print("## PyTorch (the authors' loops) vs amflow sweep and gd")
        run_torch(a, table)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"table": table, "ladder": ladder}, f, indent=1, default=str)


if __name__ == "__main__":
    main()
