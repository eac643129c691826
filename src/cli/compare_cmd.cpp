// amflow compare: GD at several step sizes against the gradient flow and the modified flow at
// matched time, with the observed orders of convergence.
#include <memory>
#include <stdexcept>

#include "amflow/errors.hpp"
#include "amflow/flow/integrate.hpp"
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
  std::string etas = "list:1/2,1/4,1/8,1/16,1/32";
  std::string t_end = "4";
  std::string against;  // empty: both for --rule gd, flow for the others
  rule_cli_options rule;
  std::string stepper = "auto";
  std::string tol;
  std::string time = "auto";
  std::string error_estimate = "rerun";
  std::string threads = "0";
};

template <class Real>
void run_compare(const compare_cli_options& o) {
  const auto num = [](const Real& x) { return io::cell::number(scalar::to_text<Real>(x)); };
  const nlohmann::json source = load_problem(o.source);
  const model::problem<Real> pb = io::parse_problem<Real>(source);

  analysis::compare_options<Real> opt;
  opt.etas = io::parse_points<Real>(o.etas, "--etas");
  opt.t_end = scalar::parse_real<Real>(o.t_end, "--t-end");
  opt.rule = parse_rule_options<Real>(o.rule);
  const bool gd = opt.rule.kind == descent::rule_kind::gd;
  const std::string against = o.against.empty() ? (gd ? "both" : "flow") : o.against;
  if (against != "flow" && against != "modified" && against != "both") {
    throw input_error("--against", against, "expected flow, modified or both");
  }
  opt.modified = against != "flow";
  opt.threads = parse_threads(o.threads);
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
  // The references run on several threads: their reruns go to a higher precision only where
  // that is another fixed-size type (double -> long double -> float128); from float128 on it
  // would be MPFR, whose process-wide precision the threads would fight over.
  constexpr bool promote = !is_mpfr_v<flow::promoted_t<Real>>;
  if constexpr (promote) {
    opt.flow.higher_precision = [&source] {
      return io::parse_problem<flow::promoted_t<Real>>(source);
    };
  }
  opt.validate();
  resolve_format(o.common.format, o.common.output);

  std::vector<std::string> columns = {
      "eta",        "steps",          "max_margin_error", "final_margin_error",
      "loss_error", "observed_order", "min_margin_lead",  "reference_error"};
  if (opt.modified) {
    for (const char* c :
         {"modified_max_margin_error", "modified_final_margin_error", "modified_loss_error",
          "modified_observed_order", "modified_reference_error"}) {
      columns.push_back(c);
    }
  }
  nlohmann::json meta = run_meta<Real>("compare");
  meta["problem"] = o.source.label();
  meta["t_end"] = o.t_end;
  meta["etas"] = o.etas;
  meta["errors"] =
      "max over k = 0..K of max_x |m_x(GD, k) - m_x(reference, tau = eta k)|, K = floor(t_end / "
      "eta); observed_order = log(e_prev / e) / log(eta_prev / eta), null on the first row";
  const std::string by = flow::stepper_name(opt.flow.stepper) + " at tolerance " +
                         (o.tol.empty() ? default_tolerance_text<Real>() : o.tol) + " (" +
                         flow::time_name(opt.flow.time) + " time)";
  meta["rule"] = rule_text(o.rule, opt.rule.kind);
  meta["reference"] =
      gd ? "flow: dZ/dtau = -G_E R G_U; modified: dW/dtau = -grad(L + eta/4 |grad L|^2), both by " +
               by
         : "flow: the limit of " + o.rule.rule + " as eta -> 0, dZ/dtau = -G_E R G_U / (1 - mu) " +
               "(speed " + scalar::to_text<Real>(descent::flow_speed(opt.rule)) + "), by " + by;
  meta["reference_error"] =
      opt.flow.estimate_error
          ? "the reference's own error estimate (rerun at tolerance / 1000 in " +
                (promote ? flow::promoted_name<Real>() : std::string("the same precision")) + ")"
          : "not estimated (--error-estimate none)";
  meta["min_margin_lead"] =
      "min over k >= 1, x of m_x(GD) - m_x(flow): >= 0 when GD is never behind";

  const auto maybe = [&](const std::optional<Real>& x) { return x ? num(*x) : io::cell::null(); };
  const auto reference_error = [&](const Real& e) {
    return opt.flow.estimate_error ? num(e) : io::cell::null();
  };
  progress_meter progress("compare", "step sizes", static_cast<long long>(opt.etas.size()));
  table_output out(o.common, columns, meta, &progress);
  // The Taylor stepper (and auto, until a handover to Radau IIA, whose gradients are not counted
  // here) computes series coefficients (K per step), the others evaluate right-hand sides.
  const bool series = opt.flow.stepper == flow::stepper_kind::taylor ||
                      opt.flow.stepper == flow::stepper_kind::automatic;
  long evaluations = 0, modified_evaluations = 0;
  opt.on_row = [&](const analysis::compare_row<Real>& r) {
    progress.add();
    std::vector<io::cell> row = {num(r.eta),
                                 io::cell::integer(r.steps),
                                 num(r.flow.max_margin_error),
                                 num(r.flow.final_margin_error),
                                 num(r.flow.loss_error),
                                 maybe(r.flow.observed_order),
                                 num(r.min_margin_lead),
                                 reference_error(r.flow.reference_error)};
    if (opt.modified) {
      row.push_back(num(r.modified->max_margin_error));
      row.push_back(num(r.modified->final_margin_error));
      row.push_back(num(r.modified->loss_error));
      row.push_back(maybe(r.modified->observed_order));
      row.push_back(reference_error(r.modified->reference_error));
    }
    evaluations += series ? r.flow_run.series_coefficients : r.flow_run.rhs_evaluations;
    modified_evaluations +=
        series ? r.modified_run.series_coefficients : r.modified_run.rhs_evaluations;
    out.row(row);
  };
  const analysis::compare_result<Real> result = analysis::compare(pb, opt);
  if (!result.ok()) throw std::runtime_error("compare did not complete: " + result.message);
  const std::string work = series ? "series_coefficients" : "rhs_evaluations";
  nlohmann::json summary = {{work, evaluations}};
  if (opt.modified) summary["modified_" + work] = modified_evaluations;
  out.finish(summary);
}

}  // namespace

void register_compare(CLI::App& app) {
  auto o = std::make_shared<compare_cli_options>();
  CLI::App* cmd = app.add_subcommand(
      "compare", "GD at several step sizes against the gradient flow and the modified flow");
  add_problem_source(*cmd, o->source);
  add_common(*cmd, o->common);
  cmd->add_option("--etas", o->etas, "step sizes: a,b,c | linspace:a:b:n | logspace:a:b:n")
      ->capture_default_str();
  cmd->add_option("--t-end", o->t_end, "compare at the matched times eta k <= t-end")
      ->capture_default_str();
  cmd->add_option("--against", o->against,
                  "flow, modified (dW/dtau = -grad(L + eta/4 |grad L|^2)) or both (default: both "
                  "for --rule gd, flow for momentum and nesterov)");
  cmd->add_option("--rule", o->rule.rule,
                  "GD's rule: gd, momentum or nesterov (the rules with a gradient-flow limit; "
                  "momentum's: the flow at speed 1 / (1 - mu))")
      ->capture_default_str();
  add_rule_parameter(*cmd, o->rule, "momentum");
  cmd->add_option("--stepper", o->stepper,
                  "the reference's stepper: auto (taylor), taylor, "
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
  cmd->callback([o, cmd] {
    flag_map flags;
    flags.add("etas", "--etas")
        .add("momentum", "--momentum", o->rule.typed("momentum"))
        .add("rule", "--rule", o->rule.rule)
        .add("modified", "--against", o->against)
        .add("t_end", "--t-end", o->t_end)
        .add("tol", "--tol", o->tol)
        .add("rel_tol", "--tol", o->tol)
        .add("abs_tol", "--tol", o->tol);
    run_command(*cmd, flags, [&] {
      scalar::with_scalar(parse_digits(o->common.digits),
                          [&]<class Real>() { run_compare<Real>(*o); });
    });
  });
}

}  // namespace amflow::cli
