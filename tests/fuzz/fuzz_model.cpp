// libFuzzer target over the model-file front end: TOML parsing, `extends` chains and
// overrides (load_model), parameter validation and shape inference through the real plugins
// (check_model), and the merged-model writer (model_to_toml). No training and no tensors: layer
// infer() functions are tensor-free; the plugins are loaded only for their factories.
//
// Built and run by tests/fuzz/run.sh (clang, -fsanitize=fuzzer,address,undefined).
//
// How the input is presented: load_model() takes a path and resolves `extends` relative to the
// file, so each input is written to <work>/models/fuzz/input-<pid>.toml inside a private copy
// of the shipped models/ (made once at start-up from GAN_FUZZ_MODELS). `extends =
// "../fmnist/baseline.toml"` therefore reaches a real model, and the seed corpus (run.sh) is the
// shipped models with their relative `extends` rewritten to that form.
//
// What counts as a finding (abort, so libFuzzer keeps the input):
//   - any sanitizer report (ASan, UBSan) or crash, a hang (-timeout) or memory blow-up;
//   - an exception other than gan::Error: every bad model must give a located, readable error;
//   - a model that checks but whose merged form (model_to_toml, what a run folder stores and a
//     resume reads back) does not load and check to the same layer shapes.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gan/error.hpp"
#include "gan/model.hpp"
#include "gan/plugin_loader.hpp"
#include "gan/registry.hpp"

namespace fs = std::filesystem;

namespace {

fs::path g_input;   // where each input is written
fs::path g_merged;  // where model_to_toml's output is written for the round trip

void write_file(const fs::path& p, const uint8_t* data, size_t size) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) {
    std::fprintf(stderr, "fuzz_model: cannot write %s\n", p.c_str());
    std::abort();
  }
}

[[noreturn]] void finding(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_model: %s: %s\n", what, detail.c_str());
  std::abort();
}

bool same_shapes(const gan::NetworkReport& a, const gan::NetworkReport& b) {
  if (a.layers.size() != b.layers.size() || a.output != b.output) return false;
  for (size_t i = 0; i < a.layers.size(); ++i) {
    if (a.layers[i].output != b.layers[i].output || a.layers[i].params_count != b.layers[i].params_count) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* models = std::getenv("GAN_FUZZ_MODELS");
  if (!models || !fs::is_directory(models)) {
    std::fprintf(stderr, "fuzz_model: set GAN_FUZZ_MODELS to the source tree's models/ folder\n");
    std::exit(1);
  }
  const char* tmp = std::getenv("TMPDIR");
  fs::path work = fs::path(tmp && *tmp ? tmp : "/tmp") / ("gan-fuzz-" + std::to_string(getpid()));
  fs::remove_all(work);
  fs::create_directories(work);
  fs::copy(models, work / "models", fs::copy_options::recursive);
  fs::create_directories(work / "models" / "fuzz");
  g_input = work / "models" / "fuzz" / "input.toml";
  g_merged = work / "models" / "fuzz" / "merged.toml";
  // Remove the private copy on exit (libFuzzer exits through exit() on -max_total_time).
  static fs::path cleanup = work;
  std::atexit([] {
    std::error_code ec;
    fs::remove_all(cleanup, ec);
  });

  try {
    gan::PluginSearch search;
    search.use_default = false;  // GAN_PLUGIN_PATH only: the caller chooses the plugin set
    gan::load_plugins(gan::Registry::global(), search);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_model: loading plugins: %s\n", e.what());
    std::exit(1);
  }
  if (!gan::Registry::global().has(gan::Kind::Layer, "conv2d")) {
    std::fprintf(stderr, "fuzz_model: no layer plugins found; set GAN_PLUGIN_PATH\n");
    std::exit(1);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  write_file(g_input, data, size);
  const gan::Registry& reg = gan::Registry::global();
  gan::ModelSpec spec;
  gan::ModelReport rep;
  try {
    spec = gan::load_model(g_input.string());
    rep = gan::check_model(spec, reg);
  } catch (const gan::Error&) {
    return 0;  // a clean, located error: the expected outcome for most inputs
  } catch (const std::exception& e) {
    finding("exception other than gan::Error", e.what());
  }

  // The model checked: its merged form must load and check to the same network.
  std::string merged = gan::model_to_toml(spec);
  write_file(g_merged, reinterpret_cast<const uint8_t*>(merged.data()), merged.size());
  try {
    gan::ModelSpec spec2 = gan::load_model(g_merged.string());
    gan::ModelReport rep2 = gan::check_model(spec2, reg);
    if (!same_shapes(rep.generator, rep2.generator) || !same_shapes(rep.discriminator, rep2.discriminator)) {
      finding("merged model checks to different shapes", merged);
    }
  } catch (const std::exception& e) {
    finding("merged model (model_to_toml) does not load back", std::string(e.what()) + "\n" + merged);
  }
  return 0;
}
