// gan/json.hpp implementation: the value, its writer, and parsing through nlohmann-json.
#include "gan/json.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "gan/error.hpp"

namespace gan {

Json& Json::operator[](const std::string& key) {
  if (is_null()) v_ = Object{};
  auto* o = std::get_if<Object>(&v_);
  if (!o) throw Error("json: not an object");
  for (auto& [k, v] : *o) {
    if (k == key) return v;
  }
  o->emplace_back(key, Json());
  return o->back().second;
}

const Json* Json::find(const std::string& key) const {
  auto* o = std::get_if<Object>(&v_);
  if (!o) return nullptr;
  for (auto& [k, v] : *o) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Json::push_back(Json v) {
  if (is_null()) v_ = Array{};
  auto* a = std::get_if<Array>(&v_);
  if (!a) throw Error("json: not an array");
  a->push_back(std::move(v));
}

size_t Json::size() const {
  if (auto a = std::get_if<Array>(&v_)) return a->size();
  if (auto o = std::get_if<Object>(&v_)) return o->size();
  return 0;
}

const Json::Array& Json::items() const {
  static const Array empty;
  auto a = std::get_if<Array>(&v_);
  return a ? *a : empty;
}
const Json::Object& Json::fields() const {
  static const Object empty;
  auto o = std::get_if<Object>(&v_);
  return o ? *o : empty;
}

double Json::number() const {
  if (auto d = std::get_if<double>(&v_)) return *d;
  if (auto i = std::get_if<int64_t>(&v_)) return static_cast<double>(*i);
  if (is_null()) return NAN;
  throw Error("json: not a number");
}
int64_t Json::integer() const {
  if (auto i = std::get_if<int64_t>(&v_)) return *i;
  if (auto d = std::get_if<double>(&v_)) return static_cast<int64_t>(*d);
  throw Error("json: not an integer");
}
bool Json::boolean() const {
  if (auto b = std::get_if<bool>(&v_)) return *b;
  throw Error("json: not a boolean");
}
const std::string& Json::str() const {
  if (auto s = std::get_if<std::string>(&v_)) return *s;
  throw Error("json: not a string");
}

namespace {
void escape(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}
void newline(std::string& out, int indent, int depth) {
  if (indent < 0) return;
  out += '\n';
  out.append(static_cast<size_t>(indent * depth), ' ');
}
}  // namespace

void Json::dump_to(std::string& out, int indent, int depth) const {
  if (is_null()) {
    out += "null";
  } else if (auto b = std::get_if<bool>(&v_)) {
    out += *b ? "true" : "false";
  } else if (auto i = std::get_if<int64_t>(&v_)) {
    out += std::to_string(*i);
  } else if (auto d = std::get_if<double>(&v_)) {
    if (!std::isfinite(*d)) {
      out += "null";
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", *d);
      out += buf;
    }
  } else if (auto s = std::get_if<std::string>(&v_)) {
    escape(out, *s);
  } else if (auto a = std::get_if<Array>(&v_)) {
    out += '[';
    for (size_t k = 0; k < a->size(); ++k) {
      if (k) out += ',';
      newline(out, indent, depth + 1);
      (*a)[k].dump_to(out, indent, depth + 1);
    }
    if (!a->empty()) newline(out, indent, depth);
    out += ']';
  } else if (auto o = std::get_if<Object>(&v_)) {
    out += '{';
    for (size_t k = 0; k < o->size(); ++k) {
      if (k) out += ',';
      newline(out, indent, depth + 1);
      escape(out, (*o)[k].first);
      out += indent >= 0 ? ": " : ":";
      (*o)[k].second.dump_to(out, indent, depth + 1);
    }
    if (!o->empty()) newline(out, indent, depth);
    out += '}';
  }
}

std::string Json::dump(int indent) const {
  std::string out;
  dump_to(out, indent, 0);
  return out;
}

namespace {

using Nl = nlohmann::ordered_json;
constexpr int kMaxDepth = 256;

Json from_nlohmann(const Nl& j) {
  switch (j.type()) {
    case Nl::value_t::null: return Json();
    case Nl::value_t::boolean: return Json(j.get<bool>());
    case Nl::value_t::number_integer: return Json(j.get<int64_t>());
    case Nl::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Json(static_cast<int64_t>(u));
      return Json(static_cast<double>(u));
    }
    case Nl::value_t::number_float: return Json(j.get<double>());
    case Nl::value_t::string: return Json(j.get<std::string>());
    case Nl::value_t::array: {
      Json::Array a;
      a.reserve(j.size());
      for (const auto& v : j) a.push_back(from_nlohmann(v));
      return Json(std::move(a));
    }
    case Nl::value_t::object: {
      Json::Object o;
      o.reserve(j.size());
      for (const auto& [k, v] : j.items()) o.emplace_back(k, from_nlohmann(v));
      return Json(std::move(o));
    }
    default: throw Error("malformed JSON: binary values are not JSON");
  }
}

}  // namespace

// nlohmann-json's parser (RFC 8259: no leading zeros, no "1.", only the standard escapes, no raw
// control characters in strings, UTF-16 surrogate pairs decoded, lone surrogates refused), plus
// what it leaves to callers: duplicate keys and a nesting limit are errors here.
Json Json::parse(const std::string& text) {
  std::vector<std::vector<std::string>> keys;  // the keys of each open object
  auto cb = [&keys](int depth, Nl::parse_event_t ev, Nl& parsed) {
    if (depth > kMaxDepth) throw Error("malformed JSON: nested too deeply (more than 256 levels)");
    switch (ev) {
      case Nl::parse_event_t::object_start: keys.emplace_back(); break;
      case Nl::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case Nl::parse_event_t::key: {
        const std::string k = parsed.get<std::string>();
        for (const auto& seen : keys.back()) {
          if (seen == k) throw Error("malformed JSON: the key \"" + k + "\" appears twice in one object");
        }
        keys.back().push_back(k);
        break;
      }
      default: break;
    }
    return true;
  };
  try {
    return from_nlohmann(Nl::parse(text, cb, /*allow_exceptions=*/true, /*ignore_comments=*/false));
  } catch (const Nl::parse_error& e) {
    std::string what = e.what();
    if (auto p = what.find(": "); p != std::string::npos) what = what.substr(p + 2);
    throw Error("malformed JSON at offset " + std::to_string(e.byte > 0 ? e.byte - 1 : 0) + ": " + what);
  } catch (const Nl::exception& e) {
    throw Error(std::string("malformed JSON: ") + e.what());
  }
}

}  // namespace gan
