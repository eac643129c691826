// The figure registry (analysis/figures.hpp): one function per figure of the report.
#include "analysis/figures.hpp"

#include <filesystem>
#include <sstream>

#include "amflow/io/problem_io.hpp"

namespace amflow::analysis {

// A namespace of its own: the library is one unity unit, where anonymous namespaces merge.
namespace figure_set {

using json = nlohmann::json;

// What every figure's runs share: the digits of the runs drawn as curves, the caption's note
// under --quick and the grids' sizes.
struct figure_context {
  bool quick = false;
  std::string hp;    // the digits of the runs drawn as curves
  std::string note;  // appended to every caption under --quick
  std::string pts(const std::string& a, const std::string& b, int full, int small) const {
    return "linspace:" + a + ":" + b + ":" + std::to_string(quick ? small : full);
  }
};

std::string digits_label(const std::string& d) {
  if (d == "15") return "double (15 digits)";
  return d + " digits (MPFR)";
}

figure_run run(std::string key, std::vector<std::string> args, std::string file) {
  args.push_back("--format");
  args.push_back("json");
  return {std::move(key), std::move(args), "data/" + std::move(file), false};
}

// The authors' spike experiment.
figure_def spike(const figure_context& c) {
  figure_def f;
  f.name = "spike";
  f.title = "Benign loss spikes: pair problem, alpha = 0.95, p0 = 3/4, GD from W = 0, " + c.hp +
            " digits";
  f.caption =
      "The authors' spike experiment (their exp_spike_2d.py) at " + c.hp +
      " digits. Left: the GD iterates W_k for eta = 10 and eta = 1 in the plane gamma_i = "
      "W[0,i] - W[1,i] (the authors' gamma, their W being our transpose), on the loss's "
      "contours (dashed) with the 0-1 loss's regions shaded. Right: loss and 0-1 loss per "
      "step. At eta = 10 the loss rises above its initial value log 2 in the first steps "
      "(spikes), yet every token is classified correctly within a few steps; at eta = 1 the "
      "rare token is still misclassified after 35 steps (P8)." +
      c.note;
  f.problem = "pair: two tokens, <e_0, e_1> = 0.95, p = (3/4, 1/4), U = I_2, W0 = 0";
  f.precision = "GD at " + digits_label(c.hp) +
                ", rounding only; landscape in double (contours and regions only)";
  for (const std::string eta : {"10", "1"}) {
    f.runs.push_back(run(
        "gd_eta" + eta,
        {"gd", "--problem", "pair", "--eta", eta, "--steps", "35", "--weights", "--digits", c.hp},
        "spike-gd-eta" + eta + ".json"));
  }
  f.runs.push_back(run("landscape",
                       {"landscape", "--problem", "pair", "--gamma0", c.pts("-1", "8", 121, 37),
                        "--gamma1", c.pts("-17", "10", 181, 55)},
                       "spike-landscape.json"));
  return f;
}

// The authors' landscapes.
figure_def landscapes(const figure_context& c) {
  figure_def f;
  f.name = "landscapes";
  f.title =
      "Loss landscapes of the pair problem (p0 = 3/4): negative, positive and spike "
      "settings, close and far, double";
  f.caption =
      "The authors' landscapes (exp_landscape_2d.py): the loss's contours (solid) and the 0-1 "
      "loss's regions on the plane gamma_i = W[0,i] - W[1,i] for <e_0, e_1> = alpha = -0.5, "
      "0.5 and 0.95, close to the origin (|gamma| <= 1, top) and far from it (|gamma| <= 10, "
      "bottom). With alpha = 0.95 the loss's valley bends away from the region where both "
      "tokens are right." +
      c.note;
  f.problem = "pair with inputs.alpha = -0.5, 0.5, 0.95; p = (3/4, 1/4), U = I_2";
  f.precision = "double (15 digits), rounding only";
  const std::vector<std::string> alphas = {"-0.5", "0.5", "0.95"};
  f.params["alphas"] = alphas;
  for (const std::string& a : alphas) {
    const std::string file = "data/pair-alpha_" + a + ".json";
    f.problems.push_back({file, "pair", {{"inputs.alpha", a}}, "the pair with alpha = " + a});
    for (const auto& [reach, lim] : {std::pair{"close", "1"}, std::pair{"far", "10"}}) {
      const std::string m = std::string("-") + lim;
      f.runs.push_back(run("alpha" + a + "_" + reach,
                           {"landscape", file, "--gamma0", c.pts(m, lim, 101, 31), "--gamma1",
                            c.pts(m, lim, 101, 31)},
                           "landscape-alpha_" + a + "-" + reach + ".json"));
    }
  }
  return f;
}

// The authors' learning-rate phase diagrams: two figures of one sweep.
std::vector<figure_def> learning_rates(const figure_context& c) {
  std::vector<figure_def> figs;
  std::vector<std::string> args = {"sweep",
                                   "--problem",
                                   "pair",
                                   "--grid",
                                   "p0_logit=logspace:-0.5:0.5:10",
                                   "--grid",
                                   "alpha=linspace:0.5:1:10",
                                   "--grid",
                                   "eta=logspace:-1:1:10",
                                   "--steps",
                                   "1000"};
  if (!c.quick) args.push_back("--certify");
  const std::string how =
      c.quick ? "double (15 digits)"
              : "double, each cell's first perfect step also certified in ball arithmetic "
                "(Arb) from the exact data (sweep --certify; the title counts the cells whose "
                "certified value agrees)";
  for (const std::string by : {"p0", "alpha"}) {
    figure_def f;
    f.name = "learning-rates-" + by;
    f.title = std::string(by == "p0" ? "First perfect step over (alpha, eta), one panel per "
                                       "p0: pair problem, 1000 GD steps, "
                                     : "First perfect step over (log(p0/p1), eta), one panel "
                                       "per alpha: pair problem, 1000 GD steps, ") +
              (c.quick ? "double" : "double and ball arithmetic");
    f.caption =
        "The authors' learning-rate experiment (exp_learning_rates.py): the first GD step at "
        "which both tokens are classified correctly, from W = 0, over the 1000-cell grid p0 = "
        "sigmoid(10^(-0.5 + i/9)), alpha = linspace(0.5, 1, 10), eta = logspace(-1, 1, 10) "
        "(colour, log scale; vermilion cells never reach it in 1000 steps). " +
        std::string(by == "p0" ? "One panel per p0, over (alpha, eta). (The authors' script "
                                 "draws the first p0's data in every panel.)"
                               : "One panel per alpha, over (log(p0/p1), eta).") +
        " Larger steps reach perfect accuracy sooner, except where the rare token is pushed "
        "back (large alpha and p0)." +
        c.note;
    f.problem = "pair: <e_0, e_1> = alpha, p = (p0, 1 - p0), U = I_2, W0 = 0";
    f.precision = how;
    f.params["steps"] = 1000;
    figure_run r = run("sweep", args, "learning-rates.json");
    f.runs.push_back(r);
    figs.push_back(f);
  }
  return figs;
}

// The authors' sharpness figure, on the under-parameterised problem.
figure_def sharpness(const figure_context& c) {
  figure_def f;
  f.name = "sharpness";
  f.title =
      "Sharpness: underparameterized (d = 2, N = 3), GD from gamma = (-5, -5), " + c.hp + " digits";
  f.caption =
      "The authors' sharpness figure (exp_sharpness_2d.py) on amflow's under-parameterised "
      "problem: GD at eta = 10 and eta = 1 from gamma = (-5, -5) on the loss and 0-1 "
      "landscape (left) and on the landscape of the Hessian's largest eigenvalue (middle); "
      "right: the sharpness along both runs against 2/eta. eta = 10 is above eta_c = 2 / "
      "lambda_max(H(W*)) = 6.2511 (certified by amflow verify's step-size-threshold), so GD "
      "does not settle at the minimiser; eta = 1 does." +
      c.note;
  f.problem =
      "underparameterized (d = 2, N = 3 embeddings at 0, 30, 60 degrees, labels x mod 2, p = "
      "(6, 3, 2)/11, U = I_2) from W0 = (u_0 - u_1) (-5, -5)^T / 2";
  f.precision = "GD at " + digits_label(c.hp) +
                " (the sharpness's error bound, column sharpness_error: its largest value "
                "is in the right panel's legend); landscape in double";
  const std::string file = "data/underparameterized-from-5-5.json";
  f.problems.push_back(
      {file,
       "underparameterized",
       {{"init",
         {{"kind", "explicit"},
          {"W", json::array({json::array({"-5/2", "-5/2"}), json::array({"5/2", "5/2"})})}}}},
       "the under-parameterised problem from gamma = (-5, -5)"});
  f.params["etas"] = {"10", "1"};
  for (const std::string eta : {"10", "1"}) {
    f.runs.push_back(run(
        "gd_eta" + eta,
        {"gd", file, "--eta", eta, "--steps", "35", "--sharpness", "--weights", "--digits", c.hp},
        "sharpness-gd-eta" + eta + ".json"));
  }
  f.runs.push_back(run("landscape",
                       {"landscape", file, "--gamma0", c.pts("-10", "10", 101, 31), "--gamma1",
                        c.pts("-10", "10", 101, 31), "--sharpness"},
                       "sharpness-landscape.json"));
  return f;
}

// The authors' large-memory experiment.
figure_def large_memory(const figure_context& c) {
  figure_def f;
  f.name = "large-memory";
  f.title =
      "Large memory: N = M = 5, random unit embeddings, Zipf(1), GD from 0, " + c.hp + " digits";
  f.caption =
      "The authors' large-memory experiment (exp_large_memory.ipynb): N = M = 5 tokens and "
      "classes, input and output embeddings uniform on the unit sphere of R^d (seeds 1 and 2), "
      "Zipf(1) frequencies, 100 GD steps from W = 0 at eta = 3, 10 and 20, for d = 3 (fewer "
      "dimensions than tokens), 5 and 10. Rows: the loss, the five margins, and eta * "
      "lambda_max / 2 (above 1, the dotted line, the step is beyond the local stability "
      "limit 2/lambda_max)." +
      c.note;
  f.problem = "large-memory with dim = 3, 5, 10 (inputs sphere seed 1, outputs sphere seed 2)";
  f.precision = "GD at " + digits_label(c.hp) + ", rounding only; sharpness with its error bound";
  const std::vector<int> dims = {3, 5, 10};
  const std::vector<std::string> etas = {"3", "10", "20"};
  f.params["dims"] = dims;
  f.params["etas"] = etas;
  for (int d : dims) {
    const std::string ds = std::to_string(d);
    const std::string file = "data/large-memory-d" + ds + ".json";
    f.problems.push_back({file, "large-memory", {{"dim", d}}, "large-memory with dim = " + ds});
    for (const std::string& eta : etas) {
      f.runs.push_back(run("d" + ds + "_eta" + eta,
                           {"gd", file, "--eta", eta, "--steps", "100", "--sharpness", "--digits",
                            c.quick ? "15" : c.hp},
                           "large-memory-d" + ds + "-eta" + eta + ".json"));
    }
  }

  return f;
}

// The authors' under-parameterised example.
figure_def underparameterized(const figure_context& c) {
  figure_def f;
  f.name = "underparameterized";
  f.title =
      "Under-parameterised memory (d = 2 < N = 3): cross-entropy vs 0-1 loss, SGD "
      "(batch 10), " +
      (c.quick ? std::string("double") : c.hp + " digits");
  f.caption =
      "The authors' under-parameterised example (exp_forgetting_2d.py) on amflow's "
      "under-parameterised problem. Left: the cross-entropy's contours and the 0-1 loss's "
      "regions on the plane gamma_i = W[0,i] - W[1,i]; the cross-entropy minimiser (certified "
      "by the Krawczyk operator) lies in a region of 0-1 loss above the best one (star: the "
      "best region, along the dotted ray); an SGD run (batch 10, eta = 0.1, from gamma = (7.5, "
      "2.5)) drifts to the minimiser and so forgets the better classifier. Right: the "
      "full-batch loss and 0-1 loss along the SGD run (P9)." +
      c.note;
  f.problem =
      "underparameterized (d = 2, N = 3 embeddings at 0, 30, 60 degrees, labels x mod 2, p = "
      "(6, 3, 2)/11, U = I_2), W0 = (u_0 - u_1) (7.5, 2.5)^T / 2";
  f.precision = "SGD at " + digits_label(c.quick ? "15" : c.hp) +
                " (seed 1; the same batches at every precision); landscape in double; the "
                "minimiser certified (ball arithmetic)";
  const std::string file = "data/underparameterized-from-7.5-2.5.json";
  f.problems.push_back(
      {file,
       "underparameterized",
       {{"init",
         {{"kind", "explicit"},
          {"W", json::array({json::array({"15/4", "5/4"}), json::array({"-15/4", "-5/4"})})}}}},
       "the under-parameterised problem from gamma = (7.5, 2.5)"});
  f.params["batch"] = 10;
  f.params["eta"] = "0.1";
  f.runs.push_back(run("sgd",
                       {"gd", file, "--eta", "0.1", "--batch", "10", "--seed", "1", "--steps",
                        c.quick ? "300" : "1000", "--weights", "--digits", c.quick ? "15" : c.hp},
                       "underparameterized-sgd.json"));
  f.runs.push_back(run("landscape",
                       {"landscape", file, "--gamma0", c.pts("-10", "10", 121, 41), "--gamma1",
                        c.pts("-10", "10", 121, 41)},
                       "underparameterized-landscape.json"));
  return f;
}

// Amflow's own: the orthogonal flow far in time.
figure_def orthogonal(const figure_context& c) {
  figure_def f;
  f.name = "orthogonal";
  const std::string t_end = c.quick ? "6" : "15";
  f.title = "Orthogonal Zipf memory (N = M = d = 10): gradient flow to tau = 1e" + t_end + ", " +
            c.hp + " digits";
  f.caption =
      "Only amflow: the gradient flow of the orthogonal problem with Zipf(1) frequencies "
      "integrated to tau = 1e" +
      t_end + " at " + c.hp +
      " digits (Taylor stepper in log time). Left: four margins against log10 tau with the "
      "predicted asymptotes log(p(x) M tau) (P2). Middle: tau L(tau) tends to N (M - 1) / M = "
      "9 whatever the frequencies (P3). Right: the distance to the asymptote, |m_x - log(p(x) "
      "M tau)|, shrinking like log(tau) / tau; computed from the printed digits." +
      c.note;
  f.problem =
      "zipf-orthogonal: N = M = d = 10, orthonormal embeddings, p(x) proportional to "
      "1/(x+1), W0 = 0";
  f.precision =
      digits_label(c.hp) + "; the flow's own error estimate is in the data (margin_error)";
  f.runs.push_back({"problem",
                    {"problem", "show", "zipf-orthogonal", "--resolved", "--digits", c.hp},
                    "data/zipf-orthogonal-resolved.json",
                    false});
  f.runs.push_back(run("flow",
                       {"flow", "--problem", "zipf-orthogonal", "--digits", c.hp, "--times",
                        "logspace:-2:" + t_end + ":" + (c.quick ? "33" : "171")},
                       "orthogonal-flow.json"));
  return f;
}

// Amflow's own: GD against the flow.
figure_def gd_vs_flow(const figure_context& c) {
  figure_def f;
  f.name = "gd-vs-flow";
  f.title = "GD at several step sizes against the gradient flow at tau = eta k: pair problem, " +
            c.hp + " digits";
  f.caption =
      "Only amflow: GD at eta = 0.5, 2 and 8 plotted at the matched time tau = eta k on the "
      "gradient flow's margins (black), for the frequent token (left) and the rare token "
      "(right) of the pair problem. The rare token's margin first goes negative (it is pushed "
      "to the wrong side, P7) and recovers at the flow's crossing time tau*, which amflow "
      "enclose certifies (dotted line; the bracket is in the data). Small steps follow the "
      "flow; eta = 8 oscillates around it." +
      c.note;
  f.problem = "pair: <e_0, e_1> = 0.95, p = (3/4, 1/4), U = I_2, W0 = 0";
  f.precision = digits_label(c.hp) +
                " (GD rounding only; the flow with its error estimate in the data); tau* "
                "certified in ball arithmetic";
  const std::vector<std::pair<std::string, std::string>> etas = {
      {"0.5", "160"}, {"2", "40"}, {"8", "10"}};
  f.params["etas"] = {"0.5", "2", "8"};
  f.runs.push_back(run(
      "flow", {"flow", "--problem", "pair", "--digits", c.hp, "--times", c.pts("0", "80", 401, 81)},
      "gd-vs-flow-flow.json"));
  for (const auto& [eta, steps] : etas) {
    f.runs.push_back(
        run("gd_eta" + eta,
            {"gd", "--problem", "pair", "--eta", eta, "--steps", steps, "--digits", c.hp},
            "gd-vs-flow-gd-eta" + eta + ".json"));
  }
  f.runs.push_back(
      run("enclose",
          {"enclose", "--problem", "pair", "--times", "list:80", "--crossings", "--digits", c.hp},
          "gd-vs-flow-enclose.json"));
  return f;
}

// Amflow's own: the convergence rate of GD to the flow and to the modified flow.
figure_def convergence(const figure_context& c) {
  figure_def f;
  f.name = "convergence";
  f.title = "GD to flow: error against eta (pair problem, tau <= 4, " + c.hp + " digits)";
  f.caption =
      "Only amflow (amflow compare): the largest margin error of GD at step eta against the "
      "gradient flow at tau = eta k <= 4 falls like eta (slope 1), against the modified flow "
      "dW/dtau = -grad(L + eta/4 |grad L|^2) like eta^2 (slope 2) (P10); the references are "
      "integrated to far below the errors shown (their own error is in the data)." +
      c.note;
  f.problem = "pair: <e_0, e_1> = 0.95, p = (3/4, 1/4), U = I_2, W0 = 0";
  f.precision = digits_label(c.hp);
  f.runs.push_back(
      run("compare",
          {"compare", "--problem", "pair", "--etas",
           c.quick ? "logspace:-2:0:5" : "logspace:-3:0:13", "--t-end", "4", "--digits", c.hp},
          "convergence-compare.json"));
  return f;
}

// Beyond the paper: update rules as the vocabulary grows.
figure_def rule_scaling(const figure_context& c) {
  figure_def f;
  f.name = "rule-scaling";
  const std::string sizes = c.quick ? "list:10,20,50,100" : "list:10,20,50,100,200,500,1000";
  f.title =
      "Steps to a loss of 0.1 as the vocabulary grows: GD, sign descent and Adam (Zipf(1), "
      "orthonormal axis embeddings, eta = 0.1)";
  f.caption =
      "Beyond the paper (how the rules scale with the vocabulary): N tokens and classes with "
      "Zipf(1) frequencies, E = U "
      "= I (d = N), W0 = 0, every rule at eta = 0.1 (Adam: betas 0.9, 0.999, epsilon 1e-8, bias "
      "correction). Left: the steps until every class's loss l_x = log(1 + (N - 1) e^-m_x) is "
      "at most 0.1; right: until the mean loss is. Lines: least-squares power laws with their "
      "exponents (standard errors in the data). GD's count follows 1 / p(N - 1) = N H_N (an "
      "exponent a little above 1 over this range); sign descent moves every margin by 2 eta a "
      "step whatever p, so its count grows like log N; Adam starts as sign descent and stays "
      "near it. Exact reduced runs (two numbers per column of W), held to the full memory in "
      "the tests." +
      c.note;
  f.problem = "N = M = d, E = U = I, f*(x) = x, p(x) ~ 1 / (x + 1), W0 = 0";
  f.precision = "double (15 digits); step counts exact for the computation, exponents estimated";
  f.runs.push_back(run(
      "scaling",
      {"scaling", "--rules", "gd,sign,adam", "--sizes", sizes, "--eta", "0.1", "--target", "0.1"},
      "rule-scaling.json"));
  return f;
}

// Amflow's own: what precision costs.
figure_def precision(const figure_context& c) {
  figure_def f;
  f.name = "precision";
  const std::vector<std::string> digits =
      c.quick ? std::vector<std::string>{"15", "18", "33", "50"}
              : std::vector<std::string>{"15", "18", "20",  "25",  "30",  "33",  "40",
                                         "50", "70", "100", "150", "200", "250", "300"};
  const std::string reference = c.quick ? "80" : "360";
  f.title = "Precision: correct digits and time of the gradient flow (pair problem, tau = 100), " +
            digits.front() + " to " + digits.back() + " digits against " + reference;
  f.caption =
      "Only amflow: the gradient flow of the pair problem to tau = 100 at D = " + digits.front() +
      " to " + digits.back() +
      " digits (default tolerance 10^-(0.85 D)), "
      "each compared with a run at " +
      reference +
      " digits. Left: the digits that are correct (dots) and those the flow's own error "
      "estimate (|run - rerun at a higher precision and tolerance / 1000|) claims (squares). "
      "Middle: the actual "
      "error over the estimated one; above 1 the estimate is optimistic. Right: the wall "
      "time of each run (one process, measured by amflow figures: the only numbers on this "
      "page that change from run to run)." +
      c.note;
  f.problem = "pair: <e_0, e_1> = 0.95, p = (3/4, 1/4), U = I_2, W0 = 0";
  f.precision =
      digits.front() + " to " + digits.back() + " digits, reference at " + reference + " digits";
  f.params["digits"] = digits;
  f.params["tau"] = "100";
  f.params["reference_digits"] = reference;
  for (const std::string& d : digits) {
    f.runs.push_back(run("digits" + d,
                         {"flow", "--problem", "pair", "--digits", d, "--times", "list:100"},
                         "precision-digits" + d + ".json"));
  }
  f.runs.push_back(run("reference",
                       {"flow", "--problem", "pair", "--digits", reference, "--times", "list:100"},
                       "precision-reference.json"));
  return f;
}

// The paper's small Transformer, W_O^2 only.
figure_def transformer_wo2(const figure_context& c) {
  figure_def f;
  f.name = "transformer-wo2";
  // Full: the authors' W_O^2-only runs (d = 64, B = 512, 50 steps); --quick: a small model.
  const std::vector<std::string> size =
      c.quick ? std::vector<std::string>{"--dim", "16", "--length", "64", "--batch", "32"}
              : std::vector<std::string>{"--dim", "64", "--length", "256", "--batch", "512"};
  const std::string steps = c.quick ? "20" : "50";
  const std::vector<std::string> etas = c.quick
                                            ? std::vector<std::string>{"10", "25", "50", "100"}
                                            : std::vector<std::string>{"20", "50", "100", "200"};
  f.title =
      "The small Transformer, W_O^2 only: loss and margins for eta = " + etas[0] + " to " + etas[3];
  f.caption =
      "The paper's two-layer attention-only Transformer on in-context bigrams (tiny "
      "Shakespeare), only W_O^2 trained by plain SGD (amflow transformer --train wo2, float32, "
      "one fresh batch per step). Left: the loss per step for the authors' step sizes; the "
      "legend gives eta / threshold at the start (the threshold 2 / sharpness of the W_O^2 "
      "block on the first batch). Middle and right: the wo1 margins m_t(x) = s_x[x] - max_{y "
      "!= x} s_x[y], s_x = W_U W_O^2 W_V^2 e_x, of the authors' five tokens (their "
      "np.random.seed(42) permutation) at the two largest step sizes: beyond the threshold the "
      "loss spikes and the margins oscillate, yet they grow faster." +
      c.note;
  f.problem = "N = 65 characters, k = 5 triggers, d = " + size[1] + ", T = " + size[3] +
              ", B = " + size[5] + ", seed 0";
  f.precision =
      "float32 (the authors' precision), rounding only (docs/transformer.md: W_O^2-only "
      "runs stay within 1e-4 of a 50-digit run)";
  for (const std::string& eta : etas) {
    std::vector<std::string> args = {"transformer", "--train", "wo2", "--eta",
                                     eta,           "--steps", steps, "--sharpness-every",
                                     steps};
    args.insert(args.end(), size.begin(), size.end());
    f.runs.push_back(run("eta" + eta, args, "transformer-wo2-eta" + eta + ".json"));
  }
  f.params = {{"etas", etas}};
  return f;
}

// The paper's small Transformer, W_K^1, W_K^2 and W_O^2.
figure_def transformer_all(const figure_context& c) {
  figure_def f;
  f.name = "transformer-all";
  const std::vector<std::string> dims =
      c.quick ? std::vector<std::string>{"8", "16"} : std::vector<std::string>{"64", "128"};
  const std::vector<std::string> size =
      c.quick ? std::vector<std::string>{"--length", "64", "--batch", "32"}
              : std::vector<std::string>{"--length", "256", "--batch", "256"};
  const std::string steps = c.quick ? "30" : "150";
  const std::vector<std::string> etas = {"2", "5", "10", "20"};
  f.title =
      "The small Transformer, W_K^1, W_K^2 and W_O^2 trained: d = " + dims[0] + " and " + dims[1];
  f.caption =
      "The same model with both key matrices and W_O^2 trained (amflow transformer --train "
      "all, float32, B = " +
      size[3] + ", " + steps + " steps). Left two: the loss per step at d = " + dims[0] +
      " and d = " + dims[1] + " for the authors' step sizes. Right two, at d = " + dims[1] +
      " and eta = 5: the wo1 margins of the authors' five tokens and the wk1 margins of the "
      "five triggers (W_K^2's memory, in the probe's units): when every wk1 margin is "
      "positive, the induction head has formed and the loss falls below the bigram level. "
      "Larger steps overshoot in the first steps and lock W_K^2 in with wrong signs." +
      c.note;
  f.problem = "N = 65 characters, k = 5 triggers, T = " + size[1] + ", seed 0";
  f.precision =
      "float32, rounding only (with the key matrices trained the dynamics amplifies "
      "rounding: docs/transformer.md)";
  for (const std::string& d : dims) {
    for (const std::string& eta : etas) {
      std::vector<std::string> args = {
          "transformer", "--train",           "all", "--dim", d, "--eta", eta, "--steps",
          steps,         "--sharpness-every", steps};
      args.insert(args.end(), size.begin(), size.end());
      f.runs.push_back(
          run("d" + d + "_eta" + eta, args, "transformer-all-d" + d + "-eta" + eta + ".json"));
    }
  }
  f.params = {{"etas", etas}, {"dims", dims}};
  return f;
}

}  // namespace figure_set

std::vector<figure_def> figure_registry(bool quick) {
  using namespace figure_set;
  figure_context c;
  c.quick = quick;
  c.hp = quick ? "20" : "30";
  c.note = quick ? " (--quick: a reduced run of this experiment for a smoke test: coarser grids, "
                   "shorter horizons, fewer digits)"
                 : "";
  std::vector<figure_def> figs = {spike(c), landscapes(c)};
  for (figure_def& f : learning_rates(c)) figs.push_back(std::move(f));
  for (auto make : {sharpness, large_memory, underparameterized, orthogonal, gd_vs_flow,
                    convergence, rule_scaling, precision, transformer_wo2, transformer_all}) {
    figs.push_back(make(c));
  }
  return figs;
}

nlohmann::json figure_problem_json(const figure_problem& p) {
  nlohmann::json pb = io::named_problem(p.base);
  for (const auto& [path, value] : p.fields) {  // the registry's own paths, all existing
    nlohmann::json* node = &pb;
    std::stringstream ss(path);
    std::string key;
    while (std::getline(ss, key, '.')) node = &node->at(key);
    *node = value;
  }
  pb["name"] = std::filesystem::path(p.file).stem().string();
  pb["description"] = p.description;
  return pb;
}

namespace figure_set {

std::string shell_word(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_./:=,+-") == std::string::npos) {
    return s;
  }
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

}  // namespace figure_set

std::string figure_command(const figure_run& r) {
  std::string s = "amflow";
  for (const std::string& a : r.args) s.append(" ").append(figure_set::shell_word(a));
  return s.append(" --output ").append(figure_set::shell_word(r.file));
}

std::string figure_problem_comment(const figure_problem& p) {
  std::string fields;
  for (const auto& [path, value] : p.fields) {
    fields += (fields.empty() ? "" : ", ") + path + " = " + value.dump();
  }
  return "# " + p.file + ": amflow problem show " + p.base + ", with " + fields;
}

}  // namespace amflow::analysis
