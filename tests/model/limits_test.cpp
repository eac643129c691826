// The far-time limits (model/limits.hpp): the hard margin against closed forms (the pair problem's
// |W_hat|^2 = 1 / (1 - alpha) for several alpha; orthonormal embeddings' weights 1 / M), the
// minimiser's KKT conditions and its refusal where the infimum is not attained.
#include "amflow/model/limits.hpp"

#include "amflow/io/problem_io.hpp"
#include "support.hpp"

namespace amflow {
namespace {

using Real = mpfr_real;

model::problem<Real> named(const std::string& name) {
  return io::parse_problem<Real>(io::named_problem(name));
}

// Pair: constraints (u_0 - u_1)^T W e_0 >= 1 and (u_1 - u_0)^T W e_1 >= 1; by symmetry W_hat =
// c (u_0 - u_1)(e_0 - e_1)^T / 2 with c (1 - alpha) = 1, so |W_hat|_F^2 = c^2 |e_0 - e_1|^2 / 2 =
// 1 / (1 - alpha), and each weight is 1 / (2 (1 - alpha)).
TEST(limits, pair_hard_margin_is_the_closed_form) {
  scalar::set_mpfr_digits(50);
  for (const std::string alpha : {"0.95", "0.5", "-0.3"}) {
    auto spec = io::named_problem("pair");
    spec["inputs"]["alpha"] = alpha;
    const auto pb = io::parse_problem<Real>(spec);
    const auto hm = model::hard_margin(pb);
    ASSERT_TRUE(hm.separable) << alpha << ": " << hm.message;
    const Real a = scalar::parse_real<Real>(alpha, "alpha");
    EXPECT_LT(abs(Real(hm.norm2 - 1 / (1 - a))), Real("1e-45")) << alpha;
    ASSERT_EQ(hm.alpha.size(), 2);
    for (int i = 0; i < 2; ++i) {
      EXPECT_LT(abs(Real(hm.alpha(i) - 1 / (2 * (1 - a)))), Real("1e-45"));
    }
    EXPECT_LT(abs(Real(hm.W.squaredNorm() - 1 / (1 - a))), Real("1e-44"));
  }
}

// Orthonormal embeddings: W_hat e_x = ((M - 1) / M) (u_x - mean of the others) ... every wrong
// class active with weight 1 / M, |W_hat|^2 = N (M - 1) / M.
TEST(limits, orthonormal_weights_are_one_over_M) {
  scalar::set_mpfr_digits(50);
  const auto pb = named("zipf-orthogonal");
  const auto hm = model::hard_margin(pb);
  ASSERT_TRUE(hm.separable) << hm.message;
  EXPECT_EQ(hm.alpha.size(), pb.tokens * (pb.classes - 1));
  for (Eigen::Index i = 0; i < hm.alpha.size(); ++i) {
    EXPECT_LT(abs(Real(hm.alpha(i) - Real(1) / pb.classes)), Real("1e-45"));
  }
  EXPECT_LT(abs(Real(hm.norm2 - Real(pb.tokens * (pb.classes - 1)) / pb.classes)), Real("1e-44"));
}

// The minimiser has a vanishing gradient of the loss in W (model::gradient, not the Newton
// coordinates), and a non-separable problem has no hard margin; the mixed problem has neither.
TEST(limits, minimiser_is_stationary_and_mixed_has_none) {
  scalar::set_mpfr_digits(50);
  const auto pb = named("underparameterized");
  EXPECT_FALSE(model::hard_margin(pb).separable);
  const auto w = model::minimiser(pb);
  ASSERT_TRUE(w.found) << w.message;
  EXPECT_LT(model::gradient(pb, w.W).norm(), Real("1e-45"));
  EXPECT_LT((model::logits(pb, w.W) - w.Z).norm(), Real("1e-45"));
  EXPECT_LT(abs(Real(w.eta_c - 2 / w.spectrum.maxCoeff())), Real("1e-45"));
  const auto mixed = named("mixed");
  EXPECT_FALSE(model::hard_margin(mixed).separable);
  EXPECT_FALSE(model::minimiser(mixed).found);
}

}  // namespace
}  // namespace amflow
