// Layer norm before the unembedding: its logits, gradient and Hessian at 50 digits against finite
// differences of a loss written here from the definition (h = W e_x, o = h / sqrt(|h|^2 + eps),
// z_y = u_y . o, cross-entropy weighted by p) and evaluated at 100 digits with step 1e-25, where
// the differences' truncation (h^2 = 1e-50 times the fourth derivative, up to eps^-2 = 1e10 at
// W = 0) and rounding (1e-100 / h^2 = 1e-50) both sit below the 50-digit results' own rounding.
#include <cmath>
#include <vector>

#include "amflow/model/layer_norm.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using model::matrix;
using testing::num;

// The loss with layer norm, from the definition (no amflow function but the problem's parser).
mpfr_real plain_loss(const model::problem<mpfr_real>& pb, const matrix<mpfr_real>& W,
                     const mpfr_real& eps) {
  using std::exp;
  using std::log;
  using std::sqrt;
  mpfr_real L(0);
  for (int x = 0; x < pb.tokens; ++x) {
    std::vector<mpfr_real> h(pb.dim, mpfr_real(0));
    for (int i = 0; i < pb.dim; ++i) {
      for (int j = 0; j < pb.dim; ++j) h[i] += W(i, j) * pb.E(x, j);
    }
    mpfr_real n2 = eps;
    for (const auto& v : h) n2 += v * v;
    const mpfr_real n = sqrt(n2);
    std::vector<mpfr_real> z(pb.classes, mpfr_real(0));
    for (int y = 0; y < pb.classes; ++y) {
      for (int i = 0; i < pb.dim; ++i) z[y] += pb.U(y, i) * h[i] / n;
    }
    mpfr_real sum(0);
    for (const auto& v : z) sum += exp(v);
    L += pb.p(x) * (log(sum) - z[pb.target[x]]);
  }
  return L;
}

struct layer_norm_case {
  matrix<mpfr_real> G, H;        // at 50 digits, by amflow
  matrix<mpfr_real> fd_G, fd_H;  // at 100 digits, by differences of plain_loss
  int dim = 0;
};

layer_norm_case compute(const nlohmann::json& spec, const std::string& eps_text) {
  layer_norm_case c;
  {
    const scalar::mpfr_digits_scope digits(50);
    const auto pb = io::parse_problem<mpfr_real>(spec);
    const mpfr_real eps = num<mpfr_real>(eps_text);
    const matrix<mpfr_real> Z = model::layer_norm_logits(pb, pb.W0, eps);
    c.G = model::layer_norm_gradient(pb, pb.W0, eps, model::residual(pb, Z));
    c.H = model::layer_norm_hessian(pb, pb.W0, eps);
    c.dim = pb.dim;
  }
  const scalar::mpfr_digits_scope digits(100);
  const auto pb = io::parse_problem<mpfr_real>(spec);
  const mpfr_real eps = num<mpfr_real>(eps_text);
  const mpfr_real h = num<mpfr_real>("1e-25");
  const int d = pb.dim;
  const auto at = [&](int a, const mpfr_real& da, int b, const mpfr_real& db) {
    matrix<mpfr_real> W = pb.W0;
    if (a >= 0) W(a % d, a / d) += da;  // vec(W) column-major: entry a = (a % d, a / d)
    if (b >= 0) W(b % d, b / d) += db;
    return plain_loss(pb, W, eps);
  };
  c.fd_G.resize(d, d);
  c.fd_H.resize(d * d, d * d);
  for (int a = 0; a < d * d; ++a) {
    c.fd_G(a % d, a / d) = (at(a, h, -1, h) - at(a, -h, -1, h)) / (2 * h);
    for (int b = 0; b < d * d; ++b) {
      c.fd_H(a, b) =
          (at(a, h, b, h) - at(a, h, b, -h) - at(a, -h, b, h) + at(a, -h, b, -h)) / (4 * h * h);
    }
  }
  return c;
}

// max |A - B| / max |B|, A at 50 digits and B at 100 digits, compared at 100 digits.
double relative_gap(const matrix<mpfr_real>& A, const matrix<mpfr_real>& B) {
  const scalar::mpfr_digits_scope digits(100);
  mpfr_real worst(0), size(0);
  for (Eigen::Index i = 0; i < B.rows(); ++i) {
    for (Eigen::Index j = 0; j < B.cols(); ++j) {
      using std::abs;
      worst = std::max(worst, mpfr_real(abs(mpfr_real(A(i, j)) - B(i, j))));
      size = std::max(size, mpfr_real(abs(B(i, j))));
    }
  }
  return static_cast<double>(mpfr_real(worst / size));
}

// A random W (scale 1.5) with a small and the default epsilon, and W = 0, where the hidden state
// is 0, J = I / sqrt(eps) and the gradient is large.
TEST(layer_norm, gradient_and_hessian_match_finite_differences_at_50_digits) {
  for (const auto& [scale, eps] : std::vector<std::pair<std::string, std::string>>{
           {"1.5", "1e-5"}, {"1.5", "0.25"}, {"0", "1e-5"}}) {
    auto spec = testing::correlated_spec(5, 3, 4, 7, scale == "0" ? "1" : scale);
    if (scale == "0") spec["init"] = {{"kind", "zero"}};
    const layer_norm_case c = compute(spec, eps);
    const double g = relative_gap(c.G, c.fd_G), hs = relative_gap(c.H, c.fd_H);
    EXPECT_LT(g, 1e-44) << "W scale " << scale << ", eps " << eps;
    EXPECT_LT(hs, 1e-44) << "W scale " << scale << ", eps " << eps;
    std::cout << "[ measured ] W scale " << scale << ", eps " << eps << ": gradient vs differences "
              << g << ", Hessian " << hs << "\n";
  }
}

// |o_x| < 1, so every margin is below max_y |u_f*(x) - u_y| whatever W: at W = 1e6 W0 the logits
// are those of the direction of W e_x.
TEST(layer_norm, logits_are_the_unembedding_of_a_vector_shorter_than_one) {
  const auto pb = io::parse_problem<double>(testing::correlated_spec(5, 3, 4, 3, "1"));
  const matrix<double> W = 1e6 * pb.W0;
  const matrix<double> Z = model::layer_norm_logits(pb, W, 1e-5);
  for (int x = 0; x < pb.tokens; ++x) {
    const Eigen::VectorXd h = W * pb.E.row(x).transpose();
    const Eigen::VectorXd o = h / std::sqrt(h.squaredNorm() + 1e-5);
    for (int y = 0; y < pb.classes; ++y) {
      EXPECT_NEAR(Z(x, y), pb.U.row(y).dot(o), 1e-15);
    }
  }
  EXPECT_THROW(model::layer_norm_logits(pb, W, 0.0), input_error);
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
