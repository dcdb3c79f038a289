// gan/error.hpp — the one exception type of the framework, and source locations.
//
// Every user-facing error carries where it came from, in the style of a compiler:
//
//   models/bad.toml:14: layer 'up2' (adaconv): in_channels 64 does not match the 128 produced by 'up1'
//
// Throw gan::Error with a Source when the problem is in a file the user wrote; the CLI
// prints what() and exits non-zero. Torch-free: plugins that read files include it freely.
#pragma once

#include <stdexcept>
#include <string>

namespace gan {

// A position in a user's file. line/column are 1-based; 0 means unknown.
struct Source {
  std::string file;
  int line = 0;
  int column = 0;

  bool known() const { return !file.empty(); }
  // "file:line" (or "file", or "" when unknown).
  std::string str() const {
    if (file.empty()) return {};
    if (line <= 0) return file;
    return file + ":" + std::to_string(line);
  }
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
  // Prefixes the message with "file:line: ".
  Error(const Source& where, const std::string& message)
      : std::runtime_error(where.known() ? where.str() + ": " + message : message), where_(where) {}

  const Source& where() const { return where_; }

 private:
  Source where_;
};

}  // namespace gan
