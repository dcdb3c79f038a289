// `gan evaluate`, evaluation during training (eval_every + keep_best), `gan compare` and its
// HTML report rendered in headless Chromium. Two tiny runs (Fashion-MNIST idx with limit = 512,
// a few iterations) are trained once with the real `gan` binary (GAN_EXE) and shared by all cases.
#include "test_common.hpp"  // LibTorch, then Catch (first: see the file)

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <torch/script.h>

#include "core_util.hpp"
#include "gan/error.hpp"
#include "gan/evaluate.hpp"
#include "gan/fs_util.hpp"
#include "gan/version.hpp"
#include "gan/json.hpp"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#include <stb/stb_image.h>

namespace fs = std::filesystem;

namespace {

std::string env_or(const char* name, const std::string& def) {
  const char* v = std::getenv(name);
  return v && *v ? v : def;
}
std::string gan_exe() { return env_or("GAN_EXE", std::string(GAN_BINARY_DIR) + "/bin/gan"); }
std::string source_dir() { return env_or("GAN_SOURCE_DIR", GAN_SOURCE_DIR); }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

struct Result {
  int code = -1;
  std::string out, err;
  std::string all() const { return "exit " + std::to_string(code) + "\n--- stdout:\n" + out + "\n--- stderr:\n" + err; }
};

// Runs a shell command line, capturing stdout and stderr.
Result sh(const std::string& cmd, const fs::path& tmp) {
  static int k = 0;
  fs::path o = tmp / ("out" + std::to_string(k) + ".txt"), e = tmp / ("err" + std::to_string(k) + ".txt");
  ++k;
  int st = std::system((cmd + " >" + quote(o.string()) + " 2>" + quote(e.string())).c_str());
  Result r;
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  r.out = slurp(o);
  r.err = slurp(e);
  return r;
}

Result run_gan(const std::string& args, const fs::path& tmp) { return sh(quote(gan_exe()) + " " + args, tmp); }

// The shared fixture: a temp folder with two tiny runs.
struct Runs {
  fs::path dir, a, b;
  bool ok = false;
  std::string why;
};

std::string tiny_model(const std::string& base, const std::string& name, bool eval_during_training) {
  std::string classifier = source_dir() + "/models/fmnist/fmnist_classifier.pt";
  std::ostringstream m;
  m << "extends = \"" << source_dir() << "/models/fmnist/" << base << "\"\n"
    << "[model]\nname = \"" << name << "\"\n"
    << "[data]\nlimit = 512\n"
    << "[train]\nbatch_size = 16\niterations = 4\nlog_every = 1\nsample_every = 0\ncheckpoint_every = 0\n"
    << "device = \"cpu\"\n";
  if (eval_during_training) m << "eval_every = 2\nkeep_best = \"fid\"\n";
  m << "[eval]\nfeature_net = \"" << classifier << "\"\nn_samples = 200\nreal_samples = 200\nbatch_size = 100\n";
  // narrower discriminator: the test is about evaluation, not capacity
  const char* d[] = {"c1", "c2", "c3", "c4", "c5", "c6", "c7"};
  const int w[] = {8, 8, 16, 16, 16, 16, 32};
  for (int i = 0; i < 7; ++i) m << "[discriminator.override." << d[i] << "]\nout_channels = " << w[i] << "\n";
  return m.str();
}

Runs& runs() {
  static Runs r = [] {
    Runs r;
    r.dir = fs::temp_directory_path() / ("gan-evaluate-test-" + std::to_string(::getpid()));
    fs::create_directories(r.dir);
    r.a = r.dir / "run-baseline";
    r.b = r.dir / "run-adagan";
    {
      std::ofstream(r.dir / "baseline.toml") << tiny_model("baseline.toml", "tiny-baseline", true);
      std::ofstream(r.dir / "adagan.toml") << tiny_model("adagan-1-3x3.toml", "tiny-adagan-1-3x3", false);
    }
    auto t0 = std::chrono::steady_clock::now();
    Result ra = run_gan("-q train " + quote((r.dir / "baseline.toml").string()) + " --out " + quote(r.a.string()), r.dir);
    Result rb = run_gan("-q train " + quote((r.dir / "adagan.toml").string()) + " --out " + quote(r.b.string()), r.dir);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    WARN("trained two tiny runs in " << s << " s");
    r.ok = ra.code == 0 && rb.code == 0;
    if (!r.ok) r.why = "baseline: " + ra.all() + "\nadagan: " + rb.all();
    return r;
  }();
  return r;
}

struct Cleanup {
  ~Cleanup() {
    if (!runs().dir.empty() && !std::getenv("GAN_KEEP_TEST_DIRS")) {
      std::error_code ec;
      fs::remove_all(runs().dir, ec);
    }
  }
};

void require_runs() {
  static Cleanup cleanup;
  INFO(runs().why);
  REQUIRE(runs().ok);
}

size_t count_lines(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line))
    if (!line.empty()) ++n;
  return n;
}

// Every file below `dir` with its contents.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = slurp(e.path());
  return out;
}

}  // namespace

TEST_CASE("training with eval_every evaluates, logs and keeps the best checkpoint", "[evaluate]") {
  require_runs();
  const fs::path& a = runs().a;
  CHECK(fs::exists(a / "checkpoints" / "best.pt"));
  CHECK(fs::exists(a / "checkpoints" / "best.json"));
  CHECK(fs::exists(a / "eval.json"));
  // evaluations at iterations 2 and 4
  CHECK(count_lines(a / "evals.jsonl") == 2);
  gan::Json last = gan::Json::parse(slurp(a / "eval.json"));
  CHECK(last["iteration"].integer() == 4);
  CHECK(last["n"].integer() == 200);
  // the training log holds the eval records too
  CHECK(slurp(a / "log.jsonl").find("\"kind\":\"eval\"") != std::string::npos);
  // the real features were cached once
  int cached = 0;
  for (const auto& e : fs::directory_iterator(a / "eval_cache")) cached += e.path().extension() == ".pt";
  CHECK(cached == 1);
}

TEST_CASE("gan evaluate --json on a tiny run", "[evaluate]") {
  require_runs();
  const fs::path& b = runs().b;
  Result r = run_gan("-q evaluate " + quote(b.string()) + " --n 120 --json", runs().dir);
  INFO(r.all());
  REQUIRE(r.code == 0);
  gan::Json j = gan::Json::parse(r.out);
  CHECK(j["iteration"].integer() == 4);
  CHECK(j["n"].integer() == 120);
  CHECK(j["real_samples"].integer() == 200);
  CHECK(j["real_split"].str() == "test");
  CHECK(fs::path(j["feature_net"].str()).filename() == "fmnist_classifier.pt");
  CHECK(j["seconds"].number() > 0);
  const gan::Json& m = j["metrics"];
  for (const char* k : {"is", "is_std", "fid", "kid"}) {
    INFO(k);
    REQUIRE(m.find(k));
    CHECK(m.find(k)->is_number());
  }
  // 120 samples, at most kid's subset_size (1000): every subset is the whole set, so there is no
  // spread to report: null, not 0. And the scale of KID is stated.
  REQUIRE(m.find("kid_std"));
  CHECK(m.find("kid_std")->is_null());
  CHECK(j["scales"]["kid"].str().find("raw unbiased MMD^2") != std::string::npos);
  CHECK(m.find("is")->number() >= 1.0);
  CHECK(m.find("is")->number() <= 10.0 + 1e-9);
  CHECK(m.find("fid")->number() >= 0.0);
  CHECK(j["higher_is_better"]["is"].boolean());
  CHECK_FALSE(j["higher_is_better"]["fid"].boolean());

  // eval.json holds the same record; evals.jsonl got one line
  gan::Json file = gan::Json::parse(slurp(b / "eval.json"));
  CHECK(file["n"].integer() == 120);
  CHECK(file["metrics"]["fid"].number() == Approx(m.find("fid")->number()));
  CHECK(count_lines(b / "evals.jsonl") == 1);

  // same seed, same samples: a second evaluation (real features from the cache) gives the same numbers
  Result again = run_gan("-q evaluate " + quote(b.string()) + " --n 120 --json", runs().dir);
  REQUIRE(again.code == 0);
  gan::Json j2 = gan::Json::parse(again.out);
  // to round-off only: see the cache case below on rank-deficient FID and BLAS rounding
  CHECK(j2["metrics"]["fid"].number() == Approx(m.find("fid")->number()).epsilon(1e-7));
  CHECK(j2["metrics"]["is"].number() == Approx(m.find("is")->number()).epsilon(1e-9));
  CHECK(count_lines(b / "evals.jsonl") == 2);

  // the best checkpoint of the other run, by file
  Result best = run_gan("-q evaluate " + quote((runs().a / "checkpoints" / "best.pt").string()) + " --n 100 --json",
                    runs().dir);
  INFO(best.all());
  REQUIRE(best.code == 0);
  CHECK(gan::Json::parse(best.out)["checkpoint"].str().find("/checkpoints/best-") != std::string::npos);
}

TEST_CASE("gan evaluate names the feature network and the contract when it is missing", "[evaluate]") {
  require_runs();
  Result r = run_gan("evaluate " + quote(runs().b.string()) + " --n 50 --feature-net /nonexistent/net.pt", runs().dir);
  CHECK(r.code != 0);
  CHECK(r.err.find("/nonexistent/net.pt") != std::string::npos);
  CHECK(r.err.find("docs/feature-networks.md") != std::string::npos);

  // a file that is not TorchScript
  fs::path junk = runs().dir / "junk.pt";
  std::ofstream(junk) << "not a model";
  Result r2 = run_gan("evaluate " + quote(runs().b.string()) + " --n 50 --feature-net " + quote(junk.string()), runs().dir);
  CHECK(r2.code != 0);
  CHECK(r2.err.find("junk.pt") != std::string::npos);
  CHECK(r2.err.find("TorchScript") != std::string::npos);
}

TEST_CASE("gan compare writes report.html/json/csv with both runs", "[evaluate][compare]") {
  require_runs();
  fs::path out = runs().dir / "report";
  fs::path csv = runs().dir / "table.csv";
  const auto before_a = snapshot(runs().a), before_b = snapshot(runs().b);
  Result r = run_gan("-q compare " + quote(runs().a.string()) + " " + quote(runs().b.string()) + " --n 100 --out " +
                     quote(out.string()) + " --csv " + quote(csv.string()),
                 runs().dir);
  INFO(r.all());
  REQUIRE(r.code == 0);
  CHECK(r.out.find("tiny-baseline") != std::string::npos);
  CHECK(r.out.find("tiny-adagan-1-3x3") != std::string::npos);
  CHECK(r.out.find("IS") != std::string::npos);
  CHECK(r.out.find("FID") != std::string::npos);
  CHECK(r.out.find("KID") != std::string::npos);
  CHECK(r.out.find("it/s") != std::string::npos);
  CHECK(r.out.find("best:") != std::string::npos);
  CHECK(r.out.find("report.html") != std::string::npos);
  // KID's scale in the table; the spread of KID at n = 100 <= subset_size is n/a, not 0
  CHECK(r.out.find("KID (raw unbiased MMD^2, not x1e3)") != std::string::npos);
  CHECK(r.out.find("± n/a") != std::string::npos);
  // compare is read-only on the runs it compares: not a byte changed (no eval.json, evals.jsonl
  // or eval_cache written; the real features came from the runs' caches, read only, and new ones
  // would go under --out)
  CHECK((snapshot(runs().a) == before_a));
  CHECK((snapshot(runs().b) == before_b));

  REQUIRE(fs::exists(out / "report.html"));
  REQUIRE(fs::exists(out / "report.json"));
  REQUIRE(fs::exists(out / "report.csv"));
  CHECK(slurp(csv) == slurp(out / "report.csv"));
  CHECK(count_lines(out / "report.csv") == 3);
  CHECK(slurp(out / "report.csv").rfind("variant,run,iterations,is,is_std,fid,kid,kid_std", 0) == 0);

  gan::Json rep = gan::Json::parse(slurp(out / "report.json"));
  REQUIRE(rep["runs"].size() == 2);
  CHECK(rep["n"].integer() == 100);
  for (const auto& run : rep["runs"].items()) {
    CHECK(run.find("iteration")->integer() == 4);
    CHECK(run.find("g_params")->integer() > 0);
    CHECK(run.find("metrics")->contains("fid"));
  }
  CHECK(rep["best"].contains("is"));
  CHECK(rep["scales"]["kid"].str() == "raw unbiased MMD^2, not x1e3");

  std::string html = slurp(out / "report.html");
  CHECK(html.find("tiny-baseline") != std::string::npos);
  CHECK(html.find("tiny-adagan-1-3x3") != std::string::npos);
  size_t grids = 0;
  for (size_t p = html.find("data:image/png;base64,"); p != std::string::npos;
       p = html.find("data:image/png;base64,", p + 1))
    ++grids;
  CHECK(grids == 4);  // each run's latest grid, shown small and, on a click, full size
  CHECK(html.find("class=\"full\" id=\"latest-1\"") != std::string::npos);
  CHECK(html.find("<svg") != std::string::npos);
  // the settings that differ: the two generators' layers, not the shared [train] values
  CHECK(html.find("Settings that differ") != std::string::npos);
  CHECK(html.find("<td>train.batch_size</td>") == std::string::npos);
  CHECK(html.find("generator.layers.") != std::string::npos);
  // KID at n = 100 <= subset_size has no spread: said, in the report and on stderr
  CHECK(html.find("kid has no spread") != std::string::npos);
  CHECK_THAT(r.err, Catch::Contains("kid has no spread"));
  CHECK(rep["warnings"].size() >= 1);
  CHECK(html.find("<polyline") != std::string::npos);
  // self-contained: nothing fetched from the network
  CHECK(html.find("src=\"http") == std::string::npos);
  CHECK(html.find("href=\"http") == std::string::npos);
  CHECK(html.find("<script") == std::string::npos);

  // after `gan evaluate` with the same settings, compare reuses both eval.json files (and still
  // writes nothing into the runs)
  for (const fs::path& run : {runs().a, runs().b}) {
    Result ev = run_gan("-q evaluate " + quote(run.string()) + " --n 100", runs().dir);
    INFO(ev.all());
    REQUIRE(ev.code == 0);
  }
  const auto evaluated_a = snapshot(runs().a), evaluated_b = snapshot(runs().b);
  Result again = run_gan("-q compare " + quote(runs().a.string()) + " " + quote(runs().b.string()) +
                         " --n 100 --json --out " + quote((runs().dir / "report2").string()),
                     runs().dir);
  INFO(again.all());
  REQUIRE(again.code == 0);
  gan::Json rep2 = gan::Json::parse(again.out);
  for (const auto& run : rep2["runs"].items()) CHECK(run.find("reused_eval")->boolean());
  CHECK((snapshot(runs().a) == evaluated_a));
  CHECK((snapshot(runs().b) == evaluated_b));
}

TEST_CASE("gan evaluate recomputes real features when a data file changes in place", "[evaluate][cache]") {
  // A run whose test split is a raw IDX file of our own (training reads the installed train split
  // through a link): the cache must notice new bytes at the same path, size and mtime.
  require_runs();
  const fs::path dir = runs().dir / "cache-test";
  fs::create_directories(dir / "data");
  const std::string fm = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(fm + "/train-images-idx3-ubyte.gz")) {
    WARN("no " << fm << ": skipped");
    return;
  }
  fs::create_symlink(fm + "/train-images-idx3-ubyte.gz", dir / "data/train-images-idx3-ubyte.gz");
  const int n_images = 300;
  std::string idx = {0, 0, 8, 3, 0, 0, char(n_images >> 8), char(n_images & 255), 0, 0, 0, 28, 0, 0, 0, 28};
  for (int i = 0; i < n_images; ++i)
    for (int p = 0; p < 28 * 28; ++p) idx += char((p % 28 < 14 ? 40 : 200) + (i * 7 + p) % 17);
  const fs::path test_file = dir / "data/t10k-images-idx3-ubyte";
  std::ofstream(test_file, std::ios::binary) << idx;
  std::string model = tiny_model("baseline.toml", "cache-test", false);
  const std::string data_line = "[data]\nlimit = 512\n";
  REQUIRE(model.find(data_line) != std::string::npos);
  model.replace(model.find(data_line), data_line.size(),
                data_line + "path = \"" + (dir / "data").string() + "\"\n");
  std::ofstream(dir / "model.toml") << model;
  const fs::path run = dir / "run";
  Result tr = run_gan("-q train " + quote((dir / "model.toml").string()) + " --out " + quote(run.string()), dir);
  INFO(tr.all());
  REQUIRE(tr.code == 0);

  auto evaluate = [&] {
    Result r = run_gan("evaluate " + quote(run.string()) + " --n 100 --json", dir);
    INFO(r.all());
    REQUIRE(r.code == 0);
    return r;
  };
  const Result first = evaluate();
  CHECK(first.err.find("real features: computing") != std::string::npos);
  const double fid1 = gan::Json::parse(first.out)["metrics"]["fid"].number();
  const Result second = evaluate();  // unchanged data: from the cache, same numbers
  CHECK(second.err.find("real features: from cache") != std::string::npos);
  // Equal to round-off, not bitwise: with 100 samples the covariances are rank-deficient and the
  // matrix square root's near-zero eigenvalues make FID's last digits depend on BLAS rounding
  // (CI saw 165.6769171321 against 165.6769194536). Wrong or stale features move it by far more.
  CHECK(gan::Json::parse(second.out)["metrics"]["fid"].number() == Approx(fid1).epsilon(1e-7));

  // New pixel bytes, same path, same size, same mtime.
  const auto mtime = fs::last_write_time(test_file);
  std::string changed = idx;
  for (size_t i = 16; i < changed.size(); ++i) changed[i] = char(255 - static_cast<unsigned char>(changed[i]));
  {
    std::fstream f(test_file, std::ios::binary | std::ios::in | std::ios::out);
    f.write(changed.data(), static_cast<std::streamsize>(changed.size()));
  }
  fs::last_write_time(test_file, mtime);
  REQUIRE(fs::file_size(test_file) == idx.size());
  const Result third = evaluate();
  CHECK(third.err.find("real features: computing") != std::string::npos);
  CHECK(third.err.find("from cache") == std::string::npos);
  CHECK(gan::Json::parse(third.out)["metrics"]["fid"].number() != Approx(fid1).epsilon(1e-6));
  CHECK(gan::Json::parse(third.out)["real_images_hash"].str() != gan::Json::parse(first.out)["real_images_hash"].str());

  // gan compare reuses that eval.json while the data stays as it is, and not once it changed.
  auto compare = [&](const std::string& out) {
    Result r = run_gan("-q compare " + quote(run.string()) + " --n 100 --json --out " + quote((dir / out).string()), dir);
    INFO(r.all());
    REQUIRE(r.code == 0);
    return gan::Json::parse(r.out)["runs"].items().at(0).find("reused_eval")->boolean();
  };
  CHECK(compare("cmp1"));
  {
    std::fstream f(test_file, std::ios::binary | std::ios::in | std::ios::out);
    f.write(idx.data(), static_cast<std::streamsize>(idx.size()));  // the original bytes again
  }
  fs::last_write_time(test_file, mtime);
  CHECK_FALSE(compare("cmp2"));
}

TEST_CASE("report.html renders in headless Chromium without errors", "[evaluate][compare][chromium]") {
  require_runs();
  std::string chromium;
  for (const char* c : {"chromium", "chromium-browser", "google-chrome"}) {
    Result w = sh(std::string("command -v ") + c, runs().dir);
    if (w.code == 0 && !w.out.empty()) {
      chromium = w.out.substr(0, w.out.find('\n'));
      break;
    }
  }
  if (chromium.empty()) {
    WARN("SKIPPED: no chromium on PATH; report.html was not rendered");
    return;
  }
  fs::path out = runs().dir / "report-chromium";
  Result r = run_gan("-q compare " + quote(runs().a.string()) + " " + quote(runs().b.string()) + " --n 100 --out " +
                     quote(out.string()),
                 runs().dir);
  INFO(r.all());
  REQUIRE(r.code == 0);
  fs::path png = runs().dir / "report.png";
  fs::path profile = runs().dir / "chromium-profile";
  Result c = sh("timeout 120 " + quote(chromium) +
                    " --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions"
                    " --user-data-dir=" + quote(profile.string()) +
                    " --enable-logging=stderr --v=0 --screenshot=" + quote(png.string()) +
                    " --window-size=1200,2000 " + quote("file://" + (out / "report.html").string()),
                runs().dir);
  INFO(c.all());
  REQUIRE(fs::exists(png));
  CHECK(fs::file_size(png) > 10000);
  // console messages and script errors appear in stderr as CONSOLE / Uncaught lines
  CHECK(c.err.find("CONSOLE") == std::string::npos);
  CHECK(c.err.find("Uncaught") == std::string::npos);
  CHECK(c.err.find("Not allowed to load local resource") == std::string::npos);

  int w = 0, h = 0, ch = 0;
  unsigned char* px = stbi_load(png.string().c_str(), &w, &h, &ch, 3);
  REQUIRE(px != nullptr);
  CHECK(w == 1200);
  // not blank: many distinct colours and a fair share of non-white pixels (text, grids, curves)
  size_t nonwhite = 0, coloured = 0;
  for (int i = 0; i < w * h; ++i) {
    unsigned char r0 = px[3 * i], g0 = px[3 * i + 1], b0 = px[3 * i + 2];
    if (r0 < 240 || g0 < 240 || b0 < 240) ++nonwhite;
    if (std::abs(int(r0) - int(b0)) > 60) ++coloured;  // the coloured curves
  }
  stbi_image_free(px);
  CHECK(nonwhite > static_cast<size_t>(w * h) / 100);
  CHECK(coloured > 200);
}

TEST_CASE("FeatureNetwork: softmax probabilities in float64, and contract violations named", "[evaluate]") {
  fs::path dir = fs::temp_directory_path() / ("gan-featnet-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto save = [&](const std::string& name, const std::string& body) {
    torch::jit::Module m("FeatureNet");
    m.define("def forward(self, x):\n" + body);
    std::string p = (dir / name).string();
    m.save(p);
    return p;
  };
  const std::string good = save("good.pt", "    f = x.flatten(1)\n    return (f[:, :3], f)\n");
  const std::string single = save("single.pt", "    return x.flatten(1)\n");
  const std::string four_d = save("fourd.pt", "    return (x.flatten(1), x)\n");
  const std::string one_class = save("oneclass.pt", "    f = x.flatten(1)\n    return (f[:, :1], f)\n");

  at::Tensor x = torch::rand({5, 1, 4, 4}) * 2 - 1;
  gan::FeatureNetwork net(good, torch::kCPU);
  auto o = net.run(x);
  CHECK(o.probs.sizes() == std::vector<int64_t>({5, 3}));
  CHECK(o.features.sizes() == std::vector<int64_t>({5, 16}));
  CHECK(o.probs.scalar_type() == torch::kFloat64);
  CHECK(o.features.scalar_type() == torch::kFloat64);
  CHECK(torch::allclose(o.probs.sum(1), torch::ones({5}, torch::kFloat64)));
  CHECK(torch::allclose(o.probs, torch::softmax(x.flatten(1).slice(1, 0, 3).to(torch::kFloat64), 1)));
  CHECK(net.classes() == 3);
  CHECK(net.feature_dim() == 16);

  using Catch::Matchers::Contains;
  gan::FeatureNetwork s1(single, torch::kCPU);
  CHECK_THROWS_WITH(s1.run(x), Contains("single.pt") && Contains("single tensor") && Contains("(logits, features)"));
  gan::FeatureNetwork s2(four_d, torch::kCPU);
  CHECK_THROWS_WITH(s2.run(x), Contains("fourd.pt") && Contains("features [5, 1, 4, 4]"));
  gan::FeatureNetwork s3(one_class, torch::kCPU);
  CHECK_THROWS_WITH(s3.run(x), Contains("K >= 2"));
  CHECK_THROWS_WITH(gan::FeatureNetwork((dir / "missing.pt").string(), torch::kCPU),
                    Contains("missing.pt") && Contains("no such file"));
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST_CASE("gan evaluate: precision/recall, density/coverage, and [eval.TYPE] parameters reach the metric",
          "[evaluate][metrics]") {
  require_runs();
  const fs::path copy = runs().dir / "run-adagan-prdc";
  fs::remove_all(copy);
  fs::copy(runs().b, copy, fs::copy_options::recursive);
  std::string toml = slurp(copy / "model.toml");
  const std::string metrics_line = "metrics = [\"is\", \"fid\", \"kid\"]";
  REQUIRE(toml.find(metrics_line) != std::string::npos);
  toml.replace(toml.find(metrics_line), metrics_line.size(), "metrics = [\"kid\", \"precision\", \"density\"]");
  toml += "\n[eval.kid]\nsubsets = 7\nsubset_size = 20\n\n[eval.density]\nk = 4\n";
  std::ofstream(copy / "model.toml") << toml;
  Result r = run_gan("-q evaluate " + quote(copy.string()) + " --n 150 --json", runs().dir);
  INFO(r.all());
  REQUIRE(r.code == 0);
  gan::Json j = gan::Json::parse(r.out);
  const gan::Json& m = j["metrics"];
  for (const char* k : {"precision", "recall", "density", "coverage"}) {
    INFO(k);
    REQUIRE(m.find(k));
    CHECK(m.find(k)->number() >= 0.0);
  }
  CHECK(m.find("precision")->number() <= 1.0);
  CHECK(m.find("coverage")->number() <= 1.0);
  CHECK(j["higher_is_better"]["precision"].boolean());
  // subset_size 20 < 150 samples: KID now has a spread (with the default 1000 it is null, above)
  REQUIRE(m.find("kid_std"));
  CHECK(m.find("kid_std")->is_number());
}

TEST_CASE("gan score: real against real reproduces the Python script's reference figures", "[evaluate][score]") {
  require_runs();
  const std::string model = quote(source_dir() + "/models/fmnist/baseline.toml");
  gan::Json ref = gan::Json::parse(slurp(source_dir() + "/models/fmnist/fmnist_classifier.json"))["real_data"];
  // IS of the whole test split, in order (the script's is_test_10000)
  Result r = run_gan("-q score " + model + " data:test --metrics is --json", runs().dir);
  INFO(r.all());
  REQUIRE(r.code == 0);
  gan::Json j = gan::Json::parse(r.out);
  CHECK(j["n"].integer() == 10000);
  CHECK(j["metrics"]["is"].number() == Approx(ref["is_test_10000"].items()[0].number()).margin(1e-4));
  CHECK(j["metrics"]["is_std"].number() == Approx(ref["is_test_10000"].items()[1].number()).margin(1e-4));
  // FID(train 5000, test 5000): the script's train images are torch.randperm(60000, seed 0)[:5000]
  r = run_gan("-q score " + model + " data:train@0 --n 5000 --against data:test --n-against 5000 --metrics fid "
              "--json", runs().dir);
  INFO(r.all());
  REQUIRE(r.code == 0);
  j = gan::Json::parse(r.out);
  CHECK(j["n_against"].integer() == 5000);
  CHECK(j["metrics"]["fid"].number() == Approx(ref["fid_train5000_test5000"].number()).margin(1e-4));
  CHECK(j["feature_net_sha256"].str().size() == 64);
}

TEST_CASE("gan score: a gan sample folder scores as the independent Python reference does", "[evaluate][score]") {
  require_runs();
  const std::string py = gan::test::venv_tool("python", "GAN_PYTHON");
  const fs::path dir = runs().dir / "samples-300";
  Result s = run_gan("-q sample " + quote(runs().b.string()) + " --n 300 --out " + quote(dir.string() + "/"), runs().dir);
  INFO(s.all());
  REQUIRE(s.code == 0);
  const std::string model = quote(source_dir() + "/models/fmnist/baseline.toml");
  Result g = run_gan("-q score " + model + " " + quote(dir.string()) + " --against data:test --n-against 300 "
                     "--metrics is,fid --json", runs().dir);
  INFO(g.all());
  REQUIRE(g.code == 0);
  gan::Json j = gan::Json::parse(g.out);
  CHECK(j["n"].integer() == 300);
  if (!fs::exists(py)) {
    WARN("no Python with torch at " << py << ": the reference half skipped");
    return;
  }
  Result p = sh(quote(py) + " " + quote(source_dir() + "/scripts/score_folder.py") + " " + quote(dir.string()) +
                    " --real 300",
                runs().dir);
  INFO(p.all());
  REQUIRE(p.code == 0);
  gan::Json ref = gan::Json::parse(p.out.substr(p.out.rfind('{')));
  std::printf("gan sample folder, 300 images vs 300 test images: gan score IS %.6f FID %.6f; Python reference IS %.6f "
              "FID %.6f\n", j["metrics"]["is"].number(), j["metrics"]["fid"].number(), ref["is"].number(),
              ref["fid"].number());
  CHECK(j["metrics"]["is"].number() == Approx(ref["is"].number()).epsilon(1e-6));
  CHECK(j["metrics"]["fid"].number() == Approx(ref["fid"].number()).epsilon(1e-5));

  // a PNG of another size is refused, naming it
  const fs::path odd = runs().dir / "odd";
  fs::create_directories(odd);
  fs::copy_file(source_dir() + "/docs/dev/../../models/fmnist/fmnist_classifier.json", odd / "x.txt",
                fs::copy_options::overwrite_existing);
  Result e = run_gan("-q score " + model + " " + quote(odd.string()) + " --metrics is", runs().dir);
  CHECK(e.code == 1);
  CHECK_THAT(e.err, Catch::Contains("holds no .png files"));
  Result bad = run_gan("-q score " + model + " data:test@x --metrics is", runs().dir);
  CHECK(bad.code == 1);
  CHECK_THAT(bad.err, Catch::Contains("the seed after @"));
}

TEST_CASE("provenance: run.json, checkpoints and evaluation records say what produced them", "[evaluate][provenance]") {
  require_runs();
  const fs::path& b = runs().b;
  gan::Json run = gan::Json::parse(slurp(b / "run.json"));
  REQUIRE(run.contains("provenance"));
  const gan::Json& p = run["provenance"];
  CHECK(p.find("gan_version")->str() == gan::kVersion);
  CHECK(p.find("libtorch")->str() == gan::kTorchVersion);
  CHECK(p.find("device")->str() == "cpu");
  const std::string commit = p.find("gan_commit")->str();
  CHECK_FALSE(commit.empty());
  bool saw_metrics = false;
  for (const auto& e : p.find("plugins")->items()) {
    INFO(e.dump());
    const std::string file = e.find("library")->str();
    // the recorded hash is the library file's
    CHECK(e.find("sha256")->str() == gan::sha256_hex(slurp(file)));
    saw_metrics = saw_metrics || e.find("name")->str() == "metrics";
  }
  CHECK(saw_metrics);
  gan::Json ck = gan::Json::parse(slurp(b / "checkpoints" / "latest.json"));
  CHECK(ck["provenance"]["gan_commit"].str() == commit);
  Result r = run_gan("-q evaluate " + quote(b.string()) + " --n 100 --json", runs().dir);
  REQUIRE(r.code == 0);
  gan::Json j = gan::Json::parse(r.out);
  CHECK(j["provenance"]["gan_commit"].str() == commit);
  CHECK(j["provenance"]["plugins"].size() == p.find("plugins")->size());
}
