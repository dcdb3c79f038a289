// gan — train and compare GANs declared in TOML model files. See README.md and docs/.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "commands.hpp"
#include "gan/cuda_backend.hpp"
#include "gan/error.hpp"
#include "gan/oom.hpp"
#include "options.hpp"
#include "gan/plugin_loader.hpp"
#include "version_line.hpp"
#include "gan/log.hpp"

namespace gan::cli {

void load_all_plugins(const GlobalOptions& g) {
  static bool done = false;
  if (done) return;
  // A folder named on the command line must exist (a typo would otherwise just lose its plugins
  // and surface later as "unknown layer type"); GAN_PLUGIN_PATH entries may be absent.
  for (const auto& d : g.plugin_dirs) {
    std::error_code ec;
    if (!std::filesystem::exists(d, ec)) throw Error(d + ": --plugin-dir: no such folder");
    if (!std::filesystem::is_directory(d, ec)) {
      throw Error(d + ": --plugin-dir: not a folder (give the folder that holds the plugin libraries)");
    }
  }
  PluginSearch search;
  search.extra_dirs = g.plugin_dirs;
  load_plugins(Registry::global(), search);
  done = true;
}

}  // namespace gan::cli

int main(int argc, char** argv) {
  // OMP_WAIT_POLICY=PASSIVE is set before libgomp loads by the gan_omp_policy object linked in
  // (framework/omp_policy/omp_policy.cpp), not here: main() is too late for it.
  CLI::App app{"gan: train and compare generative adversarial networks declared in TOML model files"};
  app.set_version_flag("--version", gan::cli::version_line());  // `gan --version` alone: fast_version.cpp
  app.require_subcommand(1);
  gan::cli::GlobalOptions g;
  g.args.assign(argv + 1, argv + argc);
  app.add_option("--plugin-dir", g.plugin_dirs, "extra folder of plugin libraries (repeatable)")
      ->type_name("DIR");
  app.add_flag("-v,--verbose", g.verbose, "debug logging");
  app.add_flag("-q,--quiet", g.quiet, "only warnings and errors");
  app.parse_complete_callback([&g] {
    if (g.verbose) gan::log::set_level(gan::log::Level::Debug);
    if (g.quiet) gan::log::set_level(gan::log::Level::Warn);
  });

  gan::cli::add_plugins_command(app, g);
  gan::cli::add_check_command(app, g);
  gan::cli::add_train_commands(app, g);
  gan::cli::add_evaluate_command(app, g);
  gan::cli::add_score_command(app, g);
  gan::cli::add_compare_command(app, g);
  gan::cli::add_export_command(app, g);
  gan::cli::add_bench_command(app, g);
  gan::cli::require_integer_syntax(app);
  gan::cli::require_short_paths(app);

  try {
    // LibTorch's CUDA libraries, when the machine has an NVIDIA driver (gan/cuda_backend.hpp);
    // before anything asks LibTorch about CUDA
    gan::load_cuda_backend();
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version (exit code 0) print as CLI11 does; a wrong command line is an error
    // like any other: "error: ..." and exit status 1
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fflush(stdout);
    std::cerr << "error: " << e.what() << " (see gan --help)" << std::endl;
    return 1;
  } catch (const gan::Error& e) {
    std::fflush(stdout);
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    if (gan::is_out_of_memory(e)) {
      // one line, not LibTorch's backtrace, with the batch size the trainer noted
      std::cerr << "error: " << gan::noted_out_of_memory_message() << std::endl;
      return 1;
    }
    std::cerr << "error: " << e.what() << std::endl;
    return 2;
  }
  return 0;
}
