// The plane of a two-class memory. With u = u_0 - u_1, every margin of W is +-u^T W e_x =
// +-gamma . e_x for gamma = W^T u (the authors' gamma_i = W[i,0] - W[i,1], their W being our
// transpose), and W = u gamma^T / |u|^2 reaches every gamma: the loss and the 0-1 loss are
// functions on R^d. With d = 2 the lines gamma . e_x = 0 cut the plane into sign regions, on each
// of which the 0-1 loss is constant. Used by `amflow landscape` and P9's claim.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "amflow/model/quantities.hpp"

namespace amflow::model {

// The memory at gamma: W = u gamma^T / |u|^2 (d x d), u = u_0 - u_1. Needs two classes, u != 0.
template <class Real>
matrix<Real> plane_memory(const problem<Real>& pb, const vector<Real>& gamma) {
  const vector<Real> u = (pb.U.row(0) - pb.U.row(1)).transpose();
  return u * gamma.transpose() / u.squaredNorm();
}

template <class Real>
struct best_region {
  Real zero_one_loss;  // the least 0-1 loss over the plane
  vector<Real> gamma;  // a unit direction strictly inside a region where it is reached
  int regions = 0;     // the cuts of the circle of directions (2 per embedding, repeats counted)
};

// The least 0-1 loss over the plane (d = 2): the lines gamma . e_x = 0 cut the circle of directions
// at the angles of the normals of e_x; the direction halfway along each arc between consecutive
// cuts is tried (the 0-1 loss is constant on the open region it lies in).
template <class Real>
best_region<Real> best_zero_one_on_plane(const problem<Real>& pb) {
  using std::atan2;
  using std::cos;
  using std::floor;
  using std::sin;
  const Real pi = atan2(Real(0), Real(-1));
  std::vector<Real> cuts;
  for (int x = 0; x < pb.tokens; ++x) {
    if (pb.E(x, 0) == 0 && pb.E(x, 1) == 0) continue;
    const Real a = atan2(pb.E(x, 1), pb.E(x, 0)) + pi / 2;
    for (const Real& c : {a, Real(a + pi)}) cuts.push_back(c - 2 * pi * floor(c / (2 * pi)));
  }
  std::sort(cuts.begin(), cuts.end());
  if (cuts.empty()) cuts.push_back(Real(0));
  best_region<Real> best{Real(2), vector<Real>::Zero(2), static_cast<int>(cuts.size())};
  vector<Real> g(2);
  for (size_t i = 0; i < cuts.size(); ++i) {
    const Real next = i + 1 < cuts.size() ? cuts[i + 1] : Real(cuts[0] + 2 * pi);
    if (!(next > cuts[i])) continue;  // a repeated cut: no arc
    const Real mid = (cuts[i] + next) / 2;
    g << cos(mid), sin(mid);
    const Real err = zero_one_loss(pb, logits(pb, plane_memory(pb, g)));
    if (err < best.zero_one_loss) {
      best.zero_one_loss = err;
      best.gamma = g;
    }
  }
  return best;
}

}  // namespace amflow::model
