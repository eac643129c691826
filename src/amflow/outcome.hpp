// What a run or a search came to, as a value: done, or the reason it did not finish (for a caller
// to branch on) with a message (for a person: what happened, where, and what to change). Every
// result type of the library is an outcome: `if (!r.ok())`, `r.why == reason::stopped`,
// `r.message`. Bad input is not an outcome: it throws input_error (errors.hpp) before any work.
#pragma once

#include <string>
#include <utility>

namespace amflow {

enum class reason {
  done,            // finished as asked
  stopped,         // asked to stop (a caller's flag, a signal)
  step_limit,      // the budget of steps or events ran out
  step_underflow,  // the step size fell below what the precision resolves
  not_finite,      // a value overflowed or became NaN (a diverging run)
  no_convergence,  // an iteration (Newton, an implicit equation) did not converge
  undefined,       // the quantity does not exist here (no minimiser, a flow not defined past tau)
  not_enclosed,    // ball arithmetic could not enclose or decide it at the precisions tried
  reference,       // the error estimate's rerun did not finish (its own reason in the message)
};

// The reason as a word for tables and logs ("done", "stopped", "step_limit", ...).
constexpr const char* reason_name(reason r) {
  switch (r) {
    case reason::done:
      return "done";
    case reason::stopped:
      return "stopped";
    case reason::step_limit:
      return "step_limit";
    case reason::step_underflow:
      return "step_underflow";
    case reason::not_finite:
      return "not_finite";
    case reason::no_convergence:
      return "no_convergence";
    case reason::undefined:
      return "undefined";
    case reason::not_enclosed:
      return "not_enclosed";
    case reason::reference:
      return "reference";
  }
  return "unknown";
}

struct outcome {
  reason why = reason::done;
  std::string message;  // empty when done

  bool ok() const { return why == reason::done; }
  void fail(reason r, std::string text) {
    why = r;
    message = std::move(text);
  }
  static outcome failure(reason r, std::string text) {
    outcome o;
    o.fail(r, std::move(text));
    return o;
  }
};

// A certified comparison of a computed answer with the exact one: equal (yes), decided and
// different (differs: the computed answer is wrong), or not decidable at the precisions tried.
enum class verdict { yes, differs, undecided };

constexpr const char* verdict_name(verdict v) {
  switch (v) {
    case verdict::yes:
      return "yes";
    case verdict::differs:
      return "differs";
    case verdict::undecided:
      return "undecided";
  }
  return "unknown";
}

}  // namespace amflow
