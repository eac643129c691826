// The amflow command: parses the command line, runs one command, maps failures to exit codes
// (0 success, 1 runtime failure, 2 invalid input, 3 a verified claim failed). Every message is one
// bounded, printable line on standard error.
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "amflow/errors.hpp"
#include "amflow/parallel.hpp"
#include "cli/common.hpp"

namespace {

constexpr std::size_t message_limit = 1000;

int report(const char* kind, const std::string& message, int code) {
  std::cerr << "amflow: " << kind << ": " << amflow::printable(message, message_limit) << "\n";
  return code;
}

// The names of an app's subcommands, and the one named `name` (nullptr when none is).
std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  return names;
}

const CLI::App* subcommand(const CLI::App& app, const std::string& name) {
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_name() == name) return sub;
  }
  return nullptr;
}

// The names of an app's subcommands, "a, b, c".
std::string command_list(const CLI::App& app) {
  std::string out;
  for (const std::string& name : command_names(app)) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// How many leading words name a chain of commands (amflow problem show ...: 2), and the last one.
std::pair<size_t, const CLI::App*> command_path(const CLI::App& root,
                                                const std::vector<std::string>& words) {
  const CLI::App* app = &root;
  size_t n = 0;
  for (const CLI::App* next; n < words.size() && (next = subcommand(*app, words[n])); ++n) {
    app = next;
  }
  return {n, app};
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
    const CLI::App* next = subcommand(*app, word);
    if (!next) {
      throw amflow::input_error(path, word,
                                "unknown command; the commands are " + command_list(*app) +
                                    amflow::did_you_mean(word, command_names(*app)));
    }
    path = "command " + word;
    app = next;
    ++i;
  }
}

// "; did you mean --problem?" for an option of `app` near `word` (the part before any "=").
std::string option_suggestion(const CLI::App& app, const std::string& word) {
  if (word.rfind("--", 0) != 0) return "";
  std::vector<std::string> names;
  for (const CLI::Option* opt : app.get_options()) {
    for (const std::string& n : opt->get_lnames()) names.push_back("--" + n);
  }
  return amflow::did_you_mean(word.substr(0, word.find('=')), names);
}

// CLI11's parse errors in the contract's form, FIELD = VALUE: REASON.
std::string contract_message(const CLI::ParseError& e, const CLI::App& command) {
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
    return "argument = " + first + ": not expected by this command (see its --help)" +
           option_suggestion(command, first);
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

// The help text wrapped to `width` columns: a long line continues under its description (the
// column after the first run of two spaces past the indent), or under its own indent.
std::string wrap_help(const std::string& text, size_t width) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    const size_t indent = line.find_first_not_of(' ');
    size_t column = indent == std::string::npos ? 0 : indent;
    const size_t gap = line.find("  ", column);
    if (gap != std::string::npos) {
      const size_t after = line.find_first_not_of(' ', gap);
      if (after != std::string::npos && after < width / 2) column = after;
    }
    while (line.size() > width && column + 20 < width) {
      size_t cut = line.rfind(' ', width);
      if (cut == std::string::npos || cut <= column) cut = line.find(' ', width);
      if (cut == std::string::npos) break;
      out += line.substr(0, cut) + "\n";
      const size_t next = line.find_first_not_of(' ', cut);
      if (next == std::string::npos) {
        line.clear();
        break;
      }
      line = std::string(column, ' ') + line.substr(next);
    }
    out += line;
    if (end < text.size()) out += "\n";
  }
  return out;
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
  amflow::cli::register_transformer(app);
  // `amflow`, `amflow help` and `amflow help COMMAND...` print the help; --help (or -h) anywhere
  // before "--" wins over everything else on the line (gd --help --eta: the help, not a complaint
  // about --eta's missing value).
  std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty()) words = {"--help"};
  if (words[0] == "help") {
    words.erase(words.begin());
    words.push_back("--help");
  }
  for (size_t i = 0; i < words.size() && words[i] != "--"; ++i) {
    if (words[i] == "--help" || words[i] == "-h" || words[i] == "--help-all") {
      const std::string help = words[i];
      words.resize(command_path(app, words).first);
      words.push_back(help);
      break;
    }
  }
  std::vector<char*> args{argv[0]};
  for (std::string& w : words) args.push_back(w.data());
  argc = static_cast<int>(args.size());
  argv = args.data();
  try {
    check_command_names(app, argc, argv);
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << wrap_help(app.help(), amflow::cli::output_width(isatty(STDOUT_FILENO) != 0));
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << wrap_help(app.help("", CLI::AppFormatMode::All),
                           amflow::cli::output_width(isatty(STDOUT_FILENO) != 0));
    return 0;
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return report("invalid input", contract_message(e, *command_path(app, words).second), 2);
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
