// Core layers with parameters: linear, conv2d, conv_transpose2d, batchnorm.
//
//   linear            [F_in] -> [out_features]                y = x W^T + b
//   conv2d            [C_in, H, W] -> [out_channels, H', W']  H' = (H + 2p - k) / s + 1
//   conv_transpose2d  [C_in, H, W] -> [out_channels, H', W']  H' = (H - 1) s - 2p + k + output_padding
//   batchnorm  [C, H, W] or [F] -> same                        BatchNorm2d / BatchNorm1d
#include <torch/torch.h>

#include "gan/checked.hpp"
#include "gan/collectives.hpp"
#include "gan/layer.hpp"
#include "gan/plugin.hpp"

namespace {

using gan::LayerContext;
using gan::LayerFactory;
using gan::LayerInfo;
using gan::ParamSpec;

torch::Tensor small_normal(std::vector<int64_t> sizes) { return torch::randn(sizes) * 0.02; }

void check_declared_input(const LayerContext& c, const char* key, int64_t actual, const char* what) {
  if (c.params.has(key) && c.params.integer(key) != actual) {
    throw c.params.error(key, std::string(key) + " " + std::to_string(c.params.integer(key)) +
                                  " does not match the " + std::to_string(actual) + " " + what + " produced by " +
                                  c.input_from);
  }
}

// The [C, H, W] input of a convolution, after its optional in_channels check.
struct ImageInput {
  int64_t c, h, w;
};
ImageInput image_input(const LayerContext& c, const std::string& type) {
  if (c.input.size() != 3) {
    throw c.params.error(type + " needs an image input [C, H, W], but " + c.input_from + " produces " +
                         gan::shape_str(c.input) + (c.input.size() == 1 ? ": add a \"reshape\" layer before it" : ""));
  }
  check_declared_input(c, "in_channels", c.input[0], "channels");
  return {c.input[0], c.input[1], c.input[2]};
}

// ---------------------------------------------------------------------------------------------
class LinearLayer : public gan::Layer {
 public:
  LinearLayer(int64_t in, int64_t out, bool bias) {
    weight_ = register_parameter("weight", small_normal({out, in}));
    if (bias) bias_ = register_parameter("bias", torch::zeros({out}));
  }
  torch::Tensor forward(const torch::Tensor& x) override { return torch::linear(x, transformed(weight_), bias_); }
  torch::Tensor reparametrisable_weight() override { return weight_; }

 private:
  torch::Tensor weight_, bias_;
};

LayerInfo linear_infer(const LayerContext& c) {
  if (c.input.size() != 1) {
    throw c.params.error("linear needs a flat input, but " + c.input_from + " produces " + gan::shape_str(c.input) +
                         ": add a layer of type \"flatten\" before it");
  }
  int64_t in = c.input[0], out = c.params.integer("out_features");
  check_declared_input(c, "in_features", in, "features");
  bool bias = c.params.boolean("bias");
  const int64_t weights = gan::checked_mul(in, out);
  return {{out}, gan::checked_add(weights, bias ? out : 0), weights};
}

LayerFactory linear_factory() {
  LayerFactory f;
  f.type = "linear";
  f.doc = "Fully connected layer (dense): [F_in] -> [out_features], y = x W^T + b.";
  f.params = {
      ParamSpec::integer("out_features", "output features").required().range(1, 1 << 26),
      ParamSpec::integer("in_features", "optional check: must equal the input's features").range(1, 1 << 26),
      ParamSpec::boolean("bias", "learn an additive bias", true),
  };
  f.has_weight = true;
  f.infer = linear_infer;
  f.create = [](const LayerContext& c) {
    return std::make_shared<LinearLayer>(c.input[0], c.params.integer("out_features"), c.params.boolean("bias"));
  };
  return f;
}

// ---------------------------------------------------------------------------------------------
class Conv2dLayer : public gan::Layer {
 public:
  Conv2dLayer(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad, bool bias)
      : stride_(stride), pad_(pad) {
    weight_ = register_parameter("weight", small_normal({out, in, k, k}));
    if (bias) bias_ = register_parameter("bias", torch::zeros({out}));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    return torch::conv2d(x, transformed(weight_), bias_, {stride_, stride_}, {pad_, pad_});
  }
  torch::Tensor reparametrisable_weight() override { return weight_; }

 private:
  int64_t stride_, pad_;
  torch::Tensor weight_, bias_;
};

int64_t conv_padding(const LayerContext& c) {
  int64_t p = c.params.integer("padding");
  return p >= 0 ? p : (c.params.integer("kernel_size") - 1) / 2;
}

LayerInfo conv2d_infer(const LayerContext& c) {
  const auto [cin, h, w] = image_input(c, "conv2d");
  int64_t k = c.params.integer("kernel_size"), s = c.params.integer("stride"), p = conv_padding(c);
  int64_t cout = c.params.integer("out_channels");
  if (c.params.integer("padding") < 0 && s == 1 && k % 2 == 0) {
    // 'same' padding cannot keep the size with an even kernel: the image would lose a row and a
    // column here, and the mismatch only surface layers later
    throw c.params.error("kernel_size", "kernel_size " + std::to_string(k) + " is even, so padding = -1 ('same') "
                         "cannot keep the size at stride 1: " + std::to_string(h) + "x" + std::to_string(w) +
                         " would become " + std::to_string(h - 1) + "x" + std::to_string(w - 1) + "; use an odd "
                         "kernel_size (" + std::to_string(k - 1) + " or " + std::to_string(k + 1) +
                         ") or give padding explicitly");
  }
  int64_t ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1;
  if (h + 2 * p < k || w + 2 * p < k) {
    throw c.params.error("kernel_size", "kernel " + std::to_string(k) + "x" + std::to_string(k) +
                                            " is larger than the padded input " + gan::shape_str(c.input));
  }
  bool bias = c.params.boolean("bias");
  const int64_t weights = gan::checked_mul(gan::checked_mul(cout, cin), k * k);
  return {{cout, ho, wo}, gan::checked_add(weights, bias ? cout : 0),
          gan::checked_mul(weights, gan::checked_mul(ho, wo))};
}

LayerFactory conv2d_factory() {
  LayerFactory f;
  f.type = "conv2d";
  f.doc = "2-D convolution: [C_in, H, W] -> [out_channels, H', W'], H' = (H + 2*padding - kernel_size) / stride + 1. "
          "Zero padding; padding = -1 means (kernel_size - 1) / 2 ('same' at stride 1).";
  f.params = {
      ParamSpec::integer("out_channels", "output channels").required().range(1, 1 << 16),
      ParamSpec::integer("kernel_size", "square kernel size", 3).range(1, 31),
      ParamSpec::integer("stride", "stride", 1).range(1, 16),
      ParamSpec::integer("padding", "zero padding on each side; -1 = (kernel_size - 1) / 2", -1).range(-1, 64),
      ParamSpec::integer("in_channels", "optional check: must equal the input's channels").range(1, 1 << 16),
      ParamSpec::boolean("bias", "learn an additive bias", true),
  };
  f.has_weight = true;
  f.infer = conv2d_infer;
  f.create = [](const LayerContext& c) {
    return std::make_shared<Conv2dLayer>(c.input[0], c.params.integer("out_channels"), c.params.integer("kernel_size"),
                                         c.params.integer("stride"), conv_padding(c), c.params.boolean("bias"));
  };
  return f;
}

// ---------------------------------------------------------------------------------------------
// The transposed convolution (DCGAN's upsampling layer): the gradient of conv2d with respect to its
// input. Weight [C_in, C_out, k, k] as torch.nn.ConvTranspose2d, so a checkpoint maps onto PyTorch.
class ConvTranspose2dLayer : public gan::Layer {
 public:
  ConvTranspose2dLayer(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad, int64_t out_pad, bool bias)
      : stride_(stride), pad_(pad), out_pad_(out_pad) {
    weight_ = register_parameter("weight", small_normal({in, out, k, k}));
    if (bias) bias_ = register_parameter("bias", torch::zeros({out}));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    return torch::conv_transpose2d(x, transformed(weight_), bias_, {stride_, stride_}, {pad_, pad_},
                                   {out_pad_, out_pad_});
  }
  torch::Tensor reparametrisable_weight() override { return weight_; }
  // [in, out, k, k]: outputs along dim 1 (spectral_norm normalises along it, as PyTorch's dim=1)
  std::vector<NamedWeight> reparametrisable_weights() override { return {NamedWeight{"weight", weight_, 1}}; }

 private:
  int64_t stride_, pad_, out_pad_;
  torch::Tensor weight_, bias_;
};

LayerInfo conv_transpose2d_infer(const LayerContext& c) {
  const auto [cin, h, w] = image_input(c, "conv_transpose2d");
  int64_t k = c.params.integer("kernel_size"), s = c.params.integer("stride"), p = c.params.integer("padding");
  int64_t op = c.params.integer("output_padding"), cout = c.params.integer("out_channels");
  if (op >= s) {
    throw c.params.error("output_padding", "output_padding " + std::to_string(op) + " must be smaller than stride " +
                                               std::to_string(s) + " (it only resolves which of the stride's output "
                                               "sizes is meant)");
  }
  int64_t ho = (h - 1) * s - 2 * p + k + op, wo = (w - 1) * s - 2 * p + k + op;
  if (ho < 1 || wo < 1) {
    throw c.params.error("padding", "padding " + std::to_string(p) + " leaves no output pixel for the input " +
                                        gan::shape_str(c.input) + " (output " + std::to_string(ho) + "x" +
                                        std::to_string(wo) + "): lower padding");
  }
  bool bias = c.params.boolean("bias");
  const int64_t weights = gan::checked_mul(gan::checked_mul(cout, cin), k * k);
  // every input pixel scatters one k x k x C_out patch: C_in * C_out * k^2 multiply-adds per input pixel
  return {{cout, ho, wo}, gan::checked_add(weights, bias ? cout : 0), gan::checked_mul(weights, gan::checked_mul(h, w))};
}

LayerFactory conv_transpose2d_factory() {
  LayerFactory f;
  f.type = "conv_transpose2d";
  f.doc = "2-D transposed convolution (DCGAN's upsampling): [C_in, H, W] -> [out_channels, H', W'], "
          "H' = (H - 1) * stride - 2 * padding + kernel_size + output_padding; the defaults (kernel 4, stride 2, "
          "padding 1) double the size. Weight [C_in, C_out, k, k] as torch.nn.ConvTranspose2d.";
  f.params = {
      ParamSpec::integer("out_channels", "output channels").required().range(1, 1 << 16),
      ParamSpec::integer("kernel_size", "square kernel size", 4).range(1, 31),
      ParamSpec::integer("stride", "stride (the upsampling factor)", 2).range(1, 16),
      ParamSpec::integer("padding", "removed from each side of the full output", 1).range(0, 64),
      ParamSpec::integer("output_padding", "added to one side of the output (< stride)", 0).range(0, 15),
      ParamSpec::integer("in_channels", "optional check: must equal the input's channels").range(1, 1 << 16),
      ParamSpec::boolean("bias", "learn an additive bias", true),
  };
  f.has_weight = true;
  f.infer = conv_transpose2d_infer;
  f.create = [](const LayerContext& c) {
    return std::make_shared<ConvTranspose2dLayer>(c.input[0], c.params.integer("out_channels"),
                                                  c.params.integer("kernel_size"), c.params.integer("stride"),
                                                  c.params.integer("padding"), c.params.integer("output_padding"),
                                                  c.params.boolean("bias"));
  };
  return f;
}

// ---------------------------------------------------------------------------------------------
class BatchNormLayer : public gan::Layer {
 public:
  BatchNormLayer(int64_t c, double momentum, double eps, bool affine) : momentum_(momentum), eps_(eps) {
    if (affine) {
      weight_ = register_parameter("weight", torch::ones({c}));
      bias_ = register_parameter("bias", torch::zeros({c}));
    }
    running_mean_ = register_buffer("running_mean", torch::zeros({c}));
    running_var_ = register_buffer("running_var", torch::ones({c}));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    if (is_training()) {
      if (gan::Collectives* group = gan::batch_statistics_group()) return synchronised(x, *group);
    }
    return torch::batch_norm(x, weight_, bias_, running_mean_, running_var_, is_training(), momentum_, eps_,
                             /*cudnn_enabled=*/true);
  }

 private:
  // Data-parallel training with [train] sync_batchnorm: the statistics of the whole batch over
  // all ranks, two-pass (mean, then the mean squared deviation) through autograd all-reduces, so
  // the gradient reaching each rank's x is that of one process normalising the whole batch.
  torch::Tensor synchronised(const torch::Tensor& x, gan::Collectives& group) {
    const int64_t c = x.size(1);
    std::vector<int64_t> dims = {0}, bshape = {1, c};
    for (int64_t d = 2; d < x.dim(); ++d) {
      dims.push_back(d);
      bshape.push_back(1);
    }
    torch::Tensor count = torch::full({1}, static_cast<double>(x.numel() / c), x.options());
    torch::Tensor sums = gan::all_reduce_sum_autograd(torch::cat({x.sum(dims), count}), group);
    torch::Tensor n = sums.narrow(0, c, 1);
    torch::Tensor mean = sums.narrow(0, 0, c) / n;
    torch::Tensor centred = x - mean.view(bshape);
    torch::Tensor var = gan::all_reduce_sum_autograd(centred.square().sum(dims), group) / n;  // biased, as batch_norm
    torch::Tensor y = centred * torch::rsqrt(var + eps_).view(bshape);
    if (weight_.defined()) y = y * weight_.view(bshape) + bias_.view(bshape);
    {
      torch::NoGradGuard ng;
      const double total = n.item<double>();
      const double unbiased = total > 1 ? total / (total - 1) : 1.0;
      running_mean_.mul_(1 - momentum_).add_(mean.detach().to(running_mean_.dtype()), momentum_);
      running_var_.mul_(1 - momentum_).add_(var.detach().to(running_var_.dtype()), momentum_ * unbiased);
    }
    return y;
  }

  double momentum_, eps_;
  torch::Tensor weight_, bias_, running_mean_, running_var_;
};

LayerFactory batchnorm_factory() {
  LayerFactory f;
  f.type = "batchnorm";
  f.doc = "Batch normalisation over the batch (and spatial dims for images): [C, H, W] or [F] -> same. "
          "Batch statistics in training, running averages in evaluation. In data-parallel training the "
          "statistics are each rank's share's, or the whole batch's with [train] sync_batchnorm = true.";
  f.params = {
      ParamSpec::real("momentum", "running-average momentum", 0.1).range(0, 1),
      ParamSpec::real("eps", "added to the variance", 1e-5).range(0, 1),
      ParamSpec::boolean("affine", "learn a scale and shift per channel", true),
  };
  f.infer = [](const LayerContext& c) {
    if (c.input.size() != 1 && c.input.size() != 3) {
      throw c.params.error("batchnorm needs [C, H, W] or [F], got " + gan::shape_str(c.input));
    }
    int64_t ch = c.input[0];
    return LayerInfo{c.input, c.params.boolean("affine") ? 2 * ch : 0, gan::checked_mul(2, gan::checked_numel(c.input))};
  };
  f.create = [](const LayerContext& c) {
    return std::make_shared<BatchNormLayer>(c.input[0], c.params.real("momentum"), c.params.real("eps"),
                                            c.params.boolean("affine"));
  };
  return f;
}

}  // namespace

GAN_REGISTER_LAYER(linear_factory)
GAN_REGISTER_LAYER(conv2d_factory)
GAN_REGISTER_LAYER(conv_transpose2d_factory)
GAN_REGISTER_LAYER(batchnorm_factory)
