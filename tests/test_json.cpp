// gan::Json: the CLI's --json output and the JSONL logs are read back with it (tests, compare).
#include <catch2/catch.hpp>

#include <cmath>

#include "gan/error.hpp"
#include "gan/json.hpp"

using gan::Json;
using Catch::Matchers::Contains;

TEST_CASE("json: build, dump compact and indented, keep insertion order", "[json]") {
  Json j = Json::object();
  j["zeta"] = 1;
  j["alpha"] = Json::array({0.5, "x", true, Json()});
  j["nested"]["k"] = int64_t{-7};
  CHECK(j.dump() == R"({"zeta":1,"alpha":[0.5,"x",true,null],"nested":{"k":-7}})");
  CHECK(j.dump(2) == "{\n  \"zeta\": 1,\n  \"alpha\": [\n    0.5,\n    \"x\",\n    true,\n    null\n  ],\n"
                     "  \"nested\": {\n    \"k\": -7\n  }\n}");
  CHECK(Json::object().dump(2) == "{}");
  CHECK(Json::array().dump(2) == "[]");
  CHECK(j.size() == 3);
  CHECK(j.fields()[0].first == "zeta");
  j["zeta"] = 2;  // assignment to an existing key keeps its place
  CHECK(j.fields()[0].first == "zeta");
  CHECK(j["zeta"].integer() == 2);
}

TEST_CASE("json: parse what dump writes", "[json]") {
  Json j = Json::object();
  j["int"] = int64_t{1} << 53;
  j["neg"] = -12;
  j["float"] = 0.125;
  j["exp"] = 1.5e-9;
  j["str"] = "quote \" backslash \\ newline \n tab \t bell \x07 utf8 \xc3\xa9";
  j["list"] = Json::array({Json::array(), Json::object(), false});
  Json back = Json::parse(j.dump());
  CHECK(back.dump() == j.dump());
  CHECK(back["int"].integer() == (int64_t{1} << 53));
  CHECK(back["neg"].integer() == -12);
  CHECK(back["float"].number() == 0.125);
  CHECK(back["exp"].number() == Approx(1.5e-9));
  CHECK(back["str"].str() == j["str"].str());
  CHECK(back["list"].items().size() == 3);
  CHECK(back["list"].items()[0].is_array());
  CHECK(back["list"].items()[1].is_object());
  CHECK(Json::parse(j.dump(4)).dump() == j.dump());
}

TEST_CASE("json: parse standard escapes, whitespace and literals", "[json]") {
  Json j = Json::parse(" { \"a\" : [ 1 , 2.5 , -3e2 ] , \"s\" : \"\\u00e9\\u0041\\/\\b\" , \"n\" : null } \n");
  CHECK(j["a"].items()[0].integer() == 1);
  CHECK(j["a"].items()[1].number() == 2.5);
  CHECK(j["a"].items()[2].number() == -300.0);
  CHECK(j["s"].str() == "\xc3\xa9" "A/\b");
  CHECK(j["n"].is_null());
  CHECK(j.contains("a"));
  CHECK_FALSE(j.contains("b"));
  CHECK(j.find("b") == nullptr);
  CHECK(Json::parse("true").boolean());
  CHECK(Json::parse("\"x\"").str() == "x");
}

TEST_CASE("json: non-finite numbers are written as null", "[json]") {
  Json j = Json::array({std::nan(""), INFINITY, -INFINITY, 1.0});
  CHECK(j.dump() == "[null,null,null,1]");
  CHECK(std::isnan(Json().number()));  // null reads back as NaN
}

TEST_CASE("json: malformed input throws gan::Error with the offset", "[json]") {
  for (const char* bad : {"", "{", "[1,", "[1 2]", "{\"a\" 1}", "{\"a\":1,}", "{a:1}", "\"open", "tru", "1.2.3",
                          "-", "[1]x", "{\"a\":1}}", "@"}) {
    INFO("input: " << bad);
    CHECK_THROWS_AS(Json::parse(bad), gan::Error);
  }
  CHECK_THROWS_WITH(Json::parse("[1,,2]"), Contains("malformed JSON at offset 3"));
  std::string deep(300, '[');
  CHECK_THROWS_WITH(Json::parse(deep), Contains("nested too deeply"));
}

TEST_CASE("json: type errors", "[json]") {
  Json s("x");
  CHECK_THROWS_AS(s.number(), gan::Error);
  CHECK_THROWS_AS(s.integer(), gan::Error);
  CHECK_THROWS_AS(s.boolean(), gan::Error);
  CHECK_THROWS_AS(Json(1).str(), gan::Error);
  CHECK_THROWS_AS(s["k"], gan::Error);
  CHECK_THROWS_AS(s.push_back(1), gan::Error);
  CHECK(s.items().empty());
  CHECK(s.fields().empty());
  CHECK(Json(2.9).integer() == 2);
  CHECK(Json(3).number() == 3.0);
}

TEST_CASE("json: strict RFC 8259 parsing (nlohmann-json): what the old parser let through is refused", "[json]") {
  for (const char* bad : {"01", "[01]", "1.", "[1.]", "\"\\q\"", "\"\\u12zz\"", "\"a\tb\"", "{\"a\":1,\"a\":2}",
                          "{\"x\":{\"b\":1,\"b\":1}}", "\"\\ud83d\"", "\"\\ude00\"", "[1]//c"}) {
    INFO("input: " << bad);
    CHECK_THROWS_AS(Json::parse(bad), gan::Error);
  }
  CHECK_THROWS_WITH(Json::parse("{\"a\":1,\"a\":2}"), Contains("the key \"a\" appears twice"));
  // a surrogate pair is one code point, written as valid 4-byte UTF-8
  CHECK(Json::parse("\"\\ud83d\\ude00\"").str() == "\xf0\x9f\x98\x80");
  // the same key in different objects is fine; integers stay integers, big ones become doubles
  Json j = Json::parse("[{\"a\":1},{\"a\":-2},18446744073709551615]");
  CHECK(j.items()[1].find("a")->integer() == -2);
  CHECK(j.items()[2].number() == Approx(1.8446744073709552e19));
}
