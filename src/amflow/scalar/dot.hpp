// Dot products of MPFR numbers with one rounding: the products are formed exactly and summed in a
// fixed-point accumulator, then rounded once to the output's precision. The Taylor stepper's sums
// of products (sum_j x_j y_{k-j}, about K^2/2 terms per coefficient series) spend their time here.
// Per term it costs 17 ns at 50 digits, 32 ns at 100 and 150 ns at 300, against 22, 54 and 148 ns
// for an mpfr_mul and an mpfr_add (bench/flow_bench, dot_cost, sums of 25 terms); inside the
// stepper the gap is wider (50 digits to tau = 1e12: 29 ms with mpfr_mul and mpfr_add, 18 ms with
// dot), and it rounds once per sum instead of twice per term.
#pragma once

#include <cstddef>
#include <vector>

#include "amflow/scalar/types.hpp"

namespace amflow::scalar {

// out = sum_{j < len} x[j * xstep] y[j * ystep] (the steps may be negative, to walk a series
// backwards). When every operand is finite and has out's precision, the result is the exact sum
// with every bit below 2^(e - 64 keep) dropped (e the largest exponent of a product, n the limbs
// of the precision, keep = min(2 n, n + 2)), so its error is at most 1/2 ulp of the result plus
// len 2^(e - 64 keep), at least 2^128 / len times below one ulp of the largest product; otherwise
// (a NaN, an infinity or another precision) it falls back to mpfr_mul and mpfr_add per term.
// scratch is reused between calls (no allocation once large enough).
void dot(mpfr_real& out, const mpfr_real* x, std::ptrdiff_t xstep, const mpfr_real* y,
         std::ptrdiff_t ystep, int len, std::vector<mp_limb_t>& scratch);

}  // namespace amflow::scalar
