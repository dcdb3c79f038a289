// pixel_norm: pixelwise feature normalisation (Karras et al., "Progressive Growing of GANs",
// 2018, section 4.2), as an out-of-tree layer type.
//
//   [[generator.layers]]
//   name = "pn1"
//   type = "pixel_norm"
//   eps = 1e-8            # optional
//
// Input [C, H, W]: every pixel's feature vector is divided by its root mean square over the C
// channels, y[c,h,w] = x[c,h,w] / sqrt(mean_c(x[:,h,w]^2) + eps). Input [F]: the whole vector.
// No parameters to learn; the output shape is the input shape.
#include <ATen/ATen.h>  // the tensor ops; <torch/torch.h> would compile in 17 s instead of 11 s

#include "gan/layer.hpp"
#include "gan/plugin.hpp"

namespace {

class PixelNorm : public gan::Layer {
 public:
  explicit PixelNorm(double eps) : eps_(eps) {}
  // x: [B, C, H, W] or [B, F]; normalise over dimension 1.
  torch::Tensor forward(const torch::Tensor& x) override {
    return x * torch::rsqrt(x.pow(2).mean(1, /*keepdim=*/true) + eps_);
  }

 private:
  double eps_;
};

gan::LayerInfo pixel_norm_infer(const gan::LayerContext& c) {
  if (c.input.size() != 1 && c.input.size() != 3) {
    throw c.params.error("pixel_norm needs [C, H, W] or [F], but " + c.input_from + " produces " +
                         gan::shape_str(c.input));
  }
  // per element: square, accumulate, scale (the rsqrt per pixel is negligible)
  return gan::LayerInfo{c.input, /*params=*/0, /*macs=*/3 * gan::shape_numel(c.input)};
}

gan::LayerFactory pixel_norm_factory() {
  gan::LayerFactory f;
  f.type = "pixel_norm";
  f.doc = "Pixelwise feature normalisation (ProGAN): each pixel's C-vector divided by its RMS over the channels, "
          "y = x / sqrt(mean_c(x^2) + eps). [C, H, W] or [F] -> same shape; no parameters.";
  f.params = {
      gan::ParamSpec::real("eps", "added to the mean square before the square root", 1e-8).range(0, 1),
  };
  f.infer = pixel_norm_infer;
  f.create = [](const gan::LayerContext& c) { return std::make_shared<PixelNorm>(c.params.real("eps")); };
  return f;
}

}  // namespace

GAN_REGISTER_LAYER(pixel_norm_factory)
GAN_PLUGIN("example_layers", "0.1.0")
