// gan/json.hpp — a small JSON value for machine-readable CLI output and JSONL logs.
//
//   gan::Json j = gan::Json::object();
//   j["iteration"] = 100;
//   j["losses"] = gan::Json::array({0.5, 0.7});
//   std::string s = j.dump();          // {"iteration":100,"losses":[0.5,0.7]}
//   gan::Json back = gan::Json::parse(s);
//
// Objects keep insertion order. Non-finite numbers are written as null.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace gan {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() : v_(nullptr) {}
  Json(std::nullptr_t) : v_(nullptr) {}
  Json(bool b) : v_(b) {}
  Json(int i) : v_(static_cast<int64_t>(i)) {}
  Json(int64_t i) : v_(i) {}
  Json(uint64_t i) : v_(static_cast<int64_t>(i)) {}
  Json(double d) : v_(d) {}
  Json(const char* s) : v_(std::string(s)) {}
  Json(std::string s) : v_(std::move(s)) {}
  Json(Array a) : v_(std::move(a)) {}
  Json(Object o) : v_(std::move(o)) {}

  static Json object() { return Json(Object{}); }
  static Json array(Array a = {}) { return Json(std::move(a)); }
  static Json parse(const std::string& text);  // throws gan::Error on malformed input

  bool is_null() const { return std::holds_alternative<std::nullptr_t>(v_); }
  bool is_object() const { return std::holds_alternative<Object>(v_); }
  bool is_array() const { return std::holds_alternative<Array>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_number() const { return std::holds_alternative<int64_t>(v_) || std::holds_alternative<double>(v_); }

  // Object access: inserts on non-const use.
  Json& operator[](const std::string& key);
  const Json* find(const std::string& key) const;
  bool contains(const std::string& key) const { return find(key) != nullptr; }
  void push_back(Json v);
  size_t size() const;
  const Array& items() const;
  const Object& fields() const;

  double number() const;
  int64_t integer() const;
  bool boolean() const;
  const std::string& str() const;

  std::string dump(int indent = -1) const;

 private:
  void dump_to(std::string& out, int indent, int depth) const;
  std::variant<std::nullptr_t, bool, int64_t, double, std::string, Array, Object> v_;
};

}  // namespace gan
