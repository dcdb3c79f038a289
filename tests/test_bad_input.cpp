// Every bad input a user can hand to `gan` (issue 6, item 1), one case each, run through the real
// binary. Each case asserts:
//   - a clean non-zero exit: status 1 (a gan::Error, printed as "error: ..."), never a signal,
//     an uncaught exception (status 2) or an abort;
//   - a message that names the file (with its line, or the layer / section) AND the problem;
//   - where a run folder exists, that the failed command left it byte for byte as it was, and
//     that its checkpoint still loads (`gan sample` works from it).
// The complete list is in the TEST_CASE names below ("bad input: <area>: <what>").
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "bad_input_util.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using gan::test::line_of;
using gan::test::replaced;
using gan::test::Result;
using gan::test::run_gan;
using gan::test::kNoGpu;
using gan::test::slurp;
using gan::test::snapshot;
using gan::test::TempDir;
using gan::test::expect_clean_failure;
using gan::test::expect_all;
using gan::test::at_line;
using gan::test::trained_run;
using gan::test::copy_run;
using gan::test::expect_sample_works;
using gan::test::expect_resume_error;
using gan::test::plugin_dir_with;
using gan::test::expect_plugin_error;
using gan::test::tiny_model_toml;

namespace {


// ---- data sets written on the fly ----

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// An IDX3 ubyte image file of n rows x cols images (Fashion-MNIST layout).
std::string idx_images(uint32_t n, uint32_t rows = 28, uint32_t cols = 28, uint32_t magic = 0x803) {
  return be32(magic) + be32(n) + be32(rows) + be32(cols) + std::string(size_t(n) * rows * cols, '\x40');
}

// n CIFAR-10 records of 3073 bytes (label byte, then 3072 pixels).
std::string cifar_records(int n, char label = 3) {
  std::string out;
  for (int i = 0; i < n; ++i) out += label + std::string(3072, '\x80');
  return out;
}

const std::string kTinyData = R"([data]
type = "idx"
path = "/usr/share/datasets/fashion-mnist"
limit = 256
pad = 2
channels = 1
size = 32
)";

// The tiny model with another [data] block; channels 3 also changes the generator's output.
std::string with_data(const std::string& data_block, int channels = 1) {
  std::string t = replaced(tiny_model_toml(), kTinyData, data_block);
  if (channels == 3) t = replaced(t, "out_channels = 1\n", "out_channels = 3\n");
  return t;
}

// ---- cases run ahead, in parallel ----
// The model-file and data cases are independent `gan` runs whose time is mostly process start-up
// (loading LibTorch), so the first of them to run starts them all, a few at a time, and each
// TEST_CASE then checks its own result. "{dir}" in a case stands for its own temporary folder.
struct InputCase {
  std::vector<std::pair<std::string, std::string>> files;  // written first: relative path, bytes
  std::vector<std::string> args;                           // `gan`'s arguments
  std::string at_file;                // the message names {dir}/<at_file>...
  std::string needle;                 // ...with the line of `needle` in that file ("" = no line)
  std::vector<std::string> problems;  // ...and these phrases
  bool no_run_folder = false;         // {dir}/run must not have been created
};

std::string expand(std::string s, const std::string& dir) {
  for (size_t pos; (pos = s.find("{dir}")) != std::string::npos;) s.replace(pos, 5, dir);
  return s;
}

std::map<std::string, InputCase>& input_cases() {
  static std::map<std::string, InputCase> cases;
  return cases;
}

struct Prefetched {
  std::unique_ptr<TempDir> dir;
  Result result;
};

const Prefetched& prefetched(const std::string& name) {
  static const std::map<std::string, Prefetched> done = [] {
    const size_t kParallel = 4;
    std::map<std::string, Prefetched> out;
    std::vector<std::string> names;
    for (const auto& [n, c] : input_cases()) names.push_back(n);
    for (size_t start = 0; start < names.size(); start += kParallel) {
      std::vector<std::pair<std::string, std::unique_ptr<gan::test::Proc>>> running;
      for (size_t i = start; i < std::min(names.size(), start + kParallel); ++i) {
        const InputCase& c = input_cases().at(names[i]);
        Prefetched& p = out[names[i]];
        p.dir = std::make_unique<TempDir>("gan-bad");
        for (const auto& [rel, bytes] : c.files) {
          p.dir->write(rel, fs::path(rel).extension() == ".toml" ? expand(bytes, p.dir->path()) : bytes);
        }
        std::vector<std::string> args;
        for (const auto& a : c.args) args.push_back(expand(a, p.dir->path()));
        running.emplace_back(names[i], std::make_unique<gan::test::Proc>(args));
      }
      for (auto& [n, proc] : running) out[n].result = proc->wait();
    }
    return out;
  }();
  return done.at(name);
}

void check_input_case(const std::string& name) {
  const InputCase& c = input_cases().at(name);
  const Prefetched& p = prefetched(name);
  const std::string dir = p.dir->path();
  const Result& r = p.result;
  INFO(r.all());
  expect_clean_failure(r);
  std::string file = dir + "/" + c.at_file;
  if (c.needle.empty()) {
    CHECK_THAT(r.err, Contains(file + ":"));
  } else {
    std::string text;
    for (const auto& [rel, bytes] : c.files) {
      if (rel == c.at_file) text = expand(bytes, dir);
    }
    CHECK_THAT(r.err, Contains(at_line(file, text, c.needle)));
  }
  for (const auto& pr : c.problems) CHECK_THAT(r.err, Contains(expand(pr, dir)));
  CHECK(r.out.empty());
  if (c.no_run_folder) CHECK_FALSE(fs::exists(dir + "/run"));  // validated before anything is written
}

#define BAD_INPUT_CAT2(a, b) a##b
#define BAD_INPUT_CAT(a, b) BAD_INPUT_CAT2(a, b)
#define BAD_INPUT_UNPAREN(...) __VA_ARGS__
// A TEST_CASE whose `gan` run is prefetched: INPUT_CASE("name", "[tags]", {InputCase fields}).
#define INPUT_CASE(name, tags, ...)                                                                   \
  static const bool BAD_INPUT_CAT(bad_input_case_, __LINE__) = (input_cases()[name] = InputCase __VA_ARGS__, true); \
  TEST_CASE(name, tags) { check_input_case(name); }

// `gan check` on one model file m.toml, failing at the line of `needle`.
#define MODEL_CASE(name, text_, needle_, ...)                                                       \
  INPUT_CASE("bad input: model file: " name, "[bad_input][model]",                                  \
             {.files = {{"m.toml", text_}}, .args = {"check", "{dir}/m.toml"}, .at_file = "m.toml",  \
              .needle = needle_, .problems = __VA_ARGS__})

// `gan train` on m.toml, failing at its [data] path line before the run folder {dir}/run exists.
#define DATA_CASE(name, files_, ...)                                                                  \
  INPUT_CASE("bad input: data: " name, "[bad_input][data]",                                         \
             {.files = BAD_INPUT_UNPAREN files_, .args = {"train", "{dir}/m.toml", "--out", "{dir}/run", "--iters", "2", \
                                        "--device", "cpu"},                                           \
              .at_file = "m.toml", .needle = "path = ", .problems = __VA_ARGS__, .no_run_folder = true})

}  // namespace

// =============================================================================================
// model files (`gan check`)
// =============================================================================================

MODEL_CASE("malformed TOML", replaced(tiny_model_toml(), "out_channels = 4", "out_channels = = 4"), "= = 4",
           {"TOML syntax error"})

MODEL_CASE("a key defined twice",
           replaced(tiny_model_toml(), "out_channels = 4\nkernel_size = 3", "out_channels = 4\nkernel_size = 3\nkernel_size = 5"),
           "kernel_size = 5", {"TOML syntax error", "kernel_size"})

INPUT_CASE("bad input: model file: an empty file", "[bad_input][model]",
           {.files = {{"m.toml", ""}}, .args = {"check", "{dir}/m.toml"}, .at_file = "m.toml",
            .problems = {"the model declares no generator layers"}})

INPUT_CASE("bad input: model file: missing file", "[bad_input][model]",
           {.args = {"check", "{dir}/nope.toml"}, .at_file = "nope.toml", .problems = {"file not found"}})

MODEL_CASE("unknown section", replaced(tiny_model_toml(), "[train]", "[trian]"), "[trian]",
           {"unknown section 'trian'", "did you mean 'train'?"})

MODEL_CASE("unknown layer type", replaced(tiny_model_toml(), "type = \"batchnorm\"", "type = \"batchnrom\""), "batchnrom",
           {"unknown layer type 'batchnrom'", "did you mean 'batchnorm'?", "known layer types:"})

MODEL_CASE("unknown layer parameter",
           replaced(tiny_model_toml(), "out_channels = 8\nkernel_size = 3", "out_channels = 8\nkernal_size = 3"),
           "kernal_size", {"layer 'conv1' (conv2d)", "unknown parameter 'kernal_size'", "did you mean 'kernel_size'?"})

MODEL_CASE("unknown [train] key", replaced(tiny_model_toml(), "batch_size = 16", "batchsize = 16"), "batchsize",
           {"[train]", "'batchsize'", "did you mean 'batch_size'?"})

MODEL_CASE("unknown [data] parameter of the dataset plugin", replaced(tiny_model_toml(), "limit = 256", "limt = 256"),
           "limt", {"[data]", "unknown parameter 'limt'", "did you mean 'limit'?"})

MODEL_CASE("[train] value of the wrong type", replaced(tiny_model_toml(), "batch_size = 16", "batch_size = \"16\""),
           "batch_size", {"[train]: 'batch_size' must be an integer"})

MODEL_CASE("layer parameter of the wrong type",
           replaced(tiny_model_toml(), "out_channels = 8\nkernel_size = 3", "out_channels = 8.5\nkernel_size = 3"),
           "out_channels = 8.5", {"layer 'conv1' (conv2d)", "'out_channels'", "integer"})

MODEL_CASE("layer parameter out of range", replaced(tiny_model_toml(), "scale_factor = 4", "scale_factor = 40"),
           "scale_factor = 40", {"layer 'up2' (upsample)", "'scale_factor' = 40 is out of range"})

MODEL_CASE("[train] value out of range", replaced(tiny_model_toml(), "batch_size = 16", "batch_size = 16\nlr_g = 5.0"),
           "lr_g = 5.0", {"[train]", "'lr_g'", "out of range"})

MODEL_CASE("a value that is not one of the choices", replaced(tiny_model_toml(), "device = \"cpu\"", "device = \"gpu\""),
           "device = \"gpu\"", {"[train]", "'device'", "cuda"})

MODEL_CASE("conv channel mismatch",
           replaced(tiny_model_toml(), "out_channels = 4\nkernel_size = 3", "out_channels = 4\nkernel_size = 3\nin_channels = 5"),
           "in_channels = 5", {"layer 'conv2' (conv2d): in_channels 5 does not match the 8 channels produced by 'up2'"})

MODEL_CASE("linear in_features mismatch",
           replaced(tiny_model_toml(), "out_features = 1\n", "out_features = 1\nin_features = 100\n"), "in_features = 100",
           {"layer 'fc' (linear): in_features 100 does not match the 128 features produced by 'flat'"})

// graphs (issue 12): the tiny generator with a 1x1 skip around conv2, merged by an add
std::string skip_model(const std::string& skip_inputs, int skip_channels, const std::string& add_inputs) {
  return replaced(tiny_model_toml(), "[[generator.layers]]\nname = \"conv_out\"",
                  "[[generator.layers]]\nname = \"skip\"\ntype = \"conv2d\"\ninputs = " + skip_inputs +
                      "\nout_channels = " + std::to_string(skip_channels) + "\nkernel_size = 1\n"
                      "[[generator.layers]]\nname = \"sum\"\ntype = \"add\"\ninputs = " + add_inputs +
                      "\n[[generator.layers]]\nname = \"conv_out\"");
}

MODEL_CASE("graph: a cycle of inputs", skip_model("[\"sum\"]", 4, "[\"relu2\", \"skip\"]"), "inputs = [\"sum\"]",
           {"layer 'skip' (conv2d)", "form a cycle", "'skip' -> 'sum' -> 'skip'"})

MODEL_CASE("graph: an unknown input", skip_model("[\"up2\"]", 4, "[\"relu2\", \"skp\"]"), "inputs = [\"relu2\", \"skp\"]",
           {"layer 'sum' (add)", "unknown input 'skp'", "did you mean 'skip'?"})

MODEL_CASE("graph: add of mismatched shapes", skip_model("[\"up2\"]", 5, "[\"relu2\", \"skip\"]"),
           "[[generator.layers]]\nname = \"sum\"",
           {"layer 'sum' (add)", "'relu2' produces 4x32x32", "'skip' produces 5x32x32"})

MODEL_CASE("graph: a block instance without a required argument",
           replaced(tiny_model_toml(), "[[generator.layers]]\nname = \"conv2\"\ntype = \"conv2d\"\nout_channels = 4",
                    "[[generator.layers]]\nname = \"b1\"\nblock = \"res\"\n[[generator.layers]]\nname = \"conv2\"\n"
                    "type = \"conv2d\"\nout_channels = 4") +
               "\n[blocks.res]\nrequired = [\"ch\"]\n[[blocks.res.layers]]\nname = \"conv\"\ntype = \"conv2d\"\n"
               "out_channels = \"$ch\"\n",
           "[[generator.layers]]\nname = \"b1\"", {"layer 'b1'", "block 'res' needs parameter 'ch'"})

MODEL_CASE("impossible reshape", replaced(tiny_model_toml(), "shape = [8, 4, 4]", "shape = [8, 4, 5]"),
           "shape = [8, 4, 5]", {"layer 'reshape'", "cannot reshape 128", "8x4x5"})

MODEL_CASE("generator output does not match the data", replaced(tiny_model_toml(), "size = 32", "size = 28"), "",
           {"generator output 1x32x32 (from layer 'tanh') does not match the data's 1x28x28"})

MODEL_CASE("discriminator does not end in one logit",
           replaced(tiny_model_toml(), "out_features = 1\n", "out_features = 2\n"), "", {"single logit per image"})

INPUT_CASE("bad input: model file: circular extends", "[bad_input][model][extends]",
           {.files = {{"a.toml", "extends = \"b.toml\"\n"}, {"b.toml", "# b\n\nextends = \"a.toml\"\n"}},
            .args = {"check", "{dir}/a.toml"}, .at_file = "b.toml", .needle = "extends",
            .problems = {"circular extends", "a.toml -> ", "b.toml -> "}})

INPUT_CASE("bad input: model file: missing extends target", "[bad_input][model][extends]",
           {.files = {{"m.toml", "# variant\nextends = \"nope.toml\"\n"}}, .args = {"check", "{dir}/m.toml"},
            .at_file = "m.toml", .needle = "extends", .problems = {"nope.toml", "file not found"}})

INPUT_CASE("bad input: model file: extends a malformed base, located in the base", "[bad_input][model][extends]",
           {.files = {{"base.toml", replaced(tiny_model_toml(), "out_channels = 4", "out_channels = = 4")},
                      {"m.toml", "extends = \"base.toml\"\n[train]\niterations = 9\n"}},
            .args = {"check", "{dir}/m.toml"}, .at_file = "base.toml", .needle = "= = 4",
            .problems = {"TOML syntax error"}})

INPUT_CASE("bad input: model file: override of a layer that does not exist", "[bad_input][model][extends]",
           {.files = {{"tiny.toml", tiny_model_toml()},
                      {"m.toml", "extends = \"tiny.toml\"\n\n[generator.override.conv9]\nout_channels = 3\n"}},
            .args = {"check", "{dir}/m.toml"}, .at_file = "m.toml", .needle = "[generator.override.conv9]",
            .problems = {"the generator has no layer 'conv9' to override", "its layers: fc, reshape"}})

// =============================================================================================
// data files (`gan train`: refused before the run folder is created)
// =============================================================================================

DATA_CASE("missing data folder",
          ({{"m.toml", with_data("[data]\ntype = \"idx\"\npath = \"{dir}/nowhere\"\npad = 2\nchannels = 1\nsize = 32\n")}}),
          {"{dir}/nowhere", "no such directory"})

DATA_CASE("IDX folder without the images file",
          ({{"mnist/README", "labels only\n"},
            {"m.toml", with_data("[data]\ntype = \"idx\"\npath = \"{dir}/mnist\"\npad = 2\nchannels = 1\nsize = 32\n")}}),
          {"{dir}/mnist", "train-images-idx3-ubyte"})

// the labels file's magic (0x801) in the images file: the two were swapped
DATA_CASE("IDX file with a wrong magic number",
          ({{"mnist/train-images-idx3-ubyte", idx_images(4, 28, 28, 0x801)},
            {"m.toml", with_data("[data]\ntype = \"idx\"\npath = \"{dir}/mnist\"\npad = 2\nchannels = 1\nsize = 32\n")}}),
          {"{dir}/mnist/train-images-idx3-ubyte", "wrong magic 0x00000801", "expected 0x00000803"})

DATA_CASE("truncated IDX file",
          ({{"mnist/train-images-idx3-ubyte", idx_images(40).substr(0, idx_images(40).size() - 1000)},
            {"m.toml", with_data("[data]\ntype = \"idx\"\npath = \"{dir}/mnist\"\npad = 2\nchannels = 1\nsize = 32\n")}}),
          {"{dir}/mnist/train-images-idx3-ubyte", "truncated"})

DATA_CASE("CIFAR-10 batch file missing",
          ({{"cifar/data_batch_1.bin", cifar_records(10)},
            {"cifar/data_batch_2.bin", cifar_records(10)},
            {"m.toml", with_data("[data]\ntype = \"cifar10\"\npath = \"{dir}/cifar\"\nchannels = 3\nsize = 32\n", 3)}}),
          {"{dir}/cifar/data_batch_3.bin", "no such file"})

DATA_CASE("truncated CIFAR-10 batch",
          ({{"cifar/test_batch.bin", cifar_records(20).substr(0, 20 * 3073 - 500)},
            {"m.toml", with_data("[data]\ntype = \"cifar10\"\npath = \"{dir}/cifar\"\nsplit = \"test\"\n"
                                 "channels = 3\nsize = 32\n", 3)}}),
          {"{dir}/cifar/test_batch.bin", "not a whole number of 3073-byte records", "truncated"})

// the compressed tarball under the batch's name: its first byte (gzip's 0x1f) is read as label 31
DATA_CASE("a file that is not CIFAR-10 (gzip bytes under the batch name)",
          ({{"cifar/test_batch.bin", "\x1f\x8b" + cifar_records(20).substr(2)},
            {"m.toml", with_data("[data]\ntype = \"cifar10\"\npath = \"{dir}/cifar\"\nsplit = \"test\"\n"
                                 "channels = 3\nsize = 32\n", 3)}}),
          {"{dir}/cifar/test_batch.bin", "record 0", "label 31", "not CIFAR-10"})

DATA_CASE("truncated STL-10 images",
          ({{"stl/train_X.bin", std::string(2 * 27648 - 1000, '\x20')},
            {"m.toml", with_data("[data]\ntype = \"stl10\"\npath = \"{dir}/stl\"\nsplit = \"train\"\n"
                                 "channels = 3\nsize = 32\n", 3)}}),
          {"{dir}/stl/train_X.bin", "not a whole number of 96x96x3 images", "truncated"})

DATA_CASE("STL-10 label file that is not one",
          ({{"stl/train_X.bin", std::string(2 * 27648, '\x20')},
            {"stl/train_y.bin", std::string("\x03\x00", 2)},  // labels are 1-10
            {"m.toml", with_data("[data]\ntype = \"stl10\"\npath = \"{dir}/stl\"\nsplit = \"train\"\n"
                                 "channels = 3\nsize = 32\n", 3)}}),
          {"{dir}/stl/train_y.bin", "label 0 at index 1 is not 1-10"})

// =============================================================================================
// checkpoints on resume (the run folder is left exactly as it was)
// =============================================================================================

// The checkpoint file the run's pointer (checkpoints/latest.json) names: the fixture has one.
std::string current_checkpoint(const std::string& run) {
  std::string meta = slurp(run + "/checkpoints/latest.json");
  auto at = meta.find("\"file\": \"");
  REQUIRE(at != std::string::npos);
  at += 9;
  return run + "/checkpoints/" + meta.substr(at, meta.find('"', at) - at);
}

TEST_CASE("bad input: checkpoint: corrupt (one flipped byte)", "[bad_input][checkpoint]") {
  TempDir tmp("gan-bad");
  std::string run = copy_run(tmp);
  std::string ckpt = current_checkpoint(run);
  std::string bytes = slurp(ckpt);
  bytes[bytes.size() / 2] ^= 0x5a;
  std::ofstream(ckpt, std::ios::binary) << bytes;
  expect_resume_error(run, {ckpt, "corrupt checkpoint", "CRC32 mismatch"});
}

TEST_CASE("bad input: checkpoint: truncated", "[bad_input][checkpoint]") {
  TempDir tmp("gan-bad");
  std::string run = copy_run(tmp);
  std::string ckpt = current_checkpoint(run);
  fs::resize_file(ckpt, fs::file_size(ckpt) / 2);
  expect_resume_error(run, {ckpt, "corrupt checkpoint", "truncated"});
}

TEST_CASE("bad input: checkpoint: from another model", "[bad_input][checkpoint]") {
  TempDir tmp("gan-bad");
  std::string run = copy_run(tmp);
  // a run of a model whose conv1 has 6 channels, not 8; its checkpoint copied over ours
  std::string other_model = tmp.write("other.toml", replaced(tiny_model_toml(), "out_channels = 8\nkernel_size = 3",
                                                             "out_channels = 6\nkernel_size = 3"));
  Result tr = run_gan({"train", other_model, "--out", tmp / "other", "--iters", "1", "--device", "cpu"});
  INFO(tr.all());
  REQUIRE(tr.code == 0);
  fs::remove_all(run + "/checkpoints");
  fs::copy(tmp / "other/checkpoints", run + "/checkpoints", fs::copy_options::recursive);
  expect_resume_error(run, {current_checkpoint(run), "generator does not match", run + "/model.toml"});
  Result s = run_gan({"sample", run, "--n", "4", "--out", tmp / "s.png", "--device", "cpu"});
  INFO(s.all());
  expect_clean_failure(s);
  CHECK_THAT(s.err, Contains(current_checkpoint(run)) && Contains("does not match this model"));
  CHECK_FALSE(fs::exists(tmp / "s.png"));
}

// The pointer and the numbered checkpoint's own metadata both cut: nothing verifies.
TEST_CASE("bad input: checkpoint: metadata file corrupt", "[bad_input][checkpoint]") {
  TempDir tmp("gan-bad");
  std::string run = copy_run(tmp);
  std::string ckpt = current_checkpoint(run);
  std::string meta = run + "/checkpoints/latest.json";
  std::string own = ckpt.substr(0, ckpt.size() - 3) + ".json";
  for (const auto& m : {meta, own}) std::ofstream(m, std::ios::binary | std::ios::trunc) << "{\"iteration\": 2, \"size\": ";
  expect_resume_error(run, {meta, own, "corrupt checkpoint metadata"});
}

TEST_CASE("bad input: checkpoint: run folder without any checkpoint", "[bad_input][checkpoint]") {
  TempDir tmp("gan-bad");
  std::string run = copy_run(tmp);
  fs::remove_all(run + "/checkpoints");
  expect_resume_error(run, {run, "no checkpoint 'latest'"});
}

// =============================================================================================
// plugin libraries (given with --plugin-dir)
// =============================================================================================

TEST_CASE("bad input: plugin: --plugin-dir folder missing", "[bad_input][plugin]") {
  TempDir tmp("gan-bad");
  expect_plugin_error(tmp, tmp / "no-such-plugins", tmp / "no-such-plugins", {"--plugin-dir", "no such folder"});
}

TEST_CASE("bad input: plugin: library missing (dangling link in the plugin folder)", "[bad_input][plugin]") {
  TempDir tmp("gan-bad");
  fs::create_directories(tmp / "plugins");
  fs::create_symlink(tmp / "gone/libgan_gone.so.1", tmp / "plugins/libgan_gone.so");
  expect_plugin_error(tmp, tmp / "plugins", tmp / "plugins/libgan_gone.so",
                      {"plugin library not found", "libgan_gone.so.1"});
}

TEST_CASE("bad input: plugin: a file that is not a shared library", "[bad_input][plugin]") {
  TempDir tmp("gan-bad");
  std::string lib = tmp.write("plugins/libgan_text.so", "this is not a library\n");
  expect_plugin_error(tmp, tmp / "plugins", lib, {"not a shared library"});
}

TEST_CASE("bad input: plugin: a library that cannot be loaded (unresolved symbol)", "[bad_input][plugin]") {
  TempDir tmp("gan-bad");
  std::string dir = plugin_dir_with(tmp, GAN_TEST_LIB_UNRESOLVED, "libgan_unresolved.so");
  expect_plugin_error(tmp, dir, dir + "/libgan_unresolved.so",
                      {"cannot load plugin library", "gan_test_symbol_that_does_not_exist"});
}

TEST_CASE("bad input: plugin: a library without the entry point", "[bad_input][plugin]") {
  TempDir tmp("gan-bad");
  std::string dir = plugin_dir_with(tmp, GAN_TEST_LIB_NO_ENTRY, "libgan_no_entry.so");
  expect_plugin_error(tmp, dir, dir + "/libgan_no_entry.so", {"not a gan plugin", "gan_plugin_info"});
}

TEST_CASE("bad input: plugin: ABI mismatch", "[bad_input][plugin]") {
  TempDir tmp("gan-bad");
  // its gan_plugin_register traps: a crash here would mean the loader called it
  std::string dir = plugin_dir_with(tmp, GAN_TEST_LIB_BAD_ABI, "libgan_bad_abi.so");
  expect_plugin_error(tmp, dir, dir + "/libgan_bad_abi.so", {"built for gan plugin ABI 999", "rebuild the plugin"});
}

TEST_CASE("bad input: plugin: a duplicate type names both libraries", "[bad_input][plugin]") {
  TempDir tmp("gan-bad");
  std::string dir = plugin_dir_with(tmp, GAN_TEST_LIB_DUPLICATE, "libgan_duplicate.so");
  // --plugin-dir is searched first, so the shipped layers plugin is the one refused
  expect_plugin_error(tmp, dir, dir + "/libgan_duplicate.so",
                      {"layer type 'conv2d' is already registered", "libgan_layers.so"});
}

// =============================================================================================
// training: divergence, devices, full disks, unwritable folders
// =============================================================================================

TEST_CASE("bad input: training: NaN loss stops after the last good checkpoint", "[bad_input][train]") {
  TempDir tmp("gan-bad");
  std::string model = tmp.write("tiny.toml", tiny_model_toml());  // checkpoint_every = 2
  std::string run = tmp / "run";
  // GAN_TEST_NAN_AT (trainer.cpp) makes iteration 3's discriminator loss NaN before backward
  Result r = run_gan({"train", model, "--out", run, "--iters", "6", "--device", "cpu"}, {"GAN_TEST_NAN_AT=3"});
  INFO(r.all());
  expect_clean_failure(r);
  expect_all(r.err, {"iteration 3: the discriminator loss is NaN", "without saving the diverged weights",
                     "last good checkpoint (iteration 2)", run + "/checkpoints/latest.pt", "lower [train] lr_g/lr_d",
                     "gan train --resume " + run});
  CHECK_THAT(slurp(run + "/checkpoints/latest.json"), Contains("\"iteration\": 2"));
  // the good checkpoint loads, and the run resumes from it
  expect_sample_works(run, tmp);
  Result c = run_gan({"train", "--resume", run, "--iters", "4", "--device", "cpu"});
  INFO(c.all());
  CHECK(c.code == 0);
  CHECK_THAT(slurp(run + "/checkpoints/latest.json"), Contains("\"iteration\": 4"));
}

TEST_CASE("bad input: training: NaN loss before the first checkpoint says there is none", "[bad_input][train]") {
  TempDir tmp("gan-bad");
  std::string model = tmp.write("tiny.toml", tiny_model_toml());
  std::string run = tmp / "run";
  Result r = run_gan({"train", model, "--out", run, "--iters", "6", "--device", "cpu"}, {"GAN_TEST_NAN_AT=1"});
  INFO(r.all());
  expect_clean_failure(r);
  expect_all(r.err, {"iteration 1: the discriminator loss is NaN", "No checkpoint was saved yet", "restarted in place"});
  CHECK_THAT(r.err, !Contains("last good checkpoint"));
  CHECK_FALSE(fs::exists(run + "/checkpoints/latest.pt"));
}

TEST_CASE("bad input: device: --device cuda without a GPU", "[bad_input][device]") {
  TempDir tmp("gan-bad");
  std::string model = tmp.write("tiny.toml", tiny_model_toml());
  Result r = run_gan({"train", model, "--out", tmp / "run", "--device", "cuda"}, {kNoGpu});
  INFO(r.all());
  expect_clean_failure(r);
  expect_all(r.err, {"--device cuda", "no CUDA device is available", "--device cpu"});
  CHECK_FALSE(fs::exists(tmp / "run"));
}

TEST_CASE("bad input: device: [train] device = \"cuda\" without a GPU names the model line", "[bad_input][device]") {
  TempDir tmp("gan-bad");
  std::string text = replaced(tiny_model_toml(), "device = \"cpu\"", "device = \"cuda\"");
  std::string model = tmp.write("tiny.toml", text);
  Result r = run_gan({"train", model, "--out", tmp / "run"}, {kNoGpu});
  INFO(r.all());
  expect_clean_failure(r);
  CHECK_THAT(r.err, Contains(at_line(model, text, "device = \"cuda\"")));
  expect_all(r.err, {"[train] device = \"cuda\"", "no CUDA device is available", "--device cpu"});
  CHECK_FALSE(fs::exists(tmp / "run"));
}

TEST_CASE("bad input: device: gan sample --device cuda without a GPU", "[bad_input][device]") {
  TempDir tmp("gan-bad");
  std::string run = copy_run(tmp);
  auto before = snapshot(run);
  Result r = run_gan({"sample", run, "--n", "4", "--out", tmp / "s.png", "--device", "cuda"}, {kNoGpu});
  INFO(r.all());
  expect_clean_failure(r);
  expect_all(r.err, {"--device cuda", "no CUDA device is available"});
  CHECK_FALSE(fs::exists(tmp / "s.png"));
  CHECK(snapshot(run) == before);
}

TEST_CASE("bad input: disk full while saving a checkpoint: the previous one survives", "[bad_input][disk]") {
  TempDir tmp("gan-bad");
  std::string run = copy_run(tmp);
  auto before = snapshot(run);
  // Files may grow to 4 KB: log.jsonl, the JSON files and the tiny model's sample grids (about
  // 1 KB) fit, the 120 KB checkpoint due at iteration 4 does not.
  Result r = gan::test::run_gan_disk_full({"-q", "train", "--resume", run, "--iters", "4", "--device", "cpu"}, 4096);
  INFO(r.all());
  expect_clean_failure(r);
  expect_all(r.err, {"cannot save the checkpoint", run + "/checkpoints/latest-0000004.pt", "File too large",
                     "still holds the previous one"});
  // the previous checkpoint and its metadata are untouched and still load; no temporary files
  for (const char* f : {"checkpoints/latest.pt", "checkpoints/latest.json", "model.toml", "run.json"}) {
    INFO(f);
    CHECK(slurp(run + "/" + f) == before.at(f));
  }
  for (const auto& e : fs::recursive_directory_iterator(run)) {
    INFO(e.path().string());
    CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
  }
  expect_sample_works(run, tmp);
}

TEST_CASE("bad input: disk full while writing a sample grid: the previous grid survives", "[bad_input][disk]") {
  TempDir tmp("gan-bad");
  // the tiny run logging every 2 iterations: its log stays short of the limit below
  const std::string model = tmp.write("m.toml", replaced(gan::test::tiny_model_toml(), "log_every = 1", "log_every = 2"));
  const std::string run = tmp / "run";
  Result t = run_gan({"-q", "train", model, "--out", run, "--iters", "2", "--device", "cpu"});
  INFO(t.all());
  REQUIRE(t.code == 0);
  auto before = snapshot(run);
  // 1000 bytes: the log (about 280 bytes a record, rewritten on resume) fits with the record of
  // iteration 4, the 1018-byte sample grid due at iteration 4 does not (nor do the text log and
  // the TensorBoard event file: each stops with a warning, training does not)
  Result r = gan::test::run_gan_disk_full({"-q", "train", "--resume", run, "--iters", "4", "--device", "cpu"}, 1000);
  INFO(r.all());
  expect_clean_failure(r);
  expect_all(r.err, {run + "/samples/iter_0000004.png", "write failed", "File too large", "previous file is intact"});
  for (const char* f : {"checkpoints/latest-0000002.pt", "checkpoints/latest.json", "samples/latest.png",
                        "samples/iter_0000002.png"}) {
    INFO(f);
    REQUIRE(before.count(f));
    CHECK(slurp(run + "/" + f) == before.at(f));
  }
  CHECK_FALSE(fs::exists(run + "/samples/iter_0000004.png"));
  expect_sample_works(run, tmp);
}

TEST_CASE("bad input: disk full: gan sample leaves no partial PNG", "[bad_input][disk]") {
  TempDir tmp("gan-bad");
  std::string run = copy_run(tmp);
  // an earlier grid (a PNG: gan replaces only a file of the kind it writes)
  const std::string previous = std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) + "previous grid";
  std::string png = tmp.write("grid.png", previous);
  Result r = gan::test::run_gan_disk_full({"-q", "sample", run, "--n", "64", "--out", png, "--device", "cpu"}, 512);
  INFO(r.all());
  expect_clean_failure(r);
  expect_all(r.err, {png, "write failed"});
  CHECK(slurp(png) == previous);
  for (const auto& e : fs::directory_iterator(tmp.path())) CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("bad input: output: unwritable --out folder", "[bad_input][output]") {
  TempDir tmp("gan-bad");
  std::string model = tmp.write("tiny.toml", tiny_model_toml());
  // Root ignores permission bits, so a chmod 0500 folder only tests something for other users.
  // Always: the parent of --out is a regular file, which no user can create a folder in.
  std::string file = tmp.write("a-file", "x");
  Result r = run_gan({"train", model, "--out", file + "/run", "--iters", "2", "--device", "cpu"});
  INFO(r.all());
  expect_clean_failure(r);
  expect_all(r.err, {file + "/run", "cannot create the folder"});
  CHECK(slurp(file) == "x");
  if (::geteuid() != 0) {
    fs::create_directories(tmp / "ro");
    ::chmod((tmp / "ro").c_str(), 0500);
    Result p = run_gan({"train", model, "--out", tmp / "ro/run", "--iters", "2", "--device", "cpu"});
    INFO(p.all());
    ::chmod((tmp / "ro").c_str(), 0700);
    expect_clean_failure(p);
    expect_all(p.err, {tmp / "ro/run", "Permission denied"});
  }
}

TEST_CASE("bad input: output: --out names an existing file", "[bad_input][output]") {
  TempDir tmp("gan-bad");
  std::string model = tmp.write("tiny.toml", tiny_model_toml());
  std::string file = tmp.write("notes.txt", "my notes\n");
  Result r = run_gan({"train", model, "--out", file, "--iters", "2", "--device", "cpu"});
  INFO(r.all());
  expect_clean_failure(r);
  expect_all(r.err, {file, "names an existing file, not a folder", "nothing was changed"});
  CHECK(slurp(file) == "my notes\n");
}

TEST_CASE("bad input: output: gan sample --out in a folder that cannot exist", "[bad_input][output]") {
  TempDir tmp("gan-bad");
  std::string run = copy_run(tmp);
  std::string file = tmp.write("a-file", "x");
  Result r = run_gan({"sample", run, "--n", "4", "--out", file + "/grid.png", "--device", "cpu"});
  INFO(r.all());
  expect_clean_failure(r);
  expect_all(r.err, {file + "/grid.png", "cannot write"});
  CHECK(slurp(file) == "x");
}

TEST_CASE("bad input: output: train --out into an existing run is refused untouched", "[bad_input][output]") {
  TempDir tmp("gan-bad");
  std::string run = copy_run(tmp);
  auto before = snapshot(run);
  std::string model = tmp.write("tiny.toml", tiny_model_toml());
  Result r = run_gan({"train", model, "--out", run, "--iters", "2", "--device", "cpu"});
  INFO(r.all());
  expect_clean_failure(r);
  expect_all(r.err, {run, "already holds a run", "--resume", "nothing was changed"});
  CHECK(snapshot(run) == before);
  expect_sample_works(run, tmp);
}
