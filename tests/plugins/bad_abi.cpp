// A plugin built "for another gan": its entry points are written by hand and report ABI 999,
// so the loader must refuse it before calling gan_plugin_register (test_registry.cpp).
#include "gan/plugin.hpp"

GAN_PLUGIN_EXPORT const gan::PluginInfo* gan_plugin_info() {
  static const gan::PluginInfo info{999, "bad_abi", "0.0.1", "99.0.0", GAN_CXX11_ABI_VALUE};
  return &info;
}
GAN_PLUGIN_EXPORT void gan_plugin_register(gan::Registrar&) {
  // Never reached: registering after an ABI mismatch would be undefined behaviour.
  __builtin_trap();
}
