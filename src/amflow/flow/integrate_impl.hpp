// Definitions for integrate.hpp; included only by the per-scalar flow instantiation units.
#pragma once

#include <algorithm>
#include <boost/math/special_functions/expm1.hpp>
#include <boost/math/special_functions/log1p.hpp>
#include <cmath>
#include <string>

#include "amflow/errors.hpp"
#include "amflow/flow/integrate.hpp"
#include "amflow/flow/taylor_impl.hpp"
#include "amflow/model/particles.hpp"
#include "amflow/model/quantities.hpp"
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

// x - x == 0 exactly when x is finite, in every scalar type.
template <class Real>
bool all_finite(const scalar::ode_state<Real>& y) {
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    if (!(y(i) - y(i) == 0)) return false;
  }
  return true;
}

template <class Real>
bool is_finite(const Real& x) {
  return x - x == 0;
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
                  TryStep&& try_step, Record&& record) {
  using std::abs;
  Real t(0);
  long consecutive_rejections = 0;
  const auto where = [&] { return " at tau = " + scalar::to_text<Real>(tau_of(t, log_time)); };
  for (size_t i = 0; i < targets.size(); ++i) {
    const Real& target = targets[i];
    while (t < target) {
      if (stats.steps + stats.rejected >= max_steps) {
        return stepper + ": the step limit (" + std::to_string(max_steps) + ") was reached" +
               where() + "; raise --max-steps or --tol";
      }
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
      } else {
        ++stats.rejected;
        ++consecutive_rejections;
        h = trial;
        const Real floor = 16 * scalar::epsilon<Real>() * std::max(Real(1), abs(t_before));
        if (!(h > floor) || consecutive_rejections > 1000) {
          return stepper + ": the step size fell to " + scalar::to_text<Real>(h) + where() +
                 " without meeting the tolerance; raise --tol or --digits";
        }
      }
    }
    record(i, y);
  }
  return "";
}

// Runs one integration with the given tolerance (adaptive) or step (rk4); the sampled logits go to
// Z.
template <class Real>
std::string run_once(const model::problem<Real>& pb, const flow_options<Real>& opt,
                     const Real& rel_tol, const Real& abs_tol, const Real& step,
                     std::vector<model::matrix<Real>>& Z, run_stats& stats) {
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
  Z.clear();
  const auto record = [&](size_t, const state& x) {
    Z.push_back(Eigen::Map<const model::matrix<Real>>(x.data(), pb.tokens, pb.classes));
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
      return drive(y, targets, step, opt.max_steps, log_time, name, stats, fixed, record);
    }
    case stepper_kind::dopri5: {
      using dopri5 = odeint::runge_kutta_dopri5<state, Real, state, Real, algebra>;
      return drive(y, targets, step, opt.max_steps, log_time, name, stats,
                   controlled(odeint::make_controlled(abs_tol, rel_tol, dopri5())), record);
    }
    case stepper_kind::rkf78: {
      using rkf78 = odeint::runge_kutta_fehlberg78<state, Real, state, Real, algebra>;
      return drive(y, targets, step, opt.max_steps, log_time, name, stats,
                   controlled(odeint::make_controlled(abs_tol, rel_tol, rkf78())), record);
    }
    case stepper_kind::bulirsch_stoer: {
      using bs = odeint::bulirsch_stoer<state, Real, state, Real, algebra>;
      return drive(y, targets, step, opt.max_steps, log_time, name, stats,
                   controlled(bs(abs_tol, rel_tol)), record);
    }
    case stepper_kind::taylor: {
      const auto keep = [&](size_t, const model::matrix<Real>& X) { Z.push_back(X); };
      const Real tol = rel_tol > 0 && (abs_tol == 0 || rel_tol < abs_tol) ? rel_tol : abs_tol;
      return taylor_drive(pb, targets, tol, opt.modified_eta, opt.max_steps, log_time, stats, keep);
    }
  }
  return "unknown stepper";
}

}  // namespace detail

template <class Real>
void flow_options<Real>::validate() const {
  const auto text = [](const Real& x) { return scalar::to_text<Real>(x); };
  const Real smallest = smallest_tolerance<Real>();
  const std::string floor_reason = "below what " + std::to_string(scalar::digits<Real>()) +
                                   " digits carry (smallest " + text(smallest) +
                                   " = 100 eps); raise --digits";
  if (stepper != stepper_kind::rk4) {
    if (!detail::is_finite(rel_tol) || rel_tol < 0)
      throw input_error("--rel-tol", text(rel_tol), "must be finite and >= 0");
    if (!detail::is_finite(abs_tol) || abs_tol < 0)
      throw input_error("--abs-tol", text(abs_tol), "must be finite and >= 0");
    if (rel_tol == 0 && abs_tol == 0)
      throw input_error("--tol", "0", "an adaptive stepper needs a positive tolerance");
    if (rel_tol > 0 && rel_tol < smallest)
      throw input_error("--rel-tol", text(rel_tol), floor_reason);
    if (abs_tol > 0 && abs_tol < smallest)
      throw input_error("--abs-tol", text(abs_tol), floor_reason);
  }
  if (!detail::is_finite(step) || !(step > 0))
    throw input_error("--step", text(step), "must be finite and positive");
  if (times.empty()) throw input_error("--times", "(none)", "give at least one sample time");
  for (size_t i = 0; i < times.size(); ++i) {
    if (!detail::is_finite(times[i]) || times[i] < 0)
      throw input_error("--times", text(times[i]), "sample times must be finite and >= 0");
    if (i > 0 && !(times[i] > times[i - 1]))
      throw input_error("--times", text(times[i]), "sample times must increase strictly");
  }
  if (!detail::is_finite(modified_eta) || modified_eta < 0)
    throw input_error("--modified-eta", text(modified_eta), "must be finite and >= 0");
  if (max_steps <= 0)
    throw input_error("--max-steps", std::to_string(max_steps), "must be positive");
}

template <class Real>
flow_result<Real> integrate(const model::problem<Real>& pb, const flow_options<Real>& options) {
  using std::abs;
  using std::max;
  options.validate();
  flow_result<Real> result;
  std::vector<model::matrix<Real>> Z, Z_ref;
  const std::string failure =
      detail::run_once(pb, options, options.rel_tol, options.abs_tol, options.step, Z, result.run);
  for (size_t i = 0; i < Z.size(); ++i) {
    result.samples.push_back(model::measure(pb, options.times[i], Z[i]));
  }
  if (!failure.empty()) {
    result.ok = false;
    result.message = failure;
    return result;
  }
  if (!options.estimate_error) return result;

  // The reference run: tolerances / 1000 (never below 10 eps), or rk4 with a quarter of the step
  // (its error is then 1/256 of the reported run's).
  const Real floor = 10 * scalar::epsilon<Real>();
  const auto tighter = [&](const Real& tol) {
    return tol > 0 ? max(Real(tol / 1000), floor) : tol;
  };
  const Real rel_ref = tighter(options.rel_tol);
  const Real abs_ref = tighter(options.abs_tol);
  const Real step_ref =
      options.stepper == stepper_kind::rk4 ? Real(options.step / 4) : options.step;
  result.reference_tol = options.stepper == stepper_kind::rk4 ? step_ref : max(rel_ref, abs_ref);
  const std::string ref_failure =
      detail::run_once(pb, options, rel_ref, abs_ref, step_ref, Z_ref, result.reference);
  if (!ref_failure.empty()) {
    result.ok = false;
    result.message = "the error-estimating run (tolerance " +
                     scalar::to_text<Real>(result.reference_tol) + ") failed: " + ref_failure;
    return result;
  }
  for (size_t i = 0; i < Z.size(); ++i) {
    const model::trajectory_sample<Real> ref = model::measure(pb, options.times[i], Z_ref[i]);
    auto& s = result.samples[i];
    s.margin_error = (s.margins - ref.margins).cwiseAbs().maxCoeff();
    s.loss_error = abs(s.loss - ref.loss);
  }
  return result;
}

}  // namespace amflow::flow
