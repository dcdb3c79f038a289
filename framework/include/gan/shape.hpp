// gan/shape.hpp — per-sample tensor shapes used by shape inference (no batch dimension).
//   image features: {C, H, W}; flat features: {F}.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gan {

using Shape = std::vector<int64_t>;

inline std::string shape_str(const Shape& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += 'x';
    out += std::to_string(s[i]);
  }
  return out.empty() ? "scalar" : out;
}

inline int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

}  // namespace gan
