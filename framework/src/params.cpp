// Parameter specs, typed access and validation (gan/params.hpp).
#include "gan/params.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

namespace gan {

const char* param_type_name(ParamType t) {
  switch (t) {
    case ParamType::Integer: return "integer";
    case ParamType::Float: return "float";
    case ParamType::Boolean: return "boolean";
    case ParamType::String: return "string";
    case ParamType::IntegerList: return "integer list";
    case ParamType::FloatList: return "float list";
    case ParamType::StringList: return "string list";
  }
  return "?";
}

namespace {
std::string num_str(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<long long>(v));
  }
  std::ostringstream os;
  os << v;
  return os.str();
}

// A TOML basic string. Control characters other than tab are escaped: TOML forbids them raw, and
// model_to_toml() writes run folders' model.toml with this (a [model] description holding "\r"
// or "\u0001" made a model.toml that did not load back: the fuzz target's round-trip check).
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if ((u < 0x20 && c != '\t') || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(u));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

template <class T, class F>
std::string list_str(const std::vector<T>& v, F f) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + f(v[i]);
  return out + "]";
}

const char* value_type_name(const ParamValue& v) {
  switch (v.index()) {
    case 0: return "boolean";
    case 1: return "integer";
    case 2: return "float";
    case 3: return "string";
    case 4: return "integer list";
    case 5: return "float list";
    case 6: return "string list";
  }
  return "?";
}
}  // namespace

std::string param_value_str(const ParamValue& v) {
  struct V {
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      // the shortest text that reads back as the same double: a resumed run must compute with
      // exactly the numbers the run began with (a stream's 6 digits turned 0.00012345678
      // into 0.000123457)
      if (std::isnan(d)) return "nan";
      if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
      char buf[400];  // the longest fixed double (1e308) has 309 digits
      auto fix = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
      std::string fixed(buf, fix.ptr);
      auto sci = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
      std::string scientific(buf, sci.ptr);
      // both exact; the plain decimal unless it is much longer (0.0002, not 2e-04; 1e-08)
      std::string s = fixed.size() <= scientific.size() + 4 ? fixed : scientific;
      if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
      return s;
    }
    std::string operator()(const std::string& s) const { return quote(s); }
    std::string operator()(const std::vector<int64_t>& l) const {
      return list_str(l, [](int64_t i) { return std::to_string(i); });
    }
    std::string operator()(const std::vector<double>& l) const {
      return list_str(l, [this](double d) { return (*this)(d); });
    }
    std::string operator()(const std::vector<std::string>& l) const { return list_str(l, quote); }
  };
  return std::visit(V{}, v);
}

// ---- ParamSpec builders ----
namespace {
ParamSpec make(std::string name, ParamType t, std::string doc, std::optional<ParamValue> def) {
  ParamSpec s;
  s.name = std::move(name);
  s.type = t;
  s.doc = std::move(doc);
  s.default_value = std::move(def);
  return s;
}
}  // namespace

ParamSpec ParamSpec::integer(std::string n, std::string d) { return make(n, ParamType::Integer, d, {}); }
ParamSpec ParamSpec::integer(std::string n, std::string d, int64_t def) {
  return make(n, ParamType::Integer, d, ParamValue{def});
}
ParamSpec ParamSpec::real(std::string n, std::string d) { return make(n, ParamType::Float, d, {}); }
ParamSpec ParamSpec::real(std::string n, std::string d, double def) {
  return make(n, ParamType::Float, d, ParamValue{def});
}
ParamSpec ParamSpec::boolean(std::string n, std::string d, bool def) {
  return make(n, ParamType::Boolean, d, ParamValue{def});
}
ParamSpec ParamSpec::string(std::string n, std::string d) { return make(n, ParamType::String, d, {}); }
ParamSpec ParamSpec::string(std::string n, std::string d, std::string def) {
  return make(n, ParamType::String, d, ParamValue{std::move(def)});
}
ParamSpec ParamSpec::integers(std::string n, std::string d) { return make(n, ParamType::IntegerList, d, {}); }
ParamSpec ParamSpec::integers(std::string n, std::string d, std::vector<int64_t> def) {
  return make(n, ParamType::IntegerList, d, ParamValue{std::move(def)});
}
ParamSpec ParamSpec::reals(std::string n, std::string d) { return make(n, ParamType::FloatList, d, {}); }
ParamSpec ParamSpec::reals(std::string n, std::string d, std::vector<double> def) {
  return make(n, ParamType::FloatList, d, ParamValue{std::move(def)});
}
ParamSpec ParamSpec::strings(std::string n, std::string d, std::vector<std::string> def) {
  return make(n, ParamType::StringList, d, ParamValue{std::move(def)});
}

std::string ParamSpec::constraint_str() const {
  std::string out = param_type_name(type);
  if (min && max) {
    out += " in [" + num_str(*min) + ", " + num_str(*max) + "]";
  } else if (min) {
    out += " >= " + num_str(*min);
  } else if (max) {
    out += " <= " + num_str(*max);
  }
  if (!choices.empty()) {
    out += ", one of ";
    for (size_t i = 0; i < choices.size(); ++i) out += (i ? "|" : "") + choices[i];
  }
  if (is_required) {
    out += ", required";
  } else if (default_value) {
    out += ", default " + param_value_str(*default_value);
  } else {
    out += ", optional";
  }
  return out;
}

// ---- Params ----
void Params::set(const std::string& name, ParamValue v, Source where) {
  values_[name] = std::move(v);
  if (where.known()) {
    sources_[name] = std::move(where);
  } else {
    sources_.erase(name);
  }
}

Source Params::source(const std::string& name) const {
  auto it = sources_.find(name);
  return it != sources_.end() ? it->second : where_;
}

Error Params::error(const std::string& name, const std::string& message) const {
  return Error(source(name), (owner_.empty() ? "" : owner_ + ": ") + message);
}

Error Params::error(const std::string& message) const {
  return Error(where_, (owner_.empty() ? "" : owner_ + ": ") + message);
}

const ParamValue& Params::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw error("internal: parameter '" + name + "' was not declared or has no value");
  return it->second;
}

int64_t Params::integer(const std::string& name) const {
  const auto& v = get(name);
  if (auto p = std::get_if<int64_t>(&v)) return *p;
  throw error(name, "'" + name + "' must be an integer");
}

double Params::real(const std::string& name) const {
  const auto& v = get(name);
  if (auto p = std::get_if<double>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  throw error(name, "'" + name + "' must be a number");
}

bool Params::boolean(const std::string& name) const {
  const auto& v = get(name);
  if (auto p = std::get_if<bool>(&v)) return *p;
  throw error(name, "'" + name + "' must be true or false");
}

const std::string& Params::string(const std::string& name) const {
  const auto& v = get(name);
  if (auto p = std::get_if<std::string>(&v)) return *p;
  throw error(name, "'" + name + "' must be a string");
}

std::vector<int64_t> Params::integers(const std::string& name) const {
  const auto& v = get(name);
  if (auto p = std::get_if<std::vector<int64_t>>(&v)) return *p;
  throw error(name, "'" + name + "' must be a list of integers");
}

std::vector<double> Params::reals(const std::string& name) const {
  const auto& v = get(name);
  if (auto p = std::get_if<std::vector<double>>(&v)) return *p;
  if (auto p = std::get_if<std::vector<int64_t>>(&v)) return {p->begin(), p->end()};
  throw error(name, "'" + name + "' must be a list of numbers");
}

std::vector<std::string> Params::strings(const std::string& name) const {
  const auto& v = get(name);
  if (auto p = std::get_if<std::vector<std::string>>(&v)) return *p;
  if (auto p = std::get_if<std::vector<int64_t>>(&v); p && p->empty()) return {};
  throw error(name, "'" + name + "' must be a list of strings");
}

// ---- validation ----
namespace {

// Converts v to the spec's type if it is acceptable; returns false otherwise.
bool coerce(const ParamSpec& spec, ParamValue& v) {
  switch (spec.type) {
    case ParamType::Integer:
      return std::holds_alternative<int64_t>(v);
    case ParamType::Float:
      if (auto p = std::get_if<int64_t>(&v)) v = static_cast<double>(*p);
      return std::holds_alternative<double>(v);
    case ParamType::Boolean:
      return std::holds_alternative<bool>(v);
    case ParamType::String:
      return std::holds_alternative<std::string>(v);
    case ParamType::IntegerList:
      return std::holds_alternative<std::vector<int64_t>>(v);
    case ParamType::FloatList:
      if (auto p = std::get_if<std::vector<int64_t>>(&v)) v = std::vector<double>(p->begin(), p->end());
      return std::holds_alternative<std::vector<double>>(v);
    case ParamType::StringList:
      if (auto p = std::get_if<std::vector<int64_t>>(&v); p && p->empty()) v = std::vector<std::string>{};
      return std::holds_alternative<std::vector<std::string>>(v);
  }
  return false;
}

std::vector<double> numbers_of(const ParamValue& v) {
  if (auto p = std::get_if<int64_t>(&v)) return {static_cast<double>(*p)};
  if (auto p = std::get_if<double>(&v)) return {*p};
  if (auto p = std::get_if<std::vector<int64_t>>(&v)) return {p->begin(), p->end()};
  if (auto p = std::get_if<std::vector<double>>(&v)) return *p;
  return {};
}

std::string accepted_list(const std::vector<ParamSpec>& specs) {
  if (specs.empty()) return "it takes no parameters";
  std::string out = "accepted: ";
  for (size_t i = 0; i < specs.size(); ++i) out += (i ? ", " : "") + specs[i].name;
  return out;
}

// Levenshtein distance, for "did you mean" hints.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string closest_name(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, name.size() / 3) + 1;
  for (const auto& c : candidates) {
    size_t d = edit_distance(name, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

Params validate_params(const std::vector<ParamSpec>& specs, const Params& raw) {
  Params out(raw.owner(), raw.where());
  std::vector<std::string> names;
  for (const auto& s : specs) names.push_back(s.name);
  for (const auto& [name, value] : raw.values()) {
    const ParamSpec* spec = nullptr;
    for (const auto& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (!spec) {
      std::string hint = closest_name(name, names);
      throw raw.error(name, "unknown parameter '" + name + "'" +
                                (hint.empty() ? "" : " (did you mean '" + hint + "'?)") + "; " +
                                accepted_list(specs));
    }
    ParamValue v = value;
    if (!coerce(*spec, v)) {
      auto article = [](const std::string& w) { return std::string(w[0] == 'i' ? "an " : "a ") + w; };
      throw raw.error(name, "'" + name + "' must be " + article(param_type_name(spec->type)) + ", not " +
                                article(value_type_name(value)) + " (" + param_value_str(value) + ")");
    }
    for (double x : numbers_of(v)) {
      if ((spec->min && x < *spec->min) || (spec->max && x > *spec->max) || std::isnan(x)) {
        throw raw.error(name, "'" + name + "' = " + param_value_str(value) + " is out of range: expected " +
                                  spec->constraint_str());
      }
    }
    if (!spec->choices.empty()) {
      std::vector<std::string> given;
      if (auto p = std::get_if<std::string>(&v)) given = {*p};
      if (auto p = std::get_if<std::vector<std::string>>(&v)) given = *p;
      for (const auto& g : given) {
        bool ok = false;
        for (const auto& c : spec->choices) ok = ok || c == g;
        if (!ok) {
          std::string list;
          for (size_t i = 0; i < spec->choices.size(); ++i) list += (i ? ", " : "") + quote(spec->choices[i]);
          throw raw.error(name, "'" + name + "' = " + quote(g) + " is not one of " + list);
        }
      }
    }
    if (spec->relative_to_file) {
      const Source src = raw.source(name);
      auto* path = std::get_if<std::string>(&v);
      if (path && !path->empty() && src.known() && path->rfind("~/", 0) != 0 &&
          std::filesystem::path(*path).is_relative()) {
        *path = (std::filesystem::absolute(src.file).parent_path() / *path).lexically_normal().string();
      }
    }
    out.set(name, std::move(v), raw.source(name));
  }
  for (const auto& s : specs) {
    if (out.has(s.name)) continue;
    if (s.is_required) {
      throw raw.error("missing required parameter '" + s.name + "' (" + s.constraint_str() + "): " + s.doc);
    }
    if (s.default_value) out.set(s.name, *s.default_value);
  }
  return out;
}

}  // namespace gan
