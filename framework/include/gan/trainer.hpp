// gan/trainer.hpp — training runs: the loop, run folders, checkpoints, resume, sampling.
//
//   gan::TrainOptions opt;
//   opt.run_dir = "runs/fmnist";
//   opt.iterations = 2000;                          // overrides [train] iterations
//   gan::train_new("models/fmnist/baseline.toml", opt);
//   ...
//   gan::train_resume("runs/fmnist", opt);          // continues exactly where it stopped
//
// A run folder holds:
//   model.toml            the resolved model (extends merged), for humans and for resume
//   run.json              original model path, the folder relative paths are taken from, name
//   log.jsonl             one JSON object per logged iteration (losses, it/s, metrics)
//   samples/iter_NNNNNNN.png, samples/latest.png   grids from a fixed noise batch
//   checkpoints/latest-NNNNNNN.pt + .json          everything needed to resume; the newest
//   checkpoints/latest.json (pointer), latest.pt   [train] keep_checkpoints are kept, committed
//   checkpoints/best-NNNNNNN.pt + .json, best.json  by one rename (gan/checkpoint.hpp)
//   train.lock            held by the one `gan train` writing the run
//
// Data-parallel (TrainOptions::distributed, docs/distributed.md): each rank reads its share of
// every batch and of its noise, gradients are averaged over the ranks before each optimiser step,
// and rank 0 alone writes; N ranks train as one process with the whole batch would (up to float
// rounding; BatchNorm statistics are per rank unless [train] sync_batchnorm).
//
// Checkpoints contain G, D, both Adam states, the EMA generator, every buffer (BatchNorm running
// statistics, spectral-norm u/v), the noise RNG state, the data loader position, the fixed sample
// noise and the iteration. On CPU a run interrupted and resumed ends with the same weights as an
// uninterrupted one.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "gan/distributed.hpp"
#include "gan/json.hpp"
#include "gan/model.hpp"
#include "gan/network.hpp"
#include "gan/run_folder.hpp"

namespace gan {


// Evaluation hook: called every [train] eval_every iterations (and at the end when eval_every > 0)
// with the generator to evaluate (the EMA one when enabled, in eval mode). Returns named metric
// values, e.g. {"is": 7.9, "is_std": 0.1, "fid": 30.2}, and for each metric type whether its
// headline value is better when higher (the metric's own higher_is_better(); keep_best uses it).
// In data-parallel training every rank calls it with the group (null in one process): each
// generates and embeds its share of the samples, and rank 0 computes and returns the metrics
// (the other ranks' values are empty).
struct EvalValues {
  std::map<std::string, double> values;
  std::map<std::string, bool> higher_is_better;
};
using Evaluator = std::function<EvalValues(Network& generator, const torch::Device& device, int64_t iteration,
                                           Collectives* group)>;

struct TrainOptions {
  std::string run_dir;
  int64_t iterations = -1;  // > 0 overrides [train] iterations
  std::string device;       // "cpu" | "cuda" | "auto"; empty: the model's [train] device
  Evaluator evaluator;      // optional; needed when [train] eval_every > 0
  bool progress = true;     // log progress lines
  bool force = false;       // resume even though model.toml was edited in ways that change training
  // Optional: checks before anything is written that the evaluator can evaluate this model (e.g.
  // runs the feature network on one batch of the data's shape); throws gan::Error if not.
  std::function<void(const Run& run, const torch::Device& device)> preflight;
  // Data-parallel training: this process is one rank of the launcher's (gan/distributed.hpp).
  // [train] batch_size stays the global batch; rank 0 alone writes the run folder.
  std::optional<DistributedEnv> distributed;
  double dist_timeout_s = 0;  // > 0 overrides [train] dist_timeout
};

enum class TrainStatus { Finished, Interrupted };

// Starts a new run in opt.run_dir (which must not already hold a run).
TrainStatus train_new(const std::string& model_path, const TrainOptions& opt);
// Continues the run in opt.run_dir from its newest checkpoint that verifies (after checking that
// model.toml was not edited in ways that change training, unless opt.force).
TrainStatus train_resume(const TrainOptions& opt);


// Picks the device: "auto" -> cuda if available; "cuda" without a GPU -> gan::Error.
torch::Device select_device(const std::string& name);

struct LoadedGenerator {
  Network G{nullptr};
  torch::Device device{torch::kCPU};
  int64_t iteration = 0;
  int64_t latent_dim = 0;
  bool ema = false;
  std::string checkpoint;
};
// Loads the generator of a run folder (latest, or best with which="best") or of a checkpoint
// file inside a run folder. generator: "auto" uses the EMA weights when the run has them, "ema"
// requires them, "raw" takes the trained generator itself.
LoadedGenerator load_generator(const std::string& run_or_checkpoint, const std::string& device = "auto",
                               const std::string& which = "latest", const std::string& generator = "auto");

// Reads log.jsonl of a run (records after the latest checkpoint of an interrupted run that was
// resumed are already dropped by the resume).
std::vector<Json> read_log(const std::string& run_dir);

// Describes the checkpoint's metadata (checkpoints/<which>.json), or null Json if none.
Json checkpoint_meta(const std::string& run_dir, const std::string& which = "latest");

// Writes a new record into RUN/metrics.jsonl-like files; used by evaluation.
void append_jsonl(const std::string& path, const Json& record);

}  // namespace gan
