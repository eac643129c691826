// amflow scaling: steps to a target loss as the vocabulary grows, for several update rules, with
// fitted power-law exponents (analysis/scaling.hpp).
#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>

#include "amflow/errors.hpp"
#include "amflow/io/points.hpp"
#include "amflow/scalar/convert.hpp"
#include "analysis/scaling.hpp"
#include "cli/common.hpp"

namespace amflow::cli {
namespace {

struct scaling_cli_options {
  common_options common;
  std::string rules = "gd,sign,adam";
  std::string sizes = "list:10,30,100,300,1000";
  std::string eta = "0.1";
  std::string target = "0.1";
  std::string zipf = "1";
  std::string max_steps = "100000000";
  std::string threads = "0";
  rule_cli_options rule;  // the parameters (--momentum, --beta1, ...) shared by the rules
};

std::string text_of(double x) {
  std::ostringstream s;
  s.precision(17);
  s << x;
  return s.str();
}

void run_scaling(const scaling_cli_options& o) {
  if (parse_digits(o.common.digits) != 15) {
    throw input_error("--digits", o.common.digits, "the scaling study runs in double (15)");
  }
  analysis::scaling_options opt;
  for (const double n : io::parse_points<double>(o.sizes, "--sizes")) {
    if (!(n >= 2 && n <= 1e8) || n != std::round(n)) {
      throw input_error("--sizes", o.sizes, "each N must be a whole number in [2, 10^8]");
    }
    opt.sizes.push_back(static_cast<int>(n));
  }
  std::vector<std::string> names;
  {
    std::stringstream in(o.rules);
    std::string name;
    while (std::getline(in, name, ',')) names.push_back(name);
  }
  if (names.empty()) throw input_error("--rules", o.rules, "give at least one rule");
  // The rules this study runs (those that act entrywise, analysis/scaling.hpp).
  const std::vector<std::string> runs = {"gd", "momentum", "nesterov", "sign", "adam"};
  for (const auto& n : names) {
    if (std::find(runs.begin(), runs.end(), n) == runs.end()) {
      throw input_error("--rules", n.empty() ? "\"\"" : n,
                        "expected gd, momentum, nesterov, sign or adam (the rules that act "
                        "entrywise)" +
                            did_you_mean(n, runs));
    }
  }
  // Each rule parameter applies if some listed rule uses it.
  for (const descent::rule_parameter& p : descent::all_rule_parameters()) {
    const std::string& text = o.rule.typed(p.name);
    if (text.empty()) continue;
    bool used = false;
    for (const auto& n : names)
      used = used || descent::rule_uses(descent::parse_rule(n, "--rules"), p.name);
    if (!used) throw input_error(rule_flag(p.name), text, "applies to none of --rules " + o.rules);
  }
  for (const auto& n : names) {
    rule_cli_options one = o.rule;
    one.rule = n;
    const descent::rule_kind kind = descent::parse_rule(n, "--rules");
    for (const descent::rule_parameter& p : descent::all_rule_parameters()) {
      if (!descent::rule_uses(kind, p.name)) one.values.erase(p.name);
    }
    opt.rules.push_back(parse_rule_options<double>(one));
  }
  opt.eta = scalar::parse_real<double>(o.eta, "--eta");
  opt.target = scalar::parse_real<double>(o.target, "--target");
  opt.exponent = scalar::parse_real<double>(o.zipf, "--zipf");
  opt.max_steps = parse_integer(o.max_steps, "--max-steps", 1, 1000000000000LL);
  opt.threads = parse_threads(o.threads);
  opt.validate();
  resolve_format(o.common.format, o.common.output);

  nlohmann::json meta = run_meta<double>("scaling");
  meta["problem"] =
      "N tokens, M = N classes, E = U = I (d = N), f*(x) = x, W0 = 0, p(x) ~ 1 / (x + "
      "1)^" +
      o.zipf;
  meta["rules"] = o.rules;
  for (const auto& n : names) {
    rule_cli_options one = o.rule;
    meta["rule_" + n] = rule_text(one, descent::parse_rule(n, "--rules"));
  }
  meta["eta"] = o.eta;
  meta["target"] = o.target;
  meta["steps_all_classes"] =
      "max over x of the first step k with l_x(k) <= target, l_x = log(1 + (N - 1) e^-m_x) the "
      "loss of class x; steps_mean_loss: the first k with L = sum_x p(x) l_x <= target; null if "
      "not reached within max_steps";
  meta["method"] =
      "the exact reduced run: each column of W is (a on the target, b on every other entry) for "
      "rules that act entrywise, O(N) per step (analysis/scaling.hpp; held to the full W in "
      "tests/analysis/scaling_test.cpp)";
  meta["trust"] =
      "step counts exact for the double computation (a count moves by one only where a loss lands "
      "within rounding of the target); rarest_class_loss: l_{N-1} at the last step run, double "
      "(rounding only); exponents: least-squares estimates over N with their standard errors";
  progress_meter progress("scaling", "runs",
                          static_cast<long long>(opt.rules.size() * opt.sizes.size()));
  table_output out(o.common,
                   {"rule", "N", "steps_all_classes", "steps_mean_loss", "rarest_class_loss"}, meta,
                   &progress);
  const auto count = [](const std::optional<long>& s) {
    return s ? io::cell::integer(*s) : io::cell::null();
  };
  const analysis::scaling_result result =
      analysis::scaling(opt, [&](const analysis::scaling_row& r) {
        progress.add();
        out.row({io::cell::words(descent::rule_name(r.rule)), io::cell::integer(r.tokens),
                 count(r.steps_all_classes), count(r.steps_mean_loss),
                 io::cell::number(text_of(r.rarest_loss))});
      });
  nlohmann::json summary = nlohmann::json::object();
  for (const auto& rule : opt.rules) {
    const std::string name = descent::rule_name(rule.kind);
    for (const bool mean : {false, true}) {
      const auto f = analysis::fit_exponent(result.rows, rule.kind, mean);
      const std::string key = "exponent_" + name + (mean ? "_mean_loss" : "_all_classes");
      if (f.points < 2) {
        summary[key] = nullptr;
        continue;
      }
      summary[key] = text_of(f.exponent);
      summary[key + "_standard_error"] = text_of(f.standard_error);
    }
  }
  out.finish(summary);
}

}  // namespace

void register_scaling(CLI::App& app) {
  auto o = std::make_shared<scaling_cli_options>();
  CLI::App* cmd = app.add_subcommand("scaling",
                                     "steps to a target loss as N grows (Zipf frequencies, "
                                     "orthonormal axis embeddings), per rule, "
                                     "with fitted exponents");
  add_common(*cmd, o->common);
  cmd->add_option("--rules", o->rules, "comma-separated: gd, momentum, nesterov, sign, adam")
      ->capture_default_str();
  cmd->add_option("--sizes", o->sizes,
                  "N: list:a,b | linspace:a:b:n | logspace:a:b:n (whole numbers)")
      ->capture_default_str();
  cmd->add_option("--eta", o->eta, "the step of every rule")->capture_default_str();
  cmd->add_option("--target", o->target, "the loss to reach")->capture_default_str();
  cmd->add_option("--zipf", o->zipf, "Zipf exponent s of p(x) ~ 1 / (x + 1)^s")
      ->capture_default_str();
  cmd->add_option("--max-steps", o->max_steps, "give up a run after this many steps (null count)")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "runs in parallel (0: all cores)")
      ->capture_default_str();
  for (const descent::rule_parameter& p : descent::all_rule_parameters()) {
    add_rule_parameter(*cmd, o->rule, p.name);
  }
  cmd->callback([o, cmd] {
    flag_map flags;
    flags.add("sizes", "--sizes", o->sizes)
        .add("rules", "--rules", o->rules)
        .add("eta", "--eta", o->eta)
        .add("target", "--target", o->target)
        .add("exponent", "--zipf", o->zipf)
        .add("max_steps", "--max-steps", o->max_steps);
    add_rule_flags(flags, o->rule);
    run_command(*cmd, flags, [&] { run_scaling(*o); });
  });
}

}  // namespace amflow::cli
