// How many steps each update rule needs as the vocabulary grows (a study beyond the paper): N
// tokens with Zipf frequencies p(x) ~ 1 / (x + 1)^s, M = N classes, axis-aligned orthonormal
// embeddings (E = U = I, d = N), target f*(x) = x, W0 = 0. The steps until every class's loss, and
// until the mean loss L = sum_x p(x) l_x, is at most a target, for N in a list, and the exponent of
// a power law fitted to each.
//
// The run is exact in a reduced form. With E = U = I, Z = W^T and grad L = R^T, so column x of W
// moves only by token x's residual, and its wrong entries start equal (0) and receive equal
// gradients p(x) (1 - s_x) / (M - 1) (s_x the softmax weight of the target), while the target
// entry receives -p(x) (1 - s_x). A rule that acts entrywise (gd, momentum, nesterov, sign, adam)
// therefore keeps every wrong entry of a column equal: column x is (a_x on the target, b_x
// elsewhere), the per-class loss l_x = log(1 + (M - 1) e^-(a_x - b_x)), and a step costs O(N)
// instead of O(N^3). normalized and rescaled GD use norms over all of W and are refused.
// tests/analysis/scaling_test.cpp holds the reduced run to descent::run on the full W.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "amflow/descent/rules.hpp"

namespace amflow::analysis {

struct scaling_options {
  std::vector<int> sizes;                            // N, each >= 2, increasing
  std::vector<descent::rule_options<double>> rules;  // gd, momentum, nesterov, sign, adam
  double eta = 0.1;                                  // the step of every rule
  double target = 0.1;                               // the loss to reach, > 0
  double exponent = 1;                               // Zipf's s, >= 0
  long max_steps = 100000000;                        // per N and rule
  int threads = 0;                                   // (rule, N) pairs in parallel; 0: all
  // Throws input_error naming the field (sizes, rules, eta, target, exponent, max_steps).
  void validate() const;
};

struct scaling_row {
  descent::rule_kind rule = descent::rule_kind::gd;
  int tokens = 0;
  // max_x of the first step k with l_x(k) <= target, and the first k with L(k) <= target; empty
  // if not reached within max_steps. (Every l_x decreases at every step for these rules: the
  // target entry's gradient stays negative and the others' positive, so the signs of every
  // rule's direction never change.)
  std::optional<long> steps_all_classes, steps_mean_loss;
  double rarest_loss = 0;  // l_{N-1} at the last step run
};

// A least-squares fit log(steps) = c + exponent log(N) over the rows that reached the target.
struct power_fit {
  double exponent = 0;
  double standard_error = 0;  // of the exponent (0 with two points)
  int points = 0;
};

struct scaling_result {
  std::vector<scaling_row> rows;  // rule by rule, N increasing
};

// on_row receives the rows in order as they are done.
scaling_result scaling(const scaling_options& options,
                       const std::function<void(const scaling_row&)>& on_row = {});

// The steps of one rule on one N, the reduced run (exposed for the tests).
scaling_row scaling_run(const scaling_options& options, const descent::rule_options<double>& rule,
                        int tokens);

// Fits log steps to log N over the rows of one rule; `mean`: steps_mean_loss, else
// steps_all_classes. Fewer than two points: points < 2 and exponent 0.
power_fit fit_exponent(const std::vector<scaling_row>& rows, descent::rule_kind rule, bool mean);

}  // namespace amflow::analysis
