// Statement: "On the pair problem (alpha = 0.95, p = (3/4, 1/4), W0 = 0), the gradient flow's
// rare-token margin m_1 falls from 0, has exactly one turn on (0, 1e15], a minimum near tau = 6.99,
// and crosses zero exactly once there, upward, at tau* in a bracket of width at most 1e-30 around
// 52.1166; the common token's margin m_0 has no zero and no turn on (0, 1e15]."
// Brackets from the validated enclosure (certify::enclose with events): a sign change of m_1's
// enclosure with m_1' excluding 0 on the bracket proves exactly one zero there; a sign change of
// m_1' with m_1'' > 0 proves exactly one minimum; every other step of the run is shown free of
// zeros (the enclosure or the derivative's excludes 0), so there are no others.
#include <cstdio>

#include "amflow/certify/enclose.hpp"
#include "amflow/io/problem_io.hpp"
#include "proof.hpp"

using namespace amflow;

int main() {
  proofs::proof proof(
      "pair: m_1 has exactly one minimum (tau near 6.99) and crosses zero exactly once, upward, "
      "at tau* near 52.1166 (bracket width <= 1e-30 at 50 digits); m_0 has neither, on (0, 1e15]");
  return proof.run([&] {
    certify::enclose_options o;
    o.digits = 50;
    o.times = {rational(mp::pow(mp::mpz_int(10), 15))};
    o.events = true;
    const certify::enclosure_result r = certify::enclose(io::named_problem("pair"), o);
    proof.require(r.ok(), r.message);
    if (!r.ok()) return;
    proof.require(r.events_complete, "some part of (0, 1e15] was not decided");
    proof.require(r.crossings.size() == 1, "exactly one crossing");
    proof.require(r.turns.size() == 1, "exactly one turn");
    const certify::precision_scope bits(certify::bits_for_digits(60));
    const rational width(1, mp::pow(mp::mpz_int(10), 30));
    for (const auto& c : r.crossings) {
      proof.require(c.token == 1 && c.direction == 1 && c.unique, "the crossing is m_1's, upward");
      proof.require(c.tau.radius_below(width / 2), "the crossing bracket is wider than 1e-30");
      proof.require(c.tau.below(rational(521167, 10000)) && !c.tau.below(rational(521166, 10000)),
                    "tau* is not near 52.1166");
      char w[64];
      std::snprintf(w, sizeof w, "%.2e", 2 * c.tau.radius());
      proof.evidence("m_1 = 0 exactly once, upward, at tau* in [" + c.tau.lower(45) + ", " +
                     c.tau.upper(45) + "] (width " + w + ")");
    }
    for (const auto& t : r.turns) {
      proof.require(t.token == 1 && t.direction == 1 && t.unique, "the turn is m_1's minimum");
      proof.require(t.tau.below(rational(7)) && !t.tau.below(rational(698, 100)),
                    "the minimum is not near 6.99");
      char w[64];
      std::snprintf(w, sizeof w, "%.2e", 2 * t.tau.radius());
      proof.evidence("m_1' = 0 exactly once (a minimum) at tau in [" + t.tau.lower(45) + ", " +
                     t.tau.upper(45) + "] (width " + w + ")");
    }
    proof.evidence(
        "no other zero of m_0, m_1, m_0' or m_1' on (0, 1e15]: each step's enclosure "
        "or its derivative's excludes 0");
  });
}
