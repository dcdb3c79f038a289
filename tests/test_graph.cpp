// The model language as graphs (issue 12): named inputs and merge layers, reusable blocks with
// parameters, inherited networks edited by insert / remove / override, the shipped ResNets'
// parameter counts, and the network runtime running the graph.
#include "test_common.hpp"  // LibTorch, then Catch (first: see the file)

#include <filesystem>
#include <fstream>

#include "core_util.hpp"
#include "gan/fs_util.hpp"
#include "gan/model.hpp"
#include "gan/network.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using gan::test::line_of;
using gan::test::replaced;
using gan::test::TempDir;
using gan::test::check_file;
using gan::test::layer;
using gan::test::loc;
using gan::test::model_error;
using gan::test::tiny_model_toml;

namespace {

// The [[...layers]] header above a layer's `name = ...` line: where a layer as a whole is located.
std::string header(const std::string& path, const std::string& text, const std::string& name_line) {
  return path + ":" + std::to_string(line_of(text, name_line) - 1) + ":";
}

// The tiny model's generator with a skip connection around conv2 and a concat: up2 -> conv2 ->
// relu2, and up2 -> skip (1x1) ; add(relu2, skip) ; concat(add, up2) -> conv_out.
std::string graph_model() {
  std::string t = tiny_model_toml();
  t = replaced(t, R"([[generator.layers]]
name = "conv_out")", R"([[generator.layers]]
name = "skip"
type = "conv2d"
inputs = ["up2"]
out_channels = 4
kernel_size = 1
[[generator.layers]]
name = "sum"
type = "add"
inputs = ["relu2", "skip"]
[[generator.layers]]
name = "cat"
type = "concat"
inputs = ["sum", "up2"]
[[generator.layers]]
name = "conv_out")");
  return t;
}

int64_t n_params(torch::nn::Module& m) {
  int64_t count = 0;
  for (const auto& p : m.parameters()) count += p.numel();
  return count;
}

const std::string kBlocks = R"(
[blocks.res]
params = { k = 3 }
required = ["ch"]
[[blocks.res.layers]]
name = "conv"
type = "conv2d"
out_channels = "$ch"
kernel_size = "$k"
[[blocks.res.layers]]
name = "act"
type = "relu"
[[blocks.res.layers]]
name = "sc"
type = "conv2d"
inputs = ["in"]
out_channels = "$ch"
kernel_size = 1
[[blocks.res.layers]]
name = "out"
type = "add"
inputs = ["act", "sc"]
)";

// The tiny model with conv2 replaced by two instances of block `res`.
std::string block_model(const std::string& blocks = kBlocks) {
  std::string t = tiny_model_toml();
  t = replaced(t, R"([[generator.layers]]
name = "conv2"
type = "conv2d"
out_channels = 4
kernel_size = 3)", R"([[generator.layers]]
name = "b1"
block = "res"
ch = 6
[[generator.layers]]
name = "b2"
block = "res"
ch = 4
k = 5)");
  return t + blocks;
}

}  // namespace

TEST_CASE("graph: named inputs, add and concat infer shapes and run", "[model][graph]") {
  TempDir tmp;
  const std::string text = graph_model();
  std::string path = tmp.write("graph.toml", text);
  gan::ModelReport rep = check_file(path);
  const auto& g = rep.generator;
  CHECK(g.output == gan::Shape{1, 32, 32});
  CHECK(layer(g, "skip").inputs == std::vector<std::string>{"up2"});
  CHECK(layer(g, "sum").inputs == std::vector<std::string>{"relu2", "skip"});
  CHECK(layer(g, "sum").output == gan::Shape{4, 32, 32});
  CHECK(layer(g, "cat").output == gan::Shape{12, 32, 32});  // 4 + 8 channels
  CHECK(layer(g, "cat").input_shapes == std::vector<gan::Shape>{{4, 32, 32}, {8, 32, 32}});
  CHECK(layer(g, "conv_out").inputs == std::vector<std::string>{"cat"});
  CHECK(layer(g, "fc").inputs == std::vector<std::string>{"z"});
  CHECK(rep.discriminator.layers.front().inputs == std::vector<std::string>{"x"});
  // the conv_out layer after a concat of 12 channels: 12*9 + 1
  CHECK(layer(g, "conv_out").params_count == 12 * 9 + 1);

  gan::Network net(g, gan::test::plugins());
  CHECK(n_params(*net) == g.params_count);
  torch::NoGradGuard ng;
  net->eval();
  auto y = net->forward(torch::randn({3, 16}));
  CHECK(y.sizes().vec() == std::vector<int64_t>{3, 1, 32, 32});

  // the runtime computes the graph: recompute it by hand from the network's own layers
  std::map<std::string, std::shared_ptr<gan::Layer>> by_name;
  for (size_t i = 0; i < g.layers.size(); ++i) by_name[g.layers[i].name] = net->layers()[i];
  auto z = torch::randn({2, 16});
  auto h = z;
  for (const char* n : {"fc", "reshape", "up1", "conv1", "bn1", "relu1", "up2"}) h = by_name[n]->forward(h);
  auto up2 = h;
  auto r2 = by_name["relu2"]->forward(by_name["conv2"]->forward(up2));
  auto sum = r2 + by_name["skip"]->forward(up2);
  auto cat = torch::cat({sum, up2}, 1);
  auto out = by_name["tanh"]->forward(by_name["conv_out"]->forward(cat));
  CHECK(torch::allclose(net->forward(z), out, 1e-6, 1e-6));
}

TEST_CASE("graph: a layer may read a later-declared layer; the execution order follows the graph", "[model][graph]") {
  TempDir tmp;
  // `skip` declared after `sum`, which reads it
  std::string t = graph_model();
  t = replaced(t, R"([[generator.layers]]
name = "skip"
type = "conv2d"
inputs = ["up2"]
out_channels = 4
kernel_size = 1
)", "");
  t = replaced(t, R"([[generator.layers]]
name = "cat")", R"([[generator.layers]]
name = "skip"
type = "conv2d"
inputs = ["up2"]
out_channels = 4
kernel_size = 1
[[generator.layers]]
name = "cat")");
  t = replaced(t, "inputs = [\"sum\", \"up2\"]", "inputs = [\"sum\", \"up2\"]");
  std::string path = tmp.write("order.toml", t);
  gan::ModelReport rep = check_file(path);
  std::vector<std::string> order;
  for (const auto& l : rep.generator.layers) order.push_back(l.name);
  auto pos = [&](const std::string& n) { return std::find(order.begin(), order.end(), n) - order.begin(); };
  CHECK(pos("skip") < pos("sum"));
  CHECK(order.back() == "tanh");
}

TEST_CASE("graph: cycles, unknown inputs, mismatched merges and dangling outputs are located", "[model][graph]") {
  TempDir tmp;
  SECTION("a cycle names its layers") {
    std::string t = replaced(graph_model(), "inputs = [\"up2\"]", "inputs = [\"sum\"]");
    std::string path = tmp.write("cycle.toml", t);
    std::string e = model_error(path);
    CHECK_THAT(e, Contains("form a cycle"));
    CHECK_THAT(e, Contains("'skip'"));
    CHECK_THAT(e, Contains("'sum'"));
    CHECK_THAT(e, Contains(path + ":"));
  }
  SECTION("an unknown input suggests the close name and lists the layers") {
    std::string t = replaced(graph_model(), "inputs = [\"relu2\", \"skip\"]", "inputs = [\"relu2\", \"skp\"]");
    std::string path = tmp.write("unknown.toml", t);
    std::string e = model_error(path);
    CHECK_THAT(e, Contains(loc(path, t, "inputs = [\"relu2\", \"skp\"]")));
    CHECK_THAT(e, Contains("unknown input 'skp'"));
    CHECK_THAT(e, Contains("did you mean 'skip'"));
  }
  SECTION("add of mismatched shapes names both") {
    std::string t = replaced(graph_model(), "out_channels = 4\nkernel_size = 1", "out_channels = 5\nkernel_size = 1");
    std::string path = tmp.write("mismatch.toml", t);
    std::string e = model_error(path);
    CHECK_THAT(e, Contains(header(path, t, "name = \"sum\"")));
    CHECK_THAT(e, Contains("layer 'sum' (add)"));
    CHECK_THAT(e, Contains("4x32x32"));
    CHECK_THAT(e, Contains("5x32x32"));
  }
  SECTION("an add with one input") {
    std::string t = replaced(graph_model(), "inputs = [\"relu2\", \"skip\"]", "inputs = [\"relu2\"]");
    std::string path = tmp.write("one.toml", t);
    CHECK_THAT(model_error(path), Contains("takes at least 2 input(s)"));
  }
  SECTION("a conv2d with two inputs") {
    std::string t = replaced(graph_model(), "inputs = [\"up2\"]", "inputs = [\"up2\", \"up1\"]");
    std::string path = tmp.write("two.toml", t);
    CHECK_THAT(model_error(path), Contains("takes 1 input(s), but 2 are named"));
  }
  SECTION("an output nobody reads") {
    std::string t = replaced(graph_model(), "inputs = [\"relu2\", \"skip\"]", "inputs = [\"relu2\", \"relu2\"]");
    std::string path = tmp.write("dangling.toml", t);
    std::string e = model_error(path);
    CHECK_THAT(e, Contains(header(path, t, "name = \"skip\"")));
    CHECK_THAT(e, Contains("read by no layer"));
  }
  SECTION("a layer named like the network's input") {
    std::string t = replaced(tiny_model_toml(), "name = \"fc\"\ntype = \"linear\"\nout_features = 128",
                             "name = \"z\"\ntype = \"linear\"\nout_features = 128");
    std::string path = tmp.write("z.toml", t);
    CHECK_THAT(model_error(path), Contains("is the generator's input (z)"));
  }
}

TEST_CASE("blocks: instances are namespaced, take arguments and run", "[model][graph][blocks]") {
  TempDir tmp;
  std::string path = tmp.write("blocks.toml", block_model());
  gan::ModelReport rep = check_file(path);
  const auto& g = rep.generator;
  CHECK(layer(g, "b1.conv").output == gan::Shape{6, 32, 32});
  CHECK(layer(g, "b1.conv").params.integer("kernel_size") == 3);  // the block's default
  CHECK(layer(g, "b2.conv").params.integer("kernel_size") == 5);  // the instance's argument
  CHECK(layer(g, "b1.sc").inputs == std::vector<std::string>{"up2"});
  CHECK(layer(g, "b2.conv").inputs == std::vector<std::string>{"b1.out"});
  CHECK(layer(g, "b2.out").inputs == std::vector<std::string>{"b2.act", "b2.sc"});
  CHECK(layer(g, "relu2").inputs == std::vector<std::string>{"b2.out"});
  // an instance's layers point at the instance's line, and know the block's
  CHECK(layer(g, "b2.conv").where.line == line_of(block_model(), "name = \"b2\"") - 1);
  CHECK(layer(g, "b2.conv").block_where.line == line_of(block_model(), "name = \"conv\"") - 1);

  gan::Network net(g, gan::test::plugins());
  CHECK(n_params(*net) == g.params_count);
  auto names = net->named_parameters().keys();
  CHECK(std::find(names.begin(), names.end(), "b2.conv.weight") != names.end());
  torch::NoGradGuard ng;
  net->eval();
  CHECK(net->forward(torch::randn({2, 16})).sizes().vec() == std::vector<int64_t>{2, 1, 32, 32});

  // the run folder's self-contained model reads back to the same network
  gan::ModelSpec spec = gan::load_model(path);
  std::string again = tmp.write("again.toml", gan::model_to_toml(spec));
  gan::ModelReport rep2 = check_file(again);
  CHECK(rep2.generator.params_count == g.params_count);
  CHECK(rep2.generator.layers.size() == g.layers.size());
}

TEST_CASE("blocks: errors point at the instance and name the block's layer", "[model][graph][blocks]") {
  TempDir tmp;
  SECTION("a missing required argument") {
    std::string t = replaced(block_model(), "block = \"res\"\nch = 6", "block = \"res\"");
    std::string path = tmp.write("missing.toml", t);
    std::string e = model_error(path);
    CHECK_THAT(e, Contains(header(path, t, "name = \"b1\"")));
    CHECK_THAT(e, Contains("needs parameter 'ch'"));
  }
  SECTION("an unknown argument") {
    std::string t = replaced(block_model(), "ch = 4\nk = 5", "ch = 4\nkk = 5");
    std::string path = tmp.write("unknown_arg.toml", t);
    std::string e = model_error(path);
    CHECK_THAT(e, Contains(loc(path, t, "kk = 5")));
    CHECK_THAT(e, Contains("no parameter 'kk' (did you mean 'k'?)"));
  }
  SECTION("a bad value inside the block: the instance's line and the block layer's") {
    std::string t = replaced(block_model(), "ch = 4\nk = 5", "ch = 4\nk = 4");  // even kernel at stride 1
    std::string path = tmp.write("even.toml", t);
    std::string e = model_error(path);
    CHECK_THAT(e, Contains(header(path, t, "name = \"b2\"")));
    CHECK_THAT(e, Contains("instance 'b2' of block 'res'"));
    CHECK_THAT(e, Contains("layer 'b2.conv'"));
  }
  SECTION("an unknown block") {
    std::string t = replaced(block_model(), "block = \"res\"\nch = 6", "block = \"rse\"\nch = 6");
    std::string path = tmp.write("noblock.toml", t);
    CHECK_THAT(model_error(path), Contains("unknown block 'rse' (did you mean 'res'?)"));
  }
  SECTION("a block that instantiates itself") {
    std::string blocks = replaced(kBlocks, "name = \"act\"\ntype = \"relu\"", "name = \"act\"\nblock = \"res\"\nch = 3");
    std::string path = tmp.write("self.toml", block_model(blocks));
    CHECK_THAT(model_error(path), Contains("instantiates itself"));
  }
  SECTION("an undeclared $parameter in the block") {
    std::string blocks = replaced(kBlocks, "out_channels = \"$ch\"\nkernel_size = 1", "out_channels = \"$chan\"\nkernel_size = 1");
    std::string t = block_model(blocks);
    std::string path = tmp.write("undeclared.toml", t);
    std::string e = model_error(path);
    CHECK_THAT(e, Contains(loc(path, t, "out_channels = \"$chan\"")));
    CHECK_THAT(e, Contains("block 'res' has no parameter 'chan' (did you mean 'ch'?)"));
  }
}

TEST_CASE("blocks: declared in a shared file, edited by a variant, nested, disabled layers", "[model][graph][blocks]") {
  TempDir tmp;
  tmp.write("blocks.toml", kBlocks);
  std::string t = block_model("");
  std::string base = tmp.write("base.toml", "extends = \"blocks.toml\"\n" + t);
  gan::ModelReport rb = check_file(base);
  CHECK(layer(rb.generator, "b1.conv").type == "conv2d");

  // a variant replaces the block's convolution for every instance, and one instance's layer alone
  std::string variant = tmp.write("variant.toml", R"(extends = "base.toml"
[blocks.res.override.conv]
type = "adaconv"
adaptive_kernel_size = 3
unset = ["kernel_size"]
[generator.override."b2.sc"]
kernel_size = 3
)");
  gan::ModelReport rv = check_file(variant);
  CHECK(layer(rv.generator, "b1.conv").type == "adaconv");
  CHECK(layer(rv.generator, "b2.conv").type == "adaconv");
  CHECK(layer(rv.generator, "b1.sc").params.integer("kernel_size") == 1);
  CHECK(layer(rv.generator, "b2.sc").params.integer("kernel_size") == 3);
  // its resolved text keeps the edits
  std::string again = tmp.write("again.toml", gan::model_to_toml(gan::load_model(variant)));
  gan::ModelReport ra = check_file(again);
  CHECK(ra.generator.params_count == rv.generator.params_count);

  // an override of a layer the instance does not have
  std::string bad = tmp.write("bad.toml", "extends = \"base.toml\"\n[generator.override.\"b2.scc\"]\nkernel_size = 3\n");
  CHECK_THAT(model_error(bad), Contains("has no layer 'b2.scc'"));

  // a block of blocks, and a layer disabled by an argument: the shortcut becomes the input itself
  std::string nested = tmp.write("nested.toml", block_model(kBlocks + R"(
[blocks.two]
params = { learn = true }
required = ["ch"]
[[blocks.two.layers]]
name = "first"
block = "res"
ch = "$ch"
[[blocks.two.layers]]
name = "second"
block = "res"
ch = "$ch"
[[blocks.two.layers]]
name = "sc"
type = "conv2d"
inputs = ["in"]
enabled = "$learn"
out_channels = "$ch"
kernel_size = 1
[[blocks.two.layers]]
name = "out"
type = "add"
inputs = ["second", "sc"]
)"));
  std::string nt = gan::read_file(nested);
  nt = replaced(nt, "name = \"b2\"\nblock = \"res\"\nch = 4\nk = 5", "name = \"b2\"\nblock = \"two\"\nch = 6\nlearn = false");
  nt = replaced(nt, "name = \"relu2\"", "name = \"relu2\"\ninputs = [\"b2\"]");
  std::ofstream(nested) << nt;
  gan::ModelReport rn = check_file(nested);
  CHECK(layer(rn.generator, "b2.first.conv").output == gan::Shape{6, 32, 32});
  CHECK(layer(rn.generator, "b2.second.out").inputs == std::vector<std::string>{"b2.second.act", "b2.second.sc"});
  CHECK(layer(rn.generator, "b2.out").inputs == std::vector<std::string>{"b2.second.out", "b1.out"});  // sc disabled
  CHECK_THROWS(layer(rn.generator, "b2.sc"));
  gan::Network net(rn.generator, gan::test::plugins());
  auto names = net->named_parameters().keys();
  CHECK(std::find(names.begin(), names.end(), "b2.first.conv.weight") != names.end());
  torch::NoGradGuard ng;
  net->eval();
  CHECK(net->forward(torch::randn({2, 16})).sizes().vec() == std::vector<int64_t>{2, 1, 32, 32});
}

TEST_CASE("edits: insert before/after and remove change an inherited network", "[model][graph][edits]") {
  TempDir tmp;
  std::string base = tmp.write("base.toml", tiny_model_toml());
  std::string text = R"(extends = "base.toml"
[generator]
remove = ["relu2"]
[[generator.insert]]
after = "conv1"
name = "extra"
type = "conv2d"
out_channels = 8
kernel_size = 3
[[generator.insert]]
before = "conv_out"
name = "act"
type = "leaky_relu"
)";
  std::string path = tmp.write("edit.toml", text);
  gan::ModelReport rep = check_file(path);
  std::vector<std::string> order;
  for (const auto& l : rep.generator.layers) order.push_back(l.name);
  CHECK(order == std::vector<std::string>{"fc", "reshape", "up1", "conv1", "extra", "bn1", "relu1", "up2", "conv2",
                                          "act", "conv_out", "tanh"});
  CHECK(layer(rep.generator, "bn1").inputs == std::vector<std::string>{"extra"});

  SECTION("a removed layer that another layer names") {
    tmp.write("graph.toml", graph_model());
    std::string t2 = "extends = \"graph.toml\"\n[generator]\nremove = [\"skip\"]\n";
    std::string p2 = tmp.write("rm.toml", t2);
    std::string e = model_error(p2);
    CHECK_THAT(e, Contains("unknown input 'skip': it was removed (remove at " + p2 + ":3)"));
  }
  SECTION("insert next to a layer that does not exist") {
    std::string t3 = "extends = \"base.toml\"\n[[generator.insert]]\nafter = \"conv9\"\nname = \"x1\"\ntype = \"relu\"\n";
    std::string p3 = tmp.write("ins.toml", t3);
    std::string e;
    try {
      gan::load_model(p3);
    } catch (const gan::Error& err) {
      e = err.what();
    }
    CHECK_THAT(e, Contains(p3 + ":3:"));
    CHECK_THAT(e, Contains("no layer 'conv9'"));
  }
}

TEST_CASE("shipped ResNets: SNGAN CIFAR-10 counts, AdaGAN-ResNet variants are short", "[model][shipped][graph]") {
  const std::string root = gan::test::source_dir() + "/models/";
  gan::ModelReport rep = check_file(root + "cifar10/sngan-resnet.toml");
  CHECK(rep.generator.output == gan::Shape{3, 32, 32});
  // by hand from the architecture: dense 128 -> 4096; per up-block BN 2x512, conv3x3 256->256 twice
  // (589824 + 256 each), 1x1 shortcut 65536 + 256; final BN 512, conv3x3 256 -> 3 (6912 + 3)
  const int64_t gblock = 512 + 590080 + 512 + 590080 + 65792;
  CHECK(rep.generator.params_count == 128 * 4096 + 4096 + 3 * gblock + 512 + 6915);
  // D: optimised block 3->128 (3456+128, 147456+128, 1x1 384+128), block 128 down (two 3x3 and a
  // 1x1 shortcut), two blocks 128 without shortcut convs, dense 128 -> 1
  const int64_t c33 = 147456 + 128;
  CHECK(rep.discriminator.params_count == (3584 + c33 + 512) + (2 * c33 + 16512) + 2 * (2 * c33) + 129);
  CHECK(rep.generator.params_count == 4276739);
  CHECK(rep.discriminator.params_count == 1053825);

  for (const char* f : {"cifar10/adagan-resnet-3x3.toml", "cifar10/adagan-resnet-1-3x3.toml",
                        "stl10/adagan-resnet-3x3.toml", "fmnist/adagan-resnet.toml"}) {
    INFO(f);
    std::ifstream in(root + f);
    std::string line;
    int lines = 0;
    while (std::getline(in, line)) ++lines;
    CHECK(lines <= 15);
    gan::ModelReport v = check_file(root + f);
    bool has_adaconv = false;
    for (const auto& l : v.generator.layers) has_adaconv = has_adaconv || l.type == "adaconv";
    CHECK(has_adaconv);
  }
  gan::ModelReport stl = check_file(root + "stl10/sngan-resnet.toml");
  CHECK(stl.generator.output == gan::Shape{3, 48, 48});
}

TEST_CASE("init: a layer's own init overrides the model's", "[model][graph][init]") {
  TempDir tmp;
  std::string t = replaced(tiny_model_toml(), "name = \"conv1\"\ntype = \"conv2d\"",
                           "name = \"conv1\"\ntype = \"conv2d\"\ninit = \"xavier_uniform\"");
  t = replaced(t, "name = \"conv2\"\ntype = \"conv2d\"", "name = \"conv2\"\ntype = \"conv2d\"\ninit = \"default\"");
  std::string path = tmp.write("init.toml", t);
  gan::ModelReport rep = check_file(path);
  CHECK(layer(rep.generator, "conv1").init == "xavier_uniform");
  torch::manual_seed(0);
  gan::Network net(rep.generator, gan::test::plugins());
  auto before = net->named_parameters()["conv2.weight"].clone();
  gan::init_network(*net, "paper", 0.02, 7);
  auto p = net->named_parameters();
  // paper: truncated normal, std 0.02, within 2 std
  CHECK(p["conv_out.weight"].abs().max().item<double>() <= 0.04 + 1e-7);
  // xavier_uniform: bound sqrt(6 / (fan_in + fan_out)) = sqrt(6 / (8*9 + 8*9))
  const double bound = std::sqrt(6.0 / (72 + 72));
  CHECK(p["conv1.weight"].abs().max().item<double>() <= bound);
  CHECK(p["conv1.weight"].abs().max().item<double>() > 0.5 * bound);
  CHECK(p["conv1.bias"].abs().max().item<double>() == 0.0);
  // default: untouched
  CHECK(torch::equal(p["conv2.weight"], before));
}

TEST_CASE("graph: a very long chain checks; blocks nested to an absurd size are refused", "[model][graph]") {
  TempDir tmp;
  // 20000 relu layers between the tiny generator's conv2 and relu2: no recursion depth limit
  std::string relus;
  for (int i = 0; i < 20000; ++i) relus += "[[generator.layers]]\nname = \"r" + std::to_string(i) + "\"\ntype = \"relu\"\n";
  std::string t = replaced(tiny_model_toml(), "[[generator.layers]]\nname = \"relu2\"", relus + "[[generator.layers]]\nname = \"relu2\"");
  std::string path = tmp.write("long.toml", t);
  gan::ModelReport rep = check_file(path);
  CHECK(rep.generator.layers.size() == 20011);

  // b0 holds 10 relus; b1 holds 10 instances of b0; ... b6 holds 10^7 layers
  std::string blocks = "[blocks.b0]\n";
  for (int i = 0; i < 10; ++i) blocks += "[[blocks.b0.layers]]\nname = \"l" + std::to_string(i) + "\"\ntype = \"relu\"\n";
  for (int k = 1; k <= 6; ++k) {
    blocks += "[blocks.b" + std::to_string(k) + "]\n";
    for (int i = 0; i < 10; ++i) {
      blocks += "[[blocks.b" + std::to_string(k) + ".layers]]\nname = \"i" + std::to_string(i) + "\"\nblock = \"b" +
                std::to_string(k - 1) + "\"\n";
    }
  }
  std::string big = replaced(tiny_model_toml(), "[[generator.layers]]\nname = \"relu2\"",
                             "[[generator.layers]]\nname = \"huge\"\nblock = \"b6\"\n[[generator.layers]]\nname = \"relu2\"") +
                    blocks;
  std::string bp = tmp.write("huge.toml", big);
  std::string e = model_error(bp);  // refused after 400k expanded entries, not after 10^7
  CHECK_THAT(e, Contains("expands to more than"));
  CHECK_THAT(e, Contains(bp + ":"));
}
