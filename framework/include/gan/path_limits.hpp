// gan/path_limits.hpp — a clear error for a path the system cannot even look up.
//
// A path longer than PATH_MAX, or with one component longer than NAME_MAX, fails every system
// call with ENAMETOOLONG, which otherwise surfaces as "file not found" or "cannot create the
// folder: File name too long" far from the argument that caused it. Torch-free.
//
//   if (auto why = gan::path_too_long(arg)) throw gan::Error("--out: " + *why);
#pragma once

#include <climits>
#include <optional>
#include <string>

namespace gan {

// nullopt when the path's length and every component's are within the system's limits, else
// "name too long: ..." naming the path (and the component that is too long).
inline std::optional<std::string> path_too_long(const std::string& path) {
#ifdef PATH_MAX
  constexpr size_t kPathMax = PATH_MAX;  // bytes including the terminating NUL
#else
  constexpr size_t kPathMax = 4096;
#endif
#ifdef NAME_MAX
  constexpr size_t kNameMax = NAME_MAX;
#else
  constexpr size_t kNameMax = 255;
#endif
  if (path.size() >= kPathMax) {
    return "name too long: the path has " + std::to_string(path.size()) + " characters, more than the " +
           std::to_string(kPathMax - 1) + " the system allows: use a shorter path: " + path;
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end - start > kNameMax) {
      return "name too long: the file or folder name '" + path.substr(start, end - start) + "' has " +
             std::to_string(end - start) + " characters, more than the " + std::to_string(kNameMax) +
             " the system allows: use a shorter name in " + path;
    }
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace gan
