// gan/checked.hpp — overflow-checked size arithmetic for shape inference.
//
// Shape inference multiplies user-given sizes (channels, kernel sizes, reshape dims, scale
// factors) into element, parameter and multiply-add counts. Each factor is range-checked, but a
// chain of them is not: `shape = [67108864, 67108864, 67108864]` or twenty 16x upsamplings
// overflow int64 (undefined behaviour; found reviewing what the fuzz target reaches). These throw;
// check_model() reports the exception at the layer that raised it.
//
//   int64_t numel = gan::checked_numel(shape);
//   int64_t macs  = gan::checked_mul(cout, gan::checked_mul(ho, wo));
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "gan/shape.hpp"

namespace gan {

class SizeOverflow : public std::overflow_error {
 public:
  using std::overflow_error::overflow_error;
};

inline int64_t checked_mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) {
    throw SizeOverflow("size arithmetic overflows 64 bits (" + std::to_string(a) + " x " + std::to_string(b) +
                       "): the model is far too large");
  }
  return r;
}

inline int64_t checked_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) {
    throw SizeOverflow("size arithmetic overflows 64 bits (" + std::to_string(a) + " + " + std::to_string(b) +
                       "): the model is far too large");
  }
  return r;
}

// shape_numel() with overflow checking.
inline int64_t checked_numel(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n = checked_mul(n, d);
  return n;
}

}  // namespace gan
