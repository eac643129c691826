// No step of a GD or SGD loop allocates: the heap allocations (operator new replaced, malloc
// wrapped, in this executable only) of runs of 200 and 1200 steps differ by at most a few events.
// In double, in particle coordinates and in W space, for GD, SGD, momentum and Adam.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "amflow/descent/descent.hpp"
#include "amflow/io/problem_io.hpp"
#include "support.hpp"

namespace {
std::atomic<long> allocations{0};
}  // namespace

// malloc, calloc and realloc as called from this executable's own objects and amflow's static
// library (Eigen allocates its matrices there, inline), wrapped at link time (-Wl,--wrap).
extern "C" {
void* __real_malloc(std::size_t n);
void* __real_calloc(std::size_t n, std::size_t size);
void* __real_realloc(void* p, std::size_t n);
void* __wrap_malloc(std::size_t n) {
  ++allocations;
  return __real_malloc(n);
}
void* __wrap_calloc(std::size_t n, std::size_t size) {
  ++allocations;
  return __real_calloc(n, size);
}
void* __wrap_realloc(void* p, std::size_t n) {
  ++allocations;
  return __real_realloc(p, n);
}
}

void* operator new(std::size_t n) {
  ++allocations;
  if (void* p = __real_malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace amflow {
namespace {

// Heap allocations (operator new and malloc) of one run of `steps` steps.
long allocations_of(const model::problem<double>& pb, descent::descent_options<double> o,
                    long steps) {
  o.steps = steps;
  o.record = false;
  const long before = allocations.load();
  const descent::descent_result<double> r = descent::run(pb, o);
  EXPECT_TRUE(r.ok()) << r.message;
  return allocations.load() - before;
}

struct setting {
  const char* name;
  descent::space_kind space;
  descent::rule_kind rule;
  long batch;
};

// Three shapes: G_E not formed (N > 2 d: products through E), both Gram matrices formed, neither
// (model::forms_gram).
TEST(descent_allocations, no_step_allocates) {
  for (const auto& [N, M, d] : {std::array{40, 3, 4}, std::array{6, 3, 4}, std::array{40, 9, 4}}) {
    const auto pb = io::parse_problem<double>(testing::correlated_spec(N, M, d, 5, "1/4"));
    const std::string shape =
        std::to_string(N) + " x " + std::to_string(M) + " in " + std::to_string(d) + ", ";
    for (const setting& s :
         {setting{"gd, particle", descent::space_kind::particle, descent::rule_kind::gd, 0},
          setting{"gd, W", descent::space_kind::weights, descent::rule_kind::gd, 0},
          setting{"sgd, particle", descent::space_kind::particle, descent::rule_kind::gd, 8},
          setting{"sgd, W", descent::space_kind::weights, descent::rule_kind::gd, 8},
          setting{"momentum, W", descent::space_kind::weights, descent::rule_kind::momentum, 0},
          setting{"adam, W", descent::space_kind::weights, descent::rule_kind::adam, 0}}) {
      descent::descent_options<double> o;
      o.eta = 0.05;
      o.space = s.space;
      o.rule.kind = s.rule;
      if (s.rule == descent::rule_kind::momentum) o.rule.momentum = 0.5;
      o.batch = s.batch;
      o.seed = 3;
      // 1000 more steps: an allocation per step would add 1000; the few a run may add are events
      // (a new loss spike, a margin's sign change recorded), not steps.
      const long few = allocations_of(pb, o, 200), many = allocations_of(pb, o, 1200);
      EXPECT_LE(many - few, 20) << shape << s.name << ": " << (many - few)
                                << " allocations in 1000 more steps";
    }
  }
}

}  // namespace
}  // namespace amflow
