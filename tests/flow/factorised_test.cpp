// The factorised flow W = A B (implicit midpoint): it keeps A^T A - B B^T to rounding at 50
// digits, converges at order 2 in its step, and GD on the factors (tested on its own against a
// plain loop in tests/descent/rules_test.cpp) approaches it at order 1 in eta.
#include <cmath>

#include "amflow/descent/descent.hpp"
#include "amflow/flow/factorised.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using model::matrix;
using testing::num;

template <class Real>
matrix<Real> balancedness(const matrix<Real>& A, const matrix<Real>& B) {
  return A.transpose() * A - B * B.transpose();
}

template <class Real>
Real max_abs(const matrix<Real>& X) {
  return X.cwiseAbs().maxCoeff();
}

TEST(factorised_flow, keeps_balancedness_to_rounding_at_50_digits) {
  scalar::set_mpfr_digits(50);
  using Real = mpfr_real;
  const auto pb = io::parse_problem<Real>(io::named_problem("large-memory"));
  descent::factorisation<Real> f;
  f.rank = 3;
  f.scale = num<Real>("0.5");
  const auto [A0, B0] = descent::initial_factors(f, pb.dim);
  flow::factorised_options<Real> o;
  o.step = num<Real>("0.05");
  o.times = {Real(1), Real(5), Real(20)};
  const auto r = flow::integrate_factorised(pb, A0, B0, o);
  ASSERT_TRUE(r.ok()) << r.message;
  const matrix<Real> C0 = balancedness(A0, B0);
  Real drift(0);
  for (const auto& s : r.samples)
    drift = std::max(drift, max_abs<Real>(balancedness(s.A, s.B) - C0));
  EXPECT_LT(drift, num<Real>("1e-46")) << "max |C0| " << scalar::to_text(max_abs<Real>(C0));
  // The loss falls and the memory moved: the invariant is not kept by standing still.
  EXPECT_LT(r.samples.back().loss, r.samples.front().loss);
  EXPECT_GT(max_abs<Real>(matrix<Real>(r.samples.back().A - A0)), Real(0.1));
  std::cout << "[ measured ] 50 digits, tau <= 20, " << r.steps << " steps, " << r.iterations
            << " iterations: max drift of A^T A - B B^T " << static_cast<double>(drift)
            << ", max |C0| " << static_cast<double>(max_abs<Real>(C0)) << "\n";
}

// Order 2 in the step (W at tau = 4 for h, h/2, h/4), and GD on the factors at order 1 in eta.
TEST(factorised_flow, is_second_order_and_gd_on_the_factors_approaches_it_at_order_one) {
  const auto pb = io::parse_problem<double>(io::named_problem("large-memory"));
  descent::factorisation<double> f;
  f.rank = 3;
  f.scale = 0.5;
  const auto factors = descent::initial_factors(f, pb.dim);
  const auto W_at = [&](double h) {
    flow::factorised_options<double> o;
    o.step = h;
    o.times = {4.0};
    const auto r = flow::integrate_factorised(pb, factors.first, factors.second, o);
    EXPECT_TRUE(r.ok()) << r.message;
    return matrix<double>(r.samples.back().A * r.samples.back().B);
  };
  const matrix<double> W1 = W_at(0.1), W2 = W_at(0.05), W4 = W_at(0.025), Wf = W_at(0.002);
  const double order = std::log2(max_abs<double>(W1 - W2) / max_abs<double>(W2 - W4));
  EXPECT_NEAR(order, 2.0, 0.05);
  std::vector<double> errors;
  for (double eta : {0.04, 0.02, 0.01}) {
    descent::descent_options<double> d;
    d.eta = eta;
    d.steps = std::lround(4 / eta);
    d.factors = f;
    d.record = false;
    const auto g = descent::run(pb, d);
    ASSERT_TRUE(g.ok()) << g.message;
    errors.push_back(max_abs<double>(matrix<double>(g.W - Wf)));
  }
  for (size_t i = 1; i < errors.size(); ++i) {
    EXPECT_NEAR(std::log2(errors[i - 1] / errors[i]), 1.0, 0.1) << "eta " << 0.04 / (1 << i);
  }
  std::cout << "[ measured ] midpoint order " << order
            << "; |W_GD - W_flow| at tau = 4: " << errors[0] << ", " << errors[1] << ", "
            << errors[2] << "\n";
}

TEST(factorised_flow, refuses_what_it_cannot_integrate) {
  const auto pb = io::parse_problem<double>(io::named_problem("large-memory"));
  const matrix<double> A = matrix<double>::Constant(pb.dim, 2, 0.1), B = A.transpose();
  flow::factorised_options<double> o;
  o.times = {1.0, 0.5};
  EXPECT_THROW(flow::integrate_factorised(pb, A, B, o), input_error);
  o.times = {1.0};
  o.step = 0;
  EXPECT_THROW(flow::integrate_factorised(pb, A, B, o), input_error);
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
