// The amflow command: parses the command line, runs one command, maps failures to exit codes
// (0 success, 1 runtime failure, 2 invalid input, 3 a verified claim failed).
#include <CLI/CLI.hpp>
#include <iostream>

#include "amflow/errors.hpp"
#include "cli/common.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "amflow: high-precision numerical analysis of associative memories trained with "
      "cross-entropy"};
  app.set_version_flag("--version", std::string("amflow ") + amflow::cli::version);
  app.require_subcommand(1);
  amflow::cli::register_problem(app);
  amflow::cli::register_flow(app);
  amflow::cli::register_gd(app);
  amflow::cli::register_compare(app);
  amflow::cli::register_sweep(app);
  amflow::cli::register_verify(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "amflow: invalid input: " << e.what() << "\n";
    return 2;
  } catch (const amflow::input_error& e) {
    std::cerr << "amflow: invalid input: " << e.what() << "\n";
    return 2;
  } catch (const amflow::cli::claims_failed& e) {
    std::cerr << "amflow: verify: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "amflow: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
