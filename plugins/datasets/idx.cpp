// plugins/datasets/idx.cpp — dataset type `idx`: MNIST / Fashion-MNIST IDX files, gzip or raw.
//
// Files (in `path`), for split "train" / "test" (prefix "train" / "t10k"):
//   <prefix>-images-idx3-ubyte[.gz]  magic 0x00000803, then N, H, W (big-endian uint32), N*H*W bytes
//   <prefix>-labels-idx1-ubyte[.gz]  magic 0x00000801, then N, then N label bytes (optional file)
// Gzip is recognised by content, so a raw file saved under the .gz name also works. Kaggle's
// "train-images.idx3-ubyte" spelling is accepted too. Output: 1xHxW floats in [-1, 1], or
// 1x(H+2*pad)x(W+2*pad) with `pad` pixels of background (-1) around each image.
#include <algorithm>
#include <filesystem>
#include <limits>

#include "common.hpp"
#include "datasets.hpp"
#include "gan/plugin.hpp"

namespace gan::datasets {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned byte, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned byte, 1 dimension

// The first existing file among the usual spellings of `stem` ("train-images-idx3-ubyte"), or "".
std::string find_idx_file(const std::string& dir, const std::string& stem) {
  std::string dotted = stem;  // "train-images.idx3-ubyte"
  auto dash = dotted.find("-idx");
  if (dash != std::string::npos) dotted[dash] = '.';
  for (const std::string& name : {stem + ".gz", stem, dotted + ".gz", dotted}) {
    auto p = (std::filesystem::path(dir) / name).string();
    if (path_exists(p)) return p;
  }
  return {};
}

struct IdxHeader {
  std::vector<uint32_t> dims;
  size_t data_offset = 0;
};

IdxHeader parse_header(const std::string& file, const std::vector<uint8_t>& bytes, uint32_t magic,
                       const char* what) {
  if (bytes.size() < 4)
    throw Error(file + ": only " + bytes_str(static_cast<int64_t>(bytes.size())) +
                ", too short for an IDX header: the file is truncated or empty; download it again");
  uint32_t got = read_be32(bytes.data());
  if (got != magic)
    throw Error(file + ": wrong magic " + hex32(got) + " (expected " + hex32(magic) + " for IDX " +
                what + "): is this an IDX file" +
                (got == (magic ^ 0x2u) ? " (images and labels swapped?)" : "") + "?");
  IdxHeader h;
  size_t ndim = magic & 0xff;
  h.data_offset = 4 + 4 * ndim;
  if (bytes.size() < h.data_offset)
    throw Error(file + ": truncated inside the IDX header (" +
                bytes_str(static_cast<int64_t>(bytes.size())) + "): download it again");
  for (size_t d = 0; d < ndim; ++d) h.dims.push_back(read_be32(bytes.data() + 4 + 4 * d));
  return h;
}

// Checks that the payload after the header holds exactly `expected` bytes.
void check_payload(const std::string& file, const std::vector<uint8_t>& bytes, size_t offset,
                   int64_t expected, const std::string& what) {
  auto have = static_cast<int64_t>(bytes.size() - offset);
  if (have < expected)
    throw Error(file + ": truncated: the header announces " + what + " (" +
                bytes_str(expected + static_cast<int64_t>(offset)) + ") but it holds only " +
                bytes_str(static_cast<int64_t>(bytes.size())) + ": download the file again");
  if (have > expected)
    throw Error(file + ": " + bytes_str(have - expected) + " more than the header announces (" +
                what + "): header and data disagree; is the file corrupt?");
}

std::unique_ptr<Dataset> load_idx(const std::string& dir, const std::string& split,
                                  int64_t limit, int64_t pad) {
  require_directory(dir, "the IDX files (train-images-idx3-ubyte.gz, ...)");
  const std::string prefix = split == "train" ? "train" : "t10k";
  const std::string image_stem = prefix + "-images-idx3-ubyte";
  const std::string label_stem = prefix + "-labels-idx1-ubyte";

  std::string image_file = find_idx_file(dir, image_stem);
  if (image_file.empty())
    throw Error(dir + ": no " + image_stem + ".gz (nor " + image_stem +
                ") here: set path to the folder holding the MNIST / Fashion-MNIST IDX files "
                "(Debian: apt install dataset-fashion-mnist)");

  // With a limit only the header and the first `limit` images are inflated (Fashion-MNIST's train
  // file is 47 MB inflated: 0.15 s of zlib at every start); the rest of the file is then checked
  // only against the gzip trailer's size, which a truncated download does not end with.
  const size_t header_bytes = 4 + 4 * (kImagesMagic & 0xff);
  FilePrefix head = read_maybe_gzip_prefix(image_file, limit > 0 ? header_bytes : std::numeric_limits<size_t>::max());
  IdxHeader ih = parse_header(image_file, head.bytes, kImagesMagic, "images");
  const int64_t n = ih.dims[0], h = ih.dims[1], w = ih.dims[2];
  if (n == 0 || h == 0 || w == 0 || h > 4096 || w > 4096)
    throw Error(image_file + ": implausible header dimensions " + std::to_string(n) + " x " +
                std::to_string(h) + " x " + std::to_string(w) + ": is the file corrupt?");
  const std::string what = std::to_string(n) + " images of " + std::to_string(h) + "x" + std::to_string(w);
  std::vector<uint8_t> img;
  if (limit > 0 && limit < n && head.gzip) {
    FilePrefix p = read_maybe_gzip_prefix(image_file, ih.data_offset + static_cast<size_t>(limit * h * w));
    img = std::move(p.bytes);
    const uint64_t announced = ih.data_offset + static_cast<uint64_t>(n * h * w);
    if (p.cut && p.claimed_size != static_cast<uint32_t>(announced)) {
      throw Error(image_file + ": the gzip trailer gives " + bytes_str(p.claimed_size) +
                  " (mod 4 GiB) but the header announces " + what + " (" +
                  bytes_str(static_cast<int64_t>(announced)) + "): the file is truncated or corrupt; download it again");
    }
    // cut: the first `limit` images are there; not cut: the stream ended before them (truncated)
    check_payload(image_file, img, ih.data_offset, p.cut ? limit * h * w : n * h * w, what);
  } else {
    img = head.cut ? read_maybe_gzip(image_file) : std::move(head.bytes);
    check_payload(image_file, img, ih.data_offset, n * h * w, what);
  }

  std::vector<int16_t> labels;
  int64_t classes = 0;
  std::string label_file = find_idx_file(dir, label_stem);
  if (!label_file.empty()) {
    std::vector<uint8_t> lab = read_maybe_gzip(label_file);
    IdxHeader lh = parse_header(label_file, lab, kLabelsMagic, "labels");
    if (lh.dims[0] != static_cast<uint32_t>(n))
      throw Error(label_file + ": " + std::to_string(lh.dims[0]) + " labels for the " +
                  std::to_string(n) + " images of " + image_file +
                  ": the two files are from different sets");
    check_payload(label_file, lab, lh.data_offset, n, std::to_string(n) + " labels");
    labels.assign(lab.begin() + static_cast<std::ptrdiff_t>(lh.data_offset), lab.end());
    classes = *std::max_element(labels.begin(), labels.end()) + 1;
  }

  int64_t count = limit > 0 ? std::min(limit, n) : n;
  const auto* first = img.data() + ih.data_offset;
  std::vector<uint8_t> pixels(first, first + count * h * w);
  img = {};
  if (!labels.empty()) labels.resize(static_cast<size_t>(count));
  if (pad > 0) {
    // Background border (pixel value 0 -> -1 after scaling), e.g. 28x28 -> 32x32 with pad = 2.
    const int64_t ph = h + 2 * pad, pw = w + 2 * pad;
    std::vector<uint8_t> padded(static_cast<size_t>(count * ph * pw), 0);
    for (int64_t i = 0; i < count; ++i) {
      for (int64_t y = 0; y < h; ++y) {
        std::copy_n(pixels.data() + (i * h + y) * w, w, padded.data() + (i * ph + y + pad) * pw + pad);
      }
    }
    pixels = std::move(padded);
  }
  const int64_t out_h = h + 2 * pad, out_w = w + 2 * pad;

  std::string desc = "idx: " + dir + " (" + split + ", " + std::to_string(count) + " images 1x" +
                     std::to_string(out_h) + "x" + std::to_string(out_w) +
                     (pad > 0 ? " padded by " + std::to_string(pad) : "") +
                     (labels.empty() ? ", no labels" : ", " + std::to_string(classes) + " classes") +
                     ")";
  return std::make_unique<ImageSet>(std::move(desc), Shape{1, out_h, out_w}, std::move(pixels),
                                    std::move(labels), classes);
}

}  // namespace

DatasetFactory idx_factory() {
  DatasetFactory f;
  f.type = "idx";
  f.doc =
      "MNIST / Fashion-MNIST from IDX files, gzip-compressed or raw, as grey 1xHxW (28x28) "
      "images in [-1, 1] with labels 0-9. Reads <prefix>-images-idx3-ubyte[.gz] and, if present, "
      "<prefix>-labels-idx1-ubyte[.gz], prefix 'train' or 't10k'.";
  f.params = {
      ParamSpec::string("path", "folder with the IDX files (a relative path is taken from the "
                                "folder of the model file that sets it)",
                        kDefaultIdxPath)
          .file_path(),
      ParamSpec::string("split", "'train' (train-*, 60000 images) or 'test' (t10k-*, 10000)",
                        "train")
          .one_of({"train", "test"}),
      ParamSpec::integer("limit", "use only the first N images (0: all); only those are read, and a gzip file is checked against its trailer's size", 0).at_least(0),
      ParamSpec::integer("pad", "background pixels added on each side (2 turns 28x28 into 32x32)", 0)
          .range(0, 64),
  };
  f.create = [](const DatasetContext& ctx) {
    const auto& p = ctx.params;
    std::string dir = resolve_path(p.string("path"), ctx.base_dir);
    auto ds = located(ctx, [&] {
      return load_idx(dir, p.string("split"), p.integer("limit"), p.integer("pad"));
    });
    std::string fix = "set [data] channels = 1 and size = " + std::to_string(ds->shape()[2]) +
                      " (IDX images are grey)";
    const int64_t grow = ctx.expected.size() == 3 ? ctx.expected[1] - ds->shape()[1] : 0;
    if (grow > 0 && grow % 2 == 0 && ctx.expected[1] == ctx.expected[2] &&
        ds->shape()[1] == ds->shape()[2])
      fix += ", or pad = " + std::to_string(p.integer("pad") + grow / 2) + " to frame them to " +
             std::to_string(ctx.expected[1]) + "x" + std::to_string(ctx.expected[2]);
    check_expected_shape(ctx, ds->shape(), fix);
    return ds;
  };
  return f;
}

}  // namespace gan::datasets

GAN_REGISTER_DATASET(gan::datasets::idx_factory)
