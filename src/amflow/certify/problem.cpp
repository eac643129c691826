#include "amflow/certify/problem.hpp"

#include "amflow/io/problem_io_impl.hpp"

namespace amflow::certify {
namespace {

using json = nlohmann::json;
using matrix = std::vector<ball>;  // row-major

ball exact(const json& v) { return ball::of(io::detail::exact_at(v, "")); }

// Rows x cols of the seeded double-precision normals (exact binary numbers).
matrix normals(std::uint64_t seed, int rows, int cols) {
  const std::vector<double> g = model::standard_normals(seed, static_cast<size_t>(rows) * cols);
  matrix A(g.size());
  for (size_t i = 0; i < g.size(); ++i) A[i] = ball::of(rational(g[i]));
  return A;
}

matrix embeddings(const json& obj, int count, int dim) {
  const std::string kind = obj.at("kind").get<std::string>();
  matrix E(static_cast<size_t>(count) * dim);
  if (kind == "orthonormal") {
    for (int i = 0; i < count; ++i) E[i * dim + i] = ball(1);
  } else if (kind == "explicit") {
    for (int i = 0; i < count; ++i) {
      for (int j = 0; j < dim; ++j) E[i * dim + j] = exact(obj.at("rows").at(i).at(j));
    }
  } else if (kind == "pair") {
    const ball alpha = exact(obj.at("alpha"));
    E[0] = ball(1);
    E[dim] = alpha;
    E[dim + 1] = sqrt(ball(1) - alpha * alpha);
  } else if (kind == "angles") {
    const ball to_radians = pi() / ball(180);
    for (int i = 0; i < count; ++i) {
      const ball t = exact(obj.at("degrees").at(i)) * to_radians;
      E[i * dim] = cos(t);
      E[i * dim + 1] = sin(t);
    }
  } else {  // sphere or gaussian
    E = normals(io::detail::seed_at(obj, ""), count, dim);
    for (int i = 0; i < count; ++i) {
      ball norm2;
      for (int j = 0; j < dim; ++j) norm2 += E[i * dim + j] * E[i * dim + j];
      const ball scale = kind == "gaussian" ? sqrt(ball(dim)) : sqrt(norm2);
      for (int j = 0; j < dim; ++j) E[i * dim + j] /= scale;
    }
  }
  return E;
}

// A A^T for A (n x d).
matrix gram(const matrix& A, int n, int d) {
  matrix G(static_cast<size_t>(n) * n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j <= i; ++j) {
      ball s;
      for (int k = 0; k < d; ++k) s += A[i * d + k] * A[j * d + k];
      G[i * n + j] = s;
      G[j * n + i] = s;
    }
  }
  return G;
}

}  // namespace

ball_problem ball_problem_of(const json& spec) {
  ball_problem pb;
  const int N = spec.at("tokens").get<int>();
  const int M = spec.at("classes").get<int>();
  const int d = spec.at("dim").get<int>();
  pb.tokens = N;
  pb.classes = M;
  const matrix E = embeddings(spec.at("inputs"), N, d);
  const matrix U = embeddings(spec.at("outputs"), M, d);
  pb.G_E = gram(E, N, d);
  pb.G_U = gram(U, M, d);
  if (spec.at("inputs").at("kind") == "pair") {
    // |e_0| = |e_1| = 1 and <e_0, e_1> = alpha exactly (the balls of sqrt(1 - alpha^2) would
    // leave |e_1|^2 = 1 only enclosed, and exact ties undecidable).
    const ball alpha = exact(spec.at("inputs").at("alpha"));
    pb.G_E = {ball(1), alpha, alpha, ball(1)};
  }

  const json& freq = spec.at("frequencies");
  const std::string fkind = freq.at("kind").get<std::string>();
  pb.p.assign(N, ball());
  if (fkind == "uniform") {
    for (int x = 0; x < N; ++x) pb.p[x] = ball::of(rational(1, N));
  } else if (fkind == "zipf") {
    const ball a = -exact(freq.at("exponent"));
    ball sum;
    for (int x = 0; x < N; ++x) sum += pb.p[x] = pow(ball(x + 1), a);
    for (auto& px : pb.p) px /= sum;
  } else {
    rational total(0);
    std::vector<rational> q(N);
    for (int x = 0; x < N; ++x) total += q[x] = io::detail::exact_at(freq.at("p").at(x), "");
    const bool normalize = freq.contains("normalize") && freq.at("normalize").get<bool>();
    for (int x = 0; x < N; ++x) pb.p[x] = ball::of(normalize ? rational(q[x] / total) : q[x]);
  }
  pb.target = io::detail::target_map(spec, N, M);

  // Z0 = C + E W0^T U^T: z_xy = c_xy + u_y^T W0 e_x.
  pb.Z0.assign(static_cast<size_t>(N) * M, ball());
  const json& init = spec.at("init");
  const std::string ikind = init.at("kind").get<std::string>();
  // Plus the logit offsets, exact as written.
  if (spec.contains("offsets") && spec.at("offsets").at("kind") == "explicit") {
    const json& rows = spec.at("offsets").at("rows");
    for (int x = 0; x < N; ++x) {
      for (int y = 0; y < M; ++y) pb.Z0[x * M + y] = exact(rows.at(x).at(y));
    }
  }
  if (ikind == "zero") return pb;
  matrix W(static_cast<size_t>(d) * d);
  if (ikind == "explicit") {
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) W[i * d + j] = exact(init.at("W").at(i).at(j));
    }
  } else {
    W = normals(io::detail::seed_at(init, ""), d, d);
    const ball scale = exact(init.at("scale")) / sqrt(ball(d));
    for (auto& w : W) w *= scale;
  }
  for (int x = 0; x < N; ++x) {
    std::vector<ball> We(d);  // W0 e_x
    for (int i = 0; i < d; ++i) {
      for (int k = 0; k < d; ++k) We[i] += W[i * d + k] * E[x * d + k];
    }
    for (int y = 0; y < M; ++y) {
      ball s;
      for (int i = 0; i < d; ++i) s += U[y * d + i] * We[i];
      pb.Z0[x * M + y] += s;
    }
  }
  return pb;
}

std::vector<ball> ball_embeddings(const json& spec, bool inputs) {
  return embeddings(spec.at(inputs ? "inputs" : "outputs"),
                    spec.at(inputs ? "tokens" : "classes").get<int>(), spec.at("dim").get<int>());
}

bool is_identity(const std::vector<ball>& G, int n) {
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      const ball& g = G[i * n + j];
      if (!g.is_exact() || !g.contains(rational(i == j ? 1 : 0))) return false;
    }
  }
  return true;
}

ball smallest_eigenvalue_bound(const std::vector<ball>& G, int n) {
  if (is_identity(G, n)) return ball(1);
  // Try mu = 2^-k (the largest that passes), from 1/2 down: enough for a norm bound, which only
  // needs mu within a small factor of the true smallest eigenvalue.
  for (int k = 1; k <= 60; ++k) {
    ball mu = ball::of(rational(1, mp::pow(mp::mpz_int(2), static_cast<unsigned>(k))));
    std::vector<ball> L(static_cast<size_t>(n) * n);
    bool ok = true;
    for (int j = 0; j < n && ok; ++j) {
      ball s = G[j * n + j] - mu;
      for (int k2 = 0; k2 < j; ++k2) s -= L[j * n + k2] * L[j * n + k2];
      if (sign(s) != sign_of::positive) {
        ok = false;
        break;
      }
      L[j * n + j] = sqrt(s);
      for (int i = j + 1; i < n; ++i) {
        ball t = G[i * n + j];
        for (int k2 = 0; k2 < j; ++k2) t -= L[i * n + k2] * L[j * n + k2];
        L[i * n + j] = t / L[j * n + j];
      }
    }
    if (ok) return mu;
  }
  return ball();
}

}  // namespace amflow::certify
