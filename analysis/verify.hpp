// The claim registry behind `amflow verify`: each prediction of ../shared/paper-notes.md (P1..P10)
// becomes one entry (name, the prediction it checks, a statement, and how to run it). Running a
// claim gives one or more checks: the setting, the predicted and the measured value, the error, the
// tolerance and whether the error is within it. Adding a claim is adding one entry to a table in
// analysis/claims_*.cpp.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace amflow::analysis {

struct verify_options {
  int digits = 50;  // precision of the high-precision claims (MPFR); long GD runs use double
  int threads = 0;  // claims run in parallel; 0: all hardware threads
};

// One row of the verification table. Numbers are texts with every digit of their precision.
struct check {
  std::string setting;    // problem, method, precision, where
  std::string predicted;  // the paper's value (closed form, exact rational, or a condition)
  std::string measured;   // what amflow computed
  std::string error;      // |measured - predicted| (or the count that must be zero)
  std::string tolerance;  // the largest error that passes
  bool pass = false;
};

struct claim {
  std::string name;        // e.g. "orthogonal-closed-form"
  std::string prediction;  // "P1" .. "P10"
  std::string statement;   // one line: what is claimed
  std::function<std::vector<check>(const verify_options&)> run;
};

// Every claim of the default suite, in the order of the predictions.
const std::vector<claim>& claims();

// The claims' groups, one per file (analysis/claims_*.cpp), concatenated by claims().
std::vector<claim> orthogonal_claims();
std::vector<claim> pair_claims();
std::vector<claim> underparameterized_claims();

struct claim_outcome {
  const claim* source = nullptr;
  std::vector<check> checks;
  std::string failure;  // an exception or numerical failure while running (counts as FAIL)
};

// Runs the named claims (all when `names` is empty; an unknown name throws input_error naming
// --claim) on `threads` threads, results in registry order.
std::vector<claim_outcome> run_claims(const std::vector<std::string>& names,
                                      const verify_options& options);

// Runs the given claims (any list, registered or not) the same way.
std::vector<claim_outcome> run_claim_list(const std::vector<const claim*>& list,
                                          const verify_options& options);

}  // namespace amflow::analysis
