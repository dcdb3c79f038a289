// tests/test_datasets.cpp — the `datasets` plugin's loaders and gan::DataLoader.
//
// Each format test writes tiny files in the exact official layout into a temporary folder, reads
// them back through the type's factory (as the framework would, via validate_params) and checks
// values, labels and scaling; then damages the files (truncated, wrong magic, wrong size,
// missing) and checks each message names the file, the problem and the fix. The loader tests
// use an in-memory dataset. One test reads the real Fashion-MNIST when it is installed.
#include <catch2/catch.hpp>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <unistd.h>

#include "datasets.hpp"
#include "gan/data_loader.hpp"
#include "gan/dataset.hpp"
#include "gan/error.hpp"
#include "gan/params.hpp"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;
using Catch::Contains;

namespace {

// ---- helpers -----------------------------------------------------------------------------

struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           ("gan-test-datasets-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  std::string str() const { return path.string(); }
};

void write_file(const std::string& path, const Bytes& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

Bytes gzip(const Bytes& in) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out(deflateBound(&zs, static_cast<uLong>(in.size())) + 64);
  zs.next_in = const_cast<Bytes::value_type*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void put_be32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

// Pixel values that cover 0 and 255 and differ between images, rows and columns.
uint8_t idx_pixel(int64_t i, int64_t y, int64_t x) {
  if (i == 0 && y == 0 && x == 0) return 0;
  if (i == 0 && y == 0 && x == 1) return 255;
  return static_cast<uint8_t>((i * 37 + y * 11 + x * 3) % 256);
}

Bytes idx_images(uint32_t n, uint32_t h, uint32_t w) {
  Bytes b;
  put_be32(b, 0x00000803);
  put_be32(b, n);
  put_be32(b, h);
  put_be32(b, w);
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t y = 0; y < h; ++y)
      for (uint32_t x = 0; x < w; ++x) b.push_back(idx_pixel(i, y, x));
  return b;
}

Bytes idx_labels(uint32_t n) {
  Bytes b;
  put_be32(b, 0x00000801);
  put_be32(b, n);
  for (uint32_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>((i * 3) % 10));
  return b;
}

float unit(uint8_t v) { return static_cast<float>(v / 127.5 - 1.0); }

using Values = std::map<std::string, gan::ParamValue>;

// Creates a dataset through its factory the way the framework does: raw values from a model
// file ("model.toml", line 7; in base_dir when given), validated against the factory's specs,
// then create().
std::unique_ptr<gan::Dataset> create(const gan::DatasetFactory& f, const Values& values,
                                     gan::Shape expected = {}, std::string base_dir = {}) {
  const std::string file = base_dir.empty() ? "model.toml" : base_dir + "/model.toml";
  gan::Params raw("[data] (" + f.type + ")", gan::Source{file, 7});
  for (const auto& [k, v] : values) raw.set(k, v, gan::Source{file, 8});
  gan::DatasetContext ctx;
  ctx.params = gan::validate_params(f.params, raw);
  ctx.base_dir = std::move(base_dir);
  ctx.expected = std::move(expected);
  return f.create(ctx);
}

std::vector<float> read_image(const gan::Dataset& ds, int64_t i) {
  std::vector<float> out(static_cast<size_t>(gan::shape_numel(ds.shape())));
  ds.read(i, out.data());
  return out;
}

std::string S(const std::string& s) { return s; }

}  // namespace

// ---- idx ---------------------------------------------------------------------------------

TEST_CASE("idx: raw and gzip files read back exactly, scaled to [-1, 1]", "[datasets][idx]") {
  TempDir dir;
  write_file(dir / "train-images-idx3-ubyte", idx_images(5, 3, 4));
  write_file(dir / "train-labels-idx1-ubyte", idx_labels(5));
  write_file(dir / "t10k-images-idx3-ubyte.gz", gzip(idx_images(5, 3, 4)));
  write_file(dir / "t10k-labels-idx1-ubyte.gz", gzip(idx_labels(5)));

  auto f = gan::datasets::idx_factory();
  for (std::string split : {"train", "test"}) {
    auto ds = create(f, {{"path", dir.str()}, {"split", split}});
    REQUIRE(ds->size() == 5);
    REQUIRE(ds->shape() == gan::Shape{1, 3, 4});
    CHECK(ds->num_classes() == 10);  // labels (i*3)%10 for i<5: 0 3 6 9 2
    for (int64_t i = 0; i < 5; ++i) {
      CHECK(ds->label(i) == (i * 3) % 10);
      auto img = read_image(*ds, i);
      for (int64_t y = 0; y < 3; ++y)
        for (int64_t x = 0; x < 4; ++x) CHECK(img[y * 4 + x] == unit(idx_pixel(i, y, x)));
    }
    auto first = read_image(*ds, 0);
    CHECK(first[0] == -1.0f);  // byte 0
    CHECK(first[1] == 1.0f);   // byte 255
    CHECK_THAT(ds->describe(), Contains("idx: ") && Contains(split) && Contains("5 images 1x3x4"));
  }

  auto limited = create(f, {{"path", dir.str()}, {"limit", int64_t{2}}});
  CHECK(limited->size() == 2);
  CHECK(limited->label(1) == 3);

  // pad = 2 frames each image in background (-1): 3x4 -> 7x8.
  auto padded = create(f, {{"path", dir.str()}, {"pad", int64_t{2}}}, {1, 7, 8});
  REQUIRE(padded->shape() == gan::Shape{1, 7, 8});
  auto img = read_image(*padded, 3);
  for (int64_t y = 0; y < 7; ++y)
    for (int64_t x = 0; x < 8; ++x) {
      bool inside = y >= 2 && y < 5 && x >= 2 && x < 6;
      REQUIRE(img[y * 8 + x] == (inside ? unit(idx_pixel(3, y - 2, x - 2)) : -1.0f));
    }
}

// With `limit`, only the header and the first `limit` images are inflated; the gzip trailer's
// size of the whole content is still checked against the header, so a truncated download (whose
// last bytes are not a trailer) is reported even when the cut lies beyond the images read.
TEST_CASE("idx: limit inflates only the images it keeps, and still catches a truncated file", "[datasets][idx]") {
  TempDir dir;
  const std::string images = dir / "train-images-idx3-ubyte.gz";
  auto f = gan::datasets::idx_factory();
  write_file(images, gzip(idx_images(2000, 28, 28)));
  auto all = create(f, {{"path", dir.str()}});
  auto some = create(f, {{"path", dir.str()}, {"limit", int64_t{7}}});
  REQUIRE(all->size() == 2000);
  REQUIRE(some->size() == 7);
  for (int64_t i = 0; i < 7; ++i) CHECK(read_image(*some, i) == read_image(*all, i));
  CHECK(create(f, {{"path", dir.str()}, {"limit", int64_t{2000}}})->size() == 2000);
  CHECK(create(f, {{"path", dir.str()}, {"limit", int64_t{5000}}})->size() == 2000);

  Bytes z = gzip(idx_images(2000, 28, 28));
  SECTION("truncated past the images kept") {
    z.resize(z.size() * 3 / 4);
    write_file(images, z);
    CHECK_THROWS_WITH(create(f, {{"path", dir.str()}, {"limit", int64_t{7}}}),
                      Contains(images + ": the gzip trailer gives") &&
                          Contains("the header announces 2000 images of 28x28") && Contains("download it again"));
    CHECK_THROWS_WITH(create(f, {{"path", dir.str()}}), Contains(images + ": truncated gzip file"));
  }
  SECTION("truncated before the images kept") {
    z.resize(z.size() / 4);
    write_file(images, z);
    CHECK_THROWS_WITH(create(f, {{"path", dir.str()}, {"limit", int64_t{1900}}}),
                      Contains(images + ": truncated gzip file"));
  }
  SECTION("more images than the header says") {
    Bytes b = idx_images(2000, 28, 28);
    b.push_back(7);
    write_file(images, gzip(b));
    CHECK_THROWS_WITH(create(f, {{"path", dir.str()}, {"limit", int64_t{7}}}),
                      Contains("the gzip trailer gives 1568017 bytes"));
  }
}

TEST_CASE("idx: a raw file under the .gz name, a relative path, no labels file", "[datasets][idx]") {
  TempDir dir;
  write_file(dir / "data/train-images-idx3-ubyte.gz", idx_images(3, 2, 2));  // not compressed
  auto f = gan::datasets::idx_factory();
  auto ds = create(f, {{"path", S("data")}}, {}, dir.str());
  CHECK(ds->size() == 3);
  CHECK(ds->label(0) == -1);
  CHECK(ds->num_classes() == 0);
  CHECK_THAT(ds->describe(), Contains("no labels"));
}

TEST_CASE("idx: bad files are reported with the file, the problem and the fix", "[datasets][idx][errors]") {
  TempDir dir;
  auto f = gan::datasets::idx_factory();
  auto load = [&] { create(f, {{"path", dir.str()}}); };
  const std::string images = dir / "train-images-idx3-ubyte.gz";

  SECTION("missing folder") {
    CHECK_THROWS_WITH(create(f, {{"path", dir / "nope"}}),
                      Contains("model.toml:8") && Contains(dir / "nope") && Contains("no such directory"));
  }
  SECTION("missing images file") {
    CHECK_THROWS_WITH(load(), Contains("no train-images-idx3-ubyte.gz") &&
                                  Contains("set path to the folder"));
  }
  SECTION("wrong magic") {
    Bytes b = idx_images(2, 2, 2);
    b[2] = b[3] = 0;
    write_file(images, gzip(b));
    CHECK_THROWS_WITH(load(), Contains(images + ": wrong magic 0x00000000 (expected 0x00000803 "
                                                "for IDX images): is this an IDX file?"));
  }
  SECTION("labels file given for images") {
    write_file(images, idx_labels(4));
    CHECK_THROWS_WITH(load(), Contains("wrong magic 0x00000801") && Contains("swapped"));
  }
  SECTION("truncated raw data") {
    Bytes b = idx_images(4, 3, 3);
    b.resize(b.size() - 5);
    write_file(images, b);
    CHECK_THROWS_WITH(load(), Contains(images + ": truncated: the header announces 4 images of "
                                                "3x3 (52 bytes) but it holds only 47 bytes"));
  }
  SECTION("truncated gzip stream") {
    Bytes z = gzip(idx_images(50, 28, 28));
    z.resize(z.size() / 2);
    write_file(images, z);
    CHECK_THROWS_WITH(load(), Contains(images + ": truncated gzip file") && Contains("download it again"));
  }
  SECTION("corrupt gzip stream") {
    Bytes z = gzip(idx_images(50, 28, 28));
    for (size_t i = 20; i < 60; ++i) z[i] ^= 0x5a;
    write_file(images, z);
    CHECK_THROWS_WITH(load(), Contains(images + ": ") &&
                                  (Contains("corrupt gzip data") || Contains("truncated gzip")));
  }
  SECTION("more data than the header says") {
    Bytes b = idx_images(2, 2, 2);
    b.push_back(7);
    write_file(images, b);
    CHECK_THROWS_WITH(load(), Contains("1 bytes more than the header announces"));
  }
  SECTION("header too short") {
    write_file(images, Bytes{0, 0});
    CHECK_THROWS_WITH(load(), Contains("too short for an IDX header"));
  }
  SECTION("labels and images disagree") {
    write_file(images, idx_images(4, 2, 2));
    write_file(dir / "train-labels-idx1-ubyte.gz", gzip(idx_labels(3)));
    CHECK_THROWS_WITH(load(), Contains("train-labels-idx1-ubyte.gz: 3 labels for the 4 images"));
  }
  SECTION("shape differs from the model's") {
    write_file(images, idx_images(2, 2, 2));
    CHECK_THROWS_WITH(create(f, {{"path", dir.str()}}, {3, 32, 32}),
                      Contains("model.toml:7") && Contains("1x2x2") && Contains("3x32x32") &&
                          Contains("channels = 1"));
    CHECK_THROWS_WITH(create(f, {{"path", dir.str()}}, {1, 6, 6}), Contains("or pad = 2"));
  }
}

// ---- cifar10 -----------------------------------------------------------------------------

namespace {
// A CIFAR-10 binary record: label, then R, G, B planes of 32x32, row-major.
uint8_t cifar_pixel(int64_t rec, int64_t c, int64_t y, int64_t x) {
  return static_cast<uint8_t>((rec * 7 + c * 85 + y * 5 + x) % 256);
}
Bytes cifar_file(int64_t first, int64_t n) {
  Bytes b;
  for (int64_t r = first; r < first + n; ++r) {
    b.push_back(static_cast<uint8_t>(r % 10));
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 32; ++y)
        for (int64_t x = 0; x < 32; ++x) b.push_back(cifar_pixel(r, c, y, x));
  }
  return b;
}
void write_cifar(const std::string& dir) {
  for (int i = 1; i <= 5; ++i)
    write_file(dir + "/data_batch_" + std::to_string(i) + ".bin", cifar_file((i - 1) * 2, 2));
  write_file(dir + "/test_batch.bin", cifar_file(100, 3));
}
}  // namespace

TEST_CASE("cifar10: binary batches read back as 3x32x32 with labels", "[datasets][cifar10]") {
  TempDir dir;
  write_cifar(dir / "cifar-10-batches-bin");
  auto f = gan::datasets::cifar10_factory();

  auto train = create(f, {{"path", dir.str()}}, {3, 32, 32});  // finds the subfolder
  REQUIRE(train->size() == 10);
  CHECK(train->num_classes() == 10);
  for (int64_t r = 0; r < 10; ++r) {
    CHECK(train->label(r) == r % 10);
    auto img = read_image(*train, r);
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y : {0, 13, 31})
        for (int64_t x : {0, 7, 31})
          REQUIRE(img[(c * 32 + y) * 32 + x] == unit(cifar_pixel(r, c, y, x)));
  }
  auto test = create(f, {{"path", dir / "cifar-10-batches-bin"}, {"split", S("test")}});
  REQUIRE(test->size() == 3);
  CHECK(test->label(2) == 102 % 10);
  CHECK(read_image(*test, 1)[5] == unit(cifar_pixel(101, 0, 0, 5)));

  auto limited = create(f, {{"path", dir.str()}, {"limit", int64_t{3}}});
  CHECK(limited->size() == 3);
  CHECK(read_image(*limited, 2)[0] == unit(cifar_pixel(2, 0, 0, 0)));  // from data_batch_2
}

TEST_CASE("cifar10: bad files are reported clearly", "[datasets][cifar10][errors]") {
  TempDir dir;
  write_cifar(dir.str());
  auto f = gan::datasets::cifar10_factory();
  auto load = [&] { create(f, {{"path", dir.str()}}); };

  SECTION("path is required") {
    CHECK_THROWS_WITH(create(f, {}), Contains("missing required parameter 'path'"));
  }
  SECTION("missing batch") {
    fs::remove(dir / "data_batch_3.bin");
    CHECK_THROWS_WITH(load(), Contains(dir / "data_batch_3.bin") && Contains("no such file"));
  }
  SECTION("no batches at all") {
    TempDir empty;
    CHECK_THROWS_WITH(create(f, {{"path", empty.str()}}),
                      Contains("data_batch_1.bin: no such file") && Contains("cifar-10-binary.tar.gz"));
  }
  SECTION("python version") {
    TempDir py;
    write_file(py / "data_batch_1", Bytes{0x80, 0x02});
    CHECK_THROWS_WITH(create(f, {{"path", py.str()}}), Contains("Python (pickle) version"));
  }
  SECTION("truncated batch") {
    Bytes b = cifar_file(4, 2);
    b.resize(b.size() - 100);
    write_file(dir / "data_batch_3.bin", b);
    CHECK_THROWS_WITH(load(), Contains(dir / "data_batch_3.bin") &&
                                  Contains("not a whole number of 3073-byte records"));
  }
  SECTION("label out of range") {
    Bytes b = cifar_file(4, 2);
    b[3073] = 11;
    write_file(dir / "data_batch_3.bin", b);
    CHECK_THROWS_WITH(load(), Contains("data_batch_3.bin: record 1") && Contains("label 11"));
  }
  SECTION("model expects another shape") {
    CHECK_THROWS_WITH(create(f, {{"path", dir.str()}}, {3, 48, 48}),
                      Contains("3x32x32") && Contains("3x48x48"));
  }
}

// ---- stl10 -------------------------------------------------------------------------------

namespace {
// Deterministic pseudo-random pixel for image i, channel c, row y, column x.
uint8_t stl_pixel(int64_t i, int64_t c, int64_t y, int64_t x) {
  uint32_t h = static_cast<uint32_t>(((i * 3 + c) * 96 + y) * 96 + x) * 2654435761u;
  return static_cast<uint8_t>(h >> 24);
}
// The official layout: per channel, column-major (x outer, y inner).
Bytes stl_images(int64_t n) {
  Bytes b;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t x = 0; x < 96; ++x)
        for (int64_t y = 0; y < 96; ++y) b.push_back(stl_pixel(i, c, y, x));
  return b;
}
}  // namespace

TEST_CASE("stl10: column-major 96x96 planes, resized 96 -> 48 by 2x2 means", "[datasets][stl10]") {
  TempDir dir;
  write_file(dir / "stl10_binary/unlabeled_X.bin", stl_images(3));
  write_file(dir / "stl10_binary/train_X.bin", stl_images(2));
  write_file(dir / "stl10_binary/train_y.bin", Bytes{1, 10});
  auto f = gan::datasets::stl10_factory();

  auto full = create(f, {{"path", dir.str()}, {"size", int64_t{96}}});
  REQUIRE(full->size() == 3);
  REQUIRE(full->shape() == gan::Shape{3, 96, 96});
  CHECK(full->label(0) == -1);
  for (int64_t i = 0; i < 3; ++i) {
    auto img = read_image(*full, i);
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y : {0, 1, 50, 95})
        for (int64_t x : {0, 2, 77, 95})
          REQUIRE(img[(c * 96 + y) * 96 + x] == unit(stl_pixel(i, c, y, x)));
  }

  auto half = create(f, {{"path", dir / "stl10_binary"}}, {3, 48, 48});  // default size 48
  REQUIRE(half->shape() == gan::Shape{3, 48, 48});
  auto img = read_image(*half, 1);
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < 48; ++y)
      for (int64_t x = 0; x < 48; ++x) {
        int sum = stl_pixel(1, c, 2 * y, 2 * x) + stl_pixel(1, c, 2 * y + 1, 2 * x) +
                  stl_pixel(1, c, 2 * y, 2 * x + 1) + stl_pixel(1, c, 2 * y + 1, 2 * x + 1);
        REQUIRE(img[(c * 48 + y) * 48 + x] == unit(static_cast<uint8_t>((sum + 2) / 4)));
      }

  auto train = create(f, {{"path", dir.str()}, {"split", S("train")}, {"size", int64_t{40}}});
  REQUIRE(train->size() == 2);
  CHECK(train->shape() == gan::Shape{3, 40, 40});
  CHECK(train->label(0) == 0);
  CHECK(train->label(1) == 9);
  CHECK(train->num_classes() == 10);
  for (float v : read_image(*train, 0)) REQUIRE((v >= -1.0f && v <= 1.0f));
}

TEST_CASE("stl10: bad files are reported clearly", "[datasets][stl10][errors]") {
  TempDir dir;
  write_file(dir / "train_X.bin", stl_images(2));
  write_file(dir / "train_y.bin", Bytes{1, 2});
  auto f = gan::datasets::stl10_factory();
  auto load = [&] { create(f, {{"path", dir.str()}, {"split", S("train")}}); };

  SECTION("missing file") {
    CHECK_THROWS_WITH(create(f, {{"path", dir.str()}}),
                      Contains(dir / "unlabeled_X.bin") && Contains("no such file") &&
                          Contains("stl10_binary.tar.gz"));
  }
  SECTION("truncated images") {
    Bytes b = stl_images(2);
    b.resize(b.size() - 1000);
    write_file(dir / "train_X.bin", b);
    CHECK_THROWS_WITH(load(), Contains(dir / "train_X.bin") && Contains("not a whole number of 96x96x3"));
  }
  SECTION("label count") {
    write_file(dir / "train_y.bin", Bytes{1});
    CHECK_THROWS_WITH(load(), Contains("train_y.bin: 1 labels for the 2 images"));
  }
  SECTION("label out of range") {
    write_file(dir / "train_y.bin", Bytes{1, 0});
    CHECK_THROWS_WITH(load(), Contains("label 0 at index 1 is not 1-10"));
  }
  SECTION("size mismatch with the model") {
    CHECK_THROWS_WITH(create(f, {{"path", dir.str()}, {"split", S("train")}}, {3, 32, 32}),
                      Contains("3x48x48") && Contains("3x32x32") && Contains("size = 32"));
  }
}

// ---- image_folder ------------------------------------------------------------------------

TEST_CASE("image_folder: PNG and JPEG files, recursive, cropped and resized", "[datasets][image_folder]") {
  TempDir dir;
  // a/rgb.png: 8x8 RGB, value depends on channel, row, column.
  std::vector<uint8_t> rgb(8 * 8 * 3);
  auto rgb_at = [](int c, int y, int x) { return static_cast<uint8_t>(c * 60 + y * 20 + x * 3); };
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x)
      for (int c = 0; c < 3; ++c) rgb[(y * 8 + x) * 3 + c] = rgb_at(c, y, x);
  fs::create_directories(dir.path / "a");
  REQUIRE(stbi_write_png((dir / "a/rgb.png").c_str(), 8, 8, 3, rgb.data(), 8 * 3));
  // b/wide.png: 6 wide, 4 high, grey; the centre crop is columns 1..4.
  std::vector<uint8_t> grey(6 * 4);
  for (int i = 0; i < 24; ++i) grey[i] = static_cast<uint8_t>(i * 10);
  fs::create_directories(dir.path / "b");
  REQUIRE(stbi_write_png((dir / "b/wide.png").c_str(), 6, 4, 1, grey.data(), 6));
  // c/flat.JPG: constant colour (JPEG is lossy: compare loosely).
  std::vector<uint8_t> flat(16 * 16 * 3);
  for (int i = 0; i < 16 * 16; ++i) { flat[i * 3] = 200; flat[i * 3 + 1] = 100; flat[i * 3 + 2] = 30; }
  fs::create_directories(dir.path / "c");
  REQUIRE(stbi_write_jpg((dir / "c/flat.JPG").c_str(), 16, 16, 3, flat.data(), 100));
  // skipped: not an image, hidden file, hidden folder
  write_file(dir / "notes.txt", Bytes{'h', 'i'});
  write_file(dir / ".hidden.png", Bytes{1, 2, 3});
  write_file(dir / ".cache/x.png", Bytes{1, 2, 3});

  auto f = gan::datasets::image_folder_factory();
  auto ds = create(f, {{"path", dir.str()}, {"size", int64_t{4}}, {"channels", int64_t{3}}});
  REQUIRE(ds->size() == 3);  // a/rgb.png, b/wide.png, c/flat.JPG in path order
  REQUIRE(ds->shape() == gan::Shape{3, 4, 4});
  CHECK(ds->label(0) == -1);

  auto a = read_image(*ds, 0);  // 8 -> 4: 2x2 means
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) {
        int sum = rgb_at(c, 2 * y, 2 * x) + rgb_at(c, 2 * y + 1, 2 * x) + rgb_at(c, 2 * y, 2 * x + 1) +
                  rgb_at(c, 2 * y + 1, 2 * x + 1);
        REQUIRE(a[(c * 4 + y) * 4 + x] == unit(static_cast<uint8_t>((sum + 2) / 4)));
      }
  auto b = read_image(*ds, 1);  // grey replicated into 3 channels, centre 4x4 crop, no resize
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) REQUIRE(b[(c * 4 + y) * 4 + x] == unit(grey[y * 6 + x + 1]));
  auto jpg = read_image(*ds, 2);
  CHECK(std::fabs(jpg[0] - unit(200)) < 0.05f);
  CHECK(std::fabs(jpg[16] - unit(100)) < 0.05f);
  CHECK(std::fabs(jpg[32] - unit(30)) < 0.05f);

  // size and channels follow the model when left out; stretch keeps the whole width.
  auto grey_ds = create(f, {{"path", dir / "b"}, {"crop", S("stretch")}}, {1, 2, 2});
  REQUIRE(grey_ds->shape() == gan::Shape{1, 2, 2});
  auto g = read_image(*grey_ds, 0);  // 6x4 -> 2x2: each output averages 3 columns x 2 rows
  int sum = 0;
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) sum += grey[y * 6 + x];
  CHECK(g[0] == unit(static_cast<uint8_t>(std::lround(sum / 6.0))));
}

TEST_CASE("image_folder: symbolic-link loops end, and no image is loaded twice", "[datasets][image_folder]") {
  TempDir dir;
  std::vector<uint8_t> px(4 * 4);
  auto png = [&](const std::string& rel, uint8_t v) {
    std::fill(px.begin(), px.end(), v);
    fs::create_directories((dir.path / rel).parent_path());
    REQUIRE(stbi_write_png((dir / rel).c_str(), 4, 4, 1, px.data(), 4));
  };
  png("a/one.png", 10);
  png("a/sub/two.png", 20);
  png("b/three.png", 30);
  // a/self -> a (itself, from inside: an ancestor), a/sub/up -> .. (its parent), b/to_a -> ../a
  // (a folder also reached directly), loop -> . (the root), and a second name for one file.
  fs::create_directory_symlink(dir.path / "a", dir.path / "a/self");
  fs::create_directory_symlink("..", dir.path / "a/sub/up");
  fs::create_directory_symlink("../a", dir.path / "b/to_a");
  fs::create_directory_symlink(".", dir.path / "loop");
  fs::create_symlink(dir.path / "b/three.png", dir.path / "b/three-again.png");

  auto f = gan::datasets::image_folder_factory();
  auto ds = create(f, {{"path", dir.str()}, {"size", int64_t{4}}, {"channels", int64_t{1}}});
  REQUIRE(ds->size() == 3);  // the three real files, once each
  std::vector<float> seen;
  for (int64_t i = 0; i < ds->size(); ++i) seen.push_back(read_image(*ds, i)[0]);
  std::sort(seen.begin(), seen.end());
  CHECK(seen == std::vector<float>{unit(10), unit(20), unit(30)});
  CHECK_THAT(ds->describe(), Contains("3 images"));

  // The root given through a link works the same.
  fs::create_directory_symlink(dir.path, dir.path.parent_path() / (dir.path.filename().string() + "-link"));
  const fs::path link = dir.path.parent_path() / (dir.path.filename().string() + "-link");
  auto via_link = create(f, {{"path", link.string()}, {"size", int64_t{4}}, {"channels", int64_t{1}}});
  CHECK(via_link->size() == 3);
  fs::remove(link);
}

TEST_CASE("image_folder: bad input is reported clearly", "[datasets][image_folder][errors]") {
  TempDir dir;
  auto f = gan::datasets::image_folder_factory();
  SECTION("empty folder") {
    CHECK_THROWS_WITH(create(f, {{"path", dir.str()}, {"size", int64_t{8}}}),
                      Contains(dir.str() + ": no .png, .jpg or .jpeg files"));
  }
  SECTION("undecodable file") {
    write_file(dir / "broken.png", Bytes{0x89, 'P', 'N', 'G', 0, 0, 0, 0});
    CHECK_THROWS_WITH(create(f, {{"path", dir.str()}, {"size", int64_t{8}}}),
                      Contains(dir / "broken.png") && Contains("cannot decode"));
  }
  SECTION("no size anywhere") {
    CHECK_THROWS_WITH(create(f, {{"path", dir.str()}}), Contains("size is not set"));
  }
  SECTION("two channels") {
    CHECK_THROWS_WITH(create(f, {{"path", dir.str()}, {"size", int64_t{8}}, {"channels", int64_t{2}}}),
                      Contains("channels must be 1 or 3"));
  }
}

// ---- DataLoader --------------------------------------------------------------------------

namespace {
// n images of shape 2x1x1 holding (index, -index / n); label index % 7; read() may be told to
// fail at one index.
class FakeDataset : public gan::Dataset {
 public:
  explicit FakeDataset(int64_t n, int64_t fail_at = -1) : n_(n), fail_at_(fail_at) {}
  int64_t size() const override { return n_; }
  gan::Shape shape() const override { return {2, 1, 1}; }
  void read(int64_t i, float* out) const override {
    if (i == fail_at_) throw gan::Error("fake.bin: image " + std::to_string(i) + " is unreadable");
    out[0] = static_cast<float>(i);
    out[1] = -static_cast<float>(i) / n_;
  }
  int64_t label(int64_t i) const override { return i % 7; }
  int64_t num_classes() const override { return 7; }
  std::string describe() const override { return "fake (" + std::to_string(n_) + ")"; }

 private:
  int64_t n_, fail_at_;
};

std::vector<std::vector<int64_t>> take(gan::DataLoader& loader, int count) {
  std::vector<std::vector<int64_t>> out;
  for (int i = 0; i < count; ++i) out.push_back(loader.next().indices);
  return out;
}
}  // namespace

TEST_CASE("DataLoader: batches hold the right images, labels and positions", "[loader]") {
  FakeDataset ds(23);
  gan::DataLoader loader(ds, {.batch_size = 5, .seed = 3});
  CHECK(loader.batches_per_epoch() == 4);
  for (int k = 0; k < 9; ++k) {
    gan::Batch b = loader.next();
    REQUIRE(b.size == 5);
    REQUIRE(b.shape == gan::Shape{5, 2, 1, 1});
    CHECK(b.epoch == k / 4);
    CHECK(b.position == (k % 4) * 5);
    for (int64_t i = 0; i < 5; ++i) {
      REQUIRE(b.data[i * 2] == static_cast<float>(b.indices[i]));
      REQUIRE(b.data[i * 2 + 1] == -static_cast<float>(b.indices[i]) / 23);
      REQUIRE(b.labels[i] == b.indices[i] % 7);
    }
  }
}

TEST_CASE("DataLoader: every index exactly once per epoch, a new order each epoch", "[loader]") {
  FakeDataset ds(103);
  SECTION("without drop_last the last batch is short") {
    gan::DataLoader loader(ds, {.batch_size = 10, .seed = 9, .drop_last = false});
    REQUIRE(loader.batches_per_epoch() == 11);
    std::vector<int64_t> previous;
    for (int epoch = 0; epoch < 3; ++epoch) {
      std::vector<int64_t> seen;
      for (int k = 0; k < 11; ++k) {
        gan::Batch b = loader.next();
        REQUIRE(b.epoch == epoch);
        REQUIRE(b.size == (k == 10 ? 3 : 10));
        seen.insert(seen.end(), b.indices.begin(), b.indices.end());
      }
      std::set<int64_t> unique(seen.begin(), seen.end());
      REQUIRE(unique.size() == 103);
      REQUIRE(*unique.begin() == 0);
      REQUIRE(*unique.rbegin() == 102);
      CHECK(seen != previous);
      previous = seen;
    }
  }
  SECTION("with drop_last each epoch has 10 full batches of distinct indices") {
    gan::DataLoader loader(ds, {.batch_size = 10, .seed = 9});
    for (int epoch = 0; epoch < 2; ++epoch) {
      std::set<int64_t> unique;
      for (int k = 0; k < 10; ++k) {
        gan::Batch b = loader.next();
        REQUIRE(b.epoch == epoch);
        REQUIRE(b.size == 10);
        unique.insert(b.indices.begin(), b.indices.end());
      }
      REQUIRE(unique.size() == 100);
    }
  }
  SECTION("without shuffling the order is the dataset's") {
    gan::DataLoader loader(ds, {.batch_size = 10, .shuffle = false});
    CHECK(loader.next().indices == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  }
}

TEST_CASE("DataLoader: the order depends only on the seed", "[loader]") {
  FakeDataset ds(50);
  gan::DataLoader a(ds, {.batch_size = 8, .seed = 42});
  gan::DataLoader b(ds, {.batch_size = 8, .seed = 42, .prefetch = 0});
  gan::DataLoader c(ds, {.batch_size = 8, .seed = 43, .prefetch = 5});
  auto ta = take(a, 20), tb = take(b, 20), tc = take(c, 20);
  CHECK(ta == tb);
  CHECK(ta != tc);
  // Pinned so that a change of the shuffling algorithm (which would silently change every
  // resumed run's data order) fails here.
  auto order = gan::DataLoader::epoch_order(10, 42, 0, true);
  INFO("epoch_order(10, 42, 0) = " << ::Catch::Detail::stringify(order));
  CHECK(order == std::vector<int64_t>{5, 9, 7, 1, 3, 4, 2, 0, 6, 8});
  CHECK(gan::DataLoader::epoch_order(10, 42, 1, true) != order);
}

TEST_CASE("DataLoader: restore(state()) continues on exactly the same batches", "[loader]") {
  FakeDataset ds(37);
  for (bool drop_last : {true, false}) {
    for (int stop_after : {0, 3, 4, 5, 11}) {  // 4 and 5 straddle the end of epoch 0
      CAPTURE(drop_last, stop_after);
      gan::DataLoaderOptions opt{.batch_size = 8, .seed = 7, .drop_last = drop_last};
      gan::DataLoader uninterrupted(ds, opt);
      auto all = take(uninterrupted, stop_after + 12);

      gan::DataLoader first(ds, opt);
      take(first, stop_after);
      gan::DataState saved = first.state();
      CHECK(saved.seed == 7);

      // A fresh loader, as after a restart, built with another seed: the state's seed wins.
      gan::DataLoader resumed(ds, {.batch_size = 8, .seed = 999, .drop_last = drop_last});
      take(resumed, 2);
      resumed.restore(saved);
      CHECK(resumed.state() == saved);
      auto rest = take(resumed, 12);
      REQUIRE(rest == std::vector<std::vector<int64_t>>(all.begin() + stop_after, all.end()));
    }
  }
}

TEST_CASE("DataLoader: errors", "[loader][errors]") {
  SECTION("dataset smaller than a batch") {
    FakeDataset ds(3);
    CHECK_THROWS_WITH(gan::DataLoader(ds, {.batch_size = 4}), Contains("fewer than one batch of 4"));
    gan::DataLoader loose(ds, {.batch_size = 4, .drop_last = false});
    CHECK(loose.next().size == 3);
  }
  SECTION("empty dataset and bad batch size") {
    FakeDataset empty(0), ds(10);
    CHECK_THROWS_WITH(gan::DataLoader(empty, {}), Contains("empty"));
    CHECK_THROWS_WITH(gan::DataLoader(ds, {.batch_size = 0}), Contains("batch size"));
  }
  SECTION("restore to a position that is not a batch start") {
    FakeDataset ds(30);
    gan::DataLoader loader(ds, {.batch_size = 8});
    CHECK_THROWS_WITH(loader.restore({0, 1, 3}), Contains("cannot resume"));
    CHECK_THROWS_WITH(loader.restore({0, 1, 24}), Contains("cannot resume"));  // 24+8 > 30
    loader.restore({0, 1, 16});
    CHECK(loader.next().position == 16);
  }
  SECTION("a read error in the worker is rethrown by next(), after the good batches") {
    auto order = gan::DataLoader::epoch_order(20, 5, 0, true);
    FakeDataset failing(20, /*fail_at=*/order[12]);  // in the third batch of 5
    for (int prefetch : {0, 2}) {
      gan::DataLoader loader(failing, {.batch_size = 5, .seed = 5, .prefetch = prefetch});
      CHECK(loader.next().position == 0);
      CHECK(loader.next().position == 5);
      CHECK_THROWS_WITH(loader.next(), Contains("fake.bin: image") && Contains("unreadable"));
      CHECK_THROWS_AS(loader.next(), gan::Error);
    }
  }
  SECTION("destroying a loader whose worker waits on a full queue does not hang") {
    // on a detached thread, so that a hang fails the check instead of stalling the suite
    auto ds = std::make_shared<FakeDataset>(1000);
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> finished = done->get_future();
    std::thread([ds, done] {
      try {
        for (int i = 0; i < 20; ++i) {
          gan::DataLoader loader(*ds, {.batch_size = 10, .prefetch = 3});
          if (i % 2) loader.next();
        }
        done->set_value();
      } catch (...) {
        done->set_exception(std::current_exception());
      }
    }).detach();
    REQUIRE(finished.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
    CHECK_NOTHROW(finished.get());
  }
}

// ---- the real Fashion-MNIST --------------------------------------------------------------

TEST_CASE("idx: the installed Fashion-MNIST", "[datasets][idx][fashion]") {
  const std::string dir = gan::datasets::kDefaultIdxPath;
  if (!fs::exists(fs::path(dir) / "train-images-idx3-ubyte.gz")) {
    WARN("skipped: " << dir << " not installed (apt install dataset-fashion-mnist)");
    return;
  }
  auto f = gan::datasets::idx_factory();
  auto t0 = std::chrono::steady_clock::now();
  auto train = create(f, {}, {1, 28, 28});  // default path and split
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  WARN("Fashion-MNIST train (60000 images) loaded in " << seconds << " s");
  CHECK(seconds < 10.0);  // about 0.3 s here; generous for a loaded CI machine

  REQUIRE(train->size() == 60000);
  REQUIRE(train->shape() == gan::Shape{1, 28, 28});
  REQUIRE(train->num_classes() == 10);
  std::vector<int> per_class(10);
  for (int64_t i = 0; i < train->size(); ++i) ++per_class[train->label(i)];
  for (int c = 0; c < 10; ++c) CHECK(per_class[c] == 6000);
  float lo = 1, hi = -1;
  for (int64_t i : {0, 1, 59999}) {
    for (float v : read_image(*train, i)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  CHECK(lo == -1.0f);  // black background
  CHECK(hi > 0.5f);
  CHECK(train->label(0) == 9);  // the first training image is an ankle boot

  auto test = create(f, {{"split", S("test")}});
  CHECK(test->size() == 10000);
  CHECK(test->shape() == gan::Shape{1, 28, 28});
  CHECK(test->label(0) == 9);

  // The shipped Fashion-MNIST models frame the images to 32x32 (pad = 2).
  auto framed = create(f, {{"split", S("test")}, {"pad", int64_t{2}}}, {1, 32, 32});
  CHECK(framed->size() == 10000);
  auto a = read_image(*test, 0), b = read_image(*framed, 0);
  for (int64_t x = 0; x < 32; ++x) REQUIRE(b[x] == -1.0f);
  for (int64_t y = 0; y < 28; ++y)
    for (int64_t x = 0; x < 28; ++x) REQUIRE(b[(y + 2) * 32 + x + 2] == a[y * 28 + x]);

  // The loader keeps up: one epoch of batches of 64 from the worker thread.
  gan::DataLoader loader(*train, {.batch_size = 64, .seed = 1});
  t0 = std::chrono::steady_clock::now();
  for (int64_t k = 0; k < loader.batches_per_epoch(); ++k) loader.next();
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  WARN("one epoch of 937 batches of 64 in " << seconds << " s");
}

// Issue 11 item 7: sizes read from files are claims. A 4x4 PNG whose IHDR is patched to claim
// 20000x20000 pixels must be refused from its header, before decoding allocates 400 MB (stb itself refuses only past 1 GiB).
TEST_CASE("image_folder: an image header claiming 20000x20000 pixels is refused before decoding",
          "[datasets][image_folder]") {
  TempDir dir;
  std::vector<uint8_t> px(4 * 4, 7);
  REQUIRE(stbi_write_png((dir / "big.png").c_str(), 4, 4, 1, px.data(), 4));
  std::string bytes;
  {
    std::ifstream in(dir / "big.png", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  REQUIRE(bytes.size() > 24);
  for (int k : {16, 20}) {  // IHDR width at 16, height at 20, big-endian
    const uint32_t v = 20000;
    bytes[k] = char(v >> 24), bytes[k + 1] = char(v >> 16), bytes[k + 2] = char(v >> 8), bytes[k + 3] = char(v);
  }
  std::ofstream(dir / "big.png", std::ios::binary | std::ios::trunc) << bytes;
  auto f = gan::datasets::image_folder_factory();
  try {
    auto ds = create(f, {{"path", dir.str()}, {"size", int64_t{4}}, {"channels", int64_t{1}}});
    FAIL("a forged 20000x20000 header was accepted");
  } catch (const gan::Error& e) {
    CHECK_THAT(e.what(), Contains(dir / "big.png") && Contains("20000x20000") && Contains("resize the image"));
  }
}
