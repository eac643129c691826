#include "cli/mpi_cells.hpp"

#include "amflow/errors.hpp"

#ifdef AMFLOW_HAVE_MPI
#include <fcntl.h>
#include <mpi.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "amflow/parallel.hpp"
#endif

namespace amflow::cli {

#ifndef AMFLOW_HAVE_MPI

bool mpi_built() { return false; }
mpi_session::mpi_session() {
  throw input_error("--mpi", "true",
                    "this amflow was built without MPI (install libopenmpi-dev and openmpi-bin, "
                    "then configure and build again)");
}
mpi_session::~mpi_session() = default;
bool mpi_session::agree(bool ok) const { return ok; }
void mpi_distribute(const mpi_session&, const std::vector<size_t>&,
                    const std::function<std::vector<io::cell>(size_t)>&,
                    const std::function<void(size_t, std::vector<io::cell>)>&) {}

#else

namespace {

constexpr int request_tag = 1;  // rank > 0 -> 0: ready, with the last row computed (if any)
constexpr int assign_tag = 2;   // 0 -> rank: the next position, or -1: stop

int quiet_stderr_copy = -1;  // ranks > 0: the real standard error, for fatal messages

[[noreturn]] void fatal(const std::string& message) {
  const std::string line = "amflow: rank failure: " + printable(message, 1000) + "\n";
  const int fd = quiet_stderr_copy >= 0 ? quiet_stderr_copy : STDERR_FILENO;
  if (::write(fd, line.data(), line.size()) < 0) {
    // nothing more to do: the run stops either way
  }
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();
}

void put(std::string& out, const void* p, size_t n) { out.append(static_cast<const char*>(p), n); }

// A position and its row as bytes: the position, then per cell its kind, length and text.
std::string encode(long long position, const std::vector<io::cell>& row) {
  std::string out;
  const std::int64_t pos = position;
  put(out, &pos, sizeof pos);
  for (const io::cell& c : row) {
    const char kind = static_cast<char>(c.kind);
    const std::uint32_t n = static_cast<std::uint32_t>(c.text.size());
    put(out, &kind, 1);
    put(out, &n, sizeof n);
    out += c.text;
  }
  return out;
}

std::pair<long long, std::vector<io::cell>> decode(const std::string& in) {
  std::pair<long long, std::vector<io::cell>> r;
  std::int64_t pos = 0;
  std::memcpy(&pos, in.data(), sizeof pos);
  r.first = pos;
  for (size_t at = sizeof pos; at < in.size();) {
    io::cell c;
    c.kind = static_cast<io::cell_kind>(in[at]);
    std::uint32_t n = 0;
    std::memcpy(&n, in.data() + at + 1, sizeof n);
    c.text = in.substr(at + 1 + sizeof n, n);
    at += 1 + sizeof n + n;
    r.second.push_back(std::move(c));
  }
  return r;
}

}  // namespace

bool mpi_built() { return true; }

mpi_session::mpi_session() {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    throw std::runtime_error("MPI: the library cannot run a second (non-MPI) thread per rank");
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  if (rank_ > 0) {
    quiet_stderr_copy = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
    const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) {
      ::dup2(null, STDERR_FILENO);
      ::close(null);
    }
  }
}

mpi_session::~mpi_session() { MPI_Finalize(); }

bool mpi_session::agree(bool ok) const {
  int flag = ok ? 1 : 0;
  MPI_Bcast(&flag, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return flag == 1;
}

void mpi_distribute(const mpi_session& session, const std::vector<size_t>& cells,
                    const std::function<std::vector<io::cell>(size_t)>& compute,
                    const std::function<void(size_t, std::vector<io::cell>)>& deliver) {
  const long long n = static_cast<long long>(cells.size());
  if (session.rank() > 0) {
    // Ask, compute, answer with the row (which asks again), until told to stop.
    std::string message;
    for (;;) {
      MPI_Send(message.data(), static_cast<int>(message.size()), MPI_CHAR, 0, request_tag,
               MPI_COMM_WORLD);
      long long position = -1;
      MPI_Recv(&position, 1, MPI_LONG_LONG, 0, assign_tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      if (position < 0) return;
      try {
        message = encode(position, compute(cells[static_cast<size_t>(position)]));
      } catch (const std::exception& e) {
        fatal(e.what());
      }
    }
  }
  // Rank 0: positions are handed out in order, to the other ranks and to a local thread alike.
  std::mutex mutex;  // guards next, rows, failure
  long long next = 0;
  std::map<long long, std::vector<io::cell>> rows;
  std::string failure;
  const auto take = [&] {
    const std::lock_guard<std::mutex> lock(mutex);
    return next < n && failure.empty() ? next++ : -1;
  };
  std::thread local = worker_thread([&] {
    for (long long p = take(); p >= 0; p = take()) {
      try {
        std::vector<io::cell> row = compute(cells[static_cast<size_t>(p)]);
        const std::lock_guard<std::mutex> lock(mutex);
        rows.emplace(p, std::move(row));
      } catch (const std::exception& e) {
        const std::lock_guard<std::mutex> lock(mutex);
        failure = e.what();
        return;
      }
    }
  });
  int active = session.size() - 1;
  long long delivered = 0;
  try {
    while (delivered < n || active > 0) {
      bool busy = false;
      int flag = 0;
      MPI_Status status;
      MPI_Iprobe(MPI_ANY_SOURCE, request_tag, MPI_COMM_WORLD, &flag, &status);
      if (flag) {
        busy = true;
        int size = 0;
        MPI_Get_count(&status, MPI_CHAR, &size);
        std::string message(static_cast<size_t>(size), '\0');
        MPI_Recv(message.data(), size, MPI_CHAR, status.MPI_SOURCE, request_tag, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        if (!message.empty()) {
          auto [position, row] = decode(message);
          const std::lock_guard<std::mutex> lock(mutex);
          rows.emplace(position, std::move(row));
        }
        long long position = take();
        if (position < 0) --active;
        MPI_Send(&position, 1, MPI_LONG_LONG, status.MPI_SOURCE, assign_tag, MPI_COMM_WORLD);
      }
      for (;;) {
        std::vector<io::cell> row;
        {
          const std::lock_guard<std::mutex> lock(mutex);
          if (!failure.empty()) throw std::runtime_error(failure);
          const auto found = rows.find(delivered);
          if (found == rows.end()) break;
          row = std::move(found->second);
          rows.erase(found);
        }
        deliver(static_cast<size_t>(delivered++), std::move(row));
        busy = true;
      }
      if (!busy) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  } catch (const std::exception& e) {
    {
      const std::lock_guard<std::mutex> lock(mutex);
      if (failure.empty()) failure = e.what();
    }
    local.join();
    fatal(failure);
  }
  local.join();
}

#endif

}  // namespace amflow::cli
