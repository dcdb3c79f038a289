// spectral_norm.cpp — the spectral_norm wrapper layer. See spectral_norm.hpp and README.md.
#include "spectral_norm.hpp"

#include <string>
#include <utility>

#include "gan/plugin.hpp"

namespace gan_specnorm {
namespace {

constexpr int64_t kWarmupIterations = 15;

// x / max(||x||, eps), as torch.nn.functional.normalize(x, dim=0, eps=eps).
torch::Tensor normalised(const torch::Tensor& x, double eps) {
  return x / x.norm().clamp_min(eps);
}

}  // namespace

SpectralNorm::SpectralNorm(std::shared_ptr<gan::Layer> inner, int64_t n_power_iterations, double eps)
    : inner_(std::move(inner)), n_power_iterations_(n_power_iterations), eps_(eps) {
  TORCH_CHECK(inner_, "spectral_norm: no inner layer");
  TORCH_CHECK(n_power_iterations_ >= 0, "spectral_norm: n_power_iterations must be >= 0");
  TORCH_CHECK(eps_ > 0, "spectral_norm: eps must be > 0");
  torch::Tensor w = inner_->reparametrisable_weight();
  TORCH_CHECK(w.defined() && w.dim() >= 1 && w.numel() > 0,
              "spectral_norm: the inner layer has no reparametrisable weight");
  TORCH_CHECK(w.is_floating_point(), "spectral_norm: the weight must be floating point");
  register_module("inner", inner_);

  torch::NoGradGuard no_grad;
  const torch::Tensor mat = w.detach().reshape({w.size(0), -1});
  auto opts = mat.options();
  u_ = register_buffer("u", normalised(torch::randn({mat.size(0)}, opts), eps_));
  v_ = register_buffer("v", normalised(torch::randn({mat.size(1)}, opts), eps_));
  power_iterate(mat, kWarmupIterations);

  // The wrapper owns the inner layer; the destructor removes the transform again, so `this`
  // never dangles inside the inner layer.
  inner_->set_weight_transform([this](const torch::Tensor& weight) { return normalise(weight); });
}

SpectralNorm::~SpectralNorm() { inner_->set_weight_transform({}); }

void SpectralNorm::power_iterate(const torch::Tensor& w, int64_t n) {
  torch::NoGradGuard no_grad;
  for (int64_t i = 0; i < n; ++i) {
    v_.copy_(normalised(torch::mv(w.t(), u_), eps_));
    u_.copy_(normalised(torch::mv(w, v_), eps_));
  }
}

torch::Tensor SpectralNorm::normalise(const torch::Tensor& weight) {
  TORCH_CHECK(weight.defined() && weight.dim() >= 1, "spectral_norm: undefined weight");
  TORCH_CHECK(weight.device() == u_.device() && weight.scalar_type() == u_.scalar_type(),
              "spectral_norm: weight (", weight.device(), ", ", weight.scalar_type(),
              ") and its u buffer (", u_.device(), ", ", u_.scalar_type(),
              ") must have the same device and dtype; move the whole wrapper, not the inner layer");
  const torch::Tensor mat = weight.reshape({weight.size(0), -1});
  TORCH_CHECK(mat.size(0) == u_.size(0) && mat.size(1) == v_.size(0),
              "spectral_norm: weight shape ", weight.sizes(), " does not match u [", u_.size(0),
              "] and v [", v_.size(0), "]");
  torch::Tensor u = u_, v = v_;
  if (is_training() && n_power_iterations_ > 0) {
    power_iterate(mat.detach(), n_power_iterations_);
    // sigma's gradient needs u and v as they are now; later in-place updates (the next forward
    // before this backward) must not change them.
    u = u_.clone();
    v = v_.clone();
  }
  const torch::Tensor sigma = torch::dot(u, torch::mv(mat, v));
  return weight / sigma;
}

gan::LayerFactory spectral_norm_factory() {
  gan::LayerFactory f;
  f.type = "spectral_norm";
  f.doc =
      "Spectral normalisation (Miyato et al. 2018), a wrapper: wrap = { type = \"spectral_norm\" } on "
      "any layer with a weight. The inner layer sees W / sigma(W), sigma the largest singular value "
      "of W reshaped to [out, -1], estimated by power iteration with persistent buffers u [out] and "
      "v [in*k*k] (updated in training mode only, saved in checkpoints). Output shape, parameters "
      "and multiply-adds are the inner layer's.";
  f.wrapper = true;
  f.params = {
      gan::ParamSpec::integer("n_power_iterations",
                              "power iterations per training-mode forward (the paper: 1)", 1)
          .range(1, 10),
      gan::ParamSpec::real("eps", "lower bound of a vector norm in the power iteration", 1e-12)
          .range(1e-30, 1e-3),
  };
  f.infer = [](const gan::LayerContext& c) -> gan::LayerInfo {
    if (!c.inner_info) throw c.params.error("spectral_norm is a wrapper: use it as wrap = { type = \"spectral_norm\" }");
    return gan::LayerInfo{c.inner_info->output, c.inner_info->params, c.inner_info->macs};
  };
  f.create = [](const gan::LayerContext& c) -> std::shared_ptr<gan::Layer> {
    if (!c.inner) throw c.params.error("spectral_norm is a wrapper: use it as wrap = { type = \"spectral_norm\" }");
    torch::Tensor w = c.inner->reparametrisable_weight();
    if (!w.defined() || w.dim() < 1 || w.numel() == 0)
      throw c.params.error("spectral_norm needs a layer with a weight; layer '" + c.name +
                           "' has no reparametrisable weight");
    return std::make_shared<SpectralNorm>(c.inner, c.params.integer("n_power_iterations"),
                                          c.params.real("eps"));
  };
  return f;
}

GAN_REGISTER_LAYER(spectral_norm_factory)

}  // namespace gan_specnorm
