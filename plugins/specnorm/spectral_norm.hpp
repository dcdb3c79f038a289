// spectral_norm.hpp — spectral normalisation as a wrapper layer (Miyato et al., ICLR 2018).
//
// Used from a model file on any layer whose module exposes a weight through
// gan::Layer::reparametrisable_weight():
//
//   [[discriminator.layers]]
//   name = "c1"
//   type = "conv2d"
//   out_channels = 64
//   wrap = { type = "spectral_norm" }             # n_power_iterations = 1, eps = 1e-12
//
// The wrapper holds the wrapped layer as its submodule "inner" and installs a weight transform on
// it, so that the inner layer's forward() sees W_sn = W / sigma(W) instead of W. sigma is the
// largest singular value of W reshaped to [out, -1], the output dim being the one the layer names
// (Layer::NamedWeight::output_dim: 0, or 1 for conv_transpose2d's [in, out, k, k], as PyTorch),
// estimated by power iteration with persistent vectors:
//   u  [out]      buffer "u", left singular vector estimate
//   v  [in*k*k]   buffer "v", right singular vector estimate
// Training mode: n_power_iterations steps  v <- normalise(W^T u), u <- normalise(W v)  without
// gradient (u, v updated in place), then sigma = u^T W v with gradient through W.
// Evaluation mode: sigma = u^T W v with the stored u, v, which are not changed.
// At construction u, v start from N(0, I), normalised, followed by a warm-up: at least 15
// iterations (as torch.nn.utils.parametrizations.spectral_norm), then until the estimate of sigma
// changes by less than 1e-6 (relative) per iteration, at most 500. weights_reinitialised() (called
// by gan::init_paper after it redraws the weights) repeats the warm-up on the new weights, so
// sigma is exact from the first training iteration. Both are buffers: saved with the module's
// state, moved with .to(device), not counted as parameters.
//
// A layer with several weights (gan::Layer::reparametrisable_weights(), e.g. adaconv's
// bias_weight, depthwise_weight and pointwise_weight) has each normalised by its own sigma, with
// buffers "u_<name>", "v_<name>" per weight; a layer with one weight has "u" and "v".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "gan/components.hpp"
#include "gan/layer.hpp"

namespace gan_specnorm {

class SpectralNorm : public gan::Layer {
 public:
  // `inner` must have at least one reparametrisable weight, each defined with at least one dimension.
  SpectralNorm(std::shared_ptr<gan::Layer> inner, int64_t n_power_iterations, double eps);
  ~SpectralNorm() override;
  SpectralNorm(const SpectralNorm&) = delete;
  SpectralNorm& operator=(const SpectralNorm&) = delete;

  torch::Tensor forward(const torch::Tensor& x) override { return inner_->forward(x); }

  // The transform installed on the inner layer: weight i of reparametrisable_weights(),
  // W -> W / sigma(W), updating its u, v in training mode.
  torch::Tensor normalise(const torch::Tensor& weight, size_t index = 0);

  // Repeats the construction's warm-up on the inner layer's current weights.
  void weights_reinitialised() override;

  size_t weights() const { return entries_.size(); }
  const std::string& weight_name(size_t i = 0) const { return entries_.at(i).name; }
  const torch::Tensor& u(size_t i = 0) const { return entries_.at(i).u; }
  const torch::Tensor& v(size_t i = 0) const { return entries_.at(i).v; }
  // The current estimate u^T W v of weight i's largest singular value (no grad, changes nothing).
  double sigma(size_t i = 0) const;
  const std::shared_ptr<gan::Layer>& inner() const { return inner_; }
  int64_t n_power_iterations() const { return n_power_iterations_; }
  double eps() const { return eps_; }

 private:
  struct Entry {
    std::string name;
    torch::Tensor weight;  // the inner layer's parameter
    int64_t output_dim = 0;  // the weight's output dimension (Layer::NamedWeight)
    torch::Tensor u, v;    // buffers
  };
  // n steps of power iteration on the [out, -1] matrix `w` (no grad), updating e.u, e.v in place.
  void power_iterate(Entry& e, const torch::Tensor& w, int64_t n);
  // The warm-up described above, on e's current weight.
  void warm_up(Entry& e);

  std::shared_ptr<gan::Layer> inner_;
  int64_t n_power_iterations_;
  double eps_;
  std::vector<Entry> entries_;
};

// The factory of layer type "spectral_norm" (registered in spectral_norm.cpp).
gan::LayerFactory spectral_norm_factory();

}  // namespace gan_specnorm
