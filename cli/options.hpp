// Command-line options that say what is wrong with a value.
//
// CLI11 checks an integer option with its range validator before converting it, so
// `--iters 1e3` read "Value 1e3 not in range 1 to 1000000000". require_integer_syntax() puts a
// first check on every integer option of an app and its subcommands: a value that is not
// written as an integer is reported as such, with the integer it probably meant:
//   --iters: '1e3' is not an integer: write it in digits, e.g. --iters 1000
// require_short_paths() checks every other (text) option against the system's path limits, so a
// path that cannot even be looked up says so ("name too long") with the option that gave it.
#pragma once

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "gan/path_limits.hpp"

namespace gan::cli {

// `--which` of the commands that load a generator (sample, export), repeatable: latest|best picks
// the checkpoint of a run folder, ema|raw the generator (the moving average, or the trained
// weights; default: the average where the run keeps one).
struct WhichGenerator {
  std::vector<std::string> given;
  std::string checkpoint = "latest", generator = "auto";
};
inline CLI::Option* add_which_option(CLI::App* cmd, WhichGenerator& w) {
  return cmd->add_option("--which", w.given,
                         "which generator: ema (the moving average, the default where the run keeps one) or raw "
                         "(the trained weights); and which checkpoint of a run folder: latest (default) or best. "
                         "Repeatable: --which best --which raw")
      ->check(CLI::IsMember({"latest", "best", "ema", "raw"}))
      ->allow_extra_args(false)  // one value per --which: `--which best RUN` leaves RUN to the positional
      ->type_name("");
}
// Splits the given values into checkpoint and generator; at most one of each.
inline void resolve_which(WhichGenerator& w) {
  bool have_ckpt = false, have_gen = false;
  for (const auto& v : w.given) {
    const bool ckpt = v == "latest" || v == "best";
    if ((ckpt && have_ckpt) || (!ckpt && have_gen)) {
      throw CLI::ValidationError("--which", v + ": give at most one of latest|best and one of ema|raw");
    }
    (ckpt ? w.checkpoint : w.generator) = v;
    (ckpt ? have_ckpt : have_gen) = true;
  }
}

// "" when `s` is an optionally signed decimal integer, else the message.
inline std::string integer_syntax_error(const std::string& option, const std::string& s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  bool digits = i < s.size();
  for (size_t k = i; k < s.size(); ++k) digits = digits && s[k] >= '0' && s[k] <= '9';
  if (digits) return {};
  std::string msg = "'" + s + "' is not an integer: write it in digits";
  // 1e3, 2.0, 0x10: say which integer it would be, if it is one
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (!s.empty() && end && *end == '\0' && errno == 0 && std::isfinite(v) && v == std::floor(v) &&
      std::fabs(v) < 9.0e15) {
    msg += ", e.g. " + option + " " + std::to_string(static_cast<int64_t>(v));
  }
  return msg;
}

inline void require_integer_syntax(CLI::App& app) {
  for (CLI::Option* opt : app.get_options()) {
    const std::string type = opt->get_type_name();
    if (type.rfind("INT", 0) != 0 && type.rfind("UINT", 0) != 0) continue;
    if (opt->get_expected_max() > 1) continue;  // lists: left to CLI11
    // CLI11 runs validators in order: move the existing ones behind the syntax check
    std::vector<CLI::Validator> existing;
    for (int i = 0;; ++i) {
      CLI::Validator* v = nullptr;
      try {
        v = opt->get_validator(i);
      } catch (const CLI::OptionNotFound&) {
        break;
      }
      existing.push_back(*v);
      v->active(false);
    }
    const std::string name = opt->get_name();
    opt->check(CLI::Validator([name](std::string& s) { return integer_syntax_error(name, s); }, "", "integer"));
    for (auto& v : existing) {
      if (v.get_modifying()) {
        opt->transform(v);
      } else {
        opt->check(v);
      }
    }
  }
  for (CLI::App* sub : app.get_subcommands({})) require_integer_syntax(*sub);
}

inline void require_short_paths(CLI::App& app) {
  for (CLI::Option* opt : app.get_options()) {
    const std::string type = opt->get_type_name();
    bool numeric = false;
    for (const char* t : {"INT", "UINT", "FLOAT", "NUMBER", "BOOLEAN"}) numeric = numeric || type.rfind(t, 0) == 0;
    if (numeric || opt->get_expected_max() == 0) continue;  // numbers and flags
    opt->check(CLI::Validator([](std::string& s) { return path_too_long(s).value_or(""); }, "", "path length"));
  }
  for (CLI::App* sub : app.get_subcommands({})) require_short_paths(*sub);
}

// --device, one of cpu, cuda or auto; `model_default`: the help says the model's [train] device is
// the default (train, bench), else the command's own (auto).
inline CLI::Option* add_device_option(CLI::App* cmd, std::string& device, bool model_default) {
  return cmd
      ->add_option("--device", device,
                   model_default ? "cpu, cuda or auto (default: the model's [train] device)" : "cpu, cuda or auto")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
}

}  // namespace gan::cli
