// Loss, 0-1 loss, margins and the problem's derived matrices on hand-checked cases.
#include <cmath>

#include "support.hpp"

namespace amflow {
namespace {

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

}  // namespace
}  // namespace amflow
