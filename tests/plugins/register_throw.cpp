// A plugin whose registration throws (the factory function a GAN_REGISTER_* line calls fails):
// a std::runtime_error, or with GAN_TEST_THROW_NON_STD set an int, which is no std::exception.
// gan must exit 1 naming this library, with nothing of it left registered.
#include <cstdlib>
#include <stdexcept>

#include "gan/plugin.hpp"

namespace {
gan::LayerFactory fine() {
  gan::LayerFactory f;
  f.type = "register_throw_fine";
  f.infer = [](const gan::LayerContext& c) { return gan::LayerInfo{c.input, 0, 0}; };
  f.create = [](const gan::LayerContext&) { return std::shared_ptr<gan::Layer>(); };
  return f;
}
gan::LayerFactory broken() {
  if (std::getenv("GAN_TEST_THROW_NON_STD")) throw 42;
  throw std::runtime_error("register_throw: factory construction failed on purpose");
}
}  // namespace

GAN_REGISTER_LAYER(fine)
GAN_REGISTER_LAYER(broken)
GAN_PLUGIN("register_throw_test", "0.0.1")
