// Statement (P8, the authors' spike experiment): "On the pair problem (alpha = 0.95, p = (3/4,
// 1/4), U = I, W0 = 0), GD with eta = 10 increases the loss exactly at the steps printed below
// within states 0 .. 34, its largest loss exceeds log 2 (the loss at W0), and state 34 classifies
// both tokens right; with eta = 1, state 34 still classifies the rare token wrong."
// Certified GD in ball arithmetic at 128 bits (src/amflow/certify/descent.hpp): every loss and
// margin is a ball containing the exact GD value, every comparison decided. The increase steps are
// also those of amflow's double run (printed for comparison).
#include <cstdio>

#include "amflow/certify/descent.hpp"
#include "amflow/descent/descent.hpp"
#include "amflow/instantiate.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/scalar/convert.hpp"
#include "proof.hpp"

using namespace amflow;

namespace {

std::string steps_text(const std::vector<long>& steps) {
  std::string out;
  for (long k : steps) out += (out.empty() ? "" : ", ") + std::to_string(k);
  return out.empty() ? "none" : out;
}

}  // namespace

int main() {
  proofs::proof proof(
      "P8: pair problem, GD eta = 10: the loss rises exactly at the printed steps of 0..34, its "
      "maximum exceeds log 2 and state 34 is perfect; eta = 1: the rare token is still wrong at "
      "34");
  return proof.run([&] {
    const certify::precision_scope bits(128);
    const auto pb = certify::pair_problem(certify::ball::of(rational(19, 20)),
                                          certify::ball::of(rational(3, 4)));
    const auto fast = certify::certified_gd(pb, certify::ball(10), 34);
    const auto slow = certify::certified_gd(pb, certify::ball(1), 34);
    proof.require(fast.ok() && slow.ok(), "the certified runs completed");
    if (!fast.ok() || !slow.ok()) return;
    proof.require(fast.undecided_increases.empty() && slow.undecided_increases.empty(),
                  "every loss comparison decided");
    proof.evidence("eta = 10: the loss rises at steps " + steps_text(fast.loss_increases));
    // The same steps in amflow's double run.
    const auto dpb = io::parse_problem<double>(io::named_problem("pair"));
    descent::descent_options<double> o;
    o.eta = 10;
    o.steps = 34;
    const auto d = descent::run(dpb, o);
    std::vector<long> double_steps;
    for (size_t k = 1; k < d.samples.size(); ++k) {
      if (d.samples[k].loss > d.samples[k - 1].loss) double_steps.push_back(static_cast<long>(k));
    }
    proof.evidence("eta = 10 in double: the loss rises at steps " + steps_text(double_steps));
    proof.require(double_steps == fast.loss_increases, "double and certified increases agree");
    // The largest loss against log 2.
    certify::ball largest = fast.states[0].loss;
    long at = 0;
    for (const auto& s : fast.states) {
      if (certify::sign(s.loss - largest) == certify::sign_of::positive) {
        largest = s.loss;
        at = s.step;
      }
    }
    const certify::ball excess = largest - certify::log(certify::ball(2));
    proof.evidence("largest loss (state " + std::to_string(at) + ") in " + largest.text(20) +
                   "; minus log 2 in " + excess.text(10));
    proof.require(certify::sign(excess) == certify::sign_of::positive, "max loss > log 2");
    proof.require(fast.states[34].perfect == certify::decision::yes, "eta = 10: state 34 perfect");
    proof.evidence("eta = 10, state 34: margins " + fast.states[34].margins[0].text(12) + ", " +
                   fast.states[34].margins[1].text(12));
    const certify::ball& rare = slow.states[34].margins[1];
    proof.evidence("eta = 1, state 34: the rare token's margin in " + rare.text(15));
    proof.require(certify::sign(rare) == certify::sign_of::negative,
                  "eta = 1: the rare token wrong at state 34");
    char widest[32];
    std::snprintf(widest, sizeof widest, "%.3g", std::max(fast.widest, slow.widest));
    proof.evidence(std::string("widest ball along both runs: ") + widest);
  });
}
