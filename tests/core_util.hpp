// Helpers shared by the framework-core tests (test_params/registry/model/json/cli).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>
#include <unistd.h>

#include "gan/model.hpp"
#include "gan/plugin_loader.hpp"
#include "gan/registry.hpp"

namespace gan::test {

inline std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

// A program of the set-up's Python virtual environment (scripts/setup.sh: ~/.cache/gan/venv),
// e.g. "python" or "torchrun"; the variable `override_var` (GAN_PYTHON, GAN_TORCHRUN) names
// another. The tests that need one skip or fail with its path when it is missing.
inline std::string venv_tool(const std::string& name, const char* override_var) {
  const char* home = std::getenv("HOME");
  return env_or(override_var, std::string(home ? home : "") + "/.cache/gan/venv/bin/" + name);
}

inline std::string source_dir() { return env_or("GAN_SOURCE_DIR", GAN_SOURCE_DIR); }
inline std::string binary_dir() { return env_or("GAN_BINARY_DIR", GAN_BINARY_DIR); }

// Loads the shipped plugins (GAN_PLUGIN_PATH, set by ctest) into the global registry, once.
// Every shipped model file (models/<family>/*.toml; models/common holds partial files), sorted.
inline std::vector<std::string> shipped_models() {
  std::vector<std::string> out;
  for (const auto& dir : std::filesystem::directory_iterator(source_dir() + "/models")) {
    if (!dir.is_directory() || dir.path().filename() == "common") continue;
    for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
      if (f.path().extension() == ".toml") out.push_back(f.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline Registry& plugins() {
  static bool loaded = [] {
    PluginSearch search;
    if (!std::getenv("GAN_PLUGIN_PATH")) search.extra_dirs.push_back(binary_dir() + "/lib/gan/plugins");
    load_plugins(Registry::global(), search);
    return true;
  }();
  (void)loaded;
  return Registry::global();
}

// A fresh temporary folder, removed when the object goes out of scope.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "gan-test") {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            (tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    if (!std::getenv("GAN_TEST_KEEP_TMP")) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path() const { return path_.string(); }
  std::string operator/(const std::string& rel) const { return (path_ / rel).string(); }
  // Writes `text` to <dir>/<rel> and returns the full path.
  std::string write(const std::string& rel, const std::string& text) const {
    auto p = path_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

// A tiny but complete model (Fashion-MNIST padded to 32x32, 256 images): trains a few iterations
// in seconds on one core. Uses batchnorm (running buffers) and spectral_norm (u/v buffers) so that
// checkpoints carry every kind of state.
inline std::string tiny_model_toml() {
  return R"(# tiny test model
[model]
name = "tiny"

[data]
type = "idx"
path = "/usr/share/datasets/fashion-mnist"
limit = 256
pad = 2
channels = 1
size = 32

[train]
iterations = 4
batch_size = 16
log_every = 1
sample_every = 2
checkpoint_every = 2
device = "cpu"
seed = 3

[loss]
type = "minimax"

[eval]
metrics = ["is"]
n_samples = 10
real_samples = 10

[generator]
latent_dim = 16

[[generator.layers]]
name = "fc"
type = "linear"
out_features = 128
[[generator.layers]]
name = "reshape"
type = "reshape"
shape = [8, 4, 4]
[[generator.layers]]
name = "up1"
type = "upsample"
scale_factor = 2
[[generator.layers]]
name = "conv1"
type = "conv2d"
out_channels = 8
kernel_size = 3
[[generator.layers]]
name = "bn1"
type = "batchnorm"
[[generator.layers]]
name = "relu1"
type = "relu"
[[generator.layers]]
name = "up2"
type = "upsample"
scale_factor = 4
[[generator.layers]]
name = "conv2"
type = "conv2d"
out_channels = 4
kernel_size = 3
[[generator.layers]]
name = "relu2"
type = "relu"
[[generator.layers]]
name = "conv_out"
type = "conv2d"
out_channels = 1
kernel_size = 3
[[generator.layers]]
name = "tanh"
type = "tanh"

[discriminator]
wrap = { type = "spectral_norm" }

[[discriminator.layers]]
name = "c1"
type = "conv2d"
out_channels = 8
kernel_size = 4
stride = 2
padding = 1
[[discriminator.layers]]
name = "a1"
type = "leaky_relu"
negative_slope = 0.1
[[discriminator.layers]]
name = "c2"
type = "conv2d"
out_channels = 8
kernel_size = 4
stride = 4
padding = 0
[[discriminator.layers]]
name = "a2"
type = "leaky_relu"
[[discriminator.layers]]
name = "flat"
type = "flatten"
[[discriminator.layers]]
name = "fc"
type = "linear"
out_features = 1
)";
}

// Replaces the first occurrence of `from` (which must exist) by `to`.
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  if (pos == std::string::npos) throw std::runtime_error("test bug: '" + from + "' not in the text");
  return text.replace(pos, from.size(), to);
}

// 1-based line of the first occurrence of `needle` in `text` (0 if absent).
inline int line_of(const std::string& text, const std::string& needle) {
  auto pos = text.find(needle);
  if (pos == std::string::npos) return 0;
  int line = 1;
  for (size_t i = 0; i < pos; ++i) line += text[i] == '\n';
  return line;
}

// Loads and checks a model file against the shipped plugins.
inline ModelReport check_file(const std::string& path) { return check_model(load_model(path), plugins()); }

// The message of the gan::Error that loading + checking `path` throws ("" if none).
inline std::string model_error(const std::string& path) {
  try {
    check_file(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The layer of a checked network by name.
inline const LayerReport& layer(const NetworkReport& n, const std::string& name) {
  for (const auto& l : n.layers) {
    if (l.name == name) return l;
  }
  throw std::runtime_error("no layer " + name);
}

// "path:N:", N the line of `needle` in `text`: how an error located there begins.
inline std::string loc(const std::string& path, const std::string& text, const std::string& needle) {
  return path + ":" + std::to_string(line_of(text, needle)) + ":";
}

}  // namespace gan::test
