// amflow verify: runs the claim registry (analysis/verify.hpp) and prints one row per check with
// PASS or FAIL; exit code 3 when any check fails (the table is written first).
#include <cstdlib>
#include <memory>

#include "amflow/errors.hpp"
#include "amflow/io/output.hpp"
#include "amflow/scalar/dispatch.hpp"
#include "analysis/verify.hpp"
#include "cli/common.hpp"

namespace amflow::cli {
namespace {

struct verify_cli_options {
  long digits = 50;
  std::string output;
  std::string format;
  std::vector<std::string> names;
  bool list = false;
  int threads = 0;
};

// A cell is numeric (rounded for reading in table/md/latex) when its whole text is a number.
io::cell cell_of(const std::string& text) {
  if (text.empty()) return {text, false};
  char* end = nullptr;
  std::strtod(text.c_str(), &end);
  return {text, end == text.c_str() + text.size()};
}

std::string run_verify(const verify_cli_options& o) {
  const io::format fmt = resolve_format(o.format, o.output);
  io::table t;
  if (o.list) {
    t.columns = {"claim", "prediction", "statement"};
    for (const auto& c : analysis::claims()) {
      t.rows.push_back({{c.name, false}, {c.prediction, false}, {c.statement, false}});
    }
    t.meta = {{"amflow", version}, {"command", "verify --list"}};
    return io::render(t, fmt);
  }
  scalar::check_digits(o.digits);
  if (o.digits < 50) {
    throw input_error("--digits", std::to_string(o.digits),
                      "the claims' tolerances (down to 1e-40) need at least 50 digits");
  }
  scalar::set_mpfr_digits(static_cast<int>(o.digits));
  analysis::verify_options opt;
  opt.digits = static_cast<int>(o.digits);
  opt.threads = o.threads;
  const auto outcomes = analysis::run_claims(o.names, opt);

  t.columns = {"claim", "setting",   "predicted", "measured",
               "error", "tolerance", "status",    "prediction"};
  long passed = 0, failed = 0;
  std::vector<std::string> failing;
  for (const auto& out : outcomes) {
    const auto& c = *out.source;
    if (!out.failure.empty()) {
      ++failed;
      failing.push_back(c.name);
      t.rows.push_back({{c.name, false},
                        {"did not run: " + out.failure, false},
                        {"", false},
                        {"", false},
                        {"", false},
                        {"", false},
                        {"FAIL", false},
                        {c.prediction, false}});
      continue;
    }
    bool all = true;
    for (const auto& k : out.checks) {
      all = all && k.pass;
      t.rows.push_back({{c.name, false},
                        {k.setting, false},
                        cell_of(k.predicted),
                        cell_of(k.measured),
                        cell_of(k.error),
                        cell_of(k.tolerance),
                        {k.pass ? "PASS" : "FAIL", false},
                        {c.prediction, false}});
    }
    if (all) {
      ++passed;
    } else {
      ++failed;
      failing.push_back(c.name);
    }
  }
  t.meta = {{"amflow", version},
            {"command", "verify"},
            {"digits", o.digits},
            {"scalar", "mpfr (high-precision claims); double where a claim says so"},
            {"claims", outcomes.size()},
            {"passed", passed},
            {"failed", failed}};
  if (!failing.empty()) t.meta["failing"] = failing;
  std::string text = io::render(t, fmt);
  if (!failing.empty()) {
    std::string names;
    for (const auto& n : failing) names += (names.empty() ? "" : ", ") + n;
    io::write_output(o.output, text);
    throw claims_failed(std::to_string(failed) + " of " + std::to_string(outcomes.size()) +
                        " claims failed: " + names);
  }
  return text;
}

}  // namespace

void register_verify(CLI::App& app) {
  auto o = std::make_shared<verify_cli_options>();
  CLI::App* cmd = app.add_subcommand(
      "verify", "check the paper's predictions (P1..P10): predicted vs measured, PASS or FAIL");
  cmd->add_option("--digits", o->digits, "precision of the high-precision claims (>= 50)")
      ->capture_default_str();
  cmd->add_option("--output", o->output, "write here (atomically) instead of standard output");
  add_format(*cmd, o->format);
  cmd->add_option("--claim", o->names, "run only this claim (repeatable; see --list)")
      ->allow_extra_args(false);
  cmd->add_flag("--list", o->list, "list the claims and exit");
  cmd->add_option("--threads", o->threads, "claims run in parallel (0: all cores)")
      ->capture_default_str();
  cmd->callback([o] { io::write_output(o->output, run_verify(*o)); });
}

}  // namespace amflow::cli
