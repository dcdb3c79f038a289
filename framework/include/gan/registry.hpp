// gan/registry.hpp — the one registry of component types, filled by plugins.
//
// The framework core registers nothing itself: every layer, dataset, loss and metric type,
// including the ones shipped with gan, comes from a plugin shared library loaded by
// gan::load_plugins() (gan/plugin_loader.hpp). Each type remembers the library it came from.
//
//   auto& reg = gan::Registry::global();
//   const gan::LayerFactory& f = reg.layer("conv2d", where);   // throws: unknown layer type
//                                                              //  'convv2d' (known: ...)
#pragma once

#include <map>
#include <string>
#include <vector>

#include "gan/components.hpp"

namespace gan {

enum class Kind { Layer, Dataset, Loss, Metric };
const char* kind_name(Kind k);  // "layer", "dataset", "loss", "metric"

struct TypeInfo {
  Kind kind;
  std::string type;
  std::string doc;
  std::string origin;  // path of the plugin library that registered it
  std::string plugin;  // plugin name
  const std::vector<ParamSpec>* params = nullptr;
  bool wrapper = false;
};

class Registry {
 public:
  static Registry& global();

  // Registration (called through a Registrar by plugin entry points). A duplicate type name of
  // the same kind throws gan::Error naming both libraries.
  void add(LayerFactory f, const std::string& plugin, const std::string& origin);
  void add(DatasetFactory f, const std::string& plugin, const std::string& origin);
  void add(LossFactory f, const std::string& plugin, const std::string& origin);
  void add(MetricFactory f, const std::string& plugin, const std::string& origin);

  // Lookup; unknown names throw gan::Error at `where` listing the known names of that kind.
  const LayerFactory& layer(const std::string& type, const Source& where = {}) const;
  const DatasetFactory& dataset(const std::string& type, const Source& where = {}) const;
  const LossFactory& loss(const std::string& type, const Source& where = {}) const;
  const MetricFactory& metric(const std::string& type, const Source& where = {}) const;

  bool has(Kind k, const std::string& type) const;
  std::vector<std::string> names(Kind k) const;  // sorted
  std::vector<TypeInfo> list() const;            // every type, sorted by kind then name
  const TypeInfo* find(const std::string& type) const;  // any kind; nullptr if unknown

  // Moves every type of `staged` into this registry, all or nothing: if any name is already
  // registered here, throws gan::Error naming both libraries and changes nothing. Used by the
  // plugin loader so that a plugin that fails half-way leaves no half of itself behind.
  void absorb(Registry& staged);

  // Removes everything (tests only).
  void clear();

 private:
  template <class F>
  struct Entry {
    F factory;
    std::string plugin, origin;
  };
  std::map<std::string, Entry<LayerFactory>> layers_;
  std::map<std::string, Entry<DatasetFactory>> datasets_;
  std::map<std::string, Entry<LossFactory>> losses_;
  std::map<std::string, Entry<MetricFactory>> metrics_;
};

// What a plugin's entry point receives: registers into the registry on behalf of one library.
class Registrar {
 public:
  Registrar(Registry& reg, std::string plugin, std::string origin)
      : reg_(reg), plugin_(std::move(plugin)), origin_(std::move(origin)) {}
  void add(LayerFactory f) { reg_.add(std::move(f), plugin_, origin_); }
  void add(DatasetFactory f) { reg_.add(std::move(f), plugin_, origin_); }
  void add(LossFactory f) { reg_.add(std::move(f), plugin_, origin_); }
  void add(MetricFactory f) { reg_.add(std::move(f), plugin_, origin_); }
  const std::string& plugin() const { return plugin_; }
  const std::string& origin() const { return origin_; }

 private:
  Registry& reg_;
  std::string plugin_, origin_;
};

}  // namespace gan
