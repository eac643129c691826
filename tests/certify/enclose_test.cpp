// The validated flow enclosure: every bound contains a 200-digit (non-rigorous) flow and the closed
// form; a trajectory with one Taylor coefficient perturbed by 1e-30 is caught (the bounds widen to
// cover the exact flow instead of following the perturbed polynomial); singular Gram matrices are
// refused; the crossing and turn brackets hold the sign changes of the 200-digit flow; logit
// offsets enter exactly (a one-token closed form).
#include "amflow/certify/enclose.hpp"
#include "amflow/certify/closed_form.hpp"
#include "amflow/flow/integrate.hpp"
#include "analysis/claims_support.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using certify::ball;

std::vector<rational> decades(int last) {
  std::vector<rational> t = {rational(0), rational(1, 3)};
  for (int k = 0; k <= last; ++k) t.push_back(rational(mp::pow(mp::mpz_int(10), k)));
  return t;
}

// The flow at 200 digits, tolerance 1e-190 (within ~1e-185 of the exact flow).
flow::flow_result<mpfr_real> reference(const std::string& name, const std::vector<rational>& t) {
  scalar::set_mpfr_digits(200);
  const auto pb = io::parse_problem<mpfr_real>(io::named_problem(name));
  std::vector<mpfr_real> times;
  for (const rational& x : t) times.push_back(scalar::from_rational<mpfr_real>(x, "tau", ""));
  auto r = analysis::claims_detail::flow_at(pb, times,
                                            scalar::parse_real<mpfr_real>("1e-190", "tol"), false);
  scalar::set_mpfr_digits(50);
  return r;
}

// The reference value exactly (all of its 200 digits, whatever the precision in force).
ball exact(const mpfr_real& v) { return ball::of(v); }

void expect_inside(const certify::enclosure_result& r, const flow::flow_result<mpfr_real>& ref,
                   const std::string& what) {
  ASSERT_TRUE(r.ok()) << what << ": " << r.message;
  ASSERT_TRUE(ref.ok());
  ASSERT_EQ(r.rows.size(), ref.samples.size());
  for (size_t i = 0; i < r.rows.size(); ++i) {
    EXPECT_TRUE(r.rows[i].loss.contains(exact(ref.samples[i].loss)))
        << what << ", row " << i << ": " << r.rows[i].loss.text(60) << " vs "
        << scalar::to_text<mpfr_real>(ref.samples[i].loss);
    for (size_t x = 0; x < r.rows[i].margins.size(); ++x) {
      EXPECT_TRUE(r.rows[i].margins[x].contains(exact(ref.samples[i].margins(x))))
          << what << ", row " << i << ", token " << x;
    }
  }
}

TEST(enclose, bounds_contain_the_200_digit_flow) {
  const auto times = decades(6);
  for (const char* name : {"pair", "large-memory"}) {
    certify::enclose_options o;
    o.digits = 30;
    o.times = times;
    const auto r = certify::enclose(io::named_problem(name), o);
    expect_inside(r, reference(name, times), name);
    EXPECT_LT(r.largest_radius, 1e-25) << name;
    EXPECT_GT(r.largest_radius, 0) << name;
    EXPECT_EQ(scalar::mpfr_digits(), 50) << "the caller's precision is restored";
  }
}

TEST(enclose, the_remainder_bound_carries_what_the_point_terms_leave) {
  // With 20 point terms of a series of order 38 and no halving, the trajectory's own truncation
  // error (its defect's terms 38 and up) is bounded only by the remainder over each step.
  const auto times = decades(3);
  certify::enclose_options o;
  o.digits = 30;
  o.times = times;
  o.defect_terms = 20;
  o.max_halvings = 0;
  const auto r = certify::enclose(io::named_problem("pair"), o);
  expect_inside(r, reference("pair", times), "20 point terms");
  EXPECT_LT(r.largest_radius, 1e-8);  // (ball arithmetic over a whole step is wide)
}

TEST(enclose, orthogonal_bounds_contain_the_closed_form_to_tau_1e15) {
  certify::enclose_options o;
  o.digits = 50;
  o.times = decades(15);
  const auto r = certify::enclose(io::named_problem("orthogonal"), o);
  ASSERT_TRUE(r.ok()) << r.message;
  const rational p[3] = {rational(1, 2), rational(3, 10), rational(1, 5)};
  const certify::precision_scope bits(certify::bits_for_digits(80));
  for (const auto& row : r.rows) {
    for (int x = 0; x < 3; ++x) {
      const ball m = certify::orthogonal_margin(p[x], 3, row.tau);
      // The closed form's ball (radius ~1e-80) lies inside the enclosure: they overlap and the
      // enclosure is wider.
      EXPECT_TRUE(arb_overlaps(m.raw(), row.margins[x].raw())) << row.tau << " " << x;
      EXPECT_TRUE(row.margins[x].radius_below(rational(1, mp::pow(mp::mpz_int(10), 40))));
    }
  }
}

TEST(enclose, a_perturbed_coefficient_is_caught) {
  const auto times = decades(3);
  const auto ref = reference("pair", times);
  certify::enclose_options o;
  o.digits = 40;
  o.times = times;
  const auto clean = certify::enclose(io::named_problem("pair"), o);
  ASSERT_TRUE(clean.ok());
  EXPECT_LT(clean.largest_radius, 1e-38);
  // One coefficient of one step (the velocity's, at step 3 of about 0.3 in s) moved by 1e-30: the
  // polynomial no longer solves the flow, and drifts about 3e-31 from it over the step.
  o.tamper = [](long step, std::vector<model::matrix<mpfr_real>>& c) {
    if (step == 3) c[1](1, 0) += scalar::parse_real<mpfr_real>("1e-30", "delta");
  };
  const auto tampered = certify::enclose(io::named_problem("pair"), o);
  // Still a valid enclosure of the exact flow (it contains the reference), but its radius reports
  // the defect instead of following the perturbed polynomial.
  expect_inside(tampered, ref, "tampered");
  EXPECT_GT(tampered.largest_radius, 1e-31);
}

// One token e = (1, 0), U = I_2, logit offsets c = (1/2, 2), W0 = 0: z = c + (W_00, W_10), the
// margin m = c_0 - c_1 + W_00 - W_10 obeys dm/dtau = 2 / (1 + e^m), so m + e^m = m0 + e^m0 +
// 2 tau, m0 = -3/2 (solved by Newton's method at 60 digits), and m crosses 0 at tau = (5/2 -
// e^-3/2) / 2. Without the offsets (the ball problem's Z0 taken as E W0^T U^T) m would start at 0.
TEST(enclose, logit_offsets_follow_the_closed_form) {
  const nlohmann::json spec = nlohmann::json::parse(R"({
      "tokens": 1, "classes": 2, "dim": 2,
      "inputs": {"kind": "explicit", "rows": [[1, 0]]}, "outputs": {"kind": "orthonormal"},
      "frequencies": {"kind": "uniform"}, "target": {"kind": "identity"},
      "init": {"kind": "zero"}, "offsets": {"kind": "explicit", "rows": [["1/2", "2"]]}})");
  certify::enclose_options o;
  o.digits = 40;
  o.times = {rational(0), rational(1, 3), rational(1), rational(10), rational(1000)};
  o.events = true;
  const auto r = certify::enclose(spec, o);
  ASSERT_TRUE(r.ok()) << r.message;
  scalar::set_mpfr_digits(60);
  using R = mpfr_real;
  const R m0("-1.5");
  for (const auto& row : r.rows) {
    const R rhs = m0 + exp(m0) + 2 * scalar::from_rational<R>(row.tau, "tau", "");
    R m = rhs < 1 ? R(rhs) : R(log(rhs));
    for (int i = 0; i < 200; ++i) m -= (m + exp(m) - rhs) / (1 + exp(m));
    EXPECT_TRUE(row.margins[0].contains(exact(m))) << row.tau << ": " << row.margins[0].text(50);
    EXPECT_TRUE(row.margins[0].radius_below(rational(1, mp::pow(mp::mpz_int(10), 30))));
  }
  ASSERT_EQ(r.crossings.size(), 1U);
  EXPECT_TRUE(r.crossings[0].tau.contains(exact(R((R("2.5") - exp(R("-1.5"))) / 2))))
      << r.crossings[0].tau.text(50);
  scalar::set_mpfr_digits(50);
}

TEST(enclose, singular_gram_matrices_cannot_certify) {
  certify::enclose_options o;
  o.digits = 20;
  o.times = {rational(1)};
  const auto r = certify::enclose(io::named_problem("underparameterized"), o);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.why, reason::not_enclosed) << reason_name(r.why);
  EXPECT_NE(r.message.find("Gram matrix E E^T is singular"), std::string::npos) << r.message;
}

TEST(enclose, crossing_and_turn_brackets_hold_the_200_digit_sign_changes) {
  certify::enclose_options o;
  o.digits = 30;
  o.times = {rational(100)};
  o.events = true;
  const auto r = certify::enclose(io::named_problem("pair"), o);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_TRUE(r.events_complete);
  ASSERT_EQ(r.crossings.size(), 1u);
  ASSERT_EQ(r.turns.size(), 1u);
  const auto& c = r.crossings[0];
  EXPECT_EQ(c.token, 1);
  EXPECT_EQ(c.direction, 1);
  EXPECT_TRUE(c.unique);
  EXPECT_TRUE(c.tau.radius_below(rational(1, mp::pow(mp::mpz_int(10), 25))));
  const auto& m = r.turns[0];
  EXPECT_EQ(m.token, 1);
  EXPECT_EQ(m.direction, 1);  // a minimum
  EXPECT_TRUE(m.unique);
  // The 200-digit flow: the rare token's margin is negative at the crossing bracket's low end and
  // positive at its high end; near the minimum it is lower than slightly before or after.
  const rational lo = scalar::parse_exact(c.tau.lower(40), "lo");
  const rational hi = scalar::parse_exact(c.tau.upper(40), "hi");
  const rational eps(1, mp::pow(mp::mpz_int(10), 20));
  const rational tmin = scalar::parse_exact(m.tau.lower(40), "t");
  const auto ref = reference("pair", {tmin - eps, tmin, tmin + eps, lo, hi});
  ASSERT_TRUE(ref.ok());
  EXPECT_LT(ref.samples[3].margins(1), 0);
  EXPECT_GT(ref.samples[4].margins(1), 0);
  EXPECT_LT(ref.samples[1].margins(1), ref.samples[0].margins(1));
  EXPECT_LT(ref.samples[1].margins(1), ref.samples[2].margins(1));
  // The values known beforehand to these digits: tau* near 52.1166, the minimum near 6.99.
  EXPECT_TRUE(c.tau.below(rational(521167, 10000)) && !c.tau.below(rational(521166, 10000)));
  EXPECT_TRUE(m.tau.below(rational(7)) && !m.tau.below(rational(698, 100)));
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
