// Statement (P7): "For two tokens with opposite labels, U = I_2 and e_1 = (alpha, sqrt(1 -
// alpha^2)), one GD step from W0 = 0 gives the margins eta (p0 - alpha p1, p1 - alpha p0); the rare
// token's margin first moves to the wrong side (its velocity at W0 = 0 is negative) if and only if
// alpha > p1/p0."
// Proven in exact rational arithmetic for the 18 x 8 grid of alpha = (1 - t^2)/(1 + t^2) (which
// makes sqrt(1 - alpha^2) = 2t/(1 + t^2) rational; t = k/20) and p0 in {5/8, 2/3, 3/4, 4/5, 7/8,
// 9/10, 19/20, 99/100}, with eta = 10; the velocity is the one-step margin at eta = 1 (the flow's
// right-hand side at W0 = 0, where the softmax is exactly uniform). One setting lies on the
// boundary (p0 = 5/8, t = 1/2: alpha = p1/p0 = 3/5), where the velocity is exactly 0.
#include "amflow/instantiate.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/scalar/convert.hpp"
#include "proof.hpp"

using namespace amflow;

int main() {
  proofs::proof proof(
      "P7: one step from 0 gives m = eta (p0 - alpha p1, p1 - alpha p0), and the rare token first "
      "goes wrong iff alpha > p1/p0 (exact rationals)");
  return proof.run([&] {
    int checked = 0, wrong_first = 0;
    for (int k = 1; k <= 18; ++k) {
      const rational t(k, 20);
      const rational alpha = (1 - t * t) / (1 + t * t), beta = 2 * t / (1 + t * t);
      for (const char* p0_text : {"5/8", "2/3", "3/4", "4/5", "7/8", "9/10", "19/20", "99/100"}) {
        const rational p0 = scalar::parse_exact(p0_text, "p0"), p1 = 1 - p0;
        nlohmann::json spec = io::named_problem("pair");
        spec["inputs"] = {
            {"kind", "explicit"},
            {"rows", nlohmann::json::array({nlohmann::json::array({"1", "0"}),
                                            nlohmann::json::array({alpha.str(), beta.str()})})}};
        spec["frequencies"] = {{"kind", "explicit"}, {"p", {p0.str(), p1.str()}}};
        const auto pb = io::parse_problem<rational>(spec);
        const rational eta(10);
        const model::vector<rational> m = model::margins(pb, model::one_step_from_zero(pb, eta));
        const model::vector<rational> v =
            model::margins(pb, model::one_step_from_zero(pb, rational(1)));
        const bool formula = m(0) == eta * (p0 - alpha * p1) && m(1) == eta * (p1 - alpha * p0);
        // At alpha = p1/p0 exactly (p0 = 5/8, t = 1/2) the velocity is exactly 0: a tie, no side.
        const rational bound = p1 / p0;
        const bool criterion = alpha > bound ? v(1) < 0 : (alpha < bound ? v(1) > 0 : v(1) == 0);
        proof.require(formula, "one-step margins at alpha = " + alpha.str() + ", p0 = " + p0_text);
        proof.require(criterion, "the criterion at alpha = " + alpha.str() + ", p0 = " + p0_text);
        ++checked;
        wrong_first += v(1) < 0;
      }
    }
    proof.evidence(std::to_string(checked) + " settings; the rare token first goes wrong in " +
                   std::to_string(wrong_first) + " of them, exactly those with alpha > p1/p0");
  });
}
