#include "amflow/errors.hpp"
#include "amflow/io/problem_io.hpp"

namespace amflow::io {
namespace {

using json = nlohmann::json;

struct named {
  const char* name;
  const char* description;
  const char* spec;
};

// Rationals are written as strings so that every precision rounds them once from the exact value.
constexpr named catalogue[] = {
    {"orthogonal", "N = M = d = 3, orthonormal embeddings, p = (1/2, 3/10, 1/5), W0 = 0 (P1-P5)",
     R"({"tokens": 3, "classes": 3, "dim": 3,
         "inputs": {"kind": "orthonormal"}, "outputs": {"kind": "orthonormal"},
         "frequencies": {"kind": "explicit", "p": ["1/2", "3/10", "1/5"]},
         "target": {"kind": "identity"}, "init": {"kind": "zero"}})"},
    {"pair", "two tokens, <e_0, e_1> = alpha = 0.95, p = (3/4, 1/4), U = I_2, W0 = 0 (P7, P8)",
     R"({"tokens": 2, "classes": 2, "dim": 2,
         "inputs": {"kind": "pair", "alpha": "0.95"}, "outputs": {"kind": "orthonormal"},
         "frequencies": {"kind": "explicit", "p": ["3/4", "1/4"]},
         "target": {"kind": "identity"}, "init": {"kind": "zero"}})"},
    {"zipf-orthogonal", "N = M = d = 10, orthonormal embeddings, Zipf(1) frequencies, W0 = 0",
     R"({"tokens": 10, "classes": 10, "dim": 10,
         "inputs": {"kind": "orthonormal"}, "outputs": {"kind": "orthonormal"},
         "frequencies": {"kind": "zipf", "exponent": 1},
         "target": {"kind": "identity"}, "init": {"kind": "zero"}})"},
    {"underparameterized",
     "d = 2 < N = 3, embeddings at 0, 30, 60 degrees, labels x mod 2, p = (6, 3, 2)/11 (P9)",
     R"({"tokens": 3, "classes": 2, "dim": 2,
         "inputs": {"kind": "angles", "degrees": [0, 30, 60]}, "outputs": {"kind": "orthonormal"},
         "frequencies": {"kind": "explicit", "p": ["6/11", "3/11", "2/11"]},
         "target": {"kind": "mod", "modulus": 2}, "init": {"kind": "zero"}})"},
    {"mixed",
     "one context, two next tokens (e_0 = e_1, labels 0 and 1, p = 1/2, 1/4) beside a separable "
     "one at 60 degrees (p = 1/4): m_0 = -m_1 -> log(p0 / p1) = log 2 while m_2 grows like log(3 "
     "tau / 8)",
     R"({"tokens": 3, "classes": 2, "dim": 2,
         "inputs": {"kind": "angles", "degrees": [0, 0, 60]}, "outputs": {"kind": "orthonormal"},
         "frequencies": {"kind": "explicit", "p": ["1/2", "1/4", "1/4"]},
         "target": {"kind": "explicit", "map": [0, 1, 0]}, "init": {"kind": "zero"}})"},
    {"large-memory",
     "N = M = d = 5, random unit input and output embeddings (seeds 1, 2), Zipf(1), W0 = 0",
     R"({"tokens": 5, "classes": 5, "dim": 5,
         "inputs": {"kind": "sphere", "seed": 1}, "outputs": {"kind": "sphere", "seed": 2},
         "frequencies": {"kind": "zipf", "exponent": 1},
         "target": {"kind": "identity"}, "init": {"kind": "zero"}})"},
};

}  // namespace

nlohmann::json named_problem(const std::string& name) {
  std::string known;
  for (const named& n : catalogue) {
    if (name == n.name) {
      json spec = json::parse(n.spec);
      spec["name"] = n.name;
      spec["description"] = n.description;
      return spec;
    }
    known += std::string(known.empty() ? "" : ", ") + n.name;
  }
  std::vector<std::string> names;
  for (const named& n : catalogue) names.push_back(n.name);
  throw input_error("problem_name", name,
                    "unknown problem; known: " + known + did_you_mean(name, names));
}

bool is_integer_field(const std::string& path) {
  if (path.rfind("target.map", 0) == 0) return true;
  size_t end = path.size();
  while (end > 0 && path[end - 1] == ']') {
    const size_t open = path.rfind('[', end - 1);
    if (open == std::string::npos) return false;
    end = open;
  }
  const size_t dot = path.rfind('.', end == 0 ? 0 : end - 1);
  const std::string key = path.substr(dot == std::string::npos ? 0 : dot + 1,
                                      end - (dot == std::string::npos ? 0 : dot + 1));
  return key == "tokens" || key == "classes" || key == "dim" || key == "seed" || key == "modulus";
}

std::vector<std::pair<std::string, std::string>> named_problems() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const named& n : catalogue) out.emplace_back(n.name, n.description);
  return out;
}

}  // namespace amflow::io
