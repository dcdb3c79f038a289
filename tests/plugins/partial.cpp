// A plugin whose second type is a duplicate ("conv2d"): its load must fail, and must not leave
// its first type ("partial_new") registered with code from a library that is then unloaded
// (test_registry.cpp, "[known-bug]": today it does, and using that type crashes).
#include <memory>

#include "gan/plugin.hpp"

namespace {
gan::LayerFactory layer(const char* type) {
  gan::LayerFactory f;
  f.type = type;
  f.infer = [](const gan::LayerContext& c) { return gan::LayerInfo{c.input, 0, 0}; };
  f.create = [](const gan::LayerContext&) { return std::shared_ptr<gan::Layer>(); };
  return f;
}
gan::LayerFactory first() { return layer("partial_new"); }
gan::LayerFactory second() { return layer("conv2d"); }
}  // namespace

GAN_REGISTER_LAYER(first)
GAN_REGISTER_LAYER(second)
GAN_PLUGIN("partial_test", "0.0.1")
