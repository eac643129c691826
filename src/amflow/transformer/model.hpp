// The paper's small Transformer (Bietti et al.'s simplified two-layer model, docs/transformer.md):
// two attention-only layers with one head each, W_Q = I, no normalisation and no MLP; E, P and
// W_U frozen; W_V^1, W_O^1 and W_V^2 frozen; trained: W_O^2 alone (`wo2`: then the loss is exactly
// an associative memory) or W_K^1, W_K^2 and W_O^2 (`all`). Row-vector convention as nn.Linear:
// a layer x -> x W^T. Forward and hand-written backward generic over the scalar type, compiled for
// float (the authors' precision), double and MPFR.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "amflow/descent/rules.hpp"
#include "amflow/model/problem.hpp"
#include "amflow/scalar/types.hpp"
#include "amflow/transformer/data.hpp"

namespace amflow::transformer {

using model::matrix;

// Which matrices are trained.
enum class trained_set { wo2, all };
// Where the loss is taken: `head`, positions whose input is a trigger seen before in the sequence
// (outs >= 2, the authors' loss_head_only); `all`, every position.
enum class loss_positions { head, all };
trained_set parse_trained_set(const std::string& text, const std::string& field);
loss_positions parse_loss_positions(const std::string& text, const std::string& field);
const char* name_of(trained_set t);
const char* name_of(loss_positions l);

template <class Real>
struct weights {
  int tokens = 0, dim = 0, length = 0;  // N, d, T
  matrix<Real> E, P;                    // N x d, T x d (frozen)
  matrix<Real> WK1, WV1, WO1;           // d x d; layer 1 (W_V^1, W_O^1 frozen)
  matrix<Real> WK2, WV2, WO2;           // d x d; layer 2 (W_V^2 frozen)
  matrix<Real> WU;                      // N x d (frozen)
};

// PyTorch's initialisation of the authors' model, from a seed and the same on every machine: E and
// P ~ N(0, 1) (model::standard_normals), the d x d matrices and W_U ~ U(-1/sqrt(d), 1/sqrt(d)) from
// std::mt19937_64 (53-bit uniforms, (2u - 1) / sqrt(d) in IEEE double); every entry is then rounded
// to float32, so that float32, double and MPFR runs start from exactly the same weights.
// zero_wo2: W_O^2 starts at 0.
weights<double> initial_weights(int tokens, int dim, int length, std::uint64_t seed,
                                bool zero_wo2 = false);

// The weights in another scalar type (exact: the initial weights are float32 numbers).
template <class Real>
weights<Real> cast_weights(const weights<double>& w) {
  weights<Real> o;
  o.tokens = w.tokens;
  o.dim = w.dim;
  o.length = w.length;
  const auto c = [](const matrix<double>& m) { return matrix<Real>(m.template cast<Real>()); };
  o.E = c(w.E);
  o.P = c(w.P);
  o.WK1 = c(w.WK1);
  o.WV1 = c(w.WV1);
  o.WO1 = c(w.WO1);
  o.WK2 = c(w.WK2);
  o.WV2 = c(w.WV2);
  o.WO2 = c(w.WO2);
  o.WU = c(w.WU);
  return o;
}

// The loss on a batch and, when asked, the gradients of the trained matrices (zero-size for the
// others) and the W_O^2 block's data for its Hessian (inputs z_t, softmax p_t at the loss
// positions).
template <class Real>
struct step_result {
  Real loss = 0;      // mean cross-entropy over the loss positions of the batch
  long selected = 0;  // n: the number of loss positions
  matrix<Real> gWK1, gWK2, gWO2;
  matrix<Real> Z, Pr;  // d x n and N x n (wo2_block or wo2_problem)
  matrix<Real> C;      // N x n: the logit offsets c_t = W_U h1_t (wo2_problem)
  std::vector<int> Y;  // n: the targets y_t (wo2_problem)
};

struct step_options {
  trained_set trained = trained_set::wo2;
  loss_positions positions = loss_positions::head;
  bool gradients = true;
  bool wo2_block = false;    // keep z_t and p_t for the sharpness of the W_O^2 block
  bool wo2_problem = false;  // keep z_t, p_t, the offsets c_t and the targets y_t
  int threads = 1;
};

// Forward and backward over the batch, sequences spread over threads; the sums run over fixed
// chunks of sequences in a fixed order, so the result does not depend on the thread count.
template <class Real>
step_result<Real> loss_and_gradients(const weights<Real>& w, const batch& b,
                                     const step_options& options);

// The authors' probes. wo1_margins (N values): for every token k, s = W_U W_O^2 W_V^2 e_k and
// m_k = s_k - max_{j != k} s_j. wk1_margins (one per token of `probe`): S[i, j] = e_{a_i}^T W_K^2
// W_O^1 W_V^1 e_{a_j} over the probed tokens a, m_i = S[i, i] - max_{j != i} S[i, j] (probe units,
// no 1/sqrt(d)).
template <class Real>
std::vector<Real> wo1_margins(const weights<Real>& w);
template <class Real>
std::vector<Real> wk1_margins(const weights<Real>& w, const std::vector<int>& probe);

// The update of the trained matrices, PyTorch's optimizer step: g <- g + weight_decay W (the
// coupled decay of torch.optim.SGD and Adam), then W <- W - lr D with D the direction of amflow's
// update rule (descent/rules.hpp: gd is SGD, momentum and nesterov SGD with momentum, adam Adam;
// normalized, sign and rescaled amflow's), one rule and its state per trained matrix (W_O^2, then
// W_K^1 and W_K^2). Checked against torch.optim on the same weights and batch.
template <class Real>
class optimizer {
 public:
  // Throws input_error naming the rule's parameter out of range.
  optimizer(trained_set trained, const descent::rule_options<Real>& rule, const Real& lr,
            const Real& weight_decay);
  // One step from the gradients g; returns "" or why the direction is undefined (normalized or
  // rescaled at a zero gradient), the weights then unchanged.
  std::string step(weights<Real>& w, const step_result<Real>& g);
  // The rules' states, one list per trained matrix, for checkpoints (descent::update_rule).
  std::vector<std::vector<matrix<Real>>> state() const;
  void set_state(const std::vector<std::vector<matrix<Real>>>& s);

 private:
  trained_set trained_;
  Real lr_, weight_decay_;
  std::vector<std::unique_ptr<descent::update_rule<Real>>> rules_;
};

// The largest eigenvalue of the Hessian of the loss in W_O^2 on the batch (convex there:
// H[V] = (1/n) sum_t W_U^T (diag p_t - p_t p_t^T) W_U V z_t z_t^T), by Lanczos iteration in double
// from `start` (random when empty; on return the Ritz vector, a warm start for the next call);
// `error` bounds the distance from `value` to an eigenvalue of H (the Ritz pair's residual).
struct sharpness_estimate {
  double value = 0, error = 0;
  int iterations = 0;
};
template <class Real>
sharpness_estimate wo2_sharpness(const weights<Real>& w, const step_result<Real>& block,
                                 Eigen::MatrixXd& start, int max_iterations = 60,
                                 double rel_tol = 1e-7, int threads = 1);

// The scalar of the W_O^2 block's problem: amflow's memory code runs in double for a float32 model
// (every float32 number is a double).
template <class Real>
using problem_real = std::conditional_t<std::is_same_v<Real, float>, double, Real>;

// The W_O^2 block on a batch as amflow's associative memory (docs/transformer.md): with every
// other weight fixed, logits_t = c_t + W_U W_O^2 z_t, so the loss is exactly a memory problem with
// one token per loss position t (in order: sequence, then position), input z_t, outputs the rows
// of W_U, fixed logit offsets c_t = W_U h1_t, target y_t, uniform frequencies 1/n and W0 = W_O^2.
// Its loss at W0 is the batch's loss and its gradient the gradient in W_O^2. Throws input_error
// when the batch has no loss position.
template <class Real>
model::problem<problem_real<Real>> wo2_problem(const weights<Real>& w, const batch& b,
                                               const step_options& options);

}  // namespace amflow::transformer

// The templates above for one scalar type (explicitly instantiated in transformer_<type>.cpp).
#define AMFLOW_INSTANTIATE_TRANSFORMER(PREFIX, Real)                                       \
  PREFIX template amflow::transformer::step_result<Real>                                   \
  amflow::transformer::loss_and_gradients<Real>(const amflow::transformer::weights<Real>&, \
                                                const amflow::transformer::batch&,         \
                                                const amflow::transformer::step_options&); \
  PREFIX template std::vector<Real> amflow::transformer::wo1_margins<Real>(                \
      const amflow::transformer::weights<Real>&);                                          \
  PREFIX template std::vector<Real> amflow::transformer::wk1_margins<Real>(                \
      const amflow::transformer::weights<Real>&, const std::vector<int>&);                 \
  PREFIX template class amflow::transformer::optimizer<Real>;                              \
  PREFIX template amflow::transformer::sharpness_estimate                                  \
  amflow::transformer::wo2_sharpness<Real>(const amflow::transformer::weights<Real>&,      \
                                           const amflow::transformer::step_result<Real>&,  \
                                           Eigen::MatrixXd&, int, double, int);            \
  PREFIX template amflow::model::problem<amflow::transformer::problem_real<Real>>          \
  amflow::transformer::wo2_problem<Real>(const amflow::transformer::weights<Real>&,        \
                                         const amflow::transformer::batch&,                \
                                         const amflow::transformer::step_options&);

// float has no descent unit: its rules are compiled in transformer/model.cpp.
extern template void amflow::descent::rule_options<float>::validate() const;
extern template std::unique_ptr<amflow::descent::update_rule<float>>
amflow::descent::make_rule<float>(const amflow::descent::rule_options<float>&);

AMFLOW_INSTANTIATE_TRANSFORMER(extern, float)
AMFLOW_INSTANTIATE_TRANSFORMER(extern, double)
AMFLOW_INSTANTIATE_TRANSFORMER(extern, amflow::mpfr_real)
