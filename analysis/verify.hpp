// The claim registry behind `amflow verify`: each prediction of ../shared/paper-notes.md (P1..P10)
// becomes one entry (name, the prediction it checks, a statement, and how to run it). Running a
// claim gives one or more checks: the setting, the predicted and the measured value, the error, the
// tolerance and whether the error is within it. A group of claims is one file,
// analysis/claims_*.cpp, that registers itself (a static claim_group); adding a file adds its
// claims, with no edit elsewhere.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace amflow::analysis {

struct verify_options {
  int digits = 50;  // precision of the high-precision claims (MPFR); long GD runs use double
  int threads = 0;  // claims run in parallel; 0: all hardware threads
};

// How a check compares its measured value with the prediction; `error` is always what must stay
// within `tolerance`.
enum class comparison {
  absolute,  // error = |measured - predicted|
  relative,  // error = |measured / predicted - 1|
  exact,     // exact rationals: error = |measured - predicted|, tolerance 0
  at_least,  // measured >= predicted - tolerance; error = max(0, predicted - measured)
  greater,   // measured > predicted; error = 0 when it holds, else predicted - measured
  less,      // measured < predicted; error = 0 when it holds, else measured - predicted
  count,     // an event count that must equal the prediction (0); error = |measured - predicted|
};

// "absolute", "relative", "exact", "at least", "greater", "less", "count".
std::string comparison_name(comparison c);

// How far a row's verdict is proven: exact (computed in exact rationals), ball (the exact values
// enclosed in ball arithmetic and every comparison behind PASS decided there: the verdict holds for
// the exact mathematics, not only for the floating-point run shown), no (floating point: the error
// column is an estimate).
enum class certainty { no, ball, exact };
// "no", "ball", "exact".
std::string certainty_name(certainty c);

// One row of the verification table. Numbers are decimal numerals with every digit of their
// precision, or empty when there is none (printed as null); exact rationals ("p/q") have their own
// fields; words go to the note.
struct check {
  std::string setting;  // problem, method, precision, where
  comparison how = comparison::absolute;
  std::string predicted;        // the paper's value (closed form, or the bound of a condition)
  std::string measured;         // what amflow computed
  std::string error;            // see comparison
  std::string tolerance;        // the largest error that passes
  std::string predicted_exact;  // exact rationals, when the check is exact
  std::string measured_exact;
  std::string note;  // the condition behind the prediction, what the tolerance is, ...
  bool pass = false;
  certainty certified = certainty::no;
};

struct claim {
  std::string name;        // e.g. "orthogonal-closed-form"
  std::string prediction;  // "P1" .. "P10"
  std::string statement;   // one line: what is claimed
  std::function<std::vector<check>(const verify_options&)> run;
};

// Every claim of the default suite, in the order of the predictions.
const std::vector<claim>& claims();

// Registers a group of claims when the program starts: one static object per claims_*.cpp file.
// claims() lists the groups by rank (then by registration), each group's claims in its order.
// Ranks in use: 10 orthogonal (P1-P5), 20 pair (P6-P8), 30 under-parameterised (P9), 40 update
// rules, 50 far-time limits.
struct claim_group {
  claim_group(int rank, std::vector<claim> (*make)());
};

struct claim_outcome {
  const claim* source = nullptr;
  std::vector<check> checks;
  std::string failure;  // an exception or numerical failure while running (counts as FAIL)
};

// The named claims in the order given (all, in registry order, when `names` is empty); an unknown
// name throws input_error naming the field "claim".
std::vector<const claim*> select_claims(const std::vector<std::string>& names);

// Runs the named claims (see select_claims) on `threads` threads, results in that order; each
// outcome also goes to on_outcome, in order, as soon as it and those before it are done.
std::vector<claim_outcome> run_claims(
    const std::vector<std::string>& names, const verify_options& options,
    const std::function<void(const claim_outcome&)>& on_outcome = {});

// Runs the given claims (any list, registered or not) the same way.
std::vector<claim_outcome> run_claim_list(
    const std::vector<const claim*>& list, const verify_options& options,
    const std::function<void(const claim_outcome&)>& on_outcome = {});

}  // namespace amflow::analysis
