// A layer that applies a fixed function to its input: activations, upsampling, reshapes, pooling
// (simple_layers.cpp, graph_layers.cpp). Internal to the layers plugin.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <utility>

#include "gan/layer.hpp"

namespace gan_layers {

class FnLayer : public gan::Layer {
 public:
  explicit FnLayer(std::function<torch::Tensor(const torch::Tensor&)> fn) : fn_(std::move(fn)) {}
  torch::Tensor forward(const torch::Tensor& x) override { return fn_(x); }

 private:
  std::function<torch::Tensor(const torch::Tensor&)> fn_;
};

}  // namespace gan_layers
