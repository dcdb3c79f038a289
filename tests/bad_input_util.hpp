// Shared by the bad-input test files (tests/test_bad_input*.cpp): the assertions every case makes
// (a clean exit 1 with a located message) and a tiny trained run to break in copies.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include "cli_util.hpp"

namespace gan::test {

using Catch::Matchers::Contains;
namespace fs = std::filesystem;

// ---- common assertions ----

// A clean failure: gan::Error caught by main(), printed on stderr, exit status 1.
inline void expect_clean_failure(const Result& r) {
  INFO(r.all());
  CHECK(r.code != 0);
  CHECK(r.code < 128);  // Proc reports a death by signal as 128 + signal
  CHECK(r.code == 1);   // 2 would be an exception that is not a gan::Error (e.g. a raw c10::Error)
  CHECK_THAT(r.err, Contains("error: "));
  CHECK_THAT(r.err, !Contains("terminate called") && !Contains("Segmentation") && !Contains("Aborted") &&
                        !Contains("Exception raised from"));  // no LibTorch backtrace dumped at the user
}

inline void expect_all(const std::string& text, std::initializer_list<std::string> parts) {
  for (const auto& p : parts) CHECK_THAT(text, Contains(p));
}

inline std::string at_line(const std::string& path, const std::string& text, const std::string& needle) {
  int line = line_of(text, needle);
  REQUIRE(line > 0);
  return path + ":" + std::to_string(line) + ":";
}

// ---- run folders ----

// A tiny run trained once per process (2 iterations, checkpoint and samples at 2).
inline const std::string& trained_run() {
  static TempDir dir("gan-bad-fixture");
  static const std::string run = [] {
    std::string model = dir.write("tiny.toml", tiny_model_toml());
    std::string r = dir / "run";
    Result tr = run_gan({"train", model, "--out", r, "--iters", "2", "--device", "cpu"});
    INFO(tr.all());
    if (tr.code != 0) throw std::runtime_error("fixture: training the tiny model failed\n" + tr.all());
    return r;
  }();
  return run;
}

// A private copy of the trained run, <tmp>/run.
inline std::string copy_run(const TempDir& tmp) {
  std::string run = tmp / "run";
  fs::copy(trained_run(), run, fs::copy_options::recursive);
  return run;
}

// The run's latest checkpoint still loads: `gan sample` writes a PNG from it.
inline void expect_sample_works(const std::string& run, const TempDir& tmp) {
  std::string png = tmp / "check-sample.png";
  Result s = run_gan({"sample", run, "--n", "4", "--out", png, "--device", "cpu"});
  INFO(s.all());
  CHECK(s.code == 0);
  CHECK(slurp(png).substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
}

// `gan train --resume run` fails with `problems`, leaving every file of the run as it was.
inline Result expect_resume_error(const std::string& run, std::initializer_list<std::string> problems) {
  auto before = snapshot(run);
  Result r = run_gan({"train", "--resume", run, "--iters", "4", "--device", "cpu"});
  INFO(r.all());
  expect_clean_failure(r);
  expect_all(r.err, problems);
  CHECK(snapshot(run) == before);
  return r;
}

// ---- plugins ----

// A plugin folder holding only a copy of `lib` (as `name`).
inline std::string plugin_dir_with(const TempDir& tmp, const std::string& lib, const std::string& name) {
  fs::create_directories(tmp / "plugins");
  fs::copy_file(lib, tmp / ("plugins/" + name));
  return tmp / "plugins";
}

// `gan --plugin-dir dir check tiny.toml` fails naming `file` and `problems`.
inline void expect_plugin_error(const TempDir& tmp, const std::string& dir, const std::string& file,
                         std::initializer_list<std::string> problems) {
  std::string model = tmp.write("tiny.toml", tiny_model_toml());
  Result r = run_gan({"--plugin-dir", dir, "check", model});
  INFO(r.all());
  expect_clean_failure(r);
  CHECK_THAT(r.err, Contains(file));
  expect_all(r.err, problems);
  CHECK(r.out.empty());
}

}  // namespace gan::test
