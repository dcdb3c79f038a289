// adaconv_layer.cpp — the `adaconv` layer type (AdaConvBlock of the AdaGAN paper) and the plugin
// entry points. The maths is in adaconv_op.{hpp,cpp}; see README.md.
//
//   [[generator.layers]]
//   name = "up1"
//   type = "adaconv"
//   out_channels = 64          # required, 1..65536
//   kernel_size = 3            # K_f: per-pixel kernel, odd 1..7
//   adaptive_kernel_size = 3   # K_a: window the kernel is regressed from, odd 1..7
//   impl = "auto"              # "auto" | "fused" | "reference"
//
// Input {C, H, W} -> output {out_channels, H, W} (zero padding, stride 1).
#include <memory>
#include <string>
#include <vector>

#include "adaconv_op.hpp"
#include "gan/layer.hpp"
#include "gan/plugin.hpp"

namespace {

struct Config {
  int64_t C, H, W, O, Kf, Ka;
  adaconv::Impl impl;
};

// Validated configuration, or a located gan::Error.
Config config(const gan::LayerContext& c) {
  const gan::Params& p = c.params;
  if (c.input.size() != 3)
    throw p.error("adaconv needs a {C, H, W} input (an image feature map), got " +
                  gan::shape_str(c.input) + "; put a reshape before it");
  Config cfg{c.input[0], c.input[1], c.input[2], p.integer("out_channels"),
             p.integer("kernel_size"), p.integer("adaptive_kernel_size"),
             adaconv::parse_impl(p.string("impl"))};
  for (const char* k : {"kernel_size", "adaptive_kernel_size"}) {
    const int64_t v = p.integer(k);
    if (v % 2 == 0) throw p.error(k, std::string(k) + " must be odd (1, 3, 5 or 7), got " + std::to_string(v));
  }
  if (cfg.C < 1 || cfg.H < 1 || cfg.W < 1)
    throw p.error("adaconv input must be non-empty, got " + gan::shape_str(c.input));
  return cfg;
}

class AdaConvLayer : public gan::Layer {
 public:
  explicit AdaConvLayer(const Config& cfg) : cfg_(cfg) {
    adaconv::Weights w = adaconv::init_weights(cfg.C, cfg.O, cfg.Kf, cfg.Ka);
    dw_w_ = register_parameter("depthwise_weight", w.dw_w);
    dw_b_ = register_parameter("depthwise_bias", w.dw_b);
    pw_w_ = register_parameter("pointwise_weight", w.pw_w);
    pw_b_ = register_parameter("pointwise_bias", w.pw_b);
    b_w_ = register_parameter("bias_weight", w.b_w);
    b_b_ = register_parameter("bias_bias", w.b_b);
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    // A wrapper such as spectral_norm reparametrises the three convolution weights through
    // transformed(w, i), i their index in reparametrisable_weights().
    return adaconv::forward(x, {transformed(dw_w_, 1), dw_b_, transformed(pw_w_, 2), pw_b_, transformed(b_w_, 0), b_b_},
                            cfg_.Kf, cfg_.impl);
  }

  // The bias-branch conv is the layer's ordinary convolution weight (index 0, what a
  // single-weight wrapper transforms); the depthwise and 1x1 regression convs follow.
  torch::Tensor reparametrisable_weight() override { return b_w_; }
  std::vector<NamedWeight> reparametrisable_weights() override {
    return {{"bias_weight", b_w_}, {"depthwise_weight", dw_w_}, {"pointwise_weight", pw_w_}};
  }

 private:
  Config cfg_;
  torch::Tensor dw_w_, dw_b_, pw_w_, pw_b_, b_w_, b_b_;
};

gan::LayerFactory adaconv_factory() {
  gan::LayerFactory f;
  f.type = "adaconv";
  f.doc =
      "AdaConvBlock (AdaGAN): a KxK convolution whose kernel is regressed per pixel. "
      "W = ReLU(1x1(depthwise_KaxKa(x))) gives each pixel a Kf*Kf*C_in*C_out kernel, "
      "b = conv_KaxKa(x) its bias; out(p) = W(p) * patch_Kf(x, p) + b(p). Zero padding, stride 1. "
      "Input {C, H, W}, output {out_channels, H, W}. Cost per pixel ~ Kf^2*C_in^2*C_out "
      "multiply-adds; impl=auto/fused never stores the per-pixel kernels.";
  f.params = {
      gan::ParamSpec::integer("out_channels", "output channels C_out").required().range(1, 65536),
      gan::ParamSpec::integer("kernel_size", "K_f: size of the per-pixel kernel (odd)", 3).range(1, 7),
      gan::ParamSpec::integer("adaptive_kernel_size",
                              "K_a: window the kernel and bias are regressed from (odd)", 3)
          .range(1, 7),
      gan::ParamSpec::string("impl",
                             "auto: fused kernel keeping 1 ReLU bit per kernel element for the "
                             "backward; fused: fused kernel, full recompute; reference: plain "
                             "LibTorch ops (stores the per-pixel kernels)",
                             "auto")
          .one_of({"auto", "fused", "reference"}),
  };
  // Its three convolution weights (bias branch, depthwise, 1x1 regression) may be wrapped, e.g.
  // by spectral_norm, which normalises each by its own largest singular value.
  f.has_weight = true;
  // Only the reference is plain autograd; the fused kernels' backward is not differentiable.
  f.no_double_backward = [](const gan::Params& p) -> std::string {
    const std::string impl = p.string("impl");
    if (impl == "reference") return "";
    const gan::Source at = p.source("impl");
    const bool written = at.line != p.where().line || at.file != p.where().file;
    return "impl = \"" + impl + "\"" + (written ? " (" + at.str() + ")" : std::string(" (the default)")) +
           " has no second derivative (the fused kernel's backward is not itself differentiable); set "
           "impl = \"reference\" on this layer (plain LibTorch ops, twice differentiable, but it stores the "
           "per-pixel kernels)";
  };
  f.infer = [](const gan::LayerContext& c) {
    const Config cfg = config(c);
    return gan::LayerInfo{{cfg.O, cfg.H, cfg.W}, adaconv::param_count(cfg.C, cfg.O, cfg.Kf, cfg.Ka),
                          adaconv::macs_per_sample(cfg.C, cfg.O, cfg.H, cfg.W, cfg.Kf, cfg.Ka)};
  };
  f.create = [](const gan::LayerContext& c) -> std::shared_ptr<gan::Layer> {
    return std::make_shared<AdaConvLayer>(config(c));
  };
  return f;
}

}  // namespace

GAN_REGISTER_LAYER(adaconv_factory)
GAN_PLUGIN("adaconv", "0.1.0")
