// A minimal parallel loop for sweeps and repeated runs: deterministic because every index writes
// its own result slot and reductions (and output) happen in index order.
#pragma once

#include <functional>
#include <thread>

namespace amflow {

// The number of hardware threads (at least 1).
int hardware_threads();

// Runs f(i) for every i in [0, n) exactly once, on up to min(threads, n) threads (threads <= 0: all
// hardware threads), the calling thread among them. A thread the system refuses to start (a pids or
// address-space limit) is not an error: the work goes on with those that started. Returns the
// number of threads that worked. The first exception thrown by any f(i) is rethrown here, after
// every thread has stopped; the remaining indices are then skipped.
int parallel_for(long n, int threads, const std::function<void(long)>& f);

// A thread running f that frees MPFR's and FLINT/Arb's per-thread caches when f returns (for
// threads started outside parallel_for). Throws std::system_error when the system refuses it.
std::thread worker_thread(std::function<void()> f);

// How many thread starts the system has refused in this process (for a warning: the results are
// the same, only slower).
long refused_threads();
// Counts one more refused start (for threads started outside parallel_for).
void note_refused_thread();

// parallel_for, and emit(i) for i = 0, 1, ..., n - 1 in that order, each as soon as f(0) .. f(i)
// have finished, one at a time: results stream out in index order whatever the thread count. An
// exception from emit stops the loop like one from f.
int parallel_for_ordered(long n, int threads, const std::function<void(long)>& f,
                         const std::function<void(long)>& emit);

}  // namespace amflow
