// P4 with exact arithmetic: after one GD step from W0 = 0 on an orthogonal problem, every margin is
// exactly eta p(x), so every token is learned, for every eta > 0.
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

nlohmann::json orthogonal_spec(int N, int M, const std::vector<std::string>& p) {
  return {{"tokens", N},
          {"classes", M},
          {"dim", std::max(N, M)},
          {"inputs", {{"kind", "orthonormal"}}},
          {"outputs", {{"kind", "orthonormal"}}},
          {"frequencies", {{"kind", "explicit"}, {"p", p}}},
          {"target", {{"kind", "mod"}, {"modulus", M}}},
          {"init", {{"kind", "zero"}}}};
}

TEST(one_step_exact, margins_are_eta_times_p) {
  const std::vector<std::vector<std::string>> freqs = {{"1/2", "3/10", "1/5"},
                                                       {"1/7", "2/7", "4/7"},
                                                       {"0.001", "0.999"},
                                                       {"1/3", "1/3", "1/6", "1/6"}};
  for (const auto& p : freqs) {
    for (int M : {2, 3, 5}) {
      const int N = static_cast<int>(p.size());
      const auto pb = io::parse_problem<rational>(orthogonal_spec(N, M, p));
      for (const char* eta_text : {"1/1000", "1", "7/3", "10", "123456789/1000"}) {
        const rational eta = scalar::parse_exact(eta_text, "eta");
        const model::matrix<rational> Z1 = model::one_step_from_zero(pb, eta);
        const model::vector<rational> m = model::margins(pb, Z1);
        for (int x = 0; x < N; ++x) {
          EXPECT_EQ(m(x), eta * pb.p(x)) << "x = " << x << ", eta = " << eta_text << ", M = " << M;
          EXPECT_GT(m(x), 0);
        }
        EXPECT_EQ(model::zero_one_loss(pb, Z1), 0);
      }
    }
  }
}

// A correlated problem has no such law: the exact one-step margins of the pair problem are
// eta (p0 - alpha p1, p1 - alpha p0) (P7); with alpha > p1/p0 the rare token goes wrong. Unit rows
// with rational coordinates (Pythagorean triples) keep everything exact.
TEST(one_step_exact, pair_margins_with_rational_alpha) {
  const nlohmann::json spec = {
      {"tokens", 2},
      {"classes", 2},
      {"dim", 2},
      {"inputs",
       {{"kind", "explicit"},
        {"rows", nlohmann::json::array({nlohmann::json::array({"1", "0"}),
                                        nlohmann::json::array({"12/13", "5/13"})})}}},
      {"outputs", {{"kind", "orthonormal"}}},
      {"frequencies", {{"kind", "explicit"}, {"p", {"3/4", "1/4"}}}},
      {"target", {{"kind", "identity"}}},
      {"init", {{"kind", "zero"}}}};
  const auto pb = io::parse_problem<rational>(spec);
  const rational eta(3), alpha(12, 13), p0(3, 4), p1(1, 4);
  const model::vector<rational> m = model::margins(pb, model::one_step_from_zero(pb, eta));
  EXPECT_EQ(m(0), eta * (p0 - alpha * p1));
  EXPECT_EQ(m(1), eta * (p1 - alpha * p0));
  EXPECT_LT(m(1), 0);
}

template <class Real>
class one_step_test : public testing::real_test<Real> {};
TYPED_TEST_SUITE(one_step_test, testing::scalar_types, testing::scalar_names);

// L(W_1) = sum_x p(x) log(1 + (M - 1) exp(-eta p(x))) (P4), evaluated from the closed form.
TYPED_TEST(one_step_test, loss_after_one_step_closed_form) {
  using Real = TypeParam;
  using std::exp;
  using std::log;
  const auto pb = io::parse_problem<Real>(orthogonal_spec(3, 4, {"1/2", "3/10", "1/5"}));
  for (const char* eta_text : {"0.1", "1", "10", "100"}) {
    const Real eta = testing::num<Real>(eta_text);
    auto s = model::initial_state(pb);
    model::gd_step(pb, s, eta);
    Real closed(0);
    for (int x = 0; x < pb.tokens; ++x) {
      closed += pb.p(x) * log(1 + (pb.classes - 1) * exp(-eta * pb.p(x)));
    }
    EXPECT_LT(testing::diff(model::loss(pb, s.Z), closed),
              static_cast<double>(100 * scalar::epsilon<Real>()))
        << eta_text;
  }
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
