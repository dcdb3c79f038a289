// hinge.cpp — the hinge loss of Lim & Ye 2017 / Miyato et al. 2018 (SNGAN).
#include "losses.hpp"

#include "gan/plugin.hpp"

namespace gan_losses {

at::Tensor HingeLoss::discriminator_loss(const gan::LossInputs& in) {
  const at::Tensor real = checked_logits(in.real_logits, "real_logits", "hinge");
  const at::Tensor fake = checked_logits(in.fake_logits, "fake_logits", "hinge");
  return torch::relu(1 - real).mean() + torch::relu(1 + fake).mean();
}

at::Tensor HingeLoss::generator_loss(const at::Tensor& fake_logits) {
  return -checked_logits(fake_logits, "fake_logits", "hinge").mean();
}

gan::LossFactory hinge_factory() {
  gan::LossFactory f;
  f.type = "hinge";
  f.doc =
      "Hinge loss on logits (Lim & Ye 2017, as in SNGAN). D minimises mean relu(1 - D(x)) + "
      "mean relu(1 + D(G(z))); G minimises -mean D(G(z)). No parameters.";
  f.create = [](const gan::LossContext&) -> std::unique_ptr<gan::Loss> {
    return std::make_unique<HingeLoss>();
  };
  return f;
}

GAN_REGISTER_LOSS(hinge_factory)

}  // namespace gan_losses
