"""amflow's figures and report page, drawn from amflow's own output only.

`amflow figures` runs the amflow commands a figure needs (their JSON output goes to data/), writes
the figure's description to NAME.json and calls

    python3 data/amflow_plots.py figure NAME.json      -> NAME.png, NAME.pdf
    python3 data/amflow_plots.py index DIR [DIR...]    -> index.html

in the output directory. Nothing here integrates, descends or evaluates a loss: every plotted
number is read from amflow's files (a projection such as gamma_i = W[0,i] - W[1,i], a product
tau * L or a difference of two amflow runs is the only arithmetic).
"""

import decimal
import html
import json
import math
import os
import sys
import textwrap
import time
import traceback

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm  # noqa: E402

# Okabe-Ito: distinguishable under the common colour-vision deficiencies.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442", "#000000"]
COLUMN = 3.4  # inches: one journal column
PAGE = 7.0  # inches: two columns

plt.rcParams.update(
    {
        "font.size": 8,
        "axes.titlesize": 8,
        "axes.labelsize": 8,
        "legend.fontsize": 7,
        "xtick.labelsize": 7,
        "ytick.labelsize": 7,
        "lines.linewidth": 1.0,
        "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
        "figure.dpi": 100,
        "savefig.dpi": 200,
        "pdf.fonttype": 42,
        "svg.hashsalt": "amflow",
        "path.simplify": False,
    }
)


def read(path, exact=False):
    """An amflow JSON output: meta, rows (a list of dicts) and summary. exact: numbers as Decimal."""
    with open(path) as f:
        if exact:
            return json.load(f, parse_float=decimal.Decimal, parse_int=decimal.Decimal)
        return json.load(f)


def column(doc, name):
    return np.array([np.nan if r[name] is None else float(r[name]) for r in doc["rows"]])


def gammas(doc):
    """The plane's coordinates gamma_i = W[0,i] - W[1,i] (U = I) of every recorded memory."""
    return column(doc, "w_0_0") - column(doc, "w_1_0"), column(doc, "w_0_1") - column(doc, "w_1_1")


def grid(doc, name):
    """A landscape column as a 2-d array (rows over gamma_1, columns over gamma_0)."""
    g0, g1 = column(doc, "gamma_0"), column(doc, "gamma_1")
    shape = (len(np.unique(g1)), len(np.unique(g0)))  # rows run over gamma_0 fastest
    return g0.reshape(shape), g1.reshape(shape), column(doc, name).reshape(shape)


def zero_one_regions(ax, doc):
    """The 0-1 loss's regions, drawn exactly: on each region cut out by the lines m_x = 0 the
    margins keep their signs and amflow's 0-1 loss one value; the region {s_x m_x > 0 for all x}
    is where min_x s_x m_x > 0, a piecewise linear function whose zero level the contour follows
    exactly (the margins are linear on the plane). Shades: light grey (0) to dark grey (1)."""
    G0, G1, Z01 = grid(doc, "zero_one_loss")
    tokens = len([c for c in doc["rows"][0] if c.startswith("m_")])
    M = np.stack([grid(doc, f"m_{x}")[2] for x in range(tokens)])
    signs = M > 0
    patterns = {}
    for key, value in zip(map(tuple, signs.reshape(tokens, -1).T), Z01.ravel()):
        patterns.setdefault(key, value)
    values = sorted(set(patterns.values()))
    for key, value in patterns.items():
        s = np.array([1.0 if b else -1.0 for b in key]).reshape(tokens, 1, 1)
        inside = np.min(s * M, axis=0)
        ax.contourf(G0, G1, inside, levels=[0, np.inf], colors=[zero_one_shade(value)])
    for x in range(tokens):
        ax.contour(G0, G1, M[x], levels=[0], colors=["#555555"], linewidths=0.5)
    return zero_one_mappable(values), values


def zero_one_shade(value):
    """The grey of a 0-1 loss value: light at 0, mid-grey at 1."""
    return plt.get_cmap("Greys")(0.08 + 0.5 * value)


def zero_one_mappable(values):
    """The colour scale of the 0-1 regions for a colour bar: one block per value."""
    values = sorted(set(values))
    colours = [zero_one_shade(v) for v in values]
    bounds = [values[0] - 0.5e-3] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [values[-1] + 0.5e-3]
    return matplotlib.cm.ScalarMappable(norm=BoundaryNorm(bounds, len(values)), cmap=ListedColormap(colours))


def plane_axes(ax, left=True, bottom=True):
    if bottom:
        ax.set_xlabel(r"$\gamma_0 = W_{00} - W_{10}$")
    if left:
        ax.set_ylabel(r"$\gamma_1 = W_{01} - W_{11}$")


def zero_one_colorbar(fig, ax, cs, values, **kw):
    cb = fig.colorbar(cs, ax=ax, ticks=values, spacing="uniform", **kw)
    cb.set_label("0-1 loss")
    cb.ax.set_yticklabels([f"{v:.3g}" for v in values])
    return cb


def save(fig, spec):
    name = spec["name"]
    fig.savefig(name + ".png", metadata={"Software": None})
    fig.savefig(name + ".pdf", metadata={"Creator": None, "Producer": None, "CreationDate": None})
    plt.close(fig)


def figure(spec, width, height, *args, **kw):
    fig, axes = plt.subplots(*args, figsize=(width, height), layout="constrained", **kw)
    fig.suptitle(title_text(spec["title"], width), fontsize=9)
    return fig, axes


def title_text(text, width):
    """A title wrapped to the figure's width (about 15 characters of 9 pt text per inch)."""
    return textwrap.fill(text, width=int(width * 15))


# ---------------------------------------------------------------------------------------------
# The authors' figures


def fig_spike(spec):
    d = spec["data"]
    runs = [(read(d["gd_eta10"]), r"$\eta = 10$", OKABE_ITO[4]), (read(d["gd_eta1"]), r"$\eta = 1$", OKABE_ITO[3])]
    land = read(d["landscape"])
    G0, G1, L = grid(land, "loss")
    fig, (a, b) = figure(spec, PAGE, 2.9, 1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
    cs, values = zero_one_regions(a, land)
    a.contour(G0, G1, L, levels=20, colors="k", linewidths=0.4, linestyles="--")
    for doc, label, colour in runs:
        g0, g1 = gammas(doc)
        a.plot(g0, g1, "-o", color=colour, markersize=2, label=label)
    a.plot([0], [0], "k+", markersize=6)
    a.set_xlim(G0.min(), G0.max())
    a.set_ylim(G1.min(), G1.max())
    plane_axes(a)
    a.legend(loc="upper right", framealpha=0.9)
    a.set_title("GD iterates from W = 0; dashed: loss contours")
    zero_one_colorbar(fig, a, cs, values)
    for doc, label, colour in runs:
        k = column(doc, "step")
        b.plot(k, column(doc, "loss"), "-", color=colour, label="loss, " + label)
        b.plot(k, column(doc, "zero_one_loss"), "--", color=colour, label="0-1 loss, " + label)
    b.axhline(math.log(2), color="grey", linewidth=0.6, linestyle=":")
    b.text(12, math.log(2) + 0.02, r"$\log 2$: the loss at W = 0", ha="left", va="bottom", fontsize=6, color="grey")
    b.set_xlabel("GD step k")
    b.set_ylabel("loss (nats) / 0-1 loss")
    b.set_title("loss and 0-1 loss per step")
    b.legend(loc="upper right", framealpha=0.9)
    save(fig, spec)


def fig_landscapes(spec):
    d = spec["data"]
    alphas = spec["params"]["alphas"]
    fig, axes = figure(spec, PAGE, 4.9, 2, 3)
    seen = set()
    for j, alpha in enumerate(alphas):
        for i, reach in enumerate(["close", "far"]):
            ax = axes[i, j]
            doc = read(d[f"alpha{alpha}_{reach}"])
            G0, G1, L = grid(doc, "loss")
            _, values = zero_one_regions(ax, doc)
            seen.update(values)
            ax.contour(G0, G1, L, levels=20, colors="k", linewidths=0.4)
            ax.set_title(rf"$\alpha = {alpha}$, " + (r"$|\gamma_i| \leq 1$" if reach == "close" else r"$|\gamma_i| \leq 10$"))
            plane_axes(ax, left=j == 0, bottom=i == 1)
            ax.set_aspect("equal")
    values = sorted(seen)
    zero_one_colorbar(fig, axes, zero_one_mappable(values), values, fraction=0.03, pad=0.02)
    save(fig, spec)


def learning_rate_cube(doc):
    rows = doc["rows"]
    p0s = sorted({float(r["p0_logit"]) for r in rows})
    alphas = sorted({float(r["alpha"]) for r in rows})
    etas = sorted({float(r["eta"]) for r in rows})
    cube = np.full((len(p0s), len(alphas), len(etas)), np.nan)
    never = np.zeros_like(cube, dtype=bool)
    for r in rows:
        i, j, k = p0s.index(float(r["p0_logit"])), alphas.index(float(r["alpha"])), etas.index(float(r["eta"]))
        if r["ever_perfect"]:
            cube[i, j, k] = max(float(r["first_perfect_step"]), 0.5)
        else:
            never[i, j, k] = True
    return np.array(p0s), np.array(alphas), np.array(etas), cube, never


def edges(v, log=False):
    v = np.log10(v) if log else v
    mid = (v[1:] + v[:-1]) / 2
    e = np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])
    return 10**e if log else e


def fig_learning_rates(spec, by):
    doc = read(spec["data"]["sweep"])
    logits, alphas, etas, cube, never = learning_rate_cube(doc)
    steps = int(spec["params"]["steps"])
    norm = LogNorm(vmin=0.5, vmax=steps)
    cmap = plt.get_cmap("viridis").copy()
    fig, axes = figure(spec, PAGE, 3.7, 2, 5, sharex=True, sharey=True)
    for n, ax in enumerate(axes.ravel()):
        if by == "p0":
            p0 = 1 / (1 + math.exp(-logits[n]))
            data, nev, xs, xlabel = cube[n].T, never[n].T, alphas, r"$\alpha = \langle e_0, e_1\rangle$"
            title = rf"$p_0 = {p0:.3f}$"
        else:
            data, nev, xs, xlabel = cube[:, n, :].T, never[:, n, :].T, logits, r"$\log(p_0/p_1)$"
            title = rf"$\alpha = {alphas[n]:.3f}$"
        mesh = ax.pcolormesh(edges(xs), edges(etas, log=True), data, norm=norm, cmap=cmap, shading="flat")
        if nev.any():
            masked = np.ma.masked_where(~nev, np.ones_like(data))
            ax.pcolormesh(edges(xs), edges(etas, log=True), masked, cmap=ListedColormap(["#D55E00"]), shading="flat", hatch="//")
        ax.set_yscale("log")
        ax.set_title(title)
        if n >= 5:
            ax.set_xlabel(xlabel)
        if n % 5 == 0:
            ax.set_ylabel(r"step size $\eta$")
    cb = fig.colorbar(mesh, ax=axes, fraction=0.025, pad=0.02)
    cb.set_label(f"first step with 0-1 loss 0 (of {steps})")
    title = spec["title"] + "; vermilion: never perfect"
    if "certified" in doc["rows"][0]:
        agree = sum(1 for r in doc["rows"] if r["certified"] == "yes")
        title += f"; certified in ball arithmetic: {agree} of {len(doc['rows'])} cells agree"
    fig.suptitle(title_text(title, PAGE), fontsize=9)
    save(fig, spec)


def fig_learning_rates_p0(spec):
    fig_learning_rates(spec, "p0")


def fig_learning_rates_alpha(spec):
    fig_learning_rates(spec, "alpha")


def fig_sharpness(spec):
    d = spec["data"]
    etas = spec["params"]["etas"]
    runs = [(read(d[f"gd_eta{e}"]), e, OKABE_ITO[4 if i == 0 else 3]) for i, e in enumerate(etas)]
    land = read(d["landscape"])
    G0, G1, L = grid(land, "loss")
    _, _, S = grid(land, "sharpness")
    fig, axes = figure(spec, PAGE, 2.7, 1, 3)
    a, b, c = axes
    cs, values = zero_one_regions(a, land)
    a.contour(G0, G1, L, levels=10, colors="k", linewidths=0.4, linestyles="--")
    a.set_title("loss (dashed), 0-1 loss (shades)")
    sm = b.contourf(G0, G1, S, levels=30, cmap="cividis")
    b.contour(G0, G1, S, levels=5, colors="k", linewidths=0.4, linestyles="--")
    fig.colorbar(sm, ax=b, fraction=0.05, pad=0.02, label=r"$\lambda_{\max}(\nabla^2 L)$", format="%.2f")
    b.set_title("sharpness on the plane")
    for ax in (a, b):
        for doc, e, colour in runs:
            g0, g1 = gammas(doc)
            ax.plot(g0, g1, "-o", color=colour, markersize=1.5, linewidth=0.8, label=rf"$\eta = {e}$")
    plane_axes(a)
    plane_axes(b, left=False)
    a.legend(loc="upper left", framealpha=0.9)
    for doc, e, colour in runs:
        c.semilogy(column(doc, "step"), column(doc, "sharpness"), "-o", color=colour, markersize=1.5, label=rf"$\lambda_{{\max}}$, $\eta = {e}$")
        c.axhline(2 / float(e), color=colour, linestyle=":", linewidth=0.8, label=rf"$2/\eta = {2 / float(e):g}$")
    worst = max(max(column(doc, "sharpness_error")) for doc, _, _ in runs)
    c.plot([], [], " ", label=f"error bound <= {worst:.1e}")
    c.set_xlabel("GD step k")
    c.set_ylabel(r"sharpness $\lambda_{\max}$")
    c.set_title(r"along the runs, against $2/\eta$")
    c.legend(loc="lower right", fontsize=6, framealpha=0.9)
    save(fig, spec)


def fig_large_memory(spec):
    d = spec["data"]
    dims, etas = spec["params"]["dims"], spec["params"]["etas"]
    fig, axes = figure(spec, PAGE, 5.8, 3, len(dims), sharex=True)
    for j, dim in enumerate(dims):
        for i, eta in enumerate(etas):
            doc = read(d[f"d{dim}_eta{eta}"])
            k = column(doc, "step")
            colour = OKABE_ITO[[0, 3, 4][i % 3]]
            axes[0, j].semilogy(k, column(doc, "loss"), color=colour, label=rf"$\eta = {eta}$")
            tokens = len([c for c in doc["rows"][0] if c.startswith("m_")])
            for x in range(tokens):
                axes[1, j].plot(k, column(doc, f"m_{x}"), color=colour, linewidth=0.7, alpha=0.85)
            axes[2, j].semilogy(k, column(doc, "eta_sharpness_half"), color=colour)
        axes[0, j].set_title(f"d = {dim}")
        axes[1, j].axhline(0, color="grey", linewidth=0.5)
        axes[2, j].axhline(1, color="grey", linewidth=0.6, linestyle=":")
        axes[2, j].set_xlabel("GD step k")
    axes[0, 0].set_ylabel("loss (nats)")
    axes[1, 0].set_ylabel(r"margins $m_x$ (5 tokens)")
    axes[2, 0].set_ylabel(r"$\eta\,\lambda_{\max}/2$ (> 1: beyond 2/$\eta$)")
    axes[0, 0].legend(loc="lower left", framealpha=0.9)
    save(fig, spec)




def fig_underparameterized(spec):
    d = spec["data"]
    land = read(d["landscape"])
    G0, G1, L = grid(land, "loss")
    sgd = read(d["sgd"])
    fig, (a, b) = figure(spec, PAGE, 3.1, 1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
    cs, values = zero_one_regions(a, land)
    a.contour(G0, G1, L, levels=20, colors="k", linewidths=0.4)
    g0, g1 = gammas(sgd)
    a.plot(g0, g1, "-", color=OKABE_ITO[3], linewidth=0.6, label=f"SGD, batch {spec['params']['batch']}, " + rf"$\eta = {spec['params']['eta']}$")
    a.plot(g0[:1], g1[:1], "o", color=OKABE_ITO[3], markersize=3)
    mini = land["summary"]["minimiser"]
    if mini.get("certified"):
        a.plot([float(mini["gamma_0"])], [float(mini["gamma_1"])], "X", color=OKABE_ITO[4], markersize=7, markeredgecolor="k", markeredgewidth=0.5, linestyle="none", label="cross-entropy minimiser (certified)")
    best = land["summary"]["best_zero_one"]
    r = 0.8 * min(np.max(np.abs(G0)), np.max(np.abs(G1)))
    u = [float(v) for v in best["direction"]]
    a.plot([0, r * u[0]], [0, r * u[1]], ":", color=OKABE_ITO[2], linewidth=1.2)
    a.plot([r * u[0]], [r * u[1]], "*", color=OKABE_ITO[2], markersize=10, markeredgecolor="k", markeredgewidth=0.4, linestyle="none", label=f"best 0-1 loss, {float(best['zero_one_loss']):.3f} (on the whole ray)")
    a.set_xlim(G0.min(), G0.max())
    a.set_ylim(G1.min(), G1.max())
    a.set_aspect("equal")
    plane_axes(a)
    zero_one_colorbar(fig, a, cs, values, fraction=0.05, pad=0.02)
    a.set_title("cross-entropy contours, 0-1 regions")
    k = column(sgd, "step")
    b.plot(k, column(sgd, "loss"), color=OKABE_ITO[3], label="loss")
    b.plot(k, column(sgd, "zero_one_loss"), "--", color=OKABE_ITO[4], label="0-1 loss")
    if mini.get("certified"):
        b.axhline(float(mini["loss_lo"]), color="grey", linestyle=":", linewidth=0.7)
        b.text(k[-1], float(mini["loss_lo"]) + 0.02, "least loss", ha="right", va="bottom", fontsize=6, color="grey")
    b.axhline(float(best["zero_one_loss"]), color=OKABE_ITO[2], linestyle=":", linewidth=0.9)
    b.text(k[-1], float(best["zero_one_loss"]) - 0.02, "best 0-1 loss", ha="right", va="top", fontsize=6, color=OKABE_ITO[2])
    b.set_ylim(bottom=0)
    fig.get_layout_engine().set(wspace=0.12)
    b.set_xlabel("SGD step k")
    b.set_ylabel("full-batch loss (nats) / 0-1 loss")
    b.set_title("along the SGD run")
    b.legend(loc="upper right", framealpha=0.9)
    a.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, frameon=False, fontsize=6)
    save(fig, spec)


# ---------------------------------------------------------------------------------------------
# Figures only amflow makes


def fig_orthogonal(spec):
    d = spec["data"]
    flow = read(d["flow"], exact=True)
    pb = read(d["problem"])
    p = [float(v) for v in pb["frequencies"]["p"]]
    N, M = pb["tokens"], pb["classes"]
    tau = np.array([float(r["tau"]) for r in flow["rows"]])
    keep = tau > 0
    fig, (a, b, c) = figure(spec, PAGE, 2.6, 1, 3)
    lt = np.log10(tau[keep])
    shown = [0, 1, 3, N - 1] if N > 4 else list(range(N))
    colours = [OKABE_ITO[i] for i in (0, 2, 3, 4)]
    for n, x in enumerate(shown):
        colour = colours[n % len(colours)]
        m = np.array([float(r[f"m_{x}"]) for r in flow["rows"]])[keep]
        a.plot(lt, m, color=colour, label=rf"$m_{{{x}}}$, $p = {p[x]:.3f}$")
        a.plot(lt, np.log(p[x] * M * tau[keep]), "--", color=colour, linewidth=0.7)
        # m_x - log(p M tau), from the decimals amflow printed
        with decimal.localcontext() as ctx:
            ctx.prec = 60
            gap = [abs(r[f"m_{x}"] - (decimal.Decimal(pb["frequencies"]["p"][x]) * M * r["tau"]).ln()) for r in flow["rows"] if r["tau"] > 0]
        c.loglog(tau[keep], [float(g) for g in gap], color=colour)
    a.set_xlabel(r"$\log_{10}\tau$")
    a.set_ylabel(r"margin $m_x(\tau)$")
    a.set_title(r"margins; dashed: $\log(p(x) M \tau)$")
    a.legend(loc="upper left", framealpha=0.9, fontsize=6)
    tl = np.array([float(r["tau"] * r["loss"]) for r in flow["rows"]])
    b.semilogx(tau, tl, color=OKABE_ITO[3], label=r"$\tau L(\tau)$")
    b.axhline(N * (M - 1) / M, color="k", linestyle=":", linewidth=0.8, label=rf"$N(M-1)/M = {N * (M - 1) / M:g}$")
    b.set_xlabel(r"$\tau$")
    b.set_ylabel(r"$\tau L(\tau)$")
    b.set_title(r"$\tau L(\tau) \to N(M-1)/M$")
    b.legend(loc="lower right", framealpha=0.9)
    c.set_xlabel(r"$\tau$")
    c.set_ylabel(r"$|m_x(\tau) - \log(p(x) M \tau)|$")
    c.set_title(r"distance to the asymptote")
    save(fig, spec)


def fig_gd_vs_flow(spec):
    d = spec["data"]
    flow = read(d["flow"])
    fig, axes = figure(spec, PAGE, 2.7, 1, 2, sharex=True)
    tau = column(flow, "tau")
    crossing = None
    if "enclose" in d:
        for cr in read(d["enclose"])["meta"].get("crossings", []):
            if cr.get("token") == 1:
                crossing = cr
    for x, ax in enumerate(axes):
        ax.plot(tau, column(flow, f"m_{x}"), color="k", linewidth=1.0, label="gradient flow", zorder=5)
        for i, eta in enumerate(spec["params"]["etas"]):
            doc = read(d[f"gd_eta{eta}"])
            ax.plot(column(doc, "tau"), column(doc, f"m_{x}"), "o-", color=OKABE_ITO[[0, 1, 2][i % 3]], markersize=1.8, linewidth=0.6, label=rf"GD, $\eta = {eta}$")
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.set_xlabel(r"$\tau = \eta k$ (GD), flow time (flow)")
        ax.set_ylabel(rf"margin $m_{x}$")
        ax.set_title(f"token {x} ({'frequent, p = 3/4' if x == 0 else 'rare, p = 1/4'})")
    if crossing is not None:
        lo, hi = float(crossing["lo"]), float(crossing["hi"])
        axes[1].axvline((lo + hi) / 2, color=OKABE_ITO[4], linestyle=":", linewidth=0.9)
        axes[1].text((lo + hi) / 2, axes[1].get_ylim()[1], "certified flow crossing  \n" + rf"$\tau^* = {(lo + hi) / 2:.10g}$" + f" ± {(hi - lo) / 2:.1e}  ", ha="right", va="top", fontsize=6, color=OKABE_ITO[4])
    axes[1].legend(loc="lower right", framealpha=0.9)
    save(fig, spec)


def fig_convergence(spec):
    doc = read(spec["data"]["compare"])
    eta = column(doc, "eta")
    fig, ax = figure(spec, COLUMN, 3.0)
    e1 = column(doc, "max_margin_error")
    e2 = column(doc, "modified_max_margin_error")
    ax.loglog(eta, e1, "o-", color=OKABE_ITO[4], markersize=3, label="GD vs gradient flow")
    ax.loglog(eta, e2, "s-", color=OKABE_ITO[3], markersize=3, label="GD vs modified flow")
    ref = eta[len(eta) // 2]
    ax.loglog(eta, e1[len(eta) // 2] * 2 * (eta / ref), ":", color="grey", linewidth=0.8, label="slope 1")
    ax.loglog(eta, e2[len(eta) // 2] * 2 * (eta / ref) ** 2, "--", color="grey", linewidth=0.8, label="slope 2")
    ax.set_xlabel(r"step size $\eta$")
    ax.set_ylabel(r"$\max_{k,x} |m_x(\mathrm{GD}, k) - m_x(\tau = \eta k)|$")
    ax.legend(loc="upper left", framealpha=0.9)
    save(fig, spec)


def fig_rule_scaling(spec):
    doc = read(spec["data"]["scaling"])
    rules = []
    for r in doc["rows"]:
        if r["rule"] not in rules:
            rules.append(r["rule"])
    fig, axes = figure(spec, PAGE, 3.0, 1, 2)
    for ax, which, label in [(axes[0], "all_classes", "every class"), (axes[1], "mean_loss", "the mean loss")]:
        for i, rule in enumerate(rules):
            rows = [r for r in doc["rows"] if r["rule"] == rule and r["steps_" + which] is not None]
            n = np.array([float(r["N"]) for r in rows])
            k = np.array([float(r["steps_" + which]) for r in rows])
            colour = [OKABE_ITO[4], OKABE_ITO[3], OKABE_ITO[2], OKABE_ITO[5], OKABE_ITO[0]][i % 5]
            marker = "osD^v"[i % 5]
            exponent = doc["summary"].get(f"exponent_{rule}_{which}")
            text = rule if exponent is None else f"{rule}: slope {float(exponent):.2f}"
            ax.loglog(n, k, marker, color=colour, markersize=3.5, label=text)
            if exponent is not None and len(n) > 1:
                e = float(exponent)
                c = np.mean(np.log(k) - e * np.log(n))
                ax.loglog(n, np.exp(c) * n ** e, "-", color=colour, linewidth=0.8)
        ax.set_xlabel("N (tokens = classes = d)")
        ax.set_ylabel(f"steps until {label} is <= {doc['meta']['target']}")
        ax.legend(loc="upper left", framealpha=0.9)
    save(fig, spec)


def fig_precision(spec):
    d = spec["data"]
    ref = read(d["reference"], exact=True)["rows"][-1]
    keys = [k for k in ref if k.startswith("m_")]
    digits, correct, claimed, ratio, seconds = [], [], [], [], []
    with decimal.localcontext() as ctx:
        ctx.prec = 1000
        for D in spec["params"]["digits"]:
            row = read(d[f"digits{D}"], exact=True)["rows"][-1]
            err = max(abs(row[k] - ref[k]) for k in keys)
            est = row.get("margin_error")
            digits.append(int(D))
            correct.append(float(-err.log10()) if err > 0 else float("nan"))
            claimed.append(float(-est.log10()) if est is not None and est > 0 else float("nan"))
            ratio.append(float(err / est) if est is not None and est > 0 else float("nan"))
            seconds.append(spec["timings"][f"digits{D}"])
    fig, (a, r, b) = figure(spec, PAGE, 2.6, 1, 3)
    top = max(digits) * 1.05
    a.plot([0, top], [0, top], ":", color="grey", linewidth=0.8, label="= digits requested")
    a.plot(digits, correct, "o-", color=OKABE_ITO[4], markersize=3, label="correct digits")
    a.plot(digits, claimed, "s--", color=OKABE_ITO[3], markersize=2.5, label="digits the estimate claims")
    a.set_xlabel("digits requested (--digits D)")
    a.set_ylabel(r"$-\log_{10}\max_x |m_x - m_x^{\mathrm{ref}}|$")
    a.set_title(f"margins at tau = {spec['params']['tau']} vs {spec['params']['reference_digits']} digits")
    a.legend(loc="upper left", framealpha=0.9, fontsize=6)
    r.semilogx(digits, ratio, "o-", color=OKABE_ITO[5], markersize=3)
    r.axhline(1, color="grey", linestyle=":", linewidth=0.8)
    r.set_ylim(0, max(2.5, max(x for x in ratio if x == x) * 1.1))
    r.set_xlabel("digits requested (--digits D)")
    r.set_ylabel("actual error / estimated error")
    r.set_title("the error estimate (> 1: optimistic)")
    b.loglog(digits, seconds, "o-", color=OKABE_ITO[2], markersize=3)
    for ax in (r, b):
        ticks = [t for t in (15, 20, 30, 50, 100, 200, 300) if min(digits) <= t <= max(digits)]
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.minorticks_off()
    b.set_xlabel("digits requested (--digits D)")
    b.set_ylabel("wall time per run (s)")
    b.set_title("cost of a run (measured)")
    save(fig, spec)


# The authors' five tokens of their margin figures: np.random.seed(42); np.random.permutation(65)[:5].
def authors_tokens():
    state = np.random.get_state()
    np.random.seed(42)
    tokens = np.random.permutation(65)[:5]
    np.random.set_state(state)
    return [int(t) for t in tokens]


def transformer_rows(path):
    doc = read(path)
    return doc, doc["rows"]


def transformer_margins(ax, rows, key, labels, title):
    steps = [r["epoch"] for r in rows]
    for i, (index, label) in enumerate(labels):
        ax.plot(steps, [float(r[key][index]) for r in rows], color=OKABE_ITO[i % 8], label=label,
                linewidth=0.8)
    ax.axhline(0, color="0.6", linewidth=0.6)
    ax.set_xlabel("step t")
    ax.set_title(title)
    ax.legend(loc="best", framealpha=0.8, fontsize=6, ncol=2, handlelength=1.2, columnspacing=0.8)


def loss_axis(ax):
    """A log-scale loss axis with plain numbers (spikes reach ten times the floor)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def char_label(doc, token):
    chars = {p["id"]: p["char"] for p in doc["meta"]["probe_tokens"]}
    names = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    c = chars.get(token, names[token] if token < len(names) else "?")
    return {"\n": "newline", " ": "space"}.get(c, repr(c))


def fig_transformer_wo2(spec):
    etas = spec["params"]["etas"]
    fig, axes = figure(spec, PAGE, 2.8, 1, 3)
    docs = {}
    for i, eta in enumerate(etas):
        doc, rows = transformer_rows(spec["data"]["eta" + eta])
        docs[eta] = doc
        ratio = rows[0].get("eta_over_threshold")
        label = eta + (f" ({float(ratio):.2f}x)" if ratio is not None else "")
        axes[0].plot([r["epoch"] for r in rows], [float(r["loss"]) for r in rows],
                     color=OKABE_ITO[i % 8], label=label)
    loss_axis(axes[0])
    axes[0].set_xlabel("step t")
    axes[0].set_ylabel("loss (fresh batch)")
    axes[0].legend(loc="center right", framealpha=0.8, fontsize=6, title="eta (x threshold)",
                   title_fontsize=6)
    tokens = authors_tokens()
    for ax, eta in zip(axes[1:], etas[-2:]):
        doc, rows = transformer_rows(spec["data"]["eta" + eta])
        labels = [(t, char_label(doc, t)) for t in tokens]
        transformer_margins(ax, rows, "wo1_margins", labels, f"wo1 margins, eta = {eta}")
    axes[1].set_ylabel("margin m_t(x)")
    save(fig, spec)


def fig_transformer_all(spec):
    etas, dims = spec["params"]["etas"], spec["params"]["dims"]
    fig, axes = figure(spec, PAGE, 2.9, 1, 4)
    for ax, d in zip(axes[:2], dims):
        for i, eta in enumerate(etas):
            doc, rows = transformer_rows(spec["data"][f"d{d}_eta{eta}"])
            ax.plot([r["epoch"] for r in rows], [float(r["loss"]) for r in rows],
                    color=OKABE_ITO[i % 8], label=f"eta = {eta}")
        loss_axis(ax)
        ax.set_xlabel("step t")
        ax.set_title(f"loss, d = {d}")
        ax.legend(loc="upper right", framealpha=0.8, fontsize=6)
    doc, rows = transformer_rows(spec["data"][f"d{dims[-1]}_eta5"])
    labels = [(t, char_label(doc, t)) for t in authors_tokens()]
    transformer_margins(axes[2], rows, "wo1_margins", labels, f"wo1 (d = {dims[-1]}, eta 5)")
    probe = [(i, char_label(doc, p["id"])) for i, p in enumerate(doc["meta"]["probe_tokens"])]
    transformer_margins(axes[3], rows, "wk1_margins", probe, f"wk1 (d = {dims[-1]}, eta 5)")
    save(fig, spec)



FIGURES = {
    "spike": fig_spike,
    "landscapes": fig_landscapes,
    "learning-rates-p0": fig_learning_rates_p0,
    "learning-rates-alpha": fig_learning_rates_alpha,
    "sharpness": fig_sharpness,
    "large-memory": fig_large_memory,
    "underparameterized": fig_underparameterized,
    "orthogonal": fig_orthogonal,
    "gd-vs-flow": fig_gd_vs_flow,
    "convergence": fig_convergence,
    "rule-scaling": fig_rule_scaling,
    "precision": fig_precision,
    "transformer-wo2": fig_transformer_wo2,
    "transformer-all": fig_transformer_all,
}


# ---------------------------------------------------------------------------------------------
# The report page


def cell_text(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def verify_claims_table(doc):
    """One row per claim, as `amflow verify` prints on a terminal: its prediction, the checks
    passed, the worst error against its tolerance, certified or not, the verdict."""
    claims = {}
    for r in doc["rows"]:
        c = claims.setdefault(r["claim"], {"prediction": r.get("prediction", ""), "rows": []})
        c["rows"].append(r)
    out = ['<table class="verify claims"><thead><tr>']
    out += [f"<th>{h}</th>" for h in ("prediction", "claim", "checks passed", "worst error / tolerance", "certified", "status")]
    out.append("</tr></thead><tbody>")
    for name, c in claims.items():
        rows = c["rows"]
        passed = sum(1 for r in rows if r.get("status") == "PASS")
        status = "PASS" if passed == len(rows) else "FAIL"
        ratios = [float(r["error"]) / float(r["tolerance"]) for r in rows
                  if isinstance(r.get("error"), (int, float)) and isinstance(r.get("tolerance"), (int, float)) and float(r["tolerance"]) > 0]
        worst = max(ratios) if ratios else None
        kinds = sorted({str(r.get("certified", "")) for r in rows})
        certified = kinds[0] if len(kinds) == 1 else "part"
        out.append(f'<tr class="{status.lower()}">')
        out.append(f"<td>{html.escape(str(c['prediction']))}</td><td>{html.escape(name)}</td>")
        out.append(f'<td class="num">{passed}/{len(rows)}</td>')
        out.append(f'<td class="num">{"-" if worst is None else f"{worst:.2g}"}</td>')
        out.append(f"<td>{html.escape(certified)}</td><td class=\"status\">{status}</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def verify_table(doc):
    rows = doc["rows"]
    cols = list(rows[0].keys()) if rows else []
    # The verdict next to the claim's name, every other column after them in amflow's order.
    first = [c for c in ("claim", "status", "certified", "prediction") if c in cols]
    cols = first + [c for c in cols if c not in first]
    out = ['<table class="verify"><thead><tr>']
    out += [f"<th>{html.escape(c)}</th>" for c in cols]
    out.append("</tr></thead><tbody>")
    for r in rows:
        status = str(r.get("status", ""))
        out.append(f'<tr class="{html.escape(status.lower())}">')
        for c in cols:
            text = html.escape(cell_text(r[c]))
            if c == "status":
                cls = ' class="status"'
            elif isinstance(r[c], (int, float)) and not isinstance(r[c], bool):
                cls = ' class="num"'
            elif c in ("setting", "note"):
                cls = f' class="{c}"'
            else:
                cls = ""
            out.append(f"<td{cls}>{text}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; max-width: 1500px; margin: 2em auto;
       padding: 0 1em; color: #1b1b1b; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
p.lead { color: #444; }
table.verify { border-collapse: collapse; font-size: 11px; width: 100%; }
table.verify td.num { white-space: nowrap; font-family: ui-monospace, 'DejaVu Sans Mono', monospace; }
table.verify td.setting { min-width: 14em; } table.verify td.note { min-width: 24em; }
table.verify th, table.verify td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; }
table.verify th { background: #f0f0f0; position: sticky; top: 0; }
table.verify td { overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
table.claims { width: auto; font-size: 13px; }
details summary { cursor: pointer; margin: 1em 0; }
tr.pass td.status { background: #cfe8ff; color: #003a70; font-weight: bold; }
tr.fail td.status { background: #ffd9b3; color: #7a2e00; font-weight: bold; }
tr.fail td { background: #fff4ea; }
.summary { margin: 0.5em 0 1em; font-weight: bold; }
.summary .pass { color: #0072B2; } .summary .fail { color: #D55E00; }
figure { margin: 2em 0; max-width: 1200px; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 14px; color: #333; }
figcaption pre { background: #f6f6f6; padding: 0.5em; overflow-x: auto; font-size: 12px; white-space: pre-wrap; }
nav a { margin-right: 0.8em; }
"""


def index(out_dir, search):
    """index.html in out_dir: verify's verdict in one line, every figure whose NAME.json is found in
    the search directories (the first directory wins) in the order of FIGURES, then verify's claims
    (one row each) with every check folded below them."""
    specs = []
    for name in FIGURES:
        for folder in search:
            path = os.path.join(folder, name + ".json")
            if os.path.exists(path):
                with open(path) as f:
                    specs.append(json.load(f))
                break
    verify = None
    for folder in search:
        path = os.path.join(folder, "data", "verify.json")
        if os.path.exists(path):
            verify = read(path)
            break
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>amflow report</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>amflow report</h1>",
        '<p class="lead">Training dynamics of linear associative memories with cross-entropy '
        "(Cabannes, Simsek, Bietti, ICML 2024), computed by amflow at high precision. Every figure is "
        "drawn from amflow's own output files in <code>data/</code>; each caption gives the "
        "problem, the precision and the exact commands (run them from this directory to get the "
        "same numbers).</p>",
    ]
    claims = passed = failed = 0
    if verify is not None:
        rows = verify["rows"]
        names = {r["claim"] for r in rows}
        bad = {r["claim"] for r in rows if r.get("status") != "PASS"}
        claims, failed = len(names), len(bad)
        passed = claims - failed
        parts.append(
            f'<p class="summary"><a href="#verify">The paper\'s predictions</a>: '
            f'<span class="pass">{passed} PASS</span>, <span class="fail">{failed} FAIL</span> of '
            f"{claims} claims ({len(rows)} checks).</p>"
        )
    parts.append("<nav>" + "".join(f'<a href="#{html.escape(s["name"])}">{html.escape(s["name"])}</a>' for s in specs)
                 + '<a href="#verify">verify</a></nav>')
    parts.append("<h2>Figures</h2>")
    for s in specs:
        name = html.escape(s["name"])
        cmds = html.escape("\n".join(s["commands"]))
        parts.append(
            f'<figure id="{name}"><a href="{name}.pdf"><img src="{name}.png" alt="{html.escape(s["title"])}"></a>'
            f"<figcaption><p><b>{name}.</b> {html.escape(s['caption'])}</p>"
            f"<p><b>Problem:</b> {html.escape(s['problem'])}. <b>Precision:</b> {html.escape(s['precision'])}.</p>"
            f"<p><b>Commands</b> (data in <code>data/</code>, {s['seconds']:.1f} s):</p><pre>{cmds}</pre>"
            "</figcaption></figure>"
        )
    parts.append('<h2 id="verify">The paper\'s predictions: <code>amflow verify</code></h2>')
    if verify is not None:
        parts.append(
            f'<p class="summary"><span class="pass">{passed} PASS</span>, '
            f'<span class="fail">{failed} FAIL</span> of {claims} claims '
            f"({html.escape(str(verify['meta'].get('scalar', '')))}, "
            f"{html.escape(str(verify['meta'].get('digits', '')))} digits). "
            "Column <code>certified</code>: exact (rational arithmetic), ball (a certified "
            "enclosure), no (an estimate at the working precision) or part (some checks of each); "
            "the worst error is the largest ratio of a check's error to its tolerance (below 1 "
            "passes).</p>"
        )
        parts.append(verify_claims_table(verify))
        parts.append(
            f"<details><summary>Every check ({len(verify['rows'])}), with its setting and note "
            "(numbers rounded to six digits for reading; <code>data/verify.json</code> has every "
            "digit)</summary>"
            '<div style="overflow-x:auto">' + verify_table(verify) + "</div></details>"
        )
        parts.append("<p>Command: <code>amflow verify --format json --output data/verify.json</code></p>")
    else:
        parts.append("<p>No verification table in this directory.</p>")
    parts.append("</body></html>\n")
    with open(os.path.join(out_dir, "index.html"), "w") as f:
        f.write("\n".join(parts))


def main(argv):
    if len(argv) >= 3 and argv[1] == "figure":
        with open(argv[2]) as f:
            spec = json.load(f)
        if spec["name"] not in FIGURES:
            sys.exit(f"amflow_plots: unknown figure {spec['name']}")
        FIGURES[spec["name"]](spec)
        return
    if len(argv) == 2 and argv[1] == "serve":
        # One figure per line of standard input (NAME: NAME.json is its spec), drawn as it comes;
        # "drawn NAME SECONDS" per figure; exit 1 after the input ends if any figure failed.
        failed = []
        for line in sys.stdin:
            name = line.strip()
            if not name:
                continue
            start = time.perf_counter()
            try:
                with open(name + ".json") as f:
                    spec = json.load(f)
                FIGURES[spec["name"]](spec)
                plt.close("all")
                print(f"drawn {name} {time.perf_counter() - start:.2f}", flush=True)
            except Exception:
                traceback.print_exc()
                print(f"failed {name}", flush=True)
                failed.append(name)
        if failed:
            sys.exit(f"amflow_plots: failed: {', '.join(failed)}")
        return
    if len(argv) >= 3 and argv[1] == "index":
        index(argv[2], argv[2:])
        return
    if len(argv) == 2 and argv[1] == "list":
        print("\n".join(FIGURES))
        return
    sys.exit("usage: amflow_plots.py figure NAME.json | serve | index DIR [DIR...] | list")


if __name__ == "__main__":
    main(sys.argv)
