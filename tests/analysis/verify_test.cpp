// The claim registry: every prediction P1..P10 has a claim, names are unique, the default suite
// passes at 50 digits, and a wrong prediction or a claim that throws is reported as a failure
// without hiding the others.
#include <set>

#include "analysis/claims_support.hpp"
#include "support.hpp"

namespace amflow {
namespace {

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

TEST(verify, an_unknown_claim_is_refused) {
  try {
    analysis::run_claims({"no-such-claim"}, analysis::verify_options{});
    ADD_FAILURE() << "accepted";
  } catch (const input_error& e) {
    EXPECT_EQ(e.field(), "claim");  // the CLI shows it as --claim
    EXPECT_EQ(e.value(), "no-such-claim");
  }
}

}  // namespace
}  // namespace amflow
