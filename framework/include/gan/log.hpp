// gan/log.hpp — logging for the framework and plugins (spdlog underneath, to stderr).
//
// Messages are preformatted strings: gan::log::info("loaded " + path). spdlog is kept behind
// this header because LibTorch ships its own fmt, which Debian's spdlog cannot be compiled
// against in the same translation unit.
#pragma once

#include <string>

namespace gan::log {

enum class Level { Debug, Info, Warn, Error, Off };

void set_level(Level level);
Level level();
void debug(const std::string& msg);
void info(const std::string& msg);
void warn(const std::string& msg);
void error(const std::string& msg);

}  // namespace gan::log
