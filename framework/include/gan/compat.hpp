// gan/compat.hpp — checks across components that no single factory can make alone.
//
// check_model() (gan/model.hpp) calls these after both networks and the loss are resolved, so
// that `gan check` refuses a combination that would train wrongly, not only one that would fail.
//
//   [loss] type = "wgan_gp"                 # a gradient penalty: differentiates D twice
//   [[discriminator.layers]] type = "adaconv", impl = "fused"   # its backward is not differentiable
//   -> model.toml:31: layer 'd2' (adaconv) of the discriminator: [loss] wgan_gp (model.toml:12)
//      back-propagates through the discriminator's input gradient (its gradient penalty,
//      lambda = 10), which needs every discriminator layer twice differentiable, and this one is
//      not: impl = "fused" (model.toml:34) has no second derivative (...); set impl = "reference"
//      on this layer (...); or use a loss without a gradient penalty
#pragma once

#include "gan/model.hpp"
#include "gan/registry.hpp"

namespace gan {

// Every layer (and wrapper) of a network that the loss differentiates twice
// (LossFactory::discriminator_double_backward / generator_double_backward) must support double
// backward (LayerFactory::no_double_backward); otherwise throws gan::Error at the layer's line
// naming the layer, the loss and its line, and what to change.
void check_double_backward(const ModelSpec& spec, const ModelReport& rep, const Registry& reg);

}  // namespace gan
