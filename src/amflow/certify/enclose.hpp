// A validated enclosure of the gradient flow, from an approximate trajectory and a bound on how far
// the exact flow can be from it.
//
// The flow of the logits Z (N x M) is dZ/dtau = -G (grad l(Z)), with l(Z) = sum_x p(x) CE(z_x)
// convex and G = G_E (x) G_U the (symmetric) Gram operator R -> G_E R G_U. When G is positive
// definite the flow is nonexpansive in the norm |e|_* = <e, G^-1 e>^(1/2): for two solutions,
//   d/dtau |Z1 - Z2|_*^2 / 2 = -<Z1 - Z2, grad l(Z1) - grad l(Z2)> <= 0 (monotone gradient).
// For an approximate trajectory Zt with defect delta = Zt' + G grad l(Zt), the same computation
// gives
//   |Z(tau) - Zt(tau)|_* <= |Z(0) - Zt(0)|_* + integral_0^tau |delta|_*,
// with no exponential growth, and |delta|_* <= |delta|_F / sqrt(lambda_min(G_E) lambda_min(G_U)).
// It holds in log time s = log(1 + tau) (dZ/ds = e^s dZ/dtau, a positive change of time), where the
// trajectory is integrated. A coordinate or a logit difference v.Z is then known within
// sqrt(v^T G v) |Z - Zt|_* (Cauchy-Schwarz in the G^-1 inner product).
//
// Zt is the piecewise polynomial of the Taylor stepper (flow::detail::taylor_series, the same
// engine as `amflow flow`, at a few more digits than asked), taken as exact data. On each step [0,
// h] the defect is a power series in u: its coefficients 0 .. n-1 are computed in ball arithmetic
// at u = 0 (they cancel to the stepper's rounding), and coefficient n over the whole step (the
// series taken at the ball [0, h]: it encloses delta^(n)(xi) / n! for every xi in the step), so
// that
//   integral_0^h |delta| <= sum_{k<n} |delta_k|_F h^(k+1) / (k+1) + |delta_n([0, h])|_F h^(n+1) /
//   (n+1)
// (Taylor's theorem with the Lagrange remainder). Where the next step starts from a rounded value,
// the jump is added. The data (Gram matrices, frequencies, Z0) are those of the exact problem, as
// balls (certify::ball_problem_of), so rounding the problem costs nothing either.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "amflow/certify/ball.hpp"
#include "amflow/model/problem.hpp"
#include "amflow/outcome.hpp"

namespace amflow::certify {

struct enclosure_row {
  rational tau;
  ball loss;
  std::vector<ball> margins;  // N: min over y != f*(x) of z_x,f*(x) - z_x,y
};

// A certified bracket [lo, hi] of tau for an event of one token's margin.
struct event {
  int token = 0;
  ball tau;             // contains the event's time
  int direction = 0;    // crossing: +1 upward, -1 downward; turn: +1 a minimum, -1 a maximum
  bool unique = false;  // the bracket holds exactly one such point (the derivative excludes 0)
};

struct enclose_options {
  int digits = 50;  // decimal digits of the certificate's working precision
  // Run at the current MPFR precision (scalar::mpfr_digits(), as working digits) instead of
  // setting digits + 12 process-wide: for callers on several threads (amflow verify).
  bool keep_precision = false;
  std::vector<rational> times;  // sample times tau: >= 0, strictly increasing, not empty
  bool events = false;          // search for margin zero crossings and turns over [0, last time]
  long max_steps = 1000000;
  // Terms of each step's defect series taken at a point, the rest bounded by the remainder over
  // the piece; 0: the Taylor order plus about a tenth. (Fewer give the same guarantee, at more
  // cost or width: the tests use it to make the remainder carry the truncation error.)
  int defect_terms = 0;
  // How many times a step's piece may be halved while its remainder dominates (each halving
  // multiplies the remainder's weight by 2^-(terms + 1)).
  int max_halvings = 6;
  // Test hook: gets each step's Taylor coefficients z_0 .. z_K before they are checked.
  std::function<void(long step, std::vector<model::matrix<mpfr_real>>& coefficients)> tamper;
  std::function<void(size_t i, const enclosure_row& row)> on_row;  // rows as they are certified
  std::function<void(double fraction)> on_progress;
};

// An outcome: not_enclosed with the step and the quantity that could not be certified.
struct enclosure_result : outcome {
  std::vector<enclosure_row> rows;  // empty when on_row is set
  // With options.events: zero crossings and turns (zeros of the velocity) of every margin on
  // (0, last time]. events_complete: every other part of that interval was proven free of them.
  std::vector<event> crossings;
  std::vector<event> turns;
  bool events_complete = false;
  long steps = 0;
  int order = 0;              // Taylor order of the approximate trajectory
  int working_digits = 0;     // digits of the approximate trajectory and of the balls
  double error_bound = 0;     // the final bound on |Z - Zt|_* (rounded up)
  double largest_radius = 0;  // over every printed loss and margin
  double gram_bound = 0;      // the certified lower bound on lambda_min(G_E) lambda_min(G_U)
};

// Encloses the flow of the problem described by spec (already validated by parse_problem). Sets the
// MPFR working precision for its own run and restores it. Never throws for numerical failure: a
// bound that is not finite, a singular Gram matrix or the step limit make ok = false.
enclosure_result enclose(const nlohmann::json& spec, const enclose_options& options);

}  // namespace amflow::certify
