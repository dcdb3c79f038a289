// The registry of component types (gan/registry.hpp).
#include "gan/registry.hpp"

#include <algorithm>
#include <exception>

// the component interfaces: the guarded factory calls below hold (and may destroy) a component
#include "gan/dataset.hpp"
#include "gan/layer.hpp"
#include "gan/loss.hpp"
#include "gan/metric.hpp"
#include "gan/oom.hpp"

namespace gan {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Layer: return "layer";
    case Kind::Dataset: return "dataset";
    case Kind::Loss: return "loss";
    case Kind::Metric: return "metric";
  }
  return "?";
}

Registry& Registry::global() {
  static Registry instance;
  return instance;
}

namespace {

// The one message for a type name registered twice.
Error duplicate_error(Kind kind, const std::string& type, const std::string& origin, const std::string& other_origin,
                      const std::string& other_plugin) {
  return Error(origin + ": " + kind_name(kind) + " type '" + type + "' is already registered by " + other_origin +
               " (plugin '" + other_plugin + "'): remove one of the two libraries from the plugin path or rename the type");
}

// A std::exception's message without LibTorch's backtrace ("Exception raised from ...").
std::string first_line(const char* what) {
  std::string s = what ? what : "";
  size_t cut = s.find("\nException raised from");
  if (cut == std::string::npos) cut = s.find('\n');
  return cut == std::string::npos ? s : s.substr(0, cut);
}

// "layer 'up1' (conv2d)" / "dataset type 'idx'": who a factory call was for, for messages.
std::string subject(Kind, const std::string& type, const LayerContext& c) {
  return "layer '" + c.name + "' (" + (c.type.empty() ? type : c.type) + ")";
}
template <class Ctx>
std::string subject(Kind kind, const std::string& type, const Ctx&) {
  return std::string(kind_name(kind)) + " type '" + type + "'";
}

// Every call from gan into a plugin's factory goes through this wrapper (installed by add()), so
// that no plugin can crash gan or hand it a null component: a null result, or any exception
// other than a gan::Error (the plugin's own located message) and out-of-memory (reported by
// the caller with the batch size), becomes a gan::Error located at the component's table in
// the model file and naming the plugin library. `what` is "create" or "infer". For infer
// (is_create false) a std::exception is left to the caller, which locates it at the layer: there
// it is usually the user's sizes (an overflow), not a broken plugin; anything else is caught here.
template <class Fn>
Fn guarded(Fn fn, Kind kind, const std::string& type, const std::string& plugin, const std::string& origin,
           const char* what, bool is_create) {
  return [fn = std::move(fn), kind, type, plugin, origin, what, is_create](const auto& ctx) {
    const std::string lib = " (plugin '" + plugin + "', " + origin + ")";
    auto fail = [&](const std::string& why) {
      return Error(ctx.params.where(), subject(kind, type, ctx) + ": " + why + lib);
    };
    try {
      auto out = fn(ctx);
      if constexpr (requires { static_cast<bool>(out); }) {
        if (is_create && !out) {
          throw fail(std::string("the plugin's ") + what + " function returned no " + kind_name(kind) +
                     " (null): a bug in the plugin; report it to its author or remove the library from the plugin path");
        }
      }
      return out;
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      if (!is_create || is_out_of_memory(e)) throw;
      throw fail(std::string("the plugin's ") + what + " function failed: " + first_line(e.what()));
    } catch (...) {
      throw fail(std::string("the plugin's ") + what + " function threw something that is not a std::exception");
    }
  };
}

template <class Map, class F>
void add_entry(Map& map, Kind kind, F f, const std::string& plugin, const std::string& origin) {
  if (f.type.empty()) throw Error(origin + ": plugin '" + plugin + "' registers a " + kind_name(kind) + " with an empty type name");
  if (!f.create) {
    throw Error(origin + ": plugin '" + plugin + "': " + kind_name(kind) + " type '" + f.type + "' has no create function");
  }
  auto it = map.find(f.type);
  if (it != map.end()) throw duplicate_error(kind, f.type, origin, it->second.origin, it->second.plugin);
  std::string type = f.type;
  f.create = guarded(std::move(f.create), kind, type, plugin, origin, "create", true);
  if constexpr (std::is_same_v<F, LayerFactory>) {
    f.infer = guarded(std::move(f.infer), kind, type, plugin, origin, "infer", false);
  }
  map.emplace(type, typename Map::mapped_type{std::move(f), plugin, origin});
}

template <class Map>
std::vector<std::string> keys(const Map& map) {
  std::vector<std::string> out;
  for (const auto& [k, v] : map) out.push_back(k);
  return out;
}

template <class Map>
const auto& lookup(const Map& map, Kind kind, const std::string& type, const Source& where) {
  auto it = map.find(type);
  if (it == map.end()) {
    auto known = keys(map);
    std::string list;
    for (size_t i = 0; i < known.size(); ++i) list += (i ? ", " : "") + known[i];
    std::string hint = closest_name(type, known);
    throw Error(where, std::string("unknown ") + kind_name(kind) + " type '" + type + "'" +
                           (hint.empty() ? "" : " (did you mean '" + hint + "'?)") + "; known " +
                           kind_name(kind) + " types: " + (list.empty() ? "none (no plugin loaded?)" : list));
  }
  return it->second.factory;
}

}  // namespace

void Registry::add(LayerFactory f, const std::string& p, const std::string& o) {
  if (!f.infer) throw Error(o + ": plugin '" + p + "': layer type '" + f.type + "' has no infer function");
  add_entry(layers_, Kind::Layer, std::move(f), p, o);
}
void Registry::add(DatasetFactory f, const std::string& p, const std::string& o) {
  add_entry(datasets_, Kind::Dataset, std::move(f), p, o);
}
void Registry::add(LossFactory f, const std::string& p, const std::string& o) {
  add_entry(losses_, Kind::Loss, std::move(f), p, o);
}
void Registry::add(MetricFactory f, const std::string& p, const std::string& o) {
  add_entry(metrics_, Kind::Metric, std::move(f), p, o);
}

const LayerFactory& Registry::layer(const std::string& t, const Source& w) const {
  return lookup(layers_, Kind::Layer, t, w);
}
const DatasetFactory& Registry::dataset(const std::string& t, const Source& w) const {
  return lookup(datasets_, Kind::Dataset, t, w);
}
const LossFactory& Registry::loss(const std::string& t, const Source& w) const {
  return lookup(losses_, Kind::Loss, t, w);
}
const MetricFactory& Registry::metric(const std::string& t, const Source& w) const {
  return lookup(metrics_, Kind::Metric, t, w);
}

bool Registry::has(Kind k, const std::string& type) const {
  switch (k) {
    case Kind::Layer: return layers_.count(type) != 0;
    case Kind::Dataset: return datasets_.count(type) != 0;
    case Kind::Loss: return losses_.count(type) != 0;
    case Kind::Metric: return metrics_.count(type) != 0;
  }
  return false;
}

std::vector<std::string> Registry::names(Kind k) const {
  switch (k) {
    case Kind::Layer: return keys(layers_);
    case Kind::Dataset: return keys(datasets_);
    case Kind::Loss: return keys(losses_);
    case Kind::Metric: return keys(metrics_);
  }
  return {};
}

std::vector<TypeInfo> Registry::list() const {
  std::vector<TypeInfo> out;
  for (const auto& [k, e] : layers_) {
    out.push_back({Kind::Layer, k, e.factory.doc, e.origin, e.plugin, &e.factory.params, e.factory.wrapper});
  }
  for (const auto& [k, e] : datasets_) out.push_back({Kind::Dataset, k, e.factory.doc, e.origin, e.plugin, &e.factory.params});
  for (const auto& [k, e] : losses_) out.push_back({Kind::Loss, k, e.factory.doc, e.origin, e.plugin, &e.factory.params});
  for (const auto& [k, e] : metrics_) out.push_back({Kind::Metric, k, e.factory.doc, e.origin, e.plugin, &e.factory.params});
  return out;
}

const TypeInfo* Registry::find(const std::string& type) const {
  static thread_local TypeInfo found;
  for (const auto& info : list()) {
    if (info.type == type) {
      found = info;
      return &found;
    }
  }
  return nullptr;
}

namespace {
template <class Map>
void check_absorb(const Map& mine, const Map& theirs, Kind kind) {
  for (const auto& [name, e] : theirs) {
    auto it = mine.find(name);
    if (it != mine.end()) throw duplicate_error(kind, name, e.origin, it->second.origin, it->second.plugin);
  }
}
template <class Map>
void move_all(Map& mine, Map& theirs) {
  for (auto& [name, e] : theirs) mine.emplace(name, std::move(e));
  theirs.clear();
}
}  // namespace

void Registry::absorb(Registry& staged) {
  check_absorb(layers_, staged.layers_, Kind::Layer);
  check_absorb(datasets_, staged.datasets_, Kind::Dataset);
  check_absorb(losses_, staged.losses_, Kind::Loss);
  check_absorb(metrics_, staged.metrics_, Kind::Metric);
  move_all(layers_, staged.layers_);
  move_all(datasets_, staged.datasets_);
  move_all(losses_, staged.losses_);
  move_all(metrics_, staged.metrics_);
}

void Registry::clear() {
  layers_.clear();
  datasets_.clear();
  losses_.clear();
  metrics_.clear();
}

}  // namespace gan
