// gan/layer.hpp — the interface a layer plugin implements.
//
// A layer type is a LayerFactory: its parameter specs, a shape-inference function that needs
// no tensors (used by `gan check`, the fuzzer and the model validator), and a create function
// that builds the module. Both receive the validated parameters and the per-sample input shape.
//
//   gan::LayerFactory tanh_factory() {
//     gan::LayerFactory f;
//     f.type = "tanh";
//     f.doc = "Elementwise tanh.";
//     f.infer = [](const gan::LayerContext& c) { return gan::LayerInfo{c.input, 0, 0}; };
//     f.create = [](const gan::LayerContext&) { return std::make_shared<TanhLayer>(); };
//     return f;
//   }
//   GAN_REGISTER_LAYER(tanh_factory)          // from gan/plugin.hpp, once per type
//
// A test checks, for every registered layer type, that infer()'s output shape and parameter
// count agree with what the created module actually produces and holds.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gan/components.hpp"

// LibTorch is needed for the module itself; this header is included only by layer plugins
// and the runtime, never by the model front end.
#include <torch/nn/module.h>

namespace gan {

// Base of every layer module. forward() maps [B, *input] -> [B, *output].
class Layer : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;

  // Wrapper layers (for example spectral_norm) reparametrise an inner layer's weight:
  // the inner layer passes its raw weight through transformed() inside forward().
  using WeightTransform = std::function<torch::Tensor(const torch::Tensor&)>;
  // The parameter a wrapper may reparametrise, or undefined if the layer has none.
  virtual torch::Tensor reparametrisable_weight() { return {}; }
  void set_weight_transform(WeightTransform t) { transform_ = std::move(t); }

 protected:
  torch::Tensor transformed(const torch::Tensor& w) const { return transform_ ? transform_(w) : w; }

 private:
  WeightTransform transform_;
};

}  // namespace gan
