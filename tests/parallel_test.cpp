// The parallel loop: every index once, results streamed in index order, errors propagated, and
// the work finished by the threads that started when the system refuses more.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>

#include "amflow/parallel.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

TEST(parallel, every_index_once_and_in_order_out) {
  for (int threads : {1, 2, 7, 64}) {
    const long n = 1000;
    std::vector<std::atomic<int>> seen(n);
    std::vector<long> emitted;
    const int used = parallel_for_ordered(
        n, threads, [&](long i) { ++seen[i]; }, [&](long i) { emitted.push_back(i); });
    EXPECT_GE(used, 1);
    EXPECT_LE(used, threads);
    for (long i = 0; i < n; ++i) EXPECT_EQ(seen[i], 1) << i;
    ASSERT_EQ(emitted.size(), static_cast<size_t>(n));
    for (long i = 0; i < n; ++i) EXPECT_EQ(emitted[i], i);
  }
  EXPECT_EQ(parallel_for(0, 4, [](long) {}), 0);
}

TEST(parallel, the_first_error_comes_back) {
  EXPECT_THROW(parallel_for(100, 4,
                            [](long i) {
                              if (i == 37) throw std::runtime_error("index 37");
                            }),
               std::runtime_error);
  std::vector<long> emitted;
  EXPECT_THROW(parallel_for_ordered(
                   50, 3, [](long) {},
                   [&](long i) {
                     if (i == 10) throw std::runtime_error("emit 10");
                     emitted.push_back(i);
                   }),
               std::runtime_error);
  EXPECT_EQ(emitted.size(), 10u);  // 0 .. 9, in order, then the error stopped the loop
}

// In a child process whose thread limit (RLIMIT_NPROC, enforced for a non-root user; as root the
// child becomes nobody) lets almost no thread start: every index still runs, no abort.
TEST(parallel, threads_the_system_refuses_are_not_needed) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    struct rlimit one = {1, 1};
    if (::geteuid() == 0) {
      ::setrlimit(RLIMIT_NPROC, &one);
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    } else {
      ::setrlimit(RLIMIT_NPROC, &one);
    }
    std::atomic<long> done{0};
    const int used = parallel_for(200, 100, [&](long) { ++done; });
    ::_exit(done == 200 && used >= 1 && used < 100 && refused_threads() > 0 ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "the child was killed (signal " << WTERMSIG(status) << ")";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
