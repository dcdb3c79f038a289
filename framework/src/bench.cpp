// One training iteration timed on synthetic data (gan/bench.hpp).
#include "gan/bench.hpp"

#include <ATen/record_function.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "gan/log.hpp"
#include "gan/loss.hpp"
#include "gan/model.hpp"
#include "gan/network.hpp"
#include "gan/registry.hpp"
#include "gan/trainer.hpp"
#include "gan/train_step.hpp"

namespace gan {
namespace {

// Time spent inside operators that announce themselves with RECORD_FUNCTION under these names
// (the AdaConv plugin's fused forward and backward). A RecordFunction callback sees every
// operator; only the named ones are timed, on the thread that runs them.
struct OpTimer {
  static constexpr const char* kNames[][2] = {{"adaconv::forward", "adaconv forward"},
                                              {"adaconv::backward", "adaconv backward"}};
  static inline std::map<std::string, double>* totals = nullptr;
  static inline bool cuda = false;

  struct Ctx : at::ObserverContext {
    const char* label;
    std::chrono::steady_clock::time_point t0;
  };

  static std::unique_ptr<at::ObserverContext> start(const at::RecordFunction& fn) {
    for (const auto& n : kNames) {
      if (std::string_view(fn.name()) == n[0]) {
        if (cuda) torch::cuda::synchronize();
        auto c = std::make_unique<Ctx>();
        c->label = n[1];
        c->t0 = std::chrono::steady_clock::now();
        return c;
      }
    }
    return nullptr;
  }
  static void end(const at::RecordFunction&, at::ObserverContext* ctx) {
    if (!ctx || !totals) return;
    if (cuda) torch::cuda::synchronize();
    auto* c = static_cast<Ctx*>(ctx);
    (*totals)[c->label] += std::chrono::duration<double>(std::chrono::steady_clock::now() - c->t0).count();
  }

  // The callback installed for a scope, into `into`; removed again however the scope ends.
  class Listening {
   public:
    Listening(std::map<std::string, double>& into, bool on_cuda) {
      totals = &into;
      cuda = on_cuda;
      handle_ = at::addGlobalCallback(at::RecordFunctionCallback(&OpTimer::start, &OpTimer::end)
                                          .scopes({at::RecordScope::FUNCTION, at::RecordScope::USER_SCOPE}));
    }
    ~Listening() {
      at::removeCallback(handle_);
      totals = nullptr;
    }
    Listening(const Listening&) = delete;
    Listening& operator=(const Listening&) = delete;

   private:
    at::CallbackHandle handle_;
  };
};

}  // namespace

BenchReport bench_model(const std::string& model_path, const BenchOptions& opt) {
  const Registry& reg = Registry::global();
  const ModelSpec spec = load_model(model_path);
  const ModelReport rep = check_model(spec, reg);
  const Params& train = rep.train;
  BenchReport out;
  out.model = model_path;
  const torch::Device device = select_device(opt.device.empty() ? train.string("device") : opt.device);
  out.device = device.str();
  StepConfig cfg = step_config(train);
  if (opt.batch_size > 0) cfg.batch_size = opt.batch_size;
  out.batch_size = cfg.batch_size;
  out.n_dis = cfg.n_dis;
  out.reuse_fake = cfg.reuse_fake;
  out.iterations = opt.iterations;
  out.g_macs = rep.generator.macs;
  out.d_macs = rep.discriminator.macs;
  const double B = double(out.batch_size), g = double(out.g_macs), d = double(out.d_macs);
  const double g_forwards_in_d_steps = double(out.reuse_fake ? out.n_dis - 1 : out.n_dis);
  out.step_macs = double(out.n_dis) * 6 * B * d + g_forwards_in_d_steps * B * g + 3 * B * g + 2 * B * d;

  auto [G, D] = make_networks(rep, reg, device);
  G->train();
  D->train();
  std::unique_ptr<Loss> loss = make_loss(rep, reg);
  auto opt_g = make_adam(*G, train, train.real("lr_g"), "betas_g");
  auto opt_d = make_adam(*D, train, train.real("lr_d"), "betas_d");
  StepNets nets{G, D, loss.get(), opt_g.get(), opt_d.get(), {}, 1.0};

  // Synthetic data: a few fixed batches, cycled, so the data phase is a lookup as with a prefetching
  // loader; the noise is drawn per step as in training.
  const Shape img = rep.image;
  std::vector<torch::Tensor> batches;
  for (int i = 0; i < 4; ++i) {
    batches.push_back(torch::rand({out.batch_size, img[0], img[1], img[2]}).mul_(2).sub_(1).to(device));
  }
  size_t next_batch = 0;
  auto next_real = [&] { return batches[next_batch++ % batches.size()]; };
  const int64_t latent = spec.generator.latent_dim;
  auto noise = [&](int64_t n) { return torch::randn({n, latent}).to(device); };
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };

  if (opt.progress) {
    log::info("bench " + spec.name() + ": batch " + std::to_string(out.batch_size) + ", n_dis " +
              std::to_string(out.n_dis) + (out.reuse_fake ? ", reuse_fake" : "") + (cfg.amp_bf16 ? ", amp bf16" : "") + ", device " + out.device +
              ", " + std::to_string(at::get_num_threads()) + " threads; " + std::to_string(opt.warmup) +
              " warm-up and " + std::to_string(opt.iterations) + " timed iterations");
  }
  for (int64_t i = 0; i < opt.warmup; ++i) train_step(nets, cfg, next_real, noise);
  sync();

  // 1. the plain step, as the trainer runs it: the headline time
  std::vector<double> times;
  for (int64_t i = 0; i < opt.iterations; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    train_step(nets, cfg, next_real, noise);
    sync();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (opt.progress) {
      log::info("  iteration " + std::to_string(i + 1) + "/" + std::to_string(opt.iterations) + ": " +
                std::to_string(times.back()) + " s");
    }
  }
  std::sort(times.begin(), times.end());
  out.seconds_per_step = times[times.size() / 2];  // median
  out.it_per_s = 1.0 / out.seconds_per_step;

  // 2. the breakdown: the same step with a clock between phases and the AdaConv ops timed (on CUDA
  // each lap synchronises, so these add up to a little more than the plain step)
  StepProfile prof;
  std::map<std::string, double> op_totals;
  {
    OpTimer::Listening listening(op_totals, device.is_cuda());
    const int64_t profiled = std::max<int64_t>(1, opt.iterations / 2);
    for (int64_t i = 0; i < profiled; ++i) train_step(nets, cfg, next_real, noise, &prof);
  }
  for (const auto& [k, v] : prof.seconds) out.phases[k] = v / double(prof.steps);
  for (const auto& [k, v] : op_totals) out.ops[k] = v / double(prof.steps);

  out.peak = measure_fma_peak(at::get_num_threads());
  out.floor_seconds = out.step_macs / (out.peak.gmacs * 1e9);
  out.ratio = out.seconds_per_step / out.floor_seconds;
  return out;
}

}  // namespace gan
