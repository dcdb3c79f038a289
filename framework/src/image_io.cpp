// PNG sample grids (gan/image_io.hpp).
#include "gan/image_io.hpp"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "gan/error.hpp"
#include "gan/fs_util.hpp"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>

namespace gan {

void write_png_grid(const at::Tensor& images, const std::string& path, int64_t nrow, bool user_path) {
  if (images.dim() != 4 || (images.size(1) != 1 && images.size(1) != 3)) {
    throw Error(path + ": cannot write a grid of a tensor shaped " + std::to_string(images.dim()) +
                "-d; expected [N, 1|3, H, W]");
  }
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
          float v = src[((i * c + ch) * h + y) * w + xx];
          if (!std::isfinite(v)) v = -1.0f;
          float u = std::round((std::clamp(v, -1.0f, 1.0f) + 1.0f) * 127.5f);
          pixels[static_cast<size_t>(((gy + y) * gw + gx + xx) * c + ch)] = static_cast<uint8_t>(u);
        }
      }
    }
  }
  // Encode in memory and write with write_file_atomic, which checks every write: stbi_write_png
  // ignores fwrite's result, so on a full disk it committed a truncated PNG over the previous one.
  std::string png;
  auto append = [](void* ctx, void* data, int size) {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), static_cast<size_t>(size));
  };
  if (!stbi_write_png_to_func(append, &png, static_cast<int>(gw), static_cast<int>(gh), static_cast<int>(c),
                              pixels.data(), static_cast<int>(gw * c))) {
    throw Error(path + ": cannot encode the PNG");
  }
  if (user_path) {
    write_user_file(path, png);
  } else {
    write_file_atomic(path, png);
  }
}

}  // namespace gan
