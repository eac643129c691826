// The step loop every stepper of the particle flow shares (odeint's, Radau IIA's): from a start
// time through the sample targets, with the step cap, the step limit, the stop flag and the
// failure messages in one place; included only by the flow's implementation headers.
#pragma once

#include <algorithm>
#include <atomic>
#include <boost/math/special_functions/expm1.hpp>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "amflow/flow/integrate.hpp"
#include "amflow/scalar/convert.hpp"

namespace amflow::flow::detail {

// How one run is steered from outside: a flag that stops it (the other run failed), a cap on
// its steps of half of each interval between targets (the error-estimating run), and a callback
// after each accepted step with the integration variable reached.
template <class Real>
struct run_control {
  const std::atomic<bool>* stop = nullptr;
  bool halve_intervals = false;
  std::function<void(const Real& t)> on_step;
};

// tau from the integration variable: s = log(1 + tau) in log time.
template <class Real>
Real tau_of(const Real& t, bool log_time) {
  return log_time ? Real(boost::math::expm1(t)) : t;
}

// Where a run stands, for its messages.
struct drive_setup {
  std::string stepper;         // its name in messages
  long max_steps = 0;          // accepted plus rejected steps
  long max_rejections = 1000;  // in a row
  bool log_time = false;
};

// Advances from t through targets[first..], calling record(i) at each. try_step(t, h) follows
// odeint's controlled-stepper convention: on success it advances t by h and may propose a new h;
// on failure it leaves t and shrinks h. finite() says whether the state is still finite. Returns
// "" or why it stopped.
template <class Real, class TryStep, class Finite, class Record>
outcome drive(Real t, Real h, const std::vector<Real>& targets, size_t first,
              const drive_setup& setup, run_stats& stats, const run_control<Real>& control,
              TryStep&& try_step, Finite&& finite, Record&& record) {
  using std::abs;
  using std::min;
  long consecutive_rejections = 0;
  const auto where = [&] {
    return " at tau = " + scalar::to_text<Real>(tau_of(t, setup.log_time));
  };
  for (size_t i = first; i < targets.size(); ++i) {
    const Real& target = targets[i];
    const Real cap =
        control.halve_intervals ? Real((target - (i ? targets[i - 1] : Real(0))) / 2) : Real(0);
    while (t < target) {
      if (control.stop && *control.stop) return outcome::failure(reason::stopped, "stopped");
      if (stats.steps + stats.rejected >= setup.max_steps) {
        return outcome::failure(reason::step_limit, setup.stepper + ": the step limit (" +
                                                        std::to_string(setup.max_steps) +
                                                        ") was reached" + where() +
                                                        "; raise max_steps or the tolerance");
      }
      if (cap > 0) h = min(h, cap);
      const Real remaining = target - t;
      const bool last = !(h < remaining);
      const Real proposed = h;
      Real trial = last ? remaining : h;
      const Real t_before = t;
      if (try_step(t, trial)) {
        ++stats.steps;
        consecutive_rejections = 0;
        if (!finite()) {
          return outcome::failure(reason::not_finite,
                                  setup.stepper + ": the state is no longer finite" + where());
        }
        // A step shortened to land on a sample time says nothing about the natural step size.
        if (last) {
          t = target;
          h = std::max(proposed, trial);
        } else {
          h = trial;
        }
        if (control.on_step) control.on_step(t);
      } else {
        ++stats.rejected;
        ++consecutive_rejections;
        h = trial;
        const Real floor = 16 * scalar::epsilon<Real>() * std::max(Real(1), abs(t_before));
        if (!(h > floor) || consecutive_rejections > setup.max_rejections) {
          return outcome::failure(
              reason::step_underflow,
              setup.stepper + ": the step size fell to " + scalar::to_text<Real>(h) + where() +
                  " without meeting the tolerance; raise the tolerance or the precision");
        }
      }
    }
    record(i);
  }
  return {};
}

}  // namespace amflow::flow::detail
