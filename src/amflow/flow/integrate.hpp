// Gradient flow of the particle (logit) coordinates, integrated with Boost.Odeint:
//   dZ/dtau = -G_E R(Z) G_U,   Z(0) = Z0          (Z: N x M logits, state vec(Z), column-major)
// in linear time tau, or in log time s = log(1 + tau), where
//   dZ/ds = (1 + tau) dZ/dtau = e^s (-G_E R(Z) G_U),
// so that margins growing like log tau become straight lines in s and tau = 1e15 costs about as
// much as tau = 100. Samples are taken at requested times without restarting the stepper.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "amflow/model/problem.hpp"
#include "amflow/model/trajectory.hpp"
#include "amflow/outcome.hpp"

namespace amflow::flow {

// taylor: the Taylor series (src/amflow/flow/taylor_impl.hpp); radau: Radau IIA collocation,
// implicit and L-stable, whose step is set by accuracy even where the flow is stiff (near a finite
// limit; src/amflow/flow/radau_impl.hpp); automatic ("auto"): the Taylor series, handing over to
// Radau IIA once its steps are held by stability (the gradient flow; the modified flow stays with
// the Taylor series).
enum class stepper_kind { rk4, dopri5, rkf78, bulirsch_stoer, taylor, radau, automatic };

// The next higher precision, in which the error-estimating rerun can go (flow_options::
// higher_precision): double -> long double, long double -> float128, float128 -> MPFR at 43
// digits, MPFR at D digits -> MPFR at D + 10 digits. Without float128 (AMFLOW_HAVE_FLOAT128 = 0),
// long double -> MPFR at 33 digits.
template <class Real>
struct promoted {
  using type = mpfr_real;
};
template <>
struct promoted<double> {
  using type = long double;
};
#if AMFLOW_HAVE_FLOAT128
template <>
struct promoted<long double> {
  using type = float128;
};
#endif
template <class Real>
using promoted_t = typename promoted<Real>::type;
// The decimal digits of promoted_t<Real> (for MPFR: the current precision + 10).
template <class Real>
int promoted_digits();
// How that precision reads in output ("long double", "MPFR at 60 digits").
template <class Real>
std::string promoted_name();
enum class time_kind { linear, log };

// "rk4", "dopri5", "rkf78", "bulirsch-stoer", "taylor", "radau", "auto"; throws
// input_error(field, name) otherwise.
stepper_kind parse_stepper(const std::string& name, const std::string& field);
std::string stepper_name(stepper_kind k);
// "linear", "log"; throws input_error(field, name) otherwise.
time_kind parse_time(const std::string& name, const std::string& field);
std::string time_name(time_kind k);

template <class Real>
struct flow_options {
  stepper_kind stepper = stepper_kind::bulirsch_stoer;
  time_kind time = time_kind::log;
  // Per-step tolerances of the adaptive steppers: the local error estimate of each component y_i
  // must stay below abs_tol + rel_tol (|y_i| + h |y_i'|) (odeint's error checker).
  Real rel_tol = Real(0);
  Real abs_tol = Real(0);
  // rk4: the fixed step in the integration variable (tau or s); adaptive steppers: the first trial
  // step. Steps are shortened to land exactly on the sample times.
  Real step = Real(0);
  std::vector<Real> times;  // sample times tau: finite, >= 0, strictly increasing
  long max_steps = 10000000;
  // Estimate each sample's error by a second run with the tolerances divided by 1000 (rk4: the
  // step divided by 4) whose steps are also at most half of each interval between sample times
  // (so that a dense sample grid cannot force both runs through the same steps and make the
  // estimate 0); the reported values are those of the first run. The two runs go side by side (on
  // two threads when the system gives one), so each row is ready as soon as both reach it.
  bool estimate_error = true;
  // The same problem at the higher precision promoted_t<Real> (for MPFR types, built while that
  // precision is current: the caller parses its source again, so that its inputs round only
  // there). When set, the error-estimating rerun goes at that precision by the Taylor stepper (at
  // the tolerance / 1000; rk4: at that precision's default tolerance), and the estimate then
  // takes in this run's round-off (and its inputs' rounding) as well as its truncation error;
  // unset, the rerun goes at this precision and sees the truncation error only. The MPFR -> MPFR
  // rerun changes the process-wide MPFR precision while it runs, so it goes before the reported
  // run instead of beside it (rows appear once both have reached them, either way); nothing else
  // in the process may compute in MPFR meanwhile.
  std::function<model::problem<promoted_t<Real>>()> higher_precision;
  // 0: the gradient flow. eta > 0: the modified flow of GD at step eta (backward error analysis,
  // P10), dZ/dtau = -G_E (R + (eta/2) T) G_U (model::modified_logit_velocity), which GD follows to
  // O(eta^2) where it follows the gradient flow to O(eta).
  Real modified_eta = Real(0);
  // c > 0: the flow runs c times as fast, dZ/dtau = -c G_E R G_U (the gradient flow at time c tau;
  // with modified_eta, the modified flow at time c tau). c = 1/(1 - mu) is the limit of heavy-ball
  // and Nesterov momentum mu as eta -> 0 (descent::flow_speed).
  Real speed = Real(1);

  // Observers. on_sample, when set, receives each sample (with its error estimate) in order as
  // soon as it is known, instead of the result keeping it (rows stream). on_progress gets the
  // fraction of the integration variable covered by the reported run.
  std::function<void(size_t i, const model::trajectory_sample<Real>&)> on_sample;
  std::function<void(double fraction)> on_progress;

  // Throws input_error naming the field (rel_tol, abs_tol, tol, step, times, modified_eta, speed,
  // max_steps) for values the run cannot honour, including tolerances below
  // smallest_tolerance<Real>().
  void validate() const;
};

// Tolerances below this (100 units in the last place) cannot be met at the working precision.
template <class Real>
Real smallest_tolerance();

// The default tolerance: 10^-ceil(0.85 D) for D decimal digits (double 1e-13, 50 digits 1e-43).
template <class Real>
Real default_tolerance();

struct run_stats {
  long steps = 0;                // accepted steps
  long rejected = 0;             // rejected trial steps (adaptive steppers)
  long rhs_evaluations = 0;      // right-hand sides evaluated (odeint's steppers)
  long series_coefficients = 0;  // Taylor coefficients computed (taylor, auto: K per step)
  // Radau IIA's share (radau: all of it; automatic: after the handover, none before): its accepted
  // steps (counted in `steps` too) and the gradients its Newton iterations evaluated (not counted
  // in rhs_evaluations).
  long radau_steps = 0;
  long radau_gradients = 0;
};

// An outcome: step_limit, step_underflow or not_finite with where it happened, stopped, or
// reference when the error estimate's rerun did not finish.
template <class Real>
struct flow_result : outcome {
  // One per requested time reached (none when on_sample is set).
  std::vector<model::trajectory_sample<Real>> samples;
  run_stats run;                    // the reported run
  run_stats reference;              // the error-estimating run (if any)
  Real reference_tol = Real(0);     // its tolerance (rk4: its step)
  std::string reference_precision;  // its scalar type, e.g. "long double", "MPFR at 60 digits"
};

// Integrates the flow of pb from Z0 and samples it at options.times. Numerical failure (step size
// underflow, non-finite state, max_steps reached) is reported in the result (ok = false, the
// message says where), never thrown; invalid options throw input_error; an exception from an
// observer stops both runs and is rethrown.
template <class Real>
flow_result<Real> integrate(const model::problem<Real>& pb, const flow_options<Real>& options);

}  // namespace amflow::flow

// Each scalar type's flow is compiled once, in a unit generated by cmake/AmflowInstantiate.cmake.
#define AMFLOW_INSTANTIATE_FLOW(PREFIX, Real)                                    \
  PREFIX template Real amflow::flow::smallest_tolerance<Real>();                 \
  PREFIX template Real amflow::flow::default_tolerance<Real>();                  \
  PREFIX template int amflow::flow::promoted_digits<Real>();                     \
  PREFIX template std::string amflow::flow::promoted_name<Real>();               \
  PREFIX template void amflow::flow::flow_options<Real>::validate() const;       \
  PREFIX template amflow::flow::flow_result<Real> amflow::flow::integrate<Real>( \
      const amflow::model::problem<Real>&, const amflow::flow::flow_options<Real>&);

AMFLOW_EXTERN_FOR_EACH_REAL(AMFLOW_INSTANTIATE_FLOW)
