// Resume equality: on CPU, a run trained 3 iterations and resumed to 6 ends with exactly the
// weights, buffers and optimiser state of a run trained 6 iterations in one go. The model has
// batchnorm (running statistics), spectral_norm (power-iteration buffers u/v), Adam on both nets,
// an EMA generator, and a data set of 4 batches so that the data order crosses an epoch boundary.
#include "test_common.hpp"  // LibTorch, then Catch (first: see the file)

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core_util.hpp"
#include "state_util.hpp"
#include "gan/fs_util.hpp"
#include "gan/trainer.hpp"

namespace fs = std::filesystem;
using gan::test::replaced;
using gan::test::TempDir;

namespace {

std::string resume_model(const std::string& loss, const std::string& extra_train = "") {
  std::string t = gan::test::tiny_model_toml();
  if (!extra_train.empty()) t = replaced(t, "batch_size = 16", "batch_size = 16\n" + extra_train);
  t = replaced(t, "type = \"minimax\"", "type = \"" + loss + "\"");
  t = replaced(t, "limit = 256", "limit = 64");  // 4 batches of 16 per epoch
  t = replaced(t, "checkpoint_every = 2", "checkpoint_every = 1\nema = 0.9");
  // non-round hyper-parameters: the run's model.toml must keep every digit (issue 11, item 5:
  // written with 6 significant digits, lr_g became 0.000123457 and the resumed run diverged)
  t = replaced(t, "batch_size = 16", "batch_size = 16\nlr_g = 0.00012345678\nlr_d = 0.00023456789012345\n"
                                     "beta2 = 0.98765432109876\nema = 0.912345678901");
  t = replaced(t, "ema = 0.9\n", "");
  t = replaced(t, "negative_slope = 0.1", "negative_slope = 0.1234567890123");
  return t;
}

using gan::test::module_state;  // tests/state_util.hpp

torch::Tensor read_tensor(const std::string& ckpt, const std::string& key) {
  torch::serialize::InputArchive ar;
  ar.load_from(ckpt, torch::kCPU);
  torch::Tensor t;
  ar.read(key, t);
  return t;
}

void compare_modules(const std::string& a, const std::string& b, const std::string& key, const gan::NetworkReport& rep) {
  auto sa = module_state(a, key, rep), sb = module_state(b, key, rep);
  REQUIRE(sa.size() == sb.size());
  for (const auto& [name, ta] : sa) {
    INFO(key << " " << name);
    REQUIRE(sb.count(name));
    const torch::Tensor& tb = sb.at(name);
    CHECK(ta.sizes() == tb.sizes());
    bool equal = torch::equal(ta, tb);
    if (!equal) WARN("max |diff| = " << (ta - tb).abs().max().item<double>());
    CHECK(equal);
  }
}

// Training moved every parameter tensor of a module_state() and left it finite.
void expect_every_weight_moved(const std::map<std::string, torch::Tensor>& before,
                               const std::map<std::string, torch::Tensor>& after) {
  for (const auto& [key, t] : before) {
    if (key.rfind("param ", 0) != 0) continue;
    INFO(key);
    CHECK(torch::isfinite(after.at(key)).all().item<bool>());
    CHECK_FALSE(torch::equal(t, after.at(key)));
  }
}

}  // namespace

void check_resume(const std::string& loss, const std::string& extra_train = "") {
  gan::test::plugins();
  TempDir tmp;
  std::string model = tmp.write("tiny.toml", resume_model(loss, extra_train));

  gan::TrainOptions opt;
  opt.device = "cpu";
  opt.progress = false;

  opt.run_dir = tmp / "straight";
  opt.iterations = 6;
  REQUIRE(gan::train_new(model, opt) == gan::TrainStatus::Finished);

  opt.run_dir = tmp / "split";
  opt.iterations = 3;
  REQUIRE(gan::train_new(model, opt) == gan::TrainStatus::Finished);
  CHECK(gan::checkpoint_meta(opt.run_dir)["iteration"].integer() == 3);
  opt.iterations = 6;
  REQUIRE(gan::train_resume(opt) == gan::TrainStatus::Finished);

  // the numbers reached the run folder exactly
  const std::string kept = gan::read_file(tmp / "split/model.toml");
  CHECK_THAT(kept, Catch::Matchers::Contains("lr_g = 0.00012345678\n"));
  CHECK_THAT(kept, Catch::Matchers::Contains("lr_d = 0.00023456789012345\n"));
  CHECK_THAT(kept, Catch::Matchers::Contains("negative_slope = 0.1234567890123\n"));
  std::string a = tmp / "straight/checkpoints/latest.pt", b = tmp / "split/checkpoints/latest.pt";
  CHECK(gan::checkpoint_meta(tmp / "split")["iteration"].integer() == 6);
  gan::Run run = gan::open_run(tmp / "straight");

  // the state that must survive a resume is all in the checkpoint: spectral-norm u/v and
  // batchnorm running statistics are among the compared tensors
  auto d_state = module_state(a, "D", run.report.discriminator);
  auto g_state = module_state(a, "G", run.report.generator);
  CHECK(d_state.count("buffer c1.u"));
  CHECK(d_state.count("buffer fc.v"));
  CHECK(g_state.count("buffer bn1.running_mean"));
  CHECK(g_state.count("buffer bn1.running_var"));

  compare_modules(a, b, "G", run.report.generator);
  compare_modules(a, b, "D", run.report.discriminator);
  compare_modules(a, b, "G_ema", run.report.generator);
  CHECK(torch::equal(read_tensor(a, "data_state"), read_tensor(b, "data_state")));
  CHECK(torch::equal(read_tensor(a, "noise_rng"), read_tensor(b, "noise_rng")));
  CHECK(torch::equal(read_tensor(a, "fixed_noise"), read_tensor(b, "fixed_noise")));
  CHECK(read_tensor(b, "data_state")[1].item<int64_t>() == 1);  // the data order crossed into epoch 1

  // the logged losses of iterations 4..6 agree as well
  auto la = gan::read_log(tmp / "straight"), lb = gan::read_log(tmp / "split");
  REQUIRE(la.size() == 6);
  REQUIRE(lb.size() == 6);
  for (size_t i = 0; i < 6; ++i) {
    INFO("iteration " << i + 1);
    CHECK(la[i]["iteration"].integer() == lb[i]["iteration"].integer());
    CHECK(la[i]["d_loss"].number() == lb[i]["d_loss"].number());
    CHECK(la[i]["g_loss"].number() == lb[i]["g_loss"].number());
  }

  // load_generator gives the same generator from both runs
  gan::LoadedGenerator ga = gan::load_generator(tmp / "straight", "cpu");
  gan::LoadedGenerator gb = gan::load_generator(tmp / "split", "cpu");
  CHECK(ga.iteration == 6);
  CHECK(ga.ema);
  torch::NoGradGuard ng;
  auto z = torch::randn({4, ga.latent_dim});
  CHECK(torch::equal(ga.G->forward(z), gb.G->forward(z)));
}

TEST_CASE("resume: 3 + resume to 6 equals 6 in one go, bitwise on CPU", "[resume][train]") {
  check_resume("minimax");
}

// wgan_gp draws its interpolation weights from LibTorch's global generator, so the checkpoint
// must carry that generator's state too.
TEST_CASE("resume: bitwise on CPU with amp = bf16 as well", "[resume][train][amp]") {
  check_resume("hinge", "amp = \"bf16\"");
}

TEST_CASE("train: amp = bf16 runs the step in bf16 and keeps float32 weights", "[train][amp]") {
  gan::test::plugins();
  TempDir tmp;
  gan::TrainOptions opt;
  opt.device = "cpu";
  opt.progress = false;
  opt.iterations = 3;
  opt.run_dir = tmp / "fp32";
  REQUIRE(gan::train_new(tmp.write("fp32.toml", resume_model("hinge")), opt) == gan::TrainStatus::Finished);
  opt.run_dir = tmp / "bf16";
  REQUIRE(gan::train_new(tmp.write("bf16.toml", resume_model("hinge", "amp = \"bf16\"")), opt) ==
          gan::TrainStatus::Finished);
  gan::Run run = gan::open_run(tmp / "bf16");
  const std::string a = tmp / "fp32/checkpoints/latest.pt", b = tmp / "bf16/checkpoints/latest.pt";
  for (const char* key : {"G", "D"}) {
    const auto& rep = std::string(key) == "G" ? run.report.generator : run.report.discriminator;
    auto fp32 = module_state(a, key, rep), bf16 = module_state(b, key, rep);
    bool any_differs = false;
    double max_diff = 0;
    for (const auto& [name, t] : bf16) {
      INFO(key << " " << name);
      CHECK(t.scalar_type() == fp32.at(name).scalar_type());  // master weights and buffers keep their dtype
      CHECK(torch::isfinite(t).all().item<bool>());
      if (name.rfind("param ", 0) == 0 && t.is_floating_point()) {
        CHECK(t.scalar_type() == torch::kFloat);
        any_differs = any_differs || !torch::equal(t, fp32.at(name));
        max_diff = std::max(max_diff, (t - fp32.at(name)).abs().max().item<double>());
      }
    }
    // the same seed and data: only bf16 arithmetic separates the two runs, by little
    CHECK(any_differs);
    CHECK(max_diff < 0.05);
  }
  auto la = gan::read_log(tmp / "bf16");
  REQUIRE(la.size() == 3);
  for (auto& rec : la) CHECK(std::isfinite(rec["d_loss"].number()));
}

TEST_CASE("resume: bitwise equal with a loss that draws random numbers (wgan_gp)", "[resume][train]") {
  check_resume("wgan_gp");
}

// Issue 4: a few training steps of the shipped Fashion-MNIST baseline and AdaGAN-3x3 (their real
// layer stacks, the paper's init and optimiser) on a small slice of data: losses stay finite and
// every weight tensor of both networks moves.
TEST_CASE("train: shipped fmnist baseline and adagan-3x3 train without NaN and change every weight", "[train]") {
  gan::test::plugins();
  for (const char* name : {"baseline", "adagan-3x3"}) {
    INFO(name);
    TempDir tmp;
    std::string model = tmp.write(std::string(name) + ".toml",
                                  "extends = \"" + gan::test::source_dir() + "/models/fmnist/" + name + ".toml\"\n"
                                  "[data]\nlimit = 64\n"
                                  "[train]\nbatch_size = 8\nlog_every = 1\nsample_every = 0\ncheckpoint_every = 1\n");
    gan::TrainOptions opt;
    opt.device = "cpu";
    opt.progress = false;
    opt.run_dir = tmp / "run";
    opt.iterations = 1;
    REQUIRE(gan::train_new(model, opt) == gan::TrainStatus::Finished);
    std::string ckpt = tmp / "run/checkpoints/latest.pt";
    gan::Run run = gan::open_run(tmp / "run");
    auto g1 = module_state(ckpt, "G", run.report.generator);
    auto d1 = module_state(ckpt, "D", run.report.discriminator);
    opt.iterations = 3;
    REQUIRE(gan::train_resume(opt) == gan::TrainStatus::Finished);
    auto g3 = module_state(ckpt, "G", run.report.generator);
    auto d3 = module_state(ckpt, "D", run.report.discriminator);
    expect_every_weight_moved(g1, g3);
    expect_every_weight_moved(d1, d3);
    for (auto rec : gan::read_log(tmp / "run")) {
      CHECK(std::isfinite(rec["d_loss"].number()));
      CHECK(std::isfinite(rec["g_loss"].number()));
    }
  }
}

// Issue 12: the Fashion-MNIST ResNet and AdaGAN-ResNet (graphs of block instances: skip
// connections, disabled shortcuts, avg_pool, global_sum_pool) train with finite losses, move every
// weight, and resume bitwise under a linear learning-rate decay with warm-up, per-network betas
// and an EMA that starts late.
TEST_CASE("train: fmnist resnet and adagan-resnet change every weight and resume bitwise", "[train][graph]") {
  gan::test::plugins();
  for (const char* name : {"resnet", "adagan-resnet"}) {
    INFO(name);
    TempDir tmp;
    std::string model = tmp.write(std::string(name) + ".toml",
                                  "extends = \"" + gan::test::source_dir() + "/models/fmnist/" + name + ".toml\"\n"
                                  "[data]\nlimit = 48\n"
                                  "[train]\niterations = 4\nbatch_size = 8\nlog_every = 1\nsample_every = 0\n"
                                  "checkpoint_every = 1\nwarmup = 2\nema = 0.9\nema_start = 3\n"
                                  "betas_d = [0.5, 0.99]\ndevice = \"cpu\"\n");
    gan::TrainOptions opt;
    opt.device = "cpu";
    opt.progress = false;
    opt.run_dir = tmp / "straight";
    opt.iterations = 4;
    REQUIRE(gan::train_new(model, opt) == gan::TrainStatus::Finished);
    opt.run_dir = tmp / "split";
    opt.iterations = 2;
    REQUIRE(gan::train_new(model, opt) == gan::TrainStatus::Finished);
    gan::Run run = gan::open_run(tmp / "split");
    std::string ckpt = tmp / "split/checkpoints/latest.pt";
    auto g2 = module_state(ckpt, "G", run.report.generator);
    auto d2 = module_state(ckpt, "D", run.report.discriminator);
    auto e2 = module_state(ckpt, "G_ema", run.report.generator);
    CHECK(g2.count("param block1.conv1.weight"));        // a block instance's layers are namespaced
    CHECK(d2.count("buffer block2.sc.u"));              // spectral norm inside an instance
    CHECK_FALSE(d2.count("param block3.sc.weight"));   // learn_sc = false: no shortcut conv
    for (const auto& [key, t] : g2) CHECK(torch::equal(t, e2.at(key)));  // before ema_start: a copy
    opt.iterations = 4;
    REQUIRE(gan::train_resume(opt) == gan::TrainStatus::Finished);
    std::string a = tmp / "straight/checkpoints/latest.pt";
    compare_modules(a, ckpt, "G", run.report.generator);
    compare_modules(a, ckpt, "D", run.report.discriminator);
    compare_modules(a, ckpt, "G_ema", run.report.generator);
    auto g4 = module_state(ckpt, "G", run.report.generator);
    auto d4 = module_state(ckpt, "D", run.report.discriminator);
    expect_every_weight_moved(g2, g4);
    expect_every_weight_moved(d2, d4);
    // the schedule: warm-up over 2 iterations, then linear decay to zero at iteration 4
    auto log = gan::read_log(tmp / "split");
    REQUIRE(log.size() == 4);
    const double lr = 2e-4;
    const double expect[4] = {lr * 0.5 * 1.0, lr * 1.0 * 0.75, lr * 0.5, lr * 0.25};
    for (size_t i = 0; i < 4; ++i) {
      INFO("iteration " << i + 1);
      CHECK(std::isfinite(log[i]["d_loss"].number()));
      CHECK(std::isfinite(log[i]["g_loss"].number()));
      CHECK(log[i]["lr_g"].number() == Approx(expect[i]).epsilon(1e-12));
      CHECK(log[i]["lr_d"].number() == Approx(expect[i]).epsilon(1e-12));
    }
    auto la = gan::read_log(tmp / "straight");
    REQUIRE(la.size() == 4);
    for (size_t i = 0; i < 4; ++i) CHECK(la[i]["g_loss"].number() == log[i]["g_loss"].number());
  }
}
