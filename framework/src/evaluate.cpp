// evaluate.cpp — feature network, real-feature cache, metric plugins, eval.json / evals.jsonl.
#include "gan/evaluate.hpp"

#include <sys/stat.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "gan/data_loader.hpp"
#include "gan/dataset.hpp"
#include "gan/error.hpp"
#include "gan/fs_util.hpp"
#include "gan/log.hpp"
#include "gan/metric.hpp"
#include "gan/provenance.hpp"
#include "gan/registry.hpp"

namespace fs = std::filesystem;

namespace gan {

namespace {

const char* kContract =
    "a feature network is a TorchScript file whose forward(x) takes images [N, C, H, W] in [-1, 1] at the "
    "model's resolution and returns a tuple (logits [N, K], features [N, D]); see docs/feature-networks.md";

std::string shape_of(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

std::string fmt(double v, int prec = 3) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// A 64-bit hash of raw bytes, 8 at a time (FNV-1a's prime on words, then a final mix): fast
// enough for the tens of MB of a real-image sample and a feature network file.
uint64_t hash_bytes(const void* data, size_t n, uint64_t h = 1469598103934665603ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 1099511628211ull;
    h ^= h >> 29;
  }
  for (; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h ^ n;
}

std::string hex64(uint64_t v) {
  char hex[24];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(v));
  return hex;
}

struct FileStamp {
  int64_t mtime = 0, size = 0;
};
FileStamp stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {static_cast<int64_t>(st.st_mtime), static_cast<int64_t>(st.st_size)};
}

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// FeatureNetwork

struct FeatureNetwork::Impl {
  torch::jit::Module module;
  torch::Device device{torch::kCPU};
  bool checked = false;
};

FeatureNetwork::FeatureNetwork(const std::string& path, const torch::Device& device)
    : impl_(std::make_unique<Impl>()), path_(path) {
  if (!fs::exists(path)) {
    throw Error("feature network " + path + ": no such file; " + kContract);
  }
  try {
    impl_->module = torch::jit::load(path, device);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    throw Error("feature network " + path + ": cannot be loaded as TorchScript (" + what + "); " +
                kContract);
  }
  impl_->module.eval();
  impl_->device = device;
}

FeatureNetwork::~FeatureNetwork() = default;

FeatureNetwork::Output FeatureNetwork::run(const at::Tensor& images) {
  torch::NoGradGuard ng;
  const int64_t n = images.size(0);
  c10::IValue out;
  try {
    out = impl_->module.forward({images.to(impl_->device, torch::kFloat32).contiguous()});
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    throw Error("feature network " + path_ + ": forward failed on images " + shape_of(images) + " (" +
                what + "); " + kContract);
  } catch (const std::exception& e) {
    throw Error("feature network " + path_ + ": forward failed on images " + shape_of(images) + " (" +
                std::string(e.what()) + "); " + kContract);
  }
  if (!out.isTuple() || out.toTupleRef().elements().size() != 2 || !out.toTupleRef().elements()[0].isTensor() ||
      !out.toTupleRef().elements()[1].isTensor()) {
    std::string got = out.isTensor() ? "a single tensor " + shape_of(out.toTensor()) : out.tagKind();
    throw Error("feature network " + path_ + ": forward returned " + got + ", expected a tuple (logits, features); " +
                kContract);
  }
  at::Tensor logits = out.toTupleRef().elements()[0].toTensor();
  at::Tensor feats = out.toTupleRef().elements()[1].toTensor();
  if (logits.dim() != 2 || feats.dim() != 2 || logits.size(0) != n || feats.size(0) != n || logits.size(1) < 2 ||
      feats.size(1) < 1) {
    throw Error("feature network " + path_ + ": for images " + shape_of(images) + " forward returned logits " +
                shape_of(logits) + " and features " + shape_of(feats) + ", expected [" + std::to_string(n) +
                ", K >= 2] and [" + std::to_string(n) + ", D]; " + kContract);
  }
  if (!impl_->checked) {
    classes_ = logits.size(1);
    dim_ = feats.size(1);
    impl_->checked = true;
  }
  Output o;
  o.probs = torch::softmax(logits.to(torch::kCPU, torch::kFloat64), 1);
  o.features = feats.to(torch::kCPU, torch::kFloat64);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Configuration and results

EvalConfig eval_config(const Run& run, const EvalOptions& o) {
  const Params& e = run.report.eval;
  EvalConfig c;
  c.metrics = run.report.metrics;
  c.n_samples = o.n_samples > 0 ? o.n_samples : e.integer("n_samples");
  c.real_samples = o.real_samples > 0 ? o.real_samples : e.integer("real_samples");
  c.batch_size = e.integer("batch_size");
  c.real_split = e.string("real_split");
  c.seed = static_cast<uint64_t>(e.integer("seed"));
  c.cache_dir = o.cache_dir.empty() ? (fs::path(run.dir) / "eval_cache").string() : o.cache_dir;
  if (c.metrics.empty()) throw Error(run.dir + ": [eval] metrics is empty: nothing to evaluate");
  if (!o.feature_net.empty()) {
    c.feature_net = fs::absolute(o.feature_net).lexically_normal().string();
    if (!fs::exists(c.feature_net)) throw Error("--feature-net " + o.feature_net + ": no such file; " + kContract);
    return c;
  }
  const std::string& fn = e.string("feature_net");
  if (fn.empty()) {
    throw Error(e.source("feature_net"),
                "[eval] feature_net is not set: name a TorchScript feature network (relative to the model file), "
                "e.g. feature_net = \"fmnist_classifier.pt\" for Fashion-MNIST models, or an Inception-v3 export "
                "(docs/feature-networks.md)");
  }
  fs::path p(fn);
  if (p.is_relative()) p = fs::path(run.info.base_dir.empty() ? run.dir : run.info.base_dir) / p;
  c.feature_net = p.lexically_normal().string();
  if (!fs::exists(c.feature_net)) {
    Source where = e.source("feature_net");
    std::string at = where.file.empty() ? "" : " (" + where.file + ":" + std::to_string(where.line) + ")";
    throw Error("[eval] feature_net = \"" + fn + "\"" + at + ": " + c.feature_net +
                " does not exist (relative paths are taken from the model file's folder " + run.info.base_dir +
                "); " + kContract + " — it explains how to export Inception-v3 elsewhere");
  }
  return c;
}

Json EvalResult::to_json() const {
  Json j = Json::object();
  j["run"] = run_dir;
  j["name"] = name;
  j["checkpoint"] = checkpoint;
  j["iteration"] = iteration;
  j["n"] = config.n_samples;
  j["real_samples"] = config.real_samples;
  j["real_split"] = config.real_split;
  j["feature_net"] = config.feature_net;
  j["feature_net_mtime"] = feature_net_mtime;
  if (!feature_net_hash.empty()) j["feature_net_hash"] = feature_net_hash;
  if (!real_images_hash.empty()) j["real_images_hash"] = real_images_hash;
  j["seed"] = static_cast<int64_t>(config.seed);
  Json m = Json::object();
  for (const auto& [k, v] : values) m[k] = v;
  j["metrics"] = m;
  Json hib = Json::object();
  for (const auto& [k, v] : higher_is_better) hib[k] = v;
  j["higher_is_better"] = hib;
  if (!scales.empty()) {
    Json sc = Json::object();
    for (const auto& [k, v] : scales) sc[k] = v;
    j["scales"] = sc;
  }
  Json names = Json::array();
  for (const auto& t : config.metrics) names.push_back(t);
  j["metric_types"] = names;
  j["seconds"] = seconds;
  j["time"] = now_iso();
  if (!provenance.is_null()) j["provenance"] = provenance;
  return j;
}

EvalResult EvalResult::from_json(const Json& j) {
  EvalResult r;
  auto need = [&](const char* k) -> const Json& {
    const Json* v = j.find(k);
    if (!v) throw Error(std::string("eval record without '") + k + "'");
    return *v;
  };
  r.iteration = need("iteration").integer();
  r.config.n_samples = need("n").integer();
  r.config.feature_net = need("feature_net").str();
  if (auto v = j.find("run")) r.run_dir = v->str();
  if (auto v = j.find("name")) r.name = v->str();
  if (auto v = j.find("checkpoint")) r.checkpoint = v->str();
  if (auto v = j.find("real_samples")) r.config.real_samples = v->integer();
  if (auto v = j.find("real_split")) r.config.real_split = v->str();
  if (auto v = j.find("feature_net_mtime")) r.feature_net_mtime = v->integer();
  if (auto v = j.find("feature_net_hash"); v && v->is_string()) r.feature_net_hash = v->str();
  if (auto v = j.find("real_images_hash"); v && v->is_string()) r.real_images_hash = v->str();
  if (auto v = j.find("seed")) r.config.seed = static_cast<uint64_t>(v->integer());
  if (auto v = j.find("seconds")) r.seconds = v->number();
  if (auto v = j.find("provenance")) r.provenance = *v;
  for (const auto& [k, v] : need("metrics").fields()) r.values[k] = v.is_number() ? v.number() : std::nan("");
  if (auto v = j.find("higher_is_better"))
    for (const auto& [k, b] : v->fields()) r.higher_is_better[k] = b.boolean();
  if (auto v = j.find("scales"))
    for (const auto& [k, b] : v->fields()) r.scales[k] = b.str();
  if (auto v = j.find("metric_types"))
    for (const auto& t : v->items()) r.config.metrics.push_back(t.str());
  return r;
}

// ---------------------------------------------------------------------------------------------
// RunEvaluator

struct RunEvaluator::Impl {
  Run run;
  EvalConfig cfg;
  torch::Device device{torch::kCPU};
  bool progress = true;
  std::unique_ptr<FeatureNetwork> net;
  std::vector<std::unique_ptr<Metric>> metrics;
  std::vector<std::string> metric_types;
  bool needs_real = false;
  at::Tensor real;
  // The real images (prepare_real): the data set, the order they are taken in, their count, and
  // the hashes and cache key of them.
  bool prepared = false;
  std::unique_ptr<Dataset> ds;
  std::vector<int64_t> order;
  int64_t m = 0;
  std::vector<float> buf;
  std::string images_hash, net_hash, key;
  void prepare_real();
  void read_batch(int64_t i, int64_t b);  // images [i, i + b) of `order` into buf
};

RunEvaluator::RunEvaluator(const Run& run, const EvalConfig& cfg, const torch::Device& device, bool progress)
    : impl_(std::make_unique<Impl>()) {
  impl_->run = run;
  impl_->cfg = cfg;
  impl_->device = device;
  impl_->progress = progress;
  impl_->net = std::make_unique<FeatureNetwork>(cfg.feature_net, device);
  const Registry& reg = Registry::global();
  for (const auto& type : cfg.metrics) {
    const MetricFactory& f = reg.metric(type, run.report.eval.source("metrics"));
    MetricContext ctx;
    auto mp = run.report.metric_params.find(type);  // [eval.TYPE], validated by check_model
    ctx.params = mp != run.report.metric_params.end()
                     ? mp->second
                     : validate_params(f.params, Params("metric '" + type + "'", run.report.eval.source("metrics")));
    impl_->metrics.push_back(f.create(ctx));
    impl_->metric_types.push_back(type);
    impl_->needs_real = impl_->needs_real || impl_->metrics.back()->needs_real();
  }
}

RunEvaluator::~RunEvaluator() = default;

// Hex digest of a file's bytes ("missing" when it cannot be read).
static std::string file_hash(const std::string& path) {
  try {
    const std::string bytes = read_file(path);
    return hex64(hash_bytes(bytes.data(), bytes.size()));
  } catch (const std::exception&) {
    return "missing";
  }
}

// The run's [data] parameters with `split` replaced, where the dataset type has one (*has_split).
static Params split_params(const Run& run, const std::string& split, const Source& split_source, bool* has_split) {
  const ModelReport& rep = run.report;
  Params data = rep.data;
  const DatasetFactory& df = Registry::global().dataset(rep.data_type, run.spec.data.where);
  *has_split = std::any_of(df.params.begin(), df.params.end(), [](const ParamSpec& p) { return p.name == "split"; });
  if (*has_split) data.set("split", ParamValue(split), split_source);
  return data;
}

std::unique_ptr<Dataset> open_split_dataset(const Run& run, const std::string& split, const std::string& purpose,
                                            const Source& split_source) {
  const ModelReport& rep = run.report;
  bool has_split = false;
  Params data = split_params(run, split, split_source, &has_split);
  const DatasetFactory& df = Registry::global().dataset(rep.data_type, run.spec.data.where);
  DatasetContext dctx;
  dctx.params = data;
  dctx.base_dir = run.info.base_dir;
  dctx.expected = rep.image;
  std::unique_ptr<Dataset> ds;
  try {
    ds = df.create(dctx);
  } catch (const Error& e) {
    throw Error(purpose + (has_split ? " (split \"" + split + "\")" : "") + ": " + e.what());
  }
  if (ds->shape() != rep.image) {
    throw Error(purpose + ": the data set's images are " + shape_str(ds->shape()) + " but the model generates " +
                shape_str(rep.image));
  }
  return ds;
}

void RunEvaluator::Impl::prepare_real() {
  if (prepared) return;
  const ModelReport& rep = run.report;
  // The images first: the cache is keyed on their content, so that a data file changed in place
  // (same path, same size, even the same mtime) cannot keep features computed from the old one.
  ds = open_split_dataset(run, cfg.real_split, "real images for evaluation ([eval] real_split)",
                          rep.eval.source("real_split"));
  bool has_split = false;
  const Params data = split_params(run, cfg.real_split, rep.eval.source("real_split"), &has_split);
  const int64_t total = ds->size();
  m = std::min(total, cfg.real_samples);
  if (m < cfg.real_samples) {
    log::warn("[eval] real_samples = " + std::to_string(cfg.real_samples) + " but " + ds->describe() + " has only " +
              std::to_string(total) + " images: using all of them");
  }
  order = DataLoader::epoch_order(total, cfg.seed, 0, true);
  // Batch by batch (the images are read again for the features on a cache miss: reading is cheap
  // next to the feature network, and only one batch is held).
  uint64_t content = 1469598103934665603ull;
  for (int64_t i = 0; i < m; i += cfg.batch_size) {
    const int64_t b = std::min(cfg.batch_size, m - i);
    read_batch(i, b);
    content = hash_bytes(buf.data(), buf.size() * sizeof(float), content);
  }
  images_hash = hex64(content);
  if (net_hash.empty()) net_hash = file_hash(cfg.feature_net);

  // The cache key: everything the features depend on — the feature network's bytes, the images'
  // bytes, their count and the settings that chose them.
  key = "feature_net=" + cfg.feature_net + ";net_content=" + net_hash + ";data=" + rep.data_type;
  for (const auto& [k, v] : data.values()) key += ";" + k + "=" + param_value_str(v);
  key += ";base=" + run.info.base_dir + ";n=" + std::to_string(m) + ";seed=" + std::to_string(cfg.seed) +
         ";images=" + images_hash;
  prepared = true;
}

void RunEvaluator::Impl::read_batch(int64_t i, int64_t b) {
  const int64_t per = shape_numel(ds->shape());
  buf.assign(static_cast<size_t>(b * per), 0.f);
  for (int64_t j = 0; j < b; ++j) ds->read(order[static_cast<size_t>(i + j)], buf.data() + j * per);
}

bool RunEvaluator::needs_real() const { return impl_->needs_real; }

std::string RunEvaluator::feature_net_hash() {
  if (impl_->net_hash.empty()) impl_->net_hash = file_hash(impl_->cfg.feature_net);
  return impl_->net_hash;
}

std::string RunEvaluator::real_images_hash() {
  impl_->prepare_real();
  return impl_->images_hash;
}

at::Tensor RunEvaluator::real_features() {
  Impl& s = *impl_;
  if (s.real.defined()) return s.real;
  s.prepare_real();
  const std::string hex = hex64(fnv1a(s.key));
  const fs::path write_dir = s.cfg.cache_dir.empty() ? fs::path(s.run.dir) / "eval_cache" : fs::path(s.cfg.cache_dir);
  std::vector<fs::path> dirs = {write_dir};
  if (fs::path run_cache = fs::path(s.run.dir) / "eval_cache"; run_cache != write_dir) dirs.push_back(run_cache);
  for (const fs::path& dir : dirs) {
    const fs::path cache = dir / ("real_" + hex + ".pt");
    const fs::path cache_key = dir / ("real_" + hex + ".json");
    if (!fs::exists(cache) || !fs::exists(cache_key)) continue;
    try {
      Json k = Json::parse(read_file(cache_key.string()));
      if (k["key"].str() == s.key) {
        std::string bytes = read_file(cache.string());
        at::Tensor t = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end())).toTensor();
        if (t.dim() == 2 && t.size(0) == s.m) {
          if (s.progress) log::info("real features: from cache " + cache.string());
          // A fresh, allocator-aligned copy: pickle_load's storage can sit at another alignment,
          // and MKL's GEMM/eigh round differently on differently aligned inputs, which moved a
          // rank-deficient FID in its 8th digit between a computed and a cached evaluation.
          s.real = t.to(torch::kFloat64).contiguous().clone();
          return s.real;
        }
      }
    } catch (const std::exception& e) {
      log::warn(cache.string() + ": unreadable cache (" + std::string(e.what()) + "); recomputing");
    }
  }
  const fs::path cache = write_dir / ("real_" + hex + ".pt");
  const fs::path cache_key = write_dir / ("real_" + hex + ".json");

  if (s.progress)
    log::info("real features: computing them for " + std::to_string(s.m) + " images of " + s.ds->describe() +
              " (no cache for these images' content)");
  const Shape shp = s.ds->shape();
  std::vector<at::Tensor> parts;
  for (int64_t i = 0; i < s.m; i += s.cfg.batch_size) {
    const int64_t b = std::min(s.cfg.batch_size, s.m - i);
    s.read_batch(i, b);
    at::Tensor x = torch::from_blob(s.buf.data(), {b, shp[0], shp[1], shp[2]}, torch::kFloat32).clone();
    parts.push_back(s.net->run(x).features);
  }
  s.real = torch::cat(parts, 0);
  try {
    ensure_writable_dir(write_dir.string());
    std::vector<char> bytes = torch::pickle_save(s.real);
    write_file_atomic(cache.string(), std::string(bytes.begin(), bytes.end()));
    Json k = Json::object();
    k["key"] = s.key;
    k["dataset"] = s.ds->describe();
    k["count"] = s.m;
    k["images_hash"] = s.images_hash;
    k["feature_net_hash"] = s.net_hash;
    write_file_atomic(cache_key.string(), k.dump(2) + "\n");
  } catch (const std::exception& e) {
    log::warn("could not cache real features in " + write_dir.string() + ": " + e.what());
  }
  return s.real;
}

EvalResult RunEvaluator::evaluate(Network& G, int64_t latent_dim, int64_t iteration, Collectives* group) {
  Impl& s = *impl_;
  auto t0 = std::chrono::steady_clock::now();
  torch::NoGradGuard ng;
  bool was_training = G->is_training();
  G->eval();
  const int64_t n = s.cfg.n_samples;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(s.cfg.seed);
  std::vector<at::Tensor> probs, feats;
  const int64_t step = std::max<int64_t>(1, n / 10);
  int64_t next_report = step;
  // data-parallel: this rank's run of batches (all of them on rank 0 when there are fewer
  // batches than ranks); every rank draws all the noise, so the batches are one process's
  const int64_t n_batches = (n + s.cfg.batch_size - 1) / s.cfg.batch_size;
  const int rank = group ? group->rank() : 0, world = group ? group->world_size() : 1;
  const bool split = group && n_batches >= world;
  const int64_t first = split ? n_batches * rank / world : (rank == 0 ? 0 : n_batches);
  const int64_t last = split ? n_batches * (rank + 1) / world : n_batches;
  for (int64_t i = 0, k = 0; i < n; i += s.cfg.batch_size, ++k) {
    const int64_t b = std::min(s.cfg.batch_size, n - i);
    at::Tensor z = torch::randn({b, latent_dim}, gen, torch::kFloat32);
    if (k < first || k >= last) continue;
    z = z.to(s.device);
    at::Tensor x = G->forward(z);
    if (x.dim() != 4 || x.size(1) != s.run.report.image[0]) {
      throw Error("evaluate: the generator produced " + shape_of(x) + ", expected [N, " + shape_str(s.run.report.image) +
                  "]");
    }
    FeatureNetwork::Output o = s.net->run(x);
    probs.push_back(o.probs);
    feats.push_back(o.features);
    if (s.progress && i + b >= next_report && i + b < n) {
      log::info("evaluate: " + std::to_string(i + b) + "/" + std::to_string(n) + " samples (" +
                std::to_string(100 * (i + b) / n) + "%)");
      next_report = ((i + b) / step + 1) * step;
    }
  }
  if (was_training) G->train();
  std::string r_real_hash;
  MetricInputs in;
  if (split) {
    in.fake_probs = group->all_gather_rows(torch::cat(probs, 0));
    in.fake_features = group->all_gather_rows(torch::cat(feats, 0));
  }
  if (rank != 0) {  // rank 0 computes the metrics
    EvalResult r;
    r.iteration = iteration;
    r.config = s.cfg;
    return r;
  }
  if (!split) {
    in.fake_probs = torch::cat(probs, 0);
    in.fake_features = torch::cat(feats, 0);
  }
  in.seed = s.cfg.seed;
  if (s.needs_real) {
    in.real_features = real_features();
    r_real_hash = s.images_hash;
  }
  EvalResult r;
  r.run_dir = s.run.dir;
  r.name = s.run.info.name.empty() ? s.run.spec.name() : s.run.info.name;
  r.iteration = iteration;
  r.config = s.cfg;
  r.feature_net_mtime = stamp_of(s.cfg.feature_net).mtime;
  r.real_images_hash = r_real_hash;
  r.feature_net_hash = feature_net_hash();
  for (size_t k = 0; k < s.metrics.size(); ++k) {
    auto values = s.metrics[k]->compute(in);
    for (const auto& [name, v] : values) r.values[name] = v;
    r.higher_is_better[s.metric_types[k]] = s.metrics[k]->higher_is_better();
    const std::string& scale = Registry::global().metric(s.metric_types[k]).scale;
    if (!scale.empty()) r.scales[s.metric_types[k]] = scale;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.provenance = provenance(s.device.str());
  return r;
}

// ---------------------------------------------------------------------------------------------
// Runs

namespace {

void write_result(const EvalResult& r) {
  Json j = r.to_json();
  write_file_atomic((fs::path(r.run_dir) / "eval.json").string(), j.dump(2) + "\n");
  append_jsonl((fs::path(r.run_dir) / "evals.jsonl").string(), j);
}

std::string summary(const EvalResult& r) {
  std::string line;
  for (const auto& [k, v] : r.values) {
    line += " " + k + " " + (std::isfinite(v) ? fmt(v, k.rfind("kid", 0) == 0 ? 5 : 3) : std::string("n/a"));
    if (auto it = r.scales.find(k); it != r.scales.end()) line += " (" + it->second + ")";
  }
  return line;
}

}  // namespace

EvalResult evaluate_run(const std::string& run_or_checkpoint, const EvalOptions& o) {
  LoadedGenerator lg = load_generator(run_or_checkpoint, o.device, o.which);
  std::string run_dir = fs::path(lg.checkpoint).parent_path().parent_path().string();
  if (run_dir.empty()) run_dir = ".";
  Run run = open_run(run_dir);
  EvalConfig cfg = eval_config(run, o);
  if (o.progress) {
    log::info("evaluating " + lg.checkpoint + " (iteration " + std::to_string(lg.iteration) +
              (lg.ema ? ", EMA generator" : "") + ") on " + std::to_string(cfg.n_samples) + " samples with " +
              cfg.feature_net);
  }
  RunEvaluator ev(run, cfg, lg.device, o.progress);
  EvalResult r = ev.evaluate(lg.G, lg.latent_dim, lg.iteration);
  r.checkpoint = lg.checkpoint;
  if (o.write) write_result(r);
  if (o.progress) log::info("eval at " + std::to_string(r.iteration) + ":" + summary(r) + " (" + fmt(r.seconds, 1) + " s)");
  return r;
}

Evaluator make_run_evaluator(const std::string& run_dir, bool progress) {
  struct State {
    std::string dir;
    bool progress = true;
    std::unique_ptr<RunEvaluator> ev;
    int64_t latent_dim = 0;
  };
  auto st = std::make_shared<State>();
  st->dir = run_dir;
  st->progress = progress;
  return [st](Network& G, const torch::Device& device, int64_t iteration, Collectives* group) -> EvalValues {
    if (!st->ev) {
      Run run = open_run(st->dir);
      st->latent_dim = run.spec.generator.latent_dim;
      EvalConfig cfg = eval_config(run);
      st->ev = std::make_unique<RunEvaluator>(run, cfg, device, st->progress);
    }
    EvalResult r = st->ev->evaluate(G, st->latent_dim, iteration, group);
    if (group && group->rank() != 0) return {};
    r.checkpoint = (fs::path(st->dir) / "checkpoints" / "latest.pt").string();
    write_result(r);
    return {r.values, r.higher_is_better};
  };
}

std::unique_ptr<EvalResult> read_eval_json(const std::string& run_dir) {
  fs::path p = fs::path(run_dir) / "eval.json";
  if (!fs::exists(p)) return nullptr;
  try {
    return std::make_unique<EvalResult>(EvalResult::from_json(Json::parse(read_file(p.string()))));
  } catch (const std::exception& e) {
    log::warn(p.string() + ": unreadable (" + std::string(e.what()) + "); evaluating again");
    return nullptr;
  }
}

std::vector<Json> read_evals(const std::string& run_dir) {
  std::map<int64_t, Json> by_iter;
  for (const Json& j : read_log(run_dir)) {
    const Json* kind = j.find("kind");
    if (!kind || !kind->is_string() || kind->str() != "eval" || !j.contains("iteration")) continue;
    Json rec = Json::object();
    rec["iteration"] = j.find("iteration")->integer();
    Json m = Json::object();
    for (const auto& [k, v] : j.fields())
      if (k != "iteration" && k != "kind" && k != "time" && v.is_number()) m[k] = v;
    rec["metrics"] = m;
    by_iter[rec["iteration"].integer()] = rec;
  }
  std::ifstream in(fs::path(run_dir) / "evals.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      Json j = Json::parse(line);
      if (j.contains("iteration") && j.contains("metrics")) by_iter[j.find("iteration")->integer()] = j;
    } catch (const Error&) {
    }
  }
  std::vector<Json> out;
  for (auto& [it, j] : by_iter) out.push_back(j);
  return out;
}

}  // namespace gan
