// The claim registry: every prediction P1..P10 has a claim, names are unique, the default suite
// passes at 50 digits, and a wrong prediction or a claim that throws is reported as a failure
// without hiding the others.
#include <set>

#include "analysis/claims_support.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using analysis::check;
using analysis::claim;

TEST(verify, every_prediction_has_a_claim_and_names_are_unique) {
  std::set<std::string> names, predictions;
  for (const claim& c : analysis::claims()) {
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate claim " << c.name;
    predictions.insert(c.prediction);
    EXPECT_FALSE(c.statement.empty()) << c.name;
  }
  for (int i = 1; i <= 10; ++i) {
    EXPECT_TRUE(predictions.count("P" + std::to_string(i))) << "no claim checks P" << i;
  }
}

TEST(verify, the_default_suite_passes_at_50_digits) {
  scalar::set_mpfr_digits(50);
  analysis::verify_options o;
  o.threads = 2;
  const auto outcomes = analysis::run_claims({}, o);
  ASSERT_EQ(outcomes.size(), analysis::claims().size());
  for (const auto& out : outcomes) {
    EXPECT_TRUE(out.failure.empty()) << out.source->name << ": " << out.failure;
    for (const check& k : out.checks) {
      EXPECT_TRUE(k.pass) << out.source->name << ": " << k.setting << ": predicted " << k.predicted
                          << ", measured " << k.measured << ", error " << k.error << ", tolerance "
                          << k.tolerance;
    }
  }
}

// A claim with a prediction off by a factor of two (P2's limit written as log(2 p M)) fails: the
// check compares against the prediction, not against the measurement.
TEST(verify, a_wrong_prediction_fails_and_a_throwing_claim_is_reported) {
  scalar::set_mpfr_digits(50);
  using namespace analysis::claims_detail;
  const claim wrong{
      "wrong-log-limit", "P2", "m - log tau -> log(2 p M) (wrong on purpose)",
      [](const analysis::verify_options&) {
        const auto pb = named<hp>("orthogonal");
        const hp tau = num<hp>("1e12");
        const auto r = flow_at(pb, {hp(0), tau}, num<hp>("1e-25"), false);
        const hp m = r.samples.back().margins(0) - log(tau);
        return std::vector<check>{
            near(std::string("test"), hp(log(2 * pb.p(0) * pb.classes)), m, num<hp>("1e-9"))};
      }};
  const claim throws{"throws", "P1", "throws",
                     [](const analysis::verify_options&) -> std::vector<check> {
                       throw std::runtime_error("boom");
                     }};
  const claim& right = analysis::claims()[0];
  analysis::verify_options o;
  const auto out = analysis::run_claim_list({&wrong, &throws, &right}, o);
  ASSERT_EQ(out.size(), 3u);
  ASSERT_EQ(out[0].checks.size(), 1u);
  EXPECT_FALSE(out[0].checks[0].pass);
  EXPECT_NEAR(std::stod(out[0].checks[0].error), std::log(2.0), 1e-8);
  EXPECT_EQ(out[1].failure, "boom");
  EXPECT_TRUE(out[2].failure.empty());
  for (const check& k : out[2].checks) EXPECT_TRUE(k.pass);
}

// The certified column: exact rows are the exact-rational checks, ball rows have a PASS proven in
// ball arithmetic (the note says how); at least 10 rows of the default suite are certified.
TEST(verify, certified_rows_are_exact_or_proven_in_balls) {
  scalar::set_mpfr_digits(50);
  analysis::verify_options o;
  o.threads = 2;
  const auto outcomes =
      analysis::run_claims({"orthogonal-closed-form", "time-to-margin", "one-step-exact",
                            "one-step-loss", "pair-initial-velocity", "pair-rare-token-criterion",
                            "pair-one-step", "pair-crossing-time", "benign-spikes"},
                           o);
  long exact = 0, ball = 0;
  for (const auto& out : outcomes) {
    ASSERT_TRUE(out.failure.empty()) << out.source->name << ": " << out.failure;
    for (const check& k : out.checks) {
      EXPECT_TRUE(k.pass) << out.source->name;
      EXPECT_NE(k.certified, analysis::certainty::no) << out.source->name << ": " << k.setting;
      if (k.certified == analysis::certainty::exact) {
        ++exact;
        EXPECT_EQ(k.how, analysis::comparison::exact);
      }
      if (k.certified == analysis::certainty::ball) {
        ++ball;
        EXPECT_NE(k.note.find("certified: "), std::string::npos) << k.note;
      }
    }
  }
  EXPECT_EQ(exact, 9);
  EXPECT_EQ(ball, 21);
}

TEST(verify, a_certificate_refuses_what_it_cannot_prove) {
  using namespace analysis::claims_detail;
  const certify::precision_scope bits(200);
  const certify::ball third = certify::ball(1) / certify::ball(3);  // radius ~1e-60
  EXPECT_TRUE(certainly_within(third, "0.333333333333", "1e-12"));
  EXPECT_FALSE(certainly_within(third, "0.333333333333", "1e-13"));     // off by 3.3e-13
  EXPECT_FALSE(certainly_within(third, "0.3333333333333", "3.3e-14"));  // off by 3.33..e-14
  EXPECT_TRUE(certainly_within_relative(third, "0.3333333333", "1e-9"));
  EXPECT_FALSE(certainly_within_relative(third, "0.3333", "1e-5"));
  // A ball wider than the tolerance proves nothing, even around the right value.
  certify::ball wide = third;
  wide.add_error(certify::ball::of(rational(1, 1000000)));
  EXPECT_FALSE(certainly_within(wide, "0.333333333333", "1e-7"));
  // Both values must be within: a wrong prediction is not certified, and a failed row never is.
  check c = near<double>("test", 0.3, 1.0 / 3, 0.1);
  ASSERT_TRUE(c.pass);
  EXPECT_TRUE(both_within(c, third));
  c.tolerance = "0.01";
  EXPECT_FALSE(both_within(c, third));
  check failed = near<double>("test", 1.0 / 3, 0.5, 0.1);
  certify_if(failed, true, "anything");
  EXPECT_EQ(failed.certified, analysis::certainty::no);
}

TEST(verify, an_unknown_claim_is_refused) {
  try {
    analysis::run_claims({"no-such-claim"}, analysis::verify_options{});
    ADD_FAILURE() << "accepted";
  } catch (const input_error& e) {
    EXPECT_EQ(e.field(), "claim");  // the CLI shows it as --claim
    EXPECT_EQ(e.value(), "no-such-claim");
  }
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
