// gan/network.hpp — a generator or discriminator built from a checked model (gan/model.hpp).
//
//   gan::ModelSpec spec = gan::load_model("models/fmnist/baseline.toml");
//   gan::ModelReport rep = gan::check_model(spec, gan::Registry::global());
//   gan::Network G(rep.generator, gan::Registry::global());
//   torch::Tensor img = G->forward(torch::randn({16, 128}));   // [16, 1, 28, 28]
//
// Each layer is registered as a submodule under its model-file name, so state_dict keys read
// "up1.weight", and wrappers nest their inner layer ("d1.inner.weight").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gan/layer.hpp"
#include "gan/model.hpp"

#include <torch/nn/pimpl.h>

namespace gan {

class NetworkImpl : public torch::nn::Module {
 public:
  NetworkImpl(const NetworkReport& report, const Registry& reg);
  torch::Tensor forward(const torch::Tensor& x);
  const std::vector<std::shared_ptr<Layer>>& layers() const { return layers_; }
  const NetworkReport& report() const { return report_; }

 private:
  NetworkReport report_;
  std::vector<std::shared_ptr<Layer>> layers_;
};
TORCH_MODULE(Network);

// The paper's init: every parameter with 2+ dims ~ truncated normal(0, std) clamped at 2 std,
// every 1-dim parameter named "bias" zero; others (BatchNorm scale) left as the layer made them.
// Then calls Layer::weights_reinitialised() on every layer below m (wrappers included), so that
// state derived from the old weights, such as spectral_norm's power-iteration vectors, follows.
void init_paper(torch::nn::Module& m, double std, uint64_t seed);

}  // namespace gan
