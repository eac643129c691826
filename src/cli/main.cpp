// The amflow command: parses the command line, runs one command, maps failures to exit codes
// (0 success, 1 runtime failure, 2 invalid input, 3 a verified claim failed). Every message is one
// bounded, printable line on standard error.
#include <CLI/CLI.hpp>
#include <algorithm>
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
    if (word == "--help" || word == "-h" || word == "--help-all" || word == "--version") return;
    if (!word.empty() && word[0] == '-') {
      throw amflow::input_error(path, word,
                                "give one of " + command_list(*app) + " before any option");
    }
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

// CLI11's parse errors in the contract's form, FIELD = VALUE: REASON.
std::string contract_message(const CLI::ParseError& e) {
  const std::string what = e.what();
  const auto starts = [&](const char* prefix) { return what.rfind(prefix, 0) == 0; };
  if (starts("The following argument")) {
    const size_t colon = what.find(": ");
    const std::string rest = colon == std::string::npos ? what : what.substr(colon + 2);
    // CLI11 lists them last first; name an option if there is one (--digits in "9 --digits").
    std::string first = rest.substr(0, rest.find(' '));
    for (size_t at = 0; at < rest.size();) {
      const size_t end = std::min(rest.find(' ', at), rest.size());
      if (rest[at] == '-') {
        first = rest.substr(at, end - at);
        break;
      }
      at = end + 1;
    }
    return "argument = " + first + ": not expected by this command (see its --help)";
  }
  const size_t override_at = what.find(" was given a disallowed flag override");
  if (override_at != std::string::npos) {
    return "--" + what.substr(0, override_at) + " = (a value): a flag takes no value";
  }
  const size_t required = what.find(" is required");
  if (required != std::string::npos && what.find(':') == std::string::npos) {
    return what.substr(0, required) + " = (missing): required";
  }
  const size_t colon = what.find(": ");
  if (colon != std::string::npos && starts("-")) {
    const std::string flag = what.substr(0, colon), rest = what.substr(colon + 2);
    if (rest.find("required") != std::string::npos && rest.find("missing") != std::string::npos) {
      return flag + " = (none): needs a value";
    }
    if (rest.rfind("At Most", 0) == 0) return flag + " = (given more than once): give it once";
    return flag + " = (see --help): " + rest;
  }
  return "command line = (see --help): " + what;
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
  amflow::cli::register_merge(app);
  amflow::cli::register_scaling(app);
  amflow::cli::register_limits(app);
  amflow::cli::register_verify(app);
  amflow::cli::register_enclose(app);
  amflow::cli::register_landscape(app);
  amflow::cli::register_figures(app);
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
    return report("invalid input", contract_message(e), 2);
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
