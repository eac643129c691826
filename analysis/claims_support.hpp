// Small helpers shared by the claim definitions (analysis/claims_*.cpp): problems by name, flow
// runs, and checks built from predicted and measured values.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "amflow/certify/ball.hpp"
#include "amflow/descent/descent.hpp"
#include "amflow/flow/integrate.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/scalar/convert.hpp"
#include "analysis/instantiate.hpp"
#include "analysis/verify.hpp"

namespace amflow::analysis::claims_detail {

using hp = mpfr_real;  // the high-precision type: MPFR at verify_options::digits

template <class Real>
std::string txt(const Real& x) {
  return scalar::to_text<Real>(x);
}

// Six significant digits, for a setting's text (the value used is the exact one).
inline std::string brief(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", x);
  return buffer;
}

template <class Real>
Real num(const std::string& s) {
  return scalar::parse_real<Real>(s, "claim");
}

template <class Real>
model::problem<Real> named(const std::string& name) {
  return io::parse_problem<Real>(io::named_problem(name));
}

inline std::string digits_text(const verify_options& o) {
  return std::to_string(o.digits) + " digits";
}

// K GD steps of size eta from W0, keeping only the final state and the transients; throws
// std::runtime_error when the run does not complete.
template <class Real>
descent::descent_result<Real> gd_run(const model::problem<Real>& pb, const Real& eta, long steps) {
  descent::descent_options<Real> d;
  d.eta = eta;
  d.steps = steps;
  d.record = false;
  descent::descent_result<Real> r = descent::run(pb, d);
  if (!r.ok()) throw std::runtime_error("GD did not complete: " + r.message);
  return r;
}

// The pair problem of the paper with its alpha and p0 (decimal or rational strings).
inline nlohmann::json pair_spec(const std::string& alpha, const std::string& p0) {
  nlohmann::json spec = io::named_problem("pair");
  spec["inputs"]["alpha"] = alpha;
  const rational p = scalar::parse_exact(p0, "p0");
  spec["frequencies"] = {{"kind", "explicit"},
                         {"p", nlohmann::json::array({p0, rational(1 - p).str()})}};
  return spec;
}

// |measured - predicted| <= tolerance.
template <class Real>
check near(const std::string& setting, const Real& predicted, const Real& measured,
           const Real& tolerance, const std::string& note = "") {
  using std::abs;
  const Real error = abs(measured - predicted);
  return {.setting = setting,
          .how = comparison::absolute,
          .predicted = txt(predicted),
          .measured = txt(measured),
          .error = txt(error),
          .tolerance = txt(tolerance),
          .note = note,
          .pass = error <= tolerance};
}

// |measured / predicted - 1| <= tolerance.
template <class Real>
check near_relative(const std::string& setting, const Real& predicted, const Real& measured,
                    const Real& tolerance) {
  using std::abs;
  const Real error = abs(measured / predicted - 1);
  return {.setting = setting,
          .how = comparison::relative,
          .predicted = txt(predicted),
          .measured = txt(measured),
          .error = txt(error),
          .tolerance = txt(tolerance),
          .pass = error <= tolerance};
}

// A rational as a decimal numeral at the working precision of hp.
inline std::string decimal(const rational& q) {
  return txt(scalar::from_rational<hp>(q, "claim", q.str()));
}

// measured == predicted in exact rationals (pass also needs `holds`, a side condition).
inline check exact_check(const std::string& setting, const rational& predicted,
                         const rational& measured, const std::string& note, bool holds = true) {
  const rational error = abs(measured - predicted);
  return {.setting = setting,
          .how = comparison::exact,
          .predicted = decimal(predicted),
          .measured = decimal(measured),
          .error = decimal(error),
          .tolerance = "0",
          .predicted_exact = predicted.str(),
          .measured_exact = measured.str(),
          .note = note,
          .pass = error == 0 && holds,
          .certified = certainty::exact};
}

// Whether the printed value `measured` is within `tolerance` of every value of the ball `exact`
// (which encloses the exact quantity): the row's PASS then holds for the exact mathematics.
inline bool certainly_within(const certify::ball& exact, const std::string& measured,
                             const std::string& tolerance) {
  const certify::ball gap = certify::ball::of(scalar::parse_exact(measured, "measured")) - exact;
  const rational tol = scalar::parse_exact(tolerance, "tolerance");
  return gap.below(tol) && (-gap).below(tol);
}

// |measured / exact - 1| <= tolerance for every value of the ball `exact` (nonzero).
inline bool certainly_within_relative(const certify::ball& exact, const std::string& measured,
                                      const std::string& tolerance) {
  const certify::ball gap =
      certify::ball::of(scalar::parse_exact(measured, "measured")) / exact - certify::ball(1);
  const rational tol = scalar::parse_exact(tolerance, "tolerance");
  return gap.below(tol) && (-gap).below(tol);
}

// An absolute check is proven when both its predicted and its measured value are certainly within
// its tolerance of the exact value (a ball enclosing it).
inline bool both_within(const check& c, const certify::ball& exact) {
  return certainly_within(exact, c.predicted, c.tolerance) &&
         certainly_within(exact, c.measured, c.tolerance);
}

// Marks c certified (ball) when its PASS is proven; says so in its note.
inline void certify_if(check& c, bool proven, const std::string& how) {
  if (proven && c.pass) {
    c.certified = certainty::ball;
    c.note += std::string(c.note.empty() ? "" : "; ") + "certified: " + how;
  }
}

// measured > predicted (greater) or measured < predicted (less); the error is how far the order
// fails (0 when it holds).
template <class Real>
check order_check(const std::string& setting, comparison how, const Real& predicted,
                  const Real& measured, const std::string& note) {
  const bool holds = how == comparison::greater ? measured > predicted : measured < predicted;
  const Real error =
      holds ? Real(0)
            : Real(how == comparison::greater ? predicted - measured : measured - predicted);
  return {.setting = setting,
          .how = how,
          .predicted = txt(predicted),
          .measured = txt(measured),
          .error = txt(error),
          .tolerance = "0",
          .note = note,
          .pass = holds};
}

// An event count that must be `predicted` (0: no loss increase).
inline check count_check(const std::string& setting, long predicted, long measured,
                         const std::string& note = "") {
  const long error = std::labs(measured - predicted);
  return {.setting = setting,
          .how = comparison::count,
          .predicted = std::to_string(predicted),
          .measured = std::to_string(measured),
          .error = std::to_string(error),
          .tolerance = "0",
          .note = note,
          .pass = error == 0};
}

// A flow run at the given tolerance (the Taylor-series stepper, log time, error estimate by a
// rerun); throws
// std::runtime_error when it does not complete.
template <class Real>
flow::flow_result<Real> flow_at(const model::problem<Real>& pb, std::vector<Real> times,
                                const Real& tol, bool estimate_error = true) {
  flow::flow_options<Real> o;
  o.stepper = flow::stepper_kind::taylor;
  o.time = flow::time_kind::log;
  o.estimate_error = estimate_error;
  o.rel_tol = o.abs_tol = tol;
  o.step = Real(1) / 100;
  o.times = std::move(times);
  flow::flow_result<Real> r = flow::integrate(pb, o);
  if (!r.ok()) throw std::runtime_error("the flow did not complete: " + r.message);
  return r;
}

// dm_x/dtau of the gradient flow at logits Z: the target column of the logit velocity minus the
// column of the largest wrong logit.
template <class Real>
Real margin_velocity(const model::problem<Real>& pb, const model::matrix<Real>& Z, int x) {
  const model::matrix<Real> V = model::logit_velocity(pb, Z);
  const int t = pb.target[x];
  int other = -1;
  for (int y = 0; y < pb.classes; ++y) {
    if (y != t && (other < 0 || Z(x, y) > Z(x, other))) other = y;
  }
  return V(x, t) - V(x, other);
}

// The time tau at which the flow's margin of token x equals `level`, by Newton's method on
// tau -> m_x(tau) with each m_x(tau) from a flow run (tolerance tol) and m_x'(tau) from the
// velocity there; starts at tau0 > 0 and stops when the step is below rel * tau.
template <class Real>
Real flow_time_to_margin(const model::problem<Real>& pb, int x, const Real& level, Real tau,
                         const Real& tol, const Real& rel) {
  using std::abs;
  for (int it = 0; it < 40; ++it) {
    const auto r = flow_at(pb, {Real(0), tau}, tol, false);
    const auto& s = r.samples.back();
    const Real step = (s.margins(x) - level) / margin_velocity(pb, s.Z, x);
    Real next = tau - step;
    if (!(next > 0)) next = tau / 2;
    if (abs(next - tau) <= rel * tau) return next;
    tau = next;
  }
  throw std::runtime_error("Newton's method for the crossing time did not converge");
}

}  // namespace amflow::analysis::claims_detail
