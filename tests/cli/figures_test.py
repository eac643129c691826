"""End-to-end checks of `amflow landscape`, `gd --weights` and `amflow figures`.

Usage: figures_test.py AMFLOW [--full]

The expected numbers come from closed forms evaluated here with Python's decimal module at 50
digits, independently of amflow. The figures are checked as files (valid PNG and PDF of plausible
size, every figure on the page, the same bytes from a second run, the page's commands
reproducing the data); --full renders the whole set as `amflow figures` does by default and
checks it the same way (not part of the fast suite).
"""

import decimal
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

from decimal import Decimal as D

decimal.getcontext().prec = 50
FIGURES = ["spike", "landscapes", "learning-rates-p0", "learning-rates-alpha", "sharpness",
           "large-memory", "underparameterized", "orthogonal", "gd-vs-flow", "convergence",
           "rule-scaling", "precision", "transformer-wo2", "transformer-all"]
failures = []


def fail(what):
    failures.append(what)
    print("FAIL:", what)


def run(amflow, args, cwd=None):
    r = subprocess.run([amflow] + args, capture_output=True, text=True, cwd=cwd, timeout=900)
    return r.returncode, r.stdout, r.stderr


def softplus(x):
    return (1 + x.exp()).ln()


def close(a, b, tol):
    return abs(D(str(a)) - D(str(b))) <= D(tol)


def check_landscape(amflow):
    # The pair problem: e_0 = (1, 0), e_1 = (a, s), s = sqrt(1 - a^2), p = (3/4, 1/4), labels 0, 1,
    # U = I. At gamma, margins m_0 = gamma.e_0 and m_1 = -gamma.e_1; the loss
    # 3/4 log(1 + e^-m_0) + 1/4 log(1 + e^-m_1).
    a = D("0.95")
    s = (1 - a * a).sqrt()
    for g0, g1 in [(D(1), D(2)), (D("-3.5"), D("0.25")), (D(0), D(0))]:
        code, out, err = run(amflow, ["landscape", "--problem", "pair", "--digits", "30",
                                      "--gamma0", f"list:{g0}", "--gamma1", f"list:{g1}",
                                      "--format", "json", "--sharpness"])
        if code != 0:
            fail(f"landscape pair at ({g0}, {g1}) exit {code}: {err}")
            continue
        row = json.loads(out, parse_float=D)["rows"][0]
        m0, m1 = g0, -(a * g0 + s * g1)
        loss = D("0.75") * softplus(-m0) + D("0.25") * softplus(-m1)
        # argmax gives ties to the lowest class: token 0 (label 0) is right at m_0 = 0, token 1
        # (label 1) is wrong at m_1 = 0.
        wrong = (D("0.75") if m0 < 0 else 0) + (D("0.25") if not m1 > 0 else 0)
        for name, want in [("m_0", m0), ("m_1", m1), ("loss", loss), ("zero_one_loss", wrong)]:
            if not close(row[name], want, "1e-26"):
                fail(f"landscape pair ({g0}, {g1}): {name} = {row[name]}, closed form {want}")
        # The Hessian in W of a two-class problem at logit differences m: with u = u_0 - u_1
        # and h_x = sigma(m_x)(1 - sigma(m_x)), H = u u^T (x) sum_x p_x h_x e_x e_x^T, whose
        # largest eigenvalue is |u|^2 = 2 times that of the 2 x 2 matrix.
        sig = lambda m: 1 / (1 + (-m).exp())  # noqa: E731
        h = [sig(m0) * (1 - sig(m0)), sig(m1) * (1 - sig(m1))]
        A = D("0.75") * h[0] + D("0.25") * h[1] * a * a
        B = D("0.25") * h[1] * a * s
        C = D("0.25") * h[1] * s * s
        top = (A + C) / 2 + (((A - C) / 2) ** 2 + B * B).sqrt()
        if not close(row["sharpness"], 2 * top, "1e-25"):
            fail(f"landscape pair ({g0}, {g1}): sharpness {row['sharpness']}, closed form {2 * top}")

    # The under-parameterised problem: embeddings at 0, 30, 60 degrees, labels 0, 1, 0, p = (6, 3,
    # 2)/11. e_1 is a positive combination of e_0 and e_2, so no gamma has gamma.e_0 > 0,
    # gamma.e_1 < 0 and gamma.e_2 > 0: the best 0-1 loss gives up the rarest token, 2/11.
    code, out, err = run(amflow, ["landscape", "--problem", "underparameterized", "--digits", "30",
                                  "--gamma0", "list:0", "--gamma1", "list:0", "--format", "json"])
    if code != 0:
        fail(f"landscape underparameterized exit {code}: {err}")
        return
    summary = json.loads(out, parse_float=D)["summary"]  # every digit of the summary's numbers
    if not close(summary["best_zero_one"]["zero_one_loss"], D(2) / 11, "1e-28"):
        fail(f"best 0-1 loss {summary['best_zero_one']['zero_one_loss']}, expected 2/11")
    # The cross-entropy minimiser by Newton's method here, at 50 digits, inside amflow's balls.
    rad = D(3).sqrt() / 2
    E = [(D(1), D(0)), (rad, D("0.5")), (D("0.5"), rad)]
    p = [D(6) / 11, D(3) / 11, D(2) / 11]
    sgn = [1, -1, 1]
    w = [D(0), D(0)]
    for _ in range(60):
        g = [D(0), D(0)]
        H = [[D(0), D(0)], [D(0), D(0)]]
        for x in range(3):
            m = sgn[x] * (w[0] * E[x][0] + w[1] * E[x][1])
            sm = 1 / (1 + m.exp())  # sigma(-m)
            for i in range(2):
                g[i] -= p[x] * sgn[x] * sm * E[x][i]
                for j in range(2):
                    H[i][j] += p[x] * sm * (1 - sm) * E[x][i] * E[x][j]
        det = H[0][0] * H[1][1] - H[0][1] * H[1][0]
        w = [w[0] - (H[1][1] * g[0] - H[0][1] * g[1]) / det,
             w[1] - (-H[1][0] * g[0] + H[0][0] * g[1]) / det]
    mini = summary["minimiser"]
    if not mini.get("certified"):
        fail(f"the minimiser is not certified: {mini}")
    else:
        for i in range(2):
            lo, hi = D(mini[f"gamma_{i}_lo"]), D(mini[f"gamma_{i}_hi"])
            if not (lo <= w[i] <= hi and hi - lo < D("1e-25")):
                fail(f"minimiser gamma_{i}: Newton at 50 digits {w[i]} not in [{lo}, {hi}]")
    # The pair problem is separable: no minimiser, said so.
    code, out, err = run(amflow, ["landscape", "--problem", "pair", "--gamma0", "list:0",
                                  "--gamma1", "list:0", "--format", "json"])
    if code != 0 or json.loads(out)["summary"]["minimiser"].get("certified") is not False:
        fail(f"landscape pair: the separable problem's minimiser should be reported absent: {out}")

    # Refusals: one line naming the field and the value, exit 2, nothing written.
    with tempfile.TemporaryDirectory() as tmp:
        target = os.path.join(tmp, "out.csv")
        for args, field, value in [
            (["--problem", "orthogonal"], "classes", "3"),
            (["--problem", "zipf-orthogonal"], "classes", "10"),
            (["--problem", "pair", "--gamma0", "linspace:0:1:2002"], "--gamma0", "linspace:0:1:2002"),
            (["--problem", "pair", "--gamma1", "list:1e7"], "--gamma1", "list:1e7"),
            (["--problem", "pair", "--gamma0", "list:nan"], "--gamma0", "nan"),
        ]:
            code, out, err = run(amflow, ["landscape"] + args + ["--output", target])
            lines = err.strip().splitlines()
            if code != 2 or len(lines) != 1 or field not in err or value not in err:
                fail(f"landscape {args}: exit {code}, stderr {err!r}")
            if os.path.exists(target):
                fail(f"landscape {args}: left {target} behind")


def check_weights(amflow):
    # One GD step from W = 0 on the pair problem: the softmax is uniform, so
    # W_1[r] = eta sum_x p_x ([r = x] - 1/2) e_x, exactly.
    a = D("0.95")
    s = (1 - a * a).sqrt()
    eta = D("0.5")
    e = [(D(1), D(0)), (a, s)]
    p = [D("0.75"), D("0.25")]
    want = [[eta * sum(p[x] * ((1 if r == x else 0) - D("0.5")) * e[x][c] for x in range(2))
             for c in range(2)] for r in range(2)]
    rows = {}
    for space in ["particle", "weights"]:
        code, out, err = run(amflow, ["gd", "--problem", "pair", "--eta", "0.5", "--steps", "3",
                                      "--weights", "--space", space, "--digits", "30",
                                      "--format", "json"])
        if code != 0:
            fail(f"gd --weights --space {space}: exit {code}: {err}")
            continue
        rows[space] = json.loads(out, parse_float=D)["rows"]
        first = rows[space][1]
        for r in range(2):
            for c in range(2):
                if not close(first[f"w_{r}_{c}"], want[r][c], "1e-28"):
                    fail(f"gd --weights ({space}): w_{r}_{c} = {first[f'w_{r}_{c}']}, "
                         f"closed form {want[r][c]}")
    if len(rows) == 2:
        for k in range(4):
            for key in ["w_0_0", "w_0_1", "w_1_0", "w_1_1"]:
                if not close(rows["particle"][k][key], rows["weights"][k][key], "1e-27"):
                    fail(f"gd --weights: particle and weights spaces differ at step {k}, {key}")
    code, out, err = run(amflow, ["gd", "--problem", "pair", "--weights", "--certify"])
    if code != 2 or "--weights" not in err:
        fail(f"gd --weights --certify should be refused: exit {code} {err!r}")


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(33)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def check_figure_dir(out, names, quick):
    for name in names:
        png, pdf, meta = (os.path.join(out, name + ext) for ext in (".png", ".pdf", ".json"))
        size = png_size(png) if os.path.exists(png) else None
        if size is None:
            fail(f"{name}.png is missing or not a PNG")
        elif not (600 <= size[0] <= 2000 and 300 <= size[1] <= 2000) or os.path.getsize(png) < 20000:
            fail(f"{name}.png: implausible size {size}, {os.path.getsize(png)} bytes")
        if not os.path.exists(pdf):
            fail(f"{name}.pdf is missing")
        else:
            with open(pdf, "rb") as f:
                data = f.read()
            if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-64:] or len(data) < 8000:
                fail(f"{name}.pdf is not a plausible PDF ({len(data)} bytes)")
        if not os.path.exists(meta):
            fail(f"{name}.json is missing")
            continue
        with open(meta) as f:
            spec = json.load(f)
        if spec.get("quick") != quick or not spec.get("commands") or not spec.get("caption"):
            fail(f"{name}.json: incomplete description")
        for path in spec.get("data", {}).values():
            if not os.path.exists(os.path.join(out, path)):
                fail(f"{name}: data file {path} is missing")
    with open(os.path.join(out, "index.html")) as f:
        page = f.read()
    for name in names:
        for ref in (f'src="{name}.png"', f'href="{name}.pdf"', f'id="{name}"'):
            if ref not in page:
                fail(f"index.html does not reference {ref}")
    if 'class="pass"' not in page or "amflow verify" not in page:
        fail("index.html has no verification table")
    if not os.path.exists(os.path.join(out, "data", "verify.json")):
        fail("data/verify.json is missing")
    leftovers = [e for e in os.listdir(os.path.dirname(os.path.abspath(out))) if ".amflow-figures-" in e]
    if leftovers:
        fail(f"staging directories left behind: {leftovers}")


def check_figures(amflow, full):
    tmp = tempfile.mkdtemp(prefix="amflow-figures-test-")
    try:
        out = os.path.join(tmp, "figs")
        args = ["figures", "--output", out] + ([] if full else ["--quick"])
        code, _, err = run(amflow, args)
        if code != 0:
            fail(f"amflow {' '.join(args)}: exit {code}: {err}")
            return
        lines = [l for l in err.splitlines() if l.startswith("amflow figures: [")]
        if len(lines) != len(FIGURES):
            fail(f"progress: {len(lines)} lines for {len(FIGURES)} figures: {err!r}")
        check_figure_dir(out, FIGURES, not full)
        if full:
            return

        # Reproducible: the page's first command for a figure, run from the directory, gives
        # the same bytes as its data file; a second run gives the same PNGs.
        with open(os.path.join(out, "spike.json")) as f:
            spec = json.load(f)
        first = next(c for c in spec["commands"] if c.startswith("amflow "))
        words = first.split()[1:]
        target = words[words.index("--output") + 1]
        words[words.index("--output") + 1] = "again.json"
        code, _, err = run(amflow, words, cwd=out)
        with open(os.path.join(out, target), "rb") as f1, open(os.path.join(out, "again.json"), "rb") as f2:
            if code != 0 or f1.read() != f2.read():
                fail(f"`{first}` run again does not give the same data ({err})")
        os.remove(os.path.join(out, "again.json"))
        out2 = os.path.join(tmp, "figs2")
        code, _, err = run(amflow, ["figures", "--quick", "--only", "spike,orthogonal", "--output", out2])
        if code != 0:
            fail(f"figures --only spike,orthogonal: exit {code}: {err}")
        else:
            check_figure_dir(out2, ["spike", "orthogonal"], True)
            for name in ["spike.png", "orthogonal.png", "spike.pdf", "data/spike-landscape.json"]:
                with open(os.path.join(out, name), "rb") as f1, open(os.path.join(out2, name), "rb") as f2:
                    if f1.read() != f2.read():
                        fail(f"{name} differs between two runs")
            if os.path.exists(os.path.join(out2, "precision.png")):
                fail("--only made a figure it was not asked for")
        # Into an existing directory: the other figures stay, and the page still shows them.
        code, _, err = run(amflow, ["figures", "--quick", "--only", "convergence", "--output", out2])
        if code != 0:
            fail(f"figures --only convergence into {out2}: exit {code}: {err}")
        else:
            check_figure_dir(out2, ["spike", "orthogonal", "convergence"], True)

        # Refusals: exit 2, one line naming the flag and the value, nothing made.
        none = os.path.join(tmp, "none")
        afile = os.path.join(tmp, "afile")
        open(afile, "w").close()
        for args, flag, value in [
            (["--only", "spike,nope", "--output", none], "--only", "nope"),
            (["--output", afile], "--output", afile),
            (["--output", os.path.join(tmp, "no", "such")], "--output", "no/such"),
            (["--python", os.path.join(tmp, "no-python"), "--output", none], "--python", "no-python"),
            ([], "--output", ""),
        ]:
            code, _, err = run(amflow, ["figures", "--quick"] + args)
            if code != 2 or len(err.strip().splitlines()) != 1 or flag not in err or value not in err:
                fail(f"figures {args}: exit {code}, stderr {err!r}")
            if os.path.exists(none):
                fail(f"figures {args}: made {none}")
        # A Python without matplotlib: a runtime failure (exit 1) that says what to install and
        # leaves nothing behind.
        fake = os.path.join(tmp, "fake-python")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\necho 'ModuleNotFoundError: No module named matplotlib' >&2\nexit 1\n")
        os.chmod(fake, 0o755)
        code, _, err = run(amflow, ["figures", "--quick", "--python", fake, "--output", none])
        if code != 1 or "python3-matplotlib" not in err or os.path.exists(none):
            fail(f"figures with a Python lacking matplotlib: exit {code}, {err!r}")
        # Interrupted mid-way (SIGTERM, SIGINT): ends by the signal, nothing made, nothing left.
        for sig in (signal.SIGTERM, signal.SIGINT):
            proc = subprocess.Popen([amflow, "figures", "--quick", "--output", none],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(2.5)
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=120)
            if proc.returncode != -sig or os.path.exists(none):
                fail(f"figures interrupted by {sig.name}: exit {proc.returncode}, {err!r}")
        leftovers = [e for e in os.listdir(tmp) if ".amflow-figures-" in e]
        if leftovers:
            fail(f"staging directories left behind: {leftovers}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    amflow = os.path.abspath(sys.argv[1])
    full = "--full" in sys.argv[2:]
    if not full:
        check_landscape(amflow)
        check_weights(amflow)
    check_figures(amflow, full)
    if failures:
        print(f"figures_test: {len(failures)} failure(s)")
        sys.exit(1)
    print("figures_test: all checks passed")


if __name__ == "__main__":
    main()
