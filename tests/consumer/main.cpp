// Uses installed amflow: the pair problem by name, 200 GD steps in double, and the first step's
// margins against their closed form eta (p0 - alpha p1, p1 - alpha p0) (P4). Exit 0 when right.
#include <amflow/descent/descent.hpp>
#include <amflow/io/problem_io.hpp>
#include <cmath>
#include <cstdio>

int main() {
  const auto pb = amflow::io::parse_problem<double>(amflow::io::named_problem("pair"));
  amflow::descent::descent_options<double> o;
  o.eta = 10;
  o.steps = 1;
  const auto one = amflow::descent::run(pb, o);
  const double p0 = pb.p(0), p1 = pb.p(1), alpha = pb.E.row(0).dot(pb.E.row(1));
  const double m0 = one.last.margins(0), m1 = one.last.margins(1);
  const double gap =
      std::max(std::abs(m0 - 10 * (p0 - alpha * p1)), std::abs(m1 - 10 * (p1 - alpha * p0)));
  o.steps = 200;
  const auto run = amflow::descent::run(pb, o);
  std::printf("first step margins %.17g %.17g (closed-form gap %.3g), loss after 200 steps %.6g\n",
              m0, m1, gap, run.last.loss);
  return run.ok() && gap < 1e-13 && run.last.loss < one.last.loss ? 0 : 1;
}
