#include "cli/mpi_cells.hpp"

#include "amflow/errors.hpp"

#ifdef AMFLOW_HAVE_MPI
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
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

// The MPI calls, from amflow_mpi.so (cli/mpi_module.cpp), loaded at the first mpi_session.
struct mpi_calls {
  int (*init)(int*, int*);
  void (*finalize)();
  void (*abort)(int);
  int (*bcast_int)(int);
  void (*send_bytes)(const char*, int, int, int);
  void (*recv_bytes)(char*, int, int, int);
  void (*send_ll)(long long, int, int);
  long long (*recv_ll)(int, int);
  int (*iprobe)(int, int*, int*);
};
mpi_calls mpi{};

// The folder of the running binary (/proc/self/exe), with a trailing slash.
std::string binary_folder() {
  char path[PATH_MAX + 1];
  const ssize_t n = ::readlink("/proc/self/exe", path, PATH_MAX);
  if (n <= 0) return "./";
  std::string p(path, static_cast<size_t>(n));
  return p.substr(0, p.find_last_of('/') + 1);
}

// Loads the module: beside the binary (the build tree), else ../lib/amflow/ (an installed copy,
// AMFLOW_MPI_MODULE_DIR relative to the binary's folder), else the dynamic loader's path.
void load_mpi() {
  if (mpi.init) return;
  const std::string folder = binary_folder();
  void* module = nullptr;
  std::string tried;
  for (const std::string& path :
       {folder + "amflow_mpi.so", folder + AMFLOW_MPI_MODULE_DIR "/amflow_mpi.so",
        std::string("amflow_mpi.so")}) {
    module = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (module) break;
    const char* why = ::dlerror();
    tried += (tried.empty() ? "" : "; ") + std::string(why ? why : path);
  }
  if (!module) {
    throw std::runtime_error("MPI: cannot load amflow_mpi.so (" + printable(tried, 600) + ")");
  }
  const auto get = [module](const char* name) {
    void* f = ::dlsym(module, name);
    if (!f) throw std::runtime_error(std::string("MPI: amflow_mpi.so lacks ") + name);
    return f;
  };
  mpi_calls calls;
  calls.init = reinterpret_cast<int (*)(int*, int*)>(get("amflow_mpi_init"));
  calls.finalize = reinterpret_cast<void (*)()>(get("amflow_mpi_finalize"));
  calls.abort = reinterpret_cast<void (*)(int)>(get("amflow_mpi_abort"));
  calls.bcast_int = reinterpret_cast<int (*)(int)>(get("amflow_mpi_bcast_int"));
  calls.send_bytes =
      reinterpret_cast<void (*)(const char*, int, int, int)>(get("amflow_mpi_send_bytes"));
  calls.recv_bytes = reinterpret_cast<void (*)(char*, int, int, int)>(get("amflow_mpi_recv_bytes"));
  calls.send_ll = reinterpret_cast<void (*)(long long, int, int)>(get("amflow_mpi_send_ll"));
  calls.recv_ll = reinterpret_cast<long long (*)(int, int)>(get("amflow_mpi_recv_ll"));
  calls.iprobe = reinterpret_cast<int (*)(int, int*, int*)>(get("amflow_mpi_iprobe"));
  mpi = calls;
}

constexpr int request_tag = 1;  // rank > 0 -> 0: ready, with the last row computed (if any)
constexpr int assign_tag = 2;   // 0 -> rank: the next position, or -1: stop

int quiet_stderr_copy = -1;  // ranks > 0: the real standard error, for fatal messages

[[noreturn]] void fatal(const std::string& message) {
  const std::string line = "amflow: rank failure: " + printable(message, 1000) + "\n";
  const int fd = quiet_stderr_copy >= 0 ? quiet_stderr_copy : STDERR_FILENO;
  if (::write(fd, line.data(), line.size()) < 0) {
    // nothing more to do: the run stops either way
  }
  mpi.abort(1);
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
  load_mpi();
  if (!mpi.init(&rank_, &size_)) {
    throw std::runtime_error("MPI: the library cannot run a second (non-MPI) thread per rank");
  }
  if (rank_ > 0) {
    quiet_stderr_copy = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
    const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) {
      ::dup2(null, STDERR_FILENO);
      ::close(null);
    }
  }
}

mpi_session::~mpi_session() { mpi.finalize(); }

bool mpi_session::agree(bool ok) const { return mpi.bcast_int(ok ? 1 : 0) == 1; }

void mpi_distribute(const mpi_session& session, const std::vector<size_t>& cells,
                    const std::function<std::vector<io::cell>(size_t)>& compute,
                    const std::function<void(size_t, std::vector<io::cell>)>& deliver) {
  const long long n = static_cast<long long>(cells.size());
  if (session.rank() > 0) {
    // Ask, compute, answer with the row (which asks again), until told to stop.
    std::string message;
    for (;;) {
      mpi.send_bytes(message.data(), static_cast<int>(message.size()), 0, request_tag);
      const long long position = mpi.recv_ll(0, assign_tag);
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
      int source = 0, size = 0;
      if (mpi.iprobe(request_tag, &source, &size)) {
        busy = true;
        std::string message(static_cast<size_t>(size), '\0');
        mpi.recv_bytes(message.data(), size, source, request_tag);
        if (!message.empty()) {
          auto [position, row] = decode(message);
          const std::lock_guard<std::mutex> lock(mutex);
          rows.emplace(position, std::move(row));
        }
        long long position = take();
        if (position < 0) --active;
        mpi.send_ll(position, source, assign_tag);
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
