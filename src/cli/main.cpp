// The amflow command: parses the command line, runs one command, maps failures to exit codes
// (0 success, 1 runtime failure, 2 invalid input, 3 a verified claim failed). Every message is one
// bounded, printable line on standard error.
#include <CLI/CLI.hpp>
#include <iostream>
#include <new>

#include "amflow/errors.hpp"
#include "amflow/parallel.hpp"
#include "cli/common.hpp"

namespace {

constexpr std::size_t message_limit = 1000;

int report(const char* kind, const std::string& message, int code) {
  std::cerr << "amflow: " << kind << ": " << amflow::printable(message, message_limit) << "\n";
  return code;
}

// The names of an app's subcommands, "a, b, c".
std::string command_list(const CLI::App& app) {
  std::string out;
  for (const CLI::App* sub : app.get_subcommands({})) {
    out += (out.empty() ? "" : ", ") + sub->get_name();
  }
  return out;
}

// CLI11 reports a missing or misspelt command as "A subcommand is required" or as an unexpected
// argument; name the word the user typed and the commands that exist instead. Every level that
// needs a subcommand is checked (amflow problem shw).
void check_command_names(const CLI::App& root, int argc, char** argv) {
  const CLI::App* app = &root;
  std::string path = "command";
  int i = 1;
  while (app->get_require_subcommand_min() > 0) {
    if (i >= argc) {
      throw amflow::input_error(path, "(none)",
                                "give one of " + command_list(*app) + " (see --help)");
    }
    const std::string word = argv[i];
    if (!word.empty() && word[0] == '-') return;  // --help, --version: CLI11's
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : app->get_subcommands({})) {
      if (sub->get_name() == word) next = sub;
    }
    if (!next) {
      throw amflow::input_error(path, word,
                                "unknown command; the commands are " + command_list(*app));
    }
    path = "command " + word;
    app = next;
    ++i;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "amflow: high-precision numerical analysis of associative memories trained with "
      "cross-entropy",
      "amflow"};
  app.set_version_flag("--version", std::string("amflow ") + amflow::cli::version);
  app.require_subcommand(1);
  amflow::cli::register_problem(app);
  amflow::cli::register_flow(app);
  amflow::cli::register_gd(app);
  amflow::cli::register_compare(app);
  amflow::cli::register_sweep(app);
  amflow::cli::register_verify(app);
  try {
    check_command_names(app, argc, argv);
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return report("invalid input", e.what(), 2);
  } catch (const amflow::input_error& e) {
    return report("invalid input", e.what(), 2);
  } catch (const amflow::cli::claims_failed& e) {
    return report("verify", e.what(), 3);
  } catch (const std::bad_alloc&) {
    return report("error", "out of memory (a smaller problem, fewer threads or fewer digits)", 1);
  } catch (const std::exception& e) {
    return report("error", e.what(), 1);
  }
  if (amflow::refused_threads() > 0) {
    report("warning",
           "the system refused to start " + std::to_string(amflow::refused_threads()) +
               " thread(s) (a process or memory limit); the work ran on those that started, with "
               "the same results",
           0);
  }
  return 0;
}
