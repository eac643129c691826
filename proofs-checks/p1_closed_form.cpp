// Statement (P1): "On the orthogonal problem (N = M = d = 3, p = (1/2, 3/10, 1/5), W0 = 0), the
// gradient flow's margins at tau = 1, 10, ..., 1e15 lie in balls of radius below 1e-45 at 50 digits
// and below 1e-495 at 500 digits; and amflow's Taylor-series flow at 50 digits (tolerance 1e-42)
// prints every one of them within 1e-40 of the exact flow."
// The balls come from the closed form m = a - W0(e^a / (M - 1)), a = (p M tau + 1)/(M - 1), with
// Arb's certified Lambert W (src/amflow/certify/closed_form.hpp): they contain the exact margins.
// The flow's printed value v then satisfies |v - m| <= |v - ball| bounded in ball arithmetic.
#include <cstdio>

#include "amflow/certify/closed_form.hpp"
#include "amflow/flow/integrate.hpp"
#include "amflow/instantiate.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/scalar/convert.hpp"
#include "analysis/claims_support.hpp"
#include "proof.hpp"

using namespace amflow;

int main() {
  proofs::proof proof(
      "P1: the orthogonal problem's flow margins at tau = 1 .. 1e15 are enclosed (radius < 1e-45 "
      "at "
      "50 digits, < 1e-495 at 500), and amflow's 50-digit Taylor flow is within 1e-40 of them");
  return proof.run([&] {
    const rational p[3] = {rational(1, 2), rational(3, 10), rational(1, 5)};
    std::vector<rational> taus;
    for (int k = 0; k <= 15; ++k) taus.push_back(rational(mp::pow(mp::mpz_int(10), k)));

    // The flow as amflow prints it (50 digits).
    scalar::set_mpfr_digits(50);
    const auto pb = io::parse_problem<mpfr_real>(io::named_problem("orthogonal"));
    std::vector<mpfr_real> times;
    for (const rational& t : taus) times.push_back(scalar::from_rational<mpfr_real>(t, "tau", ""));
    const flow::flow_result<mpfr_real> run = analysis::claims_detail::flow_at(
        pb, times, scalar::parse_real<mpfr_real>("1e-42", "tol"), false);
    proof.require(run.ok(), "the flow ran: " + run.message);

    const rational tolerance(1, mp::pow(mp::mpz_int(10), 40));
    double widest50 = 0, widest500 = 0;
    rational worst(0);
    for (size_t i = 0; i < taus.size() && run.ok(); ++i) {
      for (int x = 0; x < 3; ++x) {
        const certify::precision_scope fifty(certify::bits_for_digits(50));
        const certify::ball m = certify::orthogonal_margin(p[x], 3, taus[i]);
        widest50 = std::max(widest50, m.radius());
        const rational printed =
            scalar::parse_exact(scalar::to_text<mpfr_real>(run.samples[i].margins(x)), "m");
        const certify::ball gap = certify::ball::of(printed) - m;
        const bool within = gap.below(tolerance) && (-gap).below(tolerance);
        proof.require(within, "the flow's m_" + std::to_string(x) + " at tau = 1e" +
                                  std::to_string(i) + " is not certainly within 1e-40");
        const rational upper = abs(scalar::parse_exact(gap.upper(10), "u"));
        const rational lower = abs(scalar::parse_exact(gap.lower(10), "l"));
        worst = std::max({worst, upper, lower});
        const certify::precision_scope five_hundred(certify::bits_for_digits(500));
        const certify::ball fine = certify::orthogonal_margin(p[x], 3, taus[i]);
        widest500 = std::max(widest500, fine.radius());
        proof.require(fine.radius_below(rational(1, mp::pow(mp::mpz_int(10), 495))),
                      "a 500-digit radius");
        if (x == 2 && (i == 0 || i == 12 || i == 15)) {
          proof.evidence("m_2(1e" + std::to_string(i) + ") in " + m.text(50));
        }
      }
    }
    proof.require(widest50 < 1e-45, "a 50-digit radius");
    char radius[32];
    std::snprintf(radius, sizeof radius, "%.3g", widest50);
    proof.evidence(std::string("largest radius at 50 digits: ") + radius +
                   " (< 1e-45); at 500 digits below 1e-495");
    proof.evidence(
        "largest certified distance of the 50-digit flow from the exact margins: " +
        scalar::round_text(
            scalar::to_text<mpfr_real>(scalar::from_rational<mpfr_real>(worst, "worst", "")), 3));
  });
}
