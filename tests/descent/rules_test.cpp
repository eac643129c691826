// The update rules against a plain loop on W written here from their formulas (PyTorch's
// conventions), with logits, softmax and gradient by explicit sums; Adam with betas (0, 0) and
// epsilon 0 against sign descent; sign descent's exact margins on orthonormal embeddings; the
// refusals and the undefined steps.
#include <algorithm>
#include <cmath>
#include <vector>

#include "amflow/descent/descent.hpp"
#include "amflow/errors.hpp"
#include "amflow/io/problem_io.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using descent::rule_kind;

template <class Real>
class rules_test : public testing::real_test<Real> {};
TYPED_TEST_SUITE(rules_test, testing::scalar_types, testing::scalar_names);

template <class Real>
model::problem<Real> named(const std::string& name) {
  return io::parse_problem<Real>(io::named_problem(name));
}

template <class Real>
using grid = std::vector<std::vector<Real>>;

// How closely two computations of the same run agree, relative: 1e-13 in double, 1e-16 in long
// double, 1e-29 in float128, 1e-45 at 50 digits.
template <class Real>
double agreement_bound() {
  if constexpr (std::is_same_v<Real, long double>) return 1e-16;
  if constexpr (is_float128_v<Real>) return 1e-29;
  if constexpr (is_mpfr_v<Real>) return 1e-45;
  return 1e-13;
}

// grad L(W)_ij = sum_x p(x) sum_y (softmax(z_x)_y - [y = f*(x)]) u_y(i) e_x(j), with
// z_xy = sum_ij u_y(i) W_ij e_x(j). With layer norm (ln_eps > 0): h = W e_x, n = sqrt(|h|^2 +
// eps), z_xy = u_y . h / n, and the sum over y gives v = sum_y r_y u_y, taken through
// d(h / n)/dh: grad_ij = sum_x ((v - h (h . v) / n^2) / n)_i e_x(j).
template <class Real>
grid<Real> plain_gradient(const model::problem<Real>& pb, const grid<Real>& W,
                          const Real& ln_eps = Real(0),
                          const std::vector<Real>* weights = nullptr) {
  using std::exp;
  using std::sqrt;
  const int d = pb.dim;
  grid<Real> G(d, std::vector<Real>(d, Real(0)));
  for (int x = 0; x < pb.tokens; ++x) {
    std::vector<Real> h(d, Real(0));
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) h[i] += W[i][j] * pb.E(x, j);
    }
    Real n(1);
    if (ln_eps > 0) {
      Real n2 = ln_eps;
      for (const Real& v : h) n2 += v * v;
      n = sqrt(n2);
    }
    std::vector<Real> z(pb.classes, Real(0));
    for (int y = 0; y < pb.classes; ++y) {
      for (int i = 0; i < d; ++i) z[y] += pb.U(y, i) * h[i] / n;
    }
    Real top = z[0];
    for (const Real& v : z) top = v > top ? v : top;
    Real sum(0);
    for (Real& v : z) sum += (v = exp(Real(v - top)));
    std::vector<Real> v(d, Real(0));
    for (int y = 0; y < pb.classes; ++y) {
      const Real px = weights ? (*weights)[x] : Real(pb.p(x));
      const Real r = px * (z[y] / sum - (y == pb.target[x] ? Real(1) : Real(0)));
      for (int i = 0; i < d; ++i) v[i] += r * pb.U(y, i);
    }
    if (ln_eps > 0) {
      Real hv(0);
      for (int i = 0; i < d; ++i) hv += h[i] * v[i];
      for (int i = 0; i < d; ++i) v[i] = (v[i] - h[i] * hv / (n * n)) / n;
    }
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) G[i][j] += v[i] * pb.E(x, j);
    }
  }
  return G;
}

// One rule's state for one parameter matrix, and its direction from the gradient G at step k = 1,
// 2, ..., each written from its formula.
template <class Real>
struct plain_rule {
  descent::rule_options<Real> o;
  grid<Real> b, m, v;
  Real beta1_k = Real(1), beta2_k = Real(1);

  grid<Real> direction(const grid<Real>& G) {
    using std::sqrt;
    const size_t rows = G.size(), cols = G[0].size();
    if (b.empty()) b = m = v = grid<Real>(rows, std::vector<Real>(cols, Real(0)));
    Real norm2(0), mean(0);
    for (const auto& row : G) {
      for (const Real& g : row) norm2 += g * g, mean += g;
    }
    mean /= Real(rows * cols);
    Real var(0);
    for (const auto& row : G) {
      for (const Real& g : row) var += (g - mean) * (g - mean);
    }
    const Real sd = sqrt(Real(var / Real(rows * cols - 1)));
    beta1_k *= o.beta1;
    beta2_k *= o.beta2;
    grid<Real> D(rows, std::vector<Real>(cols, Real(0)));
    for (size_t i = 0; i < rows; ++i) {
      for (size_t j = 0; j < cols; ++j) {
        const Real g = G[i][j];
        switch (o.kind) {
          case rule_kind::gd:
            D[i][j] = g;
            break;
          case rule_kind::momentum:
            b[i][j] = o.momentum * b[i][j] + g;
            D[i][j] = b[i][j];
            break;
          case rule_kind::nesterov:
            b[i][j] = o.momentum * b[i][j] + g;
            D[i][j] = g + o.momentum * b[i][j];
            break;
          case rule_kind::normalized:
            D[i][j] = g / sqrt(norm2);
            break;
          case rule_kind::sign:
            D[i][j] = g > 0 ? Real(1) : g < 0 ? Real(-1) : Real(0);
            break;
          case rule_kind::rescaled:
            D[i][j] = g / sd;
            break;
          case rule_kind::adam: {
            m[i][j] = o.beta1 * m[i][j] + (1 - o.beta1) * g;
            v[i][j] = o.beta2 * v[i][j] + (1 - o.beta2) * g * g;
            const Real mh = o.bias_correction ? Real(m[i][j] / (1 - beta1_k)) : m[i][j];
            const Real vh = o.bias_correction ? Real(v[i][j] / (1 - beta2_k)) : v[i][j];
            D[i][j] = mh / (sqrt(vh) + o.epsilon);
            break;
          }
        }
      }
    }
    return D;
  }
};

template <class Real>
grid<Real> to_grid(const model::matrix<Real>& X) {
  grid<Real> g(X.rows(), std::vector<Real>(X.cols()));
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    for (Eigen::Index j = 0; j < X.cols(); ++j) g[i][j] = X(i, j);
  }
  return g;
}

// max |X - Y| / max |Y| and max |Y| for a memory against a grid (Y the plain loop's).
template <class Real>
std::pair<double, double> gap_and_size(const model::matrix<Real>& X, const grid<Real>& Y) {
  using std::abs;
  using std::max;
  Real worst(0), size(0);
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    for (Eigen::Index j = 0; j < X.cols(); ++j) {
      worst = max(worst, Real(abs(Real(X(i, j) - Y[i][j]))));
      size = max(size, Real(abs(Y[i][j])));
    }
  }
  return {static_cast<double>(Real(worst / size)), static_cast<double>(size)};
}

// X Y for grids.
template <class Real>
grid<Real> times(const grid<Real>& X, const grid<Real>& Y, bool transpose_x = false,
                 bool transpose_y = false) {
  const size_t n = transpose_x ? X[0].size() : X.size();
  const size_t inner = transpose_x ? X.size() : X[0].size();
  const size_t m = transpose_y ? Y.size() : Y[0].size();
  grid<Real> P(n, std::vector<Real>(m, Real(0)));
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < m; ++j) {
      for (size_t k = 0; k < inner; ++k) {
        P[i][j] += (transpose_x ? X[k][i] : X[i][k]) * (transpose_y ? Y[j][k] : Y[k][j]);
      }
    }
  }
  return P;
}

// K steps of a rule on W from W0.
template <class Real>
grid<Real> plain_run(const model::problem<Real>& pb, const descent::rule_options<Real>& o,
                     const Real& eta, long K, const Real& ln_eps = Real(0)) {
  grid<Real> W = to_grid<Real>(pb.W0);
  plain_rule<Real> rule{o};
  for (long k = 1; k <= K; ++k) {
    const grid<Real> D = rule.direction(plain_gradient(pb, W, ln_eps));
    for (size_t i = 0; i < W.size(); ++i) {
      for (size_t j = 0; j < W.size(); ++j) W[i][j] -= eta * D[i][j];
    }
  }
  return W;
}

// K steps of a rule on W = A B from A0, B0: dL/dA = G B^T, dL/dB = A^T G, each factor with its own
// rule state. Returns A and B.
template <class Real>
std::pair<grid<Real>, grid<Real>> plain_factorised_run(const model::problem<Real>& pb,
                                                       const descent::rule_options<Real>& o,
                                                       const Real& eta, long K, grid<Real> A,
                                                       grid<Real> B) {
  plain_rule<Real> rule_A{o}, rule_B{o};
  for (long k = 1; k <= K; ++k) {
    const grid<Real> G = plain_gradient(pb, times(A, B));
    const grid<Real> DA = rule_A.direction(times(G, B, false, true));
    const grid<Real> DB = rule_B.direction(times(A, G, true, false));
    for (size_t i = 0; i < A.size(); ++i) {
      for (size_t j = 0; j < A[0].size(); ++j) A[i][j] -= eta * DA[i][j];
    }
    for (size_t i = 0; i < B.size(); ++i) {
      for (size_t j = 0; j < B[0].size(); ++j) B[i][j] -= eta * DB[i][j];
    }
  }
  return {A, B};
}

// Every rule, 100 steps on the random-embedding problem (d = 5), agrees with the plain loop:
// to 1e-45 relative at 50 digits, 1e-13 in double (long double 1e-16, float128 1e-29). Rescaled
// descent takes steps of a fixed size whatever |G| (G / std(G)), so near the minimum it keeps
// overshooting and amplifies rounding: it runs at eta = 0.01 (loss 0.59 after 100 steps); at 0.05
// (loss 0.057) the two loops part by 3.3e-11 in double, 1.5e-14 in long double and 1.8e-29 in
// float128, in proportion to epsilon: rounding, not a different formula.
TYPED_TEST(rules_test, every_rule_agrees_with_a_plain_loop_on_W) {
  using Real = TypeParam;
  using std::abs;
  using std::max;
  const auto pb = named<Real>("large-memory");
  const double bound = agreement_bound<Real>();
  for (rule_kind k :
       {rule_kind::gd, rule_kind::momentum, rule_kind::nesterov, rule_kind::normalized,
        rule_kind::sign, rule_kind::rescaled, rule_kind::adam}) {
    for (bool bias : {true, false}) {
      if (!bias && k != rule_kind::adam) continue;
      descent::descent_options<Real> o;
      o.eta = testing::num<Real>(k == rule_kind::rescaled ? "0.01" : "0.05");
      o.steps = 100;
      o.record = false;
      o.rule.kind = k;
      o.rule.momentum = testing::num<Real>("0.8");
      o.rule.bias_correction = bias;
      const grid<Real> W = plain_run(pb, o.rule, o.eta, o.steps);
      // The linear rules run on W and, by default, in particle coordinates (on the residual).
      const bool linear = descent::rule_is_linear(k);
      EXPECT_EQ(o.resolved_space(pb),
                linear ? descent::space_kind::particle : descent::space_kind::weights)
          << descent::rule_name(k);
      for (descent::space_kind space :
           {descent::space_kind::weights, descent::space_kind::particle}) {
        if (space == descent::space_kind::particle && !linear) continue;
        o.space = space;
        const auto r = descent::run(pb, o);
        ASSERT_TRUE(r.ok()) << r.message;
        EXPECT_EQ(r.space, space) << descent::rule_name(k);
        const auto [gap, size] = gap_and_size(r.W, W);
        EXPECT_LT(gap, bound) << descent::rule_name(k) << (bias ? "" : " without bias correction")
                              << " in " << descent::space_name(space) << ", |W| " << size;
        EXPECT_GT(size, 0.1) << descent::rule_name(k);
      }
    }
  }
}

// Three tokens and classes embedded in d = 5 along the first three axes: the gradient is 0 outside
// W's top-left 3 x 3 block, exactly.
template <class Real>
model::problem<Real> embedded_in_five() {
  model::matrix<Real> E = model::matrix<Real>::Zero(3, 5), U = E;
  for (int x = 0; x < 3; ++x) E(x, x) = U(x, x) = Real(1);
  model::vector<Real> p(3);
  p << Real(1) / 2, Real(3) / 10, Real(1) / 5;
  return model::make_problem<Real>(E, U, p, {1, 2, 0}, model::matrix<Real>::Zero(5, 5));
}

// With betas (0, 0) and epsilon = 0, Adam's direction is G ./ sqrt(G.^2), 0 where G is 0: sign
// descent, step for step, to the last bit, on W as on the logits (the problem above has exact
// zeros in its gradient). Not in float128: libquadmath's square root is not correctly rounded
// (sqrt(x * x) != |x| for 5% of random x), so there the two agree to 1e-30 relative.
// The table the commands read (rule_table) and the options the library runs agree: each row's
// name reads back, each parameter has its field, and the defaults the help prints are the fields'
// defaults (parsed at the working precision).
TYPED_TEST(rules_test, the_rule_table_matches_the_options) {
  using Real = TypeParam;
  const descent::rule_options<Real> defaults;
  std::vector<std::string> names;
  for (const descent::rule_info& r : descent::rule_table()) {
    EXPECT_EQ(descent::parse_rule(r.name, "rule"), r.kind);
    EXPECT_EQ(descent::rule_name(r.kind), r.name);
    EXPECT_EQ(std::count(names.begin(), names.end(), r.name), 0) << r.name;
    names.push_back(r.name);
    for (const descent::rule_parameter& p : r.parameters) {
      EXPECT_TRUE(descent::rule_uses(r.kind, p.name));
      descent::rule_options<Real> o;
      if (p.range == descent::parameter_range::on_off) {
        ASSERT_NE(o.on_off(p.name), nullptr) << p.name;
        EXPECT_EQ(*o.on_off(p.name), std::string(p.default_text) == "on") << p.name;
        continue;
      }
      ASSERT_NE(defaults.number(p.name), nullptr) << p.name;
      EXPECT_EQ(*defaults.number(p.name), scalar::parse_real<Real>(p.default_text, p.name))
          << p.name;
    }
  }
  EXPECT_THROW(descent::parse_rule("lion", "rule"), input_error);
}

TYPED_TEST(rules_test, adam_with_betas_zero_is_sign_descent) {
  using Real = TypeParam;
  for (const char* name : {"pair", "large-memory", "embedded"}) {
    const auto pb = std::string(name) == "embedded" ? embedded_in_five<Real>() : named<Real>(name);
    descent::descent_options<Real> o;
    o.eta = testing::num<Real>("0.1");
    o.steps = 60;
    o.weights = true;
    o.rule.kind = rule_kind::sign;
    const auto sign = descent::run(pb, o);
    o.rule.kind = rule_kind::adam;
    o.rule.beta1 = o.rule.beta2 = o.rule.epsilon = Real(0);
    const auto adam = descent::run(pb, o);
    ASSERT_TRUE(sign.ok() && adam.ok());
    ASSERT_EQ(sign.samples.size(), adam.samples.size());
    for (size_t k = 0; k < sign.samples.size(); ++k) {
      const model::matrix<Real>& a = *sign.samples[k].W;
      const model::matrix<Real>& b = *adam.samples[k].W;
      if constexpr (is_float128_v<Real>) {
        const Real scale = a.cwiseAbs().maxCoeff() + 1;
        ASSERT_LT((a - b).cwiseAbs().maxCoeff() / scale, Real(1e-30)) << name << " step " << k;
      } else {
        ASSERT_TRUE(a == b) << name << " step " << k;
        ASSERT_TRUE(sign.samples[k].Z == adam.samples[k].Z) << name << " step " << k;
      }
    }
  }
  // The zeros are there, and stay: sign(0) = 0.
  const auto pb = embedded_in_five<Real>();
  descent::descent_options<Real> o;
  o.rule.kind = rule_kind::sign;
  o.steps = 10;
  const auto r = descent::run(pb, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.W.block(3, 0, 2, 5).cwiseAbs().maxCoeff(), 0);
  EXPECT_EQ(r.W.block(0, 3, 5, 2).cwiseAbs().maxCoeff(), 0);
  EXPECT_GT(r.W.block(0, 0, 3, 3).cwiseAbs().minCoeff(), 0);
}

// Sign descent from W = 0 with the rows of the identity as embeddings: every entry of the
// gradient has the sign of -(2 I - 1 1^T), so W_k = eta k (2 I - 1 1^T) and every margin is exactly
// 2 eta k (while the softmax has not rounded to 1).
TYPED_TEST(rules_test, sign_descent_margins_are_exactly_two_eta_k_on_orthonormal_embeddings) {
  using Real = TypeParam;
  const auto pb = named<Real>("orthogonal");
  descent::descent_options<Real> o;
  o.eta = testing::num<Real>("0.25");
  o.steps = 40;
  o.rule.kind = rule_kind::sign;
  const auto r = descent::run(pb, o);
  ASSERT_TRUE(r.ok()) << r.message;
  for (size_t k = 0; k < r.samples.size(); ++k) {
    for (int x = 0; x < pb.tokens; ++x) {
      EXPECT_EQ(r.samples[k].margins(x), Real(Real(k) / 2)) << "step " << k << " token " << x;
    }
  }
}

// Layer norm before the unembedding: gd, momentum, sign and adam with it agree with the plain loop
// (its gradient through d(h / n)/dh written above), 100 steps from a random W0 and from W0 = 0,
// where the hidden states are 0 and the first gradient is 1 / sqrt(eps) times the linear head's.
// The run goes on W, and the margins stay below min_{y != f*(x)} |u_f*(x) - u_y|.
TYPED_TEST(rules_test, layer_norm_runs_agree_with_a_plain_loop) {
  using Real = TypeParam;
  using std::abs;
  using std::max;
  for (const bool zero : {false, true}) {
    auto spec = testing::correlated_spec(5, 4, 4, 11, "1");
    if (zero) spec["init"] = {{"kind", "zero"}};
    const auto pb = io::parse_problem<Real>(spec);
    const Real eps = testing::num<Real>(zero ? "0.01" : "1e-5");
    for (rule_kind k : {rule_kind::gd, rule_kind::momentum, rule_kind::sign, rule_kind::adam}) {
      descent::descent_options<Real> o;
      o.eta = testing::num<Real>("0.05");
      o.steps = 100;
      o.rule.kind = k;
      o.layer_norm = true;
      o.layer_norm_epsilon = eps;
      EXPECT_EQ(o.resolved_space(pb), descent::space_kind::weights);
      Real top(-1000);  // max over states and tokens of m_x - the bound
      o.on_record = [&](long, const model::trajectory_sample<Real>& s) {
        for (int x = 0; x < pb.tokens; ++x) {
          Real bound(1000);
          for (int y = 0; y < pb.classes; ++y) {
            if (y != pb.target[x]) {
              bound = std::min(bound, Real((pb.U.row(pb.target[x]) - pb.U.row(y)).norm()));
            }
          }
          top = max(top, Real(s.margins(x) - bound));
        }
      };
      const auto r = descent::run(pb, o);
      ASSERT_TRUE(r.ok()) << r.message;
      EXPECT_LT(top, Real(0)) << descent::rule_name(k);
      const grid<Real> W = plain_run(pb, o.rule, o.eta, o.steps, eps);
      const auto [gap, size] = gap_and_size(r.W, W);
      EXPECT_LT(gap, agreement_bound<Real>())
          << descent::rule_name(k) << (zero ? " from W0 = 0" : "") << ", |W| " << size;
    }
  }
  descent::descent_options<Real> o;
  o.layer_norm = true;
  o.space = descent::space_kind::particle;
  EXPECT_THROW(o.validate(), input_error);
  o.space = descent::space_kind::automatic;
  o.layer_norm_epsilon = Real(0);
  EXPECT_THROW(o.validate(), input_error);
}

// SGD with every rule: batches of 4 tokens (seed 3) in place of p, 60 steps, against the plain
// loop fed the same batches (drawn by batch_sampler, whose draws are tested on their own).
TYPED_TEST(rules_test, every_rule_with_sgd_batches_agrees_with_a_plain_loop) {
  using Real = TypeParam;
  using std::abs;
  using std::max;
  const auto pb = named<Real>("large-memory");
  std::vector<double> p(pb.tokens);
  for (int x = 0; x < pb.tokens; ++x) p[x] = static_cast<double>(pb.p(x));
  for (rule_kind k :
       {rule_kind::gd, rule_kind::momentum, rule_kind::nesterov, rule_kind::normalized,
        rule_kind::sign, rule_kind::rescaled, rule_kind::adam}) {
    descent::descent_options<Real> o;
    o.eta = testing::num<Real>("0.01");
    o.steps = 60;
    o.batch = 4;
    o.seed = 3;
    o.record = false;
    o.rule.kind = k;
    const auto r = descent::run(pb, o);
    ASSERT_TRUE(r.ok()) << r.message;
    descent::batch_sampler sampler(p, o.batch, o.seed);
    grid<Real> W = to_grid<Real>(pb.W0);
    plain_rule<Real> rule{o.rule};
    for (long step = 1; step <= o.steps; ++step) {
      const std::vector<long>& counts = sampler.draw();
      std::vector<Real> w(pb.tokens);
      for (int x = 0; x < pb.tokens; ++x) w[x] = Real(counts[x]) / Real(o.batch);
      const grid<Real> D = rule.direction(plain_gradient(pb, W, Real(0), &w));
      for (int i = 0; i < pb.dim; ++i) {
        for (int j = 0; j < pb.dim; ++j) W[i][j] -= o.eta * D[i][j];
      }
    }
    const auto [gap, size] = gap_and_size(r.W, W);
    EXPECT_LT(gap, agreement_bound<Real>()) << descent::rule_name(k) << " with batches";
    EXPECT_GT(size, 0.01) << descent::rule_name(k);
  }
}

// Explicit factors: A0 and B0 as given (parsed exactly from a factors object), the run held to the
// plain loop from them; wrong shapes are refused by name.
TYPED_TEST(rules_test, explicit_factors_start_the_factorised_run) {
  using Real = TypeParam;
  const auto pb = named<Real>("large-memory");
  const nlohmann::json spec = nlohmann::json::parse(R"({
      "A": [["0.1", "0"], ["0", "0.2"], ["1/3", "-0.5"], ["0", "0"], ["0.25", "1"]],
      "B": [["0.3", "0", "0.1", "0", "-1"], ["0", "0.7", "0", "2/7", "0"]]})");
  descent::descent_options<Real> o;
  o.eta = testing::num<Real>("0.1");
  o.steps = 20;
  o.record = false;
  o.factors.rank = 2;
  std::tie(o.factors.A0, o.factors.B0) = io::parse_factors<Real>(spec, pb.dim, 2);
  EXPECT_EQ(o.factors.A0(2, 0), testing::num<Real>("1/3"));
  EXPECT_EQ(o.factors.B0(1, 3), testing::num<Real>("2/7"));
  const auto r = descent::run(pb, o);
  ASSERT_TRUE(r.ok()) << r.message;
  const auto [A, B] = plain_factorised_run(pb, o.rule, o.eta, o.steps, to_grid<Real>(o.factors.A0),
                                           to_grid<Real>(o.factors.B0));
  EXPECT_LT(gap_and_size(r.A, A).first, agreement_bound<Real>());
  EXPECT_LT(gap_and_size(r.B, B).first, agreement_bound<Real>());
  const auto field_of = [&](const descent::factorisation<Real>& f) {
    try {
      descent::initial_factors(f, pb.dim);
    } catch (const input_error& e) {
      return e.field();
    }
    return std::string("accepted");
  };
  descent::factorisation<Real> f = o.factors;
  EXPECT_EQ(field_of(f), "accepted");
  f.rank = 3;
  EXPECT_EQ(field_of(f), "A0");
  f = o.factors;
  f.B0 = f.B0.transpose().eval();
  EXPECT_EQ(field_of(f), "B0");
  EXPECT_THROW(io::parse_factors<Real>(spec, pb.dim, 3), input_error);
}

// What the rules refuse, and the steps they cannot take.
TYPED_TEST(rules_test, refusals_and_undefined_steps) {
  using Real = TypeParam;
  const auto pb = named<Real>("pair");
  descent::descent_options<Real> o;
  o.rule.kind = rule_kind::sign;
  o.space = descent::space_kind::particle;
  EXPECT_THROW(descent::run(pb, o), input_error);
  o.space = descent::space_kind::automatic;
  EXPECT_EQ(o.resolved_space(pb), descent::space_kind::weights);
  o.rule.kind = rule_kind::momentum;
  o.rule.momentum = Real(1);
  EXPECT_THROW(descent::run(pb, o), input_error);
  o.rule.kind = rule_kind::adam;
  o.rule.beta2 = Real(-1) / 2;
  EXPECT_THROW(descent::run(pb, o), input_error);
  o.rule.beta2 = Real(0);
  o.rule.epsilon = Real(-1);
  EXPECT_THROW(descent::run(pb, o), input_error);
  // A zero gradient has no normalized direction, a constant one no rescaled direction.
  const auto normalized = descent::make_rule(descent::rule_options<Real>{rule_kind::normalized});
  model::matrix<Real> G = model::matrix<Real>::Zero(2, 2), D;
  EXPECT_NE(normalized->direction(G, D), "");
  descent::rule_options<Real> rescaled_options;
  rescaled_options.kind = rule_kind::rescaled;
  const auto rescaled = descent::make_rule(rescaled_options);
  G.setConstant(Real(3));
  EXPECT_NE(rescaled->direction(G, D), "");
  G(0, 0) = Real(1);
  EXPECT_EQ(rescaled->direction(G, D), "");
}

// W = A B (rank 3 on d = 5): every rule, 60 steps, against the plain loop on the factors, to the
// same bounds as on W.
TYPED_TEST(rules_test, factorised_runs_agree_with_a_plain_loop_on_the_factors) {
  using Real = TypeParam;
  using std::abs;
  using std::max;
  const auto pb = named<Real>("large-memory");
  const double bound = agreement_bound<Real>();
  for (rule_kind k : {rule_kind::gd, rule_kind::momentum, rule_kind::nesterov,
                      rule_kind::normalized, rule_kind::sign, rule_kind::adam}) {
    descent::descent_options<Real> o;
    o.eta = testing::num<Real>("0.05");
    o.steps = 60;
    o.record = false;
    o.rule.kind = k;
    o.factors.rank = 3;
    o.factors.scale = testing::num<Real>("0.3");
    o.factors.seed = 7;
    const auto r = descent::run(pb, o);
    ASSERT_TRUE(r.ok()) << r.message;
    EXPECT_EQ(r.space, descent::space_kind::weights);
    const auto [A0, B0] = descent::initial_factors(o.factors, pb.dim);
    const auto [A, B] =
        plain_factorised_run(pb, o.rule, o.eta, o.steps, to_grid<Real>(A0), to_grid<Real>(B0));
    EXPECT_LT(gap_and_size(r.A, A).first, bound) << descent::rule_name(k) << ": A";
    EXPECT_LT(gap_and_size(r.B, B).first, bound) << descent::rule_name(k) << ": B";
    EXPECT_TRUE(r.W == model::matrix<Real>(r.A * r.B)) << descent::rule_name(k);
  }
}

// Balancedness: along the gradient flow of W = A B, d/dt (A^T A - B B^T) = 0. One GD step
// A' = A - eta G B^T, B' = B - eta A^T G changes it by exactly
// eta^2 (B G^T G B^T - A^T G G^T A): the first-order terms cancel. Checked at the working
// precision against that product (G from the plain gradient), for two step sizes (the change
// scales as eta^2); a balanced start is B0 = A0^T, where A^T A - B B^T = 0.
TYPED_TEST(rules_test, one_gd_step_on_the_factors_moves_balancedness_by_eta_squared) {
  using Real = TypeParam;
  using std::abs;
  using std::max;
  const auto pb = named<Real>("large-memory");
  const double bound = agreement_bound<Real>();
  descent::factorisation<Real> f;
  f.rank = 3;
  f.scale = testing::num<Real>("0.5");
  f.seed = 3;
  const auto [A0, B0] = descent::initial_factors(f, pb.dim);
  const grid<Real> A = to_grid<Real>(A0), B = to_grid<Real>(B0);
  const grid<Real> G = plain_gradient(pb, times(A, B));
  const grid<Real> GB = times(G, B, false, true);  // G B^T (d x r)
  const grid<Real> AG = times(A, G, true, false);  // A^T G (r x d)
  const grid<Real> drift = times(GB, GB, true, false), other = times(AG, AG, false, true);
  for (const char* eta_text : {"0.1", "0.05"}) {
    descent::descent_options<Real> o;
    o.eta = testing::num<Real>(eta_text);
    o.steps = 1;
    o.record = false;
    o.factors = f;
    const auto r = descent::run(pb, o);
    ASSERT_TRUE(r.ok()) << r.message;
    const model::matrix<Real> before = A0.transpose() * A0 - B0 * B0.transpose();
    const model::matrix<Real> after = r.A.transpose() * r.A - r.B * r.B.transpose();
    Real worst(0), size(0);
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) {
        // B G^T G B^T = (G B^T)^T (G B^T); A^T G G^T A = (A^T G)(A^T G)^T.
        const Real predicted = o.eta * o.eta * (drift[i][j] - other[i][j]);
        worst = max(worst, Real(abs(Real(after(i, j) - before(i, j) - predicted))));
        size = max(size, Real(abs(predicted)));
      }
    }
    EXPECT_GT(static_cast<double>(size), 1e-4) << eta_text;
    EXPECT_LT(static_cast<double>(Real(worst / size)), 100 * bound) << eta_text;
  }
  f.balanced = true;
  const auto [A1, B1] = descent::initial_factors(f, pb.dim);
  EXPECT_TRUE(B1 == model::matrix<Real>(A1.transpose()));  // so A^T A - B B^T = 0
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
