// The gradient, Hessian and sharpness against finite differences and closed forms, for every
// scalar.
#include <cmath>

#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using model::matrix;
using testing::num;

template <class Real>
class gradient_test : public testing::real_test<Real> {};
TYPED_TEST_SUITE(gradient_test, testing::scalar_types, testing::scalar_names);

template <class Real>
Real loss_at(const model::problem<Real>& pb, const matrix<Real>& W) {
  return model::loss(pb, model::logits(pb, W));
}

// Central differences, step h = eps^(1/3): truncation h^2 and round-off eps/h are both ~eps^(2/3).
template <class Real>
Real fd_step() {
  using std::cbrt;
  return cbrt(scalar::epsilon<Real>());
}

TYPED_TEST(gradient_test, equals_central_differences_of_the_loss) {
  using Real = TypeParam;
  using std::abs;
  for (int seed : {1, 2, 3}) {
    const auto pb = io::parse_problem<Real>(testing::correlated_spec(5, 3, 4, seed, "1.5"));
    const matrix<Real> W = pb.W0;
    const matrix<Real> G = model::gradient(pb, W);
    const Real h = fd_step<Real>();
    Real worst(0);
    for (int i = 0; i < pb.dim; ++i) {
      for (int j = 0; j < pb.dim; ++j) {
        matrix<Real> Wp = W, Wm = W;
        Wp(i, j) += h;
        Wm(i, j) -= h;
        const Real fd = (loss_at(pb, Wp) - loss_at(pb, Wm)) / (2 * h);
        worst = std::max<Real>(worst, abs(fd - G(i, j)));
      }
    }
    const Real scale = G.cwiseAbs().maxCoeff();
    const Real relative = worst / scale;
    using std::pow;
    const Real tol = 20 * pow(scalar::epsilon<Real>(), Real(2) / 3);
    EXPECT_LT(relative, tol) << scalar::name<Real>() << " seed " << seed;
    if constexpr (is_mpfr_v<Real>) {
      EXPECT_LT(relative, Real("1e-20"));
    }
    std::cout << "[ measured ] " << scalar::name<Real>() << " seed " << seed
              << ": max |grad - central difference| / max |grad| = "
              << static_cast<double>(relative) << "\n";
  }
}

TYPED_TEST(gradient_test, hessian_equals_differences_of_the_gradient) {
  using Real = TypeParam;
  using std::abs;
  const auto pb = io::parse_problem<Real>(testing::correlated_spec(5, 3, 4, 7, "1"));
  const int d = pb.dim;
  const matrix<Real> H = model::hessian(pb, pb.W0);
  ASSERT_EQ(H.rows(), d * d);
  const Real h = fd_step<Real>();
  Real worst(0);
  for (int a = 0; a < d; ++a) {    // column a of W
    for (int i = 0; i < d; ++i) {  // row i; vec index a * d + i (column-major)
      matrix<Real> Wp = pb.W0, Wm = pb.W0;
      Wp(i, a) += h;
      Wm(i, a) -= h;
      const matrix<Real> dG = (model::gradient(pb, Wp) - model::gradient(pb, Wm)) / (2 * h);
      const Eigen::Map<const model::vector<Real>> column(dG.data(), d * d);
      worst = std::max<Real>(worst, (column - H.col(a * d + i)).cwiseAbs().maxCoeff());
    }
  }
  using std::pow;
  const Real relative = worst / H.cwiseAbs().maxCoeff();
  EXPECT_LT(relative, 20 * pow(scalar::epsilon<Real>(), Real(2) / 3));
  EXPECT_LT((H - H.transpose()).cwiseAbs().maxCoeff(), 100 * scalar::epsilon<Real>());
}

TYPED_TEST(gradient_test, sharpness_from_logits_equals_largest_hessian_eigenvalue) {
  using Real = TypeParam;
  using std::abs;
  for (int seed : {4, 5}) {
    const auto pb = io::parse_problem<Real>(testing::correlated_spec(4, 3, 5, seed, "2"));
    const Real full = model::largest_eigenvalue(model::hessian(pb, pb.W0));
    const Real reduced = model::sharpness(pb, pb.Z0);
    EXPECT_LT(abs(full - reduced) / full, 1000 * scalar::epsilon<Real>()) << "seed " << seed;
  }
}

// N M = 81 > dense_sharpness_limit: Lanczos on the logit form against the dense eigensolver on
// the d^2 x d^2 Hessian (d = 6), and the stated error bound against the difference.
TYPED_TEST(gradient_test, lanczos_sharpness_equals_largest_hessian_eigenvalue) {
  using Real = TypeParam;
  using std::abs;
  for (int seed : {4, 5}) {
    const auto pb = io::parse_problem<Real>(testing::correlated_spec(9, 9, 6, seed, "2"));
    ASSERT_GT(pb.tokens * pb.classes, model::dense_sharpness_limit);
    const Real full = model::largest_eigenvalue(model::hessian(pb, pb.W0));
    const model::sharpness_result<Real> h = model::sharpness_with_error(pb, pb.Z0);
    EXPECT_GT(h.lanczos_iterations, 0);
    EXPECT_LT(abs(full - h.value) / full, 1e4 * scalar::epsilon<Real>()) << "seed " << seed;
    EXPECT_LE(abs(full - h.value), h.error + 100 * scalar::epsilon<Real>() * full)
        << "seed " << seed;
  }
}

// paper-notes section 2 and P7: for the pair problem with U = I_2 at W = 0 the sharpness is
// lambda_max(p0 e0 e0^T + p1 e1 e1^T) / 2 = (1 + sqrt(1 - 4 p0 p1 (1 - alpha^2))) / 4.
TYPED_TEST(gradient_test, sharpness_at_zero_pair_closed_form) {
  using Real = TypeParam;
  using std::abs;
  using std::sqrt;
  for (const char* alpha : {"0.95", "0.5", "-0.3", "0"}) {
    for (const char* p0 : {"0.75", "1/2", "0.9"}) {
      const rational q0 = scalar::parse_exact(p0, "p0");
      const nlohmann::json s = {
          {"tokens", 2},
          {"classes", 2},
          {"dim", 2},
          {"inputs", {{"kind", "pair"}, {"alpha", alpha}}},
          {"outputs", {{"kind", "orthonormal"}}},
          {"frequencies", {{"kind", "explicit"}, {"p", {p0, rational(1 - q0).str()}}}},
          {"target", {{"kind", "identity"}}},
          {"init", {{"kind", "zero"}}}};
      const auto pb = io::parse_problem<Real>(s);
      const Real a = num<Real>(alpha), P0 = num<Real>(p0), P1 = 1 - P0;
      const Real closed = (1 + sqrt(1 - 4 * P0 * P1 * (1 - a * a))) / 4;
      const Real full = model::largest_eigenvalue(model::hessian(pb, pb.W0));
      const Real reduced = model::sharpness(pb, pb.Z0);
      EXPECT_LT(abs(full - closed), 100 * scalar::epsilon<Real>()) << alpha << " " << p0;
      EXPECT_LT(abs(reduced - closed), 100 * scalar::epsilon<Real>()) << alpha << " " << p0;
    }
  }
}

// Orthonormal outputs, any inputs: sharpness at W = 0 is lambda_max(sum_x p(x) e_x e_x^T) / M, the
// eigenvalue computed independently of the Hessian.
TYPED_TEST(gradient_test, sharpness_at_zero_orthonormal_outputs) {
  using Real = TypeParam;
  using std::abs;
  nlohmann::json spec = testing::correlated_spec(6, 3, 4, 11, "0");
  spec["outputs"] = {{"kind", "orthonormal"}};
  spec["init"] = {{"kind", "zero"}};
  const auto pb = io::parse_problem<Real>(spec);
  const matrix<Real> C = pb.E.transpose() * pb.p.asDiagonal() * pb.E;
  const Real closed = model::largest_eigenvalue(C) / pb.classes;
  EXPECT_LT(abs(model::sharpness(pb, pb.Z0) - closed), 100 * scalar::epsilon<Real>());
  EXPECT_LT(abs(model::largest_eigenvalue(model::hessian(pb, pb.W0)) - closed),
            100 * scalar::epsilon<Real>());
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
