// Threads take indices from a shared counter; nothing is shared between indices but that counter
// and the first error.
#include "amflow/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace amflow {

int hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

void parallel_for(long n, int threads, const std::function<void(long)>& f) {
  if (n <= 0) return;
  const long count = std::min<long>(n, threads <= 0 ? hardware_threads() : threads);
  std::atomic<long> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  const auto work = [&] {
    for (long i = next++; i < n && !failed; i = next++) {
      try {
        f(i);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  if (count == 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    for (long t = 0; t < count; ++t) pool.emplace_back(work);
    for (std::thread& th : pool) th.join();
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace amflow
