// Definitions for integrate.hpp; included only by the per-scalar flow instantiation units.
#pragma once

#include <mpfr.h>

#include <algorithm>
#include <atomic>
#include <boost/math/special_functions/expm1.hpp>
#include <boost/math/special_functions/log1p.hpp>
#include <cmath>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

#include "amflow/errors.hpp"
#include "amflow/flow/integrate.hpp"
#include "amflow/flow/taylor_impl.hpp"
#include "amflow/model/particles.hpp"
#include "amflow/model/quantities.hpp"
#include "amflow/parallel.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/odeint.hpp"

namespace amflow::flow {

template <class Real>
Real smallest_tolerance() {
  return 100 * scalar::epsilon<Real>();
}

template <class Real>
Real default_tolerance() {
  // 10^-ceil(0.85 D), D the decimal digits the type carries: double 1e-13, long double 1e-16,
  // float128 1e-29, MPFR at 50 digits 1e-43, at 100 digits 1e-85.
  const int exponent = (85 * scalar::digits<Real>() + 99) / 100;
  return scalar::parse_real<Real>("1e-" + std::to_string(exponent), "tolerance");
}

namespace detail {

template <class State>
bool all_finite(const State& y) {
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    if (!scalar::is_finite(y(i))) return false;
  }
  return true;
}

// How one run is steered from outside: a flag that stops it (the other run failed), a cap on
// its steps of half of each interval between targets (the error-estimating run), and a callback
// after each accepted step with the integration variable reached.
template <class Real>
struct run_control {
  const std::atomic<bool>* stop = nullptr;
  bool halve_intervals = false;
  std::function<void(const Real& t)> on_step;
};

// The odeint system: y = vec(Z) (column-major N x M), t = tau or s = log(1 + tau).
template <class Real>
struct particle_system {
  const model::problem<Real>* pb;
  bool log_time;
  Real modified_eta;  // 0: gradient flow
  long* evaluations;

  void operator()(const scalar::ode_state<Real>& y, scalar::ode_state<Real>& dydt,
                  const Real& t) const {
    using std::exp;
    ++*evaluations;
    const model::matrix<Real> Z =
        Eigen::Map<const model::matrix<Real>>(y.data(), pb->tokens, pb->classes);
    model::matrix<Real> V = modified_eta > 0 ? model::modified_logit_velocity(*pb, Z, modified_eta)
                                             : model::logit_velocity(*pb, Z);
    if (log_time) V *= exp(t);  // dZ/ds = (1 + tau) dZ/dtau = e^s dZ/dtau
    dydt = Eigen::Map<const scalar::ode_state<Real>>(V.data(), V.size());
  }
};

template <class Real>
Real tau_of(const Real& t, bool log_time) {
  return log_time ? Real(boost::math::expm1(t)) : t;
}

// One run: advances y from t = 0 through the targets (in the integration variable), calling
// record(i, y) at each. try_step(y, t, h) follows odeint's controlled-stepper convention: on
// success it advances t by h and may propose a new h; on failure it leaves t and shrinks h. Returns
// "" or why it stopped.
template <class Real, class TryStep, class Record>
std::string drive(scalar::ode_state<Real>& y, const std::vector<Real>& targets, Real h,
                  long max_steps, bool log_time, const std::string& stepper, run_stats& stats,
                  const run_control<Real>& control, TryStep&& try_step, Record&& record) {
  using std::abs;
  using std::min;
  Real t(0);
  long consecutive_rejections = 0;
  const auto where = [&] { return " at tau = " + scalar::to_text<Real>(tau_of(t, log_time)); };
  for (size_t i = 0; i < targets.size(); ++i) {
    const Real& target = targets[i];
    const Real cap =
        control.halve_intervals ? Real((target - (i ? targets[i - 1] : Real(0))) / 2) : Real(0);
    while (t < target) {
      if (control.stop && *control.stop) return "stopped";
      if (stats.steps + stats.rejected >= max_steps) {
        return stepper + ": the step limit (" + std::to_string(max_steps) + ") was reached" +
               where() + "; raise max_steps or the tolerance";
      }
      if (cap > 0) h = min(h, cap);
      const Real remaining = target - t;
      const bool last = !(h < remaining);
      const Real proposed = h;
      Real trial = last ? remaining : h;
      const Real t_before = t;
      if (try_step(y, t, trial)) {
        ++stats.steps;
        consecutive_rejections = 0;
        if (!all_finite(y)) return stepper + ": the state is no longer finite" + where();
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
        if (!(h > floor) || consecutive_rejections > 1000) {
          return stepper + ": the step size fell to " + scalar::to_text<Real>(h) + where() +
                 " without meeting the tolerance; raise the tolerance or the precision";
        }
      }
    }
    record(i, y);
  }
  return "";
}

// Runs one integration with the given tolerance (adaptive) or step (rk4); record(i, Z) receives
// the logits at each sample time.
template <class Real, class Record>
std::string run_once(const model::problem<Real>& pb, const flow_options<Real>& opt,
                     const Real& rel_tol, const Real& abs_tol, const Real& step, run_stats& stats,
                     const run_control<Real>& control, Record&& record_Z) {
  namespace odeint = boost::numeric::odeint;
  using state = scalar::ode_state<Real>;
  using algebra = scalar::ode_algebra;
  const bool log_time = opt.time == time_kind::log;
  particle_system<Real> sys{&pb, log_time, opt.modified_eta, &stats.evaluations};

  std::vector<Real> targets;
  for (const Real& tau : opt.times) {
    targets.push_back(log_time ? Real(boost::math::log1p(tau)) : tau);
  }
  state y = Eigen::Map<const state>(pb.Z0.data(), pb.Z0.size());
  const auto record = [&](size_t i, const state& x) {
    record_Z(i, model::matrix<Real>(
                    Eigen::Map<const model::matrix<Real>>(x.data(), pb.tokens, pb.classes)));
  };
  const std::string name = stepper_name(opt.stepper);
  const auto controlled = [&](auto stepper) {
    return [stepper, &sys](state& x, Real& t, Real& h) mutable {
      return stepper.try_step(sys, x, t, h) == odeint::success;
    };
  };
  switch (opt.stepper) {
    case stepper_kind::rk4: {
      odeint::runge_kutta4<state, Real, state, Real, algebra> rk4;
      const auto fixed = [&](state& x, Real& t, Real& h) {
        rk4.do_step(sys, x, t, h);
        t += h;
        return true;
      };
      return drive(y, targets, step, opt.max_steps, log_time, name, stats, control, fixed, record);
    }
    case stepper_kind::dopri5: {
      using dopri5 = odeint::runge_kutta_dopri5<state, Real, state, Real, algebra>;
      return drive(y, targets, step, opt.max_steps, log_time, name, stats, control,
                   controlled(odeint::make_controlled(abs_tol, rel_tol, dopri5())), record);
    }
    case stepper_kind::rkf78: {
      using rkf78 = odeint::runge_kutta_fehlberg78<state, Real, state, Real, algebra>;
      return drive(y, targets, step, opt.max_steps, log_time, name, stats, control,
                   controlled(odeint::make_controlled(abs_tol, rel_tol, rkf78())), record);
    }
    case stepper_kind::bulirsch_stoer: {
      using bs = odeint::bulirsch_stoer<state, Real, state, Real, algebra>;
      return drive(y, targets, step, opt.max_steps, log_time, name, stats, control,
                   controlled(bs(abs_tol, rel_tol)), record);
    }
    case stepper_kind::taylor: {
      const Real tol = rel_tol > 0 && (abs_tol == 0 || rel_tol < abs_tol) ? rel_tol : abs_tol;
      return taylor_drive(pb, targets, tol, opt.modified_eta, opt.max_steps, log_time, stats,
                          control, record_Z);
    }
  }
  return "unknown stepper";
}

}  // namespace detail

template <class Real>
void flow_options<Real>::validate() const {
  const auto text = [](const Real& x) { return scalar::to_text<Real>(x); };
  const Real smallest = smallest_tolerance<Real>();
  const std::string floor_reason =
      "below what " + std::to_string(scalar::digits<Real>()) + " digits carry (smallest " +
      scalar::round_text(text(smallest), 3) + " = 100 eps); use more digits";
  using scalar::is_finite;
  if (stepper != stepper_kind::rk4) {
    if (!is_finite(rel_tol) || rel_tol < 0)
      throw input_error("rel_tol", text(rel_tol), "must be finite and >= 0");
    if (!is_finite(abs_tol) || abs_tol < 0)
      throw input_error("abs_tol", text(abs_tol), "must be finite and >= 0");
    if (rel_tol == 0 && abs_tol == 0)
      throw input_error("tol", "0", "an adaptive stepper needs a positive tolerance");
    if (rel_tol > 0 && rel_tol < smallest)
      throw input_error("rel_tol", text(rel_tol), floor_reason);
    if (abs_tol > 0 && abs_tol < smallest)
      throw input_error("abs_tol", text(abs_tol), floor_reason);
  }
  if (!is_finite(step) || !(step > 0))
    throw input_error("step", text(step), "must be finite and positive");
  if (times.empty()) throw input_error("times", "(none)", "give at least one sample time");
  for (size_t i = 0; i < times.size(); ++i) {
    if (!is_finite(times[i]) || times[i] < 0)
      throw input_error("times", text(times[i]), "sample times must be finite and >= 0");
    if (i > 0 && !(times[i] > times[i - 1]))
      throw input_error("times", text(times[i]), "sample times must increase strictly");
  }
  if (!is_finite(modified_eta) || modified_eta < 0)
    throw input_error("modified_eta", text(modified_eta), "must be finite and >= 0");
  if (max_steps <= 0) throw input_error("max_steps", std::to_string(max_steps), "must be positive");
}

template <class Real>
flow_result<Real> integrate(const model::problem<Real>& pb, const flow_options<Real>& options) {
  using std::abs;
  using std::max;
  options.validate();
  flow_result<Real> result;
  const size_t n = options.times.size();
  const bool log_time = options.time == time_kind::log;
  const Real t_final =
      log_time ? Real(boost::math::log1p(options.times.back())) : options.times.back();
  const auto deliver = [&](size_t i, model::trajectory_sample<Real> sample) {
    if (options.on_sample) {
      options.on_sample(i, sample);
    } else {
      result.samples.push_back(std::move(sample));
    }
  };
  detail::run_control<Real> main_control;
  if (options.on_progress && t_final > 0) {
    main_control.on_step = [&](const Real& t) {
      options.on_progress(static_cast<double>(Real(t / t_final)));
    };
  }

  if (!options.estimate_error) {
    const std::string failure =
        detail::run_once(pb, options, options.rel_tol, options.abs_tol, options.step, result.run,
                         main_control, [&](size_t i, const model::matrix<Real>& Z) {
                           deliver(i, model::measure(pb, options.times[i], Z));
                         });
    if (!failure.empty()) {
      result.ok = false;
      result.message = failure;
    }
    return result;
  }

  // The reference run: tolerances / 1000 (never below 10 eps) and steps of at most half a
  // sampling interval, or rk4 with a quarter of the step (its error is then 1/256 of the reported
  // run's).
  const Real floor = 10 * scalar::epsilon<Real>();
  const auto tighter = [&](const Real& tol) {
    return tol > 0 ? max(Real(tol / 1000), floor) : tol;
  };
  const bool rk4 = options.stepper == stepper_kind::rk4;
  const Real rel_ref = tighter(options.rel_tol);
  const Real abs_ref = tighter(options.abs_tol);
  const Real step_ref = rk4 ? Real(options.step / 4) : options.step;
  result.reference_tol = rk4 ? step_ref : max(rel_ref, abs_ref);

  // Both runs record into slots; a sample goes out once both have reached it, in order. A run
  // stops early only once the other has ended (finished or failed) and it has reached every sample
  // the other reached, so the rows released never depend on timing; an error stops both at once.
  std::mutex mutex;
  std::vector<std::optional<model::matrix<Real>>> slots[2] = {
      std::vector<std::optional<model::matrix<Real>>>(n),
      std::vector<std::optional<model::matrix<Real>>>(n)};
  size_t count[2] = {0, 0};
  bool ended[2] = {false, false};
  std::atomic<bool> stop[2] = {false, false};
  size_t next = 0;
  std::exception_ptr error;
  const auto fail = [&] {  // under the mutex
    if (!error) error = std::current_exception();
    stop[0] = stop[1] = true;
  };
  const auto settle = [&] {  // under the mutex
    for (int r = 0; r < 2; ++r) {
      if (ended[1 - r] && count[r] >= count[1 - r]) stop[r] = true;
    }
  };
  const auto release = [&] {  // under the mutex
    while (next < n && slots[0][next] && slots[1][next]) {
      model::trajectory_sample<Real> s = model::measure(pb, options.times[next], *slots[0][next]);
      const model::trajectory_sample<Real> ref =
          model::measure(pb, options.times[next], *slots[1][next]);
      s.margin_error = (s.margins - ref.margins).cwiseAbs().maxCoeff();
      s.loss_error = abs(s.loss - ref.loss);
      slots[0][next].reset();
      slots[1][next].reset();
      deliver(next++, std::move(s));
    }
  };
  const auto keep = [&](int r) {
    return [&, r](size_t i, const model::matrix<Real>& Z) {
      const std::lock_guard<std::mutex> lock(mutex);
      if (error) return;
      slots[r][i] = Z;
      count[r] = i + 1;
      settle();
      try {
        release();
      } catch (...) {
        fail();
      }
    };
  };
  const auto end_run = [&](int r) {
    const std::lock_guard<std::mutex> lock(mutex);
    ended[r] = true;
    settle();
  };
  main_control.stop = &stop[0];
  detail::run_control<Real> ref_control;
  ref_control.stop = &stop[1];
  // The Taylor stepper's rerun has a higher order and never shortens steps to land on samples.
  ref_control.halve_intervals = !rk4 && options.stepper != stepper_kind::taylor;
  std::string failure, ref_failure;
  const auto run = [&](int r) {
    try {
      std::string& why = r == 0 ? failure : ref_failure;
      why = r == 0 ? detail::run_once(pb, options, options.rel_tol, options.abs_tol, options.step,
                                      result.run, main_control, keep(0))
                   : detail::run_once(pb, options, rel_ref, abs_ref, step_ref, result.reference,
                                      ref_control, keep(1));
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mutex);
      fail();
    }
    end_run(r);
  };
  std::thread worker;
  try {
    worker = std::thread([&] {
      run(1);
      mpfr_free_cache2(MPFR_FREE_LOCAL_CACHE);  // MPFR's per-thread caches die with the thread
    });
  } catch (const std::system_error&) {
    // No second thread: the runs go one after the other (rows appear when both are done).
    note_refused_thread();
  }
  run(0);
  if (worker.joinable()) {
    worker.join();
  } else {
    run(1);
  }
  if (error) std::rethrow_exception(error);
  if (failure == "stopped") failure.clear();
  if (ref_failure == "stopped") ref_failure.clear();
  if (!failure.empty()) {
    result.ok = false;
    result.message = failure;
  } else if (!ref_failure.empty()) {
    result.ok = false;
    result.message = "the error-estimating run (tolerance " +
                     scalar::to_text<Real>(result.reference_tol) + ") failed: " + ref_failure;
  }
  return result;
}

}  // namespace amflow::flow
