// plugins/datasets/common.hpp — what the four dataset types share (internal to the plugin).
//
// Every type loads its files once, validates them, and keeps the pixels in memory as uint8 in
// CHW order (ImageSet). read() converts one image to floats in [-1, 1] (v / 127.5 - 1), so a
// 60000-image 28x28 set costs 47 MB, not 188 MB. Errors are gan::Error whose message starts
// with the offending file and ends with what to do about it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gan/components.hpp"
#include "gan/dataset.hpp"
#include "gan/error.hpp"

namespace gan::datasets {

// All images of one data set, decoded, at their final size. Immutable once built, so read() is
// safe from any number of threads.
class ImageSet : public Dataset {
 public:
  ImageSet(std::string description, Shape shape, std::vector<uint8_t> pixels,
           std::vector<int16_t> labels, int64_t num_classes);

  int64_t size() const override { return count_; }
  Shape shape() const override { return shape_; }
  void read(int64_t index, float* out) const override;
  int64_t label(int64_t index) const override;
  int64_t num_classes() const override { return num_classes_; }
  std::string describe() const override { return description_; }

  // Raw access for tests and for callers that want bytes: C*H*W values of image `index`.
  const uint8_t* pixels(int64_t index) const { return pixels_.data() + index * numel_; }

 private:
  std::string description_;
  Shape shape_;
  int64_t numel_ = 0, count_ = 0;
  std::vector<uint8_t> pixels_;  // count * C*H*W
  std::vector<int16_t> labels_;  // empty, or one per image
  int64_t num_classes_ = 0;
};

// uint8 -> [-1, 1]: 0 -> -1, 255 -> 1, exactly.
float u8_to_unit(uint8_t v);

// `path` made absolute against `base_dir` (the model file's folder) when relative; "~/" is $HOME.
std::string resolve_path(const std::string& path, const std::string& base_dir);

// Throws "<dir>: no such directory (...)" unless `dir` is an existing directory.
void require_directory(const std::string& dir, const std::string& what);

// Whether anything exists at `path` (no exception).
bool path_exists(const std::string& path);

// Size of a regular file in bytes; throws naming the file if it is missing or not a file.
int64_t file_size(const std::string& path);

// Reads `size` bytes at `offset` (whole file when size < 0). Throws naming the file.
std::vector<uint8_t> read_file(const std::string& path, int64_t offset = 0, int64_t size = -1);

// The file's content, inflated if it is gzip (decided by its magic bytes, not by its name:
// browsers sometimes store an already-inflated copy under the .gz name). A truncated or corrupt
// gzip stream throws naming the file.
std::vector<uint8_t> read_maybe_gzip(const std::string& path);

// The first `max_bytes` of the file's (inflated) content, or all of it when it is shorter. Only
// that much is inflated: a 256-image limit of Fashion-MNIST's 47 MB of pixels took 0.15 s of
// zlib at every start before. When the content was cut short, `*cut` is set, and for gzip
// `*claimed_size` is the trailer's size of the whole content (mod 2^32), so that a caller can
// check it against what a header announces; the stream past the prefix is not checked.
struct FilePrefix {
  std::vector<uint8_t> bytes;
  bool cut = false;
  bool gzip = false;
  uint32_t claimed_size = 0;  // gzip trailer (ISIZE), when gzip
};
FilePrefix read_maybe_gzip_prefix(const std::string& path, size_t max_bytes);

// Big-endian 32-bit word at p.
uint32_t read_be32(const uint8_t* p);

// "0x00000803"
std::string hex32(uint32_t v);

// "47040016 bytes (44.9 MB)"
std::string bytes_str(int64_t n);

// Area (box) resampling of one image of C channels from HxW to OHxOW, written CHW to dst. The
// source is addressed with strides (in elements) so that CHW, HWC (stb) and the column-major STL-10
// layout are all read in place: src[c*sc + y*sy + x*sx]. Each output pixel is the average of the
// source area it covers (fractional edges weighted), which for 96 -> 48 is the exact 2x2 mean;
// upsampling degrades gracefully to nearest/linear weights. Rounded to nearest.
void resize_area(const uint8_t* src, int64_t C, int64_t H, int64_t W, int64_t sc, int64_t sy,
                 int64_t sx, uint8_t* dst, int64_t OH, int64_t OW);

// Runs fn(begin, end) over [0, n) split across up to hardware_concurrency threads; rethrows the
// first exception.
void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

// Throws if ctx.expected is non-empty and differs from `actual`, naming both and the fix.
void check_expected_shape(const DatasetContext& ctx, const Shape& actual, const std::string& fix);

// Runs `load`; rethrows a gan::Error from it located at the model file's `path` parameter, so
// the message reads "model.toml:12: [data] (idx): /data/x.gz: truncated ...".
std::unique_ptr<Dataset> located(const DatasetContext& ctx,
                                 const std::function<std::unique_ptr<Dataset>()>& load);

}  // namespace gan::datasets
