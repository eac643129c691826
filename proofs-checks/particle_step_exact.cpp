// Statement: "One GD step in particle coordinates (Z1 = Z0 - eta G_E R G_U, the N x M logits
// alone) equals one GD step on the memory itself (W1 = W0 - eta U^T R^T E, then Z1 = E W1^T U^T)."
// Proven in exact rational arithmetic, from W0 = 0 (where the softmax is exactly uniform, so R is
// rational), on 40 random problems with rational correlated embeddings, d below, equal to and above
// N and M, and on the built-in problems with rational data.
#include <random>

#include "amflow/instantiate.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/scalar/convert.hpp"
#include "proof.hpp"
#include "rational_problems.hpp"

using namespace amflow;

namespace {

bool steps_agree(const model::problem<rational>& pb, const rational& eta) {
  // R at W0 = 0: the softmax is 1/M in every entry.
  model::matrix<rational> R(pb.tokens, pb.classes);
  for (int x = 0; x < pb.tokens; ++x) {
    for (int y = 0; y < pb.classes; ++y) {
      R(x, y) = pb.p(x) * (rational(1, pb.classes) - (pb.target[x] == y ? 1 : 0));
    }
  }
  const model::matrix<rational> W1 = model::weights(pb, model::matrix<rational>(eta * R));
  return model::one_step_from_zero(pb, eta) == model::logits(pb, W1);
}

}  // namespace

int main() {
  proofs::proof proof(
      "one GD step in particle coordinates equals one GD step on W (exact rationals, from W0 = 0)");
  return proof.run([&] {
    for (const char* name : {"orthogonal", "zipf-orthogonal"}) {
      const auto pb = io::parse_problem<rational>(io::named_problem(name));
      proof.require(steps_agree(pb, rational(7, 3)), name);
    }
    std::mt19937_64 gen(7);
    int agree = 0;
    for (int i = 0; i < 40; ++i) {
      const int N = 1 + static_cast<int>(gen() % 5), M = 2 + static_cast<int>(gen() % 4);
      const int d = 1 + static_cast<int>(gen() % 6);
      const auto pb = io::parse_problem<rational>(proofs::rational_problem(N, M, d, false, gen));
      const bool holds = steps_agree(pb, proofs::rational_step(gen));
      agree += holds;
      proof.require(holds, "random problem " + std::to_string(i) + " (N = " + std::to_string(N) +
                               ", M = " + std::to_string(M) + ", d = " + std::to_string(d) + ")");
    }
    proof.evidence("random rational problems where the two steps agree exactly: " +
                   std::to_string(agree) + " of 40");
    // The checker can say no: a step of the wrong size on W must differ.
    const auto pb = io::parse_problem<rational>(proofs::rational_problem(3, 3, 3, false, gen));
    model::matrix<rational> R(3, 3);
    for (int x = 0; x < 3; ++x) {
      for (int y = 0; y < 3; ++y)
        R(x, y) = pb.p(x) * (rational(1, 3) - (pb.target[x] == y ? 1 : 0));
    }
    const bool differs = model::one_step_from_zero(pb, rational(1)) !=
                         model::logits(pb, model::weights(pb, model::matrix<rational>(R * 2)));
    proof.evidence(std::string("negative control (a step twice as long on W): ") +
                   (differs ? "differs" : "agrees"));
    proof.require(differs, "the comparison must tell different steps apart");
  });
}
