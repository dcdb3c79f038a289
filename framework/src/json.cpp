// gan/json.hpp implementation: writer and a strict recursive-descent parser.
#include "gan/json.hpp"

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
struct Parser {
  const std::string& s;
  size_t i = 0;
  int depth = 0;
  [[noreturn]] void fail(const std::string& what) {
    throw Error("malformed JSON at offset " + std::to_string(i) + ": " + what);
  }
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i;
  }
  bool lit(const char* l) {
    size_t n = std::char_traits<char>::length(l);
    if (s.compare(i, n, l) == 0) {
      i += n;
      return true;
    }
    return false;
  }
  std::string string() {
    if (s[i] != '"') fail("expected a string");
    ++i;
    std::string out;
    while (i < s.size() && s[i] != '"') {
      char c = s[i++];
      if (c == '\\') {
        if (i >= s.size()) fail("unterminated escape");
        char e = s[i++];
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'u': {
            if (i + 4 > s.size()) fail("bad \\u escape");
            unsigned code = std::strtoul(s.substr(i, 4).c_str(), nullptr, 16);
            i += 4;
            if (code < 0x80) {
              out += static_cast<char>(code);
            } else if (code < 0x800) {
              out += static_cast<char>(0xC0 | (code >> 6));
              out += static_cast<char>(0x80 | (code & 0x3F));
            } else {
              out += static_cast<char>(0xE0 | (code >> 12));
              out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
              out += static_cast<char>(0x80 | (code & 0x3F));
            }
            break;
          }
          default: out += e;
        }
      } else {
        out += c;
      }
    }
    if (i >= s.size()) fail("unterminated string");
    ++i;
    return out;
  }
  Json value() {
    if (++depth > 256) fail("nested too deeply");
    ws();
    if (i >= s.size()) fail("unexpected end");
    Json out;
    char c = s[i];
    if (c == '{') {
      ++i;
      out = Json::object();
      ws();
      if (i < s.size() && s[i] == '}') {
        ++i;
      } else {
        while (true) {
          ws();
          std::string k = string();
          ws();
          if (i >= s.size() || s[i] != ':') fail("expected ':'");
          ++i;
          out[k] = value();
          ws();
          if (i < s.size() && s[i] == ',') { ++i; continue; }
          if (i < s.size() && s[i] == '}') { ++i; break; }
          fail("expected ',' or '}'");
        }
      }
    } else if (c == '[') {
      ++i;
      out = Json::array();
      ws();
      if (i < s.size() && s[i] == ']') {
        ++i;
      } else {
        while (true) {
          out.push_back(value());
          ws();
          if (i < s.size() && s[i] == ',') { ++i; continue; }
          if (i < s.size() && s[i] == ']') { ++i; break; }
          fail("expected ',' or ']'");
        }
      }
    } else if (c == '"') {
      out = Json(string());
    } else if (lit("true")) {
      out = Json(true);
    } else if (lit("false")) {
      out = Json(false);
    } else if (lit("null")) {
      out = Json();
    } else {
      size_t start = i;
      bool is_float = false;
      while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '-' || s[i] == '+' ||
                              s[i] == '.' || s[i] == 'e' || s[i] == 'E')) {
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E') is_float = true;
        ++i;
      }
      if (start == i) fail("unexpected character");
      std::string num = s.substr(start, i - start);
      char* end = nullptr;
      if (is_float) {
        out = Json(std::strtod(num.c_str(), &end));
      } else {
        out = Json(static_cast<int64_t>(std::strtoll(num.c_str(), &end, 10)));
      }
      if (!end || *end) fail("bad number '" + num + "'");
    }
    --depth;
    return out;
  }
};
}  // namespace

Json Json::parse(const std::string& text) {
  Parser p{text};
  Json v = p.value();
  p.ws();
  if (p.i != text.size()) p.fail("trailing characters");
  return v;
}

}  // namespace gan
