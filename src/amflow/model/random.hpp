// Seeded standard normal samples that are the same on every machine and at every precision.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace amflow::model {

// `count` independent N(0, 1) samples for `seed`, as doubles. std::mt19937_64 (fully specified by
// the C++ standard) gives u1 in (0, 1] and u2 in [0, 1) with 53 random bits each, and each sample
// is the Box-Muller value sqrt(-2 log u1) cos(2 pi u2) correctly rounded to double. Nothing depends
// on the platform's libm or std::normal_distribution, so a seed names the same numbers everywhere;
// every precision then works from these exact doubles.
std::vector<double> standard_normals(std::uint64_t seed, std::size_t count);

namespace detail {

// The sample for the two 53-bit integers a, b (u1 = (a + 1) 2^-53, u2 = b 2^-53), evaluated by
// MPFR at 128 bits (correctly rounded functions) and rounded to double: the definition.
double normal_by_mpfr(std::uint64_t a, std::uint64_t b);

// The same value from long double arithmetic (64-bit significand) with an error bound of
// sqrt(-2 log u1) 2^-60, at least 4 times the error of libm functions accurate to one unit in the
// last place: when the whole interval value +- bound rounds to one double, that double is the
// correctly rounded one and is returned; otherwise (about 2% of the samples, those near a rounding
// boundary) nothing, and the caller asks MPFR. About 40 times faster than MPFR alone.
std::optional<double> normal_by_long_double(std::uint64_t a, std::uint64_t b);

}  // namespace detail
}  // namespace amflow::model
