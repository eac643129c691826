// P9's threshold, certified. On a two-class problem every memory's margins are
// s_x (u_0 - u_1)^T W e_x (s_x = +1 for class 0, -1 for class 1), a function of
// w = W^T (u_0 - u_1) in R^d alone, and the loss is logistic regression,
//   l(w) = sum_x p(x) log(1 + exp(-s_x w.e_x)),
// strictly convex when the e_x span R^d (then the minimiser is unique when the data are not
// separable). Its zero of the gradient is proven unique in a box by the Krawczyk operator
//   K(X) = w~ - Y g(w~) + (I - Y H(X)) (X - w~)  subset of  interior(X)
// (Y an approximate inverse of the Hessian at w~), iterated to shrink the box. In W, the Hessian at
// any W* with W*^T (u_0 - u_1) = w* has the nonzero eigenvalues |u_0 - u_1|^2 eig(H_l(w*)), and GD
// on W moves w by -eta |u_0 - u_1|^2 grad l(w): it is stable at the minimiser for
// eta < eta_c = 2 / lambda_max(H(W*)).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "amflow/certify/ball.hpp"
#include "amflow/outcome.hpp"

namespace amflow::certify {

// An outcome: undefined for more than two classes, not_enclosed when a ball cannot be made tight.
struct two_class_threshold : outcome {
  std::vector<ball> w;  // the minimiser of l, the only zero of its gradient in these balls
  ball loss;            // l(w*), the least loss
  ball sharpness;       // lambda_max(H(W*)) in W
  ball eta_c;           // 2 / sharpness
  int iterations = 0;   // Krawczyk steps after the first proof
};

// The spec must be valid, with two classes. Uses the current MPFR precision for the approximate
// minimiser and the precision scope in force for the balls.
two_class_threshold certify_two_class_threshold(const nlohmann::json& spec);

}  // namespace amflow::certify
