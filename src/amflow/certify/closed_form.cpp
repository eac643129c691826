#include "amflow/certify/closed_form.hpp"

#include <algorithm>

namespace amflow::certify {

ball orthogonal_margin(const rational& p, int classes, const rational& tau) {
  const rational a_exact = (p * classes * tau + 1) / (classes - 1);
  // a - W0(...) loses the bits of a's size: log2(a) < (bits of the numerator) - (of the
  // denominator) + 1.
  const long size = std::max<long>(0, static_cast<long>(mp::msb(mp::numerator(a_exact))) -
                                          static_cast<long>(mp::msb(mp::denominator(a_exact))) + 1);
  const precision_scope wider(precision_scope::bits() + size + 16);
  const ball a = ball::of(a_exact);
  const ball w = lambertw(exp(a) / ball(classes - 1));
  return a - w;
}

}  // namespace amflow::certify
