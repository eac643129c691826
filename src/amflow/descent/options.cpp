// The scalar-independent parts of descent: names of the update spaces and rules, and the SGD batch
// sampler.
#include <algorithm>
#include <stdexcept>

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

const rule_info& rule_info_of(rule_kind k) {
  for (const rule_info& r : rule_table()) {
    if (r.kind == k) return r;
  }
  throw std::logic_error("rule_info_of: a rule kind without a row in rule_table()");
}

std::vector<rule_parameter> all_rule_parameters() {
  std::vector<rule_parameter> all;
  for (const rule_info& r : rule_table()) {
    for (const rule_parameter& p : r.parameters) {
      const bool seen = std::any_of(all.begin(), all.end(), [&](const rule_parameter& q) {
        return std::string(q.name) == p.name;
      });
      if (!seen) all.push_back(p);
    }
  }
  return all;
}

rule_kind parse_rule(const std::string& name, const std::string& field) {
  std::string names;
  const auto& table = rule_table();
  for (size_t i = 0; i < table.size(); ++i) {
    if (name == table[i].name) return table[i].kind;
    names += std::string(i == 0 ? "" : i + 1 == table.size() ? " or " : ", ") + table[i].name;
  }
  throw input_error(field, name, "expected " + names);
}

std::string rule_name(rule_kind k) { return rule_info_of(k).name; }

bool rule_uses(rule_kind k, const std::string& parameter) {
  const auto& ps = rule_info_of(k).parameters;
  return std::any_of(ps.begin(), ps.end(),
                     [&](const rule_parameter& p) { return parameter == p.name; });
}

bool rule_is_linear(rule_kind k) { return rule_info_of(k).linear; }

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
