// Parameter specs and validation (gan/params.hpp): every way a user's value can be wrong gives a
// located message that says what was expected.
#include <catch2/catch.hpp>

#include <cmath>

#include "gan/params.hpp"

using gan::ParamSpec;
using gan::Params;
using gan::Source;
using Catch::Matchers::Contains;

namespace {

std::vector<ParamSpec> conv_like() {
  return {
      ParamSpec::integer("out_channels", "output channels").required().range(1, 1 << 16),
      ParamSpec::integer("kernel_size", "square kernel size", 3).range(1, 31),
      ParamSpec::real("slope", "negative slope", 0.2).range(0, 1),
      ParamSpec::boolean("bias", "learn an additive bias", true),
      ParamSpec::string("mode", "padding mode", "zeros").one_of({"zeros", "reflect"}),
      ParamSpec::integers("shape", "target shape"),
      ParamSpec::reals("betas", "two numbers", {0.5, 0.999}).range(0, 1),
      ParamSpec::strings("metrics", "metric names", {"is"}).one_of({"is", "fid", "kid"}),
  };
}

Params raw_at(int line = 7) { return Params("layer 'c1' (conv2d)", Source{"m.toml", line, 1}); }

std::string error_of(const std::vector<ParamSpec>& specs, const Params& raw) {
  try {
    gan::validate_params(specs, raw);
  } catch (const gan::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("params: defaults are filled and values keep their type", "[params]") {
  Params raw = raw_at();
  raw.set("out_channels", int64_t{64}, Source{"m.toml", 8, 1});
  raw.set("slope", int64_t{0});  // an integer where a float is expected is accepted
  Params p = gan::validate_params(conv_like(), raw);
  CHECK(p.integer("out_channels") == 64);
  CHECK(p.integer("kernel_size") == 3);
  CHECK(p.real("slope") == 0.0);
  CHECK(p.boolean("bias"));
  CHECK(p.string("mode") == "zeros");
  CHECK(p.reals("betas") == std::vector<double>{0.5, 0.999});
  CHECK(p.strings("metrics") == std::vector<std::string>{"is"});
  CHECK_FALSE(p.has("shape"));  // optional without default stays absent
  CHECK(p.source("out_channels").line == 8);
  CHECK(p.source("kernel_size").line == 7);  // a default is located at its owner
  CHECK(p.owner() == "layer 'c1' (conv2d)");
}

TEST_CASE("params: unknown name lists the accepted ones and suggests the closest", "[params]") {
  Params raw = raw_at();
  raw.set("out_channels", int64_t{8});
  raw.set("kernal_size", int64_t{3}, Source{"m.toml", 9, 1});
  std::string msg = error_of(conv_like(), raw);
  CHECK_THAT(msg, Contains("m.toml:9"));
  CHECK_THAT(msg, Contains("layer 'c1' (conv2d)"));
  CHECK_THAT(msg, Contains("unknown parameter 'kernal_size'"));
  CHECK_THAT(msg, Contains("did you mean 'kernel_size'?"));
  CHECK_THAT(msg, Contains("accepted: out_channels, kernel_size, slope, bias, mode, shape, betas, metrics"));

  Params far = raw_at();
  far.set("out_channels", int64_t{8});
  far.set("zzzzzzzz", int64_t{3});
  std::string m2 = error_of(conv_like(), far);
  CHECK_THAT(m2, Contains("unknown parameter 'zzzzzzzz'"));
  CHECK_THAT(m2, !Contains("did you mean"));

  Params none = raw_at();
  none.set("x", int64_t{1});
  CHECK_THAT(error_of({}, none), Contains("it takes no parameters"));
}

TEST_CASE("params: wrong types name expected and given types", "[params]") {
  auto check = [](const std::string& name, gan::ParamValue v, const std::string& expected) {
    Params raw = raw_at();
    raw.set("out_channels", int64_t{8});
    raw.set(name, v, Source{"m.toml", 11, 3});
    std::string msg = error_of(conv_like(), raw);
    INFO(msg);
    CHECK_THAT(msg, Contains("m.toml:11"));
    CHECK_THAT(msg, Contains("'" + name + "' must be " + expected));
  };
  check("kernel_size", 3.5, "an integer, not a float (3.5)");
  check("kernel_size", std::string("3"), "an integer, not a string");
  check("bias", int64_t{1}, "a boolean, not an integer");
  check("mode", true, "a string, not a boolean");
  check("shape", std::vector<double>{1.5}, "an integer list");
  check("slope", std::string("x"), "a float");
}

TEST_CASE("params: out of range values print the constraint", "[params]") {
  Params raw = raw_at();
  raw.set("out_channels", int64_t{0}, Source{"m.toml", 12, 1});
  std::string msg = error_of(conv_like(), raw);
  CHECK_THAT(msg, Contains("m.toml:12"));
  CHECK_THAT(msg, Contains("'out_channels' = 0 is out of range: expected integer in [1, 65536], required"));

  Params r2 = raw_at();
  r2.set("out_channels", int64_t{8});
  r2.set("slope", 1.5);
  CHECK_THAT(error_of(conv_like(), r2), Contains("'slope' = 1.5 is out of range: expected float in [0, 1], default 0.2"));

  Params r3 = raw_at();  // each list element is checked
  r3.set("out_channels", int64_t{8});
  r3.set("betas", std::vector<double>{0.5, 2.0});
  CHECK_THAT(error_of(conv_like(), r3), Contains("'betas' = [0.5, 2.0] is out of range"));

  Params r4 = raw_at();  // NaN is never in range
  r4.set("out_channels", int64_t{8});
  r4.set("slope", std::nan(""));
  CHECK_THAT(error_of(conv_like(), r4), Contains("out of range"));
}

TEST_CASE("params: choices", "[params]") {
  Params raw = raw_at();
  raw.set("out_channels", int64_t{8});
  raw.set("mode", std::string("circular"), Source{"m.toml", 13, 1});
  std::string msg = error_of(conv_like(), raw);
  CHECK_THAT(msg, Contains("m.toml:13"));
  CHECK_THAT(msg, Contains("'mode' = \"circular\" is not one of \"zeros\", \"reflect\""));

  Params r2 = raw_at();
  r2.set("out_channels", int64_t{8});
  r2.set("metrics", std::vector<std::string>{"is", "lpips"});
  CHECK_THAT(error_of(conv_like(), r2), Contains("'metrics' = \"lpips\" is not one of \"is\", \"fid\", \"kid\""));

  Params ok = raw_at();
  ok.set("out_channels", int64_t{8});
  ok.set("mode", std::string("reflect"));
  ok.set("metrics", std::vector<int64_t>{});  // TOML's [] arrives as an empty integer list
  Params p = gan::validate_params(conv_like(), ok);
  CHECK(p.string("mode") == "reflect");
  CHECK(p.strings("metrics").empty());
}

TEST_CASE("params: a missing required parameter is located at its owner", "[params]") {
  Params raw = raw_at(21);
  std::string msg = error_of(conv_like(), raw);
  CHECK_THAT(msg, Contains("m.toml:21: layer 'c1' (conv2d): missing required parameter 'out_channels'"));
  CHECK_THAT(msg, Contains("integer in [1, 65536], required"));
  CHECK_THAT(msg, Contains("output channels"));
}

TEST_CASE("params: constraint strings and value rendering", "[params]") {
  CHECK(ParamSpec::integer("k", "", 3).range(1, 31).constraint_str() == "integer in [1, 31], default 3");
  CHECK(ParamSpec::real("lr", "").at_least(0).constraint_str() == "float >= 0, optional");
  CHECK(ParamSpec::string("m", "", "a").one_of({"a", "b"}).constraint_str() == "string, one of a|b, default \"a\"");
  CHECK(gan::param_value_str(gan::ParamValue{2.0}) == "2.0");
  CHECK(gan::param_value_str(gan::ParamValue{std::vector<int64_t>{1, 2}}) == "[1, 2]");
  CHECK(gan::param_value_str(gan::ParamValue{std::string("a\"b")}) == "\"a\\\"b\"");
  CHECK(gan::param_value_str(gan::ParamValue{false}) == "false");
}

TEST_CASE("params: typed access errors and closest_name", "[params]") {
  Params p("[train]", Source{"m.toml", 3, 1});
  p.set("n", int64_t{3}, Source{"m.toml", 4, 1});
  CHECK(p.real("n") == 3.0);
  CHECK_THROWS_WITH(p.string("n"), Contains("m.toml:4: [train]: 'n' must be a string"));
  CHECK_THROWS_WITH(p.integer("missing"), Contains("internal: parameter 'missing'"));
  CHECK(gan::closest_name("convv2d", {"conv2d", "linear", "adaconv"}) == "conv2d");
  CHECK(gan::closest_name("lnear", {"conv2d", "linear"}) == "linear");
  CHECK(gan::closest_name("qqqqqqq", {"conv2d", "linear"}).empty());
}
