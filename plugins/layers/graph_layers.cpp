// Layers for graphs and ResNet blocks: merges of several inputs and pooling.
//
//   add, mul          N inputs of one shape -> that shape        elementwise sum / product
//   concat            N x [C_i, H, W] (or [F_i]) -> [sum C_i, H, W]   along channels
//   avg_pool          [C, H, W] -> [C, H/k, W/k]                 k x k average, stride k
//   global_sum_pool   [C, H, W] -> [C]                           sum over the pixels (SNGAN's D)
//   identity          any -> same                                a named junction
#include <torch/torch.h>

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

std::string inputs_desc(const LayerContext& c) {
  std::string s;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    s += (i ? ", " : "") + c.inputs_from[i] + " produces " + gan::shape_str(c.inputs[i]);
  }
  return s;
}

class MergeLayer : public gan::Layer {
 public:
  enum class Op { Add, Mul, Concat };
  explicit MergeLayer(Op op) : op_(op) {}
  torch::Tensor forward(const torch::Tensor& x) override { return x; }
  torch::Tensor forward_inputs(const std::vector<torch::Tensor>& xs) override {
    if (op_ == Op::Concat) return torch::cat(xs, 1);
    torch::Tensor h = xs[0];
    for (size_t i = 1; i < xs.size(); ++i) h = op_ == Op::Add ? h + xs[i] : h * xs[i];
    return h;
  }

 private:
  Op op_;
};

LayerFactory elementwise_merge(std::string type, std::string doc, MergeLayer::Op op) {
  LayerFactory f;
  f.type = type;
  f.doc = std::move(doc);
  f.min_inputs = 2;
  f.max_inputs = -1;
  f.infer = [type](const LayerContext& c) {
    for (size_t i = 1; i < c.inputs.size(); ++i) {
      if (c.inputs[i] != c.inputs[0]) {
        throw c.params.error(type + " needs inputs of one shape, but " + inputs_desc(c) +
                             ": make the branches agree (a 1x1 conv2d shortcut changes the channels, upsample or "
                             "avg_pool the size)");
      }
    }
    return LayerInfo{c.inputs[0], 0, gan::checked_mul(gan::checked_numel(c.inputs[0]),
                                                       static_cast<int64_t>(c.inputs.size() - 1))};
  };
  f.create = [op](const LayerContext&) { return std::make_shared<MergeLayer>(op); };
  return f;
}

LayerFactory add_factory() {
  return elementwise_merge("add", "Elementwise sum of 2 or more inputs of one shape (a residual connection: "
                                  "inputs = [\"conv2\", \"shortcut\"]).",
                           MergeLayer::Op::Add);
}

LayerFactory mul_factory() {
  return elementwise_merge("mul", "Elementwise product of 2 or more inputs of one shape (gating).",
                           MergeLayer::Op::Mul);
}

LayerFactory concat_factory() {
  LayerFactory f;
  f.type = "concat";
  f.doc = "Concatenation of 2 or more inputs along channels: [C_i, H, W] -> [sum C_i, H, W] (or [F_i] -> "
          "[sum F_i]); every other dimension must agree.";
  f.min_inputs = 2;
  f.max_inputs = -1;
  f.infer = [](const LayerContext& c) {
    gan::Shape out = c.inputs[0];
    for (size_t i = 1; i < c.inputs.size(); ++i) {
      const auto& s = c.inputs[i];
      bool ok = s.size() == out.size();
      for (size_t d = 1; ok && d < s.size(); ++d) ok = s[d] == out[d];
      if (!ok) {
        throw c.params.error("concat joins along channels, so every other dimension must agree, but " +
                             inputs_desc(c));
      }
      out[0] = gan::checked_add(out[0], s[0]);
    }
    return LayerInfo{out, 0, 0};
  };
  f.create = [](const LayerContext&) { return std::make_shared<MergeLayer>(MergeLayer::Op::Concat); };
  return f;
}

void need_image(const LayerContext& c, const char* type) {
  if (c.input.size() != 3) {
    throw c.params.error(std::string(type) + " needs an image input [C, H, W], but " + c.input_from + " produces " +
                         gan::shape_str(c.input));
  }
}

LayerFactory avg_pool_factory() {
  LayerFactory f;
  f.type = "avg_pool";
  f.doc = "Average pooling over k x k windows with stride k: [C, H, W] -> [C, H/k, W/k] (k = 2 halves the "
          "size, as in a ResNet down-block; k = 1 passes the input through).";
  f.params = {ParamSpec::integer("kernel_size", "window and stride k", 2).range(1, 64)};
  f.infer = [](const LayerContext& c) {
    need_image(c, "avg_pool");
    const int64_t k = c.params.integer("kernel_size");
    if (c.input[1] % k != 0 || c.input[2] % k != 0) {
      throw c.params.error("kernel_size", "kernel_size " + std::to_string(k) + " does not divide the " +
                                              std::to_string(c.input[1]) + "x" + std::to_string(c.input[2]) +
                                              " input from " + c.input_from);
    }
    gan::Shape out = {c.input[0], c.input[1] / k, c.input[2] / k};
    return LayerInfo{out, 0, k == 1 ? 0 : gan::checked_numel(c.input)};  // k = 1: a pass-through
  };
  f.create = [](const LayerContext& c) {
    const int64_t k = c.params.integer("kernel_size");
    return std::make_shared<FnLayer>([k](const torch::Tensor& x) {
      return k == 1 ? x : torch::avg_pool2d(x, {k, k}, {k, k});
    });
  };
  return f;
}

LayerFactory global_sum_pool_factory() {
  LayerFactory f;
  f.type = "global_sum_pool";
  f.doc = "Sum over all pixels: [C, H, W] -> [C] (the SNGAN ResNet discriminator's pooling, before its "
          "linear layer).";
  f.infer = [](const LayerContext& c) {
    need_image(c, "global_sum_pool");
    return LayerInfo{{c.input[0]}, 0, gan::checked_numel(c.input)};
  };
  f.create = [](const LayerContext&) {
    return std::make_shared<FnLayer>([](const torch::Tensor& x) { return x.sum({2, 3}); });
  };
  return f;
}

LayerFactory identity_factory() {
  LayerFactory f;
  f.type = "identity";
  f.doc = "Passes its input through: a named junction, e.g. a block's output that other layers read.";
  f.infer = [](const LayerContext& c) { return LayerInfo{c.input, 0, 0}; };
  f.create = [](const LayerContext&) {
    return std::make_shared<FnLayer>([](const torch::Tensor& x) { return x; });
  };
  return f;
}

}  // namespace

GAN_REGISTER_LAYER(add_factory)
GAN_REGISTER_LAYER(mul_factory)
GAN_REGISTER_LAYER(concat_factory)
GAN_REGISTER_LAYER(avg_pool_factory)
GAN_REGISTER_LAYER(global_sum_pool_factory)
GAN_REGISTER_LAYER(identity_factory)
