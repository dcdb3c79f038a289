// PNG sample grids (gan/image_io.hpp).
#include "gan/image_io.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "gan/error.hpp"
#include "gan/fs_util.hpp"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>

namespace gan {

namespace {
uint8_t to_u8(float v) {
  if (!std::isfinite(v)) v = -1.0f;
  return static_cast<uint8_t>(std::round((std::clamp(v, -1.0f, 1.0f) + 1.0f) * 127.5f));
}

std::string encode_png(const std::string& path, const std::vector<uint8_t>& pixels, int64_t w, int64_t h, int64_t c) {
  // Encode in memory and write with write_file_atomic, which checks every write: stbi_write_png
  // ignores fwrite's result, so on a full disk it committed a truncated PNG over the previous one.
  std::string png;
  auto append = [](void* ctx, void* data, int size) {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), static_cast<size_t>(size));
  };
  if (!stbi_write_png_to_func(append, &png, static_cast<int>(w), static_cast<int>(h), static_cast<int>(c),
                              pixels.data(), static_cast<int>(w * c))) {
    throw Error(path + ": cannot encode the PNG");
  }
  return png;
}

void check_images(const at::Tensor& images, const std::string& path) {
  if (images.dim() != 4 || (images.size(1) != 1 && images.size(1) != 3)) {
    throw Error(path + ": cannot write images from a tensor shaped " + std::to_string(images.dim()) +
                "-d; expected [N, 1|3, H, W]");
  }
}
}  // namespace

int64_t write_png_files(const at::Tensor& images, const std::string& dir, int64_t first) {
  check_images(images, dir);
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) throw Error(dir + ": exists and is not a folder; give a new or empty folder");
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      const bool ours = name.size() == 10 && name.substr(6) == ".png" &&
                        name.find_first_not_of("0123456789") == 6 && e.is_regular_file();
      if (!ours) {
        throw Error(dir + ": holds " + name + ", which gan did not write: give a new or empty folder (nothing was "
                    "changed)");
      }
    }
  }
  ensure_writable_dir(dir);
  auto x = images.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const float* src = x.data_ptr<float>();
  std::vector<uint8_t> pixels(static_cast<size_t>(h * w * c));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t xx = 0; xx < w; ++xx)
          pixels[static_cast<size_t>((y * w + xx) * c + ch)] = to_u8(src[((i * c + ch) * h + y) * w + xx]);
    char name[32];
    std::snprintf(name, sizeof name, "%06lld.png", static_cast<long long>(first + i));
    const std::string path = (fs::path(dir) / name).string();
    write_file_atomic(path, encode_png(path, pixels, w, h, c));
  }
  return n;
}

PngImage png_grid(const at::Tensor& images, int64_t nrow, const std::string& what) {
  const std::string& path = what;
  check_images(images, path);
  auto x = images.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  nrow = std::max<int64_t>(1, std::min(nrow, n));
  const int64_t ncol_rows = (n + nrow - 1) / nrow;
  const int64_t pad = 2;
  const int64_t gw = nrow * (w + pad) + pad, gh = ncol_rows * (h + pad) + pad;
  std::vector<uint8_t> pixels(static_cast<size_t>(gw * gh * c), 0);
  const float* src = x.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    int64_t gx = (i % nrow) * (w + pad) + pad, gy = (i / nrow) * (h + pad) + pad;
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t y = 0; y < h; ++y) {
        for (int64_t xx = 0; xx < w; ++xx) {
          pixels[static_cast<size_t>(((gy + y) * gw + gx + xx) * c + ch)] = to_u8(src[((i * c + ch) * h + y) * w + xx]);
        }
      }
    }
  }
  return PngImage{encode_png(path, pixels, gw, gh, c), gw, gh, c};
}

void write_png_grid(const at::Tensor& images, const std::string& path, int64_t nrow, bool user_path) {
  const std::string png = png_grid(images, nrow, path).png;
  if (user_path) {
    write_user_file(path, png);
  } else {
    write_file_atomic(path, png);
  }
}

}  // namespace gan
