// Certified gradient descent: GD in particle coordinates,
//   Z_{k+1} = Z_k - eta G_E R(Z_k) G_U,   R(Z) = diag(p) (softmax_rows(Z) - Y),
// in ball arithmetic, from data given as balls (exact rationals, or irrational values such as the
// authors' p0 = sigmoid(10^x) enclosed), so every loss and margin is a ball that contains the exact
// GD value, and every comparison is decided or reported undecided, never guessed:
//   - a token is right when its target wins the argmax, ties going to the lowest index (as argmax
//     does): decided when every comparison of its target's logit with another is certain, an exact
//     tie included (at W0 = 0 every logit is exactly 0);
//   - a loss increase L_{k+1} > L_k is decided when the difference's ball excludes 0 (or is 0).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "amflow/certify/ball.hpp"
#include "amflow/outcome.hpp"

namespace amflow::certify {

enum class decision { no, yes, undecided };
std::string decision_name(decision d);

// A problem as balls: Gram matrices, frequencies, targets and initial logits (row-major).
struct ball_problem {
  int tokens = 0;         // N
  int classes = 0;        // M
  std::vector<ball> G_E;  // N x N
  std::vector<ball> G_U;  // M x M
  std::vector<ball> p;    // N
  std::vector<int> target;
  std::vector<ball> Z0;  // N x M
};

// The paper's pair problem: e_0 = (1, 0), e_1 = (alpha, sqrt(1 - alpha^2)), so that G_E = [[1,
// alpha], [alpha, 1]] exactly (|e_1| = 1); U = I_2, targets (0, 1), W0 = 0, p = (p0, 1 - p0).
ball_problem pair_problem(const ball& alpha, const ball& p0);

struct certified_state {
  long step = 0;
  ball loss;
  std::vector<ball> margins;    // N
  std::vector<decision> right;  // N: whether each token's target wins the argmax
  std::vector<ball> Z;          // N x M logits (row-major)
  decision perfect = decision::undecided;
};

// An outcome: not_finite when a logit's ball loses its finite value.
struct certified_run : outcome {
  std::vector<certified_state> states;  // every state 0 .. K (or up to the first perfect step)
  std::vector<long> loss_increases;     // steps k >= 1 with L_k > L_{k-1}, decided
  std::vector<long> undecided_increases;
  // The authors' convention: the first k in [0, K - 1] at which every token is right, K - 1 if
  // none; decided when every state before it is decided not perfect and it is decided perfect (or
  // no state of [0, K - 1] is perfect, all decided).
  long first_perfect_step = 0;
  bool ever_perfect = false;
  decision first_perfect_decided = decision::undecided;
  double widest = 0;  // the largest radius of a loss or margin along the run
};

// K GD steps of size eta from Z0. With stop_at_perfect, the run ends at the first state decided
// perfect (or undecided: nothing after it can be decided about the first perfect step).
// With on_state, each state goes there as it is computed instead of into the result's states.
certified_run certified_gd(const ball_problem& pb, const ball& eta, long steps,
                           bool stop_at_perfect = false,
                           const std::function<void(const certified_state&)>& on_state = {});

// The first perfect step of K GD steps, decided if the balls allow: certified_gd with
// stop_at_perfect at `bits`, again at four times the bits while undecided (a chaotic run widens its
// balls), up to max_bits; `data` builds the problem and the step size at the precision in force
// (irrational data such as sigmoid(10^x) is enclosed anew at each precision).
struct widening_result {
  certified_run run;
  long bits = 0;  // the precision of the last run
  bool decided() const { return run.ok() && run.first_perfect_decided == decision::yes; }
};
widening_result first_perfect_widening(const std::function<std::pair<ball_problem, ball>()>& data,
                                       long steps, long bits = 192, long max_bits = 16384);

}  // namespace amflow::certify
