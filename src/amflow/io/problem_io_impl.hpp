// Definitions for problem_io.hpp: included where its templates are instantiated (the per-scalar
// units that cmake/AmflowInstantiate.cmake generates, or a bench for scalar types of its own) and
// by certify/problem.cpp for the parsing helpers in detail; other code sees the extern
// declarations.
#pragma once

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <set>

#include "amflow/errors.hpp"
#include "amflow/io/json_read.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/model/random.hpp"
#include "amflow/resources.hpp"
#include "amflow/scalar/convert.hpp"

namespace amflow::io {
namespace detail {

using json = nlohmann::json;

inline std::string show(const json& v) { return brief_json(v, 80); }

// The path of a member; an empty key shows as "" (a field is never named by nothing).
inline std::string join(const std::string& path, const std::string& key) {
  const std::string name = key.empty() ? "\"\"" : key;
  return path.empty() ? name : path + "." + name;
}

inline std::string index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// Refuses keys outside `allowed` (catches typos such as "frequences").
inline void only_keys(const json& obj, const std::string& path,
                      std::initializer_list<const char*> allowed) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || it.key() == a;
    if (!ok) {
      const std::vector<std::string> names(allowed.begin(), allowed.end());
      throw input_error(join(path, it.key()), show(it.value()),
                        "unknown field" + did_you_mean(it.key(), names));
    }
  }
}

inline const json& object_at(const json& parent, const std::string& path, const char* key) {
  const std::string field = join(path, key);
  if (!parent.contains(key)) throw input_error(field, "missing", "required object");
  const json& v = parent.at(key);
  if (!v.is_object()) throw input_error(field, show(v), "must be an object");
  return v;
}

inline std::string kind_of(const json& obj, const std::string& path,
                           std::initializer_list<const char*> kinds) {
  const std::string field = join(path, "kind");
  if (!obj.contains("kind")) throw input_error(field, "missing", "required");
  const json& v = obj.at("kind");
  std::string list;
  for (const char* k : kinds) list += std::string(list.empty() ? "" : ", ") + k;
  if (!v.is_string()) throw input_error(field, show(v), "must be one of " + list);
  for (const char* k : kinds) {
    if (v.get<std::string>() == k) return k;
  }
  const std::vector<std::string> names(kinds.begin(), kinds.end());
  throw input_error(
      field, show(v),
      "unknown kind; expected one of " + list + did_you_mean(v.get<std::string>(), names));
}

inline long integer_at(const json& obj, const std::string& path, const char* key, long lo,
                       long hi) {
  const std::string field = join(path, key);
  if (!obj.contains(key)) throw input_error(field, "missing", "required integer");
  const json& v = obj.at(key);
  if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi) {
    throw input_error(
        field, show(v),
        "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return static_cast<long>(v.get<long long>());
}

inline std::uint64_t seed_at(const json& obj, const std::string& path) {
  const std::string field = join(path, "seed");
  if (!obj.contains("seed")) throw input_error(field, "missing", "required integer seed");
  const json& v = obj.at("seed");
  if (!v.is_number_integer() ||
      (v.is_number_integer() && !v.is_number_unsigned() && v.get<long long>() < 0)) {
    throw input_error(field, show(v), "must be a non-negative integer");
  }
  return v.get<std::uint64_t>();
}

// A real number: JSON integer, or a string holding a decimal or rational numeral (JSON numbers with
// a fraction or exponent arrive as their text, see json_read.hpp). Returned exactly.
inline rational exact_at(const json& v, const std::string& field) {
  if (v.is_number_integer())
    return rational(v.is_number_unsigned() ? mp::mpz_int(v.get<unsigned long long>())
                                           : mp::mpz_int(v.get<long long>()));
  if (v.is_string()) return scalar::parse_exact(v.get<std::string>(), field);
  if (v.is_number_float()) {
    // Only reached for JSON built in memory; a double is exact as itself.
    const double d = v.get<double>();
    if (!std::isfinite(d)) throw input_error(field, show(v), "not a finite number");
    return rational(d);
  }
  throw input_error(field, show(v), "must be a number or a numeric string");
}

template <class Real>
Real real_at(const json& v, const std::string& field) {
  return scalar::from_rational<Real>(exact_at(v, field), field, show(v));
}

inline const json& array_at(const json& obj, const std::string& path, const char* key,
                            size_t size) {
  const std::string field = join(path, key);
  if (!obj.contains(key)) throw input_error(field, "missing", "required array");
  const json& v = obj.at(key);
  if (!v.is_array()) throw input_error(field, show(v), "must be an array");
  if (v.size() != size) {
    throw input_error(field, std::to_string(v.size()) + " entries",
                      "needs " + std::to_string(size));
  }
  return v;
}

template <class Real>
model::matrix<Real> rows_at(const json& obj, const std::string& path, const char* key, int rows,
                            int cols) {
  const json& v = array_at(obj, path, key, static_cast<size_t>(rows));
  const std::string field = join(path, key);
  model::matrix<Real> A(rows, cols);
  for (int i = 0; i < rows; ++i) {
    const std::string row_field = index(field, i);
    const json& row = v.at(i);
    if (!row.is_array()) throw input_error(row_field, show(row), "must be an array");
    if (row.size() != static_cast<size_t>(cols)) {
      throw input_error(row_field, std::to_string(row.size()) + " entries",
                        "row length must be " + std::to_string(cols));
    }
    for (int j = 0; j < cols; ++j) A(i, j) = real_at<Real>(row.at(j), index(row_field, j));
  }
  return A;
}

template <class Real>
void needs_inexact(const std::string& field, const std::string& kind) {
  if constexpr (is_exact_v<Real>) {
    throw input_error(field, kind, "needs square roots or transcendental functions, not exact");
  }
}

template <class Real>
model::matrix<Real> normals(std::uint64_t seed, int rows, int cols) {
  const std::vector<double> g = model::standard_normals(seed, static_cast<size_t>(rows) * cols);
  model::matrix<Real> A(rows, cols);
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < cols; ++j) A(i, j) = Real(g[static_cast<size_t>(i) * cols + j]);
  }
  return A;
}

// Input (count = N) or output (count = M) embeddings.
template <class Real>
model::matrix<Real> embeddings(const json& spec, const std::string& path, int count, int dim,
                               bool inputs) {
  const json& obj = object_at(spec, "", path.c_str());
  const std::string kind =
      inputs
          ? kind_of(obj, path, {"orthonormal", "pair", "sphere", "gaussian", "explicit", "angles"})
          : kind_of(obj, path, {"orthonormal", "sphere", "gaussian", "explicit", "angles"});
  const std::string kind_field = join(path, "kind");
  using std::sqrt;
  if (kind == "orthonormal") {
    only_keys(obj, path, {"kind"});
    if (dim < count) {
      throw input_error(
          kind_field, "orthonormal",
          "needs dim >= " + std::to_string(count) + " (dim = " + std::to_string(dim) + ")");
    }
    return model::matrix<Real>::Identity(count, dim);
  }
  if (kind == "explicit") {
    only_keys(obj, path, {"kind", "rows"});
    return rows_at<Real>(obj, path, "rows", count, dim);
  }
  needs_inexact<Real>(kind_field, kind);
  if constexpr (!is_exact_v<Real>) {
    if (kind == "pair") {
      only_keys(obj, path, {"kind", "alpha"});
      if (count != 2)
        throw input_error("tokens", std::to_string(count), "the pair kind needs 2 tokens");
      if (dim < 2) throw input_error("dim", std::to_string(dim), "the pair kind needs dim >= 2");
      const std::string field = join(path, "alpha");
      if (!obj.contains("alpha")) throw input_error(field, "missing", "required");
      const rational a = exact_at(obj.at("alpha"), field);
      if (a < -1 || a > 1) throw input_error(field, show(obj.at("alpha")), "must be in [-1, 1]");
      const Real alpha = scalar::from_rational<Real>(a, field, show(obj.at("alpha")));
      model::matrix<Real> E = model::matrix<Real>::Zero(2, dim);
      E(0, 0) = Real(1);
      E(1, 0) = alpha;
      E(1, 1) = sqrt(Real(1) - alpha * alpha);
      return E;
    }
    if (kind == "angles") {
      only_keys(obj, path, {"kind", "degrees"});
      if (dim < 2) throw input_error("dim", std::to_string(dim), "the angles kind needs dim >= 2");
      const json& deg = array_at(obj, path, "degrees", static_cast<size_t>(count));
      using std::cos;
      using std::sin;
      const Real pi = boost::math::constants::pi<Real>();
      model::matrix<Real> E = model::matrix<Real>::Zero(count, dim);
      for (int i = 0; i < count; ++i) {
        const Real t = real_at<Real>(deg.at(i), index(join(path, "degrees"), i)) * pi / 180;
        E(i, 0) = cos(t);
        E(i, 1) = sin(t);
      }
      return E;
    }
    only_keys(obj, path, {"kind", "seed"});
    model::matrix<Real> G = normals<Real>(seed_at(obj, path), count, dim);
    if (kind == "gaussian") return G / sqrt(Real(dim));
    for (int i = 0; i < count; ++i) G.row(i) /= sqrt(G.row(i).squaredNorm());  // sphere
    return G;
  }
  return {};
}

template <class Real>
model::vector<Real> frequencies(const json& spec, int N) {
  const std::string path = "frequencies";
  const json& obj = object_at(spec, "", "frequencies");
  const std::string kind = kind_of(obj, path, {"uniform", "zipf", "explicit"});
  model::vector<Real> p(N);
  if (kind == "uniform") {
    only_keys(obj, path, {"kind"});
    for (int x = 0; x < N; ++x) p(x) = scalar::from_rational<Real>(rational(1, N), path, "uniform");
    return p;
  }
  if (kind == "zipf") {
    only_keys(obj, path, {"kind", "exponent"});
    const std::string field = join(path, "exponent");
    if (!obj.contains("exponent")) throw input_error(field, "missing", "required");
    const rational a = exact_at(obj.at("exponent"), field);
    if (a < 0) throw input_error(field, show(obj.at("exponent")), "must be >= 0");
    if constexpr (is_exact_v<Real>) {
      if (mp::denominator(a) != 1 || a > 64) {
        throw input_error(field, show(obj.at("exponent")),
                          "exact zipf needs an integer exponent <= 64");
      }
      const unsigned e = static_cast<unsigned>(mp::numerator(a));
      for (int x = 0; x < N; ++x) p(x) = rational(1, 1) / rational(mp::pow(mp::mpz_int(x + 1), e));
    } else {
      using std::pow;
      const Real exponent = scalar::from_rational<Real>(a, field, show(obj.at("exponent")));
      for (int x = 0; x < N; ++x) p(x) = pow(Real(x + 1), -exponent);
    }
    p /= p.sum();
    for (int x = 0; x < N; ++x) {
      if (!(p(x) > 0) || !scalar::readable(p(x))) {
        throw input_error(field, show(obj.at("exponent")),
                          "p(" + std::to_string(x) + ") = (" + std::to_string(x + 1) +
                              ")^-exponent / sum " +
                              (p(x) > 0 ? "is below the smallest value amflow writes and reads"
                                        : "underflows to 0") +
                              " at this precision; every frequency must be positive");
      }
    }
    return p;
  }
  only_keys(obj, path, {"kind", "p", "normalize"});
  bool normalize = false;
  if (obj.contains("normalize")) {
    if (!obj.at("normalize").is_boolean()) {
      throw input_error(join(path, "normalize"), show(obj.at("normalize")),
                        "must be true or false");
    }
    normalize = obj.at("normalize").get<bool>();
  }
  const json& v = array_at(obj, path, "p", static_cast<size_t>(N));
  std::vector<rational> q(static_cast<size_t>(N));
  rational sum(0);
  for (int x = 0; x < N; ++x) {
    const std::string field = index(join(path, "p"), x);
    q[x] = exact_at(v.at(x), field);
    if (q[x] <= 0) throw input_error(field, show(v.at(x)), "frequencies must be positive");
    sum += q[x];
  }
  if (normalize) {
    for (auto& qx : q) qx /= sum;
  } else {
    // The exact sum must be 1 within what the working precision can tell apart: N half-ulps of
    // rounding in the values plus one in the sum. Exact rationals must sum to exactly 1.
    bool ok = sum == 1;
    if constexpr (!is_exact_v<Real>) {
      const rational tol =
          rational(N + 1) *
          rational(mp::mpz_int(1),
                   mp::pow(mp::mpz_int(2), static_cast<unsigned>(scalar::bits<Real>())));
      ok = abs(sum - 1) <= tol;
    }
    if (!ok) {
      throw input_error(join(path, "p"), show(v),
                        "must sum to 1 (sum is " +
                            scalar::round_text(scalar::to_text<mpfr_real>(mpfr_real(sum)), 20) +
                            "); set \"normalize\": true to rescale");
    }
  }
  for (int x = 0; x < N; ++x)
    p(x) = scalar::from_rational<Real>(q[x], index(join(path, "p"), x), show(v.at(x)));
  return p;
}

inline std::vector<int> target_map(const json& spec, int N, int M) {
  const std::string path = "target";
  const json& obj = object_at(spec, "", "target");
  const std::string kind = kind_of(obj, path, {"identity", "mod", "explicit"});
  std::vector<int> f(static_cast<size_t>(N));
  if (kind == "identity") {
    only_keys(obj, path, {"kind"});
    if (M < N) {
      throw input_error(
          join(path, "kind"), "identity",
          "needs classes >= tokens (" + std::to_string(M) + " < " + std::to_string(N) + ")");
    }
    for (int x = 0; x < N; ++x) f[x] = x;
  } else if (kind == "mod") {
    only_keys(obj, path, {"kind", "modulus"});
    const long m = integer_at(obj, path, "modulus", 1, M);
    for (int x = 0; x < N; ++x) f[x] = static_cast<int>(x % m);
  } else {
    only_keys(obj, path, {"kind", "map"});
    const json& v = array_at(obj, path, "map", static_cast<size_t>(N));
    for (int x = 0; x < N; ++x) {
      const json& y = v.at(x);
      if (!y.is_number_integer() || y.get<long long>() < 0 || y.get<long long>() >= M) {
        throw input_error(index(join(path, "map"), x), show(y),
                          "must be an integer in [0, " + std::to_string(M - 1) + "]");
      }
      f[x] = static_cast<int>(y.get<long long>());
    }
  }
  return f;
}

template <class Real>
model::matrix<Real> initial_memory(const json& spec, int d) {
  const std::string path = "init";
  const json& obj = object_at(spec, "", "init");
  const std::string kind = kind_of(obj, path, {"zero", "gaussian", "explicit"});
  if (kind == "zero") {
    only_keys(obj, path, {"kind"});
    return model::matrix<Real>::Zero(d, d);
  }
  if (kind == "explicit") {
    only_keys(obj, path, {"kind", "W"});
    return rows_at<Real>(obj, path, "W", d, d);
  }
  needs_inexact<Real>(join(path, "kind"), kind);
  if constexpr (!is_exact_v<Real>) {
    only_keys(obj, path, {"kind", "seed", "scale"});
    const std::string field = join(path, "scale");
    if (!obj.contains("scale")) throw input_error(field, "missing", "required");
    const Real scale = real_at<Real>(obj.at("scale"), field);
    if (scale < 0) throw input_error(field, show(obj.at("scale")), "must be >= 0");
    using std::sqrt;
    return normals<Real>(seed_at(obj, path), d, d) * (scale / sqrt(Real(d)));
  }
  return {};
}

// The logit offsets (optional): none, `zero`, or `explicit` rows (N x M).
template <class Real>
model::matrix<Real> logit_offsets(const json& spec, int N, int M) {
  if (!spec.contains("offsets")) return {};
  const std::string path = "offsets";
  const json& obj = object_at(spec, "", "offsets");
  const std::string kind = kind_of(obj, path, {"zero", "explicit"});
  if (kind == "zero") {
    only_keys(obj, path, {"kind"});
    return {};
  }
  only_keys(obj, path, {"kind", "rows"});
  return rows_at<Real>(obj, path, "rows", N, M);
}

// "name" and "description" are free text, but text: a string of at most 4096 bytes.
inline void free_text(const json& spec, const char* key) {
  if (!spec.contains(key)) return;
  const json& v = spec.at(key);
  if (!v.is_string()) throw input_error(key, show(v), "must be a string");
  if (v.get_ref<const std::string&>().size() > 4096) {
    throw input_error(key, show(v), "longer than 4096 bytes");
  }
}

// Refuses a size whose matrices cannot fit in memory, before anything is allocated, naming the
// count that dominates: E (N x d), U (M x d), W0 (d x d), G_E (N x N) and G_U (M x M) where they
// are formed, and a few N x M matrices (Y, Z0, the offsets and a run's state).
template <class Real>
void check_memory(long N, long M, long d) {
  const double per = static_cast<double>(scalar::bytes_per_number<Real>());
  const double by_dim = per * static_cast<double>(d) * d;
  const double by_tokens = per * static_cast<double>(N) * ((model::forms_gram(N, d) ? N : 0) + d);
  const double by_classes = per * static_cast<double>(M) * ((model::forms_gram(M, d) ? M : 0) + d);
  const double by_logits = per * 5.0 * N * M;
  const double total = by_dim + by_tokens + by_classes + by_logits;
  const double usable = static_cast<double>(usable_memory_bytes());
  if (total <= usable) return;
  std::string field = "dim", what = "W0 is dim x dim";
  long value = d;
  const double top = std::max({by_dim, by_tokens, by_classes, by_logits});
  if (by_logits == top) {
    field = "tokens", value = N, what = "the logits are tokens x classes";
  } else if (by_tokens == top) {
    field = "tokens", value = N;
    what = model::forms_gram(N, d) ? "E E^T is tokens x tokens" : "E is tokens x dim";
  } else if (by_classes == top) {
    field = "classes", value = M;
    what = model::forms_gram(M, d) ? "U U^T is classes x classes" : "U is classes x dim";
  }
  throw input_error(field, std::to_string(value),
                    "the problem needs about " + format_bytes(total) + " of memory (" + what +
                        ", " + std::to_string(scalar::bytes_per_number<Real>()) +
                        " bytes per number); this machine allows " + format_bytes(usable));
}

// Every value of a built problem must print as a number that reads back (see scalar::readable).
template <class Real>
void check_readable(const model::matrix<Real>& A, const std::string& field) {
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    for (Eigen::Index j = 0; j < A.cols(); ++j) {
      if (!scalar::readable(A(i, j))) {
        throw input_error(index(index(field, i), j), scalar::to_text<Real>(A(i, j)),
                          "beyond the range amflow writes and reads back (|x| within "
                          "1e-99943 .. 1e99943)");
      }
    }
  }
}

}  // namespace detail

template <class Real>
std::pair<model::matrix<Real>, model::matrix<Real>> parse_factors(const nlohmann::json& spec,
                                                                  int dim, int rank) {
  using namespace detail;
  if (!spec.is_object()) throw input_error("factors", show(spec), "must be a JSON object");
  only_keys(spec, "", {"A", "B"});
  return {rows_at<Real>(spec, "", "A", dim, rank), rows_at<Real>(spec, "", "B", rank, dim)};
}

template <class Real>
model::problem<Real> parse_problem(const nlohmann::json& spec) {
  using namespace detail;
  if (!spec.is_object()) throw input_error("problem", show(spec), "must be a JSON object");
  only_keys(spec, "",
            {"name", "description", "tokens", "classes", "dim", "inputs", "outputs", "frequencies",
             "target", "init", "offsets"});
  free_text(spec, "name");
  free_text(spec, "description");
  const int N = static_cast<int>(integer_at(spec, "", "tokens", 1, 100000));
  const int M = static_cast<int>(integer_at(spec, "", "classes", 2, 100000));
  const int d = static_cast<int>(integer_at(spec, "", "dim", 1, 100000));
  if constexpr (!is_exact_v<Real>) check_memory<Real>(N, M, d);
  model::matrix<Real> E = embeddings<Real>(spec, "inputs", N, d, true);
  model::matrix<Real> U = embeddings<Real>(spec, "outputs", M, d, false);
  model::vector<Real> p = frequencies<Real>(spec, N);
  std::vector<int> f = target_map(spec, N, M);
  model::matrix<Real> W0 = initial_memory<Real>(spec, d);
  model::matrix<Real> C = logit_offsets<Real>(spec, N, M);
  if constexpr (is_mpfr_v<Real>) {
    check_readable<Real>(E, "inputs.rows");
    check_readable<Real>(U, "outputs.rows");
    check_readable<Real>(W0, "init.W");
    check_readable<Real>(C, "offsets.rows");
  }
  return model::make_problem<Real>(std::move(E), std::move(U), std::move(p), std::move(f),
                                   std::move(W0), std::move(C));
}

template <class Real>
nlohmann::json resolved_json(const model::problem<Real>& pb) {
  using json = nlohmann::json;
  auto rows = [](const model::matrix<Real>& A) {
    json out = json::array();
    for (Eigen::Index i = 0; i < A.rows(); ++i) {
      json row = json::array();
      for (Eigen::Index j = 0; j < A.cols(); ++j) row.push_back(scalar::to_text<Real>(A(i, j)));
      out.push_back(row);
    }
    return out;
  };
  json p = json::array();
  for (int x = 0; x < pb.tokens; ++x) p.push_back(scalar::to_text<Real>(pb.p(x)));
  json out;
  out["tokens"] = pb.tokens;
  out["classes"] = pb.classes;
  out["dim"] = pb.dim;
  out["inputs"] = {{"kind", "explicit"}, {"rows", rows(pb.E)}};
  out["outputs"] = {{"kind", "explicit"}, {"rows", rows(pb.U)}};
  // Printed with max_digits10 digits, the values read back to the same p at this precision, and
  // their exact sum is within the (N + 1) 2^-bits that the sum check allows.
  out["frequencies"] = {{"kind", "explicit"}, {"p", p}};
  out["target"] = {{"kind", "explicit"}, {"map", pb.target}};
  if (pb.zero_init) {
    out["init"] = {{"kind", "zero"}};
  } else {
    out["init"] = {{"kind", "explicit"}, {"W", rows(pb.W0)}};
  }
  if (pb.has_offsets()) out["offsets"] = {{"kind", "explicit"}, {"rows", rows(pb.C)}};
  return out;
}

}  // namespace amflow::io
