// Statement (P4): "From W0 = 0, one GD step of size eta on a problem with orthonormal input and
// output embeddings gives every token the margin eta p(x) > 0, whatever the frequencies, the step
// size and the target map."
// Proven in exact rational arithmetic on the built-in orthogonal problems and on 40 random problems
// with rational orthonormal embeddings (N, M <= d <= 6), rational frequencies and step sizes and
// random target maps. The checker must also be able to say no: on correlated rational embeddings
// it must find a token whose margin is not eta p(x).
#include <random>

#include "amflow/instantiate.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/scalar/convert.hpp"
#include "proof.hpp"
#include "rational_problems.hpp"

using namespace amflow;

namespace {

// Whether every margin after one step from 0 equals eta p(x) > 0, exactly.
bool margins_are_eta_p(const model::problem<rational>& pb, const rational& eta) {
  const model::vector<rational> m = model::margins(pb, model::one_step_from_zero(pb, eta));
  for (int x = 0; x < pb.tokens; ++x) {
    if (m(x) != eta * pb.p(x) || !(m(x) > 0)) return false;
  }
  return true;
}

}  // namespace

int main() {
  proofs::proof proof(
      "P4: from W0 = 0, one GD step of size eta with orthonormal embeddings gives m_x = eta p(x) > "
      "0 "
      "for every token (exact rationals)");
  return proof.run([&] {
    for (const char* name : {"orthogonal", "zipf-orthogonal"}) {
      const auto pb = io::parse_problem<rational>(io::named_problem(name));
      for (const char* eta : {"1/1000", "7/3", "1000000"}) {
        const bool holds = margins_are_eta_p(pb, scalar::parse_exact(eta, "eta"));
        proof.evidence(std::string(name) + ", eta = " + eta + ": " + (holds ? "holds" : "fails"));
        proof.require(holds, std::string(name) + " at eta = " + eta);
      }
    }
    std::mt19937_64 gen(4);
    int random_ok = 0;
    for (int i = 0; i < 40; ++i) {
      const int d = 2 + static_cast<int>(gen() % 5);
      const int N = 1 + static_cast<int>(gen() % d), M = 2 + static_cast<int>(gen() % (d - 1));
      const auto pb = io::parse_problem<rational>(proofs::rational_problem(N, M, d, true, gen));
      const bool holds =
          pb.G_E_identity && pb.G_U_identity && margins_are_eta_p(pb, proofs::rational_step(gen));
      random_ok += holds;
      proof.require(holds, "random orthonormal problem " + std::to_string(i));
    }
    proof.evidence("random problems with rational orthonormal embeddings: " +
                   std::to_string(random_ok) + " of 40 hold");
    // The negative control: correlated embeddings, where P4 is false.
    int caught = 0;
    for (int i = 0; i < 10; ++i) {
      const auto pb = io::parse_problem<rational>(proofs::rational_problem(3, 3, 3, false, gen));
      caught += !margins_are_eta_p(pb, proofs::rational_step(gen));
    }
    proof.evidence("correlated rational problems where the checker finds a margin != eta p(x): " +
                   std::to_string(caught) + " of 10");
    proof.require(caught == 10,
                  "the checker must report the statement false on correlated problems");
  });
}
