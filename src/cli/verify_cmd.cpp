// amflow verify: runs the claim registry (analysis/verify.hpp). In the table format (the default
// on a terminal) it prints one line per claim, grouped by prediction, then the totals; --checks and
// the machine formats give one row per check with its setting and note, streamed in registry
// order. Exit code 3 when any check fails (the output is written first).
#include <mpfr.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>

#include "amflow/errors.hpp"
#include "amflow/io/output.hpp"
#include "amflow/scalar/dispatch.hpp"
#include "analysis/verify.hpp"
#include "cli/common.hpp"

namespace amflow::cli {
namespace {

struct verify_cli_options {
  common_options common;
  std::vector<std::string> names;
  bool list = false;
  bool checks = false;
  std::string threads = "0";
};

// Where a prediction sorts in the one-line-per-claim view: P1..P10 in order, then the rest.
int prediction_rank(const std::string& p) {
  if (p.size() > 1 && p[0] == 'P' && std::all_of(p.begin() + 1, p.end(), ::isdigit)) {
    return std::stoi(p.substr(1));
  }
  return 1000;
}

// What each prediction says, for the group headings (../shared/paper-notes.md, section 3).
std::string prediction_title(const std::string& p) {
  static const std::map<std::string, std::string> titles = {
      {"P1", "orthogonal embeddings: the flow in closed form"},
      {"P2", "logarithmic margin growth"},
      {"P3", "the loss law tau L -> N (M-1)/M"},
      {"P4", "one step from zero: perfect accuracy, exactly"},
      {"P5", "GD recursion: never behind the flow"},
      {"P6", "no loss spikes without interference"},
      {"P7", "two correlated tokens: the rare one pushed back, then recovering"},
      {"P8", "benign loss spikes at large steps"},
      {"P9", "under-parameterised: cross-entropy's minimiser can lose accuracy"},
      {"P10", "backward error analysis: GD against the (modified) flow"},
      {"beyond", "beyond the paper: update rules, limits, implicit bias"}};
  const auto it = titles.find(p);
  return it == titles.end() ? p : it->second;
}

// error / tolerance of a check (0 when both are 0, infinity when only the tolerance is), or -1 when
// the check has no error to compare (a claim that did not run).
double error_ratio(const analysis::check& k) {
  if (k.error.empty() || k.tolerance.empty()) return -1;
  mpfr_t e, t;
  mpfr_inits2(64, e, t, static_cast<mpfr_ptr>(nullptr));
  double ratio = -1;
  if (mpfr_set_str(e, k.error.c_str(), 10, MPFR_RNDN) == 0 &&
      mpfr_set_str(t, k.tolerance.c_str(), 10, MPFR_RNDN) == 0) {
    mpfr_abs(e, e, MPFR_RNDN);
    if (mpfr_zero_p(t)) {
      ratio = mpfr_zero_p(e) ? 0 : std::numeric_limits<double>::infinity();
    } else {
      mpfr_div(e, e, t, MPFR_RNDU);
      ratio = mpfr_get_d(e, MPFR_RNDU);
    }
  }
  mpfr_clears(e, t, static_cast<mpfr_ptr>(nullptr));
  return ratio;
}

// The worst check's error against its tolerance, in a few characters: "3.2e-44 <= 1e-40";
// "exact" for exact rationals that agree; "holds" for an order or a count that holds.
std::string worst_text(const analysis::check& k) {
  using analysis::comparison;
  if (k.how == comparison::exact) return k.pass ? "exact" : "exact, differ";
  const bool order = k.how == comparison::greater || k.how == comparison::less ||
                     k.how == comparison::at_least || k.how == comparison::count;
  if (order && k.pass && error_ratio(k) == 0) return "holds";
  return scalar::round_text(k.error, 2) + (k.pass ? " <= " : " > ") +
         scalar::round_text(k.tolerance, 2);
}

// The columns of the one-line-per-claim view: status, claim, checks passed, the worst error against
// its tolerance, certified (exact, ball, part: some checks, no), and as much of the statement as
// the width leaves.
constexpr size_t checks_width = 6, worst_width = 18, certified_width = 9;

std::string claim_columns(const std::string& status, const std::string& name, size_t name_width,
                          const std::string& checks, const std::string& worst,
                          const std::string& certified) {
  const auto pad = [](const std::string& s, size_t n) {
    return s + std::string(n > s.size() ? n - s.size() : 0, ' ');
  };
  const auto right = [](const std::string& s, size_t n) {
    return std::string(n > s.size() ? n - s.size() : 0, ' ') + s;
  };
  return "  " + status + "  " + pad(name, name_width) + right(checks, checks_width) + "  " +
         pad(worst, worst_width) + "  " + pad(certified, certified_width) + "  ";
}

std::string claim_line(const analysis::claim_outcome& outcome, size_t name_width, size_t width,
                       bool colour) {
  const analysis::claim& c = *outcome.source;
  long passed = 0;
  const analysis::check* worst = nullptr;
  double worst_ratio = -1;
  bool all_certified = !outcome.checks.empty(), any_certified = false, all_exact = all_certified;
  for (const analysis::check& k : outcome.checks) {
    passed += k.pass ? 1 : 0;
    const double r = error_ratio(k);
    // The first failing check, else the one closest to its tolerance.
    if (!worst || (worst->pass && (!k.pass || r > worst_ratio))) worst = &k, worst_ratio = r;
    all_certified = all_certified && k.certified != analysis::certainty::no;
    any_certified = any_certified || k.certified != analysis::certainty::no;
    all_exact = all_exact && k.certified == analysis::certainty::exact;
  }
  const bool pass = outcome.failure.empty() && passed == static_cast<long>(outcome.checks.size());
  const std::string error = !outcome.failure.empty() ? "did not run"
                            : worst                  ? worst_text(*worst)
                                                     : "";
  std::string line =
      claim_columns("PASS", c.name, name_width,
                    std::to_string(passed) + "/" + std::to_string(outcome.checks.size()), error,
                    all_exact       ? "exact"
                    : all_certified ? "ball"
                    : any_certified ? "part"
                                    : "no");
  const std::string statement = outcome.failure.empty() ? c.statement : outcome.failure;
  if (line.size() + 12 <= width) line += fit(statement, width - line.size());
  while (!line.empty() && line.back() == ' ') line.pop_back();
  const std::string status = pass ? "PASS" : "FAIL";
  line.replace(2, 4, colour ? (pass ? "\033[32m" : "\033[1;31m") + status + "\033[0m" : status);
  return line + "\n";
}

// "a, b, c".
std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Exit code 3 (after the output is written) when claims failed.
void fail_if_any(const std::vector<std::string>& failing, size_t claims) {
  if (failing.empty()) return;
  throw claims_failed(std::to_string(failing.size()) + " of " + std::to_string(claims) +
                      " claims failed: " + joined(failing));
}

// verify in the table format: one line per claim, grouped by prediction (the claims run in that
// order), streamed as they finish, then the totals. At most `width` characters a line.
void run_summary(const verify_cli_options& o, std::vector<const analysis::claim*> chosen,
                 const analysis::verify_options& opt) {
  std::stable_sort(chosen.begin(), chosen.end(), [](const auto* a, const auto* b) {
    return prediction_rank(a->prediction) < prediction_rank(b->prediction);
  });
  io::output_target target(o.common.output);
  const bool terminal = target.to_terminal();
  const size_t width = static_cast<size_t>(output_width(terminal));
  const bool colour = colour_wanted(terminal);
  progress_meter progress("verify", "claims", static_cast<long long>(chosen.size()));
  if (progress.enabled() && terminal) target.before_write = [&progress] { progress.clear(); };
  size_t name_width = 0;
  for (const auto* c : chosen) name_width = std::max(name_width, c->name.size());
  const auto started = std::chrono::steady_clock::now();
  target.write(
      fit("amflow verify: " + std::to_string(chosen.size()) +
              " claims of the paper's predictions at " + std::to_string(opt.digits) +
              " digits (--checks: every check)",
          width) +
      "\n" +
      fit(claim_columns("    ", "claim", name_width, "checks", "worst error", "certified") +
              "statement",
          width) +
      "\n");
  std::string group = "-";
  long passed = 0, checks = 0, checks_passed = 0, certified = 0;
  std::vector<std::string> failing;
  analysis::run_claim_list(chosen, opt, [&](const analysis::claim_outcome& outcome) {
    progress.add();
    const analysis::claim& c = *outcome.source;
    std::string text;
    if (c.prediction != group) {
      group = c.prediction;
      text += "\n" + fit(c.prediction + "  " + prediction_title(c.prediction), width) + "\n";
    }
    text += claim_line(outcome, name_width, width, colour);
    target.write(text);
    bool all = outcome.failure.empty();
    for (const analysis::check& k : outcome.checks) {
      ++checks;
      checks_passed += k.pass ? 1 : 0;
      certified += k.certified != analysis::certainty::no ? 1 : 0;
      all = all && k.pass;
    }
    if (all) {
      ++passed;
    } else {
      failing.push_back(c.name);
    }
  });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  char time[32];
  std::snprintf(time, sizeof time, "%.1f s", seconds);
  const bool ok = failing.empty();
  std::string verdict = ok ? "PASS" : "FAIL";
  if (colour) verdict = (ok ? "\033[1;32m" : "\033[1;31m") + verdict + "\033[0m";
  target.write("\n" + verdict + "  " +
               fit(std::to_string(passed) + " of " + std::to_string(chosen.size()) +
                       " claims pass; " + std::to_string(checks_passed) + " of " +
                       std::to_string(checks) + " checks, " + std::to_string(certified) +
                       " certified (exact or ball); " + time,
                   width - 6) +
               "\n");
  if (!ok) target.write(fit("failing: " + joined(failing), width) + "\n");
  target.commit();
  fail_if_any(failing, chosen.size());
}

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
  if (!o.checks && resolve_format(o.common.format, o.common.output) == io::format::table) {
    return run_summary(o, chosen, opt);
  }

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
  fail_if_any(failing, chosen.size());
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
  cmd->add_flag("--checks", o->checks,
                "every check on its own row, with its setting and note (the table format shows one "
                "line per claim)")
      ->disable_flag_override();
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
