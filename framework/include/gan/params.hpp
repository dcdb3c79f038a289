// gan/params.hpp — typed, validated parameters of a component (layer, dataset, loss, metric).
//
// A component declares what it accepts as a list of ParamSpec; the framework checks a TOML
// table against that list before the component ever sees it (unknown names, wrong types,
// out-of-range values, missing required values all fail with file:line), fills defaults,
// and hands the component a Params object:
//
//   std::vector<gan::ParamSpec> conv_params() {
//     return {
//       gan::ParamSpec::integer("out_channels", "output channels").required().range(1, 1 << 16),
//       gan::ParamSpec::integer("kernel_size", "square kernel size", 3).range(1, 31),
//       gan::ParamSpec::boolean("bias", "learn an additive bias", true),
//     };
//   }
//   ...
//   int64_t c = p.integer("out_channels");
//
// The same specs drive `gan plugins --describe TYPE` and the generated model-language reference.
// Torch-free and TOML-free.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "gan/error.hpp"

namespace gan {

enum class ParamType { Integer, Float, Boolean, String, IntegerList, FloatList, StringList };

const char* param_type_name(ParamType t);

// A parameter value.
using ParamValue = std::variant<bool, int64_t, double, std::string, std::vector<int64_t>,
                                std::vector<double>, std::vector<std::string>>;

std::string param_value_str(const ParamValue& v);  // TOML-like rendering: 3, 0.5, true, "x", [1, 2]

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::Integer;
  std::string doc;
  std::optional<ParamValue> default_value;  // empty: required, or optional with no default
  bool is_required = false;
  std::optional<double> min, max;            // inclusive bounds for numbers (each list element)
  std::vector<std::string> choices;          // allowed strings (empty: any)
  // A file or folder path: validate_params makes a relative value absolute against the folder
  // of the model file that sets it (so a value inherited through `extends` keeps meaning the
  // same file). Values without a source file (defaults, code) are left as they are.
  bool relative_to_file = false;

  static ParamSpec integer(std::string name, std::string doc);
  static ParamSpec integer(std::string name, std::string doc, int64_t def);
  static ParamSpec real(std::string name, std::string doc);
  static ParamSpec real(std::string name, std::string doc, double def);
  static ParamSpec boolean(std::string name, std::string doc, bool def);
  static ParamSpec string(std::string name, std::string doc);
  static ParamSpec string(std::string name, std::string doc, std::string def);
  static ParamSpec integers(std::string name, std::string doc);
  static ParamSpec integers(std::string name, std::string doc, std::vector<int64_t> def);
  static ParamSpec reals(std::string name, std::string doc);
  static ParamSpec reals(std::string name, std::string doc, std::vector<double> def);
  static ParamSpec strings(std::string name, std::string doc, std::vector<std::string> def);

  ParamSpec& required() { is_required = true; return *this; }
  ParamSpec& range(double lo, double hi) { min = lo; max = hi; return *this; }
  ParamSpec& at_least(double lo) { min = lo; return *this; }
  ParamSpec& one_of(std::vector<std::string> c) { choices = std::move(c); return *this; }
  ParamSpec& file_path() { relative_to_file = true; return *this; }

  // "integer in [1, 65536], default 3" — for describe output.
  std::string constraint_str() const;
};

// Validated parameters as a component receives them: every declared name with a default is
// present; optional names without default may be absent (check with has()).
class Params {
 public:
  Params() = default;
  Params(std::string owner, Source where) : owner_(std::move(owner)), where_(std::move(where)) {}

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  int64_t integer(const std::string& name) const;
  double real(const std::string& name) const;  // accepts integers too
  bool boolean(const std::string& name) const;
  const std::string& string(const std::string& name) const;
  std::vector<int64_t> integers(const std::string& name) const;
  std::vector<double> reals(const std::string& name) const;
  std::vector<std::string> strings(const std::string& name) const;

  // Where a parameter was written (falls back to the owner's location).
  Source source(const std::string& name) const;
  // Where the owning table (layer, [data], ...) was written.
  const Source& where() const { return where_; }
  // "layer 'up1' (conv2d)", "[data] (idx)": used to prefix messages.
  const std::string& owner() const { return owner_; }

  // An error about parameter `name`, located at its line: "file:line: <owner>: <message>".
  Error error(const std::string& name, const std::string& message) const;
  // An error about the owner as a whole.
  Error error(const std::string& message) const;

  void set(const std::string& name, ParamValue v, Source where = {});
  const std::map<std::string, ParamValue>& values() const { return values_; }

 private:
  const ParamValue& get(const std::string& name) const;
  std::string owner_;
  Source where_;
  std::map<std::string, ParamValue> values_;
  std::map<std::string, Source> sources_;
};

// Checks raw values against specs: unknown names (listing the accepted ones), types
// (integers are accepted where floats are expected), ranges, choices, required names.
// Fills defaults. Throws gan::Error located at the offending value.
Params validate_params(const std::vector<ParamSpec>& specs, const Params& raw);

// The candidate closest to `name` by edit distance, or "" if none is close: for "did you mean".
std::string closest_name(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace gan
