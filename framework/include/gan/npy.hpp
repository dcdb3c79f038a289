// gan/npy.hpp — NumPy's .npy and .npz formats for float arrays: generated images and latents
// leave gan as files numpy.load reads, and chosen latents come in the same way.
//
//   gan::NpyArray z = gan::read_npy("latents.npy");          // float32 or float64, C order
//   std::string a = gan::npy_bytes({n, c, h, w}, images);     // float32 .npy file contents
//   gan::write_npz("samples.npz", {{"images", a}, {"latents", b}});  // numpy.load(...)["images"]
//
// .npz is a zip archive of .npy members (stored, not compressed, with CRC-32s). Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gan {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;  // row-major, converted to float32
};

// Reads a .npy file of little-endian float32 ('<f4') or float64 ('<f8') in C order (format
// version 1, 2 or 3). Throws gan::Error naming the file and what is wrong (dtype, order, size).
NpyArray read_npy(const std::string& path);
// The bytes of a float32 .npy file (format 1.0) holding `data` with `shape`.
std::string npy_bytes(const std::vector<int64_t>& shape, const float* data);
// Writes a .npz archive: `members` are (name without ".npy", .npy bytes). Atomic; `path` must be
// new or an existing .npz (a user path: nothing else is replaced).
void write_npz(const std::string& path, const std::vector<std::pair<std::string, std::string>>& members);

}  // namespace gan
