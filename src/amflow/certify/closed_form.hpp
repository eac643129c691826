// P1's closed form, enclosed. On an orthogonal problem (orthonormal embeddings, W0 = 0, M classes)
// the gradient flow's margin of a token with frequency p is the root m of
//   e^m + (M - 1) m = p M tau + 1,
// unique since the left side increases strictly. With a = (p M tau + 1) / (M - 1) and m = a - w the
// equation becomes e^a e^-w = (M - 1) w, i.e. w e^w = e^a / (M - 1), so
//   m = a - W0(e^a / (M - 1))
// with W0 the principal branch of Lambert's W (its argument is positive). Arb encloses W0
// rigorously; a - w cancels about log2(a) bits, which are added to the working precision.
#pragma once

#include "amflow/certify/ball.hpp"

namespace amflow::certify {

// A ball containing m_x(tau), at the precision in force (plus the bits the cancellation costs).
ball orthogonal_margin(const rational& p, int classes, const rational& tau);

}  // namespace amflow::certify
