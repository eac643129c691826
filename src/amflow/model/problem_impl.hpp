// Definitions for problem.hpp: included where its templates are instantiated (the per-scalar units
// that cmake/AmflowInstantiate.cmake generates, or a test or bench for scalar types of its own);
// other code sees the extern declarations.
#pragma once

#include <string>

#include "amflow/errors.hpp"
#include "amflow/model/problem.hpp"
#include "amflow/scalar/types.hpp"

namespace amflow::model {

template <class Real>
problem<Real> make_problem(matrix<Real> E, matrix<Real> U, vector<Real> p, std::vector<int> target,
                           matrix<Real> W0, matrix<Real> C) {
  problem<Real> pb;
  pb.tokens = static_cast<int>(E.rows());
  pb.classes = static_cast<int>(U.rows());
  pb.dim = static_cast<int>(E.cols());
  auto shape = [](const auto& m) {
    return std::to_string(m.rows()) + " x " + std::to_string(m.cols());
  };
  if (pb.tokens < 1) throw input_error("tokens", std::to_string(pb.tokens), "must be >= 1");
  if (pb.classes < 2) throw input_error("classes", std::to_string(pb.classes), "must be >= 2");
  if (pb.dim < 1) throw input_error("dim", std::to_string(pb.dim), "must be >= 1");
  if (U.cols() != pb.dim) {
    throw input_error("outputs", shape(U), "rows must have dim = " + std::to_string(pb.dim));
  }
  if (p.size() != pb.tokens) {
    throw input_error("frequencies.p", std::to_string(p.size()) + " values",
                      "needs tokens = " + std::to_string(pb.tokens));
  }
  if (static_cast<int>(target.size()) != pb.tokens) {
    throw input_error("target", std::to_string(target.size()) + " values",
                      "needs tokens = " + std::to_string(pb.tokens));
  }
  for (int x = 0; x < pb.tokens; ++x) {
    if (target[x] < 0 || target[x] >= pb.classes) {
      throw input_error("target[" + std::to_string(x) + "]", std::to_string(target[x]),
                        "must be in [0, " + std::to_string(pb.classes - 1) + "]");
    }
  }
  if (W0.rows() != pb.dim || W0.cols() != pb.dim) {
    throw input_error(
        "init.W", shape(W0),
        "must be dim x dim = " + std::to_string(pb.dim) + " x " + std::to_string(pb.dim));
  }
  if (C.size() != 0 && (C.rows() != pb.tokens || C.cols() != pb.classes)) {
    throw input_error("offsets.rows", shape(C),
                      "must be tokens x classes = " + std::to_string(pb.tokens) + " x " +
                          std::to_string(pb.classes));
  }
  if (C.size() != 0 && (C.array() == Real(0)).all()) C.resize(0, 0);
  pb.E = std::move(E);
  pb.U = std::move(U);
  pb.p = std::move(p);
  pb.target = std::move(target);
  pb.W0 = std::move(W0);
  pb.C = std::move(C);
  // A Gram matrix that is not formed (n > 2 d) has rank at most d < n: never the identity.
  if (forms_gram(pb.tokens, pb.dim)) {
    pb.G_E = pb.E * pb.E.transpose();
    pb.G_E_identity = pb.G_E == matrix<Real>::Identity(pb.tokens, pb.tokens);
  }
  if (forms_gram(pb.classes, pb.dim)) {
    pb.G_U = pb.U * pb.U.transpose();
    pb.G_U_identity = pb.G_U == matrix<Real>::Identity(pb.classes, pb.classes);
  }
  pb.Y = matrix<Real>::Zero(pb.tokens, pb.classes);
  for (int x = 0; x < pb.tokens; ++x) pb.Y(x, pb.target[x]) = Real(1);
  pb.Z0 = pb.E * pb.W0.transpose() * pb.U.transpose();
  if (pb.has_offsets()) pb.Z0 += pb.C;
  // Every run starts from these: an overflow here (rows of size 1e200 in double) would make every
  // later number NaN or infinite.
  const auto finite = [](const matrix<Real>& A) {
    for (Eigen::Index i = 0; i < A.size(); ++i) {
      if (!scalar::is_finite(A.data()[i])) return false;
    }
    return true;
  };
  const std::string overflow = " overflows " + scalar::name<Real>() +
                               "; rescale the embeddings or use a wider type (more digits)";
  // Unformed: |e_x . e_x'| <= max(|e_x|^2, |e_x'|^2), so finite squared row norms bound every
  // entry.
  const auto gram_finite = [&](const matrix<Real>& F, const matrix<Real>& G) {
    if (G.size() != 0) return finite(G);
    for (Eigen::Index i = 0; i < F.rows(); ++i) {
      if (!scalar::is_finite(Real(F.row(i).squaredNorm()))) return false;
    }
    return true;
  };
  if (!finite(pb.E) || !gram_finite(pb.E, pb.G_E)) {
    throw input_error("inputs", "E", "E E^T" + overflow);
  }
  if (!finite(pb.U) || !gram_finite(pb.U, pb.G_U)) {
    throw input_error("outputs", "U", "U U^T" + overflow);
  }
  if (pb.has_offsets() && !finite(pb.C)) {
    throw input_error("offsets", "C", "an offset" + overflow);
  }
  if (!finite(pb.W0) || !finite(pb.Z0)) {
    throw input_error("init", "W0", "the initial logits E W0^T U^T" + overflow);
  }
  pb.zero_init = (pb.W0.array() == Real(0)).all();
  return pb;
}

}  // namespace amflow::model
