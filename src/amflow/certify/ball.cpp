#include "amflow/certify/ball.hpp"

#include <arb.h>
#include <flint/fmpq.h>
#include <mpfr.h>

#include <cmath>
#include <vector>

namespace amflow::certify {
namespace {

thread_local long current_bits = 128;

// A bound of the ball as a decimal numeral rounded in direction `rnd` (MPFR_RNDD or MPFR_RNDU).
std::string bound_text(const arf_t bound, int digits, mpfr_rnd_t rnd) {
  if (arf_is_nan(bound)) return "nan";
  if (arf_is_pos_inf(bound)) return "inf";
  if (arf_is_neg_inf(bound)) return "-inf";
  // The bound is exact in its own bits; mpfr prints it rounded as asked (outward for a bound) to
  // `digits` digits.
  const slong bits = std::max<slong>(arf_bits(bound), 2);
  mpfr_t x;
  mpfr_init2(x, bits);
  arf_get_mpfr(x, bound, MPFR_RNDN);  // exact: x has the bound's bits
  std::vector<char> buf(static_cast<size_t>(digits) + 64);
  const char* format = rnd == MPFR_RNDD ? "%.*RDe" : rnd == MPFR_RNDN ? "%.*RNe" : "%.*RUe";
  mpfr_snprintf(buf.data(), buf.size(), format, digits - 1, x);
  mpfr_clear(x);
  return buf.data();
}

}  // namespace

precision_scope::precision_scope(long bits) : previous_(current_bits) { current_bits = bits; }
precision_scope::~precision_scope() { current_bits = previous_; }
long precision_scope::bits() { return current_bits; }

long bits_for_digits(int digits) {
  return static_cast<long>(std::ceil(digits * 3.321928094887362)) + 8;
}

ball::ball() { arb_init(v_); }
ball::ball(long v) {
  arb_init(v_);
  arb_set_si(v_, v);
}
ball::ball(const ball& other) {
  arb_init(v_);
  arb_set(v_, other.v_);
}
ball::ball(ball&& other) noexcept {
  arb_init(v_);
  arb_swap(v_, other.v_);
}
ball& ball::operator=(const ball& other) {
  if (this != &other) arb_set(v_, other.v_);
  return *this;
}
ball& ball::operator=(ball&& other) noexcept {
  arb_swap(v_, other.v_);
  return *this;
}
ball::~ball() { arb_clear(v_); }

ball ball::of(const rational& q) {
  ball b;
  fmpq_t f;
  fmpq_init(f);
  fmpz_set_mpz(fmpq_numref(f), mp::numerator(q).backend().data());
  fmpz_set_mpz(fmpq_denref(f), mp::denominator(q).backend().data());
  arb_set_fmpq(b.v_, f, precision_scope::bits());
  fmpq_clear(f);
  return b;
}

ball ball::of(const mpfr_real& x) {
  ball b;
  arf_set_mpfr(arb_midref(b.v_), x.backend().data());
  return b;
}

ball ball::between(const ball& lo, const ball& hi) {
  ball b;
  arb_union(b.v_, lo.v_, hi.v_, precision_scope::bits());
  return b;
}

ball ball::abs_upper(const ball& x) {
  ball b;
  arb_get_abs_ubound_arf(arb_midref(b.v_), x.v_, precision_scope::bits());
  return b;
}

ball ball::hull(const ball& a, const ball& b) { return between(a, b); }

void ball::add_error(const ball& e) { arb_add_error(v_, e.v_); }

ball ball::midpoint() const {
  ball b;
  arb_get_mid_arb(b.v_, v_);
  return b;
}

ball& ball::operator+=(const ball& b) {
  arb_add(v_, v_, b.v_, precision_scope::bits());
  return *this;
}
ball& ball::operator-=(const ball& b) {
  arb_sub(v_, v_, b.v_, precision_scope::bits());
  return *this;
}
ball& ball::operator*=(const ball& b) {
  arb_mul(v_, v_, b.v_, precision_scope::bits());
  return *this;
}
ball& ball::operator/=(const ball& b) {
  arb_div(v_, v_, b.v_, precision_scope::bits());
  return *this;
}

ball operator+(ball a, const ball& b) { return a += b; }
ball operator-(ball a, const ball& b) { return a -= b; }
ball operator*(ball a, const ball& b) { return a *= b; }
ball operator/(ball a, const ball& b) { return a /= b; }
ball operator-(const ball& a) {
  ball r;
  arb_neg(r.raw(), a.raw());
  return r;
}

bool ball::contains(const rational& q) const {
  fmpq_t f;
  fmpq_init(f);
  fmpz_set_mpz(fmpq_numref(f), mp::numerator(q).backend().data());
  fmpz_set_mpz(fmpq_denref(f), mp::denominator(q).backend().data());
  const bool in = arb_contains_fmpq(v_, f) != 0;
  fmpq_clear(f);
  return in;
}

bool ball::below(const rational& q) const { return arb_lt(v_, of(q).v_) != 0; }

bool ball::contains(const ball& inner) const { return arb_contains(v_, inner.v_) != 0; }

double ball::radius() const { return mag_get_d(arb_radref(v_)); }

bool ball::radius_below(const rational& q) const {
  ball r;
  arb_get_rad_arb(r.v_, v_);
  return r.below(q);
}

std::string ball::lower(int digits) const {
  arf_t bound;
  arf_init(bound);
  arb_get_lbound_arf(bound, v_, arf_bits(arb_midref(v_)) + 64);
  std::string s = bound_text(bound, digits, MPFR_RNDD);
  arf_clear(bound);
  return s;
}

std::string ball::upper(int digits) const {
  arf_t bound;
  arf_init(bound);
  arb_get_ubound_arf(bound, v_, arf_bits(arb_midref(v_)) + 64);
  std::string s = bound_text(bound, digits, MPFR_RNDU);
  arf_clear(bound);
  return s;
}

std::string ball::mid_text(int digits) const {
  return bound_text(arb_midref(v_), digits, MPFR_RNDN);
}

std::string ball::radius_text(int digits) const {
  if (mag_is_zero(arb_radref(v_))) return "0";
  arf_t r;
  arf_init(r);
  arf_set_mag(r, arb_radref(v_));
  std::string s = bound_text(r, digits, MPFR_RNDU);
  arf_clear(r);
  return s;
}

std::string ball::text(int digits) const {
  char* s = arb_get_str(v_, digits, 0);
  std::string out(s);
  flint_free(s);
  return out;
}

namespace {

// Arb's function f(result, args..., precision) at the precision in force.
template <class F, class... Args>
ball apply(F f, const Args&... args) {
  ball r;
  f(r.raw(), args.raw()..., precision_scope::bits());
  return r;
}

}  // namespace

ball exp(const ball& x) { return apply(arb_exp, x); }
ball log(const ball& x) { return apply(arb_log, x); }
ball log1p(const ball& x) { return apply(arb_log1p, x); }
ball sqrt(const ball& x) { return apply(arb_sqrt, x); }
ball lambertw(const ball& x) {
  return apply([](arb_ptr r, arb_srcptr v, slong prec) { arb_lambertw(r, v, 0, prec); }, x);
}
ball cos(const ball& x) { return apply(arb_cos, x); }
ball sin(const ball& x) { return apply(arb_sin, x); }
ball pow(const ball& x, const ball& y) { return apply(arb_pow, x, y); }
ball pi() { return apply(arb_const_pi); }
ball min(const ball& a, const ball& b) { return apply(arb_min, a, b); }

sign_of sign(const ball& x) {
  if (arb_is_zero(x.raw())) return sign_of::zero;
  if (arb_is_positive(x.raw())) return sign_of::positive;
  if (arb_is_negative(x.raw())) return sign_of::negative;
  return sign_of::undecided;
}

std::string sign_name(sign_of s) {
  switch (s) {
    case sign_of::negative:
      return "negative";
    case sign_of::zero:
      return "zero";
    case sign_of::positive:
      return "positive";
    case sign_of::undecided:
      return "undecided";
  }
  return "?";
}

}  // namespace amflow::certify
