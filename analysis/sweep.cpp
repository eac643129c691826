// Field paths for sweep axes: "inputs.alpha", "frequencies.p[1]", "init.W[0][1]"; the authors'
// grid.
#include <cctype>
#include <cstdint>

#include "amflow/errors.hpp"
#include "amflow/io/problem_io.hpp"
#include "analysis/sweep.hpp"

namespace amflow::analysis {

nlohmann::json set_field(nlohmann::json problem, const std::string& path,
                         const nlohmann::json& value) {
  const auto fail = [&](const std::string& why) { throw input_error("grid", path, why); };
  nlohmann::json* node = &problem;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '[') {
      const size_t close = path.find(']', i);
      if (close == std::string::npos || close == i + 1) fail("expected [index]");
      const std::string digits = path.substr(i + 1, close - i - 1);
      for (char ch : digits) {
        if (!std::isdigit(static_cast<unsigned char>(ch))) fail("expected [index]");
      }
      // At most 9 digits: every larger index is beyond any array a problem can hold.
      const size_t index = digits.size() <= 9 ? std::stoul(digits) : SIZE_MAX;
      if (!node->is_array() || index >= node->size()) {
        fail("no such field in the problem (index " + digits + ")");
      }
      node = &(*node)[index];
      i = close + 1;
      if (i < path.size() && path[i] == '.') ++i;
      continue;
    }
    size_t end = i;
    while (end < path.size() && path[end] != '.' && path[end] != '[') ++end;
    const std::string key = path.substr(i, end - i);
    if (key.empty()) fail("empty name in the field path");
    if (!node->is_object() || !node->contains(key)) {
      fail("no such field in the problem (\"" + key + "\"); axes are eta, alpha, p0, p0_logit " +
           "or the path of an existing field");
    }
    node = &(*node)[key];
    i = end;
    if (i < path.size() && path[i] == '.') ++i;
  }
  if (node == &problem) fail("empty field path");
  if (node->is_object() || node->is_array()) fail("names a group of fields, not a number");
  *node = value;
  return problem;
}

sweep_options<double> authors_learning_rate_grid() {
  sweep_options<double> o;
  o.problem = io::named_problem("pair");
  o.axes = {{"p0_logit", "logspace:-0.5:0.5:10"},
            {"alpha", "linspace:0.5:1:10"},
            {"eta", "logspace:-1:1:10"}};
  o.steps = 1000;
  return o;
}

}  // namespace amflow::analysis
