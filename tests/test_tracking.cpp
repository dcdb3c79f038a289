// A run's records beside its checkpoints: TensorBoard event files read back with TensorBoard's
// own EventAccumulator (the setup venv's `tensorboard`, scripts/read_tensorboard.py), across a
// divergence and a resume; timestamps in log.jsonl; the text log RUN/train.log.
#include "test_common.hpp"  // LibTorch, then Catch (first: see the file)

#include <chrono>
#include <filesystem>
#include <map>
#include <regex>

#include "cli_util.hpp"
#include "core_util.hpp"
#include "gan/json.hpp"
#include "gan/tensorboard.hpp"

namespace fs = std::filesystem;
using gan::Json;
using gan::test::Proc;
using gan::test::replaced;
using gan::test::Result;
using gan::test::run_gan;
using gan::test::TempDir;

namespace {

std::string python() { return gan::test::venv_tool("python", "GAN_PYTHON"); }

std::vector<Json> jsonl(const std::string& path) {
  std::vector<Json> out;
  std::istringstream in(gan::test::slurp(path));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(Json::parse(line));
  return out;
}

}  // namespace

TEST_CASE("TFRecord framing: CRC-32C and the masked length/data checksums", "[tracking]") {
  CHECK(gan::crc32c("123456789") == 0xE3069283u);  // the CRC-32C check value
  CHECK(gan::crc32c("") == 0u);
  const std::string rec = gan::tfrecord("abc");
  REQUIRE(rec.size() == 8 + 4 + 3 + 4);
  CHECK(static_cast<unsigned char>(rec[0]) == 3);
  CHECK(rec.substr(12, 3) == "abc");
}

TEST_CASE("TensorBoard reads back a run's scalars and sample grids, across a divergence and a resume",
          "[tracking]") {
  TempDir tmp("gan-tracking");
  std::string model = gan::test::tiny_model_toml();
  model = replaced(model, "checkpoint_every = 2", "checkpoint_every = 2\neval_every = 2");
  model = replaced(model, "[eval]\n", "[eval]\nfeature_net = \"" + gan::test::source_dir() +
                                          "/models/fmnist/fmnist_classifier.pt\"\n");
  model = replaced(model, "n_samples = 10\nreal_samples = 10", "n_samples = 20\nreal_samples = 20");
  const std::string path = tmp.write("m.toml", model);
  const std::string run = tmp / "run";
  const double t0 = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  // iteration 4's discriminator loss turns NaN: the run stops after logging 3, its last checkpoint
  // at 2; the resume repeats 3 and 4 and goes on to 6
  Result a = Proc({"-q", "train", path, "--out", run}, {"GAN_TEST_NAN_AT=4"}).wait();
  INFO(a.all());
  REQUIRE(a.code == 1);
  REQUIRE(fs::exists(run + "/checkpoints/latest.pt"));
  Result b = run_gan({"-q", "train", "--resume", run, "--iters", "6"});
  INFO(b.all());
  REQUIRE(b.code == 0);
  const double t1 = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();

  // log.jsonl: one record per iteration, each with the wall-clock time
  std::map<int64_t, double> d_loss;
  double last_time = 0;
  for (const Json& r : jsonl(run + "/log.jsonl")) {
    REQUIRE(r.contains("time"));
    const double t = r.find("time")->number();
    CHECK(t >= t0 - 1);
    CHECK(t <= t1 + 1);
    CHECK(t >= last_time);
    last_time = t;
    if (!r.contains("kind")) d_loss[r.find("iteration")->integer()] = r.find("d_loss")->number();
  }
  CHECK(d_loss.size() == 6);

  // the text log: both starts, the error between them, every line dated
  const std::string text = gan::test::slurp(run + "/train.log");
  CHECK_THAT(text, Catch::Contains("training from iteration 0 to 4 (gan "));
  CHECK_THAT(text, Catch::Contains("error: iteration 4: the discriminator loss is NaN"));
  CHECK_THAT(text, Catch::Contains("training from iteration 2 to 6, resumed"));
  CHECK_THAT(text, Catch::Contains("it 6/6"));
  CHECK_THAT(text, Catch::Contains("model tiny: G "));
  std::istringstream lines(text);
  const std::regex dated(R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[(info|warning|error)\] .*)");
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    CHECK(std::regex_match(line, dated));
  }

  // TensorBoard's own reader
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(run + "/tensorboard"))
    files += e.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
  CHECK(files == 2);
  if (!fs::exists(python())) {
    WARN("no Python at " << python() << ": the TensorBoard reader half skipped");
    return;
  }
  Result r = Proc({gan::test::source_dir() + "/scripts/read_tensorboard.py", run + "/tensorboard"}, {}, python()).wait();
  INFO(r.all());
  if (r.code != 0 && r.err.find("No module named 'tensorboard'") != std::string::npos) {
    WARN("the setup venv has no tensorboard package (scripts/setup.sh installs it): the reader half skipped");
    return;
  }
  REQUIRE(r.code == 0);
  Json tb = Json::parse(r.out.substr(r.out.find('{')));
  const Json& scalars = *tb.find("scalars");
  for (const char* tag : {"train/d_loss", "train/g_loss", "train/d_real", "train/d_fake", "train/lr_g", "train/lr_d",
                          "train/it_per_s", "eval/is"}) {
    INFO(tag);
    CHECK(scalars.contains(tag));
  }
  // every iteration once, the repeated 3 with the resumed run's value (as log.jsonl keeps it)
  const auto& dl = scalars.find("train/d_loss")->items();
  REQUIRE(dl.size() == 6);
  for (size_t i = 0; i < dl.size(); ++i) {
    const int64_t step = dl[i].items()[0].integer();
    CHECK(step == static_cast<int64_t>(i) + 1);
    CHECK(dl[i].items()[1].number() == Approx(d_loss[step]).epsilon(1e-6));
  }
  std::vector<int64_t> eval_steps;
  for (const auto& e : scalars.find("eval/is")->items()) eval_steps.push_back(e.items()[0].integer());
  CHECK(eval_steps == std::vector<int64_t>{2, 4, 6});
  const auto& imgs = tb.find("images")->find("samples")->items();
  std::vector<int64_t> img_steps;
  for (const auto& e : imgs) {
    img_steps.push_back(e.items()[0].integer());
    CHECK(e.items()[1].integer() == 8 * (32 + 2) + 2);  // the 8-column grid of 32x32 samples
    CHECK(e.items()[3].integer() > 100);
  }
  CHECK(img_steps == std::vector<int64_t>{2, 4, 6});
  std::printf("TensorBoard EventAccumulator read %zu scalar tags, train/d_loss at steps 1..6 once each, sample grids "
              "at 2, 4, 6 (%zu event files)\n", scalars.fields().size(), files);
}

TEST_CASE("[train] tensorboard = false writes no event files", "[tracking]") {
  TempDir tmp("gan-tracking-off");
  std::string model = replaced(gan::test::tiny_model_toml(), "seed = 3", "seed = 3\ntensorboard = false");
  model = replaced(model, "iterations = 4", "iterations = 2");
  Result a = run_gan({"-q", "train", tmp.write("m.toml", model), "--out", tmp / "run"});
  INFO(a.all());
  REQUIRE(a.code == 0);
  CHECK_FALSE(fs::exists(tmp / "run/tensorboard"));
  CHECK(fs::exists(tmp / "run/train.log"));
}
