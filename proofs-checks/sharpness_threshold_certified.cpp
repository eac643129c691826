// Statement: "The pair problem's sharpness at W = 0 is (1 + sqrt(1 - 4 p0 p1 (1 - alpha^2)))/4 (an
// enclosure of radius below 1e-45 at 50 digits contains it); along the spike run (eta = 10, 34 GD
// steps) every step's sharpness is enclosed within 1e-12 and contains amflow's 100-digit value; on
// P9's under-parameterised problem the cross-entropy minimiser is the only zero of the gradient in
// a box of radius below 1e-45, and eta_c = 2 / lambda_max(H(W*)) is known to 40 digits: GD at
// 0.999 eta_c reaches the least loss within 1e-30 in 20000 steps, at 1.001 eta_c it stays more than
// 1e-5 above it."
// Sharpness: the largest eigenvalue of A = B K B^T from balls of the logits, bracketed by a
// Rayleigh quotient below and a Cholesky factorisation of mu I - A above (certify/spectrum.hpp).
// Minimiser: the Krawczyk operator in margin coordinates (certify/logistic.hpp).
#include <cstdio>

#include "amflow/certify/descent.hpp"
#include "amflow/certify/logistic.hpp"
#include "amflow/certify/problem.hpp"
#include "amflow/certify/spectrum.hpp"
#include "amflow/descent/descent.hpp"
#include "amflow/instantiate.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/model/quantities.hpp"
#include "amflow/scalar/convert.hpp"
#include "proof.hpp"

using namespace amflow;
using certify::ball;

int main() {
  proofs::proof proof(
      "the pair's sharpness at 0 equals its closed form, every step's sharpness of the spike run "
      "is enclosed, and P9's eta_c is certified to 40 digits with GD converging just below it and "
      "not just above");
  return proof.run([&] {
    // 1. The sharpness at W = 0 against the closed form.
    scalar::set_mpfr_digits(50);
    {
      const certify::precision_scope bits(certify::bits_for_digits(50));
      const auto bp = certify::ball_problem_of(io::named_problem("pair"));
      const ball s = certify::sharpness(bp, bp.Z0);
      const ball a = ball::of(rational(19, 20));
      const ball closed =
          (ball(1) + certify::sqrt(ball(1) - ball::of(rational(3, 4)) * (ball(1) - a * a))) /
          ball(4);
      proof.require(s.radius_below(rational(1, mp::pow(mp::mpz_int(10), 45))), "radius at 0");
      proof.require(arb_overlaps(s.raw(), closed.raw()) != 0, "the closed form is outside");
      proof.evidence("sharpness at W = 0 in " + s.text(50) + "; closed form " + closed.text(50));
    }
    // 2. Along the spike run: the certified states' sharpness contains the 100-digit value.
    {
      scalar::set_mpfr_digits(100);
      const auto pb = io::parse_problem<mpfr_real>(io::named_problem("pair"));
      descent::descent_options<mpfr_real> o;
      o.eta = mpfr_real(10);
      o.steps = 34;
      o.sharpness = true;
      const auto ref = descent::run(pb, o);
      scalar::set_mpfr_digits(50);
      const certify::precision_scope bits(certify::bits_for_digits(60));
      const auto bp = certify::ball_problem_of(io::named_problem("pair"));
      const auto run = certify::certified_gd(bp, ball(10), 34);
      proof.require(run.ok() && ref.ok() && run.states.size() == ref.samples.size(), "the runs");
      double widest = 0;
      for (size_t k = 0; k < run.states.size() && k < ref.samples.size(); ++k) {
        const ball s = certify::sharpness(bp, run.states[k].Z);
        widest = std::max(widest, s.radius());
        proof.require(s.contains(ball::of(*ref.samples[k].sharpness)),
                      "step " + std::to_string(k) + ": the 100-digit sharpness is outside");
        proof.require(s.radius() < 1e-12, "step " + std::to_string(k) + ": radius");
      }
      char line[160];
      std::snprintf(line, sizeof line,
                    "spike run (eta = 10): 35 sharpness enclosures, widest radius %.2e, each "
                    "containing the 100-digit value",
                    widest);
      proof.evidence(line);
    }
    // 3. P9's threshold.
    {
      scalar::set_mpfr_digits(50);
      const certify::precision_scope bits(certify::bits_for_digits(50));
      const auto spec = io::named_problem("underparameterized");
      const certify::two_class_threshold t = certify::certify_two_class_threshold(spec);
      proof.require(t.ok(), t.message);
      if (!t.ok()) return;
      for (const ball& wi : t.w) {
        proof.require(wi.radius_below(rational(1, mp::pow(mp::mpz_int(10), 45))), "w* radius");
      }
      proof.require(t.eta_c.radius_below(rational(1, mp::pow(mp::mpz_int(10), 40))),
                    "eta_c is not known to 40 digits");
      proof.evidence("w* in (" + t.w[0].text(45) + ", " + t.w[1].text(45) + ")");
      proof.evidence("L* in " + t.loss.text(45));
      proof.evidence("eta_c in [" + t.eta_c.lower(45) + ", " + t.eta_c.upper(45) + "]");
      const auto pb = io::parse_problem<mpfr_real>(spec);
      mpfr_real eta_c, best;
      arf_get_mpfr(eta_c.backend().data(), arb_midref(t.eta_c.raw()), MPFR_RNDN);
      arf_get_mpfr(best.backend().data(), arb_midref(t.loss.raw()), MPFR_RNDN);
      for (const char* factor : {"0.999", "1.001"}) {
        descent::descent_options<mpfr_real> o;
        o.eta = eta_c * scalar::parse_real<mpfr_real>(factor, "f");
        o.steps = 20000;
        o.record = false;
        const auto r = descent::run(pb, o);
        proof.require(r.ok(), "GD ran");
        const mpfr_real gap = abs(r.samples.back().loss - best);
        const bool below = std::string(factor) == "0.999";
        proof.require(below ? gap < mpfr_real(1e-30) : gap > mpfr_real(1e-5),
                      std::string("GD at ") + factor + " eta_c");
        proof.evidence(std::string("GD at ") + factor + " eta_c, 20000 steps: |L - L*| = " +
                       scalar::round_text(scalar::to_text<mpfr_real>(gap), 3));
      }
    }
  });
}
