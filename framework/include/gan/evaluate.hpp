// gan/evaluate.hpp — sample-quality evaluation of runs: the feature network, real-feature cache,
// metric plugins, RUN/eval.json and RUN/evals.jsonl.
//
//   gan::EvalOptions o;                       // overrides of the run's [eval] section
//   o.n_samples = 2000;
//   gan::EvalResult r = gan::evaluate_run("runs/fmnist", o);   // also writes RUN/eval.json
//   double fid = r.values.at("fid");
//
// The feature network is a TorchScript file (docs/feature-networks.md):
//   forward(x [N, C, H, W] in [-1, 1] at the model's resolution) -> (logits [N, K], features [N, D])
// Metrics get softmax(logits) as class probabilities p(y|x) and the features, in float64.
//
// Real features are computed from the run's [data] set, with its `split` parameter (when the
// data set type has one) replaced by [eval] real_split, over the first real_samples images of a
// seeded permutation, and cached in RUN/eval_cache/ (or EvalOptions::cache_dir) keyed by the
// content of the feature network file and of those images (a hash of their bytes), their count,
// the data set's parameters, split and seed, so that repeated evaluate/compare calls and
// evaluations during training reuse them, and a data file changed in place does not.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "gan/json.hpp"
#include "gan/network.hpp"
#include "gan/trainer.hpp"

namespace gan {

// A loaded feature network. Construction loads the file and checks nothing else; the first
// run() checks the contract (tuple of two 2-D tensors with N rows each) and throws gan::Error
// naming the file and the contract otherwise.
class FeatureNetwork {
 public:
  FeatureNetwork(const std::string& path, const torch::Device& device);
  ~FeatureNetwork();
  FeatureNetwork(const FeatureNetwork&) = delete;
  FeatureNetwork& operator=(const FeatureNetwork&) = delete;

  struct Output {
    at::Tensor probs;     // [N, K] float64 CPU, softmax of the logits
    at::Tensor features;  // [N, D] float64 CPU
  };
  // images: [N, C, H, W] float in [-1, 1] (any device; moved to the network's device).
  Output run(const at::Tensor& images);

  const std::string& path() const { return path_; }
  int64_t classes() const { return classes_; }    // K, known after the first run()
  int64_t feature_dim() const { return dim_; }    // D, known after the first run()

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
  int64_t classes_ = 0, dim_ = 0;
};

// Overrides of a run's [eval] section; unset values (-1 / empty) keep the model's.
struct EvalOptions {
  int64_t n_samples = -1;
  int64_t real_samples = -1;
  std::string feature_net;  // a path (relative to the current folder); empty: [eval] feature_net
  std::string device = "auto";
  std::string which = "latest";  // checkpoint of a run folder: latest | best
  bool write = true;             // write RUN/eval.json and append RUN/evals.jsonl
  std::string cache_dir;         // where real features are cached (empty: RUN/eval_cache); an
                                 // existing RUN/eval_cache is still read, never written
  bool progress = true;
};

// The effective evaluation settings of a run.
struct EvalConfig {
  std::vector<std::string> metrics;
  int64_t n_samples = 0, real_samples = 0, batch_size = 0;
  std::string feature_net;  // absolute path
  std::string real_split;
  uint64_t seed = 0;
  std::string cache_dir;  // the real-feature cache written (RUN/eval_cache unless overridden)
};
// Reads [eval] of the run and applies `o`. The feature net path is resolved against the run's
// RunInfo::base_dir (the folder of the model file the run was started from); a missing file is a
// gan::Error naming the path, the [eval] line and how to make one (docs/feature-networks.md).
EvalConfig eval_config(const Run& run, const EvalOptions& o = {});

struct EvalResult {
  std::string run_dir, name, checkpoint;
  int64_t iteration = 0;
  EvalConfig config;
  int64_t feature_net_mtime = 0;  // seconds since the epoch: identifies the feature network's version
  std::string feature_net_hash;   // 64-bit hash of the feature network file's bytes (hex)
  std::string real_images_hash;   // of the real images' bytes, when a metric used them (hex)
  std::map<std::string, double> values;            // e.g. is, is_std, fid, kid, kid_std
  std::map<std::string, bool> higher_is_better;    // per metric type (headline value)
  std::map<std::string, std::string> scales;       // per metric type with one (MetricFactory::scale)
  double seconds = 0;
  Json provenance;  // gan/provenance.hpp: gan, commit, LibTorch, device, plugins with hashes
  Json to_json() const;
  static EvalResult from_json(const Json& j);  // throws gan::Error on missing fields
};

// Evaluates generators of one run with one configuration. Loads the feature network and creates
// the metrics once; real features are computed (or read from the cache) on first use.
class RunEvaluator {
 public:
  RunEvaluator(const Run& run, const EvalConfig& cfg, const torch::Device& device, bool progress = true);
  ~RunEvaluator();
  // Generates cfg.n_samples images with G (in eval mode, no grad) from noise seeded by cfg.seed,
  // and computes every metric. Fills values, higher_is_better, seconds, iteration and config.
  // With a group (data-parallel training) every rank calls it: each generates and embeds its
  // share of the batches (the same noise as one process), rank 0 gathers the features and
  // computes the metrics; the other ranks' results have no values.
  EvalResult evaluate(Network& G, int64_t latent_dim, int64_t iteration, Collectives* group = nullptr);
  // The hash of the real images this configuration takes (loads and reads them, no feature
  // network pass): what EvalResult::real_images_hash records, so that a stored result can be
  // checked against the data as it is now.
  std::string real_images_hash();
  std::string feature_net_hash();  // of the feature network file's bytes
  bool needs_real() const;         // some metric uses real features

 private:
  at::Tensor real_features();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Loads the generator of RUN (or a checkpoint file inside it), evaluates it and, with o.write,
// writes RUN/eval.json and appends the record to RUN/evals.jsonl.
EvalResult evaluate_run(const std::string& run_or_checkpoint, const EvalOptions& o = {});

// The Evaluator `gan train` uses for [train] eval_every: evaluates with the run's [eval]
// settings, writes RUN/eval.json and appends to RUN/evals.jsonl. The run folder is opened on the
// first call (training writes it before the first evaluation).
Evaluator make_run_evaluator(const std::string& run_dir, bool progress = true);

class Dataset;
// The run's [data] set with its `split` parameter replaced by `split` (when the data set type has
// one; `split_source` is where that value comes from), checked to hold the model's image shape.
// `purpose` begins error messages ("real images for evaluation").
std::unique_ptr<Dataset> open_split_dataset(const Run& run, const std::string& split, const std::string& purpose,
                                            const Source& split_source = {});

// RUN/eval.json as an EvalResult if it exists and is readable; otherwise nullptr.
std::unique_ptr<EvalResult> read_eval_json(const std::string& run_dir);
// The records of RUN/evals.jsonl plus the kind = "eval" records of RUN/log.jsonl (evaluations
// during training), sorted by iteration; a later record for the same iteration wins.
std::vector<Json> read_evals(const std::string& run_dir);

}  // namespace gan
