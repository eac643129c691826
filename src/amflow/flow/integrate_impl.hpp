// Definitions for integrate.hpp: included where its templates are instantiated (the per-scalar
// units that cmake/AmflowInstantiate.cmake generates, or a test or bench for scalar types of its
// own); other code sees the extern declarations.
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
#include <type_traits>

#include "amflow/errors.hpp"
#include "amflow/flow/drive.hpp"
#include "amflow/flow/integrate.hpp"
#include "amflow/flow/radau_impl.hpp"
#include "amflow/flow/taylor_impl.hpp"
#include "amflow/model/particles.hpp"
#include "amflow/model/quantities.hpp"
#include "amflow/parallel.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/odeint.hpp"
#include "amflow/scalar/widen.hpp"

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

// What receives the logits at each sample time: (i, Z).
template <class Real>
using sample_sink = std::function<void(size_t, const model::matrix<Real>&)>;

// Runs one integration with the given tolerance (adaptive) or step (rk4); record_Z(i, Z) receives
// the logits at each sample time. Compiled once per scalar type (AMFLOW_INSTANTIATE_FLOW_RUN
// below): every caller, at any precision, shares that one copy of the steppers.
template <class Real>
outcome run_once(const model::problem<Real>& pb, const flow_options<Real>& opt, const Real& rel_tol,
                 const Real& abs_tol, const Real& step, run_stats& stats,
                 const run_control<Real>& control,
                 const std::type_identity_t<sample_sink<Real>>& record_Z) {
  namespace odeint = boost::numeric::odeint;
  using state = scalar::ode_state<Real>;
  using algebra = scalar::ode_algebra;
  const bool log_time = opt.time == time_kind::log;
  particle_system<Real> sys{&pb, log_time, opt.modified_eta, &stats.rhs_evaluations};

  std::vector<Real> targets;
  for (const Real& tau : opt.times) {
    targets.push_back(log_time ? Real(boost::math::log1p(tau)) : tau);
  }
  state y = Eigen::Map<const state>(pb.Z0.data(), pb.Z0.size());
  const auto record = [&](size_t i) {
    record_Z(i, model::matrix<Real>(
                    Eigen::Map<const model::matrix<Real>>(y.data(), pb.tokens, pb.classes)));
  };
  const auto finite = [&] { return all_finite(y); };
  const drive_setup setup{
      .stepper = stepper_name(opt.stepper), .max_steps = opt.max_steps, .log_time = log_time};
  const auto controlled = [&](auto stepper) {
    return [stepper, &sys, &y](Real& t, Real& h) mutable {
      return stepper.try_step(sys, y, t, h) == odeint::success;
    };
  };
  const auto run = [&](auto&& try_step) {
    return drive(Real(0), step, targets, 0, setup, stats, control, try_step, finite, record);
  };
  switch (opt.stepper) {
    case stepper_kind::rk4: {
      odeint::runge_kutta4<state, Real, state, Real, algebra> rk4;
      return run([&](Real& t, Real& h) {
        rk4.do_step(sys, y, t, h);
        t += h;
        return true;
      });
    }
    case stepper_kind::dopri5: {
      using dopri5 = odeint::runge_kutta_dopri5<state, Real, state, Real, algebra>;
      return run(controlled(odeint::make_controlled(abs_tol, rel_tol, dopri5())));
    }
    case stepper_kind::rkf78: {
      using rkf78 = odeint::runge_kutta_fehlberg78<state, Real, state, Real, algebra>;
      return run(controlled(odeint::make_controlled(abs_tol, rel_tol, rkf78())));
    }
    case stepper_kind::bulirsch_stoer: {
      using bs = odeint::bulirsch_stoer<state, Real, state, Real, algebra>;
      return run(controlled(bs(abs_tol, rel_tol)));
    }
    case stepper_kind::taylor:
    case stepper_kind::radau:
    case stepper_kind::automatic: {
      const Real tol = rel_tol > 0 && (abs_tol == 0 || rel_tol < abs_tol) ? rel_tol : abs_tol;
      if (opt.stepper == stepper_kind::radau) {
        return radau_drive(pb, pb.Z0, Real(0), step, targets, 0, tol, opt.max_steps, log_time,
                           stats, control, record_Z);
      }
      if (opt.stepper == stepper_kind::taylor) {
        return taylor_drive(pb, targets, tol, opt.modified_eta, opt.max_steps, log_time, stats,
                            control, record_Z);
      }
      taylor_handover<Real> handover;
      outcome failure = taylor_drive(pb, targets, tol, opt.modified_eta, opt.max_steps, log_time,
                                     stats, control, record_Z, &handover);
      if (!failure.ok() || !handover.happened) return failure;
      return radau_drive(pb, handover.Z, handover.t, handover.h, targets, handover.next, tol,
                         opt.max_steps, log_time, stats, control, record_Z);
    }
  }
  return outcome::failure(reason::undefined, "unknown stepper");
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
  if (modified_eta > 0 && stepper == stepper_kind::radau)
    throw input_error("modified_eta", text(modified_eta),
                      "the radau stepper integrates the gradient flow only (use taylor or auto)");
  if (!is_finite(speed) || !(speed > 0))
    throw input_error("speed", text(speed), "must be finite and positive");
  if (!is_finite(Real(speed * times.back())))
    throw input_error(
        "speed", text(speed),
        "the last sample time times speed is beyond the range of " + scalar::name<Real>());
  if (max_steps <= 0) throw input_error("max_steps", std::to_string(max_steps), "must be positive");
}

template <class Real>
int promoted_digits() {
  if constexpr (is_mpfr_v<Real>) {
    return scalar::mpfr_digits() + 10;
  } else if constexpr (is_float128_v<Real>) {
    return 43;
  } else if constexpr (is_mpfr_v<promoted_t<Real>>) {
    return 33;  // long double without float128
  } else {
    return std::numeric_limits<promoted_t<Real>>::digits10;
  }
}

template <class Real>
std::string promoted_name() {
  if constexpr (is_mpfr_v<promoted_t<Real>>) {
    return "MPFR at " + std::to_string(promoted_digits<Real>()) + " digits";
  } else if constexpr (is_float128_v<promoted_t<Real>>) {
    return "float128";
  } else {
    return "long double";
  }
}

namespace detail {

// options.on_progress as a run's on_step: the fraction of the integration variable (tau, or
// s = log(1 + tau)) a run of type Run has covered, mapped to offset + scale * fraction; empty when
// nobody listens or the run has no length.
template <class Run, class Real>
std::function<void(const Run&)> progress_of(const flow_options<Real>& options, double offset,
                                            double scale) {
  const bool log_time = options.time == time_kind::log;
  const Real end = log_time ? Real(boost::math::log1p(options.times.back())) : options.times.back();
  if (!options.on_progress || !(end > 0)) return {};
  const Run run_end = scalar::widen<Run>(end);
  return [&options, run_end, offset, scale](const Run& t) {
    options.on_progress(offset + scale * static_cast<double>(Run(t / run_end)));
  };
}

// Hands a finished sample to the observer, or keeps it in the result.
template <class Real>
void deliver_sample(const flow_options<Real>& options, flow_result<Real>& result, size_t i,
                    model::trajectory_sample<Real> s) {
  if (options.on_sample) {
    options.on_sample(i, s);
  } else {
    result.samples.push_back(std::move(s));
  }
}

// What the error-estimating run keeps of a sample.
template <class Ref>
struct reference_sample {
  model::vector<Ref> margins;
  Ref loss;
};

// The flow with its error estimate: the reported run (Real, pb) and a rerun on make_reference()'s
// problem in Ref. At the same precision (Ref = Real) the rerun takes the same stepper with the
// tolerances / 1000 (never below 10 eps) and steps of at most half a sampling interval, or rk4
// with a quarter of the step (its error is then 1/256 of the reported run's). At a higher
// precision it is the Taylor stepper at the tolerance / 1000 (rk4: at Ref's default tolerance),
// whatever the reported run's stepper: odeint's steppers keep function-static constants that take
// the MPFR precision of their first use, so an odeint rerun at D + 10 digits would change the
// digits of a later D-digit run (and a first run at D those of the rerun). ref_digits > 0: Ref is
// MPFR and the rerun goes at that precision (beside the reported run when Real is not MPFR,
// before it when it is).
// Longer than .clang-tidy's 120 lines until the flow has one driver for every stepper.
template <class Real, class Ref, class MakeReference>
// NOLINTNEXTLINE(readability-function-size)
flow_result<Real> integrate_with_rerun(const model::problem<Real>& pb,
                                       const flow_options<Real>& options,
                                       MakeReference&& make_reference, int ref_digits,
                                       const std::string& reference_precision) {
  using std::abs;
  using std::max;
  flow_result<Real> result;
  result.reference_precision = reference_precision;
  const size_t n = options.times.size();
  const bool rk4 = options.stepper == stepper_kind::rk4;
  const bool sequential = is_mpfr_v<Real> && ref_digits > 0;

  // Both runs record into slots; a sample goes out once both have reached it, in order. A run
  // stops early only once the other has ended (finished or failed) and it has reached every sample
  // the other reached, so the rows released never depend on timing; an error stops both at once.
  std::mutex mutex;
  std::vector<std::optional<model::trajectory_sample<Real>>> mains(n);
  std::vector<std::optional<reference_sample<Ref>>> refs(n);
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
    while (next < n && mains[next] && refs[next]) {
      model::trajectory_sample<Real> s = std::move(*mains[next]);
      const reference_sample<Ref>& ref = *refs[next];
      Ref worst(0);
      for (Eigen::Index x = 0; x < s.margins.size(); ++x) {
        worst = max(worst, Ref(abs(Ref(scalar::widen<Ref>(s.margins(x)) - ref.margins(x)))));
      }
      s.margin_error = scalar::narrow<Real>(worst);
      s.loss_error = scalar::narrow<Real>(Ref(abs(Ref(scalar::widen<Ref>(s.loss) - ref.loss))));
      mains[next].reset();
      refs[next].reset();
      deliver_sample(options, result, next++, std::move(s));
    }
  };
  const auto store = [&](int r, size_t i, auto&& put) {
    const std::lock_guard<std::mutex> lock(mutex);
    if (error) return;
    put();
    count[r] = i + 1;
    settle();
    try {
      release();
    } catch (...) {
      fail();
    }
  };
  const auto end_run = [&](int r) {
    const std::lock_guard<std::mutex> lock(mutex);
    ended[r] = true;
    settle();
  };

  run_control<Real> main_control;
  main_control.stop = &stop[0];
  run_control<Ref> ref_control;
  ref_control.stop = &stop[1];
  const bool promoted = !std::is_same_v<Ref, Real> || ref_digits > 0;
  // A promoted rerun by odeint could change later runs' digits (see above): the Taylor series, or
  // the reported run's own stepper when that is Radau IIA or auto (no function statics either).
  const bool implicit =
      options.stepper == stepper_kind::radau || options.stepper == stepper_kind::automatic;
  const stepper_kind ref_stepper = promoted && !implicit ? stepper_kind::taylor : options.stepper;
  // The Taylor stepper's rerun has a higher order and never shortens steps to land on samples.
  ref_control.halve_intervals = !rk4 && ref_stepper != stepper_kind::taylor && !implicit;
  // Side by side, the reported run's share; one after the other (MPFR), half each.
  if (sequential) {
    ref_control.on_step = progress_of<Ref>(options, 0, 0.5);
    main_control.on_step = progress_of<Real>(options, 0.5, 0.5);
  } else {
    main_control.on_step = progress_of<Real>(options, 0, 1);
  }

  outcome failure, ref_failure;
  const auto run_main = [&] {
    return run_once(pb, options, options.rel_tol, options.abs_tol, options.step, result.run,
                    main_control, [&](size_t i, const model::matrix<Real>& Z) {
                      model::trajectory_sample<Real> s = model::measure(pb, options.times[i], Z);
                      store(0, i, [&] { mains[i] = std::move(s); });
                    });
  };
  const auto run_reference = [&] {
    // Everything of the rerun is made here, at its precision.
    const model::problem<Ref> ref_pb = make_reference();
    flow_options<Ref> ref_options;
    ref_options.stepper = ref_stepper;
    ref_options.time = options.time;
    ref_options.max_steps = options.max_steps;
    ref_options.modified_eta = scalar::widen<Ref>(options.modified_eta);
    for (const Real& tau : options.times) ref_options.times.push_back(scalar::widen<Ref>(tau));
    const Ref floor = 10 * scalar::epsilon<Ref>();
    const auto tighter = [&](const Real& tol) {
      return tol > 0 ? max(Ref(scalar::widen<Ref>(tol) / 1000), floor) : Ref(0);
    };
    const bool fixed = ref_stepper == stepper_kind::rk4;
    const Ref rel = promoted && rk4 ? default_tolerance<Ref>() : tighter(options.rel_tol);
    const Ref abs_ = promoted && rk4 ? default_tolerance<Ref>() : tighter(options.abs_tol);
    const Ref step =
        fixed ? Ref(scalar::widen<Ref>(options.step) / 4) : scalar::widen<Ref>(options.step);
    {
      const std::lock_guard<std::mutex> lock(mutex);
      result.reference_tol = scalar::narrow<Real>(fixed ? step : max(rel, abs_));
    }
    return run_once(ref_pb, ref_options, rel, abs_, step, result.reference, ref_control,
                    [&](size_t i, const model::matrix<Ref>& Z) {
                      const model::trajectory_sample<Ref> s =
                          model::measure(ref_pb, ref_options.times[i], Z);
                      reference_sample<Ref> kept{s.margins, s.loss};
                      store(1, i, [&] { refs[i] = std::move(kept); });
                    });
  };
  const auto run = [&](int r) {
    try {
      if (r == 0) {
        failure = run_main();
      } else {
        ref_failure = run_reference();
      }
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mutex);
      fail();
    }
    end_run(r);
  };

  if (sequential) {
    {
      const scalar::mpfr_digits_scope scope(ref_digits);
      run(1);
    }
    run(0);
  } else {
    const scalar::mpfr_digits_scope scope(ref_digits);
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
  }
  if (error) std::rethrow_exception(error);
  // A run stopped because the other one failed is not a failure of its own.
  if (failure.why == reason::stopped) failure = {};
  if (ref_failure.why == reason::stopped) ref_failure = {};
  if (!failure.ok()) {
    static_cast<outcome&>(result) = failure;
  } else if (!ref_failure.ok()) {
    result.fail(reason::reference, "the error-estimating run (" + result.reference_precision +
                                       ", tolerance " +
                                       scalar::to_text<Real>(result.reference_tol) +
                                       ") failed: " + ref_failure.message);
  }
  return result;
}

}  // namespace detail

template <class Real>
flow_result<Real> integrate(const model::problem<Real>& pb, const flow_options<Real>& options) {
  options.validate();
  if (options.speed != 1) {
    // The flow at speed c is the flow at time c tau: integrate there, report at tau.
    flow_options<Real> at = options;
    at.speed = Real(1);
    for (Real& t : at.times) t *= options.speed;
    if (options.on_sample) {
      at.on_sample = [&](size_t i, const model::trajectory_sample<Real>& s) {
        model::trajectory_sample<Real> back = s;
        back.tau = options.times[i];
        options.on_sample(i, back);
      };
    }
    flow_result<Real> result = integrate(pb, at);
    for (size_t i = 0; i < result.samples.size(); ++i) result.samples[i].tau = options.times[i];
    return result;
  }
  if (!options.estimate_error) {
    flow_result<Real> result;
    detail::run_control<Real> control;
    control.on_step = detail::progress_of<Real>(options, 0, 1);
    const outcome failure = detail::run_once(
        pb, options, options.rel_tol, options.abs_tol, options.step, result.run, control,
        [&](size_t i, const model::matrix<Real>& Z) {
          detail::deliver_sample(options, result, i, model::measure(pb, options.times[i], Z));
        });
    static_cast<outcome&>(result) = failure;
    return result;
  }
  if (options.higher_precision) {
    using Ref = promoted_t<Real>;
    return detail::integrate_with_rerun<Real, Ref>(
        pb, options, [&] { return options.higher_precision(); },
        is_mpfr_v<Ref> ? promoted_digits<Real>() : 0, promoted_name<Real>());
  }
  return detail::integrate_with_rerun<Real, Real>(
      pb, options, [&] { return pb; }, 0, "the same precision");
}

}  // namespace amflow::flow

// run_once compiled once per scalar type, in the flow units (with AMFLOW_INSTANTIATE_FLOW): the
// rerun at a higher precision uses that type's copy instead of compiling the steppers again.
#define AMFLOW_INSTANTIATE_FLOW_RUN(PREFIX, Real)                                                \
  PREFIX template amflow::outcome amflow::flow::detail::run_once<Real>(                          \
      const amflow::model::problem<Real>&, const amflow::flow::flow_options<Real>&, const Real&, \
      const Real&, const Real&, amflow::flow::run_stats&,                                        \
      const amflow::flow::detail::run_control<Real>&,                                            \
      const std::type_identity_t<amflow::flow::detail::sample_sink<Real>>&);
#define AMFLOW_INSTANTIATE_FLOW_UNIT(PREFIX, Real) \
  AMFLOW_INSTANTIATE_FLOW(PREFIX, Real)            \
  AMFLOW_INSTANTIATE_FLOW_RUN(PREFIX, Real)

AMFLOW_EXTERN_FOR_EACH_REAL(AMFLOW_INSTANTIATE_FLOW_RUN)
