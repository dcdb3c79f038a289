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
// largest singular value of W reshaped to [out, -1] (dim 0 of the weight is the output dim),
// estimated by power iteration with persistent vectors:
//   u  [out]      buffer "u", left singular vector estimate
//   v  [in*k*k]   buffer "v", right singular vector estimate
// Training mode: n_power_iterations steps  v <- normalise(W^T u), u <- normalise(W v)  without
// gradient (u, v updated in place), then sigma = u^T W v with gradient through W.
// Evaluation mode: sigma = u^T W v with the stored u, v, which are not changed.
// At construction u, v start from N(0, I), normalised, followed by 15 warm-up iterations (as
// torch.nn.utils.parametrizations.spectral_norm). Both are buffers: saved with the module's state,
// moved with .to(device), not counted as parameters.
#pragma once

#include <cstdint>
#include <memory>

#include <torch/torch.h>

#include "gan/components.hpp"
#include "gan/layer.hpp"

namespace gan_specnorm {

class SpectralNorm : public gan::Layer {
 public:
  // `inner` must have a defined reparametrisable_weight() with at least one dimension.
  SpectralNorm(std::shared_ptr<gan::Layer> inner, int64_t n_power_iterations, double eps);
  ~SpectralNorm() override;
  SpectralNorm(const SpectralNorm&) = delete;
  SpectralNorm& operator=(const SpectralNorm&) = delete;

  torch::Tensor forward(const torch::Tensor& x) override { return inner_->forward(x); }

  // The transform installed on the inner layer: W -> W / sigma(W), updating u, v in training mode.
  torch::Tensor normalise(const torch::Tensor& weight);

  const torch::Tensor& u() const { return u_; }
  const torch::Tensor& v() const { return v_; }
  const std::shared_ptr<gan::Layer>& inner() const { return inner_; }
  int64_t n_power_iterations() const { return n_power_iterations_; }
  double eps() const { return eps_; }

 private:
  // n steps of power iteration on the [out, -1] matrix `w` (no grad), updating u_, v_ in place.
  void power_iterate(const torch::Tensor& w, int64_t n);

  std::shared_ptr<gan::Layer> inner_;
  int64_t n_power_iterations_;
  double eps_;
  torch::Tensor u_, v_;
};

// The factory of layer type "spectral_norm" (registered in spectral_norm.cpp).
gan::LayerFactory spectral_norm_factory();

}  // namespace gan_specnorm
