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
  // A layer whose factory takes several inputs (LayerFactory::max_inputs > 1) gets them all here,
  // in the order of its `inputs = [...]`; the network calls forward() for a layer with one input.
  virtual torch::Tensor forward_inputs(const std::vector<torch::Tensor>& xs) { return forward(xs.at(0)); }

  // Wrapper layers (for example spectral_norm) reparametrise an inner layer's weights: the inner
  // layer passes each raw weight through transformed() inside forward().
  using WeightTransform = std::function<torch::Tensor(const torch::Tensor&)>;
  // The parameter a wrapper may reparametrise, or undefined if the layer has none.
  virtual torch::Tensor reparametrisable_weight() { return {}; }
  // Every weight a wrapper reparametrises, with its parameter name: a layer with several (adaconv:
  // its depthwise, 1x1 regression and bias-branch convolutions) overrides this and passes weight i
  // through transformed(w, i). Default: reparametrisable_weight() alone, named "weight".
  // output_dim: the weight's dimension that indexes the layer's outputs (0 for linear and conv2d
  // weights [out, in, ...], 1 for conv_transpose2d's [in, out, k, k]); spectral_norm normalises
  // the weight as an [output, -1] matrix along it, as PyTorch does.
  struct NamedWeight {
    std::string name;
    torch::Tensor weight;
    int64_t output_dim = 0;
  };
  virtual std::vector<NamedWeight> reparametrisable_weights() {
    torch::Tensor w = reparametrisable_weight();
    if (!w.defined()) return {};
    return {NamedWeight{"weight", w, 0}};
  }
  // A transform of weight 0 only (single-weight layers) ...
  void set_weight_transform(WeightTransform t) {
    if (!t) {
      indexed_transform_ = {};
      return;
    }
    indexed_transform_ = [t = std::move(t)](const torch::Tensor& w, size_t i) { return i == 0 ? t(w) : w; };
  }
  // ... or of every weight of reparametrisable_weights(), told which (its index) it transforms.
  using IndexedWeightTransform = std::function<torch::Tensor(const torch::Tensor&, size_t)>;
  void set_weights_transform(IndexedWeightTransform t) { indexed_transform_ = std::move(t); }

  // Called after something outside the layer redrew its parameters in place (the trainer's paper
  // initialisation, gan::init_paper): state derived from the weights at construction, such as
  // spectral_norm's power-iteration vectors, is brought up to date here. Default: nothing.
  virtual void weights_reinitialised() {}

 protected:
  torch::Tensor transformed(const torch::Tensor& w, size_t index = 0) const {
    return indexed_transform_ ? indexed_transform_(w, index) : w;
  }

 private:
  IndexedWeightTransform indexed_transform_;
};

}  // namespace gan
