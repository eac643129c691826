// Loss, 0-1 loss, margins and the problem's derived matrices on hand-checked cases.
#include <Eigen/Eigenvalues>
#include <cmath>

#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using model::matrix;

template <class Real>
class quantities_test : public testing::real_test<Real> {};
TYPED_TEST_SUITE(quantities_test, testing::scalar_types, testing::scalar_names);

template <class Real>
model::problem<Real> two_by_three() {
  return io::parse_problem<Real>({{"tokens", 2},
                                  {"classes", 3},
                                  {"dim", 3},
                                  {"inputs", {{"kind", "orthonormal"}}},
                                  {"outputs", {{"kind", "orthonormal"}}},
                                  {"frequencies", {{"kind", "explicit"}, {"p", {"1/4", "3/4"}}}},
                                  {"target", {{"kind", "explicit"}, {"map", {2, 0}}}},
                                  {"init", {{"kind", "zero"}}}});
}

TYPED_TEST(quantities_test, loss_is_stable_for_huge_logits) {
  using Real = TypeParam;
  using std::exp;
  using std::log;
  const auto pb = two_by_three<Real>();
  matrix<Real> Z(2, 3);
  // Row 0: target 2 ahead by 1 at logits around 1e4 (exp would overflow a double).
  Z << Real(10000), Real(9000), Real(10001), Real(-20000), Real(-20001), Real(-20003);
  // Closed forms: row 0: log(e^-1 + e^-1001 + 1); row 1 (target 0 is the max): log(1 + e^-1 +
  // e^-3).
  const Real expected = pb.p(0) * log(1 + exp(Real(-1)) + exp(Real(-1001))) +
                        pb.p(1) * log(1 + exp(Real(-1)) + exp(Real(-3)));
  const Real L = model::loss(pb, Z);
  EXPECT_LT(testing::diff(L, expected), static_cast<double>(20 * scalar::epsilon<Real>()));
}

// Once a token is learned, its target entry pi_t - 1 of the residual is tiny; R must keep it to
// full relative precision (subtracting 1 from pi_t would return 0 in double at margin 40).
// Reference: the closed form -p (e^-a + e^-b) / (1 + e^-a + e^-b) at 100 digits.
TYPED_TEST(quantities_test, residual_keeps_relative_precision_at_large_margins) {
  using Real = TypeParam;
  using std::abs;
  const auto pb = two_by_three<Real>();
  for (int margin : {1, 40, 200, 2000}) {
    matrix<Real> Z(2, 3);
    // Row 0: target 2 leads by `margin` and margin + 1; row 1: target 0 leads by margin + 3,
    // margin.
    Z << Real(0), Real(-1), Real(margin), Real(2 * margin + 3), Real(margin + 3), Real(margin);
    const matrix<Real> R = model::residual(pb, Z);
    scalar::set_mpfr_digits(100);
    const auto reference = [&](const char* p, int a, int b) {
      const mpfr_real ea = exp(mpfr_real(-a)), eb = exp(mpfr_real(-b));
      return mpfr_real(-testing::num<mpfr_real>(p) * (ea + eb) / (1 + ea + eb));
    };
    const mpfr_real want0 = reference("1/4", margin, margin + 1);
    const mpfr_real want1 = reference("3/4", margin + 3, margin);
    const mpfr_real got0(scalar::to_text(R(0, 2))), got1(scalar::to_text(R(1, 0)));
    const double err0 = static_cast<double>(abs((got0 - want0) / want0));
    const double err1 = static_cast<double>(abs((got1 - want1) / want1));
    scalar::set_mpfr_digits(50);
    const double eps = static_cast<double>(scalar::epsilon<Real>());
    if (std::is_same_v<Real, double> && margin > 700) continue;  // e^-margin underflows a double
    EXPECT_LT(err0, 10 * eps) << "margin " << margin;
    EXPECT_LT(err1, 10 * eps) << "margin " << margin;
    // Each row of R sums to zero: the target entry balances the others.
    for (int x = 0; x < 2; ++x) {
      EXPECT_LT(static_cast<double>(abs(R.row(x).sum()) / abs(R(x, pb.target[x]))), 10 * eps);
    }
  }
}

// The loss of a learned token is log(1 + s) with s = sum of the other weights below eps: it must
// be log1p(s), full relative precision, not log(1 + s) = 0. Reference: the same formula at 1000
// digits, where 1 + s is exact enough.
TYPED_TEST(quantities_test, loss_keeps_relative_precision_as_it_goes_to_zero) {
  using Real = TypeParam;
  const auto pb = two_by_three<Real>();
  for (int margin : {1, 40, 200, 2000}) {
    if (std::is_same_v<Real, double> && margin > 700) continue;  // e^-margin underflows a double
    matrix<Real> Z(2, 3);
    Z << Real(0), Real(-1), Real(margin), Real(2 * margin + 3), Real(margin + 3), Real(margin);
    const Real L = model::loss(pb, Z);
    matrix<Real> R;
    const Real fused = model::residual_and_loss(pb, Z, pb.p, R);
    scalar::set_mpfr_digits(1000);
    const auto row = [](const char* p, int a, int b) {
      return mpfr_real(testing::num<mpfr_real>(p) *
                       log(1 + exp(mpfr_real(-a)) + exp(mpfr_real(-b))));
    };
    const mpfr_real reference = row("1/4", margin, margin + 1) + row("3/4", margin + 3, margin);
    testing::expect_close(reference, L, 16);
    testing::expect_close(reference, fused, 16);
    scalar::set_mpfr_digits(50);
  }
}

// Two classes, orthonormal embeddings: the Hessian's blocks are p_x [[ab, -ab], [-ab, ab]] with
// a = pi_t, b = 1 - a = e^-m / (1 + e^-m), so the sharpness is max_x 2 p_x a b. At margins where
// b < eps, a - a^2 would be 0: the sharpness must keep its relative precision.
TYPED_TEST(quantities_test, sharpness_keeps_relative_precision_at_large_margins) {
  using Real = TypeParam;
  const auto pb =
      io::parse_problem<Real>({{"tokens", 2},
                               {"classes", 2},
                               {"dim", 2},
                               {"inputs", {{"kind", "orthonormal"}}},
                               {"outputs", {{"kind", "orthonormal"}}},
                               {"frequencies", {{"kind", "explicit"}, {"p", {"1/4", "3/4"}}}},
                               {"target", {{"kind", "identity"}}},
                               {"init", {{"kind", "zero"}}}});
  for (int margin : {1, 40, 200}) {
    matrix<Real> Z(2, 2);
    Z << Real(margin), Real(0), Real(0), Real(margin + 2);
    const model::sharpness_result<Real> h = model::sharpness_with_error(pb, Z);
    scalar::set_mpfr_digits(500);
    const auto block = [](const char* p, int m) {
      const mpfr_real e = exp(mpfr_real(-m));
      return mpfr_real(2 * testing::num<mpfr_real>(p) * e / ((1 + e) * (1 + e)));
    };
    const mpfr_real reference = std::max(block("1/4", margin), block("3/4", margin + 2));
    testing::expect_close(reference, h.value, 64);
    EXPECT_LT(static_cast<double>(h.error), 1e-3 * static_cast<double>(reference));
    scalar::set_mpfr_digits(50);
  }
}

// N = M = 10 (N M = 100: Lanczos), orthonormal: block x is p_x times the softmax covariance of
// pi = (1 - 9 delta, delta, ..., delta), whose largest eigenvalue is M delta (1 - (M-1) delta),
// delta = e^-m / (1 + (M-1) e^-m). The value against that closed form, and its stated error bound
// against the true error.
TYPED_TEST(quantities_test, lanczos_sharpness_meets_the_closed_form_and_its_bound) {
  using Real = TypeParam;
  const auto pb = io::parse_problem<Real>(io::named_problem("zipf-orthogonal"));
  const int M = pb.classes;
  for (int scale : {0, 3, 30}) {
    matrix<Real> Z = matrix<Real>::Zero(pb.tokens, M);
    for (int x = 0; x < pb.tokens; ++x) Z(x, x) = Real(scale * (x + 1)) / 4;
    const model::sharpness_result<Real> h = model::sharpness_with_error(pb, Z);
    EXPECT_GT(h.lanczos_iterations, 0);
    scalar::set_mpfr_digits(300);
    mpfr_real reference(0);
    for (int x = 0; x < pb.tokens; ++x) {
      const mpfr_real e = exp(mpfr_real(-mpfr_real(scale * (x + 1)) / 4));
      const mpfr_real delta = e / (1 + (M - 1) * e);
      const mpfr_real p = mpfr_real(1) / (x + 1) /
                          testing::num<mpfr_real>("7381/2520");  // Zipf(1): H_10 = 7381/2520
      reference = std::max(reference, mpfr_real(p * M * delta * (1 - (M - 1) * delta)));
    }
    testing::expect_close(reference, h.value, 1e4);
    const mpfr_real actual = abs(mpfr_real(scalar::to_text<Real>(h.value)) - reference);
    EXPECT_LE(static_cast<double>(actual), static_cast<double>(h.error) * 1.0000001)
        << "the stated error bound must hold (scale " << scale << ")";
    scalar::set_mpfr_digits(50);
  }
}

// N = 12 tokens and M = 7 classes in d = 2 (N M = 84: Lanczos; neither Gram matrix formed, so K v
// goes through the embeddings and the rounding bound through their absolute values): against
// lambda_max of the 4 x 4 Hessian on W at 100 digits (the same nonzero spectrum), and the stated
// bound against the true error.
TYPED_TEST(quantities_test, sharpness_through_the_embeddings_meets_the_hessian_on_w) {
  using Real = TypeParam;
  const nlohmann::json spec = testing::correlated_spec(12, 7, 2, 4, "3");
  const auto pb = io::parse_problem<Real>(spec);
  ASSERT_EQ(pb.G_E.size(), 0);
  ASSERT_EQ(pb.G_U.size(), 0);
  const model::sharpness_result<Real> h = model::sharpness_with_error(pb, pb.Z0);
  EXPECT_GT(h.lanczos_iterations, 0);
  scalar::set_mpfr_digits(100);
  const auto exact = io::parse_problem<mpfr_real>(spec);
  const Eigen::SelfAdjointEigenSolver<matrix<mpfr_real>> eig(model::hessian(exact, exact.W0));
  const mpfr_real reference = eig.eigenvalues().maxCoeff();
  EXPECT_GT(reference, mpfr_real("1e-3"));  // not a degenerate point
  testing::expect_close(reference, h.value, 1e4);
  const mpfr_real actual = abs(mpfr_real(scalar::to_text<Real>(h.value)) - reference);
  EXPECT_LE(static_cast<double>(actual), static_cast<double>(h.error) * 1.0000001);
  scalar::set_mpfr_digits(50);
}

TYPED_TEST(quantities_test, zero_one_loss_breaks_ties_to_the_lowest_index) {
  using Real = TypeParam;
  const auto pb = two_by_three<Real>();
  matrix<Real> Z = matrix<Real>::Zero(2, 3);
  // All ties: predictions are class 0; token 1 (target 0) is right, token 0 (target 2) is wrong.
  EXPECT_EQ(model::predictions(Z), (std::vector<int>{0, 0}));
  EXPECT_EQ(model::zero_one_loss(pb, Z), pb.p(0));
  Z(0, 1) = Real(1);
  Z(0, 2) = Real(1);  // tie between 1 and 2 -> 1, still wrong
  EXPECT_EQ(model::predictions(Z)[0], 1);
  Z(0, 2) = Real(2);
  EXPECT_EQ(model::zero_one_loss(pb, Z), Real(0));
}

TYPED_TEST(quantities_test, margins_take_the_largest_wrong_logit) {
  using Real = TypeParam;
  const auto pb = two_by_three<Real>();
  matrix<Real> Z(2, 3);
  Z << Real(1), Real(5), Real(2), Real(-1), Real(-3), Real(-0.5);
  const model::vector<Real> m = model::margins(pb, Z);
  EXPECT_EQ(m(0), Real(2) - Real(5));
  EXPECT_EQ(m(1), Real(-1) - Real(-0.5));
}

TYPED_TEST(quantities_test, derived_matrices) {
  using Real = TypeParam;
  const auto pb = io::parse_problem<Real>(testing::correlated_spec(4, 3, 5, 3, "1"));
  EXPECT_LT((pb.G_E - pb.E * pb.E.transpose()).cwiseAbs().maxCoeff(), scalar::epsilon<Real>());
  EXPECT_LT((pb.Z0 - model::logits(pb, pb.W0)).cwiseAbs().maxCoeff(), 10 * scalar::epsilon<Real>());
  EXPECT_FALSE(pb.zero_init);
  for (int x = 0; x < pb.tokens; ++x) EXPECT_EQ(pb.Y.row(x).sum(), Real(1));
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
