#include "amflow/scalar/types.hpp"

namespace amflow::scalar {

// Boost converts a digits10 precision to bits itself; reading bits back from a fresh value keeps
// bits() and max_digits10() consistent with what MPFR really uses.
void set_mpfr_digits(int digits) { mpfr_real::default_precision(static_cast<unsigned>(digits)); }

mpfr_digits_scope::mpfr_digits_scope(int digits) : saved_(digits > 0 ? mpfr_digits() : 0) {
  if (digits > 0) set_mpfr_digits(digits);
}

mpfr_digits_scope::~mpfr_digits_scope() {
  if (saved_ > 0) set_mpfr_digits(saved_);
}

int mpfr_digits() { return static_cast<int>(mpfr_real::default_precision()); }

long mpfr_bits() {
  mpfr_real x;
  return static_cast<long>(mpfr_get_prec(x.backend().data()));
}

}  // namespace amflow::scalar
