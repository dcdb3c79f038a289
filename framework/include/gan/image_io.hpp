// gan/image_io.hpp — sample grids as PNG (stb_image_write).
#pragma once

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>

namespace gan {

struct PngImage {
  std::string png;  // the encoded file
  int64_t width = 0, height = 0, channels = 0;
};
// The grid write_png_grid writes, encoded in memory; `what` names it in errors.
PngImage png_grid(const at::Tensor& images, int64_t nrow, const std::string& what);

// Writes images [N, C, H, W] with values in [-1, 1] (C = 1 or 3) as a grid of `nrow` columns
// with a 2-pixel border, atomically (temp file + rename; a symbolic link is written through, a
// device, FIFO or socket refused). With user_path (a path the user named, e.g. `sample --out`)
// an existing file is replaced only if it is a PNG. Throws gan::Error naming the path.
void write_png_grid(const at::Tensor& images, const std::string& path, int64_t nrow = 8, bool user_path = false);

// Writes each image of [N, C, H, W] (values in [-1, 1], C = 1 or 3) as its own 8-bit PNG without
// a border, DIR/000000.png, DIR/000001.png, ... (the input of clean-fid and torch-fidelity), into
// DIR, which must be new or empty (or hold only such PNGs from an earlier call, which are
// replaced); numbering starts at `first`. Returns the number written.
int64_t write_png_files(const at::Tensor& images, const std::string& dir, int64_t first = 0);

}  // namespace gan
