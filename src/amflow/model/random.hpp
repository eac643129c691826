// Seeded standard normal samples that are the same on every machine and at every precision.
#pragma once

#include <cstdint>
#include <vector>

namespace amflow::model {

// `count` independent N(0, 1) samples for `seed`, as doubles. std::mt19937_64 (fully specified by
// the C++ standard) gives u1 in (0, 1] and u2 in [0, 1) with 53 random bits each; the Box-Muller
// value sqrt(-2 log u1) cos(2 pi u2) is evaluated by MPFR at 128 bits (correctly rounded functions)
// and rounded to double. Nothing depends on the platform's libm or std::normal_distribution, so a
// seed names the same numbers everywhere; every precision then works from these exact doubles.
std::vector<double> standard_normals(std::uint64_t seed, std::size_t count);

}  // namespace amflow::model
