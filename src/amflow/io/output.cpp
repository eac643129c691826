#include "amflow/io/output.hpp"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "amflow/errors.hpp"

namespace amflow::io {
namespace {

// The temporary file being written, removed by the signal handler if the process is interrupted
// (a plain array: only async-signal-safe calls may touch it there).
char pending_temporary[PATH_MAX + 1] = {0};
// What the handler says on standard error (what was kept of the output), and whether it first
// erases a progress line there (standard error a terminal).
char pending_message[2 * PATH_MAX + 400] = "amflow: interrupted\n";
bool erase_line = false;

extern "C" void remove_pending_and_reraise(int sig) {
  if (pending_temporary[0] != '\0') ::unlink(pending_temporary);
  if (erase_line && ::write(STDERR_FILENO, "\r\033[K", 4) < 0) {
    // nothing more to do: the process ends either way
  }
  if (::write(STDERR_FILENO, pending_message, std::strlen(pending_message)) < 0) {
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void say_on_interrupt(const std::string& message) {
  const std::string line = printable(message, sizeof pending_message - 2) + "\n";
  std::memcpy(pending_message, line.c_str(), line.size() + 1);
}

void watch_signals() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  erase_line = ::isatty(STDERR_FILENO) != 0;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction current {};
    ::sigaction(sig, nullptr, &current);
    if (current.sa_handler == SIG_IGN) continue;  // keep what the parent asked (nohup)
    struct sigaction action {};
    action.sa_handler = remove_pending_and_reraise;
    sigemptyset(&action.sa_mask);
    ::sigaction(sig, &action, nullptr);
  }
}

[[noreturn]] void cannot_write(const std::string& path, int err) {
  throw input_error("output", path, std::string("cannot be written: ") + std::strerror(err));
}

std::string folder_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string name_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Follows a chain of symbolic links from `path` to the first name that is not one (it may not
// exist: a dangling link names the file to create), with every folder made canonical. Sets
// `descriptor` to N when the chain passes through this process's /proc/PID/fd/N (/dev/stdout,
// /dev/fd/N), -1 otherwise.
std::string follow_links(const std::string& path, int& descriptor) {
  descriptor = -1;
  const std::string own = "/proc/" + std::to_string(::getpid()) + "/fd/";
  std::string current = path;
  for (int hops = 0; hops < 40; ++hops) {
    const std::string name = name_of(current);
    if (name.empty() || name == "." || name == "..") {
      throw input_error("output", path, "names a folder; give a file name");
    }
    char folder[PATH_MAX + 1];
    if (::realpath(folder_of(current).c_str(), folder) == nullptr) cannot_write(path, errno);
    current = std::string(folder) + (folder[1] == '\0' ? "" : "/") + name;
    if (current.rfind(own, 0) == 0 &&
        current.find_first_not_of("0123456789", own.size()) == std::string::npos) {
      descriptor = std::atoi(current.c_str() + own.size());
      return current;
    }
    struct stat st {};
    if (::lstat(current.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return current;
    char buf[PATH_MAX + 1];
    const ssize_t n = ::readlink(current.c_str(), buf, PATH_MAX);
    if (n < 0) cannot_write(path, errno);
    buf[n] = '\0';
    const std::string link(buf);
    current = link.front() == '/' ? link : std::string(folder) + "/" + link;
  }
  cannot_write(path, ELOOP);
}

}  // namespace

output_target::output_target(const std::string& path, long long in_place_from) : path_(path) {
  watch_signals();
  if (path.empty() || path == "-") {
    fd_ = STDOUT_FILENO;
    terminal_ = ::isatty(fd_) != 0;
    say_on_interrupt("amflow: interrupted");
    return;
  }
  int descriptor = -1;
  target_ = follow_links(path, descriptor);
  if (descriptor >= 0) {
    // /dev/stdout, /dev/fd/N: this process's own descriptor, written as the shell opened it
    // (appending after >>).
    mode_ = mode::direct;
    fd_ = ::fcntl(descriptor, F_DUPFD_CLOEXEC, 0);
    if (fd_ < 0) cannot_write(path, errno);
    terminal_ = ::isatty(fd_) != 0;
    return;
  }
  struct stat st {};
  if (::stat(target_.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw input_error("output", path, "is a directory; give a file name");
    if (!S_ISREG(st.st_mode)) {
      // A device, a FIFO or a socket: written into, never replaced.
      mode_ = mode::direct;
      fd_ = ::open(target_.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd_ < 0) cannot_write(path, errno);
      terminal_ = ::isatty(fd_) != 0;
      return;
    }
    permissions_ = st.st_mode & 07777;
    if (::access(target_.c_str(), W_OK) != 0) cannot_write(path, errno);
  } else if (errno == ENOENT) {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    permissions_ = 0666 & ~mask;
  } else {
    cannot_write(path, errno);
  }
  if (in_place_from >= 0) {
    mode_ = mode::direct;
    fd_ = ::open(target_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd_ < 0) cannot_write(path, errno);
    if (::ftruncate(fd_, static_cast<off_t>(in_place_from)) != 0 || ::lseek(fd_, 0, SEEK_END) < 0) {
      cannot_write(path, errno);
    }
    say_on_interrupt("amflow: interrupted: the rows finished so far are kept in " + path +
                     " (--resume " + path + " goes on from them)");
    return;
  }
  mode_ = mode::atomic;
  std::string pattern = folder_of(target_) + "/." + name_of(target_) + ".tmp.XXXXXX";
  if (pattern.size() > PATH_MAX) cannot_write(path, ENAMETOOLONG);
  fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd_ < 0) cannot_write(path, errno);
  temporary_ = pattern;
  std::memcpy(pending_temporary, temporary_.c_str(), temporary_.size() + 1);
  say_on_interrupt("amflow: interrupted: nothing was written to " + path +
                   " (the file is written only when the run ends)");
}

output_target::~output_target() {
  if (mode_ == mode::standard_output) return;
  if (fd_ >= 0) ::close(fd_);
  if (mode_ == mode::atomic && !committed_) {
    ::unlink(temporary_.c_str());
    pending_temporary[0] = '\0';
  }
}

void output_target::write(std::string_view text) {
  if (committed_) throw std::logic_error("output_target: write after commit");
  if (before_write) before_write();
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string where = mode_ == mode::standard_output ? "standard output" : path_;
      throw std::runtime_error("cannot write " + printable(where, 200) + ": " +
                               std::strerror(n < 0 ? errno : EIO));
    }
    done += static_cast<size_t>(n);
  }
}

void output_target::commit() {
  if (committed_) return;
  if (mode_ == mode::atomic) {
    const auto failed = [&](int err) {
      throw std::runtime_error("cannot write " + printable(path_, 200) + ": " + std::strerror(err));
    };
    if (::fchmod(fd_, permissions_) != 0) failed(errno);
    if (::fsync(fd_) != 0) failed(errno);
    const int closed = ::close(fd_);
    fd_ = -1;
    if (closed != 0) failed(errno);
    if (::rename(temporary_.c_str(), target_.c_str()) != 0) failed(errno);
    pending_temporary[0] = '\0';
    say_on_interrupt("amflow: interrupted");
  } else if (mode_ == mode::direct) {
    const int closed = ::close(fd_);
    fd_ = -1;
    if (closed != 0) {
      throw std::runtime_error("cannot write " + printable(path_, 200) + ": " +
                               std::strerror(errno));
    }
  }
  committed_ = true;
}

void write_output(const std::string& path, const std::string& content) {
  output_target out(path);
  out.write(content);
  out.commit();
}

}  // namespace amflow::io
