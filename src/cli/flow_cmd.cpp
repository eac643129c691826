// amflow flow: integrate the gradient flow of a problem and print it at the sample times (each row
// as soon as it and its error estimate are known), with the steps and the work in the summary.
#include <chrono>
#include <memory>
#include <stdexcept>

#include "amflow/errors.hpp"
#include "amflow/flow/integrate.hpp"
#include "amflow/flow/sign_flow.hpp"
#include "amflow/instantiate.hpp"
#include "amflow/io/points.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/dispatch.hpp"
#include "cli/common.hpp"

namespace amflow::cli {
namespace {

struct flow_cli_options {
  common_options common;
  problem_source source;
  std::string t_end;
  std::string times;
  std::string stepper = "auto";
  std::string tol;
  std::string rel_tol;
  std::string abs_tol;
  std::string time = "auto";
  std::string step = "1/100";
  std::string max_steps = "10000000";
  std::string error_estimate = "rerun";
  std::string modified_eta;
  rule_cli_options rule;
  bool timing = false;
};

// Sample times: --times if given (plus --t-end when it is later), otherwise 0 and the decades
// 10^-1, 1, 10, ... up to t-end (log time) or 10 equal intervals (linear time), t-end included.
template <class Real>
std::vector<Real> sample_times(const flow_cli_options& o, const Real& t_end, bool have_t_end,
                               bool log_time) {
  std::vector<Real> times;
  if (!o.times.empty()) {
    times = io::parse_points<Real>(o.times, "--times");
    for (size_t i = 0; i < times.size(); ++i) {
      if (times[i] < 0 || (i > 0 && !(times[i] > times[i - 1]))) {
        throw input_error("--times", o.times,
                          "sample times must be >= 0 and increase strictly (entry " +
                              std::to_string(i + 1) + " does not)");
      }
    }
    if (have_t_end && t_end > times.back()) times.push_back(t_end);
    if (have_t_end && times.back() > t_end) {
      throw input_error("--times", o.times, "its last time is later than --t-end " + o.t_end);
    }
    return times;
  }
  times.push_back(Real(0));
  if (log_time) {
    for (int k = -1; k <= static_cast<int>(scalar::max_decimal_exponent); ++k) {
      const Real decade = scalar::parse_real<Real>("1e" + std::to_string(k), "--t-end");
      if (!(decade < t_end)) break;
      times.push_back(decade);
    }
    times.push_back(t_end);
  } else {
    for (int i = 1; i <= 10; ++i) times.push_back(t_end * i / 10);
  }
  return times;
}

// flow --rule sign: the piecewise linear sign flow (flow/sign_flow.hpp), with its events.
template <class Real>
void run_sign_flow(const flow_cli_options& o, const model::problem<Real>& pb,
                   const std::vector<Real>& times) {
  const auto num = [](const Real& x) { return io::cell::number(scalar::to_text<Real>(x)); };
  for (const auto& [text, flag] :
       {std::pair{o.stepper == "auto" ? std::string() : o.stepper, "--stepper"},
        std::pair{o.tol, "--tol"}, std::pair{o.rel_tol, "--rel-tol"},
        std::pair{o.abs_tol, "--abs-tol"}, std::pair{o.modified_eta, "--modified-eta"},
        std::pair{o.time == "auto" ? std::string() : o.time, "--time"}}) {
    if (!text.empty()) {
      throw input_error(flag, text,
                        "does not apply to --rule sign (the sign flow is piecewise linear, "
                        "integrated exactly between its events)");
    }
  }
  flow::sign_flow_options<Real> opt;
  opt.times = times;
  opt.max_step = scalar::parse_real<Real>(o.step, "--step");
  resolve_format(o.common.format, o.common.output);
  nlohmann::json meta = run_meta<Real>("flow");
  meta["problem"] = o.source.label();
  meta["rule"] = "sign";
  meta["system"] =
      "the sign flow dW/dtau = -sign(grad L(W)) (the limit of sign descent, and of Adam with "
      "epsilon = 0, as eta -> 0 at tau = eta k): piecewise linear between events, where an entry "
      "of grad L changes sign";
  meta["method"] =
      "exact segments W_s - (tau - tau_s) S; events searched on steps of at most 1.5 times an "
      "entry's predicted zero and --step (1 + tau), located by bisection to a few ulps; an entry "
      "crossing 0 and back within one step would be missed";
  meta["error_estimate"] =
      "margin_error, loss_error: the events' bisection brackets carried to the margins (2 w per "
      "entry of W per event); rounding not included";
  std::vector<std::string> columns = {"tau", "loss", "zero_one_loss"};
  for (int x = 0; x < pb.tokens; ++x) columns.push_back("m_" + std::to_string(x));
  columns.push_back("margin_error");
  columns.push_back("loss_error");
  table_output out(o.common, columns, meta);
  const flow::sign_flow_result<Real> r = flow::integrate_sign_flow(pb, opt);
  underflow_watch underflow;
  for (const auto& s : r.samples) {
    std::vector<io::cell> row = {
        num(s.tau), underflow.positive(s.loss, "the loss", "tau = " + scalar::to_text<Real>(s.tau)),
        num(s.zero_one_loss)};
    for (Eigen::Index x = 0; x < s.margins.size(); ++x) row.push_back(num(s.margins(x)));
    row.push_back(num(*s.margin_error));
    row.push_back(num(*s.loss_error));
    out.row(row);
  }
  nlohmann::json events = nlohmann::json::array();
  for (size_t i = 0; i < r.events.size() && i < 100; ++i) {
    const auto& e = r.events[i];
    events.push_back({{"tau", scalar::to_text<Real>(e.tau)},
                      {"bracket", scalar::to_text<Real>(e.bracket)},
                      {"entry", {e.row, e.col}},
                      {"entries", e.entries}});
  }
  if (!r.ok()) throw std::runtime_error("flow did not complete: " + r.message);
  nlohmann::json summary = {{"events", static_cast<long long>(r.events.size())},
                            {"search_steps", r.steps}};
  summary["first_events"] = events;
  underflow.note(summary, scalar::name<Real>());
  out.finish(summary);
}

// The options from the flags, the problem's JSON kept for the error estimate's rerun.
template <class Real>
flow::flow_options<Real> flow_options_from(const flow_cli_options& o,
                                           const nlohmann::json& source) {
  flow::flow_options<Real> opt;
  opt.stepper = parse_stepper_or_auto<Real>(o.stepper);
  const bool have_t_end = !o.t_end.empty();
  Real t_end = have_t_end ? scalar::parse_real<Real>(o.t_end, "--t-end") : Real(100);
  if (have_t_end && !(t_end > 0)) throw input_error("--t-end", o.t_end, "must be positive");
  if (!have_t_end && !o.times.empty()) {
    t_end = io::parse_points<Real>(o.times, "--times").back();
  }
  bool log_time = t_end > 100;
  if (o.time != "auto") log_time = flow::parse_time(o.time, "--time") == flow::time_kind::log;
  opt.time = log_time ? flow::time_kind::log : flow::time_kind::linear;
  opt.times = sample_times<Real>(o, t_end, have_t_end, log_time);

  const Real tol = parse_tolerance<Real>(o.tol);
  opt.rel_tol = o.rel_tol.empty() ? tol : scalar::parse_real<Real>(o.rel_tol, "--rel-tol");
  opt.abs_tol = o.abs_tol.empty() ? tol : scalar::parse_real<Real>(o.abs_tol, "--abs-tol");
  opt.step = scalar::parse_real<Real>(o.step, "--step");
  opt.max_steps = parse_integer(o.max_steps, "--max-steps", 1, 1000000000000LL);
  if (o.error_estimate != "rerun" && o.error_estimate != "none") {
    throw input_error("--error-estimate", o.error_estimate, "must be rerun or none");
  }
  opt.estimate_error = o.error_estimate == "rerun";
  // The rerun parses the problem again at a higher precision: its estimate then covers this
  // run's round-off as well as its truncation error.
  opt.higher_precision = [&source] { return io::parse_problem<flow::promoted_t<Real>>(source); };
  if (!o.modified_eta.empty()) {
    opt.modified_eta = scalar::parse_real<Real>(o.modified_eta, "--modified-eta");
  }
  return opt;
}

template <class Real>
nlohmann::json flow_meta(const flow_cli_options& o, const flow::flow_options<Real>& opt,
                         const descent::rule_options<Real>& rule) {
  nlohmann::json meta = run_meta<Real>("flow");
  meta["problem"] = o.source.label();
  meta["system"] = opt.modified_eta > 0 ? "modified flow of GD at eta = " + o.modified_eta +
                                              ": dW/dtau = -grad(L + eta/4 |grad L|^2)"
                                        : "gradient flow: dZ/dtau = -G_E R(Z) G_U";
  if (rule.kind != descent::rule_kind::gd) {
    const std::string mu = o.rule.typed("momentum").empty() ? "0.9" : o.rule.typed("momentum");
    meta["rule"] = rule_text(o.rule, rule.kind);
    meta["system"] =
        "the limit of " + o.rule.rule + " with mu = " + mu +
        " as eta -> 0 at tau = eta k: dZ/dtau = -G_E R(Z) G_U / (1 - mu), the gradient flow at "
        "time tau / (1 - mu) = " +
        scalar::to_text<Real>(opt.speed) + " tau (GD with this rule follows it to O(eta))";
  }
  meta["stepper"] = flow::stepper_name(opt.stepper);
  meta["time"] = flow::time_name(opt.time);
  const std::string tol_text = o.tol.empty() ? default_tolerance_text<Real>() : o.tol;
  if (opt.stepper == flow::stepper_kind::rk4) {
    meta["step"] = o.step;
  } else {
    meta["rel_tol"] = o.rel_tol.empty() ? tol_text : o.rel_tol;
    meta["abs_tol"] = o.abs_tol.empty() ? tol_text : o.abs_tol;
  }
  const bool implicit =
      opt.stepper == flow::stepper_kind::radau || opt.stepper == flow::stepper_kind::automatic;
  meta["error_estimate"] =
      opt.estimate_error
          ? "|this run - a rerun by " +
                (implicit ? "the same stepper (" + flow::stepper_name(opt.stepper) + ")"
                          : std::string("the Taylor stepper")) +
                " in " + flow::promoted_name<Real>() + " at " +
                (opt.stepper == flow::stepper_kind::rk4
                     ? "its default tolerance " + default_tolerance_text<flow::promoted_t<Real>>()
                     : std::string("the tolerance / 1000")) +
                "| (round-off and truncation)"
          : "none (--error-estimate none)";
  return meta;
}

// What the run and its rerun cost: steps, rejected steps and the stepper's own work.
template <class Real>
nlohmann::json flow_counts(const flow::flow_options<Real>& opt,
                           const flow::flow_result<Real>& result) {
  nlohmann::json summary = {{"steps", result.run.steps}, {"rejected_steps", result.run.rejected}};
  const bool taylor =
      opt.stepper == flow::stepper_kind::taylor || opt.stepper == flow::stepper_kind::automatic;
  // The Taylor stepper evaluates no right-hand side: it computes K series coefficients per step
  // (order K), a count not comparable with an odeint stepper's evaluations. Radau IIA (radau, and
  // auto after its handover) evaluates gradients in its Newton iterations.
  const std::string work = taylor ? "series_coefficients" : "rhs_evaluations";
  const auto count = [&](const flow::run_stats& run, const std::string& prefix) {
    const long explicit_steps = run.steps - run.radau_steps;
    if (opt.stepper == flow::stepper_kind::radau) {
      summary[prefix + "steps"] = run.steps;
      summary[prefix + "radau_gradients"] = run.radau_gradients;
      return;
    }
    summary[prefix + "steps"] = run.steps;
    if (opt.stepper == flow::stepper_kind::automatic) {
      summary[prefix + "taylor_steps"] = explicit_steps;
      summary[prefix + "radau_steps"] = run.radau_steps;
      summary[prefix + "radau_gradients"] = run.radau_gradients;
    }
    summary[prefix + work] = taylor ? run.series_coefficients : run.rhs_evaluations;
    if (prefix.empty() && taylor && explicit_steps > 0) {
      summary["taylor_order"] = run.series_coefficients / explicit_steps;
    }
  };
  count(result.run, "");
  if (opt.estimate_error) count(result.reference, "rerun_");
  return summary;
}

template <class Real>
void run_flow(const flow_cli_options& o) {
  const auto num = [](const Real& x) { return io::cell::number(scalar::to_text<Real>(x)); };
  const nlohmann::json source = load_problem(o.source);
  const model::problem<Real> pb = io::parse_problem<Real>(source);
  flow::flow_options<Real> opt = flow_options_from<Real>(o, source);
  const descent::rule_options<Real> rule = parse_rule_options<Real>(o.rule);
  rule.validate();
  if (rule.kind == descent::rule_kind::sign) {
    run_sign_flow<Real>(o, pb, opt.times);
    return;
  }
  opt.speed = descent::flow_speed(rule);
  if (!(opt.speed > 0)) {
    throw input_error("--rule", o.rule.rule,
                      "has no flow limit in amflow (rules with one: gd, momentum, nesterov, "
                      "sign)");
  }
  if (rule.kind != descent::rule_kind::gd && !o.modified_eta.empty()) {
    throw input_error("--modified-eta", o.modified_eta,
                      "the modified flow is GD's (--rule gd), not " + o.rule.rule + "'s");
  }
  opt.validate();
  resolve_format(o.common.format, o.common.output);

  const nlohmann::json meta = flow_meta<Real>(o, opt, rule);
  std::vector<std::string> columns = {"tau", "loss", "zero_one_loss"};
  for (int x = 0; x < pb.tokens; ++x) columns.push_back("m_" + std::to_string(x));
  if (opt.estimate_error) {
    columns.push_back("margin_error");
    columns.push_back("loss_error");
  }
  progress_meter progress("flow", "% of the time", 100);
  table_output out(o.common, columns, meta, &progress);
  Real worst_margin(0), worst_loss(0);
  underflow_watch underflow;
  opt.on_sample = [&](size_t, const model::trajectory_sample<Real>& s) {
    const std::string where = "tau = " + scalar::to_text<Real>(s.tau);
    std::vector<io::cell> row = {num(s.tau), underflow.positive(s.loss, "the loss", where),
                                 num(s.zero_one_loss)};
    for (Eigen::Index x = 0; x < s.margins.size(); ++x) row.push_back(num(s.margins(x)));
    if (opt.estimate_error) {
      row.push_back(num(*s.margin_error));
      row.push_back(num(*s.loss_error));
      if (*s.margin_error > worst_margin) worst_margin = *s.margin_error;
      if (*s.loss_error > worst_loss) worst_loss = *s.loss_error;
    }
    out.row(row);
  };
  if (progress.enabled()) {
    opt.on_progress = [&](double fraction) {
      progress.update(static_cast<long long>(100 * fraction));
    };
  }
  const auto started = std::chrono::steady_clock::now();
  const flow::flow_result<Real> result = flow::integrate(pb, opt);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!result.ok()) throw std::runtime_error("flow did not complete: " + result.message);

  nlohmann::json summary = flow_counts(opt, result);
  if (opt.estimate_error) {
    summary["max_margin_error"] = scalar::to_text<Real>(worst_margin);
    summary["max_loss_error"] = scalar::to_text<Real>(worst_loss);
  }
  if (o.timing) {
    summary["seconds"] = seconds;
    summary["seconds_note"] =
        "wall time of the integration (and its error estimate's rerun) with the rows written as "
        "it samples them; not the process start, the parsing or the set-up (measured, so it "
        "differs from run to run)";
  }
  underflow.note(summary, scalar::name<Real>());
  out.finish(summary);
}

}  // namespace

void register_flow(CLI::App& app) {
  auto o = std::make_shared<flow_cli_options>();
  CLI::App* cmd = app.add_subcommand(
      "flow", "integrate the gradient flow dZ/dtau = -G_E R(Z) G_U and sample it");
  add_problem_source(*cmd, o->source);
  add_common(*cmd, o->common);
  cmd->add_option("--t-end", o->t_end, "final time tau (default 100, or the last --times)");
  cmd->add_option("--times", o->times,
                  "sample times: a,b,c | linspace:a:b:n | logspace:a:b:n (exponents of 10)");
  cmd->add_option("--stepper", o->stepper,
                  "auto (taylor, handing over to radau where the flow converges), taylor, radau, "
                  "bulirsch-stoer, rkf78, dopri5 or rk4")
      ->capture_default_str();
  cmd->add_option("--tol", o->tol,
                  "relative and absolute per-step tolerance (default 10^-(0.85 digits))");
  cmd->add_option("--rel-tol", o->rel_tol, "relative tolerance (overrides --tol)");
  cmd->add_option("--abs-tol", o->abs_tol, "absolute tolerance (overrides --tol)");
  cmd->add_option("--time", o->time,
                  "integration variable: linear (tau), log (s = log(1 + tau)) or auto "
                  "(log when t-end > 100)")
      ->capture_default_str();
  cmd->add_option("--step", o->step,
                  "rk4: the fixed step in the integration variable; others: the first trial step")
      ->capture_default_str();
  cmd->add_option("--max-steps", o->max_steps, "give up (exit 1) after this many steps")
      ->capture_default_str();
  cmd->add_option(
         "--error-estimate", o->error_estimate,
         "rerun (a second run at a higher precision with tolerance / 1000, rk4 step / 4) or none")
      ->capture_default_str();
  cmd->add_flag("--timing", o->timing,
                "add the integration's wall time to the summary (seconds; for benchmarks)")
      ->disable_flag_override();
  cmd->add_option("--modified-eta", o->modified_eta,
                  "integrate the modified flow of GD at this step, dW/dtau = -grad(L + eta/4 "
                  "|grad L|^2), instead of the gradient flow");
  cmd->add_option("--rule", o->rule.rule,
                  "the rule whose eta -> 0 limit to integrate: gd (the gradient flow), momentum "
                  "or nesterov (the gradient flow at speed 1 / (1 - mu)), sign (the sign flow "
                  "dW/dtau = -sign(grad L), where it is defined)")
      ->capture_default_str();
  add_rule_parameter(*cmd, o->rule, "momentum");
  cmd->callback([o, cmd] {
    // A tolerance the user gave through --tol is reported under --tol.
    const auto tolerance = [&](const std::string& own, const std::string& flag) {
      return own.empty() && !o->tol.empty() ? std::make_pair(std::string("--tol"), o->tol)
                                            : std::make_pair(flag, own);
    };
    const auto rel = tolerance(o->rel_tol, "--rel-tol"), abs = tolerance(o->abs_tol, "--abs-tol");
    flag_map flags;
    flags.add("rel_tol", rel.first, rel.second)
        .add("abs_tol", abs.first, abs.second)
        .add("tol", "--tol", o->tol)
        .add("step", "--step", o->step)
        .add("times", "--times")
        .add("modified_eta", "--modified-eta", o->modified_eta)
        .add("momentum", "--momentum", o->rule.typed("momentum"))
        .add("speed", "--momentum", o->rule.typed("momentum"))
        .add("max_steps", "--max-steps", o->max_steps);
    run_command(*cmd, flags, [&] {
      scalar::with_scalar(parse_digits(o->common.digits),
                          [&]<class Real>() { run_flow<Real>(*o); });
    });
  });
}

}  // namespace amflow::cli
