// amflow verify: runs the claim registry (analysis/verify.hpp) and prints one row per check with
// PASS or FAIL, streamed in registry order; exit code 3 when any check fails (the table is written
// first).
#include <memory>

#include "amflow/errors.hpp"
#include "amflow/scalar/dispatch.hpp"
#include "analysis/verify.hpp"
#include "cli/common.hpp"

namespace amflow::cli {
namespace {

struct verify_cli_options {
  common_options common;
  std::vector<std::string> names;
  bool list = false;
  std::string threads = "0";
};

// A number cell, or null for an empty text.
io::cell number_or_null(const std::string& text) {
  return text.empty() ? io::cell::null() : io::cell::number(text);
}

io::cell words_or_null(const std::string& text) {
  return text.empty() ? io::cell::null() : io::cell::words(text);
}

void run_list(const verify_cli_options& o) {
  const std::vector<const analysis::claim*> chosen = analysis::select_claims(o.names);
  table_output out(o.common, {"claim", "prediction", "statement"},
                   {{"amflow", version}, {"command", "verify --list"}});
  for (const analysis::claim* c : chosen) {
    out.row(
        {io::cell::words(c->name), io::cell::words(c->prediction), io::cell::words(c->statement)});
  }
  out.finish({{"claims", chosen.size()}});
}

void run_verify(const verify_cli_options& o) {
  if (o.list) return run_list(o);
  const long digits = parse_digits(o.common.digits);
  if (digits < 50) {
    throw input_error("--digits", o.common.digits,
                      "the claims' tolerances (down to 1e-40) need at least 50 digits");
  }
  analysis::verify_options opt;
  opt.digits = static_cast<int>(digits);
  opt.threads = parse_threads(o.threads);
  const std::vector<const analysis::claim*> chosen = analysis::select_claims(o.names);
  scalar::set_mpfr_digits(static_cast<int>(digits));

  progress_meter progress("verify", "claims", static_cast<long long>(chosen.size()));
  const nlohmann::json meta = {
      {"amflow", version},
      {"command", "verify"},
      {"digits", digits},
      {"scalar", "mpfr (high-precision claims); double where a claim says so"},
      {"columns",
       "error is compared with tolerance as the comparison says: absolute |measured - predicted|, "
       "relative |measured/predicted - 1|, exact (rationals), at least (measured >= predicted - "
       "tolerance), greater/less (0 when the order holds), count (events); certified: exact (exact "
       "rationals), ball (the exact values enclosed in ball arithmetic and the verdict decided "
       "there), no (floating point: the error is an estimate)"}};
  table_output out(
      o.common,
      {"claim", "setting", "comparison", "predicted", "measured", "error", "tolerance",
       "predicted_exact", "measured_exact", "note", "status", "certified", "prediction"},
      meta, &progress);
  long passed = 0, failed = 0, certified = 0;
  std::vector<std::string> failing;
  analysis::run_claim_list(chosen, opt, [&](const analysis::claim_outcome& outcome) {
    progress.add();
    const analysis::claim& c = *outcome.source;
    if (!outcome.failure.empty()) {
      ++failed;
      failing.push_back(c.name);
      out.row({io::cell::words(c.name), io::cell::words("did not run: " + outcome.failure),
               io::cell::null(), io::cell::null(), io::cell::null(), io::cell::null(),
               io::cell::null(), io::cell::null(), io::cell::null(), io::cell::null(),
               io::cell::words("FAIL"), io::cell::words("no"), io::cell::words(c.prediction)});
      return;
    }
    bool all = true;
    for (const analysis::check& k : outcome.checks) {
      all = all && k.pass;
      out.row({io::cell::words(c.name), io::cell::words(k.setting),
               io::cell::words(analysis::comparison_name(k.how)), number_or_null(k.predicted),
               number_or_null(k.measured), number_or_null(k.error), number_or_null(k.tolerance),
               words_or_null(k.predicted_exact), words_or_null(k.measured_exact),
               words_or_null(k.note), io::cell::words(k.pass ? "PASS" : "FAIL"),
               io::cell::words(analysis::certainty_name(k.certified)),
               io::cell::words(c.prediction)});
      if (k.certified != analysis::certainty::no) ++certified;
    }
    if (all) {
      ++passed;
    } else {
      ++failed;
      failing.push_back(c.name);
    }
  });
  nlohmann::json summary = {{"claims", chosen.size()},
                            {"passed", passed},
                            {"failed", failed},
                            {"certified_rows", certified}};
  if (!failing.empty()) summary["failing"] = failing;
  out.finish(summary);
  if (!failing.empty()) {
    std::string names;
    for (const auto& n : failing) names += (names.empty() ? "" : ", ") + n;
    throw claims_failed(std::to_string(failed) + " of " + std::to_string(chosen.size()) +
                        " claims failed: " + names);
  }
}

}  // namespace

void register_verify(CLI::App& app) {
  auto o = std::make_shared<verify_cli_options>();
  o->common.digits = "50";
  CLI::App* cmd = app.add_subcommand(
      "verify", "check the paper's predictions (P1..P10): predicted vs measured, PASS or FAIL");
  cmd->add_option("--digits", o->common.digits, "precision of the high-precision claims (>= 50)")
      ->capture_default_str();
  cmd->add_option("--output", o->common.output,
                  "write here (atomically) instead of standard output");
  cmd->add_option("--format", o->common.format, format_help);
  cmd->add_option("--claim", o->names, "run only this claim (repeatable; see --list)")
      ->allow_extra_args(false);
  cmd->add_flag("--list", o->list, "list the claims (only those named by --claim, if given)")
      ->disable_flag_override();
  cmd->add_option("--threads", o->threads, "claims run in parallel (0: all cores)")
      ->capture_default_str();
  cmd->callback([o, cmd] {
    flag_map flags;
    flags.add("claim", "--claim");
    run_command(*cmd, flags, [&] { run_verify(*o); });
  });
}

}  // namespace amflow::cli
