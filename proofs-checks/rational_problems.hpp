// Problems with rational data for exact certificates: rational orthonormal embeddings (products of
// Householder reflections I - 2 v v^T / v^T v with integer v, which are orthogonal and rational),
// correlated rational embeddings, rational frequencies and step sizes, all from a seed.
#pragma once

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "amflow/scalar/types.hpp"

namespace amflow::proofs {

using rational_matrix = std::vector<std::vector<rational>>;

// A d x d rational orthogonal matrix: the product of three reflections by random integer vectors.
inline rational_matrix rational_orthogonal(int d, std::mt19937_64& gen) {
  rational_matrix Q(d, std::vector<rational>(d, rational(0)));
  for (int i = 0; i < d; ++i) Q[i][i] = 1;
  for (int r = 0; r < 3; ++r) {
    std::vector<rational> v(d);
    rational norm(0);
    for (auto& x : v) {
      x = static_cast<long>(gen() % 11) - 5;
      norm += x * x;
    }
    if (norm == 0) continue;
    rational_matrix H(d, std::vector<rational>(d));
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) H[i][j] = (i == j ? 1 : 0) - 2 * v[i] * v[j] / norm;
    }
    rational_matrix P(d, std::vector<rational>(d, rational(0)));
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) {
        for (int k = 0; k < d; ++k) P[i][j] += Q[i][k] * H[k][j];
      }
    }
    Q = std::move(P);
  }
  return Q;
}

inline nlohmann::json rows_json(const rational_matrix& A, int rows) {
  nlohmann::json out = nlohmann::json::array();
  for (int i = 0; i < rows; ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (const auto& x : A[i]) row.push_back(x.str());
    out.push_back(row);
  }
  return out;
}

// A random problem with rational data: N tokens, M classes, dimension d >= max(N, M) when
// `orthonormal` (rows of rational orthogonal matrices), any d otherwise (small integer entries);
// positive integer weights normalised, a random target map, W0 = 0.
inline nlohmann::json rational_problem(int N, int M, int d, bool orthonormal,
                                       std::mt19937_64& gen) {
  rational_matrix E, U;
  if (orthonormal) {
    E = rational_orthogonal(d, gen);
    U = rational_orthogonal(d, gen);
  } else {
    for (auto* A : {&E, &U}) {
      A->assign(std::max(N, M), std::vector<rational>(d));
      for (auto& row : *A) {
        for (auto& x : row) x = rational(static_cast<long>(gen() % 9) - 4, 1 + gen() % 4);
      }
    }
  }
  nlohmann::json p = nlohmann::json::array(), map = nlohmann::json::array();
  for (int x = 0; x < N; ++x) {
    p.push_back(1 + static_cast<int>(gen() % 9));
    map.push_back(static_cast<int>(gen() % M));
  }
  return {{"tokens", N},
          {"classes", M},
          {"dim", d},
          {"inputs", {{"kind", "explicit"}, {"rows", rows_json(E, N)}}},
          {"outputs", {{"kind", "explicit"}, {"rows", rows_json(U, M)}}},
          {"frequencies", {{"kind", "explicit"}, {"p", p}, {"normalize", true}}},
          {"target", {{"kind", "explicit"}, {"map", map}}},
          {"init", {{"kind", "zero"}}}};
}

// A positive rational step size: a / b with a, b in [1, 1000].
inline rational rational_step(std::mt19937_64& gen) {
  return rational(1 + static_cast<long>(gen() % 1000), 1 + static_cast<long>(gen() % 1000));
}

}  // namespace amflow::proofs
