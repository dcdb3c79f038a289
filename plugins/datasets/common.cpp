// plugins/datasets/common.cpp — file reading, gzip, resampling and the in-memory ImageSet.
#include "common.hpp"

#include <zlib.h>

#include <limits>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>

namespace fs = std::filesystem;

namespace gan::datasets {

// ---- ImageSet ----------------------------------------------------------------------------

ImageSet::ImageSet(std::string description, Shape shape, std::vector<uint8_t> pixels,
                   std::vector<int16_t> labels, int64_t num_classes)
    : description_(std::move(description)),
      shape_(std::move(shape)),
      numel_(shape_numel(shape_)),
      pixels_(std::move(pixels)),
      labels_(std::move(labels)),
      num_classes_(num_classes) {
  if (shape_.size() != 3 || numel_ <= 0) throw Error("ImageSet: shape must be {C, H, W}");
  if (pixels_.size() % static_cast<size_t>(numel_) != 0)
    throw Error("ImageSet: pixel buffer is not a whole number of images");
  count_ = static_cast<int64_t>(pixels_.size()) / numel_;
  if (!labels_.empty() && static_cast<int64_t>(labels_.size()) != count_)
    throw Error("ImageSet: " + std::to_string(labels_.size()) + " labels for " +
                std::to_string(count_) + " images");
}

namespace {
const std::array<float, 256>& unit_table() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int v = 0; v < 256; ++v) t[v] = static_cast<float>(v / 127.5 - 1.0);
    return t;
  }();
  return table;
}
}  // namespace

float u8_to_unit(uint8_t v) { return unit_table()[v]; }

void ImageSet::read(int64_t index, float* out) const {
  if (index < 0 || index >= count_)
    throw Error(description_ + ": image index " + std::to_string(index) + " out of range [0, " +
                std::to_string(count_) + ")");
  const auto& t = unit_table();
  const uint8_t* p = pixels(index);
  for (int64_t i = 0; i < numel_; ++i) out[i] = t[p[i]];
}

int64_t ImageSet::label(int64_t index) const {
  if (labels_.empty()) return -1;
  if (index < 0 || index >= count_)
    throw Error(description_ + ": label index " + std::to_string(index) + " out of range [0, " +
                std::to_string(count_) + ")");
  return labels_[static_cast<size_t>(index)];
}

// ---- paths and files ---------------------------------------------------------------------

std::string resolve_path(const std::string& path, const std::string& base_dir) {
  std::string p = path;
  if (p == "~" || p.rfind("~/", 0) == 0) {
    if (const char* home = std::getenv("HOME")) p = std::string(home) + p.substr(1);
  }
  fs::path fp(p);
  if (fp.is_relative() && !base_dir.empty()) fp = fs::path(base_dir) / fp;
  return fp.lexically_normal().string();
}

void require_directory(const std::string& dir, const std::string& what) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  if (fs::exists(dir, ec))
    throw Error(dir + ": not a directory: set path to the folder that holds " + what);
  throw Error(dir + ": no such directory: set path to the folder that holds " + what);
}

bool path_exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

int64_t file_size(const std::string& path) {
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw Error(path + ": no such file");
  if (!fs::is_regular_file(st)) throw Error(path + ": not a regular file");
  auto n = fs::file_size(path, ec);
  if (ec) throw Error(path + ": cannot read its size: " + ec.message());
  return static_cast<int64_t>(n);
}

std::vector<uint8_t> read_file(const std::string& path, int64_t offset, int64_t size) {
  int64_t total = file_size(path);
  if (size < 0) size = total - offset;
  if (offset < 0 || offset + size > total)
    throw Error(path + ": wanted bytes [" + std::to_string(offset) + ", " +
                std::to_string(offset + size) + ") but the file has " + bytes_str(total));
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error(path + ": cannot open: " + std::strerror(errno));
  std::vector<uint8_t> out(static_cast<size_t>(size));
  bool ok = std::fseek(f, static_cast<long>(offset), SEEK_SET) == 0 &&
            std::fread(out.data(), 1, out.size(), f) == out.size();
  int err = errno;
  std::fclose(f);
  if (!ok) throw Error(path + ": read error: " + std::strerror(err));
  return out;
}

FilePrefix read_maybe_gzip_prefix(const std::string& path, size_t max_bytes) {
  FilePrefix r;
  std::vector<uint8_t> in = read_file(path);
  if (in.size() < 2 || in[0] != 0x1f || in[1] != 0x8b) {  // not gzip: raw content
    if (in.size() > max_bytes) {
      in.resize(max_bytes);
      r.cut = true;
    }
    r.bytes = std::move(in);
    return r;
  }
  r.gzip = true;
  if (in.size() >= 18) {
    r.claimed_size = in[in.size() - 4] | (in[in.size() - 3] << 8) | (in[in.size() - 2] << 16) |
                     (static_cast<uint32_t>(in[in.size() - 1]) << 24);
  }

  // The gzip trailer holds the inflated size mod 2^32: a first guess for the buffer, but only a
  // claim made by the file. Deflate expands at most 1032:1, so a guess above that bound is a
  // lie (an 80-byte file claiming 2 GiB) and is ignored; the buffer then grows as data really
  // arrives, never ahead of it by more than a factor of two.
  const size_t max_ratio = 1032;
  const size_t bound = in.size() * max_ratio + 1024;
  size_t guess = in.size() * 2;
  if (r.claimed_size > 0 && r.claimed_size <= bound) guess = r.claimed_size;
  std::vector<uint8_t> out(std::min(std::clamp<size_t>(guess, 1024, bound), std::max<size_t>(max_bytes, 1)));

  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw Error(path + ": zlib init failed");
  zs.next_in = in.data();
  zs.avail_in = static_cast<uInt>(in.size());
  size_t produced = 0;
  int rc = Z_OK;
  while (true) {
    if (produced >= max_bytes) {  // the prefix asked for: the rest is neither inflated nor checked
      inflateEnd(&zs);
      out.resize(max_bytes);
      r.bytes = std::move(out);
      r.cut = true;
      return r;
    }
    if (produced == out.size()) {
      if (out.size() >= bound) {  // cannot happen with valid deflate data
        inflateEnd(&zs);
        throw Error(path + ": corrupt gzip data: it inflates to more than " + bytes_str(static_cast<int64_t>(bound)) +
                    ", beyond what deflate can produce from " + bytes_str(static_cast<int64_t>(in.size())) +
                    ": download the file again");
      }
      out.resize(std::min({out.size() * 2, bound, std::max(max_bytes, out.size() + 1)}));
    }
    zs.next_out = out.data() + produced;
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - produced, 1u << 30));
    size_t before = zs.avail_out;
    rc = inflate(&zs, Z_NO_FLUSH);
    produced += before - zs.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // input ended before the stream did
    if (rc == Z_BUF_ERROR) continue;                   // needs more output space
    std::string msg = zs.msg ? zs.msg : "error " + std::to_string(rc);
    inflateEnd(&zs);
    throw Error(path + ": corrupt gzip data (zlib: " + msg + ") after " + bytes_str(produced) +
                " of output: download the file again");
  }
  // Concatenated gzip members are legal but nothing we read uses them; trailing bytes are not.
  size_t unused = zs.avail_in;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END)
    throw Error(path + ": truncated gzip file: the compressed stream ends after " +
                bytes_str(produced) +
                " of output (the download was probably interrupted): download it again");
  if (unused > 0)
    throw Error(path + ": " + std::to_string(unused) +
                " bytes of garbage after the end of the gzip stream: download the file again");
  out.resize(produced);
  r.bytes = std::move(out);
  return r;
}

std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  return read_maybe_gzip_prefix(path, std::numeric_limits<size_t>::max()).bytes;
}

uint32_t read_be32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::string bytes_str(int64_t n) {
  std::string s = std::to_string(n) + " bytes";
  if (n >= (1 << 20)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " (%.1f MB)", n / 1048576.0);
    s += buf;
  }
  return s;
}

// ---- resampling --------------------------------------------------------------------------

namespace {
// For each output index, the source indices it covers and their weights (summing to 1).
struct Taps {
  std::vector<int64_t> first, count;
  std::vector<float> weight;  // flattened, `count[o]` entries starting at offset[o]
  std::vector<int64_t> offset;
};

Taps area_taps(int64_t in, int64_t out) {
  Taps t;
  double scale = static_cast<double>(in) / out;  // source pixels per output pixel
  for (int64_t o = 0; o < out; ++o) {
    double lo = o * scale, hi = (o + 1) * scale;
    if (scale < 1.0) {  // upsampling: a unit-wide window centred on the sample point
      double c = (o + 0.5) * scale;
      lo = c - 0.5;
      hi = c + 0.5;
      if (lo < 0) { hi -= lo; lo = 0; }
      if (hi > in) { lo -= hi - in; hi = in; }
    }
    auto i0 = static_cast<int64_t>(std::floor(lo));
    auto i1 = std::min<int64_t>(in, static_cast<int64_t>(std::ceil(hi - 1e-9)));
    t.first.push_back(i0);
    t.offset.push_back(static_cast<int64_t>(t.weight.size()));
    double total = hi - lo;
    int64_t n = 0;
    for (int64_t i = i0; i < i1; ++i) {
      double w = std::min<double>(hi, i + 1) - std::max<double>(lo, i);
      if (w <= 1e-12) continue;
      if (n == 0) t.first.back() = i;
      t.weight.push_back(static_cast<float>(w / total));
      ++n;
    }
    t.count.push_back(n);
  }
  return t;
}
}  // namespace

void resize_area(const uint8_t* src, int64_t C, int64_t H, int64_t W, int64_t sc, int64_t sy,
                 int64_t sx, uint8_t* dst, int64_t OH, int64_t OW) {
  if (H == OH && W == OW) {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < W; ++x) dst[(c * OH + y) * OW + x] = src[c * sc + y * sy + x * sx];
    return;
  }
  Taps ty = area_taps(H, OH), tx = area_taps(W, OW);
  std::vector<float> rows(static_cast<size_t>(OH * W));  // vertical pass, one channel
  for (int64_t c = 0; c < C; ++c) {
    const uint8_t* s = src + c * sc;
    for (int64_t oy = 0; oy < OH; ++oy) {
      float* r = rows.data() + oy * W;
      for (int64_t x = 0; x < W; ++x) r[x] = 0.f;
      for (int64_t k = 0; k < ty.count[oy]; ++k) {
        float w = ty.weight[ty.offset[oy] + k];
        const uint8_t* line = s + (ty.first[oy] + k) * sy;
        for (int64_t x = 0; x < W; ++x) r[x] += w * line[x * sx];
      }
    }
    uint8_t* d = dst + c * OH * OW;
    for (int64_t oy = 0; oy < OH; ++oy) {
      const float* r = rows.data() + oy * W;
      for (int64_t ox = 0; ox < OW; ++ox) {
        float v = 0.f;
        for (int64_t k = 0; k < tx.count[ox]; ++k) v += tx.weight[tx.offset[ox] + k] * r[tx.first[ox] + k];
        d[oy * OW + ox] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
}

// ---- threads, shapes, errors -------------------------------------------------------------

void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  int64_t threads = std::clamp<int64_t>(std::thread::hardware_concurrency(), 1, 16);
  threads = std::min(threads, n);
  if (threads == 1) return fn(0, n);
  std::exception_ptr error;
  std::mutex m;
  std::vector<std::thread> pool;
  for (int64_t t = 0; t < threads; ++t) {
    int64_t b = n * t / threads, e = n * (t + 1) / threads;
    pool.emplace_back([&, b, e] {
      try {
        fn(b, e);
      } catch (...) {
        std::lock_guard<std::mutex> lock(m);
        if (!error) error = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

void check_expected_shape(const DatasetContext& ctx, const Shape& actual, const std::string& fix) {
  if (ctx.expected.empty() || ctx.expected == actual) return;
  throw ctx.params.error("the data are " + shape_str(actual) + " images but the model expects " +
                         shape_str(ctx.expected) + ": " + fix);
}

std::unique_ptr<Dataset> located(const DatasetContext& ctx,
                                 const std::function<std::unique_ptr<Dataset>()>& load) {
  try {
    return load();
  } catch (const Error& e) {
    if (ctx.params.has("path")) throw ctx.params.error("path", e.what());
    throw ctx.params.error(e.what());
  }
}

}  // namespace gan::datasets
