// gan/plugin.hpp — what a plugin library includes to register its types.
//
// One plugin library = one GAN_PLUGIN(...) line (in any one .cpp of the library) plus one
// registration line per type, at the bottom of the file that defines the type:
//
//   // my_layers.cpp
//   #include "gan/layer.hpp"
//   #include "gan/plugin.hpp"
//   gan::LayerFactory swish_factory() { ... }
//   GAN_REGISTER_LAYER(swish_factory)
//
//   // plugin.cpp
//   #include "gan/plugin.hpp"
//   GAN_PLUGIN("my_layers", "0.1.0")
//
// Build the library with gan_add_plugin() (CMake, from find_package(gan)), which compiles it with
// hidden visibility so each library keeps its own registration list, and exports only the
// entry points below. The loader checks gan_plugin_info()->abi before calling gan_plugin_register.
#pragma once

#include <functional>
#include <vector>

#include "gan/components.hpp"
#include "gan/registry.hpp"
#include "gan/version.hpp"

#define GAN_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

namespace gan {

// Returned by a plugin's gan_plugin_info(). Plain C layout so that the loader can read it
// before trusting anything else in the library.
struct PluginInfo {
  int abi;                // must equal gan::kAbiVersion of the loading framework
  const char* name;       // plugin name, e.g. "layers"
  const char* version;    // plugin version string
  const char* framework;  // GAN_VERSION_STRING the plugin was built against
  int cxx11_abi;          // _GLIBCXX_USE_CXX11_ABI the plugin was built with
};

namespace detail {
// The calling library's own list of registration functions (hidden visibility keeps one per
// library).
inline std::vector<std::function<void(Registrar&)>>& local_registrations() {
  static std::vector<std::function<void(Registrar&)>> list;
  return list;
}
inline bool add_local_registration(std::function<void(Registrar&)> fn) {
  local_registrations().push_back(std::move(fn));
  return true;
}
}  // namespace detail
}  // namespace gan

#ifndef _GLIBCXX_USE_CXX11_ABI
#define GAN_CXX11_ABI_VALUE 1
#else
#define GAN_CXX11_ABI_VALUE _GLIBCXX_USE_CXX11_ABI
#endif

#define GAN_CONCAT_INNER(a, b) a##b
#define GAN_CONCAT(a, b) GAN_CONCAT_INNER(a, b)

// Defines the two entry points of a plugin library.
#define GAN_PLUGIN(NAME, VERSION)                                                          \
  GAN_PLUGIN_EXPORT const ::gan::PluginInfo* gan_plugin_info() {                            \
    static const ::gan::PluginInfo info{::gan::kAbiVersion, NAME, VERSION,                  \
                                        GAN_VERSION_STRING, GAN_CXX11_ABI_VALUE};           \
    return &info;                                                                          \
  }                                                                                        \
  GAN_PLUGIN_EXPORT void gan_plugin_register(::gan::Registrar& registrar) {                 \
    for (auto& fn : ::gan::detail::local_registrations()) fn(registrar);                    \
  }

// One line per type: FACTORY_FN is a function returning the factory.
#define GAN_REGISTER_COMPONENT(FACTORY_FN)                                                 \
  static const bool GAN_CONCAT(gan_registered_, __LINE__) =                                 \
      ::gan::detail::add_local_registration(                                               \
          [](::gan::Registrar& r) { r.add(FACTORY_FN()); });
#define GAN_REGISTER_LAYER(FACTORY_FN) GAN_REGISTER_COMPONENT(FACTORY_FN)
#define GAN_REGISTER_DATASET(FACTORY_FN) GAN_REGISTER_COMPONENT(FACTORY_FN)
#define GAN_REGISTER_LOSS(FACTORY_FN) GAN_REGISTER_COMPONENT(FACTORY_FN)
#define GAN_REGISTER_METRIC(FACTORY_FN) GAN_REGISTER_COMPONENT(FACTORY_FN)
