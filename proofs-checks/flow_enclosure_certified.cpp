// Statement: "The gradient flows of the pair problem, the three-token orthogonal problem and the
// large-memory problem (N = M = d = 5) are enclosed at tau = 1, 10, ..., 1e15: at 50 digits every
// loss and margin lies in an interval of radius at most 1e-40, at 100 digits at most 1e-85; on the
// orthogonal problem every margin's interval meets P1's closed form (a ball of radius < 1e-80
// from Arb's Lambert W), as it must."
// The enclosure (certify::enclose) bounds the distance of the exact flow from the Taylor stepper's
// polynomial by the integral of its defect (the flow is nonexpansive in the Gram norm since the
// loss is convex), with every quantity in ball arithmetic; see src/amflow/certify/enclose.hpp.
#include <chrono>
#include <cstdio>

#include "amflow/certify/closed_form.hpp"
#include "amflow/certify/enclose.hpp"
#include "amflow/io/problem_io.hpp"
#include "proof.hpp"

using namespace amflow;

int main() {
  proofs::proof proof(
      "the flows of pair, orthogonal and large-memory are enclosed at tau = 1 .. 1e15 within "
      "radius 1e-40 at 50 digits and 1e-85 at 100 digits; the orthogonal one meets P1's closed "
      "form");
  return proof.run([&] {
    std::vector<rational> taus;
    for (int k = 0; k <= 15; ++k) taus.push_back(rational(mp::pow(mp::mpz_int(10), k)));
    for (const char* name : {"pair", "orthogonal", "large-memory"}) {
      for (int digits : {50, 100}) {
        certify::enclose_options o;
        o.digits = digits;
        o.times = taus;
        const auto start = std::chrono::steady_clock::now();
        const certify::enclosure_result r = certify::enclose(io::named_problem(name), o);
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const std::string what = std::string(name) + " at " + std::to_string(digits) + " digits";
        proof.require(r.ok(), what + ": " + r.message);
        if (!r.ok()) continue;
        const rational goal(1, mp::pow(mp::mpz_int(10), digits == 50 ? 40 : 85));
        for (const auto& row : r.rows) {
          proof.require(row.loss.radius_below(goal), what + ": a loss radius");
          for (const auto& m : row.margins) proof.require(m.radius_below(goal), what + ": radius");
        }
        char line[200];
        std::snprintf(line, sizeof line,
                      "%s: largest radius %.2e (goal %s), %ld steps of order %d, %.2f s",
                      what.c_str(), r.largest_radius, digits == 50 ? "1e-40" : "1e-85", r.steps,
                      r.order, secs);
        proof.evidence(line);
        if (std::string(name) == "orthogonal") {
          const rational p[3] = {rational(1, 2), rational(3, 10), rational(1, 5)};
          const certify::precision_scope bits(certify::bits_for_digits(digits + 40));
          for (const auto& row : r.rows) {
            for (int x = 0; x < 3; ++x) {
              const certify::ball exact = certify::orthogonal_margin(p[x], 3, row.tau);
              proof.require(arb_overlaps(exact.raw(), row.margins[x].raw()) != 0,
                            what + ": the closed form is outside an interval");
            }
          }
        }
        if (digits == 50) {
          const auto& last = r.rows.back();
          proof.evidence("  tau = 1e15: loss in [" + last.loss.lower(30) + ", " +
                         last.loss.upper(30) + "]");
          proof.evidence("  tau = 1e15: m_0 in [" + last.margins[0].lower(45) + ", " +
                         last.margins[0].upper(45) + "]");
        }
      }
    }
  });
}
