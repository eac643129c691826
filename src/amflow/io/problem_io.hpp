// Problem files (schema in docs/problems.md): validation, exact parsing at the working
// precision, the built-in named problems, and the resolved problem written back as JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "amflow/model/problem.hpp"

namespace amflow::io {

// Validates a problem object and builds it at precision Real. Every real may be a JSON number or a
// decimal/rational string and is rounded once from its exact value. Throws input_error naming the
// field (a JSON path such as "frequencies.p[1]") and the value.
template <class Real>
model::problem<Real> parse_problem(const nlohmann::json& spec);

// The factors of a memory W = A B given explicitly: {"A": d rows of `rank` reals, "B": `rank` rows
// of d reals} (reals as in problem files). Throws input_error naming the field ("A", "B[1][0]")
// and the value.
template <class Real>
std::pair<model::matrix<Real>, model::matrix<Real>> parse_factors(const nlohmann::json& spec,
                                                                  int dim, int rank);

// The resolved problem as a problem file with explicit kinds (every value printed with all the
// digits of Real, as strings so that they read back exactly): parse_problem of it gives the same
// problem.
template <class Real>
nlohmann::json resolved_json(const model::problem<Real>& pb);

// True when the field at `path` (a problem-file path such as "init.seed" or "target.map[2]") holds
// an integer in the schema (counts, seeds, the modulus, the target map).
bool is_integer_field(const std::string& path);

// Built-in problems by name, as problem JSON; throws input_error("problem_name", ...) for an
// unknown name.
nlohmann::json named_problem(const std::string& name);
// Names and one-line descriptions of the built-in problems.
std::vector<std::pair<std::string, std::string>> named_problems();

}  // namespace amflow::io
