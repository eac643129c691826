// GD and SGD: against the orthogonal recursion of P5 computed independently, the map on W itself,
// the exact first step (P4), a float32 PyTorch run of the authors' spike experiment (P8), a run at
// twice the digits; SGD's batches, determinism and its mean approaching GD; the transient detector
// on hand-made sequences.
#include <cmath>

#include "amflow/descent/descent.hpp"
#include "amflow/flow/closed_form.hpp"
#include "amflow/io/problem_io.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using descent::descent_options;

template <class Real>
class descent_test : public testing::real_test<Real> {};
TYPED_TEST_SUITE(descent_test, testing::scalar_types, testing::scalar_names);

template <class Real>
model::problem<Real> named(const std::string& name) {
  return io::parse_problem<Real>(io::named_problem(name));
}

template <class Real>
descent_options<Real> gd(const std::string& eta, long steps) {
  descent_options<Real> o;
  o.eta = testing::num<Real>(eta);
  o.steps = steps;
  return o;
}

// P5: with orthogonal embeddings and W0 = 0 every margin follows the scalar recursion
// m <- m + eta p M / (e^m + M - 1), written here on its own; GD never falls behind the flow.
TYPED_TEST(descent_test, orthogonal_gd_follows_the_scalar_recursion_and_leads_the_flow) {
  using Real = TypeParam;
  using std::exp;
  const auto pb = named<Real>("orthogonal");
  const auto o = gd<Real>("7/3", 200);
  const auto r = descent::run(pb, o);
  ASSERT_TRUE(r.ok()) << r.message;
  ASSERT_EQ(r.samples.size(), 201u);
  const int M = pb.classes;
  for (int x = 0; x < pb.tokens; ++x) {
    Real m(0);
    for (long k = 0; k <= o.steps; ++k) {
      const auto& s = r.samples[k];
      ASSERT_EQ(r.steps[k], k);
      // Each step adds one rounding to a margin of size <= 10.
      EXPECT_LE(testing::diff(s.margins(x), m), 40.0 * (k + 1) * testing::eps<Real>())
          << "token " << x << " step " << k;
      if (k > 0) {
        const Real flow = flow::orthogonal_margin(pb.p(x), M, Real(o.eta * k));
        EXPECT_GT(s.margins(x), flow) << "GD behind the flow at step " << k;
      }
      m += o.eta * pb.p(x) * M / (exp(m) + M - 1);
    }
  }
  // The loss never increases without interference (P6), and every token is right after one step.
  EXPECT_EQ(r.summary.loss_increases, 0);
  EXPECT_TRUE(r.summary.ever_perfect);
  EXPECT_EQ(r.summary.first_perfect_step, 1);
}

// The first step from W0 = 0 is the exact one-step result (P4), and the particle coordinates
// agree with GD run on W itself (d x d) on a correlated problem.
TYPED_TEST(descent_test, particle_coordinates_agree_with_gd_on_w) {
  using Real = TypeParam;
  const auto pair = named<Real>("pair");
  const auto one = descent::run(pair, gd<Real>("10", 1));
  const model::matrix<Real> Z1 = model::one_step_from_zero(pair, testing::num<Real>("10"));
  EXPECT_LE(testing::diff(Real((one.Z - Z1).cwiseAbs().maxCoeff()), Real(0)),
            20 * testing::eps<Real>());

  const auto pb = io::parse_problem<Real>(testing::correlated_spec(4, 3, 6, 7, "1/2"));
  auto o = gd<Real>("3/2", 60);
  const auto a = descent::run(pb, o);
  o.space = descent::space_kind::weights;
  const auto b = descent::run(pb, o);
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t k = 0; k < a.samples.size(); ++k) {
    EXPECT_LE(
        testing::diff(Real((a.samples[k].margins - b.samples[k].margins).cwiseAbs().maxCoeff()),
                      Real(0)),
        1e4 * testing::eps<Real>())
        << "step " << k;
  }
  EXPECT_LE(testing::diff(Real((a.W - b.W).cwiseAbs().maxCoeff()), Real(0)),
            1e4 * testing::eps<Real>());
}

// Automatic coordinates go by cost: many tokens in few dimensions run on W, and the run there is
// the particle run's. G_E is not formed (N > 2 d), so particle coordinates take G_E R through E:
// 2 N d M, not N^2 M (which would be 7x W's cost here).
TYPED_TEST(descent_test, automatic_space_takes_w_when_tokens_outnumber_dimensions) {
  using Real = TypeParam;
  const auto pb = io::parse_problem<Real>(testing::correlated_spec(60, 3, 4, 11, "1/4"));
  const descent::step_costs cost = descent::step_cost(pb);
  EXPECT_EQ(pb.G_E.size(), 0);
  EXPECT_EQ(cost.particle, 2.0 * 60 * 4 * 3 + 60 * 3 * 3);  // 1,980
  EXPECT_EQ(cost.weights, 2.0 * 60 * 3 * 4 + 2 * 16 * 3);   // 1,536
  auto o = gd<Real>("1", 40);
  EXPECT_EQ(o.resolved_space(pb), descent::space_kind::weights);
  const auto a = descent::run(pb, o);
  EXPECT_EQ(a.space, descent::space_kind::weights);
  o.space = descent::space_kind::particle;
  const auto b = descent::run(pb, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LE(testing::diff(Real((a.W - b.W).cwiseAbs().maxCoeff()), Real(0)),
            1e4 * testing::eps<Real>());
  // The named problems stay in particle coordinates (a tie or cheaper there).
  for (const char* name : {"pair", "zipf-orthogonal", "large-memory", "underparameterized"}) {
    EXPECT_EQ(gd<Real>("1", 1).resolved_space(named<Real>(name)), descent::space_kind::particle)
        << name;
  }
}

// The fused residual-and-loss of the GD loop is the model's residual and loss to the last bit.
TYPED_TEST(descent_test, fused_residual_and_loss_are_the_model_ones) {
  using Real = TypeParam;
  const auto pb = io::parse_problem<Real>(testing::correlated_spec(5, 4, 3, 11, "3"));
  model::matrix<Real> R;
  const Real L = model::residual_and_loss(pb, pb.Z0, pb.p, R);
  EXPECT_TRUE(L == model::loss(pb, pb.Z0));
  EXPECT_TRUE(R == model::residual(pb, pb.Z0));
}

// The authors' spike experiment (alpha = 0.95, p0 = 0.75, eta = 10, 35 steps): losses before each
// update from their loop run in float32 PyTorch (bench/peers/torch_gd.py spike --eta 10, torch
// 1.13.1); float32 carries about 7 digits, so agreement within 1e-5 is what is asked.
TYPED_TEST(descent_test, spike_experiment_matches_float32_pytorch_and_shows_benign_spikes) {
  using Real = TypeParam;
  using std::log;
  const double torch32[35] = {
      0.6931471824645996,  1.1631354093551636,   0.49763455986976624, 0.7528464794158936,
      0.6437965631484985,  1.3486617803573608,   0.2895664572715759,  0.33431246876716614,
      0.5586842894554138,  0.3571653962135315,   0.6196740865707397,  0.22528737783432007,
      0.2761349081993103,  0.2025417536497116,   0.21596874296665192, 0.14720438420772552,
      0.12979191541671753, 0.10339353233575821,  0.09366824477910995, 0.08763457834720612,
      0.08383303135633469, 0.08065901696681976,  0.0777776837348938,  0.07509686052799225,
      0.07258869707584381, 0.07023638486862183,  0.06802593171596527, 0.06594540923833847,
      0.06398393213748932, 0.062131769955158234, 0.06038029119372368, 0.05872168764472008,
      0.05714891105890274, 0.05565562471747398,  0.05423608049750328};
  const auto pb = named<Real>("pair");
  const auto r = descent::run(pb, gd<Real>("10", 34));
  ASSERT_EQ(r.samples.size(), 35u);
  for (int k = 0; k < 35; ++k) {
    EXPECT_LE(std::abs(static_cast<double>(r.samples[k].loss) - torch32[k]), 1e-5) << "step " << k;
  }
  // P8: spikes above the initial loss log 2, then a lower loss and zero error by step 34, while
  // eta = 1 still misclassifies the rare token.
  EXPECT_GT(r.summary.max_loss, log(Real(2)));
  EXPECT_GT(r.summary.spikes.size(), 3u);
  EXPECT_LT(r.samples.back().loss, r.samples.front().loss);
  EXPECT_TRUE(r.samples.back().zero_one_loss == 0);
  const auto slow = descent::run(pb, gd<Real>("1", 34));
  EXPECT_TRUE(slow.samples.back().zero_one_loss == pb.p(1));
  EXPECT_LT(slow.samples.back().margins(1), Real(0));
}

// At 50 digits every printed digit of the spike run is stable: a 100-digit run agrees to 1e-45.
TEST(descent_precision, spike_run_at_50_digits_agrees_with_100_digits) {
  scalar::set_mpfr_digits(100);
  const auto fine = descent::run(named<mpfr_real>("pair"), gd<mpfr_real>("10", 34));
  scalar::set_mpfr_digits(50);
  const auto coarse = descent::run(named<mpfr_real>("pair"), gd<mpfr_real>("10", 34));
  scalar::set_mpfr_digits(100);
  double worst = 0;
  for (size_t k = 0; k < fine.samples.size(); ++k) {
    worst = std::max(worst, testing::diff(mpfr_real(coarse.samples[k].loss), fine.samples[k].loss));
    for (int x = 0; x < 2; ++x) {
      worst = std::max(worst, testing::diff(mpfr_real(coarse.samples[k].margins(x)),
                                            fine.samples[k].margins(x)));
    }
  }
  scalar::set_mpfr_digits(50);
  EXPECT_GE(fine.samples.back().loss.precision(), 100u);
  EXPECT_LE(coarse.samples.back().loss.precision(), 51u);
  EXPECT_GT(worst, 0);  // the two runs did round differently
  EXPECT_LT(worst, 1e-45);
}

// SGD: a seed names the same batches at every precision; another seed gives another run; the
// batch frequencies are unbiased.
TYPED_TEST(descent_test, sgd_batches_are_seeded_and_the_same_at_every_precision) {
  using Real = TypeParam;
  const auto pb = named<Real>("zipf-orthogonal");
  auto o = gd<Real>("1/2", 50);
  o.batch = 8;
  o.seed = 42;
  const auto a = descent::run(pb, o);
  const auto b = descent::run(pb, o);
  EXPECT_TRUE(a.Z == b.Z);
  o.seed = 43;
  const auto c = descent::run(pb, o);
  EXPECT_FALSE(a.Z == c.Z);
  // The same seed in double: the same batches, so the same run up to double rounding.
  const auto pd = named<double>("zipf-orthogonal");
  auto od = gd<double>("1/2", 50);
  od.batch = 8;
  od.seed = 42;
  const auto d = descent::run(pd, od);
  for (int x = 0; x < pb.tokens; ++x) {
    EXPECT_NEAR(static_cast<double>(a.samples.back().margins(x)), d.samples.back().margins(x),
                1e-12);
  }
}

TEST(batch_sampler, frequencies_are_unbiased_and_batches_have_b_tokens) {
  const std::vector<double> p = {0.5, 0.3, 0.2};
  descent::batch_sampler s(p, 1000, 7);
  std::vector<double> total(3, 0);
  const int draws = 1000;
  for (int i = 0; i < draws; ++i) {
    const auto& c = s.draw();
    EXPECT_EQ(c[0] + c[1] + c[2], 1000);
    for (int x = 0; x < 3; ++x) total[x] += c[x];
  }
  for (int x = 0; x < 3; ++x) {
    const double n = 1000.0 * draws;
    const double sigma = std::sqrt(p[x] * (1 - p[x]) / n);
    EXPECT_NEAR(total[x] / n, p[x], 5 * sigma) << "token " << x;
  }
}

// The mean over seeds of SGD approaches GD as the batch grows (the bias of the mean is O(eta^2 /
// B)), and does not depend on the thread count.
TEST(sgd_mean, approaches_gd_as_the_batch_grows_whatever_the_threads) {
  const auto pb = named<double>("pair");
  auto o = gd<double>("1/2", 40);
  const auto exact = descent::run(pb, o);
  const auto gap = [&](long batch, long runs, int threads) {
    auto s = o;
    s.batch = batch;
    const auto mean = descent::sgd_mean(pb, s, runs, threads);
    EXPECT_TRUE(mean.ok());
    double worst = 0;
    for (size_t j = 0; j < mean.steps.size(); ++j) {
      worst = std::max(worst, (mean.margins[j] - exact.samples[j].margins).cwiseAbs().maxCoeff());
    }
    return worst;
  };
  const double small = gap(2, 400, 2), large = gap(512, 400, 2);
  EXPECT_LT(large, small / 5) << "B = 2: " << small << ", B = 512: " << large;
  EXPECT_LT(large, 0.02);
  auto s = o;
  s.batch = 4;
  const auto one = descent::sgd_mean(pb, s, 16, 1);
  const auto two = descent::sgd_mean(pb, s, 16, 2);
  for (size_t j = 0; j < one.steps.size(); ++j) {
    EXPECT_TRUE(one.margins[j] == two.margins[j]);
    EXPECT_TRUE(one.loss_sd[j] == two.loss_sd[j]);
  }
}

TEST(transient_detector, counts_increases_spikes_sign_changes_and_the_first_perfect_step) {
  descent::transient_detector<double> d(2);
  const double losses[] = {1.0, 2.0, 3.0, 2.0, 2.5, 1.0, 0.5};
  const double errors[] = {0.5, 0.5, 0.0, 0.5, 0.0, 0.0, 0.0};
  const double m0[] = {-1, 1, 1, -1, 1, 1, 1};
  const double m1[] = {1, 1, 1, 1, 1, -1, 1};
  for (int k = 0; k < 7; ++k) {
    model::vector<double> m(2);
    m << m0[k], m1[k];
    d.observe(losses[k], errors[k], m);
  }
  const auto t = d.finish(6);
  EXPECT_EQ(t.loss_increases, 3);
  ASSERT_EQ(t.spikes.size(), 2u);
  EXPECT_EQ(t.spikes[0].start, 0);
  EXPECT_EQ(t.spikes[0].peak, 2);
  EXPECT_EQ(t.spikes[0].height, 2.0);
  EXPECT_EQ(t.spikes[1].start, 3);
  EXPECT_EQ(t.spikes[1].peak, 4);
  EXPECT_EQ(t.spikes[1].height, 0.5);
  EXPECT_EQ(t.max_loss, 3.0);
  EXPECT_EQ(t.max_loss_step, 2);
  EXPECT_EQ(t.first_perfect_step, 2);
  EXPECT_TRUE(t.ever_perfect);
  EXPECT_EQ(t.margin_sign_changes, (std::vector<long>{3, 2}));

  // Perfect only at the final state K: not counted (the authors' convention), K - 1 reported.
  descent::transient_detector<double> late(1);
  model::vector<double> m(1);
  m << -1;
  late.observe(1.0, 1.0, m);
  late.observe(0.9, 1.0, m);
  m << 1;
  late.observe(0.8, 0.0, m);
  const auto u = late.finish(2);
  EXPECT_FALSE(u.ever_perfect);
  EXPECT_EQ(u.first_perfect_step, 1);
  EXPECT_TRUE(u.spikes.empty());
}

TEST(transient_detector, rounding_noise_is_no_increase) {
  // A loss at its floor moving by an ulp (the pair with alpha = 1 at step 41): noise, no spike.
  // The bound for N = 2 tokens is 16 eps L; a rise of 1e-12 relative is counted.
  const double floor = 0.5623351446188083;
  const double up = std::nextafter(floor, 1.0);
  const double big = floor * (1 + 1e-12);
  descent::transient_detector<double> d(2);
  model::vector<double> m(2);
  m << 1, -1;
  for (double loss : {floor, up, floor, up, up, big, floor}) d.observe(loss, 0.25, m);
  const auto t = d.finish(6);
  EXPECT_EQ(t.rounding_increases, 2);
  EXPECT_EQ(t.loss_increases, 1);
  ASSERT_EQ(t.spikes.size(), 1u);
  EXPECT_EQ(t.spikes[0].start, 4);
  EXPECT_EQ(t.spikes[0].peak, 5);
  // At 50 digits the same ulp-sized rise (2^-53 relative) is far above the rounding: counted.
  scalar::mpfr_digits_scope digits(50);
  descent::transient_detector<mpfr_real> e(2);
  model::vector<mpfr_real> n(2);
  n << 1, -1;
  e.observe(mpfr_real(floor), mpfr_real(0), n);
  e.observe(mpfr_real(up), mpfr_real(0), n);
  EXPECT_EQ(e.finish(1).loss_increases, 1);
  EXPECT_EQ(e.finish(1).rounding_increases, 0);
}

TEST(descent_options, refuses_what_it_cannot_run) {
  const auto pb = named<double>("pair");
  const auto expect_field = [&](const descent_options<double>& o, const std::string& field) {
    try {
      descent::run(pb, o);
      ADD_FAILURE() << "accepted " << field;
    } catch (const input_error& e) {
      EXPECT_EQ(e.field(), field);
    }
  };
  // The library names its own fields; the command line maps them to its flags.
  auto o = gd<double>("1", 10);
  o.eta = 0;
  expect_field(o, "eta");
  o.eta = std::nan("");
  expect_field(o, "eta");
  o = gd<double>("1", 0);
  expect_field(o, "steps");
  o = gd<double>("1", 10);
  o.batch = -1;
  expect_field(o, "batch");
  o = gd<double>("1", 10);
  o.every = 0;
  expect_field(o, "every");
  // A final time eta * steps beyond the type's range (tau = inf on the last rows).
  o = gd<double>("1e308", 10);
  expect_field(o, "eta");
  EXPECT_NO_THROW(descent::run(pb, gd<double>("1e307", 10)));
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
