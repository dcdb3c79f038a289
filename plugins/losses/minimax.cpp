// minimax.cpp — the GAN minimax loss (Goodfellow et al. 2014) with the non-saturating generator
// loss, the paper's default. Written with softplus, which is stable for logits of any size:
// -log sigma(x) = softplus(-x), -log(1 - sigma(x)) = softplus(x).
#include "losses.hpp"

#include "gan/plugin.hpp"

namespace gan_losses {

at::Tensor MinimaxLoss::discriminator_loss(const gan::LossInputs& in) {
  const at::Tensor real = checked_logits(in.real_logits, "real_logits", "minimax");
  const at::Tensor fake = checked_logits(in.fake_logits, "fake_logits", "minimax");
  return torch::softplus(-real).mean() + torch::softplus(fake).mean();
}

at::Tensor MinimaxLoss::generator_loss(const at::Tensor& fake_logits) {
  const at::Tensor fake = checked_logits(fake_logits, "fake_logits", "minimax");
  if (non_saturating_) return torch::softplus(-fake).mean();  // -log D(G(z))
  return -torch::softplus(fake).mean();                       // log(1 - D(G(z)))
}

gan::LossFactory minimax_factory() {
  gan::LossFactory f;
  f.type = "minimax";
  f.doc =
      "The GAN minimax loss on logits (the paper's loss). D minimises mean softplus(-D(x)) + "
      "mean softplus(D(G(z))) (binary cross-entropy, real = 1, fake = 0); G minimises mean "
      "softplus(-D(G(z))) = -log sigmoid(D(G(z))), the non-saturating loss, or with "
      "generator = \"saturating\" the original mean log(1 - sigmoid(D(G(z)))).";
  f.params = {
      gan::ParamSpec::string("generator",
                             "generator objective: non_saturating (-log D(G(z)), the paper) or "
                             "saturating (log(1 - D(G(z))))",
                             "non_saturating")
          .one_of({"non_saturating", "saturating"}),
  };
  f.create = [](const gan::LossContext& c) -> std::unique_ptr<gan::Loss> {
    return std::make_unique<MinimaxLoss>(c.params.string("generator") == "non_saturating");
  };
  return f;
}

GAN_REGISTER_LOSS(minimax_factory)

}  // namespace gan_losses
