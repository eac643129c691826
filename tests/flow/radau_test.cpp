// Radau IIA and the far-time stepper (auto): the tableau against its order conditions and the
// 2-stage tableau's exact values; the flow to tau = 1e15 on the under-parameterised problem against
// its minimiser found by Newton's method written here (a 2-dimensional logistic regression), and
// on the mixed problem against the asymptotics derived below; and the auto stepper leaving the
// separable problems to the Taylor series.
#include <cmath>

#include "amflow/flow/integrate.hpp"
#include "amflow/flow/radau_impl.hpp"
#include "amflow/io/points.hpp"
#include "amflow/model/quantities.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using Real = mpfr_real;

// The simplifying conditions that make s-stage Radau IIA what it is: B(2s - 1), the weights
// integrate polynomials of degree 2s - 2 exactly, and C(s), each row integrates degree s - 1 up to
// its node; with c_s = 1 and the last row of A equal to b.
TEST(radau, tableau_meets_its_order_conditions) {
  scalar::set_mpfr_digits(50);
  for (int s = 2; s <= 24; ++s) {
    const auto tab = flow::detail::make_radau_tableau<Real>(s);
    ASSERT_EQ(tab.c.size(), s);
    EXPECT_EQ(tab.c(s - 1), Real(1));
    Real worst(0);
    for (int k = 1; k <= 2 * s - 1; ++k) {
      Real sum(0);
      for (int i = 0; i < s; ++i) sum += tab.A(s - 1, i) * pow(tab.c(i), k - 1);
      worst = std::max(worst, Real(abs(Real(sum - Real(1) / k))));
    }
    for (int i = 0; i < s; ++i) {
      for (int k = 1; k <= s; ++k) {
        Real sum(0);
        for (int j = 0; j < s; ++j) sum += tab.A(i, j) * pow(tab.c(j), k - 1);
        worst = std::max(worst, Real(abs(Real(sum - pow(tab.c(i), k) / k))));
      }
    }
    for (int i = 0; i + 1 < s; ++i) {
      EXPECT_GT(tab.c(i), Real(0));
      EXPECT_LT(tab.c(i), tab.c(i + 1));
    }
    EXPECT_LT(worst, Real("1e-45")) << s << " stages";
  }
}

// s = 2: c = (1/3, 1), A = [[5/12, -1/12], [3/4, 1/4]] (Hairer and Wanner, table 5.5).
TEST(radau, two_stage_tableau_is_the_known_one) {
  scalar::set_mpfr_digits(50);
  const auto tab = flow::detail::make_radau_tableau<Real>(2);
  const Real expected[2][2] = {{Real(5) / 12, Real(-1) / 12}, {Real(3) / 4, Real(1) / 4}};
  testing::expect_close(Real(1) / 3, tab.c(0), 8);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) testing::expect_close(expected[i][j], tab.A(i, j), 8);
  }
}

flow::flow_options<Real> far(const std::string& at, flow::stepper_kind stepper) {
  flow::flow_options<Real> o;
  o.stepper = stepper;
  o.time = flow::time_kind::log;
  o.rel_tol = o.abs_tol = flow::default_tolerance<Real>();
  o.step = Real(1) / 100;
  o.times = io::parse_points<Real>(at, "test");
  o.estimate_error = false;
  return o;
}

// The under-parameterised problem has U = I_2 and two classes, so its logits only enter through
// w = W_0 - W_1: z_0 - z_1 = w . e_x, and the flow converges to the minimiser of
//   L(w) = sum_x p(x) log(1 + exp(-y_x w . e_x))   (y_x = +1 for class 0, -1 for class 1),
// which Newton's method finds here (gradient and 2 x 2 Hessian written from this formula). Margins
// at the limit: y_x w* . e_x.
TEST(radau, underparameterized_reaches_its_minimiser_at_1e15) {
  scalar::set_mpfr_digits(50);
  const auto pb = io::parse_problem<Real>(io::named_problem("underparameterized"));
  Real w[2] = {Real(0), Real(0)};
  for (int iteration = 0; iteration < 60; ++iteration) {
    Real g[2] = {Real(0), Real(0)}, H[2][2] = {{Real(0), Real(0)}, {Real(0), Real(0)}};
    for (int x = 0; x < 3; ++x) {
      const Real y = pb.target[x] == 0 ? Real(1) : Real(-1);
      const Real m = y * (w[0] * pb.E(x, 0) + w[1] * pb.E(x, 1));
      const Real sig = 1 / (1 + exp(m));  // sigma(-m)
      for (int a = 0; a < 2; ++a) {
        g[a] -= pb.p(x) * sig * y * pb.E(x, a);
        for (int b = 0; b < 2; ++b) H[a][b] += pb.p(x) * sig * (1 - sig) * pb.E(x, a) * pb.E(x, b);
      }
    }
    const Real det = H[0][0] * H[1][1] - H[0][1] * H[1][0];
    w[0] -= (H[1][1] * g[0] - H[0][1] * g[1]) / det;
    w[1] -= (H[0][0] * g[1] - H[1][0] * g[0]) / det;
  }
  const auto r = flow::integrate(pb, far("1e3,1e9,1e15", flow::stepper_kind::automatic));
  ASSERT_TRUE(r.ok()) << r.message;
  ASSERT_EQ(r.samples.size(), 3u);
  EXPECT_GT(r.run.radau_steps, 0);
  EXPECT_LT(r.run.steps, 200);
  for (size_t i = 1; i < 3; ++i) {
    for (int x = 0; x < 3; ++x) {
      const Real y = pb.target[x] == 0 ? Real(1) : Real(-1);
      const Real expected = y * (w[0] * pb.E(x, 0) + w[1] * pb.E(x, 1));
      EXPECT_LT(abs(Real(r.samples[i].margins(x) - expected)), Real("1e-42")) << i << " " << x;
    }
  }
}

// The mixed problem: e_0 = e_1 = (1, 0) with labels 0 and 1 (p = 1/2, 1/4) and e_2 at 60 degrees,
// label 0 (p = 1/4); U = I_2, so again everything goes through w = W_0 - W_1. With a = w . e_0 (the
// margin of token 0; token 1's is -a) and m_2 = w . e_2,
//   da/dtau = v(a) + p2 sigma(-m_2),  v(a) = 2 (p0 sigma(-a) - p1 sigma(a)),
//   d(m_2 - a/2)/dtau = 2 p2 |e_2 - (e_2 . e_0) e_0|^2 sigma(-m_2) = (3/8) sigma(-m_2).
// v vanishes at a* = log(p0 / p1) = log 2 with v'(a*) = -2 (p0 + p1) (2/3)(1/3) = -1/3, so a
// follows a* + 3 p2 sigma(-m_2) to O(1/tau^2) terms; then e^(m_2 - a/2) grows like (3/8) e^(-a*/2)
// tau, so m_2 = log(3 tau / 8) + O(log tau / tau) and a = log 2 + (3/4)(8 / (3 tau)) = log 2 + 2 /
// tau + O(log tau / tau^2). At tau = 1e15: m_0 - log 2 - 2e-15 ~ 1e-28, m_2 - log(3e15/8) ~ 1e-13.
TEST(radau, mixed_problem_follows_its_asymptotics_to_1e15) {
  scalar::set_mpfr_digits(50);
  const auto pb = io::parse_problem<Real>(io::named_problem("mixed"));
  const auto r = flow::integrate(pb, far("1e12,1e15", flow::stepper_kind::automatic));
  ASSERT_TRUE(r.ok()) << r.message;
  ASSERT_EQ(r.samples.size(), 2u);
  EXPECT_GT(r.run.radau_steps, 0);
  const Real tau = r.samples[1].tau;
  const Real a = r.samples[1].margins(0);
  EXPECT_EQ(r.samples[1].margins(1), -a);
  EXPECT_LT(abs(Real(a - log(Real(2)) - 2 / tau)), Real("1e-26"));
  EXPECT_LT(abs(Real(r.samples[1].margins(2) - log(3 * tau / 8))), Real("1e-12"));
  // And the correction 2 / tau is there: at 1e12 it is 2e-12.
  const Real a12 = r.samples[0].margins(0);
  EXPECT_LT(abs(Real(a12 - log(Real(2)) - 2 / r.samples[0].tau)), Real("1e-20"));
  EXPECT_GT(abs(Real(a12 - log(Real(2)))), Real("1e-12"));
}

// The auto stepper leaves separable problems to the Taylor series (their rate in log time tends
// to a constant) and hands over on the converging ones.
TEST(radau, auto_hands_over_only_where_the_flow_converges) {
  scalar::set_mpfr_digits(30);
  for (const std::string name : {"orthogonal", "pair", "large-memory"}) {
    const auto pb = io::parse_problem<Real>(io::named_problem(name));
    const auto r = flow::integrate(pb, far("1e15", flow::stepper_kind::automatic));
    ASSERT_TRUE(r.ok()) << name << ": " << r.message;
    EXPECT_EQ(r.run.radau_steps, 0) << name;
  }
  const auto pb = io::parse_problem<Real>(io::named_problem("underparameterized"));
  const auto r = flow::integrate(pb, far("1e15", flow::stepper_kind::automatic));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_GT(r.run.radau_steps, 0);
  scalar::set_mpfr_digits(50);
}

// Five tokens in d = 2 (G_E not formed: the stiffness monitor's trace bound takes diag(G_E) from
// the rows of E), two of them equal with different labels: the flow converges, auto hands over to
// Radau IIA as it does with G_E formed, and both runs end on the same logits.
TEST(radau, auto_hands_over_through_the_embeddings) {
  scalar::set_mpfr_digits(30);
  // e_0 = e_1 with labels 0 and 1 (as in `mixed`): no W separates them.
  const auto pb = io::parse_problem<Real>(nlohmann::json::parse(R"({
      "tokens": 5, "classes": 2, "dim": 2,
      "inputs": {"kind": "explicit", "rows": [[1, 0], [1, 0], [0, 1], ["0.6", "0.8"], [-1, 2]]},
      "outputs": {"kind": "orthonormal"}, "frequencies": {"kind": "zipf", "exponent": 1},
      "target": {"kind": "mod", "modulus": 2}, "init": {"kind": "zero"}})"));
  ASSERT_EQ(pb.G_E.size(), 0);
  auto formed = pb;
  formed.G_E = pb.E * pb.E.transpose();
  // Without the handover the Taylor series would crawl (steps held at ~1 / rate): capped.
  auto o = far("1e6,1e12", flow::stepper_kind::automatic);
  o.max_steps = 5000;
  const auto r = flow::integrate(pb, o);
  const auto f = flow::integrate(formed, o);
  ASSERT_TRUE(r.ok() && f.ok()) << r.message << f.message;
  EXPECT_GT(r.run.radau_steps, 0);
  EXPECT_GT(f.run.radau_steps, 0);
  EXPECT_LT(r.run.steps, 2000);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_LT((r.samples[i].Z - f.samples[i].Z).cwiseAbs().maxCoeff(), Real("1e-20")) << i;
  }
  scalar::set_mpfr_digits(50);
}

// Radau IIA alone from tau = 0 (no Taylor series first) agrees with the Taylor series on the pair
// problem in linear time, and refuses the modified flow.
TEST(radau, alone_agrees_with_the_taylor_series) {
  scalar::set_mpfr_digits(40);
  const auto pb = io::parse_problem<Real>(io::named_problem("pair"));
  auto o = far("0.5,2,10", flow::stepper_kind::radau);
  o.time = flow::time_kind::linear;
  const auto r = flow::integrate(pb, o);
  ASSERT_TRUE(r.ok()) << r.message;
  o.stepper = flow::stepper_kind::taylor;
  const auto t = flow::integrate(pb, o);
  ASSERT_TRUE(t.ok()) << t.message;
  for (size_t i = 0; i < 3; ++i) {
    for (int x = 0; x < 2; ++x) {
      EXPECT_LT(abs(Real(r.samples[i].margins(x) - t.samples[i].margins(x))), Real("1e-32"));
    }
  }
  o.stepper = flow::stepper_kind::radau;
  o.modified_eta = Real(1) / 10;
  EXPECT_THROW(flow::integrate(pb, o), input_error);
  scalar::set_mpfr_digits(50);
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
