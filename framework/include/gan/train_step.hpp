// gan/train_step.hpp — one training iteration: n_dis discriminator updates, then one generator
// update. The trainer (gan/trainer.hpp) runs it in its loop; `gan bench` times it on synthetic
// data with a per-phase breakdown. Both run this one function, so what is timed is what trains.
//
//   gan::StepNets nets{G, D, loss, opt_g, opt_d};
//   gan::StepConfig cfg;                // n_dis, batch_size, reuse_fake
//   gan::StepResult r = gan::train_step(nets, cfg, next_real_batch, draw_noise);
//   double d = r.d_loss.item<double>(); // read losses only when logging: each read is a sync on CUDA
//
// reuse_fake: the generator step reuses the last discriminator step's fake batch G(z) instead of
// drawing new noise and running G again (as the PyTorch DCGAN example). That saves one G forward
// per iteration; G's forward then runs with autograd on in that D step. Exactly one G forward per
// iteration updates BatchNorm running statistics either way.
//
// amp_bf16: every forward pass of G and D runs under LibTorch's autocast to bfloat16 on the
// training device (its cast lists: matrix products and convolutions in bf16, reductions and
// normalisations in float32); D's logits are cast to float32 before the loss, and the backward
// passes and optimiser steps run outside autocast on the float32 master weights.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "gan/network.hpp"

namespace torch::optim {
class Optimizer;
class Adam;
}

namespace gan {

class Loss;
class Params;
class Registry;
struct ModelReport;

struct StepNets {
  Network G{nullptr}, D{nullptr};
  Loss* loss = nullptr;
  torch::optim::Optimizer* opt_g = nullptr;
  torch::optim::Optimizer* opt_d = nullptr;
  // Data-parallel training: called with D (after each D backward) and with G (after the G
  // backward), before the optimiser step, to average the gradients over the ranks; and the weight
  // of this rank's losses in its backward passes (its share of the batch times the number of ranks).
  std::function<void(torch::nn::Module&)> reduce_gradients;
  double loss_weight = 1.0;
};

struct StepConfig {
  int64_t n_dis = 1;
  int64_t batch_size = 64;
  bool reuse_fake = false;
  bool amp_bf16 = false;       // [train] amp = "bf16": G's and D's forward passes under bf16 autocast
  bool poison_d_loss = false;  // fault injection (tests): the D loss of this step is NaN before backward
};

// Losses and D's logits of the step, as tensors (no host sync happens inside train_step).
struct StepResult {
  at::Tensor d_loss, g_loss;             // scalars
  at::Tensor real_logits, fake_logits;   // of the last D update, detached
};

// Accumulated wall time per phase (seconds), filled when a StepProfile is passed. On CUDA each
// phase ends with a device synchronisation, which the trainer never asks for.
struct StepProfile {
  std::map<std::string, double> seconds;  // "data", "G forward", "D forward+backward", ...
  int64_t steps = 0;
};

// next_real() returns the next real batch on the training device; noise(n) draws n latents.
StepResult train_step(StepNets& nets, const StepConfig& cfg, const std::function<at::Tensor()>& next_real,
                      const std::function<at::Tensor(int64_t)>& noise, StepProfile* profile = nullptr);

// The step's settings from the validated [train] section: n_dis, batch_size, reuse_fake, amp.
StepConfig step_config(const Params& train);

// G and D of a checked model as training starts them: seeded with [train] seed (so that
// construction-time randomness such as spectral-norm u is repeatable), initialised by [train]
// init / init_std or each layer's own init, on `device`. The trainer and `gan bench` both use it.
std::pair<Network, Network> make_networks(const ModelReport& rep, const Registry& reg, const torch::Device& device);

// The model's loss, from the registry with its validated parameters.
std::unique_ptr<Loss> make_loss(const ModelReport& rep, const Registry& reg);

// The Adam optimiser of one network from the validated [train] section: learning rate `lr`,
// betas from `betas_key` ("betas_g" / "betas_d") when given, else beta1 and beta2.
std::unique_ptr<torch::optim::Adam> make_adam(torch::nn::Module& net, const Params& train, double lr,
                                              const std::string& betas_key);

}  // namespace gan
