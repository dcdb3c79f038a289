// The gan CLI: shared options and one add_*_command() per subcommand file.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace gan::cli {

struct GlobalOptions {
  std::vector<std::string> plugin_dirs;
  bool verbose = false;
  bool quiet = false;
  std::vector<std::string> args;  // the command line after the program name, as given
};

// Loads plugins from --plugin-dir, GAN_PLUGIN_PATH and the default folder (once).
void load_all_plugins(const GlobalOptions& g);

void add_plugins_command(CLI::App& app, GlobalOptions& g);
void add_check_command(CLI::App& app, GlobalOptions& g);
void add_train_commands(CLI::App& app, GlobalOptions& g);  // train, sample
void add_evaluate_command(CLI::App& app, GlobalOptions& g);
void add_score_command(CLI::App& app, GlobalOptions& g);
void add_compare_command(CLI::App& app, GlobalOptions& g);
void add_bench_command(CLI::App& app, GlobalOptions& g);
void add_export_command(CLI::App& app, GlobalOptions& g);

}  // namespace gan::cli
