// Training loop, run folders and checkpoints (gan/trainer.hpp).
#include "gan/trainer.hpp"
#include "gan/train_step.hpp"
#include "gan/schedule.hpp"

#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <signal.h>

#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

#include "gan/checkpoint.hpp"
#include "gan/collectives.hpp"
#include "gan/distributed.hpp"
#include "gan/data_loader.hpp"
#include "gan/dataset.hpp"
#include "gan/fs_util.hpp"
#include "gan/image_io.hpp"
#include "gan/log.hpp"
#include "gan/loss.hpp"
#include "gan/oom.hpp"
#include "gan/provenance.hpp"
#include "gan/registry.hpp"
#include "gan/version.hpp"
#include "run_records.hpp"

namespace fs = std::filesystem;

namespace gan {
namespace {

// Adds the seconds its scope lasts to `total` (the time a data-parallel step spends in collectives).
struct ScopedSeconds {
  double& total;
  const std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  ~ScopedSeconds() { total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }
};


std::atomic<int> g_interrupted{0};  // the signal that asked training to stop, or 0
// The first signal asks for a checkpoint and a clean exit; a second one (Ctrl-C pressed again
// while the checkpoint is written) ends the process at once, which a save survives as a kill.
extern "C" void on_stop_signal(int sig) {
  if (g_interrupted.exchange(sig) != 0) {
    ::signal(sig, SIG_DFL);
    ::raise(sig);
  }
}

// SIGINT (Ctrl-C), SIGTERM (kill, schedulers) and SIGHUP (a closed terminal) all save a checkpoint
// at the end of the current iteration and exit.
struct StopSignalGuard {
  static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction old[3] {};
  StopSignalGuard() {
    g_interrupted.store(0);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESTART;  // file writes and reads carry on after the handler
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &old[i]);
  }
  ~StopSignalGuard() {
    for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &old[i], nullptr);
  }
};

const char* signal_name(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP"; }

// LibTorch's message without its C++ backtrace, whole: the cause is often at its end.
std::string torch_message(const c10::Error& e) { return e.what_without_backtrace(); }

std::string fmt_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  int64_t t = static_cast<int64_t>(s + 0.5);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", (long long)(t / 3600), (long long)(t % 3600 / 60));
  else if (t >= 60) std::snprintf(buf, sizeof buf, "%lldm%02llds", (long long)(t / 60), (long long)(t % 60));
  else std::snprintf(buf, sizeof buf, "%llds", (long long)t);
  return buf;
}

std::string fmt(double v, int prec = 4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

// Fingerprint of a module's state: names and shapes, to recognise a checkpoint of another model.
std::string state_fingerprint(torch::nn::Module& m) {
  std::string s;
  for (const auto& p : m.named_parameters()) {
    s += p.key() + ":";
    for (auto d : p.value().sizes()) s += std::to_string(d) + ",";
    s += ";";
  }
  for (const auto& b : m.named_buffers()) {
    s += b.key() + ":";
    for (auto d : b.value().sizes()) s += std::to_string(d) + ",";
    s += ";";
  }
  std::hash<std::string> h;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016zx", h(s));
  return buf;
}

int64_t count_params(torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

// Everything a training run holds in memory.
struct Session {
  Run run;
  torch::Device device{torch::kCPU};
  Params train;
  int64_t iterations = 0;
  int64_t batch_size = 64;
  int64_t latent_dim = 0;
  std::unique_ptr<Dataset> dataset;
  std::unique_ptr<DataLoader> loader;
  std::unique_ptr<Loss> loss;
  Network G{nullptr}, D{nullptr}, G_ema{nullptr};
  std::unique_ptr<torch::optim::Adam> opt_g, opt_d;
  at::Generator noise_gen;
  torch::Tensor fixed_noise;
  int64_t iteration = 0;
  int64_t saved_iteration = -1;  // iteration of the newest 'latest' checkpoint, -1 if none
  double ema_decay = 0;
  int64_t ema_start = 0;
  LrSchedule schedule;
  double lr_g = 0, lr_d = 0;  // base rates; the current ones are lr * schedule.factor(iteration)
  double best_value = std::nan("");
  std::string best_metric;
  bool best_higher = true;
  // data-parallel training (gan/distributed.hpp): the group, or null in one process
  std::unique_ptr<ProcessGroup> group;
  int rank = 0, world = 1;
  int64_t local_batch = 64;  // this rank's share of batch_size
  int64_t cur_global = 0, cur_offset = 0, cur_local = 0;  // the real batch of the running D step
  bool writer() const { return rank == 0; }  // only rank 0 writes the run folder
  std::vector<std::string> intro;  // what build_session logged, repeated in train.log
  void say(const std::string& msg) {
    log::info(msg);
    intro.push_back(msg);
  }

  std::string path(const std::string& rel) const { return (fs::path(run.dir) / rel).string(); }
};

// ema <- decay * ema + (1 - decay) * g for parameters (a plain copy at decay 0); buffers
// (BatchNorm statistics) are copied.
void update_ema(torch::nn::Module& ema, torch::nn::Module& g, double decay) {
  torch::NoGradGuard ng;
  auto src = g.named_parameters();
  for (auto& p : ema.named_parameters()) {
    if (decay == 0.0) {
      p.value().copy_(src[p.key()]);
    } else {
      p.value().mul_(decay).add_(src[p.key()], 1.0 - decay);
    }
  }
  auto bsrc = g.named_buffers();
  for (auto& b : ema.named_buffers()) b.value().copy_(bsrc[b.key()]);
}

void build_session(Session& s, const TrainOptions& opt) {
  const Registry& reg = Registry::global();
  const ModelReport& rep = s.run.report;
  s.train = rep.train;
  s.iterations = opt.iterations > 0 ? opt.iterations : s.train.integer("iterations");
  s.batch_size = s.train.integer("batch_size");
  s.latent_dim = s.run.spec.generator.latent_dim;
  if (opt.device.empty() && s.run.spec.train.raw.has("device")) {
    // from the model file: point at its line, not at a --device flag the user did not give
    try {
      s.device = select_device(s.train.string("device"));
    } catch (const Error&) {
      throw Error(s.run.spec.train.raw.source("device"),
                  "[train] device = \"" + s.train.string("device") + "\": no CUDA device is available (this " +
                      "LibTorch sees no GPU): set device = \"auto\" or \"cpu\", or pass --device cpu");
    }
  } else {
    s.device = select_device(opt.device.empty() ? s.train.string("device") : opt.device);
  }
  uint64_t seed = static_cast<uint64_t>(s.train.integer("seed"));
  if (opt.distributed && opt.distributed->world_size > 1) {
    const DistributedEnv& env = *opt.distributed;
    s.rank = env.rank;
    s.world = env.world_size;
    if (s.batch_size < s.world) {
      throw Error(s.run.spec.train.raw.source("batch_size"),
                  "[train] batch_size = " + std::to_string(s.batch_size) + " is the global batch, shared by " +
                      std::to_string(s.world) + " ranks: give at least one image per rank, or start fewer ranks");
    }
    if (s.device.is_cuda()) s.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank));
    const double timeout_s = opt.dist_timeout_s > 0 ? opt.dist_timeout_s : s.train.real("dist_timeout");
    s.group = std::make_unique<ProcessGroup>(env, std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000)),
                                             s.device.is_cuda());
    s.say("data-parallel training: rank " + std::to_string(s.rank) + " of " + std::to_string(s.world) +
              (s.device.is_cuda() ? " (NCCL and Gloo), " : " (Gloo), ") + std::to_string(s.batch_size * (s.rank + 1) / s.world - s.batch_size * s.rank / s.world) +
              " of every batch of " + std::to_string(s.batch_size));
  }
  s.local_batch = s.batch_size * (s.rank + 1) / s.world - s.batch_size * s.rank / s.world;
  note_training_batch(s.local_batch, s.device.str(), s.run.spec.train.raw.source("batch_size"));  // for an OOM message

  // data
  DatasetContext dctx;
  dctx.params = rep.data;
  dctx.base_dir = s.run.info.base_dir;
  dctx.expected = rep.image;
  s.dataset = reg.dataset(rep.data_type).create(dctx);
  if (s.dataset->shape() != rep.image) {
    throw Error(s.run.spec.data.where, "[data]: the data set's images are " + shape_str(s.dataset->shape()) +
                                           " but the model expects " + shape_str(rep.image) +
                                           ": fix [data] channels/size");
  }
  DataLoaderOptions lopt;
  lopt.batch_size = s.batch_size;
  lopt.seed = seed;
  lopt.shard_rank = s.rank;
  lopt.shard_count = s.world;
  s.loader = std::make_unique<DataLoader>(*s.dataset, lopt);
  s.say("data: " + s.dataset->describe());

  s.loss = make_loss(rep, reg);
  std::tie(s.G, s.D) = make_networks(rep, reg, s.device);  // seeded and initialised (gan/train_step.hpp)
  // LibTorch's global generator (plugins draw from it, e.g. wgan_gp's interpolation weights):
  // rank 0 continues the one-process stream, the others draw streams of their own
  if (s.rank > 0) torch::manual_seed(seed * 1000003 + static_cast<uint64_t>(s.rank));
  s.ema_decay = s.train.real("ema");
  s.ema_start = s.train.integer("ema_start");
  if (s.ema_decay > 0) {
    s.G_ema = Network(rep.generator, reg);
    s.G_ema->to(s.device);
    update_ema(*s.G_ema, *s.G, 0.0);
    s.G_ema->eval();
  }
  s.lr_g = s.train.real("lr_g");
  s.lr_d = s.train.real("lr_d");
  s.opt_g = make_adam(*s.G, s.train, s.lr_g, "betas_g");
  s.opt_d = make_adam(*s.D, s.train, s.lr_d, "betas_d");
  s.schedule.kind = s.train.string("lr_schedule");
  s.schedule.warmup = s.train.integer("warmup");
  s.schedule.horizon = s.train.integer("iterations");

  s.noise_gen = at::make_generator<at::CPUGeneratorImpl>(seed * 7919 + 17);
  auto fixed_gen = at::make_generator<at::CPUGeneratorImpl>(seed * 104729 + 3);
  s.fixed_noise = torch::randn({64, s.latent_dim}, fixed_gen, torch::kFloat32);

  s.best_metric = s.train.string("keep_best");  // its direction comes with the first evaluation
  s.say("model " + s.run.spec.name() + ": G " + std::to_string(count_params(*s.G)) + " parameters, D " +
            std::to_string(count_params(*s.D)) + ", device " + s.device.str() + ", " +
            std::to_string(s.iterations) + " iterations of batch " + std::to_string(s.batch_size));
}

torch::Tensor noise(Session& s, int64_t n) {
  if (!s.group) return torch::randn({n, s.latent_dim}, s.noise_gen, torch::kFloat32).to(s.device);
  // this rank's rows of what one process would draw for the whole batch: the ranks' noise
  // together is one process's, whatever their number
  int64_t global = s.batch_size, offset = s.batch_size * s.rank / s.world;
  if (n == s.cur_local) {  // the D step: the rows of the real batch's share
    global = s.cur_global;
    offset = s.cur_offset;
  }
  return torch::randn({global, s.latent_dim}, s.noise_gen, torch::kFloat32).narrow(0, offset, n).to(s.device);
}

torch::Tensor next_real(Session& s);

// Rank 0's parameters and buffers into every rank's (at the start and after a resume).
void broadcast_state(Session& s) {
  if (!s.group) return;
  std::vector<torch::Tensor> ts;
  torch::NoGradGuard ng;
  for (Network* n : {&s.G, &s.D, &s.G_ema}) {
    if (!*n) continue;
    for (auto& p : (*n)->parameters()) ts.push_back(p);
    for (auto& b : (*n)->buffers()) ts.push_back(b);
  }
  s.group->broadcast(ts, 0);
}

// The checkpoint metadata of data-parallel training (collective: every rank calls it): the
// number of ranks, and the parameters and buffers that are not bitwise equal on every rank.
// Parameters never should be (the gradients are averaged, the updates identical); batchnorm's
// running statistics are per rank without [train] sync_batchnorm (rank 0's are saved), while
// spectral-norm vectors, which depend on the weights only, stay equal.
Json rank_metadata(Session& s) {
  Json extra = Json::object();
  if (!s.group) return extra;
  torch::NoGradGuard ng;
  std::vector<std::string> names;
  std::vector<torch::Tensor> mine, root;
  std::vector<bool> is_param;
  for (auto [label, net] : {std::pair<const char*, Network*>{"G", &s.G}, {"D", &s.D}}) {
    for (const auto& p : (*net)->named_parameters()) {
      names.push_back(std::string(label) + "." + p.key());
      mine.push_back(p.value().detach());
      is_param.push_back(true);
    }
    for (const auto& b : (*net)->named_buffers()) {
      names.push_back(std::string(label) + "." + b.key());
      mine.push_back(b.value());
      is_param.push_back(false);
    }
  }
  for (auto& t : mine) root.push_back(t.clone());
  s.group->broadcast(root, 0);
  torch::Tensor differs = torch::zeros({static_cast<int64_t>(mine.size())}, torch::kFloat64);
  for (size_t i = 0; i < mine.size(); ++i) differs[static_cast<int64_t>(i)] = torch::equal(root[i], mine[i]) ? 0.0 : 1.0;
  std::vector<torch::Tensor> t{differs};
  s.group->all_reduce_sum(t);
  Json list = Json::array();
  std::string params;
  for (size_t i = 0; i < mine.size(); ++i) {
    if (t[0][static_cast<int64_t>(i)].item<double>() == 0) continue;
    list.push_back(Json(names[i]));
    if (is_param[i]) params += " " + names[i];
  }
  if (!params.empty() && s.writer()) {
    log::warn("data-parallel training: parameters differ between the ranks (rank 0's are saved):" + params);
  }
  extra["ranks"] = static_cast<int64_t>(s.world);
  extra["rank_differences"] = list;
  return extra;
}

// Sets the batch-statistics group for the session's scope ([train] sync_batchnorm).
struct BatchStatsScope {
  explicit BatchStatsScope(Collectives* g) { set_batch_statistics_group(g); }
  ~BatchStatsScope() { set_batch_statistics_group(nullptr); }
};

torch::Tensor to_tensor(const Batch& b, const torch::Device& device) {
  auto t = torch::from_blob(const_cast<float*>(b.data.data()), b.shape, torch::kFloat32).clone();
  return t.to(device);
}

torch::Tensor next_real(Session& s) {
  Batch b = s.loader->next();
  s.cur_global = b.global_size;
  s.cur_offset = b.offset;
  s.cur_local = b.size;
  return to_tensor(b, s.device);
}

// ---- checkpoints ----
torch::Tensor global_cpu_rng_state() {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_global_cpu_rng_state(const torch::Tensor& state) {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

void save_checkpoint(Session& s, const std::string& which = "latest", const Json& extra = Json::object()) {
  std::string dir = s.path("checkpoints");
  std::string final_path = (fs::path(dir) / (which + ".pt")).string();
  // Serialise into memory, then write with checked writes. LibTorch's own file writer cannot
  // report a full disk: its stream writer throws from its destructor and the process aborts.
  std::string bytes;
  {
    torch::serialize::OutputArchive ar;
    torch::serialize::OutputArchive g, d, og, od;
    s.G->save(g);
    s.D->save(d);
    s.opt_g->save(og);
    s.opt_d->save(od);
    ar.write("G", g);
    ar.write("D", d);
    ar.write("opt_g", og);
    ar.write("opt_d", od);
    if (s.G_ema) {
      torch::serialize::OutputArchive e;
      s.G_ema->save(e);
      ar.write("G_ema", e);
    }
    DataState ds = s.loader->state();
    ar.write("iteration", torch::tensor(s.iteration, torch::kInt64));
    ar.write("data_state", torch::tensor({static_cast<int64_t>(ds.seed), ds.epoch, ds.position}, torch::kInt64));
    ar.write("noise_rng", s.noise_gen.get_state());
    // LibTorch's global CPU generator: plugins draw from it during training (wgan_gp's
    // interpolation weights), so a resumed run must continue its stream, not re-seed it.
    ar.write("torch_rng", global_cpu_rng_state());
    ar.write("fixed_noise", s.fixed_noise);
    ar.write("best_value", torch::tensor(s.best_value, torch::kFloat64));
    try {
      ar.save_to([&bytes](const void* data, size_t n) {
        bytes.append(static_cast<const char*>(data), n);
        return n;
      });
    } catch (const std::exception& e) {
      throw Error(final_path + ": cannot serialise the checkpoint: " + e.what());
    }
  }
  Json meta = Json::object();
  meta["target_iterations"] = s.iterations;  // a resume without --iters continues to it
  meta["model"] = s.run.spec.name();
  meta["fingerprint_g"] = state_fingerprint(*s.G);
  meta["fingerprint_d"] = state_fingerprint(*s.D);
  meta["ema"] = static_cast<bool>(s.G_ema);
  meta["lr_schedule"] = s.schedule.kind;
  meta["warmup"] = s.schedule.warmup;
  meta["lr_horizon"] = s.schedule.horizon;
  meta["lr_g"] = s.lr_g * s.schedule.factor(s.iteration);  // the rate of the next iteration
  meta["lr_d"] = s.lr_d * s.schedule.factor(s.iteration);
  meta["model_sha256"] = s.run.info.model_sha256;
  meta["provenance"] = provenance(s.device.str());  // who wrote this checkpoint (a resume may differ)
  for (const auto& [k, v] : extra.fields()) meta[k] = v;
  // numbered files and one pointer replaced by a single rename (gan/checkpoint.hpp): a kill at
  // any instant leaves the previous checkpoint or this one, never a mismatched pair
  commit_checkpoint(dir, which, s.iteration, bytes, meta, which == "latest" ? s.train.integer("keep_checkpoints") : 1);
}

void load_module(torch::nn::Module& m, torch::serialize::InputArchive& ar, const std::string& key,
                 const std::string& ckpt) {
  // Module::load replaces each tensor by the stored one whatever its shape, so a checkpoint of
  // another model would load "fine": compare every shape before and after.
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
  for (const auto& p : m.named_parameters()) shapes.emplace_back(p.key(), p.value().sizes().vec());
  for (const auto& b : m.named_buffers()) shapes.emplace_back(b.key(), b.value().sizes().vec());
  try {
    torch::serialize::InputArchive sub;
    ar.read(key, sub);
    m.load(sub);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    throw Error(ckpt + ": cannot load '" + key + "': the checkpoint does not match this model (" + what + ")");
  }
  auto shape_of = [](const std::vector<int64_t>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "x" : "") + std::to_string(v[i]);
    return s.empty() ? std::string("scalar") : s;
  };
  auto params = m.named_parameters();
  auto buffers = m.named_buffers();
  for (const auto& [name, before] : shapes) {
    const torch::Tensor* t = params.find(name);
    if (!t) t = buffers.find(name);
    if (t && t->sizes().vec() != before) {
      throw Error(ckpt + ": cannot load '" + key + "': the checkpoint does not match this model ('" + name + "' is " +
                  shape_of(t->sizes().vec()) + " in the checkpoint but " + shape_of(before) +
                  " in the model): was model.toml edited, or the checkpoint copied from another run?");
    }
  }
}

void load_checkpoint(Session& s, const CheckpointRecord& rec) {
  Json meta = rec.meta;
  const std::string& ckpt = rec.path;
  if (meta.contains("fingerprint_g") && meta["fingerprint_g"].str() != state_fingerprint(*s.G)) {
    throw Error(ckpt + ": the checkpoint's generator does not match " + s.path("model.toml") +
                " (different layers or shapes): was model.toml edited after the run started?");
  }
  if (meta.contains("fingerprint_d") && meta["fingerprint_d"].str() != state_fingerprint(*s.D)) {
    throw Error(ckpt + ": the checkpoint's discriminator does not match " + s.path("model.toml"));
  }
  torch::serialize::InputArchive ar;
  try {
    ar.load_from(rec.bytes.data(), rec.bytes.size(), s.device);  // the bytes that were verified
  } catch (const c10::Error& e) {
    throw Error(ckpt + ": corrupt checkpoint: " + torch_message(e));
  }
  load_module(*s.G, ar, "G", ckpt);
  load_module(*s.D, ar, "D", ckpt);
  if (s.G_ema) load_module(*s.G_ema, ar, "G_ema", ckpt);
  try {
    torch::serialize::InputArchive og, od;
    ar.read("opt_g", og);
    ar.read("opt_d", od);
    s.opt_g->load(og);
    s.opt_d->load(od);
    torch::Tensor it, ds, rng, fixed, best;
    ar.read("iteration", it);
    ar.read("data_state", ds);
    ar.read("noise_rng", rng);
    ar.read("fixed_noise", fixed);
    ar.read("best_value", best);
    s.iteration = it.item<int64_t>();
    DataState st;
    st.seed = static_cast<uint64_t>(ds[0].item<int64_t>());
    st.epoch = ds[1].item<int64_t>();
    st.position = ds[2].item<int64_t>();
    s.loader->restore(st);
    s.noise_gen.set_state(rng.cpu());
    torch::Tensor torch_rng;
    if (ar.try_read("torch_rng", torch_rng)) set_global_cpu_rng_state(torch_rng.cpu());  // older checkpoints lack it
    s.fixed_noise = fixed.cpu();
    s.best_value = best.item<double>();
    s.saved_iteration = s.iteration;
  } catch (const c10::Error& e) {
    throw Error(ckpt + ": cannot restore the training state: " + torch_message(e));
  }
}

void write_samples(Session& s, RunRecords* records) {
  Network& g = s.G_ema ? s.G_ema : s.G;
  bool was_training = g->is_training();
  g->eval();
  torch::NoGradGuard ng;
  auto imgs = g->forward(s.fixed_noise.to(s.device));
  if (was_training) g->train();
  char name[64];
  std::snprintf(name, sizeof name, "samples/iter_%07lld.png", static_cast<long long>(s.iteration));
  ensure_writable_dir(s.path("samples"));
  const PngImage grid = png_grid(imgs, 8, s.path(name));
  write_file_atomic(s.path(name), grid.png);
  write_file_atomic(s.path("samples/latest.png"), grid.png);
  if (records) records->samples(grid, s.iteration);
}

void truncate_log(const std::string& path, int64_t max_iteration) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      Json j = Json::parse(line);
      if (j.contains("iteration") && j["iteration"].integer() > max_iteration) continue;
    } catch (const Error&) {
      continue;  // a line cut by a crash
    }
    kept += line + "\n";
  }
  write_file_atomic(path, kept);
}

void run_evaluation(Session& s, const TrainOptions& opt, RunRecords* records) {
  if (!opt.evaluator) return;
  Network& g = s.G_ema ? s.G_ema : s.G;
  bool was_training = g->is_training();
  g->eval();
  EvalValues ev = opt.evaluator(g, s.device, s.iteration, s.group.get());  // every rank takes part
  auto& values = ev.values;
  if (was_training) g->train();
  if (!s.writer()) return;  // rank 0 computed the metrics, logs them and keeps the best
  Json rec = Json::object();
  rec["iteration"] = s.iteration;
  rec["kind"] = "eval";
  std::string line = "eval at " + std::to_string(s.iteration) + ":";
  const Registry& reg = Registry::global();
  for (const auto& [k, v] : values) {
    rec[k] = v;
    line += " " + k + " " + (std::isfinite(v) ? fmt(v, 3) : std::string("n/a"));
    // a metric's scale beside its value wherever it is printed (KID: raw MMD^2, not x1e3)
    if (reg.has(Kind::Metric, k) && !reg.metric(k).scale.empty()) line += " (" + reg.metric(k).scale + ")";
  }
  log::info(line);
  records->record(rec);
  if (!s.best_metric.empty() && values.count(s.best_metric)) {
    // The metric says which way is better (a plugin metric may be higher-is-better whatever
    // its name); without that, only IS-like names are taken as higher-is-better.
    auto dir = ev.higher_is_better.find(s.best_metric);
    s.best_higher = dir != ev.higher_is_better.end() ? dir->second : s.best_metric.rfind("is", 0) == 0;
    double v = values[s.best_metric];
    bool better = std::isnan(s.best_value) || (s.best_higher ? v > s.best_value : v < s.best_value);
    if (better && std::isfinite(v)) {
      s.best_value = v;
      Json extra = Json::object();
      extra["metric"] = s.best_metric;
      extra["value"] = v;
      save_checkpoint(s, "best", extra);
      log::info("new best " + s.best_metric + " " + fmt(v, 3) + ": checkpoints/best.json");
    }
  }
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
}

TrainStatus train_iterations(Session& s, const TrainOptions& opt, RunRecords* records) {
  StopSignalGuard sig;
  BatchStatsScope batch_stats(s.group && s.train.boolean("sync_batchnorm") ? s.group.get() : nullptr);
  const int64_t log_every = s.train.integer("log_every");
  const int64_t sample_every = s.train.integer("sample_every");
  const int64_t ckpt_every = s.train.integer("checkpoint_every");
  const int64_t eval_every = s.train.integer("eval_every");
  if (eval_every > 0 && !opt.evaluator) {
    throw Error(s.run.spec.train.raw.source("eval_every"),
                "[train] eval_every needs an evaluator: the metrics plugin or feature network is missing");
  }
  int64_t last_good_ckpt = s.iteration;
  // Fault injection for tests/test_bad_input.cpp: GAN_TEST_NAN_AT=N makes the discriminator loss
  // NaN at iteration N, before backward, so the NaN reaches the weights as in a real divergence.
  int64_t nan_at = -1;
  if (const char* v = std::getenv("GAN_TEST_NAN_AT")) nan_at = std::atoll(v);
  s.G->train();
  s.D->train();
  StepNets nets{s.G, s.D, s.loss.get(), s.opt_g.get(), s.opt_d.get(), {}, 1.0};
  StepConfig step_cfg = step_config(s.train);
  step_cfg.batch_size = s.local_batch;
  double comm_s = 0;  // seconds in collectives since the last log line (data-parallel training)
  // this rank's share of the batch, as a weight of its mean losses: the ranks' weighted
  // gradients sum to the gradient of the whole batch's mean loss (1 when the shares are equal)
  const double share = static_cast<double>(s.local_batch) / static_cast<double>(s.batch_size);
  if (s.group) {
    nets.loss_weight = share * s.world;
    nets.reduce_gradients = [&s, &comm_s](torch::nn::Module& m) {
      const ScopedSeconds timed{comm_s};
      std::vector<torch::Tensor> grads;
      for (auto& p : m.parameters())
        if (p.grad().defined()) grads.push_back(p.mutable_grad());
      s.group->all_reduce_sum(grads);
      for (auto& g : grads) g.div_(s.world);
    };
  }

  auto t0 = std::chrono::steady_clock::now();
  auto t_log = t0;
  int64_t it_at_log = s.iteration;
  double sum_d = 0, sum_g = 0, sum_real = 0, sum_fake = 0;
  int64_t n_sum = 0;
  // Per iteration [d_loss, g_loss, D(x), D(G(z))] on the training device, read in one transfer by
  // flush(): a read per iteration would stall a GPU four times per step.
  // The rows are the iterations up to s.iteration, the newest last.
  std::vector<torch::Tensor> pending;
  const bool defer_reads = s.device.is_cuda();
  auto flush = [&] {
    if (pending.empty()) return;
    torch::Tensor v = torch::stack(pending).to(torch::kCPU, torch::kFloat64).contiguous();
    if (s.group) {  // the whole batch's means, the same on every rank (a NaN stops them all)
      const ScopedSeconds timed{comm_s};
      v.mul_(share);
      std::vector<torch::Tensor> t{v};
      s.group->all_reduce_sum(t);
    }
    auto a = v.accessor<double, 2>();
    for (int64_t row = 0; row < a.size(0); ++row) {
      const int64_t iteration = s.iteration - a.size(0) + row + 1;
      const double dl = a[row][0], gl = a[row][1];
      if (!std::isfinite(dl) || !std::isfinite(gl)) {
        std::string what = "iteration " + std::to_string(iteration) + ": the " +
                           (!std::isfinite(dl) ? "discriminator" : "generator") + " loss is " +
                           (std::isnan(!std::isfinite(dl) ? dl : gl) ? "NaN" : "infinite") +
                           "; training stopped without saving the diverged weights. ";
        if (has_checkpoint(s.path("checkpoints"), "latest")) {
          throw Error(what + "The last good checkpoint (iteration " + std::to_string(last_good_ckpt) + ") is " +
                      s.path("checkpoints/latest.pt") + ": lower [train] lr_g/lr_d, or check the data, then resume " +
                      "with `gan train --resume " + s.run.dir + "`");
        }
        // diverged before the first checkpoint: there is nothing to resume from
        throw Error(what + "No checkpoint was saved yet (the first is due at iteration " +
                    std::to_string(ckpt_every > 0 ? ckpt_every : s.iterations) + " of [train] checkpoint_every): " +
                    "lower [train] lr_g/lr_d, or check the data, then run the same `gan train MODEL --out " +
                    s.run.dir + "` again: a run without a checkpoint is restarted in place");
      }
      sum_d += dl;
      sum_g += gl;
      sum_real += a[row][2];
      sum_fake += a[row][3];
      ++n_sum;
    }
    pending.clear();
  };

  while (s.iteration < s.iterations) {
    int sig = g_interrupted.load();
    if (s.group) {  // a signal to any rank stops them all here
      const ScopedSeconds timed{comm_s};
      sig = static_cast<int>(s.group->all_max(sig));
    }
    if (sig) {
      flush();
      if (s.saved_iteration != s.iteration) {
        Json extra = rank_metadata(s);
        if (s.writer()) save_checkpoint(s, "latest", extra);
      }
      if (s.group) s.group->barrier();  // no rank exits before rank 0's checkpoint is committed
      if (s.writer()) log::warn("interrupted by " + std::string(signal_name(sig)) + " at iteration " + std::to_string(s.iteration) +
                ": checkpoint saved in " + s.path("checkpoints") + "; continue with `gan train --resume " +
                s.run.dir + "`");
      return TrainStatus::Interrupted;
    }
    // --- learning rates of this iteration ---
    const double lr_factor = s.schedule.factor(s.iteration);
    set_lr(*s.opt_g, s.lr_g * lr_factor);
    set_lr(*s.opt_d, s.lr_d * lr_factor);
    // --- one D and G update (gan/train_step.hpp) ---
    StepConfig cfg = step_cfg;
    cfg.poison_d_loss = nan_at == s.iteration + 1;
    StepResult r = train_step(nets, cfg, [&s] { return next_real(s); }, [&s](int64_t n) { return noise(s, n); });
    pending.push_back(torch::stack({r.d_loss.detach(), r.g_loss.detach(), torch::sigmoid(r.real_logits).mean(),
                                    torch::sigmoid(r.fake_logits).mean()}));
    if (s.G_ema) update_ema(*s.G_ema, *s.G, s.iteration < s.ema_start ? 0.0 : s.ema_decay);
    ++s.iteration;
    const bool last = s.iteration == s.iterations;
    const bool log_now = s.iteration % log_every == 0 || last;
    const bool sample_now = (sample_every > 0 && s.iteration % sample_every == 0) || last;
    const bool eval_now = eval_every > 0 && (s.iteration % eval_every == 0 || last);
    const bool ckpt_now = (ckpt_every > 0 && s.iteration % ckpt_every == 0) || last;
    // the losses are read (a device sync) before anything is logged or saved, and on CPU, where a
    // read costs nothing, after every iteration, so that a divergence stops at its iteration
    if (!defer_reads || log_now || sample_now || eval_now || ckpt_now) flush();

    if (log_now && s.writer()) {
      auto now = std::chrono::steady_clock::now();
      double dt = std::chrono::duration<double>(now - t_log).count();
      double its = dt > 0 ? (s.iteration - it_at_log) / dt : 0;
      double elapsed = std::chrono::duration<double>(now - t0).count();
      Json rec = Json::object();
      rec["iteration"] = s.iteration;
      rec["d_loss"] = sum_d / n_sum;
      rec["g_loss"] = sum_g / n_sum;
      rec["d_real"] = sum_real / n_sum;
      rec["d_fake"] = sum_fake / n_sum;
      rec["it_per_s"] = its;
      rec["lr_g"] = s.lr_g * lr_factor;
      rec["lr_d"] = s.lr_d * lr_factor;
      rec["elapsed_s"] = elapsed;
      rec["epoch"] = s.loader->state().epoch;
      if (s.group) {
        // rank 0's time in collectives (gradient all-reduces, the loss and stop-flag reductions),
        // waiting for slower ranks included, as a share of the interval's wall time
        rec["ranks"] = static_cast<int64_t>(s.world);
        rec["comm_share"] = dt > 0 ? comm_s / dt : 0.0;
      }
      records->record(rec);
      if (opt.progress) {
        double eta = its > 0 ? (s.iterations - s.iteration) / its : NAN;
        char pct[16];
        std::snprintf(pct, sizeof pct, "%5.1f%%", 100.0 * s.iteration / s.iterations);
        log::info("it " + std::to_string(s.iteration) + "/" + std::to_string(s.iterations) + " " + pct + " | " +
                  fmt(its, 2) + " it/s | D " + fmt(sum_d / n_sum) + " G " + fmt(sum_g / n_sum) + " | D(x) " +
                  fmt(sum_real / n_sum, 3) + " D(G(z)) " + fmt(sum_fake / n_sum, 3) +
                  (s.group ? " | comm " + fmt(100 * rec["comm_share"].number(), 0) + "%" : std::string()) +
                  " | ETA " + fmt_duration(eta));
      }
      t_log = now;
      comm_s = 0;
      it_at_log = s.iteration;
      sum_d = sum_g = sum_real = sum_fake = 0;
      n_sum = 0;
    }
    if (sample_now && s.writer()) write_samples(s, records);
    if (eval_now) {
      auto e0 = std::chrono::steady_clock::now();
      run_evaluation(s, opt, records);
      t_log += std::chrono::steady_clock::now() - e0;  // it/s measures training, not evaluation
    }
    if (ckpt_now) {
      Json extra = rank_metadata(s);
      if (s.writer()) save_checkpoint(s, "latest", extra);
      last_good_ckpt = s.iteration;
      s.saved_iteration = s.iteration;
    }
  }
  if (s.writer()) log::info("finished " + std::to_string(s.iteration) + " iterations: " + s.path("checkpoints/latest.pt") + ", " +
            s.path("samples/latest.png"));
  return TrainStatus::Finished;
}

// rank 0 keeps the records (run_records.hpp); an error that ends the run goes into train.log too
TrainStatus train_loop(Session& s, const TrainOptions& opt) {
  std::unique_ptr<RunRecords> records;
  if (s.writer()) {
    records = std::make_unique<RunRecords>(s.run.dir, s.iteration, s.train.boolean("tensorboard"));
    // train.log's header (stderr has had the data and model lines already)
    for (const auto& line : s.intro) log::file_only(log::Level::Info, line);
    log::file_only(log::Level::Info, "training from iteration " + std::to_string(s.iteration) + " to " + std::to_string(s.iterations) +
              (s.iteration > 0 ? ", resumed" : "") + " (gan " + kVersion + ", " +
              build_commit() + "): records in " + s.path("log.jsonl") + ", " + s.path("train.log") +
              (records->tensorboard_path().empty() ? std::string() : ", " + s.path("tensorboard/")));
  }
  try {
    return train_iterations(s, opt, records.get());
  } catch (const std::exception& e) {
    if (records) records->failed(std::string("error: ") + e.what());
    throw;
  }
}

}  // namespace

torch::Device select_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  bool cuda = torch::cuda::is_available();
  if (name == "cuda") {
    if (!cuda) {
      throw Error("--device cuda: no CUDA device is available (this LibTorch sees no GPU); use --device cpu or auto");
    }
    return torch::kCUDA;
  }
  if (name == "auto" || name.empty()) return cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  throw Error("unknown device '" + name + "': use cpu, cuda or auto");
}

namespace {

// One forward of G and D on two latent vectors, in eval mode and without gradients, so that a
// model that fails at run time fails before its run folder is written. Leaves no trace: eval
// mode updates no BatchNorm statistics or spectral-norm vectors, and the noise comes from a
// private generator with the global one's state restored.
void dry_run(Session& s) {
  torch::NoGradGuard ng;
  torch::Tensor rng = global_cpu_rng_state();
  bool g_train = s.G->is_training(), d_train = s.D->is_training();
  s.G->eval();
  s.D->eval();
  try {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(12345);
    auto z = torch::randn({2, s.latent_dim}, gen, torch::kFloat32).to(s.device);
    s.D->forward(s.G->forward(z));
  } catch (const c10::Error& e) {
    set_global_cpu_rng_state(rng);
    throw Error(s.run.spec.path + ": the model fails on its first batch, before anything was written: " +
                torch_message(e));
  }
  set_global_cpu_rng_state(rng);
  if (g_train) s.G->train();
  if (d_train) s.D->train();
}

void preflight_evaluation(Session& s, const TrainOptions& opt) {
  const bool needs_eval = s.train.integer("eval_every") > 0 || !s.train.string("keep_best").empty();
  if (!needs_eval) return;
  if (!opt.evaluator) {
    throw Error(s.run.spec.train.raw.source("eval_every"),
                "[train] eval_every needs an evaluator: the metrics plugin or feature network is missing");
  }
  if (!opt.preflight) return;
  try {
    opt.preflight(s.run, s.device);
  } catch (const Error& e) {
    Source at = s.run.spec.eval.raw.source("feature_net");
    if (!at.known()) at = s.run.spec.train.raw.source("eval_every");
    throw Error(at, std::string("[eval] feature_net cannot evaluate this model (needed by [train] eval_every / ") +
                        "keep_best), checked before anything was written: " + e.what() +
                        "; fix: set [eval] feature_net to a network for the model's " + shape_str(s.run.report.image) +
                        " images, or set [train] eval_every = 0 and keep_best = \"\"");
  }
}

void remove_stale_temps_of_run(const std::string& dir) {
  int n = 0;
  for (const char* sub : {"", "checkpoints", "samples", "eval_cache"}) {
    n += remove_stale_temps((fs::path(dir) / sub).string());
  }
  if (n > 0) log::info("removed " + std::to_string(n) + " temp file(s) left by an interrupted gan in " + dir);
}

// train_loop, with a failing rank's reason passed to the others (they quote it) and its rank in
// its own message.
TrainStatus train_loop_of_rank(Session& s, const TrainOptions& opt) {
  if (!s.group) return train_loop(s, opt);
  try {
    return train_loop(s, opt);
  } catch (const std::exception& e) {
    s.group->report_failure(e.what());
    throw Error("rank " + std::to_string(s.rank) + ": " + e.what());
  }
}

}  // namespace

TrainStatus train_new(const std::string& model_path, const TrainOptions& opt) {
  if (opt.run_dir.empty()) throw Error("train: --out RUN is required");
  const bool writer = !opt.distributed || opt.distributed->rank == 0;
  if (writer) check_out_folder(opt.run_dir);  // before the slow checks; again under the lock below
  Session s;
  s.run.spec = load_model(model_path);
  s.run.report = check_model(s.run.spec, Registry::global());
  s.run.dir = opt.run_dir;
  s.run.info.model_file = fs::absolute(model_path).lexically_normal().string();
  s.run.info.base_dir = fs::absolute(model_path).parent_path().lexically_normal().string();
  s.run.info.name = s.run.spec.name();
  s.run.info.model_text = canonical_model_text(s.run.spec, s.run.report);
  s.run.info.model_sha256 = sha256_hex(s.run.info.model_text);
  const std::string model_toml = model_to_toml(with_resolved_paths(s.run.spec, s.run.report));
  // everything that can fail before the first iteration fails here, before anything is written
  build_session(s, opt);
  broadcast_state(s);
  preflight_evaluation(s, opt);
  dry_run(s);
  if (!s.writer()) return train_loop_of_rank(s, opt);  // rank 0 writes the run folder

  ensure_writable_dir(opt.run_dir);
  RunLock lock(opt.run_dir);
  if (check_out_folder(opt.run_dir) == OutFolder::RestartInPlace) {
    log::warn(opt.run_dir + " holds a run that stopped before its first checkpoint: starting it again in place "
              "(its files are replaced)");
    clear_run_without_checkpoint(opt.run_dir);
  }
  remove_stale_temps_of_run(opt.run_dir);
  write_file_atomic(s.path("model.toml"), model_toml);
  Json extra = Json::object();
  extra["gan_version"] = kVersion;
  extra["provenance"] = provenance(s.device.str());
  if (s.group) extra["ranks"] = static_cast<int64_t>(s.world);
  extra["g_params"] = s.run.report.generator.params_count;
  extra["d_params"] = s.run.report.discriminator.params_count;
  write_file_atomic(s.path("run.json"), run_info_json(s.run.info, extra));
  return train_loop_of_rank(s, opt);
}

TrainStatus train_resume(const TrainOptions& options) {
  read_run_info(options.run_dir);  // "not a run folder" before a lock file is made
  const bool writer = !options.distributed || options.distributed->rank == 0;
  std::optional<RunLock> lock;  // rank 0's: the other ranks only read the run folder
  if (writer) lock.emplace(options.run_dir);
  Session s;
  s.run = open_run(options.run_dir);
  // model.toml may be edited between runs only where that does not change the computation
  const std::string now = canonical_model_text(s.run.spec, s.run.report);
  if (!s.run.info.model_text.empty() && now != s.run.info.model_text) {
    std::vector<std::string> diff = model_differences(s.run.info.model_text, now);
    if (!diff.empty()) {
      std::string list;
      for (const auto& d : diff) list += "\n  " + d;
      if (!options.force) {
        throw Error(s.path("model.toml") + ": edited since the run began, in ways that change what training " +
                    "computes, so a resume would not continue the same run:" + list +
                    "\nundo the edits, start a new run with `gan train " + s.path("model.toml") +
                    " --out NEW`, or resume anyway with --force (nothing was changed)");
      }
      log::warn(s.path("model.toml") + ": edited since the run began; resuming anyway (--force):" + list);
    }
  }
  if (!has_checkpoint(s.path("checkpoints"), "latest")) {
    throw Error(s.run.dir + ": no checkpoint 'latest': the run stopped before its first checkpoint, so there is " +
                "nothing to resume; start it again in place with `gan train " +
                (s.run.info.model_file.empty() ? std::string("MODEL.toml") : printable(s.run.info.model_file)) +
                " --out " + s.run.dir + "`");
  }
  CheckpointRecord rec = read_checkpoint(s.path("checkpoints"), "latest");
  // the target: --iters, else the one the checkpoint was saved under, else [train] iterations
  TrainOptions opt = options;
  if (opt.iterations <= 0 && rec.meta.contains("target_iterations")) {
    opt.iterations = rec.meta["target_iterations"].integer();
  }
  build_session(s, opt);
  // every rank resumes from rank 0's checkpoint bytes, whatever the number of ranks it was saved by
  if (s.group) rec.bytes = s.group->broadcast_bytes(rec.bytes);
  load_checkpoint(s, rec);
  broadcast_state(s);
  if (!s.writer()) {
    if (s.iteration >= s.iterations) return TrainStatus::Finished;
    return train_loop_of_rank(s, opt);
  }
  remove_stale_temps_of_run(s.run.dir);  // everything checked: from here on the run is written
  if (s.run.info.model_text != now) {  // --force, or a run from before the model text was kept
    s.run.info.model_text = now;
    s.run.info.model_sha256 = sha256_hex(now);
    Json extra = Json::object();
    extra["gan_version"] = kVersion;
    write_file_atomic(s.path("run.json"), run_info_json(s.run.info, extra));
  }
  truncate_log(s.path("log.jsonl"), s.iteration);
  log::info("resumed " + s.run.dir + " at iteration " + std::to_string(s.iteration));
  if (s.iteration >= s.iterations) {
    log::info("the run is already at " + std::to_string(s.iteration) + " iterations; pass --iters N to go further");
    return TrainStatus::Finished;
  }
  return train_loop_of_rank(s, opt);
}

LoadedGenerator load_generator(const std::string& run_or_checkpoint, const std::string& device,
                               const std::string& which, const std::string& generator) {
  if (generator != "auto" && generator != "ema" && generator != "raw") {
    throw Error("unknown generator '" + generator + "': use ema, raw or auto");
  }
  std::string run_dir = run_or_checkpoint, w = which;
  if (fs::is_regular_file(run_or_checkpoint)) {
    fs::path p(run_or_checkpoint);
    run_dir = p.parent_path().parent_path().string();
    w = p.stem().string();
    if (run_dir.empty()) run_dir = ".";
  }
  Run run = open_run(run_dir);
  LoadedGenerator out;
  out.device = select_device(device);
  out.latent_dim = run.spec.generator.latent_dim;
  // the verified bytes are loaded, so a `gan train` committing a newer checkpoint meanwhile
  // cannot hand this reader a half-replaced file
  CheckpointRecord rec = read_checkpoint((fs::path(run_dir) / "checkpoints").string(), w);
  Json meta = rec.meta;
  out.iteration = meta["iteration"].integer();
  out.checkpoint = rec.path;
  out.G = Network(run.report.generator, Registry::global());
  torch::serialize::InputArchive ar;
  try {
    ar.load_from(rec.bytes.data(), rec.bytes.size(), out.device);
  } catch (const c10::Error& e) {
    throw Error(out.checkpoint + ": corrupt checkpoint: " + torch_message(e));
  }
  bool ema = meta.contains("ema") && meta["ema"].boolean();
  if (generator == "ema" && !ema) {
    throw Error(out.checkpoint + ": this run keeps no EMA generator ([train] ema = 0): take the generator itself "
                "(raw), or train with [train] ema set");
  }
  if (generator == "raw") ema = false;
  load_module(*out.G, ar, ema ? "G_ema" : "G", out.checkpoint);
  out.ema = ema;
  out.G->to(out.device);
  out.G->eval();
  return out;
}

std::vector<Json> read_log(const std::string& run_dir) {
  std::vector<Json> out;
  std::ifstream in(fs::path(run_dir) / "log.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      out.push_back(Json::parse(line));
    } catch (const Error&) {
    }
  }
  return out;
}

Json checkpoint_meta(const std::string& run_dir, const std::string& which) {
  return checkpoint_metadata((fs::path(run_dir) / "checkpoints").string(), which);
}

void append_jsonl(const std::string& path, const Json& record) {
  std::ofstream out(path, std::ios::app);
  if (!out) throw Error(path + ": cannot append");
  out << record.dump() << "\n";
}

}  // namespace gan
