// plugins/datasets/cifar10.cpp — dataset type `cifar10`: the CIFAR-10 binary version.
//
// Files (in `path`, or in its `cifar-10-batches-bin/` subfolder as the tarball unpacks):
//   train: data_batch_1.bin ... data_batch_5.bin (10000 records each)
//   test:  test_batch.bin
// A record is 3073 bytes: 1 label byte (0-9), then 1024 red, 1024 green, 1024 blue bytes, each a
// 32x32 row-major plane, i.e. already CHW. Output: 3x32x32 floats in [-1, 1], labels 0-9.
#include <algorithm>
#include <filesystem>

#include "common.hpp"
#include "datasets.hpp"
#include "gan/plugin.hpp"

namespace gan::datasets {
namespace {

constexpr int64_t kSide = 32;
constexpr int64_t kPixels = 3 * kSide * kSide;  // 3072
constexpr int64_t kRecord = 1 + kPixels;        // 3073
constexpr int64_t kClasses = 10;

// The folder that holds the batches: `dir` itself or its cifar-10-batches-bin/ subfolder.
std::string batch_dir(const std::string& dir, const std::string& first) {
  namespace fs = std::filesystem;
  require_directory(dir, "the CIFAR-10 binary batches (data_batch_1.bin, ...)");
  if (path_exists(fs::path(dir) / first)) return dir;
  if (path_exists(fs::path(dir) / "cifar-10-batches-bin" / first))
    return (fs::path(dir) / "cifar-10-batches-bin").string();
  std::string stem = first.substr(0, first.size() - 4);  // "data_batch_1"
  if (path_exists(fs::path(dir) / stem) || path_exists(fs::path(dir) / "cifar-10-batches-py"))
    throw Error(dir + ": holds the Python (pickle) version of CIFAR-10; this loader reads the "
                      "binary version: download cifar-10-binary.tar.gz from "
                      "https://www.cs.toronto.edu/~kriz/cifar.html and set path to its "
                      "cifar-10-batches-bin folder");
  if (path_exists(fs::path(dir) / (stem + ".mat")))
    throw Error(dir + ": holds the MATLAB version of CIFAR-10; this loader reads the binary "
                      "version (cifar-10-binary.tar.gz)");
  throw Error((fs::path(dir) / first).string() +
              ": no such file: set path to the cifar-10-batches-bin folder of the CIFAR-10 binary "
              "version (cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html)");
}

std::unique_ptr<Dataset> load_cifar10(const std::string& path, const std::string& split,
                                      int64_t limit) {
  std::vector<std::string> names;
  if (split == "train") {
    for (int i = 1; i <= 5; ++i) names.push_back("data_batch_" + std::to_string(i) + ".bin");
  } else {
    names.push_back("test_batch.bin");
  }
  const std::string dir = batch_dir(path, names.front());

  // Validate every file's size before reading anything.
  std::vector<std::string> files;
  std::vector<int64_t> records;
  int64_t total = 0;
  for (const auto& name : names) {
    std::string file = (std::filesystem::path(dir) / name).string();
    if (!path_exists(file))
      throw Error(file + ": no such file (the " + split + " split needs " + names.front() +
                  (names.size() > 1 ? " ... " + names.back() : "") +
                  "): is the download complete?");
    int64_t bytes = file_size(file);
    if (bytes == 0 || bytes % kRecord != 0)
      throw Error(file + ": size " + bytes_str(bytes) + " is not a whole number of 3073-byte " +
                  "records (1 label + 3072 pixels; a full batch is 30730000 bytes): the file is " +
                  "truncated, or not from the CIFAR-10 binary version (CIFAR-100 records are " +
                  "3074 bytes)");
    files.push_back(file);
    records.push_back(bytes / kRecord);
    total += bytes / kRecord;
  }

  const int64_t count = limit > 0 ? std::min(limit, total) : total;
  std::vector<uint8_t> pixels(static_cast<size_t>(count * kPixels));
  std::vector<int16_t> labels(static_cast<size_t>(count));
  int64_t done = 0;
  for (size_t f = 0; f < files.size() && done < count; ++f) {
    int64_t take = std::min(records[f], count - done);
    std::vector<uint8_t> bytes = read_file(files[f], 0, take * kRecord);
    for (int64_t r = 0; r < take; ++r) {
      const uint8_t* rec = bytes.data() + r * kRecord;
      if (rec[0] >= kClasses)
        throw Error(files[f] + ": record " + std::to_string(r) + " (byte offset " +
                    std::to_string(r * kRecord) + ") has label " + std::to_string(rec[0]) +
                    ", not 0-9: the file is corrupt or not CIFAR-10");
      labels[static_cast<size_t>(done + r)] = rec[0];
      std::copy(rec + 1, rec + kRecord, pixels.begin() + (done + r) * kPixels);
    }
    done += take;
  }

  std::string desc = "cifar10: " + dir + " (" + split + ", " + std::to_string(count) +
                     " images 3x32x32, 10 classes)";
  return std::make_unique<ImageSet>(std::move(desc), Shape{3, kSide, kSide}, std::move(pixels),
                                    std::move(labels), kClasses);
}

}  // namespace

DatasetFactory cifar10_factory() {
  DatasetFactory f;
  f.type = "cifar10";
  f.doc =
      "CIFAR-10 from its binary version, as colour 3x32x32 images in [-1, 1] with labels 0-9. "
      "Reads data_batch_1..5.bin (train, 50000 images) or test_batch.bin (test, 10000) from "
      "cifar-10-binary.tar.gz: records of 1 label byte + 3072 bytes CHW.";
  f.params = {
      ParamSpec::string("path", "folder with the .bin batches (cifar-10-batches-bin, or its "
                                "parent); a relative path is taken from the folder of the model "
                                "file that sets it")
          .required()
          .file_path(),
      ParamSpec::string("split", "'train' (data_batch_1..5.bin) or 'test' (test_batch.bin)",
                        "train")
          .one_of({"train", "test"}),
      ParamSpec::integer("limit", "use only the first N images (0: all)", 0).at_least(0),
  };
  f.create = [](const DatasetContext& ctx) {
    const auto& p = ctx.params;
    std::string dir = resolve_path(p.string("path"), ctx.base_dir);
    auto ds = located(ctx, [&] { return load_cifar10(dir, p.string("split"), p.integer("limit")); });
    check_expected_shape(ctx, ds->shape(), "CIFAR-10 images are 3x32x32: set [data] channels = 3 "
                                           "and size = 32");
    return ds;
  };
  return f;
}

}  // namespace gan::datasets

GAN_REGISTER_DATASET(gan::datasets::cifar10_factory)
