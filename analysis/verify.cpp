// The registry's assembly and the parallel runner. A claim that throws is reported as a failed
// outcome with its message: one broken claim does not hide the others.
#include "analysis/verify.hpp"

#include <exception>

#include "amflow/errors.hpp"
#include "amflow/parallel.hpp"

namespace amflow::analysis {

const std::vector<claim>& claims() {
  static const std::vector<claim> all = [] {
    std::vector<claim> v;
    for (auto group : {orthogonal_claims(), pair_claims(), underparameterized_claims()}) {
      for (auto& c : group) v.push_back(std::move(c));
    }
    return v;
  }();
  return all;
}

std::vector<claim_outcome> run_claims(const std::vector<std::string>& names,
                                      const verify_options& options) {
  std::vector<const claim*> chosen;
  for (const std::string& name : names) {
    const claim* found = nullptr;
    for (const claim& c : claims()) {
      if (c.name == name) found = &c;
    }
    if (!found) throw input_error("--claim", name, "no such claim (amflow verify --list)");
    chosen.push_back(found);
  }
  if (names.empty()) {
    for (const claim& c : claims()) chosen.push_back(&c);
  }
  return run_claim_list(chosen, options);
}

std::vector<claim_outcome> run_claim_list(const std::vector<const claim*>& chosen,
                                          const verify_options& options) {
  std::vector<claim_outcome> out(chosen.size());
  parallel_for(static_cast<long>(chosen.size()), options.threads, [&](long i) {
    out[i].source = chosen[i];
    try {
      out[i].checks = chosen[i]->run(options);
      if (out[i].checks.empty()) out[i].failure = "the claim produced no check";
    } catch (const std::exception& e) {
      out[i].failure = e.what();
    }
  });
  return out;
}

}  // namespace amflow::analysis
