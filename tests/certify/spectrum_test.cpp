// Certified largest eigenvalues and P9's threshold: brackets that contain closed forms and
// independent 100-digit computations, and refusals where nothing can be proven.
#include <random>

#include "amflow/certify/logistic.hpp"
#include "amflow/certify/problem.hpp"
#include "amflow/certify/spectrum.hpp"
#include "amflow/model/quantities.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using certify::ball;

std::vector<ball> matrix_of(const std::vector<long>& v) {
  std::vector<ball> out;
  for (long x : v) out.push_back(ball(x));
  return out;
}

TEST(certified_spectrum, largest_eigenvalue_brackets_closed_forms) {
  scalar::set_mpfr_digits(50);
  const certify::precision_scope bits(200);
  // diag(3, 1, 2): 3; [[2, 1], [1, 2]]: 3; [[0, 1], [1, 0]] (indefinite): 1; a PSD rank-one
  // [[1, 1], [1, 1]]: 2 (a double zero elsewhere is no obstacle).
  const struct {
    std::vector<long> A;
    int n;
    long top;
  } cases[] = {{{3, 0, 0, 0, 1, 0, 0, 0, 2}, 3, 3},
               {{2, 1, 1, 2}, 2, 3},
               {{0, 1, 1, 0}, 2, 1},
               {{1, 1, 1, 1}, 2, 2}};
  for (const auto& c : cases) {
    const ball l = certify::largest_eigenvalue(matrix_of(c.A), c.n);
    EXPECT_TRUE(l.contains(rational(c.top))) << l.text(30);
    EXPECT_TRUE(l.radius_below(rational(1, mp::pow(mp::mpz_int(10), 40)))) << l.text(30);
  }
  // [[1, 1/3], [1/3, 1]]: 4/3 with a non-dyadic entry.
  std::vector<ball> A = {ball(1), ball(1) / ball(3), ball(1) / ball(3), ball(1)};
  EXPECT_TRUE(certify::largest_eigenvalue(A, 2).contains(rational(4, 3)));
  // Entries known only to +-1e-3: the bracket covers every matrix in them (1 +- 1e-3 + 1 +- 1e-3
  // on the ones matrix reaches 2.002), never narrower.
  std::vector<ball> wide = matrix_of({1, 1, 1, 1});
  for (auto& b : wide) b.add_error(ball::of(rational(1, 1000)));
  const ball l = certify::largest_eigenvalue(wide, 2);
  EXPECT_TRUE(l.contains(rational(2)));
  EXPECT_FALSE(l.below(rational(2002, 1000) - rational(1, 100000)));
  // The identity with off-diagonal entries known to +-1e-3: the midpoint's eigenvector gives a
  // Rayleigh quotient of exactly 1, yet [[1, e], [e, 1]] reaches 1.001: only the Cholesky upper
  // bound covers it.
  std::vector<ball> near_identity = matrix_of({1, 0, 0, 1});
  near_identity[1].add_error(ball::of(rational(1, 1000)));
  near_identity[2].add_error(ball::of(rational(1, 1000)));
  const ball top = certify::largest_eigenvalue(near_identity, 2);
  EXPECT_TRUE(top.contains(rational(1)));
  EXPECT_FALSE(top.below(rational(1001, 1000))) << top.text(20);
}

TEST(certified_spectrum, sharpness_contains_the_100_digit_value_at_random_states) {
  scalar::set_mpfr_digits(100);
  for (const char* name : {"large-memory", "pair", "orthogonal"}) {
    const auto pb = io::parse_problem<mpfr_real>(io::named_problem(name));
    std::mt19937_64 rng(7);
    std::normal_distribution<double> g(0, 3);
    for (int trial = 0; trial < 3; ++trial) {
      model::matrix<mpfr_real> Z(pb.tokens, pb.classes);
      for (Eigen::Index i = 0; i < Z.size(); ++i) Z(i) = mpfr_real(g(rng));
      const mpfr_real reference = model::sharpness(pb, Z);
      const certify::precision_scope bits(certify::bits_for_digits(60));
      const auto bp = certify::ball_problem_of(io::named_problem(name));
      std::vector<ball> Zb;
      for (int x = 0; x < pb.tokens; ++x) {
        for (int y = 0; y < pb.classes; ++y) Zb.push_back(ball::of(Z(x, y)));
      }
      const ball s = certify::sharpness(bp, Zb);
      // The 100-digit value is within ~1e-95 of the exact one; the bracket is ~1e-55 wide.
      EXPECT_TRUE(s.contains(ball::of(reference))) << name << " " << s.text(40);
      EXPECT_LT(s.radius(), 1e-50) << name;
    }
  }
  scalar::set_mpfr_digits(50);
}

// The minimiser and eta_c against an independent computation: Newton's method at 100 digits on
// l(w) = sum p log(1 + exp(-s w.e)) written here, and lambda_max of the 2 x 2 Hessian in closed
// form.
TEST(certified_threshold, eta_c_contains_an_independent_100_digit_value) {
  scalar::set_mpfr_digits(100);
  using R = mpfr_real;
  const R pi = boost::math::constants::pi<R>();
  const R deg[3] = {R(0), R(30), R(60)};
  const R p[3] = {R(6) / 11, R(3) / 11, R(2) / 11};
  const int s[3] = {1, -1, 1};
  R w0(0), w1(0), h00, h01, h11;
  for (int it = 0; it < 100; ++it) {
    R g0(0), g1(0);
    h00 = h01 = h11 = 0;
    for (int x = 0; x < 3; ++x) {
      const R e0 = cos(deg[x] * pi / 180), e1 = sin(deg[x] * pi / 180);
      const R m = s[x] * (w0 * e0 + w1 * e1);
      const R sm = 1 / (1 + exp(m)), sp = 1 / (1 + exp(R(-m)));
      g0 -= p[x] * s[x] * sm * e0;
      g1 -= p[x] * s[x] * sm * e1;
      h00 += p[x] * sm * sp * e0 * e0;
      h01 += p[x] * sm * sp * e0 * e1;
      h11 += p[x] * sm * sp * e1 * e1;
    }
    const R det = h00 * h11 - h01 * h01;
    w0 -= (h11 * g0 - h01 * g1) / det;
    w1 -= (h00 * g1 - h01 * g0) / det;
  }
  const R lambda = (h00 + h11 + sqrt(R((h00 - h11) * (h00 - h11) + 4 * h01 * h01))) / 2;
  const R eta_c = 2 / (2 * lambda);  // |u_0 - u_1|^2 = 2

  scalar::set_mpfr_digits(50);
  const certify::precision_scope bits(certify::bits_for_digits(50));
  const auto t = certify::certify_two_class_threshold(io::named_problem("underparameterized"));
  ASSERT_TRUE(t.ok()) << t.message;
  EXPECT_TRUE(t.w[0].contains(ball::of(w0))) << t.w[0].text(50);
  EXPECT_TRUE(t.w[1].contains(ball::of(w1))) << t.w[1].text(50);
  EXPECT_TRUE(t.eta_c.contains(ball::of(eta_c))) << t.eta_c.text(50);
  EXPECT_TRUE(t.eta_c.radius_below(rational(1, mp::pow(mp::mpz_int(10), 40))));
}

TEST(certified_threshold, separable_data_and_more_classes_are_refused) {
  scalar::set_mpfr_digits(50);
  const certify::precision_scope bits(certify::bits_for_digits(50));
  // Two tokens at 0 and 90 degrees with different labels: separable, no finite minimiser.
  nlohmann::json spec = io::named_problem("underparameterized");
  spec["tokens"] = 2;
  spec["inputs"] = {{"kind", "angles"}, {"degrees", {0, 90}}};
  spec["frequencies"] = {{"kind", "uniform"}};
  const auto t = certify::certify_two_class_threshold(spec);
  EXPECT_FALSE(t.ok());
  EXPECT_EQ(t.why, reason::not_enclosed) << reason_name(t.why);
  EXPECT_NE(t.message.find("Krawczyk"), std::string::npos) << t.message;
  const auto m = certify::certify_two_class_threshold(io::named_problem("orthogonal"));
  EXPECT_FALSE(m.ok());
  EXPECT_EQ(m.why, reason::undefined) << reason_name(m.why);
  EXPECT_NE(m.message.find("two classes"), std::string::npos);
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
