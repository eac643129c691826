#include "amflow/scalar/dot.hpp"

#include <algorithm>
#include <climits>
#include <iterator>

namespace amflow::scalar {

namespace {

// The reference path: one multiplication and one addition (two roundings) per term.
void dot_plain(mpfr_real& out, const mpfr_real* x, std::ptrdiff_t xstep, const mpfr_real* y,
               std::ptrdiff_t ystep, int len) {
  mpfr_ptr acc = out.backend().data();
  mpfr_t term;
  mpfr_init2(term, mpfr_get_prec(acc));
  mpfr_set_zero(acc, 1);
  for (int j = 0; j < len; ++j) {
    mpfr_mul(term, x[j * xstep].backend().data(), y[j * ystep].backend().data(), MPFR_RNDN);
    mpfr_add(acc, acc, term, MPFR_RNDN);
  }
  mpfr_clear(term);
}

// Pass 2 for n-limb significands known at compile time (n <= 4, up to 77 digits): the same
// arithmetic as the mpn path below, with the product, the shift and the carries in registers
// (GMP's calls cost more than the work at these sizes).
template <int n>
void accumulate_small(mp_limb_t* acc, const mpfr_real* x, std::ptrdiff_t xstep, const mpfr_real* y,
                      std::ptrdiff_t ystep, int len, mpfr_exp_t top) {
  using wide = unsigned __int128;
  constexpr int keep = 2 * n < n + 2 ? 2 * n : n + 2;
  for (int j = 0; j < len; ++j) {
    mpfr_srcptr a = x[j * xstep].backend().data(), b = y[j * ystep].backend().data();
    if (mpfr_zero_p(a) || mpfr_zero_p(b)) continue;
    const mpfr_exp_t shift = top - (mpfr_get_exp(a) + mpfr_get_exp(b));
    if (shift >= keep * GMP_NUMB_BITS) continue;
    const mp_limb_t* ad = a->_mpfr_d;
    const mp_limb_t* bd = b->_mpfr_d;
    mp_limb_t product[2 * n] = {};
    for (int i = 0; i < n; ++i) {
      mp_limb_t carry = 0;
      for (int k = 0; k < n; ++k) {
        const wide t = static_cast<wide>(ad[i]) * bd[k] + product[i + k] + carry;
        product[i + k] = static_cast<mp_limb_t>(t);
        carry = static_cast<mp_limb_t>(t >> 64);
      }
      product[i + n] = carry;
    }
    const mp_size_t limbs = 2 * n - keep + static_cast<mp_size_t>(shift / GMP_NUMB_BITS);
    const unsigned bits = static_cast<unsigned>(shift % GMP_NUMB_BITS);
    mp_limb_t term[keep];
    for (int i = 0; i < keep; ++i) {
      const mp_size_t at = limbs + i;
      const mp_limb_t low = at < 2 * n ? product[at] : 0;
      const mp_limb_t high = at + 1 < 2 * n ? product[at + 1] : 0;
      term[i] = bits == 0 ? low : (low >> bits) | (high << (GMP_NUMB_BITS - bits));
    }
    if ((mpfr_signbit(a) != 0) == (mpfr_signbit(b) != 0)) {
      mp_limb_t carry = 0;
      for (int i = 0; i < keep; ++i) {
        const wide t = static_cast<wide>(acc[i]) + term[i] + carry;
        acc[i] = static_cast<mp_limb_t>(t);
        carry = static_cast<mp_limb_t>(t >> 64);
      }
      acc[keep] += carry;
    } else {
      mp_limb_t borrow = 0;
      for (int i = 0; i < keep; ++i) {
        const wide t = static_cast<wide>(acc[i]) - term[i] - borrow;
        acc[i] = static_cast<mp_limb_t>(t);
        borrow = static_cast<mp_limb_t>(t >> 64) != 0;
      }
      acc[keep] -= borrow;
    }
  }
}

// Pass 2 for any n, through GMP's mpn functions.
void accumulate_mpn(mp_limb_t* acc, mp_limb_t* product, mp_limb_t* shifted, mp_size_t n,
                    mp_size_t keep, const mpfr_real* x, std::ptrdiff_t xstep, const mpfr_real* y,
                    std::ptrdiff_t ystep, int len, mpfr_exp_t top) {
  const mp_size_t width = keep + 1;
  for (int j = 0; j < len; ++j) {
    mpfr_srcptr a = x[j * xstep].backend().data(), b = y[j * ystep].backend().data();
    if (mpfr_zero_p(a) || mpfr_zero_p(b)) continue;
    const mpfr_exp_t shift = top - (mpfr_get_exp(a) + mpfr_get_exp(b));
    if (shift >= keep * GMP_NUMB_BITS) continue;  // wholly below the accumulator's unit
    mpn_mul_n(product, a->_mpfr_d, b->_mpfr_d, n);
    const mp_size_t limbs = 2 * n - keep + static_cast<mp_size_t>(shift / GMP_NUMB_BITS);
    const unsigned bits = static_cast<unsigned>(shift % GMP_NUMB_BITS);
    const mp_size_t size = 2 * n - limbs;
    const mp_limb_t* term = product + limbs;
    if (bits != 0) {
      mpn_rshift(shifted, term, size, bits);
      term = shifted;
    }
    if ((mpfr_signbit(a) != 0) == (mpfr_signbit(b) != 0)) {
      mpn_add(acc, acc, width, term, size);
    } else {
      mpn_sub(acc, acc, width, term, size);
    }
  }
}

}  // namespace

void dot(mpfr_real& out, const mpfr_real* x, std::ptrdiff_t xstep, const mpfr_real* y,
         std::ptrdiff_t ystep, int len, std::vector<mp_limb_t>& scratch) {
  mpfr_ptr result = out.backend().data();
  const mpfr_prec_t prec = mpfr_get_prec(result);
  const mp_size_t n = (prec + GMP_NUMB_BITS - 1) / GMP_NUMB_BITS;  // limbs of every operand
  // Pass 1: the largest exponent of a nonzero product (a product is below 2^(ex + ey)).
  mpfr_exp_t top = LONG_MIN;
  for (int j = 0; j < len; ++j) {
    mpfr_srcptr a = x[j * xstep].backend().data(), b = y[j * ystep].backend().data();
    if (mpfr_get_prec(a) != prec || mpfr_get_prec(b) != prec || mpfr_nan_p(a) || mpfr_nan_p(b) ||
        mpfr_inf_p(a) || mpfr_inf_p(b)) {
      dot_plain(out, x, xstep, y, ystep, len);
      return;
    }
    if (mpfr_zero_p(a) || mpfr_zero_p(b)) continue;
    const mpfr_exp_t e = mpfr_get_exp(a) + mpfr_get_exp(b);
    if (e > top) top = e;
  }
  if (top == LONG_MIN) {
    mpfr_set_zero(result, 1);
    return;
  }
  // Pass 2: a product of the n-limb significands is P 2^(ex + ey - 128 n) with P < 2^(128 n). The
  // accumulator keeps the top `keep` limbs of that frame (n + 2, or all 2 n for n <= 2): it counts
  // units of 2^(top - 64 keep), in keep + 1 limbs, two's complement (the top limb holds the carries
  // of up to 2^63 terms and the sign). Bits below its unit are dropped: at most len units in all.
  const mp_size_t keep = std::min<mp_size_t>(2 * n, n + 2), width = keep + 1;
  if (scratch.size() < static_cast<size_t>(width + 4 * n)) scratch.resize(width + 4 * n);
  mp_limb_t* acc = scratch.data();
  mp_limb_t* product = acc + width;
  mp_limb_t* shifted = product + 2 * n;
  for (mp_size_t i = 0; i < width; ++i) acc[i] = 0;
  using kernel = void (*)(mp_limb_t*, const mpfr_real*, std::ptrdiff_t, const mpfr_real*,
                          std::ptrdiff_t, int, mpfr_exp_t);
  static constexpr kernel small[] = {nullptr, accumulate_small<1>, accumulate_small<2>,
                                     accumulate_small<3>, accumulate_small<4>};
  if (n < static_cast<mp_size_t>(std::size(small))) {
    small[n](acc, x, xstep, y, ystep, len, top);
  } else {
    accumulate_mpn(acc, product, shifted, n, keep, x, xstep, y, ystep, len, top);
  }
  const bool negative = acc[width - 1] >> (GMP_NUMB_BITS - 1);
  if (negative) mpn_neg(acc, acc, width);
  mp_size_t used = width;
  while (used > 0 && acc[used - 1] == 0) --used;
  mpz_t sum;
  mpz_roinit_n(sum, acc, negative ? -used : used);
  mpfr_set_z_2exp(result, sum, top - keep * GMP_NUMB_BITS, MPFR_RNDN);
}

}  // namespace amflow::scalar
