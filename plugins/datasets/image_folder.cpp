// plugins/datasets/image_folder.cpp — dataset type `image_folder`: PNG / JPEG files in a folder
// tree, decoded with stb_image.
//
// Every *.png, *.jpg, *.jpeg (any case) under `path`, recursively, sorted by path so the order
// is the same on every machine; hidden files and folders (".name") are skipped. Links to folders
// are followed, but a folder is walked once (links to itself or an ancestor end there), and a file
// reached by two paths (links) is one image. Each image is
// converted to `channels` (1: grey, 3: RGB; alpha is dropped), centre-cropped to a square
// (crop = "center") or not (crop = "stretch"), area-resampled to size x size, and kept as bytes.
// No labels.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <utility>
#include <vector>

#include "common.hpp"
#include "datasets.hpp"
#include "gan/plugin.hpp"

// 8192 x 8192: far above any training image, far below what a forged header could claim.
constexpr int64_t kMaxImagePixels = int64_t{8192} * 8192;

#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC  // private copy: no clash with other users of stb in the process
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace gan::datasets {
namespace {

bool is_image_name(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// Walks `dir` (not hidden entries), following symbolic links to folders, but never into a folder
// already walked (a link to itself, to an ancestor or to a folder reached another way): loops end
// and no folder is listed twice. Folders are walked in name order, so the result is the same on
// every machine.
void walk_images(const std::filesystem::path& dir, std::set<std::filesystem::path>& visited,
                 std::vector<std::pair<std::string, std::filesystem::path>>& out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path canon = fs::canonical(dir, ec);
  if (ec) throw Error(dir.string() + ": cannot resolve: " + ec.message());
  if (!visited.insert(canon).second) return;
  std::vector<fs::directory_entry> entries;
  fs::directory_iterator it(dir, ec), end;
  if (ec) throw Error(dir.string() + ": cannot list: " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) throw Error(dir.string() + ": cannot list: " + ec.message());
    entries.push_back(*it);
  }
  std::sort(entries.begin(), entries.end(),
            [](const fs::directory_entry& a, const fs::directory_entry& b) { return a.path() < b.path(); });
  for (const auto& e : entries) {
    const fs::path& p = e.path();
    if (p.filename().string().rfind('.', 0) == 0) continue;  // hidden: skip, and do not descend
    std::error_code ec2;
    if (e.is_directory(ec2)) {  // follows links
      walk_images(p, visited, out);
    } else if (e.is_regular_file(ec2) && is_image_name(p)) {
      const fs::path real = fs::canonical(p, ec2);
      out.push_back({p.string(), ec2 ? p : real});
    }
  }
}

std::vector<std::string> list_images(const std::string& dir) {
  require_directory(dir, "the PNG / JPEG images");
  std::set<std::filesystem::path> visited;
  std::vector<std::pair<std::string, std::filesystem::path>> found;  // (path, canonical path)
  walk_images(dir, visited, found);
  std::sort(found.begin(), found.end());
  // One entry per image file: two links to the same file are one image, listed under its first
  // path in path order.
  std::set<std::filesystem::path> seen;
  std::vector<std::string> files;
  for (const auto& [path, real] : found)
    if (seen.insert(real).second) files.push_back(path);
  if (files.empty())
    throw Error(dir + ": no .png, .jpg or .jpeg files in this folder or below it: set path to "
                      "the folder of your images");
  return files;
}

std::unique_ptr<Dataset> load_folder(const std::string& dir, int64_t channels, int64_t size,
                                     bool center_crop, int64_t limit) {
  std::vector<std::string> files = list_images(dir);
  if (limit > 0 && static_cast<int64_t>(files.size()) > limit) files.resize(static_cast<size_t>(limit));
  const auto count = static_cast<int64_t>(files.size());
  const int64_t numel = channels * size * size;
  std::vector<uint8_t> pixels(static_cast<size_t>(count * numel));

  parallel_for(count, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const std::string& file = files[static_cast<size_t>(i)];
      int w = 0, h = 0, n = 0;
      // The header's width and height are a claim: a 100-byte PNG can claim 60000x60000. Read
      // them first and refuse what no photograph in a training set needs, before decoding
      // allocates w * h * channels bytes.
      if (stbi_info(file.c_str(), &w, &h, &n) && static_cast<int64_t>(w) * h > kMaxImagePixels) {
        throw Error(file + ": the image header claims " + std::to_string(w) + "x" + std::to_string(h) +
                    " pixels, more than the " + std::to_string(kMaxImagePixels) +
                    " image_folder decodes: a damaged file, or resize the image first");
      }
      unsigned char* img = stbi_load(file.c_str(), &w, &h, &n, static_cast<int>(channels));
      if (!img)
        throw Error(file + ": cannot decode (" + stbi_failure_reason() +
                    "): a damaged or mislabelled image; remove it or convert it to PNG");
      int64_t x0 = 0, y0 = 0, cw = w, ch = h;
      if (center_crop) {
        int64_t side = std::min(w, h);
        x0 = (w - side) / 2;
        y0 = (h - side) / 2;
        cw = ch = side;
      }
      // stb gives interleaved HWC rows: channel stride 1, row stride w*C, column stride C.
      const uint8_t* src = img + (y0 * w + x0) * channels;
      resize_area(src, channels, ch, cw, 1, static_cast<int64_t>(w) * channels, channels,
                  pixels.data() + i * numel, size, size);
      stbi_image_free(img);
    }
  });

  std::string desc = "image_folder: " + dir + " (" + std::to_string(count) + " images resized to " +
                     std::to_string(channels) + "x" + std::to_string(size) + "x" +
                     std::to_string(size) + ", no labels)";
  return std::make_unique<ImageSet>(std::move(desc), Shape{channels, size, size},
                                    std::move(pixels), std::vector<int16_t>{}, 0);
}

}  // namespace

DatasetFactory image_folder_factory() {
  DatasetFactory f;
  f.type = "image_folder";
  f.doc =
      "Your own PNG / JPEG images, as channels x size x size images in [-1, 1], no labels. Every "
      "*.png, *.jpg, *.jpeg under path (recursive, sorted by path) is decoded with stb_image, "
      "centre-cropped to a square and area-resampled.";
  f.params = {
      ParamSpec::string("path", "folder of images (searched recursively); a relative path is "
                                "taken from the folder of the model file that sets it")
          .required()
          .file_path(),
      ParamSpec::integer("size", "output height and width (default: the model's [data] size)")
          .range(1, 4096),
      ParamSpec::integer("channels", "1 (grey) or 3 (RGB) (default: the model's [data] "
                                     "channels, else 3)")
          .range(1, 3),
      ParamSpec::string("crop", "'center': crop the largest centred square before resizing; "
                                "'stretch': resize the whole image, distorting its aspect",
                        "center")
          .one_of({"center", "stretch"}),
      ParamSpec::integer("limit", "use only the first N images in path order (0: all)", 0)
          .at_least(0),
  };
  f.create = [](const DatasetContext& ctx) {
    const auto& p = ctx.params;
    const bool have_expected = ctx.expected.size() == 3;
    int64_t channels = p.has("channels") ? p.integer("channels")
                       : have_expected  ? ctx.expected[0]
                                        : 3;
    if (channels != 1 && channels != 3)
      throw p.has("channels") ? p.error("channels", "channels must be 1 or 3, not " +
                                                        std::to_string(channels))
                              : p.error("the model expects " + std::to_string(channels) +
                                        "-channel images; image_folder gives 1 or 3");
    if (!p.has("size") && !have_expected)
      throw p.error("size is not set and the model gives no [data] size: set size = 64 (or "
                    "the model's image size)");
    int64_t size = p.has("size") ? p.integer("size") : ctx.expected[1];
    std::string dir = resolve_path(p.string("path"), ctx.base_dir);
    bool center = p.string("crop") == "center";
    auto ds = located(ctx, [&] { return load_folder(dir, channels, size, center, p.integer("limit")); });
    check_expected_shape(ctx, ds->shape(),
                         "set the image_folder's size and channels to the model's, or leave them "
                         "out to follow the model");
    return ds;
  };
  return f;
}

}  // namespace gan::datasets

GAN_REGISTER_DATASET(gan::datasets::image_folder_factory)
