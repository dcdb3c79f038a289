// A well-formed plugin that registers a layer type the shipped layers plugin already has
// ("conv2d"): loading it next to the shipped plugins must fail naming both libraries.
#include <memory>

#include "gan/plugin.hpp"

namespace {
gan::LayerFactory conv2d_again() {
  gan::LayerFactory f;
  f.type = "conv2d";
  f.doc = "A second conv2d (test only).";
  f.infer = [](const gan::LayerContext& c) { return gan::LayerInfo{c.input, 0, 0}; };
  f.create = [](const gan::LayerContext&) { return std::shared_ptr<gan::Layer>(); };
  return f;
}
}  // namespace

GAN_REGISTER_LAYER(conv2d_again)
GAN_PLUGIN("duplicate_test", "0.0.1")
