// Ball arithmetic: results contain the exact values, bounds round outward, signs are decided or
// undecided, the precision follows its scope; P1's Lambert-W enclosure against Newton's root.
#include "amflow/certify/ball.hpp"
#include "amflow/certify/closed_form.hpp"
#include "amflow/flow/closed_form.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using certify::ball;
using certify::precision_scope;
using certify::sign_of;

TEST(ball, results_contain_the_exact_values) {
  const precision_scope scope(100);
  const ball third = ball::of(rational(1, 3));
  EXPECT_FALSE(third.is_exact());
  EXPECT_TRUE(third.contains(rational(1, 3)));
  EXPECT_FALSE(third.contains(rational(1, 3) + rational(1, 1000000)));
  EXPECT_TRUE((third * ball(3)).contains(rational(1)));
  EXPECT_TRUE(ball::of(rational(3, 8)).is_exact());  // dyadic
  EXPECT_TRUE(certify::exp(ball(0)).contains(rational(1)));
  const ball x = ball::of(rational(7, 5));
  EXPECT_TRUE(certify::log(certify::exp(x)).contains(rational(7, 5)));
  EXPECT_TRUE(certify::log1p(ball::of(rational(1, 1000000)))
                  .contains(certify::log1p(ball::of(rational(1, 1000000)))));
  // Omega = W0(1) = 0.567143290409783872999968662210355549753815787186512508135131... (to 50
  // digits below): the ball is narrow and lies within 1e-24 of it.
  const ball omega = certify::lambertw(ball(1));
  EXPECT_LT(omega.radius(), 1e-28);
  const rational omega50 =
      scalar::parse_exact("0.56714329040978387299996866221035554975381578718651", "omega");
  const ball lo = ball::of(omega50 - rational(1, mp::mpz_int("1000000000000000000000000")));
  const ball hi = ball::of(omega50 + rational(1, mp::mpz_int("1000000000000000000000000")));
  EXPECT_EQ(certify::sign(omega - lo), sign_of::positive);
  EXPECT_EQ(certify::sign(hi - omega), sign_of::positive);
}

TEST(ball, bounds_round_outward) {
  const precision_scope scope(200);
  const ball third = ball::of(rational(1, 3));
  const rational lo = scalar::parse_exact(third.lower(20), "lo");
  const rational hi = scalar::parse_exact(third.upper(20), "hi");
  EXPECT_LT(lo, rational(1, 3));
  EXPECT_GT(hi, rational(1, 3));
  EXPECT_LT(hi - lo, rational(1, mp::mpz_int("10000000000000000000")));  // 20 digits
  const ball minus = -third;
  EXPECT_LT(scalar::parse_exact(minus.lower(20), "lo"), rational(-1, 3));
  EXPECT_GT(scalar::parse_exact(minus.upper(20), "hi"), rational(-1, 3));
}

TEST(ball, signs_are_decided_or_undecided) {
  const precision_scope scope(64);
  EXPECT_EQ(certify::sign(ball(0)), sign_of::zero);
  EXPECT_EQ(certify::sign(ball(2)), sign_of::positive);
  EXPECT_EQ(certify::sign(-ball::of(rational(1, 3))), sign_of::negative);
  // Two enclosures of the same number: their difference contains 0 and other values.
  const ball a = ball::of(rational(1, 3)), b = ball(1) / ball(3);
  EXPECT_EQ(certify::sign(a - b), sign_of::undecided);
}

TEST(ball, precision_follows_the_innermost_scope) {
  EXPECT_EQ(precision_scope::bits(), 128);
  {
    const precision_scope outer(300);
    EXPECT_EQ(precision_scope::bits(), 300);
    {
      const precision_scope inner(60);
      EXPECT_EQ(precision_scope::bits(), 60);
      EXPECT_GT(ball::of(rational(1, 3)).radius(), 1e-19);
    }
    EXPECT_EQ(precision_scope::bits(), 300);
    EXPECT_LT(ball::of(rational(1, 3)).radius(), 1e-89);
  }
  EXPECT_EQ(precision_scope::bits(), 128);
}

// P1 by Lambert W against the floating-point root by Newton (flow::orthogonal_margin) at 120
// digits, from tau = 1e-3 to 1e15: the ball contains the root (to its 120 digits) and is narrow.
TEST(ball, orthogonal_margin_encloses_the_closed_form) {
  const precision_scope scope(certify::bits_for_digits(60));
  scalar::set_mpfr_digits(120);
  for (const char* p_text : {"1/2", "3/10", "1/5"}) {
    for (const char* tau_text : {"1e-3", "1", "10", "1e6", "1e15"}) {
      const rational p = scalar::parse_exact(p_text, "p"),
                     tau = scalar::parse_exact(tau_text, "tau");
      const ball m = certify::orthogonal_margin(p, 3, tau);
      EXPECT_LT(m.radius(), 1e-55) << p_text << " " << tau_text;
      const mpfr_real newton =
          flow::orthogonal_margin(scalar::parse_real<mpfr_real>(p_text, "p"), 3,
                                  scalar::parse_real<mpfr_real>(tau_text, "tau"));
      // newton is within 1e-110 of the root: the ball widened by that must contain it.
      const rational n = scalar::parse_exact(scalar::to_text<mpfr_real>(newton), "n");
      const rational lo =
          scalar::parse_exact(m.lower(70), "lo") - rational(1, mp::pow(mp::mpz_int(10), 110));
      const rational hi =
          scalar::parse_exact(m.upper(70), "hi") + rational(1, mp::pow(mp::mpz_int(10), 110));
      EXPECT_TRUE(lo <= n && n <= hi) << p_text << " " << tau_text << ": " << m.text(30);
    }
  }
  scalar::set_mpfr_digits(50);
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
