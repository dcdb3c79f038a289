// gan/loss.hpp — the interface a loss plugin implements.
//
// The trainer computes D(real) and D(fake) logits ([B, 1] or [B]) and asks the loss for the two
// objectives to minimise. Losses that need more (WGAN-GP's gradient penalty) get the real and
// fake batches and a callable that runs the discriminator.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gan/components.hpp"

#include <ATen/core/Tensor.h>

namespace gan {

struct LossInputs {
  at::Tensor real_logits;  // D(x), [B, 1]
  at::Tensor fake_logits;  // D(G(z)), [B, 1]; G(z) detached for the D step
  at::Tensor real;         // x, [B, C, H, W]
  at::Tensor fake;         // G(z) (detached), [B, C, H, W]
  std::function<at::Tensor(const at::Tensor&)> discriminator;  // runs D on a batch
};

class Loss {
 public:
  virtual ~Loss() = default;
  // Scalar loss to minimise for the discriminator.
  virtual at::Tensor discriminator_loss(const LossInputs& in) = 0;
  // Scalar loss to minimise for the generator, from D(G(z)) (not detached).
  virtual at::Tensor generator_loss(const at::Tensor& fake_logits) = 0;
};

}  // namespace gan
