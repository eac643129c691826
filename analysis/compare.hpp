// Convergence-rate tables: GD at several step sizes against the gradient flow and against the
// modified flow of backward error analysis (P10), at matched time tau = eta k. For each eta:
//   e(eta) = max_{k <= K} max_x |m_x(GD, k) - m_x(flow, eta k)|,   K = floor(t_end / eta),
// and the observed order between consecutive rows, log(e(eta_i-1) / e(eta_i)) /
// log(eta_i-1 / eta_i): 1 against the flow, 2 against the modified flow.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "amflow/descent/rules.hpp"
#include "amflow/flow/integrate.hpp"
#include "amflow/model/problem.hpp"
#include "amflow/outcome.hpp"

namespace amflow::analysis {

template <class Real>
struct compare_row;

template <class Real>
struct compare_options {
  std::vector<Real> etas;         // step sizes, each > 0 and <= t_end
  Real t_end = Real(10);          // matched times eta k <= t_end
  flow::flow_options<Real> flow;  // stepper, time variable, tolerances (times are set per eta)
  // The rule GD runs with (rules.hpp); only rules with a gradient-flow limit (descent::
  // flow_speed > 0: gd, momentum, nesterov), compared with the flow at that speed.
  descent::rule_options<Real> rule;
  bool modified = true;  // also compare against the modified flow of each eta
  int threads = 0;       // one eta per thread; 0: all hardware threads
  // Receives each row, in the order of etas, as soon as it and the rows before it are done.
  std::function<void(const compare_row<Real>&)> on_row;

  // Throws input_error naming the field (etas, t_end, rule, modified) and validates the flow and
  // rule options.
  void validate() const;
};

// Distances between GD and one reference flow over k = 0 .. K.
template <class Real>
struct distance {
  Real max_margin_error = Real(0);    // max_k max_x |m_x(GD) - m_x(flow)|
  Real final_margin_error = Real(0);  // the same at k = K
  Real loss_error = Real(0);          // max_k |L(GD) - L(flow)|
  Real reference_error = Real(0);     // the flow's own error estimate (max over samples), 0 if none
  std::optional<Real> observed_order;  // against the previous row (from max_margin_error)
};

template <class Real>
struct compare_row {
  Real eta = Real(0);
  long steps = 0;       // K
  distance<Real> flow;  // against the gradient flow
  // min_{k >= 1} min_x (m_x(GD, k) - m_x(flow, eta k)): >= 0 (up to reference_error) when GD is
  // never behind the flow (P5 on orthogonal problems).
  Real min_margin_lead = Real(0);
  std::optional<distance<Real>> modified;  // against the modified flow at this eta
  flow::run_stats flow_run, modified_run;  // work of the reference integrations
};

// An outcome: the first failed run's reason, its message naming the run and eta.
template <class Real>
struct compare_result : outcome {
  std::vector<compare_row<Real>> rows;  // in the order of options.etas
};

template <class Real>
compare_result<Real> compare(const model::problem<Real>& pb, const compare_options<Real>& options);

}  // namespace amflow::analysis
