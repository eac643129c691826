// The scalar-independent parts of descent: names of the update spaces and rules, and the SGD batch
// sampler.
#include <algorithm>

#include "amflow/descent/descent.hpp"
#include "amflow/descent/rules.hpp"
#include "amflow/errors.hpp"

namespace amflow::descent {

space_kind parse_space(const std::string& name, const std::string& field) {
  if (name == "auto") return space_kind::automatic;
  if (name == "particle") return space_kind::particle;
  if (name == "weights") return space_kind::weights;
  throw input_error(field, name, "expected auto, particle or weights");
}

std::string space_name(space_kind k) {
  switch (k) {
    case space_kind::automatic:
      return "auto";
    case space_kind::particle:
      return "particle";
    case space_kind::weights:
      return "weights";
  }
  return "?";
}

namespace {
const std::pair<rule_kind, const char*> rule_names[] = {{rule_kind::gd, "gd"},
                                                        {rule_kind::momentum, "momentum"},
                                                        {rule_kind::nesterov, "nesterov"},
                                                        {rule_kind::normalized, "normalized"},
                                                        {rule_kind::sign, "sign"},
                                                        {rule_kind::rescaled, "rescaled"},
                                                        {rule_kind::adam, "adam"}};
}  // namespace

rule_kind parse_rule(const std::string& name, const std::string& field) {
  for (const auto& [kind, text] : rule_names) {
    if (name == text) return kind;
  }
  throw input_error(field, name,
                    "expected gd, momentum, nesterov, normalized, sign, rescaled or adam");
}

std::string rule_name(rule_kind k) {
  for (const auto& [kind, text] : rule_names) {
    if (kind == k) return text;
  }
  return "?";
}

bool rule_uses(rule_kind k, const std::string& parameter) {
  if (parameter == "momentum") return k == rule_kind::momentum || k == rule_kind::nesterov;
  if (parameter == "beta1" || parameter == "beta2" || parameter == "epsilon" ||
      parameter == "bias_correction") {
    return k == rule_kind::adam;
  }
  return false;
}

bool rule_is_linear(rule_kind k) {
  return k == rule_kind::gd || k == rule_kind::momentum || k == rule_kind::nesterov;
}

batch_sampler::batch_sampler(const std::vector<double>& p, long batch, std::uint64_t seed)
    : batch_(batch), generator_(seed), counts_(p.size(), 0) {
  double sum = 0;
  for (double q : p) cumulative_.push_back(sum += q);
}

const std::vector<long>& batch_sampler::draw() {
  std::fill(counts_.begin(), counts_.end(), 0);
  const size_t last = cumulative_.size() - 1;
  for (long b = 0; b < batch_; ++b) {
    const double u = static_cast<double>(generator_() >> 11) * 0x1.0p-53;  // in [0, 1)
    // The first x with u < cumulative(x); the last token takes what rounding leaves above.
    const size_t x = static_cast<size_t>(
        std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin());
    ++counts_[std::min(x, last)];
  }
  return counts_;
}

}  // namespace amflow::descent
