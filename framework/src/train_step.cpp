// One training iteration (gan/train_step.hpp).
#include "gan/train_step.hpp"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <vector>

#include "gan/loss.hpp"
#include "gan/model.hpp"
#include "gan/params.hpp"
#include "gan/registry.hpp"

namespace gan {
namespace {

// Times the phases of one step into a StepProfile; does nothing without one.
class PhaseClock {
 public:
  PhaseClock(StepProfile* p, const torch::Device& device) : p_(p), cuda_(device.is_cuda()) {
    if (p_) last_ = std::chrono::steady_clock::now();
  }
  void lap(const char* phase) {
    if (!p_) return;
    if (cuda_) torch::cuda::synchronize();
    auto now = std::chrono::steady_clock::now();
    p_->seconds[phase] += std::chrono::duration<double>(now - last_).count();
    last_ = now;
  }

 private:
  StepProfile* p_;
  bool cuda_;
  std::chrono::steady_clock::time_point last_;
};

// Turns off requires_grad of a network's parameters for a scope: the generator step's backward
// then computes D's input gradients only, not D's weight gradients, which nothing reads (D's next
// step starts from zero_grad). That is one of D's three GEMM-sized passes per G step.
class FrozenParameters {
 public:
  explicit FrozenParameters(torch::nn::Module& m) {
    for (auto& p : m.parameters()) {
      if (p.requires_grad()) {
        p.requires_grad_(false);
        frozen_.push_back(p);
      }
    }
  }
  ~FrozenParameters() {
    for (auto& p : frozen_) p.requires_grad_(true);
  }
  FrozenParameters(const FrozenParameters&) = delete;
  FrozenParameters& operator=(const FrozenParameters&) = delete;

 private:
  std::vector<torch::Tensor> frozen_;
};

// Autocast to bfloat16 on one device type for a scope (a no-op when not enabled); restores the
// previous state and, at the outermost level, drops autocast's cache of casted weights (they
// change at every optimiser step).
class Bf16Autocast {
 public:
  Bf16Autocast(bool enabled, c10::DeviceType device) : enabled_(enabled), device_(device) {
    if (!enabled_) return;
    prev_enabled_ = at::autocast::is_autocast_enabled(device_);
    prev_dtype_ = at::autocast::get_autocast_dtype(device_);
    at::autocast::set_autocast_enabled(device_, true);
    at::autocast::set_autocast_dtype(device_, at::kBFloat16);
    at::autocast::increment_nesting();
  }
  ~Bf16Autocast() {
    if (!enabled_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(device_, prev_enabled_);
    at::autocast::set_autocast_dtype(device_, prev_dtype_);
  }
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

 private:
  bool enabled_;
  c10::DeviceType device_;
  bool prev_enabled_ = false;
  at::ScalarType prev_dtype_ = at::kFloat;
};

torch::Device device_of(torch::nn::Module& m) {
  for (const auto& p : m.parameters()) return p.device();
  for (const auto& b : m.buffers()) return b.device();
  return torch::kCPU;
}

}  // namespace

StepResult train_step(StepNets& nets, const StepConfig& cfg, const std::function<at::Tensor()>& next_real,
                      const std::function<at::Tensor(int64_t)>& noise, StepProfile* profile) {
  auto& G = nets.G;
  auto& D = nets.D;
  const torch::Device device = device_of(*G);
  PhaseClock clock(profile, device);
  // The networks' forward passes, under bf16 autocast with amp_bf16; images and logits leave
  // them as float32, so losses, penalties and the optimisers see float32 only.
  auto run_g = [&](const torch::Tensor& z) {
    Bf16Autocast ac(cfg.amp_bf16, device.type());
    torch::Tensor x = G->forward(z);
    return cfg.amp_bf16 ? x.to(torch::kFloat) : x;
  };
  auto run_d = [&](const torch::Tensor& x) {
    Bf16Autocast ac(cfg.amp_bf16, device.type());
    torch::Tensor y = D->forward(x);
    return cfg.amp_bf16 ? y.to(torch::kFloat) : y;
  };
  auto backward = [&nets](const torch::Tensor& loss) {
    if (nets.loss_weight == 1.0) loss.backward();
    else (loss * nets.loss_weight).backward();
  };
  StepResult r;
  torch::Tensor fake_for_g;  // with reuse_fake: the last D step's G(z), autograd on
  for (int64_t k = 0; k < cfg.n_dis; ++k) {
    torch::Tensor real = next_real();
    torch::Tensor z = noise(real.size(0));
    clock.lap("data and noise");
    const bool keep = cfg.reuse_fake && k + 1 == cfg.n_dis;
    torch::Tensor fake;
    if (keep) {
      fake_for_g = run_g(z);
      fake = fake_for_g.detach();
    } else {
      torch::NoGradGuard ng;
      fake = run_g(z);
    }
    clock.lap("G forward");
    LossInputs in;
    in.real = real;
    in.fake = fake;
    in.real_logits = run_d(real);
    in.fake_logits = run_d(fake);
    in.discriminator = run_d;
    r.d_loss = nets.loss->discriminator_loss(in);
    if (cfg.poison_d_loss) r.d_loss = r.d_loss * std::nan("");
    nets.opt_d->zero_grad();
    backward(r.d_loss);
    clock.lap("D forward+backward");
    if (nets.reduce_gradients) {
      nets.reduce_gradients(*D);
      clock.lap("gradient all-reduce");
    }
    nets.opt_d->step();
    clock.lap("optimiser");
    r.real_logits = in.real_logits.detach();
    r.fake_logits = in.fake_logits.detach();
  }
  torch::Tensor fake;
  if (cfg.reuse_fake) {
    fake = fake_for_g;
  } else {
    torch::Tensor z = noise(cfg.batch_size);
    clock.lap("data and noise");
    fake = run_g(z);
    clock.lap("G forward");
  }
  {
    FrozenParameters frozen_d(*D);
    r.g_loss = nets.loss->generator_loss(run_d(fake));
    nets.opt_g->zero_grad();
    backward(r.g_loss);
  }
  clock.lap("G step: D forward, D+G backward");
  if (nets.reduce_gradients) {
    nets.reduce_gradients(*G);
    clock.lap("gradient all-reduce");
  }
  nets.opt_g->step();
  clock.lap("optimiser");
  if (profile) ++profile->steps;
  return r;
}

StepConfig step_config(const Params& train) {
  StepConfig cfg;
  cfg.n_dis = train.integer("n_dis");
  cfg.batch_size = train.integer("batch_size");
  cfg.reuse_fake = train.boolean("reuse_fake");
  cfg.amp_bf16 = train.string("amp") == "bf16";
  return cfg;
}

std::pair<Network, Network> make_networks(const ModelReport& rep, const Registry& reg, const torch::Device& device) {
  const Params& train = rep.train;
  const uint64_t seed = static_cast<uint64_t>(train.integer("seed"));
  torch::manual_seed(seed);
  Network G(rep.generator, reg), D(rep.discriminator, reg);
  init_network(*G, train.string("init"), train.real("init_std"), seed * 2 + 1);
  init_network(*D, train.string("init"), train.real("init_std"), seed * 2 + 2);
  G->to(device);
  D->to(device);
  return {G, D};
}

std::unique_ptr<Loss> make_loss(const ModelReport& rep, const Registry& reg) {
  LossContext lctx;
  lctx.params = rep.loss;
  return reg.loss(rep.loss_type).create(lctx);
}

std::unique_ptr<torch::optim::Adam> make_adam(torch::nn::Module& net, const Params& train, double lr,
                                              const std::string& betas_key) {
  double b1 = train.real("beta1"), b2 = train.real("beta2");
  if (train.has(betas_key)) {
    auto b = train.reals(betas_key);
    if (b.size() != 2) throw train.error(betas_key, betas_key + " must be [beta1, beta2], e.g. [0.0, 0.9]");
    b1 = b[0];
    b2 = b[1];
  }
  return std::make_unique<torch::optim::Adam>(net.parameters(), torch::optim::AdamOptions(lr).betas({b1, b2}));
}

}  // namespace gan
