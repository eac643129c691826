// amflow figures: every figure of the authors' study and amflow's own, and a report page. For each
// figure it runs amflow commands (this binary, in the output directory, their JSON output in
// data/), writes the figure's description to NAME.json and has the plot script (embedded in the
// binary, written to data/amflow_plots.py, run by Debian's /usr/bin/python3 with matplotlib) draw
// NAME.png and NAME.pdf from those files alone; then index.html gathers `amflow verify`'s table
// and every figure with its caption and exact commands. Everything is made in a directory beside
// --output and moved in at the end: a failure leaves --output as it was.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>

#include "amflow/errors.hpp"
#include "analysis/figures.hpp"
#include "cli/common.hpp"

extern char** environ;

namespace amflow::cli {

const char* plots_script();  // analysis/plot/amflow_plots.py (generated at build time)

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using analysis::figure_def;
using analysis::figure_run;

struct figures_cli_options {
  std::string output;
  std::string only;
  std::string python;
  bool quick = false;
};

// SIGINT, SIGTERM and SIGHUP during the work: passed on to the running child, then the staging
// directory is removed (by unwinding) and the process ends by the same signal.
volatile std::sig_atomic_t caught_signal = 0;
volatile pid_t running_child = 0;
volatile pid_t plotter_child = 0;  // the drawing process, running beside the data runs

extern "C" void on_figures_signal(int sig) {
  caught_signal = sig;
  const pid_t child = running_child;
  if (child > 0) kill(child, sig);
  const pid_t plotter = plotter_child;
  if (plotter > 0) kill(plotter, sig);
}

struct interrupted {
  int sig;
};

void watch_figures_signals() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction current {};
    sigaction(sig, nullptr, &current);
    if (current.sa_handler == SIG_IGN) continue;  // keep what the parent asked (nohup)
    struct sigaction action {};
    action.sa_handler = on_figures_signal;
    sigemptyset(&action.sa_mask);
    sigaction(sig, &action, nullptr);
  }
}

void throw_if_interrupted() {
  if (caught_signal != 0) throw interrupted{caught_signal};
}

// A child process in `cwd` with standard output and error to `log`; its exit status (-1: killed
// or not started) and wall time.
struct child_result {
  int status = -1;
  double seconds = 0;
};

// Starts exe in `cwd` with standard output and error to `log` and standard input from
// `stdin_fd` (-1: /dev/null); returns its pid.
pid_t start_child(const std::string& exe, const std::vector<std::string>& args, const fs::path& cwd,
                  const fs::path& log, const std::vector<std::string>& extra_env,
                  int stdin_fd = -1) {
  std::vector<std::string> argv_s = {exe};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string v = *e;
    if (v.rfind("AMFLOW_PROGRESS=", 0) == 0 || v.rfind("SOURCE_DATE_EPOCH=", 0) == 0) continue;
    env_s.push_back(v);
  }
  env_s.insert(env_s.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (std::string& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string cwd_s = cwd.string(), log_s = log.string();

  throw_if_interrupted();
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("figures: fork failed: ") + strerror(errno));
  if (pid == 0) {
    const int out = open(log_s.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int in = stdin_fd >= 0 ? stdin_fd : open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || in < 0 || chdir(cwd_s.c_str()) != 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
        dup2(out, 2) < 0) {
      _exit(127);
    }
    execve(argv[0], argv.data(), envp.data());
    const char msg[] = "amflow figures: cannot execute the program\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  return pid;
}

// Waits for a child; its exit status (-1: killed).
int wait_child(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("figures: waitpid failed");
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

child_result run_child(const std::string& exe, const std::vector<std::string>& args,
                       const fs::path& cwd, const fs::path& log,
                       const std::vector<std::string>& extra_env) {
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = start_child(exe, args, cwd, log, extra_env);
  running_child = pid;
  if (caught_signal != 0) kill(pid, caught_signal);  // a signal between fork and here
  const int status = wait_child(pid);
  running_child = 0;
  throw_if_interrupted();
  child_result r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.status = status;
  return r;
}

// The plot script in one process (`amflow_plots.py serve`: matplotlib imported once) that draws
// each figure as its data is ready, on the other core, while the next figure's data is computed.
class plotter {
 public:
  plotter(const std::string& python, const fs::path& stage, const fs::path& log,
          const std::vector<std::string>& env) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("figures: pipe failed: ") + strerror(errno));
    }
    to_child_ = fds[1];
    try {
      pid_ = start_child(python, {"data/amflow_plots.py", "serve"}, stage, log, env, fds[0]);
    } catch (...) {
      close(fds[0]);
      close(fds[1]);
      throw;
    }
    close(fds[0]);
    plotter_child = pid_;
    if (caught_signal != 0) kill(pid_, caught_signal);
  }
  plotter(const plotter&) = delete;
  plotter& operator=(const plotter&) = delete;
  ~plotter() {
    if (pid_ > 0) {  // unwinding: stop it
      kill(pid_, SIGTERM);
      finish();
    }
  }
  // Asks for NAME.png and NAME.pdf from NAME.json.
  void draw(const std::string& name) {
    const std::string line = name + "\n";
    if (write(to_child_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      throw std::runtime_error("figures: the plot script stopped early (see below)");
    }
  }
  // No more figures: waits until every one is drawn; the script's exit status.
  int finish() {
    if (to_child_ >= 0) close(to_child_);
    to_child_ = -1;
    const int status = pid_ > 0 ? wait_child(pid_) : -1;
    pid_ = -1;
    plotter_child = 0;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int to_child_ = -1;
};

std::string tail_of(const fs::path& log) {
  std::ifstream in(log);
  std::string line, last;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  // The last lines, on the error's one line.
  const size_t from = lines.size() > 3 ? lines.size() - 3 : 0;
  for (size_t i = from; i < lines.size(); ++i) last += (i == from ? ": " : " | ") + lines[i];
  return last;
}

std::string self_exe() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("figures: cannot find amflow's own executable (/proc/self/exe)");
  return p.string();
}

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

// "name 1.2 s, name 0.9 s" from the plot script's "drawn NAME SECONDS" lines.
std::string plot_times(const fs::path& log) {
  std::ifstream in(log);
  std::string line, out;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string tag, name;
    double seconds = 0;
    if (words >> tag >> name >> seconds && tag == "drawn") {
      out += (out.empty() ? "" : ", ") + name + " " + format_seconds(seconds);
    }
  }
  return out;
}

// Removes the staging directory unless released.
struct staging_guard {
  fs::path path;
  ~staging_guard() {
    if (path.empty()) return;
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("figures: cannot write " + path.string());
}

// What the options ask for, checked before anything is written.
struct figures_plan {
  fs::path out_dir, parent;
  bool exists = false;  // the output directory is there already (its other files are kept)
  std::vector<figure_def> figs;
  std::string python;
};

// The figures --only names (all when empty), refusing an unknown name with the list.
std::vector<figure_def> selected_figures(const std::string& only, bool quick) {
  std::vector<figure_def> figs = analysis::figure_registry(quick);
  if (only.empty()) return figs;
  std::set<std::string> wanted;
  std::stringstream ss(only);
  std::string name;
  while (std::getline(ss, name, ',')) {
    bool known = false;
    for (const figure_def& f : figs) known = known || f.name == name;
    if (!known) {
      std::string names;
      for (const figure_def& f : figs) names += (names.empty() ? "" : ", ") + f.name;
      throw input_error("--only", name.empty() ? "\"\"" : name,
                        "is not a figure (figures: " + names + ")");
    }
    wanted.insert(name);
  }
  std::vector<figure_def> kept;
  for (const figure_def& f : figs) {
    if (wanted.count(f.name)) kept.push_back(f);
  }
  return kept;
}

figures_plan plan_figures(const figures_cli_options& o) {
  if (o.output.empty()) {
    throw input_error("--output", "(missing)", "give the directory to write the figures to");
  }
  figures_plan plan;
  plan.out_dir = fs::path(o.output).lexically_normal();
  std::error_code ec;
  const auto st = fs::status(plan.out_dir, ec);
  plan.exists = fs::exists(st);
  if (plan.exists && !fs::is_directory(st)) {
    throw input_error("--output", o.output, "exists and is not a directory");
  }
  plan.parent = fs::absolute(plan.out_dir, ec).parent_path();
  if (ec || !fs::is_directory(plan.parent)) {
    throw input_error("--output", o.output, "its parent directory does not exist");
  }
  plan.figs = selected_figures(o.only, o.quick);
  plan.python = o.python;
  if (plan.python.empty()) {
    const char* env = std::getenv("AMFLOW_PYTHON");
    plan.python = env != nullptr && *env != '\0' ? env : "/usr/bin/python3";
  }
  if (access(plan.python.c_str(), X_OK) != 0) {
    throw input_error("--python", plan.python, "is not an executable file");
  }
  return plan;
}

const std::vector<std::string> py_env = {"SOURCE_DATE_EPOCH=0", "MPLBACKEND=Agg",
                                         "PYTHONHASHSEED=0", "PYTHONDONTWRITEBYTECODE=1"};

// The staging directory: the plot script, the plotting stack checked, logs in .logs/.
class figures_stage {
 public:
  figures_stage(const fs::path& path, const std::string& python) : dir(path), python_(python) {
    fs::create_directory(dir / "data");
    fs::create_directory(dir / ".logs");
    write_file(dir / "data" / "amflow_plots.py", plots_script());
    const child_result r =
        run_child(python, {"-c", "import matplotlib, numpy"}, dir, dir / ".logs" / "check", py_env);
    if (r.status != 0) {
      throw std::runtime_error(
          "figures: " + python +
          " cannot import matplotlib and numpy (Debian: apt-get install python3-matplotlib "
          "python3-numpy; scripts/setup-deps.sh installs them)" +
          tail_of(dir / ".logs" / "check"));
    }
  }
  // Runs amflow in the stage; its wall time. Throws with the log's last lines when it fails.
  double amflow(const figure_run& r) {
    const fs::path log = dir / ".logs" / std::to_string(++logs_);
    std::vector<std::string> args = r.args;
    args.push_back("--output");
    args.push_back(r.file);
    const child_result c = run_child(exe_, args, dir, log, {});
    const bool ok = c.status == 0 || (r.may_fail_claims && c.status == 3);
    if (!ok) {
      throw std::runtime_error("figures: `" + analysis::figure_command(r) + "` failed (exit " +
                               std::to_string(c.status) + ")" + tail_of(log));
    }
    return c.seconds;
  }
  // The figure's problem files and runs (each output file made once: one sweep, two figures),
  // then NAME.json for the plot script; the seconds it took.
  double make_data(const figure_def& f, bool quick) {
    const auto start = std::chrono::steady_clock::now();
    json spec = {{"name", f.name},       {"title", f.title},         {"caption", f.caption},
                 {"problem", f.problem}, {"precision", f.precision}, {"params", f.params},
                 {"quick", quick},       {"amflow", version}};
    std::vector<std::string> commands;
    json data = json::object(), timings = json::object();
    for (const analysis::figure_problem& p : f.problems) {
      write_file(dir / p.file, analysis::figure_problem_json(p).dump(2) + "\n");
      commands.push_back(analysis::figure_problem_comment(p));
    }
    for (const figure_run& r : f.runs) {
      commands.push_back(analysis::figure_command(r));
      data[r.key] = r.file;
      auto it = done_files_.find(r.file);
      const double s = it != done_files_.end() ? it->second : amflow(r);
      done_files_[r.file] = s;
      timings[r.key] = s;
    }
    spec["commands"] = commands;
    spec["data"] = data;
    spec["timings"] = timings;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    spec["seconds"] = seconds;
    write_file(dir / (f.name + ".json"), spec.dump(2) + "\n");
    return seconds;
  }
  // index.html: this run's figures, and those already in `existing` (empty: none).
  void write_index(const fs::path& existing) {
    std::vector<std::string> args = {"data/amflow_plots.py", "index", "."};
    if (!existing.empty()) args.push_back(existing.string());
    const fs::path log = dir / ".logs" / "index";
    const child_result c = run_child(python_, args, dir, log, py_env);
    if (c.status != 0) {
      throw std::runtime_error("figures: the report page failed (exit " + std::to_string(c.status) +
                               ")" + tail_of(log));
    }
  }

  const fs::path dir;

 private:
  std::string python_;
  std::string exe_ = self_exe();
  int logs_ = 0;
  std::map<std::string, double> done_files_;
};

// Waits for the plot script to draw every figure and checks that each one's PNG and PDF are there.
void finish_drawing(plotter& drawing, const figures_stage& stage,
                    const std::vector<figure_def>& figs) {
  const fs::path plot_log = stage.dir / ".logs" / "plot";
  const auto drawn_from = std::chrono::steady_clock::now();
  const int status = drawing.finish();
  throw_if_interrupted();
  if (status != 0) {
    throw std::runtime_error("figures: the plot script failed (exit " + std::to_string(status) +
                             ")" + tail_of(plot_log));
  }
  for (const figure_def& f : figs) {
    for (const char* ext : {".png", ".pdf"}) {
      if (!fs::exists(stage.dir / (f.name + ext))) {
        throw std::runtime_error("figures: the plot script made no " + f.name + ext +
                                 tail_of(plot_log));
      }
    }
  }
  std::cerr
      << "amflow figures: drawing done ("
      << format_seconds(
             std::chrono::duration<double>(std::chrono::steady_clock::now() - drawn_from).count())
      << " after the last data; per figure: " << plot_times(plot_log) << ")\n";
}

// Into place: the whole directory when it is new, else file by file.
void move_into_place(const fs::path& stage, const figures_plan& plan) {
  if (!plan.exists) {
    fs::rename(stage, plan.out_dir);
    return;
  }
  fs::create_directories(plan.out_dir / "data");
  for (const fs::path& sub : {fs::path("data"), fs::path(".")}) {
    for (const auto& e : fs::directory_iterator(stage / sub)) {
      if (e.is_regular_file()) fs::rename(e.path(), plan.out_dir / sub / e.path().filename());
    }
  }
}

void run_figures(const figures_cli_options& o) {
  const figures_plan plan = plan_figures(o);
  // The staging directory, beside the output so that the final moves are renames.
  std::string tmpl = (plan.parent / ("." + fs::absolute(plan.out_dir).filename().string() +
                                     ".amflow-figures-XXXXXX"))
                         .string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("figures: cannot create a directory beside " + o.output + ": " +
                             strerror(errno));
  }
  staging_guard guard{tmpl};
  watch_figures_signals();
  figures_stage stage(tmpl, plan.python);

  const auto start = std::chrono::steady_clock::now();
  {  // the verification table for the page
    const double s =
        stage.amflow({"verify", {"verify", "--format", "json"}, "data/verify.json", true});
    std::cerr << "amflow figures: verify table (" << format_seconds(s) << ")\n";
  }
  // A figure that fails in the script writes nothing else; its error is in the log.
  signal(SIGPIPE, SIG_IGN);
  plotter drawing(plan.python, stage.dir, stage.dir / ".logs" / "plot", py_env);
  for (size_t i = 0; i < plan.figs.size(); ++i) {
    const double s = stage.make_data(plan.figs[i], o.quick);
    drawing.draw(plan.figs[i].name);
    std::cerr << "amflow figures: [" << i + 1 << "/" << plan.figs.size() << "] "
              << plan.figs[i].name << " (data " << format_seconds(s)
              << "; drawn beside the next)\n";
  }
  finish_drawing(drawing, stage, plan.figs);
  stage.write_index(plan.exists ? fs::absolute(plan.out_dir) : fs::path());
  fs::remove_all(stage.dir / ".logs");
  throw_if_interrupted();
  move_into_place(stage.dir, plan);
  const double total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const size_t n = plan.figs.size();
  std::cerr << "amflow figures: " << n << " figure" << (n == 1 ? "" : "s") << " and index.html in "
            << o.output << " (" << format_seconds(total) << ")\n";
  if (!plan.exists) guard.path.clear();
}

}  // namespace

void register_figures(CLI::App& app) {
  auto o = std::make_shared<figures_cli_options>();
  CLI::App* cmd = app.add_subcommand(
      "figures",
      "run the studies and draw every figure (PNG and PDF) and a report page, DIR/index.html");
  cmd->add_option("--output", o->output,
                  "the directory to write (made if missing; its other files are kept)");
  cmd->add_option(
      "--only", o->only,
      std::string("these figures only, comma-separated (") + analysis::figure_names + ")");
  cmd->add_flag("--quick", o->quick,
                "small runs of the same experiments (a smoke test: coarser grids, shorter "
                "horizons, fewer digits; the captions say so)")
      ->disable_flag_override();
  cmd->add_option("--python", o->python,
                  "the Python with matplotlib and numpy (default: $AMFLOW_PYTHON, else "
                  "/usr/bin/python3)");
  cmd->callback([o, cmd] {
    flag_map flags;
    run_command(*cmd, flags, [&] {
      try {
        run_figures(*o);
      } catch (const interrupted& i) {  // the staging directory is gone; end by the signal
        std::signal(i.sig, SIG_DFL);
        std::raise(i.sig);
      }
    });
  });
}

}  // namespace amflow::cli
