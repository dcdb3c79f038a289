// losses.hpp — the GAN objectives: minimax (non-saturating generator loss), hinge, WGAN-GP.
//
// Logits are D's raw outputs, [B, 1] or [B]; every loss is a mean over the batch. With
// softplus(x) = log(1 + e^x) (torch's numerically stable form) and sigma the logistic function:
//
//   minimax   D: softplus(-D(x)) + softplus(D(G(z)))     = -log sigma(D(x)) - log(1 - sigma(D(G(z))))
//             G: softplus(-D(G(z)))                       = -log sigma(D(G(z)))   (non-saturating)
//                or -softplus(D(G(z)))  = log(1 - sigma(D(G(z))))  with generator = "saturating"
//   hinge     D: relu(1 - D(x)) + relu(1 + D(G(z)))       G: -D(G(z))
//   wgan_gp   D: D(G(z)) - D(x) + lambda * (||grad_x^ D(x^)||_2 - 1)^2,
//                x^ = a x + (1 - a) G(z), a ~ U[0, 1] per sample
//             G: -D(G(z))
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "gan/components.hpp"
#include "gan/loss.hpp"

namespace gan_losses {

class MinimaxLoss : public gan::Loss {
 public:
  explicit MinimaxLoss(bool non_saturating = true) : non_saturating_(non_saturating) {}
  at::Tensor discriminator_loss(const gan::LossInputs& in) override;
  at::Tensor generator_loss(const at::Tensor& fake_logits) override;

 private:
  bool non_saturating_;
};

class HingeLoss : public gan::Loss {
 public:
  at::Tensor discriminator_loss(const gan::LossInputs& in) override;
  at::Tensor generator_loss(const at::Tensor& fake_logits) override;
};

class WganGpLoss : public gan::Loss {
 public:
  explicit WganGpLoss(double lambda = 10.0) : lambda_(lambda) {}
  at::Tensor discriminator_loss(const gan::LossInputs& in) override;
  at::Tensor generator_loss(const at::Tensor& fake_logits) override;

 private:
  double lambda_;
};

// mean over the batch of (||grad_x^ D(x^)||_2 - 1)^2 at x^ = alpha * real + (1 - alpha) * fake.
// alpha: [B] in [0, 1], drawn from torch's global generator if undefined. The result keeps the
// graph (create_graph) so that it can be minimised with respect to D's parameters.
at::Tensor gradient_penalty(const std::function<at::Tensor(const at::Tensor&)>& discriminator,
                            const at::Tensor& real, const at::Tensor& fake, at::Tensor alpha = {});

// Checks that `logits` ("real_logits", ...) is a non-empty floating tensor with one logit per
// image ([B], [B, 1], [B, 1, 1, 1]: what `gan check` accepts as a discriminator output) and
// returns it flattened to [B]. `loss` names the loss type for the message.
inline at::Tensor checked_logits(const at::Tensor& logits, const char* what, const char* loss) {
  TORCH_CHECK(logits.defined(), loss, ": ", what, " is undefined");
  TORCH_CHECK(logits.is_floating_point(), loss, ": ", what, " must be floating point, got ",
              logits.scalar_type());
  TORCH_CHECK(logits.numel() > 0 && logits.dim() >= 1 && logits.numel() == logits.size(0), loss, ": ", what,
              " must hold one logit per image ([B], [B, 1] or [B, 1, 1, 1], B > 0), got ", logits.sizes());
  return logits.reshape({-1});
}

gan::LossFactory minimax_factory();
gan::LossFactory hinge_factory();
gan::LossFactory wgan_gp_factory();

}  // namespace gan_losses
