// Certified GD: every ball contains the 200-digit (non-rigorous) GD values, exact ties are decided
// by the argmax rule, a ball containing 0 is undecided (never read as a sign), and perturbed data
// give balls that exclude the true values.
#include "amflow/certify/descent.hpp"
#include "amflow/certify/problem.hpp"
#include "amflow/descent/descent.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using certify::ball;
using certify::decision;

ball of_text(const std::string& text) { return ball::of(scalar::parse_exact(text, "x")); }

TEST(certified_gd, balls_contain_the_200_digit_run) {
  scalar::set_mpfr_digits(200);
  const auto hp = io::parse_problem<mpfr_real>(io::named_problem("pair"));
  const certify::precision_scope bits(128);
  const auto pb = certify::pair_problem(of_text("0.95"), of_text("3/4"));
  for (const char* eta : {"10", "1", "1/3"}) {
    descent::descent_options<mpfr_real> o;
    o.eta = scalar::parse_real<mpfr_real>(eta, "eta");
    o.steps = 34;
    const auto ref = descent::run(hp, o);
    const auto run = certify::certified_gd(pb, of_text(eta), 34);
    ASSERT_TRUE(run.ok());
    ASSERT_EQ(run.states.size(), ref.samples.size());
    for (size_t k = 0; k < ref.samples.size(); ++k) {
      // The 200-digit values are within 1e-190 of the exact ones; the balls are ~1e-20 wide.
      const auto inside = [&](const ball& b, const mpfr_real& v) {
        return b.contains(scalar::parse_exact(scalar::to_text<mpfr_real>(v), "v"));
      };
      EXPECT_TRUE(inside(run.states[k].loss, ref.samples[k].loss)) << eta << ", step " << k;
      for (int x = 0; x < 2; ++x) {
        EXPECT_TRUE(inside(run.states[k].margins[x], ref.samples[k].margins(x)))
            << eta << ", step " << k << ", token " << x;
      }
      EXPECT_LT(run.states[k].loss.radius(), 1e-15);
    }
    // The decisions agree with the reference's transients.
    EXPECT_EQ(static_cast<long>(run.loss_increases.size()), ref.summary.loss_increases) << eta;
    EXPECT_TRUE(run.undecided_increases.empty());
    EXPECT_EQ(run.first_perfect_step, ref.summary.first_perfect_step) << eta;
  }
  scalar::set_mpfr_digits(50);
}

TEST(certified_gd, exact_ties_follow_argmax_and_uncertain_signs_stay_undecided) {
  const certify::precision_scope bits(128);
  auto pb = certify::pair_problem(of_text("0.5"), of_text("3/4"));
  // W0 = 0: every logit exactly 0; token 1 (target 1) loses the tie to class 0: decided no.
  const auto run = certify::certified_gd(pb, ball(1), 3);
  EXPECT_EQ(run.states[0].perfect, decision::no);
  // Both tokens targeting class 0: the tie alone makes W0 = 0 perfect (class 0 comes first).
  auto both_first = pb;
  both_first.target = {0, 0};
  EXPECT_EQ(certify::certified_gd(both_first, ball(1), 1).states[0].perfect, decision::yes);
  auto both_last = pb;
  both_last.target = {1, 1};
  EXPECT_EQ(certify::certified_gd(both_last, ball(1), 1).states[0].perfect, decision::no);
  // Logits known only to within 1e-10 of 0: the same question cannot be decided.
  ball fuzzy;
  arb_set_si(fuzzy.raw(), 0);
  mag_set_d(arb_radref(fuzzy.raw()), 1e-10);
  pb.Z0 = {fuzzy, ball(0), ball(0), fuzzy};
  const auto unsure = certify::certified_gd(pb, ball(1), 3);
  EXPECT_EQ(unsure.states[0].perfect, decision::undecided);
  EXPECT_EQ(unsure.first_perfect_decided, decision::undecided);
}

TEST(certified_gd, perturbed_data_exclude_the_true_values) {
  // p0 = 3/4 + 1e-30 as the data: the balls (radius ~1e-36 at 192 bits) must miss the true run.
  const certify::precision_scope bits(192);
  const auto truth =
      certify::certified_gd(certify::pair_problem(of_text("0.95"), of_text("3/4")), ball(10), 10);
  const auto perturbed = certify::certified_gd(
      certify::pair_problem(of_text("0.95"), of_text("3/4") + of_text("1e-30")), ball(10), 10);
  int excluded = 0;
  for (size_t k = 1; k < truth.states.size(); ++k) {
    arb_srcptr a = perturbed.states[k].loss.raw();
    excluded += !arb_overlaps(a, truth.states[k].loss.raw());
  }
  EXPECT_GT(excluded, 5);
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow

namespace amflow {
namespace AMFLOW_TEST_UNIT {

// The mean-value form keeps ball GD usable: at 58 bits (15 digits) the pair problem at eta = 1
// stays enclosed for 300 steps (the direct form alone loses every ball before step 100), and every
// ball contains the 100-digit run.
TEST(certified_gd, the_mean_value_form_keeps_long_runs_enclosed) {
  scalar::set_mpfr_digits(100);
  const auto hp = io::parse_problem<mpfr_real>(io::named_problem("pair"));
  descent::descent_options<mpfr_real> o;
  o.eta = mpfr_real(1);
  o.steps = 300;
  const auto ref = descent::run(hp, o);
  scalar::set_mpfr_digits(50);
  const certify::precision_scope bits(certify::bits_for_digits(15));
  const auto run = certify::certified_gd(certify::ball_problem_of(io::named_problem("pair")),
                                         certify::ball(1), 300);
  ASSERT_TRUE(run.ok()) << run.message;
  ASSERT_EQ(run.states.size(), ref.samples.size());
  EXPECT_LT(run.widest, 1e-2);
  for (size_t k = 0; k < run.states.size(); ++k) {
    EXPECT_TRUE(run.states[k].loss.contains(certify::ball::of(ref.samples[k].loss))) << k;
  }
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
