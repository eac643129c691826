// Ball arithmetic (Arb): a ball [m +- r] provably contains the value it stands for, and every
// operation's result contains every exact result of its arguments' values. A small RAII layer over
// Arb's C API, holding only what amflow's certificates use. The working precision (the midpoint's
// bits) is held by precision_scope objects, the innermost one in force, per thread: never a
// process-wide setting changed behind a caller's back.
#pragma once

#include <arb.h>

#include <string>

#include "amflow/scalar/types.hpp"

namespace amflow::certify {

class precision_scope {
 public:
  explicit precision_scope(long bits);
  ~precision_scope();
  precision_scope(const precision_scope&) = delete;
  precision_scope& operator=(const precision_scope&) = delete;
  // The bits of the innermost scope of this thread (128 outside any scope).
  static long bits();

 private:
  long previous_;
};

// Bits for a decimal precision: ceil(digits log2 10) + 8 guard bits.
long bits_for_digits(int digits);

class ball {
 public:
  ball();                 // exactly 0
  explicit ball(long v);  // exactly v
  ball(const ball& other);
  ball(ball&& other) noexcept;
  ball& operator=(const ball& other);
  ball& operator=(ball&& other) noexcept;
  ~ball();

  // A ball containing q (exact when q is a dyadic number the precision holds).
  static ball of(const rational& q);
  // Exactly x (a binary number: the ball has x's bits, whatever the precision in force).
  static ball of(const mpfr_real& x);
  // The ball [lo, hi] (lo <= hi, both exact), rounded outward.
  static ball between(const ball& lo, const ball& hi);
  // An exact ball (radius 0) at an upper bound of |x|; +inf when x is not finite.
  static ball abs_upper(const ball& x);
  // The union hull of two balls.
  static ball hull(const ball& a, const ball& b);

  arb_ptr raw() { return v_; }
  arb_srcptr raw() const { return v_; }

  ball& operator+=(const ball& b);
  ball& operator-=(const ball& b);
  ball& operator*=(const ball& b);
  ball& operator/=(const ball& b);

  bool contains(const rational& q) const;
  // Whether every value of the ball is below q (certainly: false when undecided).
  bool below(const rational& q) const;
  // Whether every value of `inner` is in this ball.
  bool contains(const ball& inner) const;
  // Widens the ball by e (>= 0, its upper bound taken): every value within e of one of the ball's
  // values is in the result.
  void add_error(const ball& e);
  // The midpoint as an exact ball (radius 0): a point, no longer an enclosure.
  ball midpoint() const;
  bool is_finite() const { return arb_is_finite(v_) != 0; }
  bool is_exact() const { return arb_is_exact(v_) != 0; }
  // An upper bound on the radius, as a double (rounded up; 0 below double's range).
  double radius() const;
  // Whether the radius is below q (exactly, whatever its size).
  bool radius_below(const rational& q) const;
  // Bounds as decimal numerals with `digits` significant digits, rounded outward: every value of
  // the ball lies in [lower(), upper()].
  std::string lower(int digits) const;
  std::string upper(int digits) const;
  // The midpoint to `digits` significant digits (rounded to nearest: a reading, not a bound) and
  // an upper bound of the radius with `digits` significant digits (rounded up; "0" for an exact
  // ball): together, value +/- radius as a table shows it.
  std::string mid_text(int digits) const;
  std::string radius_text(int digits) const;
  // Arb's own rendering, "[m +/- r]".
  std::string text(int digits) const;

 private:
  arb_t v_;
};

ball operator+(ball a, const ball& b);
ball operator-(ball a, const ball& b);
ball operator*(ball a, const ball& b);
ball operator/(ball a, const ball& b);
ball operator-(const ball& a);

ball exp(const ball& x);
ball log(const ball& x);
ball log1p(const ball& x);
ball sqrt(const ball& x);
// The principal branch W0 of Lambert's W (w e^w = x, x >= -1/e).
ball lambertw(const ball& x);
ball cos(const ball& x);
ball sin(const ball& x);
ball pow(const ball& x, const ball& y);  // x^y, x > 0
ball pi();
ball min(const ball& a, const ball& b);

// The sign of a ball: negative or positive when the ball excludes 0, zero when it is exactly 0,
// undecided when it contains 0 and other values. A certificate must never read undecided as a sign.
enum class sign_of { negative, zero, positive, undecided };
sign_of sign(const ball& x);
std::string sign_name(sign_of s);

}  // namespace amflow::certify
