// wgan_gp.cpp — Wasserstein GAN with gradient penalty (Gulrajani et al. 2017, Algorithm 1).
#include "losses.hpp"

#include <cstdio>
#include <string>
#include <vector>

#include "gan/error.hpp"
#include "gan/plugin.hpp"

namespace gan_losses {

at::Tensor gradient_penalty(const std::function<at::Tensor(const at::Tensor&)>& discriminator,
                            const at::Tensor& real, const at::Tensor& fake, at::Tensor alpha) {
  if (!discriminator) throw gan::Error("wgan_gp: the trainer passed no discriminator to the loss");
  TORCH_CHECK(real.defined() && fake.defined(), "wgan_gp: real and fake batches must be given");
  TORCH_CHECK(real.sizes() == fake.sizes(), "wgan_gp: real ", real.sizes(), " and fake ", fake.sizes(),
              " batches must have the same shape");
  TORCH_CHECK(real.dim() >= 1 && real.size(0) > 0, "wgan_gp: empty batch");
  TORCH_CHECK(real.device() == fake.device() && real.scalar_type() == fake.scalar_type(),
              "wgan_gp: real and fake batches must have the same device and dtype");
  const int64_t b = real.size(0);
  if (!alpha.defined()) alpha = torch::rand({b}, real.options());
  TORCH_CHECK(alpha.numel() == b, "wgan_gp: alpha must have one value per sample");
  std::vector<int64_t> shape(real.dim(), 1);
  shape[0] = b;
  alpha = alpha.reshape(shape).to(real.options());

  at::Tensor x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(true);
  at::Tensor d = discriminator(x_hat);
  TORCH_CHECK(d.defined() && d.numel() == b, "wgan_gp: the discriminator returned ", d.sizes(),
              " for a batch of ", b);
  at::Tensor grad = torch::autograd::grad({d.sum()}, {x_hat}, /*grad_outputs=*/{},
                                          /*retain_graph=*/true, /*create_graph=*/true)[0];
  // sqrt(sum g^2 + tiny): the plain norm has an undefined gradient at g = 0.
  at::Tensor norm = (grad.reshape({b, -1}).pow(2).sum(1) + 1e-12).sqrt();
  return (norm - 1).pow(2).mean();
}

at::Tensor WganGpLoss::discriminator_loss(const gan::LossInputs& in) {
  const at::Tensor real = checked_logits(in.real_logits, "real_logits", "wgan_gp");
  const at::Tensor fake = checked_logits(in.fake_logits, "fake_logits", "wgan_gp");
  at::Tensor loss = fake.mean() - real.mean();
  if (lambda_ > 0) loss = loss + lambda_ * gradient_penalty(in.discriminator, in.real, in.fake);
  return loss;
}

at::Tensor WganGpLoss::generator_loss(const at::Tensor& fake_logits) {
  return -checked_logits(fake_logits, "fake_logits", "wgan_gp").mean();
}

gan::LossFactory wgan_gp_factory() {
  gan::LossFactory f;
  f.type = "wgan_gp";
  f.doc =
      "Wasserstein loss with gradient penalty (Gulrajani et al. 2017). D (the critic) minimises "
      "mean D(G(z)) - mean D(x) + lambda * mean (||grad D(x^)||_2 - 1)^2 at random interpolates "
      "x^ = a x + (1 - a) G(z), a ~ U[0, 1] per sample; G minimises -mean D(G(z)). The paper "
      "uses 5 D steps per G step (n_dis = 5) and Adam betas (0, 0.9), without batch norm in D.";
  f.params = {
      gan::ParamSpec::real("lambda", "weight of the gradient penalty (0 disables it)", 10.0).range(0, 1e6),
  };
  // The penalty differentiates D(x^) with respect to x^ with create_graph, then the D step
  // back-propagates through that gradient: D's layers are differentiated twice (G's are not: x^
  // is built from detached batches).
  f.discriminator_double_backward = [](const gan::Params& p) -> std::string {
    const double lambda = p.real("lambda");
    if (lambda <= 0) return "";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", lambda);
    return std::string("its gradient penalty, lambda = ") + buf;
  };
  f.create = [](const gan::LossContext& c) -> std::unique_ptr<gan::Loss> {
    return std::make_unique<WganGpLoss>(c.params.real("lambda"));
  };
  return f;
}

GAN_REGISTER_LOSS(wgan_gp_factory)

}  // namespace gan_losses
