// Wrong results (issue 11, item 8), through the real `gan` binary:
//   - a loss that differentiates D twice (wgan_gp's gradient penalty) with a D layer whose
//     backward is not differentiable (adaconv's fused/auto kernels) is refused at `gan check`
//     time, naming the layer's file:line, the loss and its line, and the fix;
//   - the right combinations pass: adaconv's reference path, lambda = 0, a loss without a
//     penalty, adaconv in G (the penalty differentiates D only), and train;
//   - wrap = { type = "spectral_norm" } on an adaconv layer checks and trains (its bias-branch,
//     depthwise and 1x1 regression weights are normalised, plugins/specnorm/README.md).
#include <catch2/catch.hpp>

#include <string>

#include "bad_input_util.hpp"

using Catch::Matchers::Contains;
using gan::test::at_line;
using gan::test::expect_all;
using gan::test::expect_clean_failure;
using gan::test::line_of;
using gan::test::replaced;
using gan::test::Result;
using gan::test::run_gan;
using gan::test::TempDir;
using gan::test::tiny_model_toml;

namespace {

// The tiny model with an adaconv layer (8 -> 8 channels at 16x16) after D's first activation,
// `extra` lines inside it, and `loss` as the [loss] section body.
std::string with_adaconv_in_d(const std::string& extra, const std::string& loss) {
  std::string m = replaced(tiny_model_toml(), "name = \"a1\"\ntype = \"leaky_relu\"\nnegative_slope = 0.1\n",
                           "name = \"a1\"\ntype = \"leaky_relu\"\nnegative_slope = 0.1\n"
                           "[[discriminator.layers]]\nname = \"ada\"\ntype = \"adaconv\"\nout_channels = 8\n" +
                               extra);
  return replaced(m, "[loss]\ntype = \"minimax\"\n", "[loss]\n" + loss);
}

// The tiny model with G's conv2 (8 -> 4 at 32x32) an adaconv layer.
std::string with_adaconv_in_g(const std::string& extra, const std::string& loss) {
  std::string m = replaced(tiny_model_toml(), "name = \"conv2\"\ntype = \"conv2d\"\nout_channels = 4\nkernel_size = 3\n",
                           "name = \"conv2\"\ntype = \"adaconv\"\nout_channels = 4\nkernel_size = 3\n" + extra);
  return replaced(m, "[loss]\ntype = \"minimax\"\n", "[loss]\n" + loss);
}

const std::string kWganGp = "type = \"wgan_gp\"\nlambda = 10\n";

void expect_checks(const std::string& model) {
  Result r = run_gan({"check", model});
  INFO(r.all());
  CHECK(r.code == 0);
}

void expect_trains(const TempDir& tmp, const std::string& model) {
  Result r = run_gan({"-q", "train", model, "--out", tmp / "run", "--iters", "2", "--device", "cpu"});
  INFO(r.all());
  CHECK(r.code == 0);
}

}  // namespace

TEST_CASE("bad input: results: a gradient penalty through adaconv's fused kernels is refused by gan check",
          "[bad_input][results]") {
  TempDir tmp;
  for (const char* impl : {"", "impl = \"auto\"\n", "impl = \"fused\"\n"}) {
    INFO("impl line: " << impl);
    const std::string text = with_adaconv_in_d(impl, kWganGp);
    const std::string model = tmp.write("gp.toml", text);
    for (const char* cmd : {"check", "train"}) {
      INFO(cmd);
      Result r = cmd == std::string("check")
                     ? run_gan({"check", model})
                     : run_gan({"train", model, "--out", tmp / "run", "--iters", "2", "--device", "cpu"});
      expect_clean_failure(r);
      // the layer's line (its [[discriminator.layers]] header), the loss and its line, why, and
      // both fixes
      expect_all(r.err, {at_line(model, text, "[[discriminator.layers]]\nname = \"ada\"") + " layer 'ada' (adaconv) of the discriminator",
                         "no second derivative", "[loss] wgan_gp (" + model + ":" +
                             std::to_string(line_of(text, "type = \"wgan_gp\"")) + ")",
                         "gradient penalty, lambda = 10", "impl = \"reference\"",
                         "a loss without a gradient penalty"});
      if (*impl) CHECK_THAT(r.err, Contains(model + ":" + std::to_string(line_of(text, impl))));
      else CHECK_THAT(r.err, Contains("impl = \"auto\" (the default)"));
      CHECK_FALSE(std::filesystem::exists(tmp / "run"));
    }
  }
}

TEST_CASE("bad input: results: the twice-differentiable combinations check and train", "[bad_input][results]") {
  SECTION("wgan_gp with adaconv's reference path in D") {
    TempDir tmp;
    const std::string model = tmp.write("ref.toml", with_adaconv_in_d("impl = \"reference\"\n", kWganGp));
    expect_checks(model);
    expect_trains(tmp, model);
  }
  SECTION("wgan_gp with lambda = 0 (no penalty)") {
    TempDir tmp;
    expect_checks(tmp.write("l0.toml", with_adaconv_in_d("", "type = \"wgan_gp\"\nlambda = 0\n")));
  }
  SECTION("hinge and minimax (no penalty) with the fused kernels in D") {
    TempDir tmp;
    expect_checks(tmp.write("hinge.toml", with_adaconv_in_d("impl = \"fused\"\n", "type = \"hinge\"\n")));
    expect_checks(tmp.write("minimax.toml", with_adaconv_in_d("", "type = \"minimax\"\n")));
  }
  SECTION("wgan_gp with the fused kernels in G: the penalty differentiates D only") {
    TempDir tmp;
    const std::string model = tmp.write("g.toml", with_adaconv_in_g("impl = \"fused\"\n", kWganGp));
    expect_checks(model);
    expect_trains(tmp, model);
  }
}

TEST_CASE("bad input: results: spectral_norm on an adaconv layer checks and trains", "[bad_input][results]") {
  TempDir tmp;
  // explicitly on a G layer, and by D's network-wide wrap on the D layer
  std::string text = with_adaconv_in_g("wrap = { type = \"spectral_norm\" }\n", "type = \"hinge\"\n");
  text = replaced(text, "name = \"a1\"\ntype = \"leaky_relu\"\nnegative_slope = 0.1\n",
                  "name = \"a1\"\ntype = \"leaky_relu\"\nnegative_slope = 0.1\n"
                  "[[discriminator.layers]]\nname = \"ada\"\ntype = \"adaconv\"\nout_channels = 8\n");
  const std::string model = tmp.write("sn.toml", text);
  Result r = run_gan({"check", "--json", model});
  INFO(r.all());
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("spectral_norm"));
  expect_trains(tmp, model);
  // The wrapped layers' buffers are in the checkpoint: one u, v pair per normalised weight.
  Result s = run_gan({"sample", tmp / "run", "--n", "4", "--out", tmp / "s.png", "--device", "cpu"});
  INFO(s.all());
  CHECK(s.code == 0);
}
