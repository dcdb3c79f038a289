// A plugin whose gan_plugin_info() throws (entry points written by hand): gan must exit 1 naming
// this library.
#include <stdexcept>

#include "gan/plugin.hpp"

GAN_PLUGIN_EXPORT const gan::PluginInfo* gan_plugin_info() {
  throw std::runtime_error("info_throw: gan_plugin_info failed on purpose");
}
GAN_PLUGIN_EXPORT void gan_plugin_register(gan::Registrar&) {}
