// amflow sweep: GD over a grid of parameters, one row per cell, in grid order whatever the thread
// count.
#include <memory>

#include "amflow/errors.hpp"
#include "amflow/io/output.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/dispatch.hpp"
#include "analysis/instantiate.hpp"
#include "cli/common.hpp"

namespace amflow::cli {
namespace {

struct sweep_cli_options {
  common_options common;
  problem_source source;
  std::string format;
  std::vector<std::string> grid;
  std::string eta = "1";
  long steps = 1000;
  long batch = 0;
  std::uint64_t seed = 0;
  int threads = 0;
};

template <class Real>
std::string run_sweep(const sweep_cli_options& o) {
  const auto str = [](const Real& x) { return scalar::to_text<Real>(x); };
  const io::format fmt = resolve_format(o.format, o.common.output);
  analysis::sweep_options<Real> opt;
  opt.problem = load_problem(o.source);
  for (const std::string& g : o.grid) {
    const size_t eq = g.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == g.size()) {
      throw input_error("--grid", g, "expected NAME=SPEC, e.g. eta=logspace:-1:1:10");
    }
    opt.axes.push_back({g.substr(0, eq), g.substr(eq + 1)});
  }
  opt.eta = scalar::parse_real<Real>(o.eta, "--eta");
  opt.steps = o.steps;
  opt.batch = o.batch;
  opt.seed = o.seed;
  opt.threads = o.threads;
  const analysis::sweep_result<Real> result = analysis::sweep(opt);

  io::table t;
  t.columns = result.axis_names;
  const int tokens = result.cells.empty()
                         ? 0
                         : static_cast<int>(result.cells[0].summary.margin_sign_changes.size());
  for (const char* c :
       {"first_perfect_step", "ever_perfect", "max_loss", "loss_increases", "spikes", "max_spike",
        "margin_sign_changes", "final_loss", "final_zero_one_loss"}) {
    t.columns.push_back(c);
  }
  for (int x = 0; x < tokens; ++x) t.columns.push_back("m_" + std::to_string(x));
  t.columns.push_back("status");
  long failed = 0;
  for (const auto& c : result.cells) {
    std::vector<io::cell> row;
    for (const Real& v : c.values) row.push_back({str(v), true});
    const auto& s = c.summary;
    Real max_spike(0);
    for (const auto& sp : s.spikes) {
      if (sp.height > max_spike) max_spike = sp.height;
    }
    long sign_changes = 0;
    for (long n : s.margin_sign_changes) sign_changes += n;
    row.push_back({std::to_string(s.first_perfect_step), true});
    row.push_back({s.ever_perfect ? "true" : "false", false});
    row.push_back({str(s.max_loss), true});
    row.push_back({std::to_string(s.loss_increases), true});
    row.push_back({std::to_string(s.spikes.size()), true});
    row.push_back({str(max_spike), true});
    row.push_back({std::to_string(sign_changes), true});
    if (c.ok) {
      row.push_back({str(c.final_loss), true});
      row.push_back({str(c.final_zero_one_loss), true});
      for (int x = 0; x < tokens; ++x) row.push_back({str(c.final_margins(x)), true});
      row.push_back({"ok", false});
    } else {
      ++failed;
      for (int x = 0; x < tokens + 2; ++x) row.push_back({"", false});
      row.push_back({c.message, false});
    }
    t.rows.push_back(std::move(row));
  }
  t.meta = run_meta<Real>("sweep");
  t.meta["problem"] = o.source.name.empty() ? o.source.file : o.source.name;
  nlohmann::json axes = nlohmann::json::array();
  for (const auto& a : opt.axes) axes.push_back(a.name + "=" + a.spec);
  t.meta["grid"] = axes;
  t.meta["cells"] = result.cells.size();
  t.meta["steps"] = opt.steps;
  bool eta_axis = false;
  for (const auto& a : opt.axes) eta_axis = eta_axis || a.name == "eta";
  if (!eta_axis) t.meta["eta"] = str(opt.eta);
  t.meta["update"] = opt.batch == 0 ? "full-batch GD"
                                    : "SGD, batch " + std::to_string(opt.batch) + ", seed " +
                                          std::to_string(opt.seed);
  t.meta["first_perfect_step"] =
      "first k in [0, steps - 1] (state before update k + 1) with every token right; steps - 1 "
      "if none (ever_perfect = false)";
  t.meta["spikes"] = "maximal runs of loss increases; max_spike = largest rise within one run";
  t.meta["error_estimate"] = "none needed: GD is computed directly (rounding only)";
  if (failed > 0) t.meta["failed_cells"] = failed;
  return io::render(t, fmt);
}

}  // namespace

void register_sweep(CLI::App& app) {
  auto o = std::make_shared<sweep_cli_options>();
  CLI::App* cmd = app.add_subcommand(
      "sweep", "GD over a grid of parameters (phase diagrams), one row per cell");
  add_problem_source(*cmd, o->source);
  add_common(*cmd, o->common);
  add_format(*cmd, o->format);
  cmd->add_option("--grid", o->grid,
                  "axis NAME=SPEC, repeated; NAME: eta, alpha, p0, p0_logit or a problem field "
                  "path (inputs.alpha, frequencies.p[0]); SPEC: list:a,b | linspace:a:b:n | "
                  "logspace:a:b:n")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("--eta", o->eta, "step size when eta is not an axis")->capture_default_str();
  cmd->add_option("--steps", o->steps, "GD steps per cell")->capture_default_str();
  cmd->add_option("--batch", o->batch, "SGD batch (0: full-batch GD)")->capture_default_str();
  cmd->add_option("--seed", o->seed, "SGD seed")->capture_default_str();
  cmd->add_option("--threads", o->threads, "threads (0: all cores)")->capture_default_str();
  cmd->callback([o] {
    const std::string text =
        scalar::with_scalar(o->common.digits, [&]<class Real>() { return run_sweep<Real>(*o); });
    io::write_output(o->common.output, text);
  });
}

}  // namespace amflow::cli
