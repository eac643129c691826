// Threads take indices from a shared counter; nothing is shared between indices but that counter,
// the emission cursor and the first error.
#include "amflow/parallel.hpp"

#include <flint/flint.h>
#include <mpfr.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace amflow {

namespace {
std::atomic<long> refused{0};
}  // namespace

int hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

long refused_threads() { return refused; }

void note_refused_thread() { ++refused; }

int parallel_for_ordered(long n, int threads, const std::function<void(long)>& f,
                         const std::function<void(long)>& emit) {
  if (n <= 0) return 0;
  const long wanted = std::min<long>(n, threads <= 0 ? hardware_threads() : threads);
  std::atomic<long> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mutex;  // guards error, done and cursor
  std::vector<char> done(emit ? static_cast<size_t>(n) : 0, 0);
  long cursor = 0;
  const auto fail = [&] {
    const std::lock_guard<std::mutex> lock(mutex);
    if (!error) error = std::current_exception();
    failed = true;
  };
  const auto work = [&] {
    for (long i = next++; i < n && !failed; i = next++) {
      try {
        f(i);
      } catch (...) {
        fail();
        return;
      }
      if (!emit) continue;
      const std::lock_guard<std::mutex> lock(mutex);
      done[i] = 1;
      try {
        while (cursor < n && done[cursor] && !failed) emit(cursor++);
      } catch (...) {
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (long t = 1; t < wanted; ++t) {
    try {
      pool.push_back(worker_thread([&work] { work(); }));
    } catch (const std::system_error&) {
      refused += wanted - t;  // the system would not start more: those running share the work
      break;
    }
  }
  work();
  for (std::thread& th : pool) th.join();
  if (error) std::rethrow_exception(error);
  return static_cast<int>(pool.size()) + 1;
}

std::thread worker_thread(std::function<void()> f) {
  return std::thread([f = std::move(f)] {
    f();
    // MPFR and FLINT/Arb keep per-thread caches (constants such as pi and log 2) that die with the
    // thread otherwise.
    mpfr_free_cache2(MPFR_FREE_LOCAL_CACHE);
    flint_cleanup();
  });
}

int parallel_for(long n, int threads, const std::function<void(long)>& f) {
  return parallel_for_ordered(n, threads, f, {});
}

}  // namespace amflow
