// Statement: "For every cell of the authors' learning-rate grid (pair problem, p0 = sigmoid(v),
// v = 10^(-1/2 + i/9), alpha = 1/2 + j/18, eta = 10^(-1 + 2l/9), i, j, l = 0 .. 9; 1000 GD steps
// from W0 = 0), the first step at which both tokens are right is the value printed in
// first_perfect_certified.csv-like evidence below: certified, with no undecided cell."
// Certified GD in ball arithmetic (src/amflow/certify/descent.hpp) on the exact data: p0 and eta
// are irrational and enter as balls, alpha is rational (G_E = [[1, alpha], [alpha, 1]] exactly).
// The certified values are compared with the float64 PyTorch loop of the authors (tests/data) and
// with amflow's double sweep; every difference is listed.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "amflow/certify/descent.hpp"
#include "amflow/io/problem_io.hpp"
#include "analysis/instantiate.hpp"
#include "proof.hpp"

#ifndef AMFLOW_TEST_DATA
#error "AMFLOW_TEST_DATA must name tests/data"
#endif

using namespace amflow;

int main() {
  proofs::proof proof(
      "the first perfect step of each of the 1000 cells of the authors' learning-rate grid, "
      "certified (none undecided), compared with float64 PyTorch and amflow's double sweep");
  return proof.run([&] {
    // The float64 values: the stored PyTorch run, and amflow's double sweep.
    std::vector<long> torch;
    std::ifstream in(std::string(AMFLOW_TEST_DATA) + "/lr_grid_torch_float64.csv");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      torch.push_back(std::stol(line.substr(line.rfind(',') + 1)));
    }
    proof.require(torch.size() == 1000, "the stored PyTorch grid has 1000 cells");
    const auto sweep = analysis::sweep(analysis::authors_learning_rate_grid());

    long cell = 0, undecided = 0, differ_torch = 0, differ_double = 0, never = 0, widest_bits = 0;
    for (int i = 0; i < 10; ++i) {
      for (int j = 0; j < 10; ++j) {
        for (int l = 0; l < 10; ++l, ++cell) {
          // p0 = sigmoid(10^(-1/2 + i/9)), alpha = 1/2 + j/18, eta = 10^(-1 + 2l/9), enclosed at
          // each precision the widening asks for (192 bits, then 4x up to 16384).
          const auto data = [&] {
            const certify::ball ten_log = certify::log(certify::ball(10));
            const certify::ball v =
                certify::exp(ten_log * certify::ball::of(rational(-1, 2) + rational(i, 9)));
            const certify::ball p0 = certify::ball(1) / (certify::ball(1) + certify::exp(-v));
            return std::make_pair(
                certify::pair_problem(certify::ball::of(rational(1, 2) + rational(j, 18)), p0),
                certify::exp(ten_log * certify::ball::of(rational(-1) + rational(2 * l, 9))));
          };
          const certify::widening_result w = certify::first_perfect_widening(data, 1000);
          const certify::certified_run& run = w.run;
          const long used = w.bits;
          widest_bits = std::max(widest_bits, used);
          const bool decided = run.ok() && run.first_perfect_decided == certify::decision::yes;
          if (!decided) {
            ++undecided;
            proof.evidence("cell " + std::to_string(cell) + " (i " + std::to_string(i) + ", j " +
                           std::to_string(j) + ", l " + std::to_string(l) + "): undecided" +
                           (run.ok() ? "" : " (" + run.message + ")"));
            continue;
          }
          never += !run.ever_perfect;
          const long certified = run.first_perfect_step;
          if (cell < static_cast<long>(torch.size()) && torch[cell] != certified) {
            ++differ_torch;
            proof.evidence("cell " + std::to_string(cell) + ": certified " +
                           std::to_string(certified) + ", float64 PyTorch " +
                           std::to_string(torch[cell]));
          }
          const long amflow_double = sweep.cells[cell].summary.first_perfect_step;
          if (amflow_double != certified) {
            ++differ_double;
            proof.evidence("cell " + std::to_string(cell) + ": certified " +
                           std::to_string(certified) + ", amflow double " +
                           std::to_string(amflow_double));
          }
        }
      }
    }
    proof.evidence("cells: 1000; undecided: " + std::to_string(undecided) +
                   "; never perfect within 1000 steps (certified): " + std::to_string(never) +
                   "; float64 PyTorch differs on " + std::to_string(differ_torch) +
                   ", amflow double on " + std::to_string(differ_double) +
                   "; the most bits a cell needed: " + std::to_string(widest_bits));
    proof.require(undecided == 0, "every cell decided");
  });
}
