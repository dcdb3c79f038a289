// The model language: parsing, extends/override/unset, every located error, shape inference and
// parameter counts of the shipped models, and infer() vs the modules the plugins create.
#include "test_common.hpp"  // LibTorch, then Catch (first: see the file)

#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include "core_util.hpp"
#include "gan/model.hpp"
#include "gan/network.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using gan::test::shipped_models;
using gan::test::line_of;
using gan::test::replaced;
using gan::test::TempDir;
using gan::test::check_file;
using gan::test::layer;
using gan::test::loc;
using gan::test::model_error;
using gan::test::tiny_model_toml;

namespace {

// K_a^2*C_in + C_in + C_in*(K_f^2*C_in*C_out) + K_f^2*C_in*C_out + K_a^2*C_in*C_out + C_out
int64_t adaconv_params(int64_t cin, int64_t cout, int64_t kf, int64_t ka) {
  return ka * ka * cin + cin + cin * (kf * kf * cin * cout) + kf * kf * cin * cout + ka * ka * cin * cout + cout;
}

}  // namespace

TEST_CASE("model: the tiny model parses, checks and infers its shapes", "[model]") {
  TempDir tmp;
  std::string path = tmp.write("tiny.toml", tiny_model_toml());
  gan::ModelSpec spec = gan::load_model(path);
  CHECK(spec.name() == "tiny");
  CHECK(spec.files == std::vector<std::string>{path});
  CHECK(spec.generator.latent_dim == 16);
  REQUIRE(spec.generator.layers.size() == 11);
  CHECK(spec.generator.layers[3].name == "conv1");
  CHECK(spec.generator.layers[3].where.line == line_of(tiny_model_toml(), "name = \"conv1\"") - 1);
  gan::ModelReport rep = gan::check_model(spec, gan::test::plugins());
  CHECK(rep.image == gan::Shape{1, 32, 32});
  CHECK(rep.data_type == "idx");
  CHECK(rep.loss_type == "minimax");
  CHECK(rep.generator.input == gan::Shape{16});
  CHECK(rep.generator.output == gan::Shape{1, 32, 32});
  CHECK(layer(rep.generator, "reshape").output == gan::Shape{8, 4, 4});
  CHECK(layer(rep.generator, "up2").output == gan::Shape{8, 32, 32});
  CHECK(layer(rep.generator, "fc").params_count == 16 * 128 + 128);
  CHECK(layer(rep.generator, "conv1").params_count == 8 * 8 * 9 + 8);
  CHECK(layer(rep.generator, "bn1").params_count == 16);
  CHECK(rep.generator.params_count == 2176 + 584 + 16 + 292 + 37);
  CHECK(layer(rep.discriminator, "c1").output == gan::Shape{8, 16, 16});
  CHECK(layer(rep.discriminator, "c2").output == gan::Shape{8, 4, 4});
  CHECK(layer(rep.discriminator, "c1").wrap->type == "spectral_norm");
  CHECK_FALSE(layer(rep.discriminator, "a1").wrap);  // no weight: not wrapped
  CHECK(rep.discriminator.output == gan::Shape{1});
  CHECK(rep.discriminator.params_count == (8 * 16 + 8) + (8 * 8 * 16 + 8) + (128 + 1));
  CHECK(rep.train.integer("batch_size") == 16);
  CHECK(rep.train.real("lr_g") == Approx(2e-4));  // a default
  CHECK(rep.data.integer("limit") == 256);
  CHECK(rep.metrics == std::vector<std::string>{"is"});
}

TEST_CASE("model: extends merges sections and overrides layers by name", "[model][extends]") {
  TempDir tmp;
  std::string base = tmp.write("base/tiny.toml", tiny_model_toml());
  std::string child_text = R"(extends = "base/tiny.toml"

[model]
name = "child"

[train]
iterations = 9

[generator.override.conv1]
out_channels = 6

[generator.override.conv2]
type = "adaconv"
adaptive_kernel_size = 1

[discriminator.override.c1]
wrap = "none"
)";
  std::string child = tmp.write("child.toml", child_text);
  gan::ModelSpec spec = gan::load_model(child);
  REQUIRE(spec.files.size() == 2);
  CHECK(spec.files[0] == child);
  CHECK(fs::equivalent(spec.files[1], base));
  CHECK(spec.name() == "child");
  gan::ModelReport rep = gan::check_model(spec, gan::test::plugins());
  CHECK(rep.train.integer("iterations") == 9);
  CHECK(rep.train.integer("batch_size") == 16);  // inherited
  const auto& conv1 = layer(rep.generator, "conv1");
  CHECK(conv1.output == gan::Shape{6, 8, 8});
  CHECK(conv1.params_count == 6 * 8 * 9 + 6);
  CHECK(conv1.where.file == child);  // the override is where the layer was last changed
  CHECK(conv1.where.line == line_of(child_text, "[generator.override.conv1]"));
  CHECK(conv1.params.integer("kernel_size") == 3);  // inherited parameter kept
  CHECK(layer(rep.generator, "bn1").output == gan::Shape{6, 8, 8});  // shapes flow on
  CHECK(layer(rep.generator, "bn1").params_count == 12);
  const auto& conv2 = layer(rep.generator, "conv2");
  CHECK(conv2.type == "adaconv");
  CHECK(conv2.params.integer("out_channels") == 4);  // from the base
  CHECK(conv2.params_count == adaconv_params(6, 4, 3, 1));
  CHECK(layer(rep.generator, "fc").where.file == base);
  CHECK_FALSE(layer(rep.discriminator, "c1").wrap);
  CHECK(layer(rep.discriminator, "c2").wrap);
  // the merged model written back is self-contained and checks to the same numbers
  std::string merged = tmp.write("merged.toml", gan::model_to_toml(spec));
  gan::ModelReport again = check_file(merged);
  CHECK(again.generator.params_count == rep.generator.params_count);
  CHECK(again.discriminator.params_count == rep.discriminator.params_count);
  CHECK(again.train.integer("iterations") == 9);
  CHECK_FALSE(layer(again.discriminator, "c1").wrap);
}

TEST_CASE("model: relative paths mean the same file through extends", "[model][extends]") {
  TempDir tmp;
  std::string text = tiny_model_toml();
  auto set_after = [&](const std::string& section, const std::string& line) {
    text.insert(text.find(section) + section.size() + 1, line + "\n");
  };
  set_after("[eval]", "feature_net = \"net.pt\"");
  text.replace(text.find("path = \"/usr/share/datasets/fashion-mnist\""),
               std::string("path = \"/usr/share/datasets/fashion-mnist\"").size(), "path = \"data\"");
  std::string base = tmp.write("base/tiny.toml", text);
  std::string child = tmp.write("variants/child.toml", "extends = \"../base/tiny.toml\"\n");
  const fs::path base_dir = fs::absolute(base).parent_path();
  for (const std::string& file : {base, child}) {
    INFO(file);
    gan::ModelReport rep = check_file(file);
    CHECK(rep.eval.string("feature_net") == (base_dir / "net.pt").lexically_normal().string());
    CHECK(rep.data.string("path") == (base_dir / "data").lexically_normal().string());
  }
  // a value set in the child is taken from the child's folder
  std::string child2 = tmp.write("variants/child2.toml",
                                 "extends = \"../base/tiny.toml\"\n[eval]\nfeature_net = \"mine.pt\"\n");
  CHECK(check_file(child2).eval.string("feature_net") ==
        (fs::absolute(child2).parent_path() / "mine.pt").lexically_normal().string());
}

TEST_CASE("model: unset removes inherited parameters", "[model][extends]") {
  TempDir tmp;
  tmp.write("tiny.toml", tiny_model_toml());
  std::string text = R"(extends = "tiny.toml"
[train]
unset = ["batch_size"]
[generator.override.conv1]
unset = ["kernel_size"]
padding = 0
[generator.override.conv2]
kernel_size = 1
)";
  // conv1 loses kernel_size 3 -> default 3 as well; use padding 0 to see the change: 8x8 -> 6x6
  std::string path = tmp.write("child.toml", text);
  gan::ModelSpec spec = gan::load_model(path);
  const auto& conv1 = *std::find_if(spec.generator.layers.begin(), spec.generator.layers.end(),
                                    [](const gan::LayerSpec& l) { return l.name == "conv1"; });
  CHECK_FALSE(conv1.raw.has("kernel_size"));
  CHECK_FALSE(spec.train.raw.has("batch_size"));
  CHECK(spec.train.raw.has("iterations"));
  // 6x6 after conv1 no longer reaches 32x32: the generator output check blames conv1, at its
  // override in child.toml (line 4), not the last layer 'tanh' in tiny.toml, and names the data line
  std::string msg = model_error(path);
  CHECK_THAT(msg, Contains(path + ":4: generator output 1x24x24 (the size first goes wrong at layer 'conv1' (conv2d), "
                                  "which turns 8x8x8 into 8x6x6") &&
                      Contains("does not match the data's 1x32x32"));

  std::string bad = tmp.write("bad.toml", "extends = \"tiny.toml\"\n[generator.override.conv1]\nunset = [\"stride\"]\n");
  CHECK_THAT(model_error(bad), Contains(bad + ":3:") && Contains("cannot unset 'stride'") &&
                                   Contains("the inherited table has no such parameter"));
  std::string bad2 = tmp.write("bad2.toml", "extends = \"tiny.toml\"\n[train]\nunset = [\"nope\"]\n");
  CHECK_THAT(model_error(bad2), Contains(bad2 + ":3:") && Contains("cannot unset 'nope'"));
  std::string bad3 = tmp.write("bad3.toml", replaced(tiny_model_toml(), "out_features = 128", "out_features = 128\nunset = [\"bias\"]"));
  CHECK_THAT(model_error(bad3), Contains("'unset' is only meaningful in an override"));
}

TEST_CASE("model: circular extends shows the chain", "[model][extends]") {
  TempDir tmp;
  std::string a = tmp.write("a.toml", "extends = \"b.toml\"\n");
  std::string b = tmp.write("b.toml", "\n\nextends = \"a.toml\"\n");
  std::string msg = model_error(a);
  std::string ca = fs::weakly_canonical(a).string(), cb = fs::weakly_canonical(b).string();
  CHECK_THAT(msg, Contains(b + ":3:"));
  CHECK_THAT(msg, Contains("circular extends: " + ca + " -> " + cb + " -> " + ca));
  std::string self = tmp.write("self.toml", "extends = \"self.toml\"\n");
  CHECK_THAT(model_error(self), Contains("circular extends") && Contains(self + ":1:"));
}

TEST_CASE("model: a missing extends file is located at the extends line", "[model][extends]") {
  TempDir tmp;
  std::string path = tmp.write("child.toml", "# variant\nextends = \"nope.toml\"\n");
  std::string msg = model_error(path);
  CHECK_THAT(msg, Contains(path + ":2:"));
  CHECK_THAT(msg, Contains("nope.toml") && Contains("file not found"));
  CHECK_THAT(model_error(tmp / "absent.toml"), Contains("absent.toml: file not found"));
}

TEST_CASE("model: overriding an unknown layer lists the layers", "[model][extends]") {
  TempDir tmp;
  tmp.write("tiny.toml", tiny_model_toml());
  std::string text = "extends = \"tiny.toml\"\n\n[generator.override.conv9]\nout_channels = 3\n";
  std::string path = tmp.write("child.toml", text);
  std::string msg = model_error(path);
  CHECK_THAT(msg, Contains(path + ":3:") || Contains(path + ":4:"));
  CHECK_THAT(msg, Contains("the generator has no layer 'conv9' to override"));
  CHECK_THAT(msg, Contains("its layers: fc, reshape, up1, conv1, bn1, relu1, up2, conv2, relu2, conv_out, tanh"));
  std::string rename = tmp.write("rename.toml", "extends = \"tiny.toml\"\n[generator.override.conv1]\nname = \"x\"\n");
  CHECK_THAT(model_error(rename), Contains(rename + ":3:") && Contains("an override cannot rename a layer"));
}

TEST_CASE("model: structural errors are located", "[model]") {
  TempDir tmp;
  const std::string t = tiny_model_toml();
  SECTION("unknown section with a hint") {
    std::string text = replaced(t, "[train]", "[trian]");
    std::string path = tmp.write("m.toml", text);
    std::string msg = model_error(path);
    CHECK_THAT(msg, Contains(loc(path, text, "[trian]")));
    CHECK_THAT(msg, Contains("unknown section 'trian' (did you mean 'train'?)"));
  }
  SECTION("duplicate layer names") {
    std::string text = replaced(t, "name = \"conv2\"", "name = \"conv1\"");
    std::string path = tmp.write("m.toml", text);
    std::string msg = model_error(path);
    CHECK_THAT(msg, Contains(path + ":" + std::to_string(line_of(text, "name = \"conv1\"\ntype = \"conv2d\"\nout_channels = 4"))));
    CHECK_THAT(msg, Contains("duplicate layer name 'conv1' in the generator"));
  }
  SECTION("TOML syntax error with file:line") {
    std::string text = replaced(t, "out_channels = 4", "out_channels = = 4");
    std::string path = tmp.write("m.toml", text);
    std::string msg = model_error(path);
    CHECK_THAT(msg, Contains(loc(path, text, "out_channels = = 4")));
    CHECK_THAT(msg, Contains("TOML syntax error"));
  }
  SECTION("a layer without a type") {
    std::string text = replaced(t, "type = \"relu\"", "");
    std::string path = tmp.write("m.toml", text);
    CHECK_THAT(model_error(path), Contains(path + ":") && Contains("layer 'relu1' has no 'type'"));
  }
  SECTION("a layer without a name") {
    std::string text = replaced(t, "name = \"relu1\"", "");
    std::string path = tmp.write("m.toml", text);
    CHECK_THAT(model_error(path), Contains("generator layer #6 has no 'name'"));
  }
  SECTION("an invalid layer name") {
    std::string text = replaced(t, "name = \"relu1\"", "name = \"relu 1\"");
    std::string path = tmp.write("m.toml", text);
    CHECK_THAT(model_error(path), Contains(loc(path, text, "relu 1")) && Contains("layer name 'relu 1' is not valid"));
  }
  SECTION("latent_dim missing, or in the discriminator") {
    std::string path = tmp.write("m.toml", replaced(t, "latent_dim = 16", ""));
    CHECK_THAT(model_error(path), Contains("[generator] needs 'latent_dim'"));
    std::string text = replaced(t, "wrap = { type = \"spectral_norm\" }", "latent_dim = 3");
    std::string p2 = tmp.write("m2.toml", text);
    CHECK_THAT(model_error(p2), Contains(loc(p2, text, "latent_dim = 3")) && Contains("[discriminator] has no 'latent_dim'"));
  }
  SECTION("unknown key in a network table") {
    std::string text = replaced(t, "latent_dim = 16", "latent_dim = 16\nlayer = 3");
    std::string path = tmp.write("m.toml", text);
    CHECK_THAT(model_error(path), Contains(loc(path, text, "layer = 3")) &&
                                      Contains("[generator]: unknown key 'layer'; accepted: latent_dim, wrap, layers, insert, remove, override"));
  }
  SECTION("no [data] / a table inside a section / mixed list") {
    std::string p1 = tmp.write("m1.toml", replaced(t, "[data]\ntype = \"idx\"", "[dta]\ntype = \"idx\""));
    CHECK_THAT(model_error(p1), Contains("unknown section 'dta' (did you mean 'data'?)"));
    std::string text = replaced(t, "batch_size = 16", "batch_size = { a = 1 }");
    std::string p2 = tmp.write("m2.toml", text);
    CHECK_THAT(model_error(p2), Contains(loc(p2, text, "batch_size = {")) && Contains("'batch_size' is a table"));
    std::string text3 = replaced(t, "shape = [8, 4, 4]", "shape = [8, \"4\", 4]");
    std::string p3 = tmp.write("m3.toml", text3);
    CHECK_THAT(model_error(p3), Contains(loc(p3, text3, "shape = [8")) && Contains("not a mixed list"));
  }
}

TEST_CASE("model: type and parameter errors name file, line, layer and what was expected", "[model]") {
  TempDir tmp;
  const std::string t = tiny_model_toml();
  SECTION("channel mismatch names both layers") {
    std::string text = replaced(t, "out_channels = 4\nkernel_size = 3", "out_channels = 4\nkernel_size = 3\nin_channels = 5");
    std::string path = tmp.write("m.toml", text);
    std::string msg = model_error(path);
    CHECK_THAT(msg, Contains(loc(path, text, "in_channels = 5")));
    CHECK_THAT(msg, Contains("layer 'conv2' (conv2d): in_channels 5 does not match the 8 channels produced by 'up2'"));
  }
  SECTION("linear in_features mismatch") {
    std::string text = replaced(t, "out_features = 1\n", "out_features = 1\nin_features = 100\n");
    std::string path = tmp.write("m.toml", text);
    CHECK_THAT(model_error(path), Contains(loc(path, text, "in_features = 100")) &&
                                      Contains("layer 'fc' (linear): in_features 100 does not match the 128 features produced by 'flat'"));
  }
  SECTION("unknown layer type lists the known ones") {
    std::string text = replaced(t, "type = \"batchnorm\"", "type = \"batchnrom\"");
    std::string path = tmp.write("m.toml", text);
    std::string msg = model_error(path);
    CHECK_THAT(msg, Contains(loc(path, text, "batchnrom")));
    CHECK_THAT(msg, Contains("unknown layer type 'batchnrom' (did you mean 'batchnorm'?)"));
    CHECK_THAT(msg, Contains("known layer types: "));
    for (const char* known : {"adaconv", "batchnorm", "conv2d", "flatten", "leaky_relu", "linear", "upsample"}) {
      CHECK_THAT(msg, Contains(known));
    }
  }
  SECTION("unknown parameter lists the accepted ones") {
    std::string text = replaced(t, "out_channels = 8\nkernel_size = 3", "out_channels = 8\nkernal_size = 3");
    std::string path = tmp.write("m.toml", text);
    std::string msg = model_error(path);
    CHECK_THAT(msg, Contains(loc(path, text, "kernal_size")));
    CHECK_THAT(msg, Contains("layer 'conv1' (conv2d): unknown parameter 'kernal_size' (did you mean 'kernel_size'?)"));
    CHECK_THAT(msg, Contains("accepted: out_channels, kernel_size, stride, padding"));
  }
  SECTION("value out of range") {
    std::string text = replaced(t, "scale_factor = 4", "scale_factor = 40");
    std::string path = tmp.write("m.toml", text);
    CHECK_THAT(model_error(path), Contains(loc(path, text, "scale_factor = 40")) &&
                                      Contains("layer 'up2' (upsample): 'scale_factor' = 40 is out of range"));
  }
  SECTION("missing required parameter, located at the layer") {
    std::string text = replaced(t, "out_channels = 1\n", "");
    std::string path = tmp.write("m.toml", text);
    CHECK_THAT(model_error(path), Contains(loc(path, text, "[[generator.layers]]\nname = \"conv_out\"")) &&
                                      Contains("layer 'conv_out' (conv2d): missing required parameter 'out_channels'"));
  }
  SECTION("wrong type in [train] and unknown [train] key") {
    std::string text = replaced(t, "batch_size = 16", "batch_size = \"16\"");
    std::string path = tmp.write("m.toml", text);
    CHECK_THAT(model_error(path), Contains(loc(path, text, "batch_size")) && Contains("[train]: 'batch_size' must be an integer"));
    std::string text2 = replaced(t, "batch_size = 16", "batchsize = 16");
    std::string p2 = tmp.write("m2.toml", text2);
    CHECK_THAT(model_error(p2), Contains(loc(p2, text2, "batchsize")) && Contains("did you mean 'batch_size'?"));
  }
  SECTION("unknown dataset, loss and metric types") {
    std::string text = replaced(t, "type = \"idx\"", "type = \"idxx\"");
    std::string path = tmp.write("m.toml", text);
    CHECK_THAT(model_error(path), Contains(loc(path, text, "idxx")) && Contains("unknown dataset type 'idxx'"));
    std::string text2 = replaced(t, "type = \"minimax\"", "type = \"minmax\"");
    std::string p2 = tmp.write("m2.toml", text2);
    CHECK_THAT(model_error(p2), Contains(loc(p2, text2, "minmax")) && Contains("unknown loss type 'minmax'") &&
                                    Contains("known loss types: ") && Contains("minimax"));
    std::string text3 = replaced(t, "metrics = [\"is\"]", "metrics = [\"is\", \"lpips\"]");
    std::string p3 = tmp.write("m3.toml", text3);
    CHECK_THAT(model_error(p3), Contains(loc(p3, text3, "lpips")) && Contains("unknown metric type 'lpips'"));
  }
  SECTION("a shape error inside infer") {
    std::string text = replaced(t, "shape = [8, 4, 4]", "shape = [8, 4, 5]");
    std::string path = tmp.write("m.toml", text);
    CHECK_THAT(model_error(path), Contains(loc(path, text, "shape = [8, 4, 5]")) &&
                                      Contains("cannot reshape 128 (128 values, from 'fc') to 8x4x5 (160 values)"));
  }
  SECTION("discriminator must end in one logit") {
    std::string text = replaced(t, "out_features = 1\n", "out_features = 2\n");
    std::string path = tmp.write("m.toml", text);
    CHECK_THAT(model_error(path), Contains(path + ":") && Contains("must be a single logit per image"));
  }
  SECTION("wrappers: used as a layer, wrapping a plain layer type, wrapping a layer without a weight") {
    std::string t1 = replaced(t, "type = \"relu\"", "type = \"spectral_norm\"");
    std::string p1 = tmp.write("m1.toml", t1);
    CHECK_THAT(model_error(p1), Contains(loc(p1, t1, "\"spectral_norm\"")) && Contains("wraps another layer"));
    std::string t2 = replaced(t, "wrap = { type = \"spectral_norm\" }", "wrap = { type = \"relu\" }");
    std::string p2 = tmp.write("m2.toml", t2);
    CHECK_THAT(model_error(p2), Contains("wrap type 'relu' is a plain layer, not a wrapper"));
    std::string t3 = replaced(t, "type = \"flatten\"", "type = \"flatten\"\nwrap = { type = \"spectral_norm\" }");
    std::string p3 = tmp.write("m3.toml", t3);
    CHECK_THAT(model_error(p3), Contains(loc(p3, t3, "wrap = { type = \"spectral_norm\" }\n[[disc")) &&
                                    Contains("cannot wrap a 'flatten' layer"));
    std::string t4 = replaced(t, "wrap = { type = \"spectral_norm\" }", "wrap = { type = \"spectral_norm\", n_power_iteration = 2 }");
    std::string p4 = tmp.write("m4.toml", t4);
    CHECK_THAT(model_error(p4), Contains("unknown parameter 'n_power_iteration' (did you mean 'n_power_iterations'?)") &&
                                    Contains("accepted: n_power_iterations, eps"));
  }
  SECTION("generator output does not match the data") {
    std::string text = replaced(t, "size = 32", "size = 28");
    std::string path = tmp.write("m.toml", text);
    CHECK_THAT(model_error(path), Contains("generator output 1x32x32 (from layer 'tanh') does not match the data's 1x28x28"));
  }
}

TEST_CASE("model: CIFAR-10 baseline shapes and parameter counts", "[model][shipped]") {
  gan::ModelReport rep = check_file(gan::test::source_dir() + "/models/cifar10/baseline.toml");
  CHECK(rep.image == gan::Shape{3, 32, 32});
  CHECK(rep.generator.input == gan::Shape{128});
  CHECK(rep.generator.output == gan::Shape{3, 32, 32});
  CHECK(rep.generator.params_count == 361731);
  CHECK(layer(rep.generator, "fc").params_count == 128 * 2048 + 2048);
  CHECK(layer(rep.generator, "reshape").output == gan::Shape{128, 4, 4});
  CHECK(layer(rep.generator, "conv1").output == gan::Shape{64, 8, 8});
  CHECK(layer(rep.generator, "conv3").output == gan::Shape{16, 32, 32});
  CHECK(layer(rep.generator, "conv_out").params_count == 3 * 16 * 9 + 3);
  CHECK(rep.discriminator.output == gan::Shape{1});
  CHECK(rep.discriminator.params_count == 2935873);
  CHECK(layer(rep.discriminator, "c7").output == gan::Shape{512, 4, 4});
  for (const auto& l : rep.discriminator.layers) {
    INFO(l.name);
    CHECK(static_cast<bool>(l.wrap) == (l.type == "conv2d" || l.type == "linear"));
  }
  int64_t sum = 0;
  for (const auto& l : rep.generator.layers) sum += l.params_count;
  CHECK(sum == rep.generator.params_count);
}

TEST_CASE("model: AdaGAN variants follow the AdaConv parameter formula", "[model][shipped][adaconv]") {
  const std::string dir = gan::test::source_dir() + "/models/cifar10/";
  gan::ModelReport base = check_file(dir + "baseline.toml");
  // adagan-1-3x3: conv1 (128 -> 64, K_f 3) becomes an AdaConvBlock with K_a = 3
  gan::ModelReport a1 = check_file(dir + "adagan-1-3x3.toml");
  const auto& c1 = layer(a1.generator, "conv1");
  CHECK(c1.type == "adaconv");
  CHECK(c1.params_count == 9585984);
  CHECK(c1.params_count == adaconv_params(128, 64, 3, 3));
  CHECK(a1.generator.params_count ==
        base.generator.params_count - layer(base.generator, "conv1").params_count + 9585984);
  CHECK(a1.discriminator.params_count == base.discriminator.params_count);

  int variants = 0;
  for (const auto& entry : fs::directory_iterator(gan::test::source_dir() + "/models")) {
    if (!entry.is_directory() || entry.path().filename() == "common") continue;
    for (const auto& f : fs::directory_iterator(entry.path())) {
      if (f.path().filename().string().rfind("adagan", 0) != 0) continue;
      INFO(f.path().string());
      ++variants;
      gan::ModelReport rep = check_file(f.path().string());
      // the AdaGAN-ResNets (issue 12) build on the ResNets, some at other widths: the formula only
      const bool resnet = f.path().filename().string().find("resnet") != std::string::npos;
      if (resnet) {
        int adaconvs = 0;
        for (const auto& l : rep.generator.layers) {
          if (l.type != "adaconv") continue;
          ++adaconvs;
          CHECK(l.params_count == adaconv_params(l.input[0], l.params.integer("out_channels"),
                                                 l.params.integer("kernel_size"),
                                                 l.params.integer("adaptive_kernel_size")));
        }
        CHECK(adaconvs >= 1);
        continue;
      }
      // the reference: the first file of its extends chain that is not an AdaGAN variant itself
      // (baseline.toml, or dcgan.toml for adagan-dcgan.toml)
      std::string base_file = (entry.path() / "baseline.toml").string();
      for (const auto& chain_file : gan::load_model(f.path().string()).files) {
        if (fs::path(chain_file).filename().string().rfind("adagan", 0) != 0) {
          base_file = chain_file;
          break;
        }
      }
      gan::ModelReport b = check_file(base_file);
      CHECK(rep.generator.output == b.generator.output);
      int64_t expected_total = b.generator.params_count;
      int adaconvs = 0;
      for (const auto& l : rep.generator.layers) {
        if (l.type != "adaconv") continue;
        ++adaconvs;
        INFO(l.name);
        int64_t expected = adaconv_params(l.input[0], l.params.integer("out_channels"), l.params.integer("kernel_size"),
                                          l.params.integer("adaptive_kernel_size"));
        CHECK(l.params_count == expected);
        CHECK(l.output == layer(b.generator, l.name).output);  // drop-in replacement
        expected_total += expected - layer(b.generator, l.name).params_count;
      }
      CHECK(adaconvs >= 1);
      CHECK(rep.generator.params_count == expected_total);
    }
  }
  CHECK(variants >= 15);
}

TEST_CASE("model: every shipped model checks", "[model][shipped]") {
  auto models = shipped_models();
  CHECK(models.size() >= 19);
  for (const auto& m : models) {
    INFO(m);
    gan::ModelReport rep;
    REQUIRE_NOTHROW(rep = check_file(m));
    CHECK(rep.generator.output == rep.image);
    CHECK(rep.discriminator.output == gan::Shape{1});
  }
}

// For every layer configuration of the shipped models: the module that create() builds maps
// [B, *input] to [B, *output] and holds exactly the parameters infer() reported. Each distinct
// configuration is built once, as a one-layer gan::Network; the baselines also run whole.
TEST_CASE("model: infer() agrees with the created modules for every shipped layer", "[model][shipped][slow]") {
  gan::Registry& reg = gan::test::plugins();
  torch::NoGradGuard ng;
  torch::manual_seed(0);
  std::set<std::string> seen_configs, seen_types;
  auto batch_of = [](const gan::Shape& s) {
    std::vector<int64_t> out = {2};
    out.insert(out.end(), s.begin(), s.end());
    return out;
  };
  auto n_params = [](torch::nn::Module& m) {
    int64_t count = 0;
    for (const auto& p : m.parameters()) count += p.numel();
    return count;
  };
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& m : shipped_models()) {
    gan::ModelReport rep = check_file(m);
    for (const gan::NetworkReport* net : {&rep.generator, &rep.discriminator}) {
      for (const auto& lr : net->layers) {
        std::string key = lr.type + (lr.wrap ? "+" + lr.wrap->type : "") + " " + gan::shape_str(lr.input) + " ";
        for (const auto& [k, v] : lr.params.values()) key += k + "=" + gan::param_value_str(v) + " ";
        if (lr.wrap) {
          for (const auto& [k, v] : lr.wrap->raw.values()) key += "wrap." + k + "=" + gan::param_value_str(v) + " ";
        }
        if (!seen_configs.insert(key).second) continue;
        seen_types.insert(lr.type);
        if (lr.wrap) seen_types.insert(lr.wrap->type);
        INFO(m << ": " << net->role << " layer '" << lr.name << "' " << key);
        gan::NetworkReport one;
        one.role = net->role;
        one.input = lr.input;
        one.output = lr.output;
        one.params_count = lr.params_count;
        one.layers = {lr};
        gan::Network n(one, reg);
        REQUIRE(n->layers().size() == 1);
        CHECK(n_params(*n->layers()[0]) == lr.params_count);
        n->train();
        torch::Tensor y = n->forward(torch::randn(batch_of(lr.input)));
        CHECK(y.sizes().vec() == batch_of(lr.output));
        CHECK(torch::isfinite(y).all().item<bool>());
      }
      if (fs::path(m).stem() == "baseline" || fs::path(m).stem() == "resnet") {
        INFO(m << ": the whole " << net->role);
        gan::Network n(*net, reg);
        CHECK(n_params(*n) == net->params_count);
        n->eval();
        CHECK(n->forward(torch::randn(batch_of(net->input))).sizes().vec() == batch_of(net->output));
      }
    }
  }
  for (const char* t : {"linear", "conv2d", "batchnorm", "relu", "leaky_relu", "tanh", "upsample", "reshape",
                        "flatten", "adaconv", "spectral_norm", "add", "avg_pool", "global_sum_pool"}) {
    INFO(t);
    CHECK(seen_types.count(t));
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  WARN("infer-vs-create over " << seen_configs.size() << " layer configurations: " << s << " s");
}

TEST_CASE("model: [eval.TYPE] tables set a metric's parameters, through extends and model.toml", "[model][eval]") {
  TempDir tmp;
  std::string base_text = gan::test::replaced(tiny_model_toml(), "metrics = [\"is\"]",
                                              "metrics = [\"is\", \"kid\", \"density\"]") +
                          "\n[eval.kid]\nsubsets = 3\n\n[eval.density]\nk = 7\n";
  tmp.write("base.toml", base_text);
  std::string child = tmp.write("child.toml", "extends = \"base.toml\"\n[eval.kid]\nsubset_size = 50\n");
  gan::ModelReport rep = check_file(child);
  CHECK(rep.metric_params.at("kid").integer("subsets") == 3);       // from the base
  CHECK(rep.metric_params.at("kid").integer("subset_size") == 50);  // the child's
  CHECK(rep.metric_params.at("density").integer("k") == 7);
  CHECK(rep.metric_params.at("is").integer("splits") == 10);  // the default
  // a run's model.toml keeps them
  gan::ModelReport again = check_file(tmp.write("merged.toml", gan::model_to_toml(gan::load_model(child))));
  CHECK(again.metric_params.at("kid").integer("subsets") == 3);
  CHECK(again.metric_params.at("kid").integer("subset_size") == 50);
  CHECK(again.metric_params.at("density").integer("k") == 7);

  // a table for a metric that is not computed, and an unknown parameter, are located errors
  std::string text = tiny_model_toml() + "\n[eval.fid]\nx = 1\n";
  std::string bad = tmp.write("bad.toml", text);
  std::string err = model_error(bad);
  CHECK_THAT(err, Catch::Contains(bad + ":" + std::to_string(line_of(text, "[eval.fid]"))));
  CHECK_THAT(err, Catch::Contains("'fid' is not one of [eval] metrics"));
  text = gan::test::replaced(tiny_model_toml(), "metrics = [\"is\"]", "metrics = [\"kid\"]") + "\n[eval.kid]\nsubset = 9\n";
  bad = tmp.write("bad2.toml", text);
  err = model_error(bad);
  CHECK_THAT(err, Catch::Contains(bad + ":" + std::to_string(line_of(text, "subset = 9"))));
  CHECK_THAT(err, Catch::Contains("subset_size"));
}
