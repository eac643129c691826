// Definitions for compare.hpp: included where its templates are instantiated (the per-scalar units
// that cmake/AmflowInstantiate.cmake generates, or a test or bench for scalar types of its own);
// other code sees the extern declarations.
#pragma once

#include <cmath>
#include <string>

#include "amflow/descent/descent.hpp"
#include "amflow/errors.hpp"
#include "amflow/parallel.hpp"
#include "amflow/scalar/convert.hpp"
#include "analysis/compare.hpp"

namespace amflow::analysis {

namespace detail {

// K = floor(t_end / eta), allowing for the rounding of the quotient (t_end = 10, eta = 0.1 gives
// 100 steps even when 10 / 0.1 rounds to 99.999...).
template <class Real>
long matched_steps(const Real& eta, const Real& t_end) {
  using std::floor;
  const Real ratio = t_end / eta;
  return static_cast<long>(floor(Real(ratio * (1 + 64 * scalar::epsilon<Real>()))));
}

template <class Real>
distance<Real> measure_distance(const descent::descent_result<Real>& gd,
                                const flow::flow_result<Real>& ref, Real* min_lead) {
  using std::abs;
  distance<Real> d;
  for (size_t k = 0; k < gd.samples.size(); ++k) {
    const auto& a = gd.samples[k];
    const auto& b = ref.samples[k];
    const model::vector<Real> diff = a.margins - b.margins;
    const Real e = diff.cwiseAbs().maxCoeff();
    if (e > d.max_margin_error) d.max_margin_error = e;
    if (k + 1 == gd.samples.size()) d.final_margin_error = e;
    const Real le = abs(a.loss - b.loss);
    if (le > d.loss_error) d.loss_error = le;
    if (b.margin_error && *b.margin_error > d.reference_error) d.reference_error = *b.margin_error;
    if (min_lead && k > 0) {  // at k = 0 both start from Z0
      const Real lead = diff.minCoeff();
      if (k == 1 || lead < *min_lead) *min_lead = lead;
    }
  }
  return d;
}

template <class Real>
std::optional<Real> order(const Real& e_prev, const Real& e, const Real& eta_prev,
                          const Real& eta) {
  using std::log;
  if (!(e_prev > 0) || !(e > 0) || eta_prev == eta) return std::nullopt;
  return Real(log(Real(e_prev / e)) / log(Real(eta_prev / eta)));
}

}  // namespace detail

template <class Real>
void compare_options<Real>::validate() const {
  const auto text = [](const Real& x) { return scalar::to_text<Real>(x); };
  if (!(t_end > 0) || !scalar::is_finite(t_end))
    throw input_error("t_end", text(t_end), "must be finite and positive");
  if (etas.empty()) throw input_error("etas", "(none)", "give at least one step size");
  rule.validate();
  if (!(descent::flow_speed(rule) > 0)) {
    throw input_error("rule", descent::rule_name(rule.kind),
                      "has no gradient-flow limit to compare with (rules with one: gd, momentum, "
                      "nesterov)");
  }
  if (modified && rule.kind != descent::rule_kind::gd) {
    throw input_error("modified", "true",
                      "the modified flow is GD's; the rule " + descent::rule_name(rule.kind) +
                          " is compared with its limit flow only (against the flow)");
  }
  for (const Real& eta : etas) {
    if (!(eta > 0) || !scalar::is_finite(eta))
      throw input_error("etas", text(eta), "step sizes must be finite and positive");
    if (eta > t_end) throw input_error("etas", text(eta), "is larger than t_end");
    // Every step is a sample of GD and of each reference: keep it within memory.
    if (detail::matched_steps(eta, t_end) > 1000000)
      throw input_error("etas", text(eta), "needs more than 10^6 steps to reach t_end");
  }
}

template <class Real>
compare_result<Real> compare(const model::problem<Real>& pb, const compare_options<Real>& opt) {
  opt.validate();
  const size_t n = opt.etas.size();
  std::vector<compare_row<Real>> rows(n);
  std::vector<outcome> failures(n);
  const auto work = [&](long i) {
    compare_row<Real>& row = rows[i];
    row.eta = opt.etas[i];
    row.steps = detail::matched_steps(row.eta, opt.t_end);

    descent::descent_options<Real> gd_opt;
    gd_opt.eta = row.eta;
    gd_opt.steps = row.steps;
    gd_opt.rule = opt.rule;
    const descent::descent_result<Real> gd = descent::run(pb, gd_opt);
    if (!gd.ok()) {
      failures[i] = outcome::failure(
          gd.why, "GD at eta = " + scalar::to_text<Real>(row.eta) + ": " + gd.message);
      return;
    }
    flow::flow_options<Real> f = opt.flow;
    f.on_sample = nullptr;
    f.on_progress = nullptr;
    f.times.clear();
    for (long k = 0; k <= row.steps; ++k) f.times.push_back(Real(row.eta * k));
    f.modified_eta = Real(0);
    f.speed = descent::flow_speed(opt.rule);
    const flow::flow_result<Real> ref = flow::integrate(pb, f);
    if (!ref.ok()) {
      failures[i] = outcome::failure(
          ref.why, "the flow for eta = " + scalar::to_text<Real>(row.eta) + ": " + ref.message);
      return;
    }
    row.flow = detail::measure_distance(gd, ref, &row.min_margin_lead);
    row.flow_run = ref.run;
    if (opt.modified) {
      f.modified_eta = row.eta;
      const flow::flow_result<Real> mod = flow::integrate(pb, f);
      if (!mod.ok()) {
        failures[i] = outcome::failure(
            mod.why,
            "the modified flow for eta = " + scalar::to_text<Real>(row.eta) + ": " + mod.message);
        return;
      }
      row.modified = detail::measure_distance<Real>(gd, mod, nullptr);
      row.modified_run = mod.run;
    }
  };
  // Rows go out in eta order, each with its observed order against the row before; the first
  // failure stops the loop.
  compare_result<Real> result;
  struct stopped {};
  try {
    parallel_for_ordered(static_cast<long>(n), opt.threads, work, [&](long i) {
      if (!failures[i].ok()) {
        static_cast<outcome&>(result) = failures[i];
        throw stopped{};
      }
      if (i > 0) {
        rows[i].flow.observed_order =
            detail::order(rows[i - 1].flow.max_margin_error, rows[i].flow.max_margin_error,
                          rows[i - 1].eta, rows[i].eta);
        if (opt.modified) {
          rows[i].modified->observed_order =
              detail::order(rows[i - 1].modified->max_margin_error,
                            rows[i].modified->max_margin_error, rows[i - 1].eta, rows[i].eta);
        }
      }
      if (opt.on_row) opt.on_row(rows[i]);
    });
  } catch (const stopped&) {
    return result;
  }
  result.rows = std::move(rows);
  return result;
}

}  // namespace amflow::analysis
