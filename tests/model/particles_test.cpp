// Particle (logit) coordinates against the full d x d matrix dynamics, for every scalar.
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using model::matrix;

template <class Real>
class particles_test : public testing::real_test<Real> {};
TYPED_TEST_SUITE(particles_test, testing::scalar_types, testing::scalar_names);

// The figures: 1e-13 in double and 1e-40 at 50 digits; 400 eps gives 8.9e-14 in double and
// 2.1e-48 at 50 digits (168 bits), so the same rule holds every type to its own precision.
template <class Real>
Real agreement_tolerance() {
  return 400 * scalar::epsilon<Real>();
}

// (N, M, d): Gram matrices formed (N, M <= 2 d), G_E through E (N > 2 d), both through the
// embeddings (N, M > 2 d: model::forms_gram).
struct shape {
  int N, M, d;
  bool forms_E, forms_U;
};
const shape shapes[] = {{5, 3, 4, true, true}, {9, 3, 2, false, true}, {9, 7, 2, false, false}};

TYPED_TEST(particles_test, the_gram_matrices_are_formed_only_when_cheaper) {
  using Real = TypeParam;
  using std::abs;
  for (const shape& sh : shapes) {
    const auto pb = io::parse_problem<Real>(testing::correlated_spec(sh.N, sh.M, sh.d, 1, "1"));
    EXPECT_EQ(pb.G_E.size(), sh.forms_E ? sh.N * sh.N : 0) << sh.N << " x " << sh.d;
    EXPECT_EQ(pb.G_U.size(), sh.forms_U ? sh.M * sh.M : 0) << sh.M << " x " << sh.d;
    // What the analyses read is E E^T either way.
    const matrix<Real> G = pb.E * pb.E.transpose();
    EXPECT_LT((model::input_gram(pb) - G).cwiseAbs().maxCoeff(), 10 * scalar::epsilon<Real>());
    for (int x = 0; x < sh.N; ++x) {
      EXPECT_LT(abs(Real(model::gram_diagonal(pb.E, pb.G_E, x) - G(x, x))),
                10 * scalar::epsilon<Real>());
    }
  }
}

// Integer embeddings and residuals: every product is exact in each type, so the interaction must
// equal the integer triple product computed here, formed or not.
TYPED_TEST(particles_test, interaction_through_the_embeddings_is_exact_on_integers) {
  using Real = TypeParam;
  const int N = 7, M = 6, d = 2;
  matrix<Real> E(N, d), U(M, d), R(N, M);
  for (int x = 0; x < N; ++x) {
    for (int k = 0; k < d; ++k) E(x, k) = Real((3 * x + 5 * k) % 7 - 3);
  }
  for (int y = 0; y < M; ++y) {
    for (int k = 0; k < d; ++k) U(y, k) = Real((2 * y + 3 * k) % 5 - 2);
  }
  for (int x = 0; x < N; ++x) {
    for (int y = 0; y < M; ++y) R(x, y) = Real((x * y + x + 2 * y) % 9 - 4);
  }
  model::vector<Real> p = model::vector<Real>::Constant(N, Real(1) / N);
  std::vector<int> target(N);
  for (int x = 0; x < N; ++x) target[x] = x % M;
  const auto pb = model::make_problem<Real>(E, U, p, target, matrix<Real>::Zero(d, d));
  ASSERT_EQ(pb.G_E.size(), 0);
  ASSERT_EQ(pb.G_U.size(), 0);
  const matrix<Real> V = model::interact(pb, R);
  for (int x = 0; x < N; ++x) {
    for (int y = 0; y < M; ++y) {
      long expected = 0;
      for (int x2 = 0; x2 < N; ++x2) {
        for (int y2 = 0; y2 < M; ++y2) {
          long ge = 0, gu = 0;
          for (int k = 0; k < d; ++k) {
            ge += static_cast<long>(E(x, k)) * static_cast<long>(E(x2, k));
            gu += static_cast<long>(U(y2, k)) * static_cast<long>(U(y, k));
          }
          expected += ge * static_cast<long>(R(x2, y2)) * gu;
        }
      }
      EXPECT_EQ(V(x, y), Real(expected)) << x << ", " << y;
    }
  }
}

// The rounding scale || |G| ||_inf: the row sums of |E E^T| when formed; through the embeddings,
// max_i sum_j |e_i| . |e_j| (rows of |E|), which bounds it. Small integer rows, against loops.
TYPED_TEST(particles_test, gram_abs_bound_bounds_the_row_sums) {
  using Real = TypeParam;
  matrix<Real> E(4, 2);
  E << Real(1), Real(-2), Real(3), Real(1), Real(-1), Real(-1), Real(0), Real(2);
  // |E E^T| rows: (5, 1, 1, 4), (1, 10, 4, 2), (1, 4, 2, 2), (4, 2, 2, 4): sums 11, 17, 9, 12.
  const matrix<Real> G = E * E.transpose();
  EXPECT_EQ(model::gram_abs_bound(E, G), Real(17));
  // |E| rows (1, 2), (3, 1), (1, 1), (0, 2); column sums (5, 6): row i gives |e_i| . (5, 6) =
  // 17, 21, 11, 12.
  EXPECT_EQ(model::gram_abs_bound(E, matrix<Real>()), Real(21));
}

TYPED_TEST(particles_test, fifty_gd_steps_match_full_matrix_gd) {
  using Real = TypeParam;
  const Real eta = testing::num<Real>("0.7");
  for (int seed : {1, 2, 3, 4}) {
    const shape sh = shapes[seed % 3];
    const auto pb = io::parse_problem<Real>(testing::correlated_spec(sh.N, sh.M, sh.d, seed, "1"));
    matrix<Real> W = pb.W0;
    auto s = model::initial_state(pb);
    for (int k = 0; k < 50; ++k) {
      W -= eta * model::gradient(pb, W);
      model::gd_step(pb, s, eta);
    }
    const matrix<Real> Z_full = model::logits(pb, W);
    const Real scale = std::max<Real>(Real(1), Z_full.cwiseAbs().maxCoeff());
    const Real logit_gap = (Z_full - s.Z).cwiseAbs().maxCoeff();
    const Real weight_gap = (model::weights(pb, s.Q) - W).cwiseAbs().maxCoeff();
    EXPECT_LT(logit_gap / scale, agreement_tolerance<Real>()) << "seed " << seed;
    EXPECT_LT(weight_gap / std::max<Real>(Real(1), W.cwiseAbs().maxCoeff()),
              agreement_tolerance<Real>())
        << "seed " << seed;
    if constexpr (std::is_same_v<Real, double>) {
      EXPECT_LT(logit_gap, 1e-13);
    }
    if constexpr (is_mpfr_v<Real>) {
      EXPECT_LT(logit_gap, Real("1e-40"));
    }
    // The run must have moved far from W0 for the comparison to mean something.
    EXPECT_GT((s.Z - pb.Z0).cwiseAbs().maxCoeff(), Real(1));
    std::cout << "[ measured ] " << scalar::name<Real>() << " seed " << seed
              << ": max |Z_particles - Z_full| = " << static_cast<double>(logit_gap)
              << ", max |W(Q) - W_full| = " << static_cast<double>(weight_gap) << "\n";
  }
}

// With independent embeddings (N, M <= d) the logits alone determine the particle memory.
TYPED_TEST(particles_test, weights_from_logits_recover_the_memory) {
  using Real = TypeParam;
  const Real eta = testing::num<Real>("1.3");
  const auto pb = io::parse_problem<Real>(testing::correlated_spec(3, 4, 5, 13, "0.5"));
  auto s = model::initial_state(pb);
  for (int k = 0; k < 10; ++k) model::gd_step(pb, s, eta);
  const matrix<Real> W = model::weights(pb, s.Q);
  const matrix<Real> from_logits = model::weights_from_logits(pb, s.Z);
  EXPECT_LT((from_logits - W).cwiseAbs().maxCoeff(), 1000 * scalar::epsilon<Real>());
  EXPECT_LT((model::logits(pb, from_logits) - s.Z).cwiseAbs().maxCoeff(),
            1000 * scalar::epsilon<Real>());
  EXPECT_GT((W - pb.W0).cwiseAbs().maxCoeff(), Real(1) / 10);  // the memory did move
}

TYPED_TEST(particles_test, logit_velocity_is_the_logit_image_of_minus_the_gradient) {
  using Real = TypeParam;
  for (const shape& sh : {shape{4, 3, 6, true, true}, shapes[1], shapes[2]}) {
    const auto pb = io::parse_problem<Real>(testing::correlated_spec(sh.N, sh.M, sh.d, 9, "1"));
    // dZ/dtau for dW/dtau = -grad L(W): Z = E W^T U^T is linear in W, so dZ/dtau = E (-grad)^T
    // U^T.
    const matrix<Real> expected =
        -(pb.E * model::gradient(pb, pb.W0).transpose() * pb.U.transpose());
    const matrix<Real> v = model::logit_velocity(pb, pb.Z0);
    EXPECT_LT((v - expected).cwiseAbs().maxCoeff(), 100 * scalar::epsilon<Real>()) << sh.N;
  }
}

// The modified flow of P10 is dW/dtau = -grad F with F = L + (eta/4) |grad L|^2: its logit image
// against central differences of F, computed from the model's loss and gradient on W (d x d).
TYPED_TEST(particles_test,
           modified_velocity_is_the_logit_image_of_minus_grad_of_the_modified_loss) {
  using Real = TypeParam;
  using std::pow;
  const auto pb = io::parse_problem<Real>(testing::correlated_spec(3, 3, 4, 5, "2"));
  const Real eta = testing::num<Real>("0.7");
  const auto F = [&](const matrix<Real>& W) {
    return Real(model::loss(pb, model::logits(pb, W)) +
                eta / 4 * model::gradient(pb, W).squaredNorm());
  };
  const Real h = pow(scalar::epsilon<Real>(), Real(1) / 3);
  matrix<Real> grad(pb.dim, pb.dim);
  for (int i = 0; i < pb.dim; ++i) {
    for (int j = 0; j < pb.dim; ++j) {
      matrix<Real> up = pb.W0, down = pb.W0;
      up(i, j) += h;
      down(i, j) -= h;
      grad(i, j) = (F(up) - F(down)) / (2 * h);
    }
  }
  const matrix<Real> expected = -(pb.E * grad.transpose() * pb.U.transpose());
  const matrix<Real> v = model::modified_logit_velocity(pb, pb.Z0, eta);
  // Central differences: truncation h^2 and rounding eps / h, both eps^(2/3).
  EXPECT_LT((v - expected).cwiseAbs().maxCoeff(), 100 * h * h);
  // eta = 0 is the gradient flow; and the correction is not negligible at this eta.
  EXPECT_TRUE(model::modified_logit_velocity(pb, pb.Z0, Real(0)) ==
              model::logit_velocity(pb, pb.Z0));
  EXPECT_GT((v - model::logit_velocity(pb, pb.Z0)).cwiseAbs().maxCoeff(), Real(1) / 1000);
}

TYPED_TEST(particles_test, one_step_from_zero_equals_a_full_matrix_gd_step) {
  using Real = TypeParam;
  for (const shape& sh : {shape{5, 4, 3, true, true}, shapes[2]}) {
    nlohmann::json spec = testing::correlated_spec(sh.N, sh.M, sh.d, 21, "0");
    spec["init"] = {{"kind", "zero"}};
    const auto pb = io::parse_problem<Real>(spec);
    const Real eta = testing::num<Real>("2.5");
    auto s = model::initial_state(pb);
    model::gd_step(pb, s, eta);
    const matrix<Real> Z1 = model::one_step_from_zero(pb, eta);
    EXPECT_LT((Z1 - s.Z).cwiseAbs().maxCoeff(), 100 * scalar::epsilon<Real>());
    // Against W = -eta grad L(0), the d x d step.
    const matrix<Real> W1 = -eta * model::gradient(pb, pb.W0);
    EXPECT_LT((Z1 - model::logits(pb, W1)).cwiseAbs().maxCoeff(), 100 * scalar::epsilon<Real>());
  }
}

TEST(particles, one_step_from_zero_refuses_a_nonzero_start) {
  const auto pb = io::parse_problem<double>(testing::correlated_spec(3, 2, 3, 1, "1"));
  EXPECT_THROW(model::one_step_from_zero(pb, 1.0), input_error);
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
