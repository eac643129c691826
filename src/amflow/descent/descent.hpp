// Gradient descent and SGD with a constant step eta, in particle coordinates (N x M numbers,
// whatever d is) or on the memory W itself, and the other update rules (rules.hpp): the linear
// ones (momentum, nesterov) in either space, the others on W:
//   GD     Z_{k+1} = Z_k - eta G_E R(Z_k) G_U,   R(Z) = diag(p) (softmax_rows(Z) - Y);
//   SGD    the same with diag(p_hat_k) in place of diag(p), p_hat_k(x) = (times x occurs in a batch
//          of B tokens drawn independently from p) / B, an unbiased estimate of p;
//   W      W_{k+1} = W_k - eta D_k, D_k the rule's direction from grad L(W_k) = U^T R(E W^T U^T)^T
//          E (d x d; for GD a cross-check of the particle form);
//   linear rules in particle coordinates: the rule makes D_k (N x M) from the residuals R(Z_j),
//          j <= k, and Z_{k+1} = Z_k - eta G_E D_k G_U (W = W0 - U^T (sum eta D)^T E).
// Every step is watched for the paper's transients: loss increases and spikes, margin sign changes
// (oscillations), the first step with perfect accuracy. What is trained (particle coordinates, W,
// W = A B, with a linear or layer-norm head) is one seam, parameterisations.hpp; the loop is the
// same for all.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "amflow/descent/rules.hpp"
#include "amflow/model/particles.hpp"
#include "amflow/model/problem.hpp"
#include "amflow/model/trajectory.hpp"
#include "amflow/outcome.hpp"

namespace amflow::descent {

// automatic: particle coordinates for the linear rules (gd, momentum, nesterov; rule_is_linear) on
// a full W, W for the other rules, for factorised memories and with layer norm.
enum class space_kind { automatic, particle, weights };

// "auto", "particle", "weights"; throws input_error(field, name) otherwise.
space_kind parse_space(const std::string& name, const std::string& field);
std::string space_name(space_kind k);

// Multiplications per GD step in each space (resolved_space compares them): particle coordinates
// N^2 M + N M^2 (G_E R G_U, a factor skipped when its Gram matrix is exactly the identity; 2 N d M
// for a factor taken through the embeddings where the Gram matrix was not formed, N > 2 d: see
// model::forms_gram), W space 2 N M d + 2 d^2 M (E (W^T U^T) and U^T (R^T E)).
struct step_costs {
  double particle = 0, weights = 0;
};
template <class Real>
step_costs step_cost(const model::problem<Real>& pb) {
  const double N = pb.tokens, M = pb.classes, d = pb.dim;
  const double left = pb.G_E_identity ? 0 : pb.G_E.size() != 0 ? N * N * M : 2 * N * d * M;
  const double right = pb.G_U_identity ? 0 : pb.G_U.size() != 0 ? N * M * M : 2 * N * M * d;
  return {left + right, 2 * N * M * d + 2 * d * d * M};
}

// W = A B with A (d x r) and B (r x d) both trained (rank 0: W itself). Each factor has its own
// copy of the rule (its own momentum buffer, Adam moments, norm, std), as per-parameter optimisers
// have. A0 and B0: entries scale * N(0, 1) from model::standard_normals(seed) (A0 first, row by
// row; B0 from seed + 1), or balanced: B0 = A0^T, so that A^T A - B B^T starts at 0. The gradients
// are dL/dA = G B^T and dL/dB = A^T G with G = grad L(W). The problem's W0 must be 0.
template <class Real>
struct factorisation {
  int rank = 0;  // r >= 1 factorises; 0: full W
  Real scale = Real(1) / 10;
  std::uint64_t seed = 0;
  bool balanced = false;
  // Explicit A0 (d x r) and B0 (r x d), used instead of the random start when both are given.
  model::matrix<Real> A0, B0;
};

template <class Real>
struct descent_options {
  Real eta = Real(1);  // step size, > 0
  long steps = 100;    // K: number of updates; the states are k = 0 .. K
  long batch = 0;      // 0: full batch (GD); B > 0: SGD with B tokens per step
  std::uint64_t seed = 0;
  space_kind space = space_kind::automatic;
  rule_options<Real> rule;      // the update rule (default: gd) and its parameters
  factorisation<Real> factors;  // W = A B (rank >= 1), which runs on the factors
  // Layer norm before the unembedding (model/layer_norm.hpp): logits u_y . W e_x / sqrt(|W e_x|^2
  // + layer_norm_epsilon). W -> Z is then not linear: the run goes on W.
  bool layer_norm = false;
  Real layer_norm_epsilon = Real(1) / 100000;
  bool sharpness = false;  // lambda_max of the Hessian at each recorded state
  bool weights = false;    // the memory W at each recorded state (trajectory_sample::W)
  long every = 1;          // record the states k = 0, every, 2 every, ... and K
  bool record = true;      // false: record only the last state (sweeps)
  // Observers. on_record, when set, receives each recorded state as it is reached instead of the
  // result keeping it (rows stream; memory stays O(N M) however long the run). on_step(k) follows
  // every update k = 1 .. K (progress).
  std::function<void(long k, const model::trajectory_sample<Real>&)> on_record;
  std::function<void(long k)> on_step;

  // Throws input_error naming the field (eta, steps, batch, every, space, and the rule's) for
  // values the run cannot honour, including a final time eta * steps beyond Real's range and
  // particle coordinates for a rule that is not linear (rule_is_linear).
  void validate() const;
  // The space the run on pb goes in: `space`, or for automatic W for rules that are not linear,
  // factorised runs (their state is A and B) and layer norm; otherwise the cheaper per step
  // (step_cost), particles on a tie (every named problem stays there; N = 10^4, M = 5, d = 100
  // goes to W, 50x cheaper).
  space_kind resolved_space(const model::problem<Real>& pb) const;
};

// A loss spike: a maximal run of consecutive increases (those counted in loss_increases), from
// state `start` (the last one before the rise) to state `peak`; height = L_peak - L_start.
template <class Real>
struct spike {
  long start = 0;
  long peak = 0;
  Real height = Real(0);
};

// What happened along the whole run, over every state k = 0 .. K (recorded or not).
template <class Real>
struct transients {
  // Steps k with L_{k+1} > L_k + rounding_bound, rounding_bound = 4 (N + 2) eps max(L_k, L_{k+1}):
  // a rise within the rounding of the loss's evaluation (N terms, eps the unit round-off) is not
  // a step of training but noise, as when the loss has reached its floor; those are counted in
  // rounding_increases and start no spike.
  long loss_increases = 0;
  long rounding_increases = 0;
  std::vector<spike<Real>> spikes;  // in order of occurrence
  Real max_loss = Real(0);          // max_k L_k
  long max_loss_step = 0;           // its first k
  // First k in [0, K - 1] at which every token is classified correctly (the state before update
  // k + 1), and K - 1 if none: the authors' convention (their loop records the accuracy before each
  // of its K updates and takes the first index with accuracy 1, the last one forced).
  long first_perfect_step = 0;
  bool ever_perfect = false;  // some k in [0, K - 1] classifies every token correctly
  // Per token: how often the margin's sign flips between positive and negative (a zero margin, as
  // at W0 = 0, has no sign: leaving it is not an oscillation).
  std::vector<long> margin_sign_changes;
};

// An outcome: not_finite (a diverging run) or undefined (the rule's step is not defined).
template <class Real>
struct descent_result : outcome {
  std::vector<long> steps;  // k of each recorded state (none when on_record is set)
  std::vector<model::trajectory_sample<Real>> samples;  // tau = eta k
  model::trajectory_sample<Real> last;                  // the state after the last step
  transients<Real> summary;
  model::matrix<Real> Z;                    // the logits after the last step (N x M)
  model::matrix<Real> W;                    // the memory after the last step (d x d)
  space_kind space = space_kind::particle;  // where the run went (resolved_space)
  model::matrix<Real> A, B;                 // factorised runs: the factors after the last step
};

// A0 and B0 of a factorised run (d = dim).
template <class Real>
std::pair<model::matrix<Real>, model::matrix<Real>> initial_factors(const factorisation<Real>& f,
                                                                    int dim);

// Runs K steps of GD or SGD from W0. A non-finite state (loss or any logit) stops the run with
// ok = false and a message naming the step; invalid options throw input_error.
template <class Real>
descent_result<Real> run(const model::problem<Real>& pb, const descent_options<Real>& options);

// Watches a sequence of states one by one (used by run, and by anything else that produces a
// trajectory): feed it the loss, 0-1 loss and margins of k = 0, 1, ..., then finish(K).
template <class Real>
class transient_detector {
 public:
  explicit transient_detector(int tokens);
  void observe(const Real& loss, const Real& zero_one_loss, const model::vector<Real>& margins);
  // The summary for a run of `steps` updates (observe was called steps + 1 times).
  transients<Real> finish(long steps) const;

 private:
  transients<Real> t_;
  long k_ = -1;  // index of the last observed state
  Real last_loss_ = Real(0);
  Real rise_start_loss_ = Real(0);
  long rise_start_ = -1;  // state before the current run of increases, -1 when not rising
  long first_perfect_ = -1;
  std::vector<int> sign_;  // per token: the sign of the last nonzero margin (0: none yet)
  Real rounding_;          // 4 (N + 2) eps: rounding_bound / max(L_k, L_{k+1})
};

// The batches of SGD: each draw takes `batch` tokens independently from p and returns how often
// each token occurs. One std::mt19937_64 seeded with `seed` (its output is specified by the C++
// standard) gives u = (53 random bits) / 2^53 per token, and the token is the first x with u <
// (p(0) + ... + p(x)) summed in double; so a seed names the same batches on every machine, at every
// precision and whatever the thread count.
class batch_sampler {
 public:
  batch_sampler(const std::vector<double>& p, long batch, std::uint64_t seed);
  const std::vector<long>& draw();

 private:
  std::vector<double> cumulative_;
  long batch_;
  std::mt19937_64 generator_;
  std::vector<long> counts_;
};

// The mean and standard deviation over SGD runs with seeds seed, seed + 1, ..., seed + runs - 1 of
// the recorded loss, 0-1 loss and margins. Runs go in blocks over `threads` threads and are folded
// into running sums in seed order (Welford's update), so the numbers are the same whatever the
// thread count and memory does not grow with the number of runs. on_run(done) follows each block.
template <class Real>
struct sgd_mean_result : outcome {
  std::vector<long> steps;                               // k of each recorded state
  std::vector<Real> loss, loss_sd;                       // per recorded state
  std::vector<Real> zero_one_loss, zero_one_loss_sd;     // per recorded state
  std::vector<model::vector<Real>> margins, margins_sd;  // per recorded state, N each
};

// Throws input_error naming "seeds" unless runs >= 1 and seed + runs - 1 fits in 64 bits.
template <class Real>
sgd_mean_result<Real> sgd_mean(const model::problem<Real>& pb, const descent_options<Real>& options,
                               long runs, int threads,
                               const std::function<void(long done)>& on_run = {});

}  // namespace amflow::descent

// Each scalar type's descent is compiled once, in a unit generated by
// cmake/AmflowInstantiate.cmake.
#define AMFLOW_INSTANTIATE_DESCENT(PREFIX, Real)                                                \
  PREFIX template void amflow::descent::descent_options<Real>::validate() const;                \
  PREFIX template amflow::descent::space_kind                                                   \
  amflow::descent::descent_options<Real>::resolved_space(const amflow::model::problem<Real>&)   \
      const;                                                                                    \
  PREFIX template void amflow::descent::rule_options<Real>::validate() const;                   \
  PREFIX template std::unique_ptr<amflow::descent::update_rule<Real>>                           \
  amflow::descent::make_rule<Real>(const amflow::descent::rule_options<Real>&);                 \
  PREFIX template std::pair<amflow::model::matrix<Real>, amflow::model::matrix<Real>>           \
  amflow::descent::initial_factors<Real>(const amflow::descent::factorisation<Real>&, int);     \
  PREFIX template amflow::descent::descent_result<Real> amflow::descent::run<Real>(             \
      const amflow::model::problem<Real>&, const amflow::descent::descent_options<Real>&);      \
  PREFIX template amflow::descent::sgd_mean_result<Real> amflow::descent::sgd_mean<Real>(       \
      const amflow::model::problem<Real>&, const amflow::descent::descent_options<Real>&, long, \
      int, const std::function<void(long)>&);                                                   \
  PREFIX template class amflow::descent::transient_detector<Real>;

AMFLOW_EXTERN_FOR_EACH_REAL(AMFLOW_INSTANTIATE_DESCENT)
