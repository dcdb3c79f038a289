// gan/components.hpp — the factories through which the registry reaches every component.
//
// Four kinds: layer, dataset, loss, metric. A factory names its type, documents itself,
// declares its parameters (ParamSpec) and creates the component from validated Params.
// Torch-free: the model front end, the registry and `gan check` see only this header; the
// component interfaces themselves are in gan/layer.hpp, gan/dataset.hpp, gan/loss.hpp and
// gan/metric.hpp.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gan/params.hpp"
#include "gan/shape.hpp"

namespace gan {

class Layer;
class Dataset;
class Loss;
class Metric;

// What shape inference reports for one layer (per sample).
struct LayerInfo {
  Shape output;
  int64_t params = 0;  // number of trainable scalars
  int64_t macs = 0;    // multiply-adds per sample in forward
};

struct LayerContext {
  std::string name;     // the layer's `name` in the model file ("block2.conv1" inside a block)
  std::string type;     // its `type`
  Shape input;          // per-sample input shape (the first input's, for a layer with several)
  std::string input_from;  // who produced the input, for messages: "'up1'", "the latent vector z"
  // Every input, in the order of the layer's `inputs = [...]` (one entry for a one-input layer),
  // and who produced each, for messages.
  std::vector<Shape> inputs;
  std::vector<std::string> inputs_from;
  Params params;        // validated; params.error(...) gives located messages
  // For wrapper types only: the wrapped layer's info and (in create) module.
  const LayerInfo* inner_info = nullptr;
  std::shared_ptr<Layer> inner;
};

struct LayerFactory {
  std::string type;
  std::string doc;                 // one paragraph: what it computes, input/output shapes
  std::vector<ParamSpec> params;
  bool wrapper = false;            // wraps another layer (used via `wrap = {type = ...}`)
  bool has_weight = false;         // its Layer exposes reparametrisable_weight() for wrappers
  // How many inputs the layer takes (`inputs = [...]` in the model file). A layer with more than
  // one (add, concat) receives them in Layer::forward_inputs(). max_inputs < 0: no upper bound.
  int min_inputs = 1;
  int max_inputs = 1;
  // Whether the layer's backward is itself differentiable (double backward), which a loss with a
  // gradient penalty needs (LossFactory::discriminator_double_backward). Given the validated
  // parameters: "" if it is, otherwise why not and what to change, e.g. "impl = \"fused\" has no
  // second derivative; use impl = \"reference\"". Unset: supported, as for every layer composed
  // of differentiable LibTorch ops; a layer with a custom autograd function must set it.
  std::function<std::string(const Params&)> no_double_backward;
  std::function<LayerInfo(const LayerContext&)> infer;
  std::function<std::shared_ptr<Layer>(const LayerContext&)> create;
};

struct DatasetContext {
  Params params;          // validated
  std::string base_dir;   // directory of the model file, for relative paths
  Shape expected;         // {C, H, W} the model expects (from [data] channels/size); may be empty
};

struct DatasetFactory {
  std::string type;
  std::string doc;
  std::vector<ParamSpec> params;
  std::function<std::unique_ptr<Dataset>(const DatasetContext&)> create;
};

struct LossContext {
  Params params;
};

struct LossFactory {
  std::string type;
  std::string doc;
  std::vector<ParamSpec> params;
  // Losses that back-propagate through the gradient of a network's output with respect to its
  // input (a gradient penalty, as WGAN-GP's on D) differentiate that network twice: every layer of
  // it must support double backward (LayerFactory::no_double_backward). Given the validated
  // [loss] parameters: what needs it ("its gradient penalty (lambda = 10)"), or "" when these
  // parameters do not. Unset: never. `gan check` refuses a model that breaks this.
  std::function<std::string(const Params&)> discriminator_double_backward;
  std::function<std::string(const Params&)> generator_double_backward;
  std::function<std::unique_ptr<Loss>(const LossContext&)> create;
};

struct MetricContext {
  Params params;
};

struct MetricFactory {
  std::string type;
  std::string doc;
  // The scale of the headline value, printed and stored beside it wherever it is reported (e.g.
  // KID: "raw unbiased MMD^2, not x1e3"); empty when the value is reported as is.
  std::string scale;
  std::vector<ParamSpec> params;
  std::function<std::unique_ptr<Metric>(const MetricContext&)> create;
};

}  // namespace gan
