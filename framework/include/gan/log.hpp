// gan/log.hpp — logging for the framework and plugins (spdlog underneath, to stderr, each line
// with the time of day).
//
// Messages are preformatted strings: gan::log::info("loaded " + path). spdlog is kept behind
// this header because LibTorch ships its own fmt, which Debian's spdlog cannot be compiled
// against in the same translation unit.
#pragma once

#include <string>

namespace gan::log {

enum class Level { Debug, Info, Warn, Error, Off };

void set_level(Level level);
// Also writes every message, with date and time, to `path` (appended), until close_file(): the
// text log of a run (RUN/train.log). Throws a std::exception when the file cannot be opened.
void open_file(const std::string& path);
void close_file();
// A line for the text log only (an error that main() prints to stderr itself).
void file_only(Level level, const std::string& msg);
Level level();
void debug(const std::string& msg);
void info(const std::string& msg);
void warn(const std::string& msg);
void error(const std::string& msg);

}  // namespace gan::log
