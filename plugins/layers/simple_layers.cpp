// Core layers without parameters: activations, nearest upsampling, reshape, flatten.
//
//   relu, leaky_relu, tanh, sigmoid   any shape -> same
//   upsample    [C, H, W] -> [C, s*H, s*W]      nearest neighbour
//   reshape     any -> `shape` (same number of elements)
//   flatten     any -> [numel]
#include <torch/torch.h>

#include <functional>

#include "gan/checked.hpp"
#include "gan/layer.hpp"
#include "gan/plugin.hpp"
#include "fn_layer.hpp"

namespace {

using gan::LayerContext;
using gan::LayerFactory;
using gan::LayerInfo;
using gan::ParamSpec;
using gan_layers::FnLayer;

LayerFactory elementwise(std::string type, std::string doc, std::vector<ParamSpec> params,
                         std::function<std::function<torch::Tensor(const torch::Tensor&)>(const LayerContext&)> make) {
  LayerFactory f;
  f.type = std::move(type);
  f.doc = std::move(doc);
  f.params = std::move(params);
  f.infer = [](const LayerContext& c) { return LayerInfo{c.input, 0, 0}; };
  f.create = [make](const LayerContext& c) { return std::make_shared<FnLayer>(make(c)); };
  return f;
}

LayerFactory relu_factory() {
  return elementwise("relu", "Rectified linear unit, max(x, 0). Any shape.", {},
                     [](const LayerContext&) { return [](const torch::Tensor& x) { return torch::relu(x); }; });
}

LayerFactory leaky_relu_factory() {
  return elementwise("leaky_relu", "Leaky ReLU, x if x > 0 else negative_slope * x. Any shape.",
                     {ParamSpec::real("negative_slope", "slope for x < 0 (SNGAN uses 0.1)", 0.2).range(0, 1)},
                     [](const LayerContext& c) {
                       double s = c.params.real("negative_slope");
                       return [s](const torch::Tensor& x) { return torch::leaky_relu(x, s); };
                     });
}

LayerFactory tanh_factory() {
  return elementwise("tanh", "Hyperbolic tangent. Any shape; the usual generator output.", {},
                     [](const LayerContext&) { return [](const torch::Tensor& x) { return torch::tanh(x); }; });
}

LayerFactory sigmoid_factory() {
  return elementwise("sigmoid", "Logistic sigmoid. Any shape.", {},
                     [](const LayerContext&) { return [](const torch::Tensor& x) { return torch::sigmoid(x); }; });
}

LayerFactory upsample_factory() {
  LayerFactory f;
  f.type = "upsample";
  f.doc = "Nearest-neighbour upsampling: [C, H, W] -> [C, s*H, s*W].";
  f.params = {ParamSpec::integer("scale_factor", "integer scale s", 2).range(1, 16),
              ParamSpec::string("mode", "interpolation", "nearest").one_of({"nearest"})};
  f.infer = [](const LayerContext& c) {
    if (c.input.size() != 3) {
      throw c.params.error("upsample needs an image input [C, H, W], but " + c.input_from + " produces " +
                           gan::shape_str(c.input));
    }
    int64_t s = c.params.integer("scale_factor");
    return LayerInfo{{c.input[0], gan::checked_mul(c.input[1], s), gan::checked_mul(c.input[2], s)}, 0, 0};
  };
  f.create = [](const LayerContext& c) {
    int64_t s = c.params.integer("scale_factor");
    return std::make_shared<FnLayer>([s](const torch::Tensor& x) {
      return torch::upsample_nearest2d(x, std::vector<int64_t>{x.size(2) * s, x.size(3) * s});
    });
  };
  return f;
}

LayerFactory reshape_factory() {
  LayerFactory f;
  f.type = "reshape";
  f.doc = "Reshape each sample to `shape` (for example [128, 4, 4] after a linear layer). The number of "
          "elements must not change.";
  f.params = {ParamSpec::integers("shape", "per-sample output shape, without the batch").required().range(1, 1 << 26)};
  f.infer = [](const LayerContext& c) {
    auto shape = c.params.integers("shape");
    if (shape.empty()) throw c.params.error("shape", "'shape' must not be empty");
    if (gan::checked_numel(shape) != gan::checked_numel(c.input)) {
      throw c.params.error("shape", "cannot reshape " + gan::shape_str(c.input) + " (" +
                                        std::to_string(gan::shape_numel(c.input)) + " values, from " + c.input_from +
                                        ") to " + gan::shape_str(shape) + " (" +
                                        std::to_string(gan::shape_numel(shape)) + " values)");
    }
    return LayerInfo{shape, 0, 0};
  };
  f.create = [](const LayerContext& c) {
    std::vector<int64_t> target = {-1};
    for (auto d : c.params.integers("shape")) target.push_back(d);
    return std::make_shared<FnLayer>([target](const torch::Tensor& x) { return x.reshape(target); });
  };
  return f;
}

LayerFactory flatten_factory() {
  LayerFactory f;
  f.type = "flatten";
  f.doc = "Flatten each sample to [numel].";
  f.infer = [](const LayerContext& c) { return LayerInfo{{gan::checked_numel(c.input)}, 0, 0}; };
  f.create = [](const LayerContext&) {
    return std::make_shared<FnLayer>([](const torch::Tensor& x) { return x.flatten(1); });
  };
  return f;
}

}  // namespace

GAN_REGISTER_LAYER(relu_factory)
GAN_REGISTER_LAYER(leaky_relu_factory)
GAN_REGISTER_LAYER(tanh_factory)
GAN_REGISTER_LAYER(sigmoid_factory)
GAN_REGISTER_LAYER(upsample_factory)
GAN_REGISTER_LAYER(reshape_factory)
GAN_REGISTER_LAYER(flatten_factory)
