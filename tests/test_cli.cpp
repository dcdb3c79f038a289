// The `gan` command as a user runs it: exit codes, --json output, located errors on stderr, and a
// tiny training run (train, resume, refuse to overwrite, corrupt checkpoint, sample).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <filesystem>
#include <map>
#include <csignal>
#include <memory>

#include "cli_util.hpp"
#include "gan/json.hpp"
#include "gan/version.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using gan::Json;
using gan::test::shipped_models;
using gan::test::snapshot;
using gan::test::line_of;
using gan::test::Proc;
using gan::test::replaced;
using gan::test::Result;
using gan::test::run_gan;
using gan::test::TempDir;
using gan::test::tiny_model_toml;

namespace {

std::vector<Json> jsonl(const std::string& path) {
  std::vector<Json> out;
  std::istringstream in(gan::test::slurp(path));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(Json::parse(line));
  }
  return out;
}

}  // namespace

TEST_CASE("cli: --version", "[cli]") {
  Result r = run_gan({"--version"});
  INFO(r.all());
  CHECK(r.code == 0);
  CHECK_THAT(r.out, StartsWith(std::string("gan ") + gan::kVersion));
  CHECK_THAT(r.out, Contains("LibTorch"));
}

TEST_CASE("cli: gan --version answers before LibTorch initialises, with CLI11's line", "[cli]") {
  // libgomp prints OMP_DISPLAY_ENV's block from its initialiser: absent, no library initialiser ran
  Result fast = run_gan({"--version"}, {"OMP_DISPLAY_ENV=true"});
  INFO(fast.all());
  CHECK(fast.code == 0);
  CHECK_THAT(fast.err, !Contains("OPENMP DISPLAY ENVIRONMENT"));
  Result slow = run_gan({"-q", "--version"}, {"OMP_DISPLAY_ENV=true"});  // through main() and CLI11
  INFO(slow.all());
  CHECK(slow.code == 0);
  CHECK_THAT(slow.err, Contains("OPENMP DISPLAY ENVIRONMENT"));
  CHECK(fast.out == slow.out);
}

TEST_CASE("cli: libgomp starts with OMP_WAIT_POLICY=PASSIVE unless the user chose a policy", "[cli]") {
  // OMP_DISPLAY_ENV makes libgomp print the settings it read at its initialisation, which runs
  // before main(): PASSIVE there means the policy is set early enough, without a re-exec.
  Result unset = run_gan({"--help"}, {"-OMP_WAIT_POLICY", "OMP_DISPLAY_ENV=true"});
  INFO(unset.all());
  CHECK(unset.code == 0);
  CHECK_THAT(unset.err, Contains("OMP_WAIT_POLICY = 'PASSIVE'"));
  Result active = run_gan({"--help"}, {"OMP_WAIT_POLICY=active", "OMP_DISPLAY_ENV=true"});
  INFO(active.all());
  CHECK(active.code == 0);
  CHECK_THAT(active.err, Contains("OMP_WAIT_POLICY = 'ACTIVE'"));
}

TEST_CASE("cli: usage errors exit non-zero", "[cli]") {
  Result none = run_gan({});
  CHECK(none.code != 0);
  Result bad = run_gan({"frobnicate"});
  CHECK(bad.code != 0);
  Result missing = run_gan({"check"});
  CHECK(missing.code != 0);
}

TEST_CASE("cli: plugins --json lists the shipped types with their libraries", "[cli]") {
  Result r = run_gan({"plugins", "--json"});
  INFO(r.all());
  REQUIRE(r.code == 0);
  Json j = Json::parse(r.out);
  REQUIRE(j.contains("types"));
  REQUIRE(j.contains("plugins"));
  std::map<std::string, std::string> layer_lib;
  for (const auto& t : j["types"].items()) {
    CHECK(t.contains("params"));
    CHECK(t.contains("doc"));
    if (t.find("kind")->str() == "layer") layer_lib[t.find("type")->str()] = t.find("library")->str();
  }
  for (const char* type : {"linear", "conv2d", "batchnorm", "relu", "leaky_relu", "tanh", "sigmoid", "upsample",
                           "reshape", "flatten", "adaconv", "spectral_norm"}) {
    INFO(type);
    REQUIRE(layer_lib.count(type));
    CHECK(fs::path(layer_lib[type]).is_absolute());
    CHECK(fs::exists(layer_lib[type]));
  }
  CHECK(fs::path(layer_lib["conv2d"]).filename() == "libgan_layers.so");
  CHECK(fs::path(layer_lib["adaconv"]).filename() == "libgan_adaconv.so");
  bool layers_plugin = false;
  for (const auto& p : j["plugins"].items()) {
    if (p.find("name")->str() != "layers") continue;
    layers_plugin = true;
    CHECK(fs::path(p.find("library")->str()).filename() == "libgan_layers.so");
    CHECK(p.find("types")->size() >= 9);
  }
  CHECK(layers_plugin);
}

TEST_CASE("cli: plugins --describe prints a type's parameters", "[cli]") {
  Result r = run_gan({"plugins", "--describe", "conv2d"});
  INFO(r.all());
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Contains("layer conv2d"));
  CHECK_THAT(r.out, Contains("libgan_layers.so"));
  for (const char* p : {"out_channels", "kernel_size", "stride", "padding", "bias"}) CHECK_THAT(r.out, Contains(p));
  CHECK_THAT(r.out, Contains("integer in [1, 65536], required"));
  CHECK_THAT(r.out, Contains("integer in [1, 31], default 3"));

  Result j = run_gan({"plugins", "--describe", "adaconv", "--json"});
  INFO(j.all());
  REQUIRE(j.code == 0);
  Json d = Json::parse(j.out);
  CHECK(d["type"].str() == "adaconv");
  CHECK(d["params"].size() >= 3);

  Result bad = run_gan({"plugins", "--describe", "conv2", "--json"});
  CHECK(bad.code != 0);
  CHECK_THAT(bad.err, Contains("unknown type 'conv2'") && Contains("did you mean 'conv2d'?"));
}

TEST_CASE("cli: check --json on a model of each family", "[cli]") {
  // The command's output on one model per family (chain, graph with blocks, AdaConv, each data
  // set); every shipped model is checked in-process by test_model ("every shipped model checks"),
  // which needs no process start per model.
  std::vector<std::string> models;
  for (const auto& m : shipped_models()) {
    for (const char* pick : {"fmnist/baseline.toml", "fmnist/adagan-resnet.toml", "cifar10/baseline.toml",
                             "cifar10/sngan-resnet.toml", "stl10/adagan-3x3.toml"}) {
      const std::string p = std::string("/") + pick;
      if (m.size() >= p.size() && m.compare(m.size() - p.size(), p.size(), p) == 0) models.push_back(m);
    }
  }
  REQUIRE(models.size() == 5);
  // a few at a time: start-up is mostly spent loading LibTorch
  const size_t parallel = 6;
  for (size_t start = 0; start < models.size(); start += parallel) {
    std::vector<std::unique_ptr<Proc>> procs;
    for (size_t i = start; i < std::min(models.size(), start + parallel); ++i) {
      procs.push_back(std::make_unique<Proc>(std::vector<std::string>{"check", "--json", models[i]}));
    }
    for (size_t k = 0; k < procs.size(); ++k) {
      Result r = procs[k]->wait();
      const std::string& m = models[start + k];
      INFO(m << "\n" << r.all());
      REQUIRE(r.code == 0);
      Json j = Json::parse(r.out);
      REQUIRE(j.contains("generator"));
      REQUIRE(j.contains("discriminator"));
      CHECK(j["generator"].contains("output_shape"));
      CHECK(j["generator"]["total_params"].integer() > 0);
      CHECK(j["discriminator"]["total_params"].integer() > 0);
      CHECK(j["discriminator"]["output_shape"].dump() == "[1]");
      CHECK(j["generator"]["output_shape"].dump() == j["image_shape"].dump());
      REQUIRE(j["layers"].is_array());
      CHECK(j["layers"].size() == j["generator"]["layers"].size() + j["discriminator"]["layers"].size());
      int64_t sum = 0;
      for (const auto& l : j["layers"].items()) {
        CHECK(l.contains("name"));
        CHECK(l.contains("type"));
        CHECK(l.contains("output_shape"));
        CHECK(l.find("line")->integer() > 0);
        if (l.find("network")->str() == "generator") sum += l.find("params")->integer();
      }
      CHECK(sum == j["generator"]["total_params"].integer());
      if (m.size() >= 22 && m.compare(m.size() - 22, 22, "cifar10/baseline.toml") == 0) {
        CHECK(j["generator"]["total_params"].integer() == 361731);
        CHECK(j["generator"]["output_shape"].dump() == "[3,32,32]");
      }
    }
  }
}

TEST_CASE("cli: bad model files exit non-zero with file:line on stderr", "[cli]") {
  TempDir tmp;
  const std::string t = tiny_model_toml();
  struct Bad {
    std::string name, text, needle, message;
  };
  std::vector<Bad> bad = {
      {"unknown_type.toml", replaced(t, "type = \"batchnorm\"", "type = \"batchnrom\""), "batchnrom",
       "unknown layer type 'batchnrom'"},
      {"channels.toml", replaced(t, "out_channels = 4\nkernel_size = 3", "out_channels = 4\nkernel_size = 3\nin_channels = 5"),
       "in_channels = 5", "in_channels 5 does not match the 8 channels produced by 'up2'"},
      {"syntax.toml", replaced(t, "out_channels = 4", "out_channels = = 4"), "= = 4", "TOML syntax error"},
  };
  std::vector<std::unique_ptr<Proc>> procs;
  for (const auto& b : bad) {
    procs.push_back(std::make_unique<Proc>(std::vector<std::string>{"check", tmp.write(b.name, b.text)}));
  }
  // also as --json: errors still go to stderr, not into the JSON
  procs.push_back(std::make_unique<Proc>(std::vector<std::string>{"check", "--json", tmp / bad[0].name}));
  for (size_t i = 0; i < procs.size(); ++i) {
    const Bad& b = bad[i % bad.size()];
    Result r = procs[i]->wait();
    INFO(b.name << "\n" << r.all());
    CHECK(r.code != 0);
    CHECK_THAT(r.err, Contains(tmp / b.name + ":" + std::to_string(line_of(b.text, b.needle)) + ":"));
    CHECK_THAT(r.err, Contains(b.message));
    CHECK(r.out.empty());
  }
  Result missing = run_gan({"check", tmp / "nope.toml"});
  CHECK(missing.code != 0);
  CHECK_THAT(missing.err, Contains("nope.toml: file not found"));
}

TEST_CASE("cli: train, resume, refuse an existing run, detect corruption, sample", "[cli][train]") {
  TempDir tmp;
  std::string model = tmp.write("tiny.toml", tiny_model_toml());
  std::string run = tmp / "run";

  Result tr = run_gan({"train", model, "--out", run, "--iters", "4", "--device", "cpu"});
  INFO(tr.all());
  REQUIRE(tr.code == 0);
  for (const char* f : {"model.toml", "run.json", "log.jsonl", "samples/latest.png", "checkpoints/latest.pt",
                        "checkpoints/latest.json", "samples/iter_0000002.png", "samples/iter_0000004.png"}) {
    INFO(f);
    CHECK(fs::is_regular_file(fs::path(run) / f));
  }
  Json info = Json::parse(gan::test::slurp(run + "/run.json"));
  CHECK(info["name"].str() == "tiny");
  CHECK(info["model_file"].str() == fs::absolute(model).string());
  auto log = jsonl(run + "/log.jsonl");
  REQUIRE(log.size() == 4);
  CHECK(log.back()["iteration"].integer() == 4);
  CHECK(std::isfinite(log.back()["d_loss"].number()));
  Json meta = Json::parse(gan::test::slurp(run + "/checkpoints/latest.json"));
  CHECK(meta["iteration"].integer() == 4);
  CHECK(meta["size"].integer() == static_cast<int64_t>(fs::file_size(run + "/checkpoints/latest.pt")));
  // model.toml is self-contained: it checks on its own
  Result chk = run_gan({"check", run + "/model.toml"});
  INFO(chk.all());
  CHECK(chk.code == 0);

  // 1. into an existing run folder: refused, nothing changed
  {
    auto before = snapshot(run);
    Result r = run_gan({"train", model, "--out", run, "--iters", "2"});
    INFO(r.all());
    CHECK(r.code != 0);
    CHECK_THAT(r.err, Contains("already holds a run") && Contains("--resume"));
    CHECK(snapshot(run) == before);
  }
  // 2. sample writes a PNG grid
  {
    std::string png = tmp / "x.png";
    Result r = run_gan({"sample", run, "--n", "16", "--out", png, "--device", "cpu"});
    INFO(r.all());
    REQUIRE(r.code == 0);
    REQUIRE(fs::is_regular_file(png));
    std::string head = gan::test::slurp(png).substr(0, 8);
    CHECK(head == std::string("\x89PNG\r\n\x1a\n", 8));
    Result bad = run_gan({"sample", tmp / "not-a-run", "--out", tmp / "z.png"});
    CHECK(bad.code != 0);
    CHECK_THAT(bad.err, Contains("not a run folder"));
  }
  // 3. resume a finished run: nothing to do without --iters, continues with a larger --iters
  {
    Result same = run_gan({"train", "--resume", run});
    INFO(same.all());
    CHECK(same.code == 0);
    CHECK(jsonl(run + "/log.jsonl").size() == 4);
    Result r = run_gan({"train", "--resume", run, "--iters", "6"});
    INFO(r.all());
    REQUIRE(r.code == 0);
    auto log2 = jsonl(run + "/log.jsonl");
    REQUIRE(log2.size() == 6);
    for (size_t i = 0; i < log2.size(); ++i) CHECK(log2[i]["iteration"].integer() == static_cast<int64_t>(i + 1));
    CHECK(Json::parse(gan::test::slurp(run + "/checkpoints/latest.json"))["iteration"].integer() == 6);
    CHECK(fs::is_regular_file(run + "/samples/iter_0000006.png"));
  }
  // 4. a flipped byte in the newest checkpoint (6): sample and resume skip it with a warning
  // naming it and use the one before (4, kept by keep_checkpoints = 2); the log is cut back to 4
  {
    std::string ckpt = run + "/checkpoints/latest-0000006.pt";
    REQUIRE(fs::is_regular_file(run + "/checkpoints/latest-0000004.pt"));
    std::string bytes = gan::test::slurp(ckpt);
    bytes[bytes.size() / 2] ^= 0x5a;
    std::ofstream(ckpt, std::ios::binary) << bytes;
    Result s = run_gan({"sample", run, "--n", "4", "--out", tmp / "y.png"});
    INFO(s.all());
    CHECK(s.code == 0);
    CHECK_THAT(s.err, Contains("skipped") && Contains(ckpt) && Contains("CRC32 mismatch") &&
                          Contains("latest-0000004.pt (iteration 4)"));
    CHECK(fs::exists(tmp / "y.png"));
    Result r = run_gan({"train", "--resume", run, "--iters", "8"});
    INFO(r.all());
    CHECK(r.code == 0);
    CHECK_THAT(r.err, Contains("skipped") && Contains(ckpt) && Contains("at iteration 4"));
    auto log3 = jsonl(run + "/log.jsonl");
    REQUIRE(log3.size() == 8);
    for (size_t i = 0; i < log3.size(); ++i) CHECK(log3[i]["iteration"].integer() == static_cast<int64_t>(i + 1));
    CHECK(Json::parse(gan::test::slurp(run + "/checkpoints/latest.json"))["iteration"].integer() == 8);
  }
}

TEST_CASE("cli: resume without --iters continues to the run's last --iters target", "[cli][train]") {
  TempDir tmp;
  std::string model = tmp.write("tiny.toml", tiny_model_toml());  // [train] iterations = 4
  std::string run = tmp / "run";
  // started with --iters 6, stopped at its iteration-2 checkpoint (NaN injected at 3)
  Result r = run_gan({"train", model, "--out", run, "--iters", "6", "--device", "cpu"}, {"GAN_TEST_NAN_AT=3"});
  REQUIRE(r.code == 1);
  CHECK(Json::parse(gan::test::slurp(run + "/checkpoints/latest.json"))["target_iterations"].integer() == 6);
  auto iteration = [&] {
    return Json::parse(gan::test::slurp(run + "/checkpoints/latest.json"))["iteration"].integer();
  };
  REQUIRE(iteration() == 2);
  Result c = run_gan({"train", "--resume", run, "--device", "cpu"});
  INFO(c.all());
  CHECK(c.code == 0);
  CHECK(iteration() == 6);  // not the model's 4
  // a new --iters becomes the target; resuming again without it has nothing to do
  Result d = run_gan({"train", "--resume", run, "--iters", "8", "--device", "cpu"});
  CHECK(d.code == 0);
  CHECK(iteration() == 8);
  Result e = run_gan({"train", "--resume", run, "--device", "cpu"});
  INFO(e.all());
  CHECK(e.code == 0);
  CHECK_THAT(e.err, Contains("already at 8 iterations"));
  CHECK(iteration() == 8);
}

TEST_CASE("cli: the run folder's model.toml names the same files as the model it came from", "[cli][train]") {
  TempDir tmp;
  std::string text = tiny_model_toml();
  text.insert(text.find("[eval]") + 7, "feature_net = \"nets/net.pt\"\n");  // relative to the model
  std::string model = tmp.write("m/tiny.toml", text);
  std::string run = tmp / "run";
  Result r = run_gan({"train", model, "--out", run, "--iters", "1", "--device", "cpu"});
  INFO(r.all());
  REQUIRE(r.code == 0);
  const std::string want = (fs::absolute(tmp / "m") / "nets/net.pt").lexically_normal().string();
  CHECK_THAT(gan::test::slurp(run + "/model.toml"), Contains("feature_net = \"" + want + "\""));
}

TEST_CASE("cli: SIGINT saves a loadable checkpoint and exits 130; the run resumes", "[cli][train]") {
  TempDir tmp;
  std::string model = tmp.write("tiny.toml", tiny_model_toml());
  std::string run = tmp / "run";
  Proc train({"train", model, "--out", run, "--iters", "100000", "--device", "cpu"});
  // wait until training is under way (a few logged iterations), then interrupt it
  std::string log_path = run + "/log.jsonl";
  for (int i = 0; i < 600; ++i) {
    if (fs::exists(log_path) && jsonl(log_path).size() >= 3) break;
    ::usleep(100 * 1000);
  }
  REQUIRE(fs::exists(log_path));
  ::kill(train.pid(), SIGINT);
  Result r = train.wait();
  INFO(r.all());
  CHECK(r.code == 130);
  CHECK_THAT(r.err, Contains("interrupted by SIGINT at iteration") && Contains("--resume"));
  Json meta = Json::parse(gan::test::slurp(run + "/checkpoints/latest.json"));
  int64_t it = meta["iteration"].integer();
  CHECK(it >= 3);
  // the checkpoint loads: sample from it, then continue two more iterations
  Result s = run_gan({"sample", run, "--n", "4", "--out", tmp / "s.png", "--device", "cpu"});
  INFO(s.all());
  CHECK(s.code == 0);
  Result c = run_gan({"train", "--resume", run, "--iters", std::to_string(it + 2), "--device", "cpu"});
  INFO(c.all());
  CHECK(c.code == 0);
  CHECK(Json::parse(gan::test::slurp(run + "/checkpoints/latest.json"))["iteration"].integer() == it + 2);
}

TEST_CASE("cli: bench times a training step against its floor, with AdaConv's shares", "[cli][bench]") {
  const std::string model = gan::test::source_dir() + "/models/fmnist/adagan-1-3x3.toml";
  Result c = run_gan({"check", "--json", model});
  REQUIRE(c.code == 0);
  Json chk = Json::parse(c.out);
  Result r = run_gan({"bench", model, "--iters", "2", "--warmup", "1", "--batch", "4", "--json"});
  INFO(r.all());
  REQUIRE(r.code == 0);
  Json j = Json::parse(r.out);
  CHECK(j["batch_size"].integer() == 4);
  CHECK(j["g_macs_per_sample"].integer() == chk["generator"]["total_macs"].integer());
  CHECK(j["d_macs_per_sample"].integer() == chk["discriminator"]["total_macs"].integer());
  // the floor's count (gan/bench.hpp): n_dis D steps of 6Bd + B*g each (no reuse_fake), a G step of 3Bg + 2Bd
  const double B = 4, g = double(chk["generator"]["total_macs"].integer());
  const double d = double(chk["discriminator"]["total_macs"].integer());
  const double n_dis = double(chk["train"]["n_dis"].integer());
  REQUIRE_FALSE(chk["train"]["reuse_fake"].boolean());
  CHECK(j["step_macs"].number() == Approx(n_dis * (6 * B * d + B * g) + 3 * B * g + 2 * B * d));
  CHECK(j["fma_peak_gmacs"].number() > 1.0);
  CHECK(j["seconds_per_step"].number() > 0.0);
  CHECK(j["floor_seconds"].number() ==
        Approx(j["step_macs"].number() / (j["fma_peak_gmacs"].number() * 1e9)).epsilon(1e-9));
  CHECK(j["ratio_to_floor"].number() >= 1.0);  // nothing beats the FMA peak
  CHECK(j["phase_seconds"]["D forward+backward"].number() > 0.0);
  CHECK(j["op_seconds"]["adaconv forward"].number() > 0.0);
  CHECK(j["op_seconds"]["adaconv backward"].number() > 0.0);

  Result bad = run_gan({"bench", "no-such-model.toml"});
  CHECK(bad.code == 1);
  CHECK_THAT(bad.err, Contains("no-such-model.toml"));
}

namespace {
// Width and height from a PNG's IHDR chunk.
std::pair<int, int> png_size(const std::string& path) {
  const std::string b = gan::test::slurp(path);
  if (b.size() < 24 || b.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) != 0) return {-1, -1};
  auto be32 = [&](size_t o) {
    return (static_cast<unsigned char>(b[o]) << 24) | (static_cast<unsigned char>(b[o + 1]) << 16) |
           (static_cast<unsigned char>(b[o + 2]) << 8) | static_cast<unsigned char>(b[o + 3]);
  };
  return {static_cast<int>(be32(16)), static_cast<int>(be32(20))};
}
}  // namespace

TEST_CASE("cli: sample writes a folder of PNGs and an .npz, and generates from given latents", "[cli][sample]") {
  TempDir tmp;
  std::string model = tmp.write("tiny.toml", tiny_model_toml());
  std::string run = tmp / "run";
  Result tr = run_gan({"-q", "train", model, "--out", run, "--iters", "2", "--device", "cpu"});
  INFO(tr.all());
  REQUIRE(tr.code == 0);

  // a folder: one 8-bit PNG per image, at the model's resolution, numbered from 0
  Result r = run_gan({"sample", run, "--n", "20", "--batch", "8", "--seed", "5", "--out", tmp / "pngs"});
  INFO(r.all());
  REQUIRE(r.code == 0);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(tmp / "pngs")) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  REQUIRE(names.size() == 20);
  CHECK(names.front() == "000000.png");
  CHECK(names.back() == "000019.png");
  CHECK(png_size(tmp / "pngs/000007.png") == std::make_pair(32, 32));

  // an .npz that numpy.load reads: checked with Python's zipfile and the .npy header format
  r = run_gan({"sample", run, "--n", "20", "--seed", "5", "--out", tmp / "s.npz"});
  INFO(r.all());
  REQUIRE(r.code == 0);
  const std::string py = tmp.write("check.py", R"(import ast, struct, sys, zipfile, array
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
out = []
for name in ("images.npy", "latents.npy"):
    b = z.read(name)
    assert b[:6] == b"\x93NUMPY"
    n = struct.unpack("<H", b[8:10])[0]
    h = ast.literal_eval(b[10:10 + n].decode("latin1"))
    assert (10 + n) % 64 == 0
    a = array.array("f"); a.frombytes(b[10 + n:])
    count = 1
    for d in h["shape"]: count *= d
    assert h["descr"] == "<f4" and not h["fortran_order"] and len(a) == count
    out.append("%s %s %.3f %.3f" % (name, list(h["shape"]), min(a), max(a)))
    if name == "latents.npy": open(sys.argv[2], "wb").write(b)
print("; ".join(out))
)");
  Proc check({"python3", py, tmp / "s.npz", tmp / "z.npy"}, {}, "/usr/bin/env");
  Result c = check.wait();
  INFO(c.all());
  REQUIRE(c.code == 0);
  CHECK_THAT(c.out, Contains("images.npy [20, 1, 32, 32]") && Contains("latents.npy [20, 16]"));
  double lo = 0, hi = 0;
  REQUIRE(std::sscanf(c.out.c_str(), "images.npy [20, 1, 32, 32] %lf %lf", &lo, &hi) == 2);
  CHECK(lo >= -1.0);  // tanh output
  CHECK(hi <= 1.0);
  CHECK(hi > lo);

  // the npz's latents, given back with --latents, reproduce the seeded images byte for byte
  r = run_gan({"sample", run, "--latents", tmp / "z.npy", "--out", tmp / "again"});
  INFO(r.all());
  REQUIRE(r.code == 0);
  for (const auto& n : names) {
    INFO(n);
    CHECK(gan::test::slurp(tmp / ("pngs/" + n)) == gan::test::slurp(tmp / ("again/" + n)));
  }

  // refused, with nothing changed: a folder gan did not fill, --n against the file's count,
  // latents of the wrong size or dtype
  tmp.write("mine/notes.txt", "mine");
  r = run_gan({"sample", run, "--n", "2", "--out", tmp / "mine/"});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Contains("notes.txt, which gan did not write"));
  CHECK(fs::exists(tmp / "mine/notes.txt"));
  CHECK_FALSE(fs::exists(tmp / "mine/000000.png"));
  r = run_gan({"sample", run, "--n", "3", "--latents", tmp / "z.npy", "--out", tmp / "g.png"});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Contains("--n 3 but") && Contains("holds 20 latents"));
  // a hand-made .npy: 2 x 3 float32, the wrong latent size for this generator (16)
  std::string npy("\x93NUMPY\x01\x00", 8);
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += "\n";
  npy += std::string(1, static_cast<char>(header.size())) + std::string(1, '\0') + header + std::string(24, '\0');
  r = run_gan({"sample", run, "--latents", tmp.write("w.npy", npy), "--out", tmp / "g.png"});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Contains("latents of size 3") && Contains("takes 16"));
  CHECK_FALSE(fs::exists(tmp / "g.png"));
  std::string f16 = replaced(npy, "<f4", "<f2");
  r = run_gan({"sample", run, "--latents", tmp.write("h.npy", f16), "--out", tmp / "g.png"});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Contains("h.npy") && Contains("'<f2', not float32 or float64"));
}
