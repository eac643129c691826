// Sweeps: the authors' learning-rate grid cell for cell against their loop run in PyTorch, cells
// against a plain GD loop on W written here, grid order and thread independence, field paths.
#include <fstream>
#include <sstream>

#include "amflow/io/problem_io.hpp"
#include "analysis/instantiate.hpp"
#include "support.hpp"

#ifndef AMFLOW_TEST_DATA
#error "AMFLOW_TEST_DATA must name tests/data"
#endif

namespace amflow {
namespace AMFLOW_TEST_UNIT {

analysis::sweep_options<double> authors_grid() {
  analysis::sweep_options<double> o = analysis::authors_learning_rate_grid();
  o.threads = 2;
  return o;
}

// The first step with every token right, by plain GD on W (d = 2) written out here: logits
// z = E W^T (U = I), loss gradient W -= eta sum_x p(x) (pi_x - y_x) e_x^T (the authors' W^T).
long plain_first_perfect(double p0, double alpha, double eta, long steps) {
  const double e[2][2] = {{1, 0}, {alpha, std::sqrt(1 - alpha * alpha)}};
  const double p[2] = {p0, 1 - p0};
  double W[2][2] = {{0, 0}, {0, 0}};  // W[y][i]: z_y(x) = sum_i W[y][i] e_x[i]
  for (long k = 0; k < steps; ++k) {
    double grad[2][2] = {{0, 0}, {0, 0}};
    bool all_right = true;
    for (int x = 0; x < 2; ++x) {
      double z[2];
      for (int y = 0; y < 2; ++y) z[y] = W[y][0] * e[x][0] + W[y][1] * e[x][1];
      const int pred = z[1] > z[0] ? 1 : 0;
      all_right = all_right && pred == x;
      const double top = std::max(z[0], z[1]);
      const double s = std::exp(z[0] - top) + std::exp(z[1] - top);
      for (int y = 0; y < 2; ++y) {
        const double r = p[x] * (std::exp(z[y] - top) / s - (y == x ? 1 : 0));
        for (int i = 0; i < 2; ++i) grad[y][i] += r * e[x][i];
      }
    }
    if (all_right) return k;
    for (int y = 0; y < 2; ++y) {
      for (int i = 0; i < 2; ++i) W[y][i] -= eta * grad[y][i];
    }
  }
  return steps - 1;
}

// The authors' grid (p0 = sigmoid(10^(-0.5 + i/9)), alpha = linspace(0.5, 1, 10), eta =
// logspace(-1, 1, 10), 1000 steps): every one of the 1000 cells against their loop run in PyTorch
// in float64 (bench/peers/torch_gd.py grid --dtype float64, torch 1.13.1), stored in tests/data.
TEST(sweep, authors_learning_rate_grid_matches_pytorch_cell_for_cell) {
  const auto r = analysis::sweep(authors_grid());
  ASSERT_EQ(r.cells.size(), 1000u);
  std::ifstream in(std::string(AMFLOW_TEST_DATA) + "/lr_grid_torch_float64.csv");
  ASSERT_TRUE(in) << "missing tests/data/lr_grid_torch_float64.csv";
  std::string line;
  std::getline(in, line);  // header
  size_t c = 0, mismatches = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream s(line);
    std::string p0_logit, alpha, eta, first;
    std::getline(s, p0_logit, ',');
    std::getline(s, alpha, ',');
    std::getline(s, eta, ',');
    std::getline(s, first, ',');
    ASSERT_LT(c, r.cells.size());
    const auto& cell = r.cells[c];
    EXPECT_NEAR(cell.values[0], std::stod(p0_logit), 1e-15);
    EXPECT_NEAR(cell.values[1], std::stod(alpha), 1e-15);
    EXPECT_NEAR(cell.values[2], std::stod(eta), 1e-14 * cell.values[2]);
    if (cell.summary.first_perfect_step != std::stol(first)) {
      ++mismatches;
      ADD_FAILURE() << "cell " << c << ": amflow " << cell.summary.first_perfect_step
                    << ", PyTorch " << first;
    }
    ++c;
  }
  EXPECT_EQ(c, 1000u);
  EXPECT_EQ(mismatches, 0u);
}

TEST(sweep, cells_match_a_plain_gd_loop_on_w) {
  auto o = authors_grid();
  o.axes = {{"p0", "list:0.6,0.75,0.9"}, {"alpha", "list:0.5,0.95"}, {"eta", "list:0.3,3,10"}};
  o.steps = 300;
  const auto r = analysis::sweep(o);
  ASSERT_EQ(r.cells.size(), 18u);
  for (const auto& cell : r.cells) {
    EXPECT_EQ(cell.summary.first_perfect_step,
              plain_first_perfect(cell.values[0], cell.values[1], cell.values[2], o.steps))
        << "p0 " << cell.values[0] << " alpha " << cell.values[1] << " eta " << cell.values[2];
  }
  // Grid order: the first axis slowest.
  EXPECT_EQ(r.cells[1].values[2], 3.0);
  EXPECT_EQ(r.cells[3].values[1], 0.95);
  EXPECT_EQ(r.cells[6].values[0], 0.75);
}

TEST(sweep, output_does_not_depend_on_the_thread_count_at_any_precision) {
  scalar::set_mpfr_digits(30);
  analysis::sweep_options<mpfr_real> o;
  o.problem = io::named_problem("pair");
  o.axes = {{"alpha", "linspace:0.5:1:4"}, {"eta", "logspace:-1:1:3"}};
  o.steps = 50;
  o.threads = 1;
  const auto a = analysis::sweep(o);
  o.threads = 2;
  const auto b = analysis::sweep(o);
  ASSERT_EQ(a.cells.size(), 12u);
  for (size_t c = 0; c < a.cells.size(); ++c) {
    EXPECT_TRUE(a.cells[c].final_margins == b.cells[c].final_margins);
    EXPECT_EQ(a.cells[c].summary.loss_increases, b.cells[c].summary.loss_increases);
  }
  scalar::set_mpfr_digits(50);
}

// The update rule's parameters as axes: each cell is the run of descent::run with those
// parameters (the same bits), cells differing only in them share the problem, and an axis the
// rule does not have, or a value out of its range, is refused naming the axis.
TEST(sweep, rule_parameters_are_axes) {
  analysis::sweep_options<double> o;
  o.problem = io::named_problem("large-memory");
  o.rule.kind = descent::rule_kind::adam;
  o.axes = {{"beta1", "list:0,0.5,0.9"}, {"beta2", "list:0.9,0.999"}};
  o.eta = 0.05;
  o.steps = 60;
  o.threads = 2;
  const auto r = analysis::sweep(o);
  ASSERT_EQ(r.cells.size(), 6u);
  const auto pb = io::parse_problem<double>(o.problem);
  for (const auto& c : r.cells) {
    descent::descent_options<double> d;
    d.eta = o.eta;
    d.steps = o.steps;
    d.record = false;
    d.rule.kind = descent::rule_kind::adam;
    d.rule.beta1 = c.values[0];
    d.rule.beta2 = c.values[1];
    const auto direct = descent::run(pb, d);
    ASSERT_TRUE(c.ok() && direct.ok());
    EXPECT_EQ(c.final_loss, direct.last.loss) << c.texts[0] << " " << c.texts[1];
    EXPECT_TRUE(c.final_margins == direct.last.margins);
  }
  // The rule's parameters change the run: beta1 = 0 and 0.9 end apart.
  EXPECT_NE(r.cells[0].final_loss, r.cells[4].final_loss);

  o.rule.kind = descent::rule_kind::gd;
  try {
    analysis::sweep(o);
    ADD_FAILURE() << "gd has no beta1";
  } catch (const input_error& e) {
    EXPECT_EQ(e.field(), "grid");
    EXPECT_EQ(e.value(), "beta1");
  }
  o.rule.kind = descent::rule_kind::momentum;
  o.axes = {{"momentum", "list:0.5,1"}};
  try {
    analysis::sweep(o);
    ADD_FAILURE() << "momentum 1 is out of range";
  } catch (const input_error& e) {
    EXPECT_EQ(e.field(), "grid momentum");
  }
  o.axes = {{"eta", "list:0.1"}};
  o.certify = true;
  EXPECT_THROW(analysis::sweep(o), input_error);
}

TEST(sweep, any_existing_problem_field_can_be_an_axis_and_others_are_refused) {
  analysis::sweep_options<double> o;
  o.problem = io::named_problem("zipf-orthogonal");
  o.axes = {{"frequencies.exponent", "list:1,2"}};
  o.steps = 5;
  const auto r = analysis::sweep(o);
  ASSERT_EQ(r.cells.size(), 2u);
  EXPECT_NE(r.cells[0].final_loss, r.cells[1].final_loss);

  const auto field_of = [&](std::vector<analysis::sweep_axis> axes, const char* problem) {
    analysis::sweep_options<double> bad;
    bad.problem = io::named_problem(problem);
    bad.axes = std::move(axes);
    bad.steps = 3;
    try {
      analysis::sweep(bad);
    } catch (const input_error& e) {
      return e.field() + " = " + e.value();
    }
    return std::string("accepted");
  };
  // The library's field names (the command line shows "grid" as --grid).
  EXPECT_EQ(field_of({{"frequences.exponent", "list:1"}}, "zipf-orthogonal"),
            "grid = frequences.exponent");
  EXPECT_EQ(field_of({{"frequencies", "list:1"}}, "zipf-orthogonal"), "grid = frequencies");
  EXPECT_EQ(field_of({{"p0", "list:0.7"}}, "zipf-orthogonal"), "grid p0 = 6.9999999999999996e-01");
  EXPECT_EQ(field_of({{"alpha", "list:2"}}, "pair").substr(0, 12), "inputs.alpha");
  EXPECT_EQ(field_of({{"eta", "list:1"}, {"eta", "list:2"}}, "pair"), "grid = eta");
  EXPECT_EQ(field_of({{"eta", "linspace:1:2"}}, "pair"), "grid eta = linspace:1:2");
  // Two axes on the same field would label rows by one and run them with the other.
  EXPECT_EQ(field_of({{"alpha", "list:0.5"}, {"inputs.alpha", "list:0.9"}}, "pair"),
            "grid = inputs.alpha");
  EXPECT_EQ(field_of({{"p0", "list:0.5"}, {"frequencies.p[0]", "list:0.9"}}, "pair"),
            "grid = frequencies.p[0]");
  EXPECT_EQ(field_of({{"p0", "list:0.5"}, {"p0_logit", "list:0"}}, "pair"), "grid = p0_logit");
  // An index beyond any array is refused by name, not by std::stoul.
  EXPECT_EQ(field_of({{"frequencies.p[99999999999999999999]", "list:1"}}, "pair"),
            "grid = frequencies.p[99999999999999999999]");
  EXPECT_EQ(field_of({{"tokens", "list:3"}}, "zipf-orthogonal"), "grid = tokens");
  // A bad step size on the eta axis is the axis's (not the --eta option's, whose value is fine).
  EXPECT_EQ(field_of({{"eta", "list:1,0"}}, "pair"), "grid eta = 0.0000000000000000e+00");
  // Integer fields take integers only.
  EXPECT_EQ(field_of({{"inputs.seed", "list:1.5"}}, "large-memory").substr(0, 16),
            "grid inputs.seed");
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
