// Registry and plugin loader: duplicate and unknown types, and every way a plugin library can be
// wrong (missing, not ELF, not loadable, no entry points, ABI mismatch, duplicate type), each
// reported with the file's name.
#include "test_common.hpp"  // LibTorch, then Catch (first: see the file)

#include "gan/loss.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "core_util.hpp"
#include "gan/components.hpp"
#include "gan/error.hpp"
#include "gan/plugin_loader.hpp"
#include "gan/registry.hpp"
#include "gan/version.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using gan::test::TempDir;

namespace {

gan::LayerFactory fake_layer(const std::string& type) {
  gan::LayerFactory f;
  f.type = type;
  f.doc = "test layer";
  f.infer = [](const gan::LayerContext& c) { return gan::LayerInfo{c.input, 0, 0}; };
  f.create = [](const gan::LayerContext&) { return std::shared_ptr<gan::Layer>(); };
  return f;
}

gan::LossFactory fake_loss(const std::string& type) {
  gan::LossFactory f;
  f.type = type;
  f.create = [](const gan::LossContext&) { return std::unique_ptr<gan::Loss>(); };
  return f;
}

std::string test_lib(const std::string& name) { return std::string(GAN_TEST_LIB_DIR) + "/libgan_test_" + name + ".so"; }

std::string shipped_plugin_dir() {
  gan::test::plugins();
  for (const auto& p : gan::loaded_plugins()) {
    if (p.name == "layers") return fs::path(p.path).parent_path().string();
  }
  FAIL("the shipped layers plugin was not loaded (GAN_PLUGIN_PATH?)");
  return {};
}

std::string load_error(gan::Registry& reg, const std::string& path) {
  try {
    gan::load_plugin(reg, path);
  } catch (const gan::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("registry: registration, lookup, listing", "[registry]") {
  gan::Registry reg;
  reg.add(fake_layer("beta"), "p1", "/x/libgan_p1.so");
  reg.add(fake_layer("alpha"), "p1", "/x/libgan_p1.so");
  reg.add(fake_loss("beta"), "p2", "/x/libgan_p2.so");  // same name, other kind: allowed
  CHECK(reg.names(gan::Kind::Layer) == std::vector<std::string>{"alpha", "beta"});
  CHECK(reg.has(gan::Kind::Loss, "beta"));
  CHECK_FALSE(reg.has(gan::Kind::Dataset, "beta"));
  CHECK(reg.layer("alpha").type == "alpha");
  auto all = reg.list();
  REQUIRE(all.size() == 3);
  CHECK(all[0].kind == gan::Kind::Layer);
  CHECK(all[0].type == "alpha");
  CHECK(all[0].origin == "/x/libgan_p1.so");
  CHECK(all[0].plugin == "p1");
  CHECK(all[2].kind == gan::Kind::Loss);
  const gan::TypeInfo* t = reg.find("alpha");
  REQUIRE(t);
  CHECK(t->origin == "/x/libgan_p1.so");
  CHECK(reg.find("gamma") == nullptr);
  CHECK(std::string(gan::kind_name(gan::Kind::Metric)) == "metric");
  reg.clear();
  CHECK(reg.list().empty());
}

TEST_CASE("registry: a duplicate type names both libraries", "[registry]") {
  gan::Registry reg;
  reg.add(fake_layer("swish"), "first", "/opt/a/libgan_first.so");
  try {
    reg.add(fake_layer("swish"), "second", "/opt/b/libgan_second.so");
    FAIL("no error for a duplicate type");
  } catch (const gan::Error& e) {
    std::string msg = e.what();
    CHECK_THAT(msg, Contains("/opt/b/libgan_second.so"));
    CHECK_THAT(msg, Contains("/opt/a/libgan_first.so"));
    CHECK_THAT(msg, Contains("layer type 'swish' is already registered"));
    CHECK_THAT(msg, Contains("plugin 'first'"));
  }
  CHECK(reg.list()[0].origin == "/opt/a/libgan_first.so");  // the first one stays
}

TEST_CASE("registry: an unknown type lists the known ones, located", "[registry]") {
  gan::Registry reg;
  CHECK_THROWS_WITH(reg.layer("conv2d"), Contains("known layer types: none (no plugin loaded?)"));
  reg.add(fake_layer("conv2d"), "p", "/x/p.so");
  reg.add(fake_layer("linear"), "p", "/x/p.so");
  try {
    reg.layer("convv2d", gan::Source{"model.toml", 12, 8});
    FAIL("no error");
  } catch (const gan::Error& e) {
    CHECK(std::string(e.what()) ==
          "model.toml:12: unknown layer type 'convv2d' (did you mean 'conv2d'?); known layer types: conv2d, linear");
    CHECK(e.where().line == 12);
  }
  CHECK_THROWS_WITH(reg.loss("hinge"), Contains("unknown loss type 'hinge'"));
  CHECK_THROWS_WITH(reg.dataset("x"), Contains("unknown dataset type 'x'"));
  CHECK_THROWS_WITH(reg.metric("x"), Contains("unknown metric type 'x'"));
}

TEST_CASE("registry: factories without a type, infer or create are refused", "[registry]") {
  gan::Registry reg;
  CHECK_THROWS_WITH(reg.add(fake_layer(""), "p", "/x/p.so"), Contains("/x/p.so") && Contains("empty type name"));
  auto no_infer = fake_layer("a");
  no_infer.infer = nullptr;
  CHECK_THROWS_WITH(reg.add(no_infer, "p", "/x/p.so"), Contains("/x/p.so") && Contains("has no infer function"));
  auto no_create = fake_layer("b");
  no_create.create = nullptr;
  CHECK_THROWS_WITH(reg.add(no_create, "p", "/x/p.so"), Contains("has no create function"));
  CHECK(reg.list().empty());
}

TEST_CASE("loader: the shipped plugins load and every type knows its library", "[loader]") {
  gan::Registry& reg = gan::test::plugins();
  for (const char* t : {"linear", "conv2d", "batchnorm", "relu", "leaky_relu", "tanh", "upsample", "reshape", "flatten",
                        "adaconv", "spectral_norm"}) {
    INFO(t);
    REQUIRE(reg.has(gan::Kind::Layer, t));
    const gan::TypeInfo* info = reg.find(t);
    REQUIRE(info);
    CHECK(fs::exists(info->origin));
    CHECK(fs::path(info->origin).is_absolute());
  }
  CHECK(reg.find("linear")->plugin == "layers");
  CHECK(reg.has(gan::Kind::Dataset, "idx"));
  CHECK(reg.has(gan::Kind::Loss, "minimax"));
  CHECK(reg.has(gan::Kind::Metric, "fid"));
  bool found = false;
  for (const auto& p : gan::loaded_plugins()) {
    if (p.name != "layers") continue;
    found = true;
    CHECK(std::find(p.types.begin(), p.types.end(), "layer:conv2d") != p.types.end());
  }
  CHECK(found);
}

TEST_CASE("loader: search order is --plugin-dir, GAN_PLUGIN_PATH, default", "[loader]") {
  gan::PluginSearch s;
  s.extra_dirs = {"/first"};
  s.use_env = false;
  s.use_default = false;
  CHECK(gan::plugin_dirs(s) == std::vector<std::string>{"/first"});
  const char* old = std::getenv("GAN_PLUGIN_PATH");
  std::string saved = old ? old : "";
  setenv("GAN_PLUGIN_PATH", "/a::/b", 1);
  s.use_env = true;
  s.use_default = true;
  auto dirs = gan::plugin_dirs(s);
  if (old) setenv("GAN_PLUGIN_PATH", saved.c_str(), 1); else unsetenv("GAN_PLUGIN_PATH");
  REQUIRE(dirs.size() == 4);
  CHECK(dirs[0] == "/first");
  CHECK(dirs[1] == "/a");
  CHECK(dirs[2] == "/b");
  CHECK(dirs[3] == gan::default_plugin_dir());
  CHECK_THAT(dirs[3], Contains("lib/gan/plugins"));
}

TEST_CASE("loader: a missing file", "[loader]") {
  gan::test::plugins();
  TempDir tmp;
  gan::Registry reg;
  std::string path = tmp / "libgan_nothere.so";
  CHECK(load_error(reg, path) == path + ": plugin library not found");
}

TEST_CASE("loader: a text file named .so is not a shared library", "[loader]") {
  gan::test::plugins();
  TempDir tmp;
  gan::Registry reg;
  std::string path = tmp.write("libgan_text.so", "this is not a library\n");
  std::string msg = load_error(reg, path);
  CHECK_THAT(msg, Contains(path));
  CHECK_THAT(msg, Contains("not a shared library"));
  // found by a folder scan, the same message
  gan::PluginSearch s;
  s.extra_dirs = {tmp.path()};
  s.use_env = s.use_default = false;
  CHECK_THROWS_WITH(gan::load_plugins(reg, s), Contains(path) && Contains("not a shared library"));
  // an empty file too
  std::string empty = tmp.write("libgan_empty.so", "");
  CHECK_THAT(load_error(reg, empty), Contains(empty) && Contains("not a shared library"));
}

TEST_CASE("loader: a library that dlopen refuses gives dlerror's reason", "[loader]") {
  gan::test::plugins();
  gan::Registry reg;
  std::string path = test_lib("unresolved");
  REQUIRE(fs::exists(path));
  std::string msg = load_error(reg, path);
  CHECK_THAT(msg, Contains(path));
  CHECK_THAT(msg, Contains("cannot load plugin library"));
  CHECK_THAT(msg, Contains("gan_test_symbol_that_does_not_exist"));
  CHECK(reg.list().empty());
}

TEST_CASE("loader: a shared library without the entry points", "[loader]") {
  gan::test::plugins();
  gan::Registry reg;
  std::string path = test_lib("no_entry");
  REQUIRE(fs::exists(path));
  std::string msg = load_error(reg, path);
  CHECK_THAT(msg, Contains(path));
  CHECK_THAT(msg, Contains("not a gan plugin"));
  CHECK_THAT(msg, Contains("gan_plugin_info"));
  CHECK(reg.list().empty());
}

TEST_CASE("loader: an ABI mismatch is refused before registration", "[loader]") {
  gan::test::plugins();
  gan::Registry reg;
  std::string path = test_lib("bad_abi");
  REQUIRE(fs::exists(path));
  std::string msg = load_error(reg, path);  // gan_plugin_register traps if it is ever called
  CHECK_THAT(msg, Contains(path));
  CHECK_THAT(msg, Contains("plugin 'bad_abi' was built for gan plugin ABI 999"));
  CHECK_THAT(msg, Contains("uses ABI " + std::to_string(gan::kAbiVersion)));
  CHECK_THAT(msg, Contains("rebuild the plugin"));
}

TEST_CASE("loader: a plugin registering an existing type names both libraries", "[loader]") {
  gan::Registry& reg = gan::test::plugins();
  std::string path = test_lib("duplicate");
  REQUIRE(fs::exists(path));
  std::string shipped = reg.find("conv2d")->origin;
  std::string msg = load_error(reg, path);
  CHECK_THAT(msg, Contains(path));
  CHECK_THAT(msg, Contains(shipped));
  CHECK_THAT(msg, Contains("layer type 'conv2d' is already registered"));
  CHECK(reg.find("conv2d")->origin == shipped);  // the shipped one is untouched
}

// A plugin whose second type is a duplicate must leave nothing registered: load_plugin() stages
// the registration and commits it all or nothing (otherwise the registry would keep functions of
// a library that is unloaded on the way out of the failed load).
TEST_CASE("loader: a plugin that fails half-way leaves nothing registered", "[loader]") {
  std::string dir = shipped_plugin_dir();
  gan::Registry reg;
  gan::load_plugin(reg, dir + "/libgan_layers.so");
  std::string path = test_lib("partial");
  REQUIRE(fs::exists(path));
  std::string msg = load_error(reg, path);
  CHECK_THAT(msg, Contains(path) && Contains("layer type 'conv2d' is already registered"));
  CHECK_FALSE(reg.has(gan::Kind::Layer, "partial_new"));
}

TEST_CASE("loader: a second copy of a loaded plugin is skipped as shadowed", "[loader]") {
  std::string dir = shipped_plugin_dir();
  TempDir tmp;
  fs::copy_file(dir + "/libgan_layers.so", tmp / "libgan_layers.so");
  gan::Registry reg;
  gan::PluginSearch s;
  s.extra_dirs = {tmp.path()};
  s.use_env = s.use_default = false;
  auto loaded = gan::load_plugins(reg, s);
  CHECK(loaded.empty());
  CHECK(reg.list().empty());
}

TEST_CASE("loader: a fresh registry can load a plugin by path", "[loader]") {
  std::string dir = shipped_plugin_dir();
  gan::Registry reg;
  gan::LoadedPlugin lp = gan::load_plugin(reg, dir + "/libgan_layers.so");
  CHECK(lp.name == "layers");
  CHECK(lp.path == fs::absolute(dir + "/libgan_layers.so").string());
  CHECK(reg.has(gan::Kind::Layer, "conv2d"));
  CHECK(reg.find("conv2d")->origin == lp.path);
  CHECK_FALSE(reg.has(gan::Kind::Layer, "adaconv"));
}
