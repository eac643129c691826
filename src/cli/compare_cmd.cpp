// amflow compare: GD at several step sizes against the gradient flow and the modified flow at
// matched time, with the observed orders of convergence.
#include <memory>
#include <stdexcept>

#include "amflow/errors.hpp"
#include "amflow/flow/integrate.hpp"
#include "amflow/io/output.hpp"
#include "amflow/io/points.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/dispatch.hpp"
#include "analysis/instantiate.hpp"
#include "cli/common.hpp"

namespace amflow::cli {
namespace {

struct compare_cli_options {
  common_options common;
  problem_source source;
  std::string format;
  std::string etas = "list:1/2,1/4,1/8,1/16,1/32";
  std::string t_end = "4";
  std::string against = "both";
  std::string stepper = "auto";
  std::string tol;
  std::string time = "auto";
  std::string error_estimate = "rerun";
  int threads = 0;
};

template <class Real>
std::string run_compare(const compare_cli_options& o) {
  const auto str = [](const Real& x) { return scalar::to_text<Real>(x); };
  const io::format fmt = resolve_format(o.format, o.common.output);
  const model::problem<Real> pb = io::parse_problem<Real>(load_problem(o.source));

  analysis::compare_options<Real> opt;
  opt.etas = io::parse_points<Real>(o.etas, "--etas");
  opt.t_end = scalar::parse_real<Real>(o.t_end, "--t-end");
  if (o.against != "flow" && o.against != "modified" && o.against != "both") {
    throw input_error("--against", o.against, "expected flow, modified or both");
  }
  opt.modified = o.against != "flow";
  opt.threads = o.threads;
  opt.flow.stepper = parse_stepper_or_auto<Real>(o.stepper);
  if (opt.flow.stepper == flow::stepper_kind::rk4) {
    throw input_error("--stepper", o.stepper, "the reference needs an adaptive stepper");
  }
  bool log_time = opt.t_end > 100;
  if (o.time != "auto") log_time = flow::parse_time(o.time, "--time") == flow::time_kind::log;
  opt.flow.time = log_time ? flow::time_kind::log : flow::time_kind::linear;
  const Real tol = parse_tolerance<Real>(o.tol);
  if (!(tol > 0)) throw input_error("--tol", o.tol, "must be positive");
  opt.flow.rel_tol = opt.flow.abs_tol = tol;
  opt.flow.step = Real(1) / 100;
  if (o.error_estimate != "rerun" && o.error_estimate != "none") {
    throw input_error("--error-estimate", o.error_estimate, "must be rerun or none");
  }
  opt.flow.estimate_error = o.error_estimate == "rerun";
  opt.validate();

  const analysis::compare_result<Real> result = analysis::compare(pb, opt);
  if (!result.ok) throw std::runtime_error("compare did not complete: " + result.message);

  io::table t;
  t.columns = {"eta",        "steps",          "max_margin_error", "final_margin_error",
               "loss_error", "observed_order", "min_margin_lead",  "reference_error"};
  if (opt.modified) {
    for (const char* c :
         {"modified_max_margin_error", "modified_final_margin_error", "modified_loss_error",
          "modified_observed_order", "modified_reference_error"}) {
      t.columns.push_back(c);
    }
  }
  const auto maybe = [&](const std::optional<Real>& x) {
    return x ? io::cell{str(*x), true} : io::cell{"", false};
  };
  long evaluations = 0, modified_evaluations = 0;
  for (const auto& r : result.rows) {
    std::vector<io::cell> row = {{str(r.eta), true},
                                 {std::to_string(r.steps), true},
                                 {str(r.flow.max_margin_error), true},
                                 {str(r.flow.final_margin_error), true},
                                 {str(r.flow.loss_error), true},
                                 maybe(r.flow.observed_order),
                                 {str(r.min_margin_lead), true},
                                 {str(r.flow.reference_error), true}};
    if (opt.modified) {
      row.push_back({str(r.modified->max_margin_error), true});
      row.push_back({str(r.modified->final_margin_error), true});
      row.push_back({str(r.modified->loss_error), true});
      row.push_back(maybe(r.modified->observed_order));
      row.push_back({str(r.modified->reference_error), true});
    }
    evaluations += r.flow_run.evaluations;
    modified_evaluations += r.modified_run.evaluations;
    t.rows.push_back(std::move(row));
  }
  t.meta = run_meta<Real>("compare");
  t.meta["problem"] = o.source.name.empty() ? o.source.file : o.source.name;
  t.meta["t_end"] = str(opt.t_end);
  t.meta["errors"] =
      "max over k = 0..K of max_x |m_x(GD, k) - m_x(reference, tau = eta k)|, K = floor(t_end / "
      "eta); observed_order = log(e_prev / e) / log(eta_prev / eta)";
  t.meta["reference"] =
      "flow: dZ/dtau = -G_E R G_U; modified: dW/dtau = -grad(L + eta/4 "
      "|grad L|^2), both by " +
      flow::stepper_name(opt.flow.stepper) + " at tolerance " + str(tol) + " (" +
      flow::time_name(opt.flow.time) + " time)";
  t.meta["reference_error"] = opt.flow.estimate_error
                                  ? "the reference's own error estimate (rerun at tolerance / 1000)"
                                  : "not estimated (--error-estimate none)";
  t.meta["min_margin_lead"] =
      "min over k >= 1, x of m_x(GD) - m_x(flow): >= 0 when GD is never behind";
  // The Taylor stepper counts series coefficients (K per step), not right-hand-side evaluations.
  const std::string work =
      opt.flow.stepper == flow::stepper_kind::taylor ? "series_coefficients" : "rhs_evaluations";
  t.meta[work] = evaluations;
  if (opt.modified) t.meta["modified_" + work] = modified_evaluations;
  return io::render(t, fmt);
}

}  // namespace

void register_compare(CLI::App& app) {
  auto o = std::make_shared<compare_cli_options>();
  CLI::App* cmd = app.add_subcommand(
      "compare", "GD at several step sizes against the gradient flow and the modified flow");
  add_problem_source(*cmd, o->source);
  add_common(*cmd, o->common);
  add_format(*cmd, o->format);
  cmd->add_option("--etas", o->etas, "step sizes: a,b,c | linspace:a:b:n | logspace:a:b:n")
      ->capture_default_str();
  cmd->add_option("--t-end", o->t_end, "compare at the matched times eta k <= t-end")
      ->capture_default_str();
  cmd->add_option("--against", o->against,
                  "flow, modified (dW/dtau = -grad(L + eta/4 |grad L|^2)) or both")
      ->capture_default_str();
  cmd->add_option(
         "--stepper", o->stepper,
         "the reference's stepper: auto (taylor from 19 digits, else bulirsch-stoer), taylor, "
         "bulirsch-stoer, rkf78 or dopri5")
      ->capture_default_str();
  cmd->add_option("--tol", o->tol, "the reference's tolerance (default 10^-(0.85 digits))");
  cmd->add_option("--time", o->time, "the reference's time variable: linear, log or auto")
      ->capture_default_str();
  cmd->add_option("--error-estimate", o->error_estimate,
                  "rerun (the reference's own error, column reference_error) or none")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "step sizes run in parallel (0: all cores)")
      ->capture_default_str();
  cmd->callback([o] {
    const std::string text =
        scalar::with_scalar(o->common.digits, [&]<class Real>() { return run_compare<Real>(*o); });
    io::write_output(o->common.output, text);
  });
}

}  // namespace amflow::cli
