// gan/network.hpp — a generator or discriminator built from a checked model (gan/model.hpp).
//
//   gan::ModelSpec spec = gan::load_model("models/fmnist/baseline.toml");
//   gan::ModelReport rep = gan::check_model(spec, gan::Registry::global());
//   gan::Network G(rep.generator, gan::Registry::global());
//   torch::Tensor img = G->forward(torch::randn({16, 128}));   // [16, 1, 28, 28]
//
// Each layer is registered as a submodule under its model-file name, so state_dict keys read
// "up1.weight", wrappers nest their inner layer ("d1.inner.weight") and a block instance's layers
// sit under the instance ("block2.conv1.weight"). forward() runs the graph in the report's order,
// giving each layer the outputs of the layers it names in `inputs`.
#pragma once

#include <map>
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
  // In the order of report().layers (execution order).
  const std::vector<std::shared_ptr<Layer>>& layers() const { return layers_; }
  const NetworkReport& report() const { return report_; }

 private:
  NetworkReport report_;
  std::vector<std::shared_ptr<Layer>> layers_;
  std::vector<std::vector<long>> inputs_;  // per layer: indices of the layers it reads, -1 the input
  std::vector<size_t> last_use_;           // per layer: the last layer that reads its output
  std::map<std::string, std::shared_ptr<torch::nn::Module>> groups_;  // "block2" -> its container
};
TORCH_MODULE(Network);

// The paper's init: every parameter with 2+ dims ~ truncated normal(0, std) clamped at 2 std,
// every 1-dim parameter named "bias" zero; others (BatchNorm scale) left as the layer made them.
// Then calls Layer::weights_reinitialised() on every layer below m (wrappers included), so that
// state derived from the old weights, such as spectral_norm's power-iteration vectors, follows.
void init_paper(torch::nn::Module& m, double std, uint64_t seed);

// Initialises each layer by its own `init` (LayerReport::init) or else `model_init` ([train]
// init): "paper" as init_paper, "xavier_uniform" (Glorot uniform weights, zero biases), "default"
// (left as the layer made it). One random stream, drawn layer by layer in execution order.
void init_network(NetworkImpl& net, const std::string& model_init, double std, uint64_t seed);

}  // namespace gan
