// The far-time limits (model/limits.hpp): the hard margin against closed forms (the pair problem's
// |W_hat|^2 = 1 / (1 - alpha) for several alpha; orthonormal embeddings' weights 1 / M), the
// minimiser's KKT conditions and its refusal where the infimum is not attained; the offset W~ of
// W(tau) = W_hat log tau + W~ + o(1) against the flow itself, from a non-zero W0; logit offsets
// against the memory they shift.
#include "amflow/model/limits.hpp"

#include "amflow/flow/integrate.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/model/particles.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using Real = mpfr_real;

model::problem<Real> named(const std::string& name) {
  return io::parse_problem<Real>(io::named_problem(name));
}

// Pair: constraints (u_0 - u_1)^T W e_0 >= 1 and (u_1 - u_0)^T W e_1 >= 1; by symmetry W_hat =
// c (u_0 - u_1)(e_0 - e_1)^T / 2 with c (1 - alpha) = 1, so |W_hat|_F^2 = c^2 |e_0 - e_1|^2 / 2 =
// 1 / (1 - alpha), and each weight is 1 / (2 (1 - alpha)).
TEST(limits, pair_hard_margin_is_the_closed_form) {
  scalar::set_mpfr_digits(50);
  for (const std::string alpha : {"0.95", "0.5", "-0.3"}) {
    auto spec = io::named_problem("pair");
    spec["inputs"]["alpha"] = alpha;
    const auto pb = io::parse_problem<Real>(spec);
    const auto hm = model::hard_margin(pb);
    ASSERT_TRUE(hm.separable) << alpha << ": " << hm.message;
    const Real a = scalar::parse_real<Real>(alpha, "alpha");
    EXPECT_LT(abs(Real(hm.norm2 - 1 / (1 - a))), Real("1e-45")) << alpha;
    ASSERT_EQ(hm.alpha.size(), 2);
    for (int i = 0; i < 2; ++i) {
      EXPECT_LT(abs(Real(hm.alpha(i) - 1 / (2 * (1 - a)))), Real("1e-45"));
    }
    EXPECT_LT(abs(Real(hm.W.squaredNorm() - 1 / (1 - a))), Real("1e-44"));
  }
}

// Orthonormal embeddings: W_hat e_x = ((M - 1) / M) (u_x - mean of the others) ... every wrong
// class active with weight 1 / M, |W_hat|^2 = N (M - 1) / M.
TEST(limits, orthonormal_weights_are_one_over_M) {
  scalar::set_mpfr_digits(50);
  const auto pb = named("zipf-orthogonal");
  const auto hm = model::hard_margin(pb);
  ASSERT_TRUE(hm.separable) << hm.message;
  EXPECT_EQ(hm.alpha.size(), pb.tokens * (pb.classes - 1));
  for (Eigen::Index i = 0; i < hm.alpha.size(); ++i) {
    EXPECT_LT(abs(Real(hm.alpha(i) - Real(1) / pb.classes)), Real("1e-45"));
  }
  EXPECT_LT(abs(Real(hm.norm2 - Real(pb.tokens * (pb.classes - 1)) / pb.classes)), Real("1e-44"));
}

// The minimiser has a vanishing gradient of the loss in W (model::gradient, not the Newton
// coordinates), and a non-separable problem has no hard margin; the mixed problem has neither.
TEST(limits, minimiser_is_stationary_and_mixed_has_none) {
  scalar::set_mpfr_digits(50);
  const auto pb = named("underparameterized");
  EXPECT_FALSE(model::hard_margin(pb).separable);
  const auto w = model::minimiser(pb);
  ASSERT_TRUE(w.ok()) << w.message;
  EXPECT_LT(model::gradient(pb, w.W).norm(), Real("1e-45"));
  EXPECT_LT((model::logits(pb, w.W) - w.Z).norm(), Real("1e-45"));
  EXPECT_LT(abs(Real(w.eta_c - 2 / w.spectrum.maxCoeff())), Real("1e-45"));
  const auto mixed = named("mixed");
  EXPECT_FALSE(model::hard_margin(mixed).separable);
  const auto none = model::minimiser(mixed);
  EXPECT_FALSE(none.ok());
  EXPECT_EQ(none.why, reason::undefined) << reason_name(none.why);
}

// The offset against the flow (auto, log time): W(tau) = W0 + the minimum-norm memory with logits
// Z - Z0 (the flow moves W in the gradients' span, inside that row space), and |W(tau) - W_hat log
// tau - W~| decays like tau^-rate, rate = lambda_min(sum alpha_i a_i a_i^T) when below 1. Pair
// (support spanning the plane): that matrix's eigenvalues are 2 (1 -+ alpha) / (2 (1 - alpha)),
// rate 1, corrections O(log tau / tau) with a large constant (e^(-2 b_x) ~ 800): below 1e-11 at
// 1e15. Three orthonormal tokens and classes: per token (1/3) times the Gram of u_y - u_t, whose
// eigenvalues are 1 and 3, rate 1/3, so the deviation falls by 1000^(1/3) = 10 from 1e9 to 1e12
// (the differences between a token's wrong logits, excited by a non-symmetric W0). Both from a
// non-zero W0, whose part off the gradients' span stays.
TEST(limits, offset_is_where_the_flow_goes) {
  scalar::set_mpfr_digits(40);
  auto pair = io::named_problem("pair");
  pair["init"] =
      nlohmann::json::parse(R"({"kind": "explicit", "W": [["0.3", "-0.2"], ["0.1", "0.4"]]})");
  auto three = io::named_problem("zipf-orthogonal");
  three["tokens"] = three["classes"] = three["dim"] = 3;
  three["init"] = {{"kind", "gaussian"}, {"seed", 7}, {"scale", "1"}};
  const Real alpha("0.95");
  for (const auto& spec : {pair, three}) {
    const bool is_pair = spec["tokens"] == 2;
    const auto pb = io::parse_problem<Real>(spec);
    ASSERT_FALSE(pb.zero_init);
    const auto hm = model::hard_margin(pb);
    ASSERT_TRUE(hm.separable && hm.offset_determined) << hm.message;
    EXPECT_LT(abs(Real(hm.approach_rate - (is_pair ? Real(1) : Real(1) / 3))), Real("1e-35"));
    flow::flow_options<Real> o;
    o.time = flow::time_kind::log;
    o.rel_tol = o.abs_tol = flow::default_tolerance<Real>();
    o.step = Real(1) / 100;
    o.times = {Real("1e9"), Real("1e12"), Real("1e15")};
    o.estimate_error = false;
    const auto r = flow::integrate(pb, o);
    ASSERT_TRUE(r.ok()) << r.message;
    std::vector<Real> rest;
    for (const auto& s : r.samples) {
      const model::matrix<Real> W =
          pb.W0 + model::weights_from_logits(pb, model::matrix<Real>(s.Z - pb.Z0));
      rest.push_back(model::matrix<Real>(W - hm.W * log(s.tau) - hm.offset).norm());
    }
    if (is_pair) {
      EXPECT_LT(rest[2], Real("1e-11"));
    } else {
      const Real ratio = rest[0] / rest[1];
      EXPECT_GT(ratio, Real(8));
      EXPECT_LT(ratio, Real(12));
      EXPECT_LT(rest[2], Real("1e-4"));
    }
    EXPECT_GT(hm.offset.norm(), Real("0.1"));
  }
}

// Three orthonormal tokens, two classes, the third token e_2 = (2, 0, 1) with label 0: W_hat's
// v = e_0 - e_1 gives it margin 2, so the support {0, 1} does not span the direction of e_2's
// third coordinate: the shift is fixed, W~ is not.
TEST(limits, offset_needs_a_spanning_support) {
  scalar::set_mpfr_digits(30);
  const nlohmann::json spec = {
      {"tokens", 3},
      {"classes", 2},
      {"dim", 3},
      {"inputs", {{"kind", "explicit"}, {"rows", {{1, 0, 0}, {0, 1, 0}, {2, 0, 1}}}}},
      {"outputs", {{"kind", "orthonormal"}}},
      {"frequencies", {{"kind", "uniform"}}},
      {"target", {{"kind", "explicit"}, {"map", {0, 1, 0}}}},
      {"init", {{"kind", "zero"}}}};
  const auto hm = model::hard_margin(io::parse_problem<Real>(spec));
  ASSERT_TRUE(hm.separable) << hm.message;
  EXPECT_EQ(hm.support.size(), 2U);
  EXPECT_FALSE(hm.offset_determined);
  // K_SS = 2 I, alpha = (1/2, 1/2); beta = K_SS^-1 log(p / alpha) = log(2/3) / 2 on both, so
  // shift = sum beta / sum alpha = log(2/3).
  EXPECT_LT(abs(Real(hm.shift - log(Real(2) / 3))), Real("1e-25"));
}

// The mixed problem's split: e_0 = e_1 with labels 0 and 1 (p = 1/2, 1/4) converge, the
// constraints (0, 1) and (1, 0) are minus each other, so L_J = p0 log(1 + e^-m) + p1 log(1 + e^m)
// with m = m_01 = -m_10: m* = log(p0 / p1) = log 2, L_J* = (1/2) log(3/2) + (1/4) log 3. Token 2
// (60 degrees, label 0) separates: a_21 off span{a_01} is (u_0 - u_1) e_2perp^T, |e_2perp|^2 =
// sin^2 60 = 3/4, so |a|^2 = 3/2, alpha = 2/3 = |W_hat_S|^2 (and m_2 ~ log tau + log(p2 / alpha)
// = log(3 tau / 8), the mixed-limit claim's rate). A separable problem and one with a minimiser
// have no split.
TEST(limits, mixed_split_is_the_closed_form) {
  scalar::set_mpfr_digits(50);
  const auto sp = model::split_limit(named("mixed"));
  ASSERT_TRUE(sp.ok()) << sp.message;
  ASSERT_EQ(sp.converging.size(), 2U);
  EXPECT_EQ(sp.converging[0], std::make_pair(0, 1));
  EXPECT_EQ(sp.converging[1], std::make_pair(1, 0));
  const Real log2 = log(Real(2));
  EXPECT_LT(abs(Real(sp.converging_margins(0) - log2)), Real("1e-45"));
  EXPECT_LT(abs(Real(sp.converging_margins(1) + log2)), Real("1e-45"));
  EXPECT_LT(abs(Real(sp.loss_limit - (log(Real(3) / 2) / 2 + log(Real(3)) / 4))), Real("1e-45"));
  ASSERT_EQ(sp.support.size(), 1U);
  EXPECT_EQ(sp.support[0], std::make_pair(2, 1));
  EXPECT_LT(abs(Real(sp.alpha(0) - Real(2) / 3)), Real("1e-45"));
  EXPECT_LT(abs(Real(sp.norm2 - Real(2) / 3)), Real("1e-45"));
  EXPECT_FALSE(model::split_limit(named("pair")).ok());
  EXPECT_FALSE(model::split_limit(named("underparameterized")).ok());
}

// Logit offsets C = E B^T U^T are the memory shifted by B: the problem with offsets C from W0 has
// the logits, gradient and flow of the one without offsets from W0 + B, its memory is the other's
// minus B, so W_hat and the approach rate agree while W~ = W~' - B and shift = shift' - <B, W_hat>
// / |W_hat|^2 (separable, the pair); W* = W*' - B and eta_c agree (not separable).
model::problem<Real> with_offsets(const model::problem<Real>& pb, const model::matrix<Real>& B) {
  const model::matrix<Real> C = pb.E * B.transpose() * pb.U.transpose();
  return model::make_problem<Real>(pb.E, pb.U, pb.p, pb.target, pb.W0, C);
}
model::problem<Real> shifted(const model::problem<Real>& pb, const model::matrix<Real>& B) {
  return model::make_problem<Real>(pb.E, pb.U, pb.p, pb.target, model::matrix<Real>(pb.W0 + B));
}

TEST(limits, offsets_are_a_shifted_memory) {
  scalar::set_mpfr_digits(40);
  model::matrix<Real> B(2, 2);
  B << Real("0.7"), Real("-1.3"), Real("0.4"), Real("2.1");
  auto pair_spec = io::named_problem("pair");
  pair_spec["init"] =
      nlohmann::json::parse(R"({"kind": "explicit", "W": [["0.3", "-0.2"], ["0.1", "0.4"]]})");
  const auto pair = io::parse_problem<Real>(pair_spec);
  const auto a = with_offsets(pair, B), b = shifted(pair, B);
  ASSERT_TRUE(a.has_offsets());
  const Real tight("1e-35");
  model::matrix<Real> W(2, 2);
  W << Real("-0.5"), Real("1.5"), Real("0.25"), Real("3");
  const model::matrix<Real> WB = W + B;
  EXPECT_LT(model::matrix<Real>(model::logits(a, W) - model::logits(b, WB)).norm(), tight);
  EXPECT_LT(model::matrix<Real>(model::gradient(a, W) - model::gradient(b, WB)).norm(), tight);
  EXPECT_LT(model::matrix<Real>(a.Z0 - b.Z0).norm(), tight);
  const auto ha = model::hard_margin(a), hb = model::hard_margin(b);
  ASSERT_TRUE(ha.separable && hb.separable && ha.offset_determined && hb.offset_determined);
  EXPECT_LT(model::matrix<Real>(ha.W - hb.W).norm(), tight);
  EXPECT_LT(abs(Real(ha.approach_rate - hb.approach_rate)), tight);
  EXPECT_LT(model::matrix<Real>(ha.offset - (hb.offset - B)).norm(), Real("1e-30"));
  const Real shift = hb.shift - (B.array() * hb.W.array()).sum() / hb.norm2;
  EXPECT_GT(abs(Real(ha.shift - hb.shift)), Real("0.1"));
  EXPECT_LT(abs(Real(ha.shift - shift)), Real("1e-30"));
  const Real angle = model::matrix<Real>(hb.offset - B - shift * hb.W).norm() / sqrt(hb.norm2);
  EXPECT_LT(abs(Real(ha.angle_constant - angle)), Real("1e-30"));

  const auto under = named("underparameterized");
  const auto ua = with_offsets(under, B), ub = shifted(under, B);
  const auto wa = model::minimiser(ua), wb = model::minimiser(ub);
  ASSERT_TRUE(wa.ok() && wb.ok()) << wa.message << wb.message;
  EXPECT_LT(model::matrix<Real>(wa.W - (wb.W - B)).norm(), Real("1e-30"));
  EXPECT_LT(model::gradient(ua, wa.W).norm(), Real("1e-35"));
  EXPECT_LT(abs(Real(wa.eta_c - wb.eta_c)), Real("1e-30"));
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
