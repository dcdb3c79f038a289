// spectral_norm.cpp — the spectral_norm wrapper layer. See spectral_norm.hpp and README.md.
#include "spectral_norm.hpp"

#include <cmath>
#include <string>
#include <utility>

#include "gan/plugin.hpp"

namespace gan_specnorm {
namespace {

constexpr int64_t kWarmupIterations = 15;      // at least (as torch)
constexpr int64_t kWarmupMaxIterations = 500;   // at most
constexpr double kWarmupTolerance = 1e-6;       // relative change of sigma per iteration

// x / max(||x||, eps), as torch.nn.functional.normalize(x, dim=0, eps=eps).
torch::Tensor normalised(const torch::Tensor& x, double eps) {
  return x / x.norm().clamp_min(eps);
}

// The weight as an [outputs, -1] matrix, outputs along `output_dim` (Layer::NamedWeight).
torch::Tensor as_matrix(const torch::Tensor& w, int64_t output_dim) {
  const torch::Tensor t = output_dim == 0 ? w : w.movedim(output_dim, 0);
  return t.reshape({t.size(0), -1});
}

}  // namespace

SpectralNorm::SpectralNorm(std::shared_ptr<gan::Layer> inner, int64_t n_power_iterations, double eps)
    : inner_(std::move(inner)), n_power_iterations_(n_power_iterations), eps_(eps) {
  TORCH_CHECK(inner_, "spectral_norm: no inner layer");
  TORCH_CHECK(n_power_iterations_ >= 0, "spectral_norm: n_power_iterations must be >= 0");
  TORCH_CHECK(eps_ > 0, "spectral_norm: eps must be > 0");
  const std::vector<gan::Layer::NamedWeight> ws = inner_->reparametrisable_weights();
  TORCH_CHECK(!ws.empty(), "spectral_norm: the inner layer has no reparametrisable weight");
  for (const auto& nw : ws) {
    const torch::Tensor& w = nw.weight;
    TORCH_CHECK(w.defined() && w.dim() >= 1 && w.numel() > 0,
                "spectral_norm: the inner layer's weight '", nw.name, "' is undefined or empty");
    TORCH_CHECK(w.is_floating_point(), "spectral_norm: the weight '", nw.name, "' must be floating point");
    TORCH_CHECK(nw.output_dim >= 0 && nw.output_dim < w.dim(), "spectral_norm: the weight '", nw.name,
                "' names output dimension ", nw.output_dim, " of a ", w.dim(), "-d tensor");
  }
  register_module("inner", inner_);

  torch::NoGradGuard no_grad;
  const bool single = ws.size() == 1;
  for (const auto& nw : ws) {
    Entry e;
    e.name = nw.name;
    e.weight = nw.weight;
    e.output_dim = nw.output_dim;
    const torch::Tensor mat = as_matrix(nw.weight.detach(), e.output_dim);
    auto opts = mat.options();
    e.u = register_buffer(single ? "u" : "u_" + nw.name, normalised(torch::randn({mat.size(0)}, opts), eps_));
    e.v = register_buffer(single ? "v" : "v_" + nw.name, normalised(torch::randn({mat.size(1)}, opts), eps_));
    warm_up(e);
    entries_.push_back(std::move(e));
  }

  // The wrapper owns the inner layer; the destructor removes the transform again, so `this`
  // never dangles inside the inner layer.
  inner_->set_weights_transform(
      [this](const torch::Tensor& weight, size_t index) { return normalise(weight, index); });
}

SpectralNorm::~SpectralNorm() { inner_->set_weights_transform({}); }

void SpectralNorm::power_iterate(Entry& e, const torch::Tensor& w, int64_t n) {
  torch::NoGradGuard no_grad;
  for (int64_t i = 0; i < n; ++i) {
    e.v.copy_(normalised(torch::mv(w.t(), e.u), eps_));
    e.u.copy_(normalised(torch::mv(w, e.v), eps_));
  }
}

void SpectralNorm::warm_up(Entry& e) {
  torch::NoGradGuard no_grad;
  const torch::Tensor mat = as_matrix(e.weight.detach().to(e.u.options()), e.output_dim);
  power_iterate(e, mat, kWarmupIterations);
  double prev = torch::dot(e.u, torch::mv(mat, e.v)).item<double>();
  for (int64_t i = kWarmupIterations; i < kWarmupMaxIterations; ++i) {
    power_iterate(e, mat, 1);
    const double s = torch::dot(e.u, torch::mv(mat, e.v)).item<double>();
    const bool done = std::abs(s - prev) <= kWarmupTolerance * std::abs(s);
    prev = s;
    if (done) break;
  }
}

void SpectralNorm::weights_reinitialised() {
  for (Entry& e : entries_) warm_up(e);
}

double SpectralNorm::sigma(size_t i) const {
  torch::NoGradGuard no_grad;
  const Entry& e = entries_.at(i);
  const torch::Tensor mat = as_matrix(e.weight.detach().to(e.u.options()), e.output_dim);
  return torch::dot(e.u, torch::mv(mat, e.v)).item<double>();
}

torch::Tensor SpectralNorm::normalise(const torch::Tensor& weight, size_t index) {
  TORCH_CHECK(weight.defined() && weight.dim() >= 1, "spectral_norm: undefined weight");
  TORCH_CHECK(index < entries_.size(), "spectral_norm: the inner layer asked for weight ", index, " of ",
              entries_.size());
  Entry& e = entries_[index];
  TORCH_CHECK(weight.device() == e.u.device() && weight.scalar_type() == e.u.scalar_type(),
              "spectral_norm: weight '", e.name, "' (", weight.device(), ", ", weight.scalar_type(),
              ") and its u buffer (", e.u.device(), ", ", e.u.scalar_type(),
              ") must have the same device and dtype; move the whole wrapper, not the inner layer");
  const torch::Tensor mat = as_matrix(weight, e.output_dim);
  TORCH_CHECK(mat.size(0) == e.u.size(0) && mat.size(1) == e.v.size(0),
              "spectral_norm: weight '", e.name, "' shape ", weight.sizes(), " does not match u [", e.u.size(0),
              "] and v [", e.v.size(0), "]");
  torch::Tensor u = e.u, v = e.v;
  if (is_training() && n_power_iterations_ > 0) {
    power_iterate(e, mat.detach(), n_power_iterations_);
    // sigma's gradient needs u and v as they are now; later in-place updates (the next forward
    // before this backward) must not change them.
    u = e.u.clone();
    v = e.v.clone();
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
      "of W reshaped to [out, -1] (outputs along the dimension the layer names: 1 for conv_transpose2d, "
      "as PyTorch), estimated by power iteration with persistent buffers u [out] and "
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
    const auto ws = c.inner->reparametrisable_weights();
    if (ws.empty())
      throw c.params.error("spectral_norm needs a layer with a weight; layer '" + c.name +
                           "' has no reparametrisable weight");
    for (const auto& nw : ws)
      if (!nw.weight.defined() || nw.weight.dim() < 1 || nw.weight.numel() == 0)
        throw c.params.error("spectral_norm needs a layer with a weight; layer '" + c.name + "' exposes its weight '" + nw.name + "' undefined or empty");
    return std::make_shared<SpectralNorm>(c.inner, c.params.integer("n_power_iterations"),
                                          c.params.real("eps"));
  };
  return f;
}

GAN_REGISTER_LAYER(spectral_norm_factory)

}  // namespace gan_specnorm
