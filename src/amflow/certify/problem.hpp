// A problem file's data as balls: the exact problem it describes, not its rounding at some
// precision. Rationals (explicit rows, frequencies, alpha, angles in degrees, Zipf exponents) are
// taken exactly; square roots, cosines, powers and the normalisations of the random kinds are
// enclosed by Arb. The random kinds draw the same double-precision normals as parse_problem (exact
// binary numbers), so the ball problem is the problem every precision of amflow rounds.
#pragma once

#include <nlohmann/json.hpp>

#include "amflow/certify/descent.hpp"

namespace amflow::certify {

// The spec must already be valid (parse_problem accepted it): this builds, it does not validate.
ball_problem ball_problem_of(const nlohmann::json& spec);

// The input (inputs = true: N x d) or output (M x d) embeddings as balls, row-major.
std::vector<ball> ball_embeddings(const nlohmann::json& spec, bool inputs);

// Whether the Gram matrix (n x n, row-major) is exactly the identity.
bool is_identity(const std::vector<ball>& G, int n);

// A certified lower bound mu > 0 on the smallest eigenvalue of the symmetric Gram matrix G (n x n):
// G - mu I has a Cholesky factorisation whose pivots are all decided positive. Returns 0 when no
// positive bound is found (G singular or too close to it at this precision).
ball smallest_eigenvalue_bound(const std::vector<ball>& G, int n);

}  // namespace amflow::certify
