// amflow figures: every figure of the authors' study and amflow's own, and a report page. For each
// figure it runs amflow commands (this binary, in the output directory, their JSON output in
// data/), writes the figure's description to NAME.json and has the plot script (embedded in the
// binary, written to data/amflow_plots.py, run by Debian's /usr/bin/python3 with matplotlib) draw
// NAME.png and NAME.pdf from those files alone; then index.html gathers `amflow verify`'s table
// and every figure with its caption and exact commands. Everything is made in a directory beside
// --output and moved in at the end: a failure leaves --output as it was.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>

#include "amflow/errors.hpp"
#include "amflow/io/problem_io.hpp"
#include "cli/common.hpp"

extern char** environ;

namespace amflow::cli {

const char* plots_script();  // analysis/plot/amflow_plots.py (generated at build time)

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct figures_cli_options {
  std::string output;
  std::string only;
  std::string python;
  bool quick = false;
};

// One amflow run: its arguments after "amflow", its output file (relative to the output
// directory) and the key the plot script finds it under.
struct data_run {
  std::string key;
  std::vector<std::string> args;
  std::string file;
  bool may_fail_claims = false;  // verify: exit 3 (a claim failed) still gives a table
};

// A problem file the figure's runs read: a built-in problem with some fields changed.
struct problem_file {
  std::string file;  // data/NAME.json
  std::string base;  // the built-in problem
  std::vector<std::pair<std::string, json>> fields;
  std::string description;
};

struct figure_def {
  std::string name, title, caption, problem, precision;
  std::vector<problem_file> problems;
  std::vector<data_run> runs;
  json params = json::object();
};

// The problem with the field at a dotted path replaced (the registry's own paths, all existing).
json with_field(json pb, const std::string& path, const json& value) {
  json* node = &pb;
  std::stringstream ss(path);
  std::string key;
  while (std::getline(ss, key, '.')) node = &node->at(key);
  *node = value;
  return pb;
}

std::string digits_label(const std::string& d) {
  if (d == "15") return "double (15 digits)";
  return d + " digits (MPFR)";
}

data_run run(std::string key, std::vector<std::string> args, std::string file) {
  args.push_back("--format");
  args.push_back("json");
  return {std::move(key), std::move(args), "data/" + std::move(file), false};
}

// The figures, in the order of the report. `quick` makes small runs of the same experiments (a
// smoke test: coarser grids, shorter horizons, fewer digits); the captions say so.
std::vector<figure_def> registry(bool quick) {
  const std::string hp = quick ? "20" : "30";  // the digits of the runs drawn as curves
  const auto pts = [&](const std::string& a, const std::string& b, int full, int small) {
    return "linspace:" + a + ":" + b + ":" + std::to_string(quick ? small : full);
  };
  const std::string quick_note =
      quick ? " (--quick: a reduced run of this experiment for a smoke test: coarser grids, "
              "shorter horizons, fewer digits)"
            : "";
  std::vector<figure_def> figs;

  {  // the authors' spike experiment
    figure_def f;
    f.name = "spike";
    f.title = "Benign loss spikes: pair problem, alpha = 0.95, p0 = 3/4, GD from W = 0, " + hp +
              " digits";
    f.caption =
        "The authors' spike experiment (their exp_spike_2d.py) at " + hp +
        " digits. Left: the GD iterates W_k for eta = 10 and eta = 1 in the plane gamma_i = "
        "W[0,i] - W[1,i] (the authors' gamma, their W being our transpose), on the loss's "
        "contours (dashed) with the 0-1 loss's regions shaded. Right: loss and 0-1 loss per "
        "step. At eta = 10 the loss rises above its initial value log 2 in the first steps "
        "(spikes), yet every token is classified correctly within a few steps; at eta = 1 the "
        "rare token is still misclassified after 35 steps (P8)." +
        quick_note;
    f.problem = "pair: two tokens, <e_0, e_1> = 0.95, p = (3/4, 1/4), U = I_2, W0 = 0";
    f.precision = "GD at " + digits_label(hp) +
                  ", rounding only; landscape in double (contours and regions only)";
    for (const std::string eta : {"10", "1"}) {
      f.runs.push_back(run(
          "gd_eta" + eta,
          {"gd", "--problem", "pair", "--eta", eta, "--steps", "35", "--weights", "--digits", hp},
          "spike-gd-eta" + eta + ".json"));
    }
    f.runs.push_back(run("landscape",
                         {"landscape", "--problem", "pair", "--gamma0", pts("-1", "8", 121, 37),
                          "--gamma1", pts("-17", "10", 181, 55)},
                         "spike-landscape.json"));
    figs.push_back(f);
  }
  {  // the authors' landscapes
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
        quick_note;
    f.problem = "pair with inputs.alpha = -0.5, 0.5, 0.95; p = (3/4, 1/4), U = I_2";
    f.precision = "double (15 digits), rounding only";
    const std::vector<std::string> alphas = {"-0.5", "0.5", "0.95"};
    f.params["alphas"] = alphas;
    for (const std::string& a : alphas) {
      const std::string file = "data/pair-alpha_" + a + ".json";
      f.problems.push_back({file, "pair", {{"inputs.alpha", a}}, "the pair with alpha = " + a});
      for (const auto& [reach, lim] : {std::pair{"close", "1"}, std::pair{"far", "10"}}) {
        const std::string m = std::string("-") + lim;
        f.runs.push_back(run(
            "alpha" + a + "_" + reach,
            {"landscape", file, "--gamma0", pts(m, lim, 101, 31), "--gamma1", pts(m, lim, 101, 31)},
            "landscape-alpha_" + a + "-" + reach + ".json"));
      }
    }
    figs.push_back(f);
  }
  {  // the authors' learning-rate phase diagrams: two figures of one sweep
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
    if (!quick) args.push_back("--certify");
    const std::string how =
        quick ? "double (15 digits)"
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
                (quick ? "double" : "double and ball arithmetic");
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
          quick_note;
      f.problem = "pair: <e_0, e_1> = alpha, p = (p0, 1 - p0), U = I_2, W0 = 0";
      f.precision = how;
      f.params["steps"] = 1000;
      data_run r = run("sweep", args, "learning-rates.json");
      f.runs.push_back(r);
      figs.push_back(f);
    }
  }
  {  // the authors' sharpness figure, on the under-parameterised problem
    figure_def f;
    f.name = "sharpness";
    f.title =
        "Sharpness: underparameterized (d = 2, N = 3), GD from gamma = (-5, -5), " + hp + " digits";
    f.caption =
        "The authors' sharpness figure (exp_sharpness_2d.py) on amflow's under-parameterised "
        "problem: GD at eta = 10 and eta = 1 from gamma = (-5, -5) on the loss and 0-1 "
        "landscape (left) and on the landscape of the Hessian's largest eigenvalue (middle); "
        "right: the sharpness along both runs against 2/eta. eta = 10 is above eta_c = 2 / "
        "lambda_max(H(W*)) = 6.2511 (certified by amflow verify's step-size-threshold), so GD "
        "does not settle at the minimiser; eta = 1 does." +
        quick_note;
    f.problem =
        "underparameterized (d = 2, N = 3 embeddings at 0, 30, 60 degrees, labels x mod 2, p = "
        "(6, 3, 2)/11, U = I_2) from W0 = (u_0 - u_1) (-5, -5)^T / 2";
    f.precision = "GD at " + digits_label(hp) +
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
          {"gd", file, "--eta", eta, "--steps", "35", "--sharpness", "--weights", "--digits", hp},
          "sharpness-gd-eta" + eta + ".json"));
    }
    f.runs.push_back(run("landscape",
                         {"landscape", file, "--gamma0", pts("-10", "10", 101, 31), "--gamma1",
                          pts("-10", "10", 101, 31), "--sharpness"},
                         "sharpness-landscape.json"));
    figs.push_back(f);
  }
  {  // the authors' large-memory experiment
    figure_def f;
    f.name = "large-memory";
    f.title =
        "Large memory: N = M = 5, random unit embeddings, Zipf(1), GD from 0, " + hp + " digits";
    f.caption =
        "The authors' large-memory experiment (exp_large_memory.ipynb): N = M = 5 tokens and "
        "classes, input and output embeddings uniform on the unit sphere of R^d (seeds 1 and 2), "
        "Zipf(1) frequencies, 100 GD steps from W = 0 at eta = 3, 10 and 20, for d = 3 (fewer "
        "dimensions than tokens), 5 and 10. Rows: the loss, the five margins, and eta * "
        "lambda_max / 2 (above 1, the dotted line, the step is beyond the local stability "
        "limit 2/lambda_max)." +
        quick_note;
    f.problem = "large-memory with dim = 3, 5, 10 (inputs sphere seed 1, outputs sphere seed 2)";
    f.precision = "GD at " + digits_label(hp) + ", rounding only; sharpness with its error bound";
    const std::vector<int> dims = {3, 5, 10};
    const std::vector<std::string> etas = {"3", "10", "20"};
    f.params["dims"] = dims;
    f.params["etas"] = etas;
    for (int d : dims) {
      const std::string file = "data/large-memory-d" + std::to_string(d) + ".json";
      f.problems.push_back(
          {file, "large-memory", {{"dim", d}}, "large-memory with dim = " + std::to_string(d)});
      for (const std::string& eta : etas) {
        f.runs.push_back(run("d" + std::to_string(d) + "_eta" + eta,
                             {"gd", file, "--eta", eta, "--steps", "100", "--sharpness", "--digits",
                              quick ? "15" : hp},
                             "large-memory-d" + std::to_string(d) + "-eta" + eta + ".json"));
      }
    }
    figs.push_back(f);
  }
  {  // the authors' under-parameterised example
    figure_def f;
    f.name = "underparameterized";
    f.title =
        "Under-parameterised memory (d = 2 < N = 3): cross-entropy vs 0-1 loss, SGD "
        "(batch 10), " +
        (quick ? std::string("double") : hp + " digits");
    f.caption =
        "The authors' under-parameterised example (exp_forgetting_2d.py) on amflow's "
        "under-parameterised problem. Left: the cross-entropy's contours and the 0-1 loss's "
        "regions on the plane gamma_i = W[0,i] - W[1,i]; the cross-entropy minimiser (certified "
        "by the Krawczyk operator) lies in a region of 0-1 loss above the best one (star: the "
        "best region, along the dotted ray); an SGD run (batch 10, eta = 0.1, from gamma = (7.5, "
        "2.5)) drifts to the minimiser and so forgets the better classifier. Right: the "
        "full-batch loss and 0-1 loss along the SGD run (P9)." +
        quick_note;
    f.problem =
        "underparameterized (d = 2, N = 3 embeddings at 0, 30, 60 degrees, labels x mod 2, p = "
        "(6, 3, 2)/11, U = I_2), W0 = (u_0 - u_1) (7.5, 2.5)^T / 2";
    f.precision = "SGD at " + digits_label(quick ? "15" : hp) +
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
                          quick ? "300" : "1000", "--weights", "--digits", quick ? "15" : hp},
                         "underparameterized-sgd.json"));
    f.runs.push_back(run("landscape",
                         {"landscape", file, "--gamma0", pts("-10", "10", 121, 41), "--gamma1",
                          pts("-10", "10", 121, 41)},
                         "underparameterized-landscape.json"));
    figs.push_back(f);
  }
  {  // amflow's own: the orthogonal flow far in time
    figure_def f;
    f.name = "orthogonal";
    const std::string t_end = quick ? "6" : "15";
    f.title = "Orthogonal Zipf memory (N = M = d = 10): gradient flow to tau = 1e" + t_end + ", " +
              hp + " digits";
    f.caption =
        "Only amflow: the gradient flow of the orthogonal problem with Zipf(1) frequencies "
        "integrated to tau = 1e" +
        t_end + " at " + hp +
        " digits (Taylor stepper in log time). Left: four margins against log10 tau with the "
        "predicted asymptotes log(p(x) M tau) (P2). Middle: tau L(tau) tends to N (M - 1) / M = "
        "9 whatever the frequencies (P3). Right: the distance to the asymptote, |m_x - log(p(x) "
        "M tau)|, shrinking like log(tau) / tau; computed from the printed digits." +
        quick_note;
    f.problem =
        "zipf-orthogonal: N = M = d = 10, orthonormal embeddings, p(x) proportional to "
        "1/(x+1), W0 = 0";
    f.precision =
        digits_label(hp) + "; the flow's own error estimate is in the data (margin_error)";
    f.runs.push_back({"problem",
                      {"problem", "show", "zipf-orthogonal", "--resolved", "--digits", hp},
                      "data/zipf-orthogonal-resolved.json",
                      false});
    f.runs.push_back(run("flow",
                         {"flow", "--problem", "zipf-orthogonal", "--digits", hp, "--times",
                          "logspace:-2:" + t_end + ":" + (quick ? "33" : "171")},
                         "orthogonal-flow.json"));
    figs.push_back(f);
  }
  {  // amflow's own: GD against the flow
    figure_def f;
    f.name = "gd-vs-flow";
    f.title = "GD at several step sizes against the gradient flow at tau = eta k: pair problem, " +
              hp + " digits";
    f.caption =
        "Only amflow: GD at eta = 0.5, 2 and 8 plotted at the matched time tau = eta k on the "
        "gradient flow's margins (black), for the frequent token (left) and the rare token "
        "(right) of the pair problem. The rare token's margin first goes negative (it is pushed "
        "to the wrong side, P7) and recovers at the flow's crossing time tau*, which amflow "
        "enclose certifies (dotted line; the bracket is in the data). Small steps follow the "
        "flow; eta = 8 oscillates around it." +
        quick_note;
    f.problem = "pair: <e_0, e_1> = 0.95, p = (3/4, 1/4), U = I_2, W0 = 0";
    f.precision = digits_label(hp) +
                  " (GD rounding only; the flow with its error estimate in the data); tau* "
                  "certified in ball arithmetic";
    const std::vector<std::pair<std::string, std::string>> etas = {
        {"0.5", "160"}, {"2", "40"}, {"8", "10"}};
    f.params["etas"] = {"0.5", "2", "8"};
    f.runs.push_back(run(
        "flow", {"flow", "--problem", "pair", "--digits", hp, "--times", pts("0", "80", 401, 81)},
        "gd-vs-flow-flow.json"));
    for (const auto& [eta, steps] : etas) {
      f.runs.push_back(
          run("gd_eta" + eta,
              {"gd", "--problem", "pair", "--eta", eta, "--steps", steps, "--digits", hp},
              "gd-vs-flow-gd-eta" + eta + ".json"));
    }
    f.runs.push_back(
        run("enclose",
            {"enclose", "--problem", "pair", "--times", "list:80", "--crossings", "--digits", hp},
            "gd-vs-flow-enclose.json"));
    figs.push_back(f);
  }
  {  // amflow's own: the convergence rate of GD to the flow and to the modified flow
    figure_def f;
    f.name = "convergence";
    f.title = "GD to flow: error against eta (pair problem, tau <= 4, " + hp + " digits)";
    f.caption =
        "Only amflow (amflow compare): the largest margin error of GD at step eta against the "
        "gradient flow at tau = eta k <= 4 falls like eta (slope 1), against the modified flow "
        "dW/dtau = -grad(L + eta/4 |grad L|^2) like eta^2 (slope 2) (P10); the references are "
        "integrated to far below the errors shown (their own error is in the data)." +
        quick_note;
    f.problem = "pair: <e_0, e_1> = 0.95, p = (3/4, 1/4), U = I_2, W0 = 0";
    f.precision = digits_label(hp);
    f.runs.push_back(
        run("compare",
            {"compare", "--problem", "pair", "--etas",
             quick ? "logspace:-2:0:5" : "logspace:-3:0:13", "--t-end", "4", "--digits", hp},
            "convergence-compare.json"));
    figs.push_back(f);
  }
  {  // beyond the paper: update rules as the vocabulary grows
    figure_def f;
    f.name = "rule-scaling";
    const std::string sizes = quick ? "list:10,20,50,100" : "list:10,20,50,100,200,500,1000";
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
        quick_note;
    f.problem = "N = M = d, E = U = I, f*(x) = x, p(x) ~ 1 / (x + 1), W0 = 0";
    f.precision = "double (15 digits); step counts exact for the computation, exponents estimated";
    f.runs.push_back(run(
        "scaling",
        {"scaling", "--rules", "gd,sign,adam", "--sizes", sizes, "--eta", "0.1", "--target", "0.1"},
        "rule-scaling.json"));
    figs.push_back(f);
  }
  {  // amflow's own: what precision costs
    figure_def f;
    f.name = "precision";
    const std::vector<std::string> digits =
        quick ? std::vector<std::string>{"15", "18", "33", "50"}
              : std::vector<std::string>{"15", "18", "20",  "25",  "30",  "33",  "40",
                                         "50", "70", "100", "150", "200", "250", "300"};
    const std::string reference = quick ? "80" : "360";
    f.title =
        "Precision: correct digits and time of the gradient flow (pair problem, tau = 100), " +
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
        quick_note;
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
    f.runs.push_back(run(
        "reference", {"flow", "--problem", "pair", "--digits", reference, "--times", "list:100"},
        "precision-reference.json"));
    figs.push_back(f);
  }
  {  // the paper's small Transformer, W_O^2 only
    figure_def f;
    f.name = "transformer-wo2";
    // Full: the authors' W_O^2-only runs (d = 64, B = 512, 50 steps); quick: a small model.
    const std::vector<std::string> size =
        quick ? std::vector<std::string>{"--dim", "16", "--length", "64", "--batch", "32"}
              : std::vector<std::string>{"--dim", "64", "--length", "256", "--batch", "512"};
    const std::string steps = quick ? "20" : "50";
    const std::vector<std::string> etas = quick
                                              ? std::vector<std::string>{"10", "25", "50", "100"}
                                              : std::vector<std::string>{"20", "50", "100", "200"};
    f.title = "The small Transformer, W_O^2 only: loss and margins for eta = " + etas[0] + " to " +
              etas[3];
    f.caption =
        "The paper's two-layer attention-only Transformer on in-context bigrams (tiny "
        "Shakespeare), only W_O^2 trained by plain SGD (amflow transformer --train wo2, float32, "
        "one fresh batch per step). Left: the loss per step for the authors' step sizes; the "
        "legend gives eta / threshold at the start (the threshold 2 / sharpness of the W_O^2 "
        "block on the first batch). Middle and right: the wo1 margins m_t(x) = s_x[x] - max_{y "
        "!= x} s_x[y], s_x = W_U W_O^2 W_V^2 e_x, of the authors' five tokens (their "
        "np.random.seed(42) permutation) at the two largest step sizes: beyond the threshold the "
        "loss spikes and the margins oscillate, yet they grow faster." +
        quick_note;
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
    figs.push_back(f);
  }
  {  // the paper's small Transformer, W_K^1, W_K^2 and W_O^2
    figure_def f;
    f.name = "transformer-all";
    const std::vector<std::string> dims =
        quick ? std::vector<std::string>{"8", "16"} : std::vector<std::string>{"64", "128"};
    const std::vector<std::string> size =
        quick ? std::vector<std::string>{"--length", "64", "--batch", "32"}
              : std::vector<std::string>{"--length", "256", "--batch", "256"};
    const std::string steps = quick ? "30" : "150";
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
        quick_note;
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
    figs.push_back(f);
  }
  return figs;
}

std::string shell_word(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_./:=,+-") == std::string::npos) {
    return s;
  }
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string command_line(const data_run& r) {
  std::string s = "amflow";
  for (const std::string& a : r.args) s.append(" ").append(shell_word(a));
  return s.append(" --output ").append(shell_word(r.file));
}

// SIGINT, SIGTERM and SIGHUP during the work: passed on to the running child, then the staging
// directory is removed (by unwinding) and the process ends by the same signal.
volatile std::sig_atomic_t caught_signal = 0;
volatile pid_t running_child = 0;
volatile pid_t plotter_child = 0;  // the drawing process, running beside the data runs

extern "C" void on_figures_signal(int sig) {
  caught_signal = sig;
  const pid_t child = running_child;
  if (child > 0) kill(child, sig);
  const pid_t plotter = plotter_child;
  if (plotter > 0) kill(plotter, sig);
}

struct interrupted {
  int sig;
};

void watch_figures_signals() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction current {};
    sigaction(sig, nullptr, &current);
    if (current.sa_handler == SIG_IGN) continue;  // keep what the parent asked (nohup)
    struct sigaction action {};
    action.sa_handler = on_figures_signal;
    sigemptyset(&action.sa_mask);
    sigaction(sig, &action, nullptr);
  }
}

void throw_if_interrupted() {
  if (caught_signal != 0) throw interrupted{caught_signal};
}

// A child process in `cwd` with standard output and error to `log`; its exit status (-1: killed
// or not started) and wall time.
struct child_result {
  int status = -1;
  double seconds = 0;
};

// Starts exe in `cwd` with standard output and error to `log` and standard input from
// `stdin_fd` (-1: /dev/null); returns its pid.
pid_t start_child(const std::string& exe, const std::vector<std::string>& args, const fs::path& cwd,
                  const fs::path& log, const std::vector<std::string>& extra_env,
                  int stdin_fd = -1) {
  std::vector<std::string> argv_s = {exe};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string v = *e;
    if (v.rfind("AMFLOW_PROGRESS=", 0) == 0 || v.rfind("SOURCE_DATE_EPOCH=", 0) == 0) continue;
    env_s.push_back(v);
  }
  env_s.insert(env_s.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (std::string& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string cwd_s = cwd.string(), log_s = log.string();

  throw_if_interrupted();
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("figures: fork failed: ") + strerror(errno));
  if (pid == 0) {
    const int out = open(log_s.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int in = stdin_fd >= 0 ? stdin_fd : open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || in < 0 || chdir(cwd_s.c_str()) != 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
        dup2(out, 2) < 0) {
      _exit(127);
    }
    execve(argv[0], argv.data(), envp.data());
    const char msg[] = "amflow figures: cannot execute the program\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  return pid;
}

// Waits for a child; its exit status (-1: killed).
int wait_child(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("figures: waitpid failed");
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

child_result run_child(const std::string& exe, const std::vector<std::string>& args,
                       const fs::path& cwd, const fs::path& log,
                       const std::vector<std::string>& extra_env) {
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = start_child(exe, args, cwd, log, extra_env);
  running_child = pid;
  if (caught_signal != 0) kill(pid, caught_signal);  // a signal between fork and here
  const int status = wait_child(pid);
  running_child = 0;
  throw_if_interrupted();
  child_result r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.status = status;
  return r;
}

// The plot script in one process (`amflow_plots.py serve`: matplotlib imported once) that draws
// each figure as its data is ready, on the other core, while the next figure's data is computed.
class plotter {
 public:
  plotter(const std::string& python, const fs::path& stage, const fs::path& log,
          const std::vector<std::string>& env) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("figures: pipe failed: ") + strerror(errno));
    }
    to_child_ = fds[1];
    try {
      pid_ = start_child(python, {"data/amflow_plots.py", "serve"}, stage, log, env, fds[0]);
    } catch (...) {
      close(fds[0]);
      close(fds[1]);
      throw;
    }
    close(fds[0]);
    plotter_child = pid_;
    if (caught_signal != 0) kill(pid_, caught_signal);
  }
  plotter(const plotter&) = delete;
  plotter& operator=(const plotter&) = delete;
  ~plotter() {
    if (pid_ > 0) {  // unwinding: stop it
      kill(pid_, SIGTERM);
      finish();
    }
  }
  // Asks for NAME.png and NAME.pdf from NAME.json.
  void draw(const std::string& name) {
    const std::string line = name + "\n";
    if (write(to_child_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      throw std::runtime_error("figures: the plot script stopped early (see below)");
    }
  }
  // No more figures: waits until every one is drawn; the script's exit status.
  int finish() {
    if (to_child_ >= 0) close(to_child_);
    to_child_ = -1;
    const int status = pid_ > 0 ? wait_child(pid_) : -1;
    pid_ = -1;
    plotter_child = 0;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int to_child_ = -1;
};

std::string tail_of(const fs::path& log) {
  std::ifstream in(log);
  std::string line, last;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  // The last lines, on the error's one line.
  const size_t from = lines.size() > 3 ? lines.size() - 3 : 0;
  for (size_t i = from; i < lines.size(); ++i) last += (i == from ? ": " : " | ") + lines[i];
  return last;
}

std::string self_exe() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("figures: cannot find amflow's own executable (/proc/self/exe)");
  return p.string();
}

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

// "name 1.2 s, name 0.9 s" from the plot script's "drawn NAME SECONDS" lines.
std::string plot_times(const fs::path& log) {
  std::ifstream in(log);
  std::string line, out;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string tag, name;
    double seconds = 0;
    if (words >> tag >> name >> seconds && tag == "drawn") {
      out += (out.empty() ? "" : ", ") + name + " " + format_seconds(seconds);
    }
  }
  return out;
}

// Removes the staging directory unless released.
struct staging_guard {
  fs::path path;
  ~staging_guard() {
    if (path.empty()) return;
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("figures: cannot write " + path.string());
}

void run_figures(const figures_cli_options& o) {
  if (o.output.empty()) {
    throw input_error("--output", "(missing)", "give the directory to write the figures to");
  }
  const fs::path out_dir = fs::path(o.output).lexically_normal();
  std::error_code ec;
  const auto st = fs::status(out_dir, ec);
  const bool exists = fs::exists(st);
  if (exists && !fs::is_directory(st)) {
    throw input_error("--output", o.output, "exists and is not a directory");
  }
  fs::path parent = fs::absolute(out_dir, ec).parent_path();
  if (ec || !fs::is_directory(parent)) {
    throw input_error("--output", o.output, "its parent directory does not exist");
  }
  const bool quick = o.quick;
  std::vector<figure_def> figs = registry(quick);
  std::set<std::string> wanted;
  if (!o.only.empty()) {
    std::stringstream ss(o.only);
    std::string name;
    while (std::getline(ss, name, ',')) {
      bool known = false;
      for (const figure_def& f : figs) known = known || f.name == name;
      if (!known) {
        std::string names;
        for (const figure_def& f : figs) names += (names.empty() ? "" : ", ") + f.name;
        throw input_error("--only", name.empty() ? "\"\"" : name,
                          "is not a figure (figures: " + names + ")");
      }
      wanted.insert(name);
    }
    std::vector<figure_def> kept;
    for (const figure_def& f : figs) {
      if (wanted.count(f.name)) kept.push_back(f);
    }
    figs = kept;
  }
  std::string python = o.python;
  if (python.empty()) {
    const char* env = std::getenv("AMFLOW_PYTHON");
    python = env != nullptr && *env != '\0' ? env : "/usr/bin/python3";
  }
  if (access(python.c_str(), X_OK) != 0) {
    throw input_error("--python", python, "is not an executable file");
  }

  // The staging directory, beside the output so that the final moves are renames.
  std::string tmpl =
      (parent / ("." + fs::absolute(out_dir).filename().string() + ".amflow-figures-XXXXXX"))
          .string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("figures: cannot create a directory beside " + o.output + ": " +
                             strerror(errno));
  }
  staging_guard guard{tmpl};
  watch_figures_signals();
  const fs::path stage = tmpl;
  fs::create_directory(stage / "data");
  fs::create_directory(stage / ".logs");
  write_file(stage / "data" / "amflow_plots.py", plots_script());
  const std::string exe = self_exe();
  const std::vector<std::string> py_env = {"SOURCE_DATE_EPOCH=0", "MPLBACKEND=Agg",
                                           "PYTHONHASHSEED=0", "PYTHONDONTWRITEBYTECODE=1"};

  {  // the plotting stack is there before any work
    const child_result r = run_child(python, {"-c", "import matplotlib, numpy"}, stage,
                                     stage / ".logs" / "check", py_env);
    if (r.status != 0) {
      throw std::runtime_error(
          "figures: " + python +
          " cannot import matplotlib and numpy (Debian: apt-get install python3-matplotlib "
          "python3-numpy; scripts/setup-deps.sh installs them)" +
          tail_of(stage / ".logs" / "check"));
    }
  }

  const auto start = std::chrono::steady_clock::now();
  int log_counter = 0;
  const auto amflow_run = [&](const data_run& r) {
    const fs::path log = stage / ".logs" / std::to_string(++log_counter);
    std::vector<std::string> args = r.args;
    args.push_back("--output");
    args.push_back(r.file);
    const child_result c = run_child(exe, args, stage, log, {});
    const bool ok = c.status == 0 || (r.may_fail_claims && c.status == 3);
    if (!ok) {
      throw std::runtime_error("figures: `" + command_line(r) + "` failed (exit " +
                               std::to_string(c.status) + ")" + tail_of(log));
    }
    return c.seconds;
  };

  // The verification table for the page.
  {
    data_run v{"verify", {"verify", "--format", "json"}, "data/verify.json", true};
    const double s = amflow_run(v);
    std::cerr << "amflow figures: verify table (" << format_seconds(s) << ")\n";
  }

  // A figure that fails in the script writes nothing else; its error is in the log.
  signal(SIGPIPE, SIG_IGN);
  const fs::path plot_log = stage / ".logs" / "plot";
  plotter drawing(python, stage, plot_log, py_env);
  std::map<std::string, double> done_files;  // shared data (one sweep, two figures)
  for (size_t i = 0; i < figs.size(); ++i) {
    const figure_def& f = figs[i];
    const auto fig_start = std::chrono::steady_clock::now();
    json spec = {{"name", f.name},       {"title", f.title},         {"caption", f.caption},
                 {"problem", f.problem}, {"precision", f.precision}, {"params", f.params},
                 {"quick", quick},       {"amflow", version}};
    std::vector<std::string> commands;
    json data = json::object(), timings = json::object();
    for (const problem_file& p : f.problems) {
      json pb = io::named_problem(p.base);
      for (const auto& [path, value] : p.fields) pb = with_field(pb, path, value);
      pb["name"] = fs::path(p.file).stem().string();
      pb["description"] = p.description;
      write_file(stage / p.file, pb.dump(2) + "\n");
      std::string fields;
      for (const auto& [path, value] : p.fields) {
        fields += (fields.empty() ? "" : ", ") + path + " = " + value.dump();
      }
      commands.push_back("# " + p.file + ": amflow problem show " + p.base + ", with " + fields);
    }
    for (const data_run& r : f.runs) {
      commands.push_back(command_line(r));
      data[r.key] = r.file;
      auto it = done_files.find(r.file);
      const double s = it != done_files.end() ? it->second : amflow_run(r);
      done_files[r.file] = s;
      timings[r.key] = s;
    }
    spec["commands"] = commands;
    spec["data"] = data;
    spec["timings"] = timings;
    const double data_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - fig_start).count();
    spec["seconds"] = data_seconds;
    write_file(stage / (f.name + ".json"), spec.dump(2) + "\n");
    drawing.draw(f.name);
    std::cerr << "amflow figures: [" << i + 1 << "/" << figs.size() << "] " << f.name << " (data "
              << format_seconds(data_seconds) << "; drawn beside the next)\n";
  }
  {
    const auto drawn_from = std::chrono::steady_clock::now();
    const int status = drawing.finish();
    throw_if_interrupted();
    if (status != 0) {
      throw std::runtime_error("figures: the plot script failed (exit " + std::to_string(status) +
                               ")" + tail_of(plot_log));
    }
    for (const figure_def& f : figs) {
      for (const char* ext : {".png", ".pdf"}) {
        if (!fs::exists(stage / (f.name + ext))) {
          throw std::runtime_error("figures: the plot script made no " + f.name + ext +
                                   tail_of(plot_log));
        }
      }
    }
    std::cerr
        << "amflow figures: drawing done ("
        << format_seconds(
               std::chrono::duration<double>(std::chrono::steady_clock::now() - drawn_from).count())
        << " after the last data; per figure: " << plot_times(plot_log) << ")\n";
  }

  // The page: this run's figures, and those already in the output directory.
  {
    std::vector<std::string> args = {"data/amflow_plots.py", "index", "."};
    if (exists) args.push_back(fs::absolute(out_dir).string());
    const fs::path log = stage / ".logs" / "index";
    const child_result c = run_child(python, args, stage, log, py_env);
    if (c.status != 0) {
      throw std::runtime_error("figures: the report page failed (exit " + std::to_string(c.status) +
                               ")" + tail_of(log));
    }
  }
  fs::remove_all(stage / ".logs");
  throw_if_interrupted();

  // Into place: the whole directory when it is new, else file by file.
  if (!exists) {
    fs::rename(stage, out_dir);
  } else {
    fs::create_directories(out_dir / "data");
    for (const fs::path& sub : {fs::path("data"), fs::path(".")}) {
      for (const auto& e : fs::directory_iterator(stage / sub)) {
        if (e.is_regular_file()) fs::rename(e.path(), out_dir / sub / e.path().filename());
      }
    }
  }
  const double total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << "amflow figures: " << figs.size() << " figure" << (figs.size() == 1 ? "" : "s")
            << " and index.html in " << o.output << " (" << format_seconds(total) << ")\n";
  if (!exists) guard.path.clear();
}

}  // namespace

// The figures' names in the registry's order, for --help (a constant: building the registry at
// every start of amflow would cost every command; tests/cli/cli_test.sh checks it against the
// registry's own list, which --only prints when refusing a name).
constexpr const char* figure_names =
    "spike, landscapes, learning-rates-p0, learning-rates-alpha, sharpness, large-memory, "
    "underparameterized, orthogonal, gd-vs-flow, convergence, rule-scaling, precision, "
    "transformer-wo2, transformer-all";

void register_figures(CLI::App& app) {
  auto o = std::make_shared<figures_cli_options>();
  CLI::App* cmd = app.add_subcommand(
      "figures",
      "run the studies and draw every figure (PNG and PDF) and a report page, DIR/index.html");
  cmd->add_option("--output", o->output,
                  "the directory to write (made if missing; its other files are kept)");
  cmd->add_option("--only", o->only,
                  std::string("these figures only, comma-separated (") + figure_names + ")");
  cmd->add_flag("--quick", o->quick,
                "small runs of the same experiments (a smoke test: coarser grids, shorter "
                "horizons, fewer digits; the captions say so)")
      ->disable_flag_override();
  cmd->add_option("--python", o->python,
                  "the Python with matplotlib and numpy (default: $AMFLOW_PYTHON, else "
                  "/usr/bin/python3)");
  cmd->callback([o, cmd] {
    flag_map flags;
    run_command(*cmd, flags, [&] {
      try {
        run_figures(*o);
      } catch (const interrupted& i) {  // the staging directory is gone; end by the signal
        std::signal(i.sig, SIG_DFL);
        std::raise(i.sig);
      }
    });
  });
}

}  // namespace amflow::cli
