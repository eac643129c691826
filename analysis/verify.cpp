// The registry's assembly and the parallel runner. A claim that throws is reported as a failed
// outcome with its message: one broken claim does not hide the others.
#include "analysis/verify.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include "amflow/errors.hpp"
#include "amflow/parallel.hpp"

namespace amflow::analysis {

std::string comparison_name(comparison c) {
  switch (c) {
    case comparison::absolute:
      return "absolute";
    case comparison::relative:
      return "relative";
    case comparison::exact:
      return "exact";
    case comparison::at_least:
      return "at least";
    case comparison::greater:
      return "greater";
    case comparison::less:
      return "less";
    case comparison::count:
      return "count";
  }
  return "?";
}

std::string certainty_name(certainty c) {
  switch (c) {
    case certainty::no:
      return "no";
    case certainty::ball:
      return "ball";
    case certainty::exact:
      return "exact";
  }
  return "?";
}

namespace {

// The registered groups (a function-local static: registration runs during static
// initialisation, in an order between files that C++ leaves open).
std::vector<std::pair<int, std::vector<claim> (*)()>>& groups() {
  static std::vector<std::pair<int, std::vector<claim> (*)()>> registered;
  return registered;
}

}  // namespace

claim_group::claim_group(int rank, std::vector<claim> (*make)()) {
  groups().emplace_back(rank, make);
}

const std::vector<claim>& claims() {
  static const std::vector<claim> all = [] {
    auto ordered = groups();
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<claim> v;
    for (const auto& [rank, make] : ordered) {
      for (auto& c : make()) v.push_back(std::move(c));
    }
    return v;
  }();
  return all;
}

std::vector<const claim*> select_claims(const std::vector<std::string>& names) {
  std::vector<const claim*> chosen;
  for (const std::string& name : names) {
    const claim* found = nullptr;
    for (const claim& c : claims()) {
      if (c.name == name) found = &c;
    }
    if (!found) {
      // The claims that begin with the word (verify --claim pair: the pair-* claims), else the
      // nearest name.
      std::string starting;
      std::vector<std::string> names;
      for (const claim& c : claims()) {
        names.push_back(c.name);
        if (!name.empty() && c.name.rfind(name, 0) == 0) {
          starting += (starting.empty() ? "" : ", ") + c.name;
        }
      }
      throw input_error("claim", name,
                        starting.empty()
                            ? "no such claim (see the list of claims)" + did_you_mean(name, names)
                            : "no such claim; those that begin so: " + starting);
    }
    chosen.push_back(found);
  }
  if (names.empty()) {
    for (const claim& c : claims()) chosen.push_back(&c);
  }
  return chosen;
}

std::vector<claim_outcome> run_claims(const std::vector<std::string>& names,
                                      const verify_options& options,
                                      const std::function<void(const claim_outcome&)>& on_outcome) {
  return run_claim_list(select_claims(names), options, on_outcome);
}

std::vector<claim_outcome> run_claim_list(
    const std::vector<const claim*>& chosen, const verify_options& options,
    const std::function<void(const claim_outcome&)>& on_outcome) {
  std::vector<claim_outcome> out(chosen.size());
  const auto work = [&](long i) {
    out[i].source = chosen[i];
    try {
      out[i].checks = chosen[i]->run(options);
      if (out[i].checks.empty()) out[i].failure = "the claim produced no check";
    } catch (const std::exception& e) {
      out[i].failure = e.what();
    }
  };
  parallel_for_ordered(static_cast<long>(chosen.size()), options.threads, work, [&](long i) {
    if (on_outcome) on_outcome(out[i]);
  });
  return out;
}

}  // namespace amflow::analysis
