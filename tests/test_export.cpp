// gan export: the TorchScript file reproduces gan's generator — in C++ (torch::jit::load), for
// every shipped model's generator (in-process, random weights), and from plain Python (the setup
// venv's torch, scripts/check_export.py) against `gan sample`'s .npz for the same latents.
#include "test_common.hpp"  // LibTorch, then Catch (first: see the file)

#include <torch/script.h>

#include <filesystem>

#include "cli_util.hpp"
#include "core_util.hpp"
#include "gan/export.hpp"
#include "gan/json.hpp"
#include "gan/model.hpp"
#include "gan/network.hpp"
#include "gan/trainer.hpp"

namespace fs = std::filesystem;
using gan::test::Proc;
using gan::test::replaced;
using gan::test::Result;
using gan::test::run_gan;
using gan::test::TempDir;

namespace {

// The tiny test model with an AdaConv layer under a name that is no Python identifier, and an EMA
// generator: the export must keep both.
std::string export_model(bool ema) {
  std::string t = gan::test::tiny_model_toml();
  t = replaced(t, "name = \"conv2\"\ntype = \"conv2d\"\nout_channels = 4\nkernel_size = 3",
               "name = \"ada-2\"\ntype = \"adaconv\"\nout_channels = 4\nkernel_size = 3\nadaptive_kernel_size = 3");
  if (ema) t = replaced(t, "seed = 3", "seed = 3\nema = 0.5");
  return t;
}

std::string trained_run(const TempDir& tmp, bool ema) {
  const std::string name = ema ? "run-ema" : "run-raw";
  const std::string model = tmp.write(name + ".toml", export_model(ema));
  Result r = run_gan({"-q", "train", model, "--out", tmp / name});
  INFO(r.all());
  REQUIRE(r.code == 0);
  return tmp / name;
}

}  // namespace

TEST_CASE("every shipped generator traces to TorchScript that reproduces it", "[export]") {
  gan::test::plugins();
  for (const auto& path : gan::test::shipped_models()) {
    // Every Fashion-MNIST model (every layer type gan ships: adaconv 3x3/5x5, ResNet blocks with
    // add, conv_transpose2d, batchnorm, upsample, reshape) and each larger family's baseline and
    // ResNet; their AdaGAN variants are the same layers at CIFAR/STL width, whose reference-path
    // trace takes a minute on 2 cores (`gan export` checks each export it writes anyway).
    const bool big = path.find("/models/fmnist/") == std::string::npos;
    if (big && path.find("baseline.toml") == std::string::npos && path.find("sngan-resnet.toml") == std::string::npos)
      continue;
    INFO(path);
    const gan::ModelSpec spec = gan::load_model(path);
    const int64_t latent = spec.generator.latent_dim;
    gan::ModelReport rep = gan::check_model(spec, gan::test::plugins());
    gan::Network G(rep.generator, gan::Registry::global());
    torch::manual_seed(1);
    gan::init_network(*G, "paper", 0.02, 1);
    gan::ExportOptions opt;
    opt.trace_batch = 1;
    opt.check_batch = 2;
    gan::ExportResult r;
    const std::string bytes = gan::generator_torchscript(*G, latent, gan::Json::object(), opt,
                                                         path, r);
    CHECK(r.max_abs_diff < 1e-5);
    CHECK(r.parameters == rep.generator.params_count);
    // loaded again: a batch size neither traced nor checked, against gan's generator
    std::istringstream in(bytes);
    torch::jit::Module m = torch::jit::load(in);
    torch::NoGradGuard ng;
    torch::Tensor z = torch::randn({3, latent});
    torch::Tensor want = G->forward(z), got = m.forward({z}).toTensor();
    CHECK(got.sizes() == want.sizes());
    CHECK((got - want).abs().max().item<double>() < 1e-5);
    CHECK(m.attr("latent_dim").toInt() == latent);
    // the module's tensors are its own (parameters, not constants): state_dict keys are gan's
    size_t n_params = 0;
    for (const auto& p : m.named_parameters()) {
      (void)p;
      ++n_params;
    }
    CHECK(n_params == G->named_parameters().size());
  }
}

TEST_CASE("gan export: a run's generator, loaded from C++ and from plain Python", "[export]") {
  TempDir tmp("gan-export");
  const std::string run = trained_run(tmp, /*ema=*/true);
  const std::string out = tmp / "G.pt";
  Result e = run_gan({"-q", "export", run, "--out", out, "--json"});
  INFO(e.all());
  REQUIRE(e.code == 0);
  gan::Json j = gan::Json::parse(e.out);
  CHECK(j["generator"].str() == "ema");
  CHECK(j["latent_dim"].integer() == 16);
  CHECK(j["max_abs_diff"].number() < 1e-5);
  CHECK(j["provenance"].contains("gan_commit"));

  // the same latents through gan sample (fused AdaConv kernels) and the exported module
  const std::string npz = tmp / "s.npz";
  Result s = run_gan({"-q", "sample", run, "--n", "7", "--seed", "11", "--out", npz});
  INFO(s.all());
  REQUIRE(s.code == 0);
  {
    torch::jit::Module m = torch::jit::load(out);
    gan::LoadedGenerator lg = gan::load_generator(run, "cpu");
    REQUIRE(lg.ema);
    torch::NoGradGuard ng;
    torch::Tensor z = torch::randn({7, 16});
    const double d = (m.forward({z}).toTensor() - lg.G->forward(z)).abs().max().item<double>();
    std::printf("gan export (C++ torch::jit::load): max |difference| to gan's EMA generator %.3g\n", d);
    CHECK(d < 1e-5);
    auto range = m.attr("output_range").toTuple();
    CHECK(range->elements().at(0).toDouble() == -1.0);
    CHECK(range->elements().at(1).toDouble() == 1.0);
  }
  const std::string py = gan::test::venv_tool("python", "GAN_PYTHON");
  if (fs::exists(py)) {
    Proc p({gan::test::source_dir() + "/scripts/check_export.py", out, npz}, {"PYTHONPATH="}, py);
    Result r = p.wait();
    INFO(r.all());
    REQUIRE(r.code == 0);
    gan::Json pj = gan::Json::parse(r.out.substr(r.out.rfind('{')));
    std::printf("gan export (Python torch %s, no gan): max |difference| to gan sample's images %.3g, one image at a "
                "time vs the batch %.3g\n",
                pj["torch"].str().c_str(), pj["max_abs_diff"].number(), pj["single_vs_batch"].number());
    CHECK(pj["max_abs_diff"].number() < 1e-5);
    CHECK(pj["single_vs_batch"].number() < 1e-5);
    CHECK(pj["latent_dim"].integer() == 16);
    CHECK(pj["image_shape"].items().size() == 3);
    bool saw_ada = false;
    for (const auto& k : pj["state_dict_keys"].items()) saw_ada = saw_ada || k.str().rfind("ada-2.", 0) == 0;
    CHECK(saw_ada);
  } else {
    WARN("no Python with torch at " << py << ": the Python half skipped");
  }

  // --which raw: the trained weights, which differ from the average
  const std::string raw = tmp / "G-raw.pt";
  Result w = run_gan({"-q", "export", run, "--which", "raw", "--out", raw, "--json"});
  INFO(w.all());
  REQUIRE(w.code == 0);
  CHECK(gan::Json::parse(w.out)["generator"].str() == "raw");
  {
    torch::NoGradGuard ng;
    torch::Tensor z = torch::randn({4, 16});
    torch::jit::Module a = torch::jit::load(out), b = torch::jit::load(raw);
    CHECK((a.forward({z}).toTensor() - b.forward({z}).toTensor()).abs().max().item<double>() > 1e-4);
  }
  // gan sample takes the same --which: the trained weights draw other images than the average
  Result se = run_gan({"-q", "sample", run, "--n", "4", "--out", tmp / "ema.npz"});
  Result sr = run_gan({"-q", "sample", run, "--n", "4", "--which", "raw", "--which", "latest", "--out", tmp / "raw.npz"});
  INFO(se.all() + sr.all());
  REQUIRE(se.code == 0);
  REQUIRE(sr.code == 0);
  CHECK(gan::test::slurp(tmp / "ema.npz") != gan::test::slurp(tmp / "raw.npz"));  // float32 images: 8-bit PNGs of a 4-iteration model can agree
  // an earlier export is replaced; any other file is left alone
  Result again = run_gan({"-q", "export", run, "--out", out});
  CHECK(again.code == 0);
  const std::string other = tmp.write("notes.pt", "my notes");
  Result refused = run_gan({"-q", "export", run, "--out", other});
  CHECK(refused.code == 1);
  CHECK_THAT(refused.err, Catch::Contains("is not a generator gan exported"));
  CHECK(gan::test::slurp(other) == "my notes");
  // a zip that is no export (gan sample's .npz) is not replaced either
  const std::string npz_before = gan::test::slurp(npz);
  Result zip = run_gan({"-q", "export", run, "--out", npz});
  CHECK(zip.code == 1);
  CHECK(gan::test::slurp(npz) == npz_before);
  // options before the run folder: each --which takes one value
  Result first = run_gan({"-q", "export", "--which", "raw", "--which", "latest", run, "--out", raw});
  INFO(first.all());
  CHECK(first.code == 0);
  Result twice = run_gan({"-q", "export", run, "--which", "ema", "--which", "raw", "--out", raw});
  CHECK(twice.code == 1);
  CHECK_THAT(twice.err, Catch::Contains("at most one of"));
}

TEST_CASE("gan export --which ema on a run without an average is refused with the fix", "[export]") {
  TempDir tmp("gan-export-raw");
  const std::string run = trained_run(tmp, /*ema=*/false);
  Result e = run_gan({"-q", "export", run, "--which", "ema", "--out", tmp / "G.pt"});
  INFO(e.all());
  CHECK(e.code == 1);
  CHECK_THAT(e.err, Catch::Contains("keeps no EMA generator"));
  CHECK_FALSE(fs::exists(tmp / "G.pt"));
  Result ok = run_gan({"-q", "export", run, "--out", tmp / "G.pt", "--json"});
  INFO(ok.all());
  CHECK(ok.code == 0);
  CHECK(gan::Json::parse(ok.out)["generator"].str() == "raw");
  Result missing = run_gan({"-q", "export", run, "--out", tmp / "no/such/G.pt"});
  CHECK(missing.code == 1);
  CHECK_THAT(missing.err, Catch::Contains("does not exist"));
}
