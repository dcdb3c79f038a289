// Scoring image sets (gan/score.hpp).
#include "gan/score.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "gan/data_loader.hpp"
#include "gan/dataset.hpp"
#include "gan/error.hpp"
#include "gan/evaluate.hpp"
#include "gan/fs_util.hpp"
#include "gan/log.hpp"
#include "gan/metric.hpp"
#include "gan/provenance.hpp"
#include "gan/registry.hpp"
#include "gan/trainer.hpp"

#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#include <stb/stb_image.h>

namespace fs = std::filesystem;

namespace gan {
namespace {

// A set's images [N, C, H, W] in [-1, 1] and a description.
struct ImageSet {
  at::Tensor images;
  std::string what;
};

ImageSet read_png_folder(const std::string& dir, const Shape& shape, int64_t n) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw Error(dir + ": not a folder of PNGs nor data:SPLIT (e.g. data:test, data:train@0)");
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".png") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw Error(dir + ": holds no .png files");
  if (n > static_cast<int64_t>(files.size())) {
    throw Error(dir + ": --n " + std::to_string(n) + " but the folder holds " + std::to_string(files.size()) +
                " PNGs");
  }
  if (n > 0) files.resize(static_cast<size_t>(n));
  const int64_t c = shape[0], h = shape[1], w = shape[2];
  at::Tensor out = torch::empty({static_cast<int64_t>(files.size()), c, h, w}, torch::kFloat32);
  float* dst = out.data_ptr<float>();
  for (size_t i = 0; i < files.size(); ++i) {
    int iw = 0, ih = 0, ic = 0;
    stbi_uc* px = stbi_load(files[i].c_str(), &iw, &ih, &ic, static_cast<int>(c));
    if (!px) throw Error(files[i].string() + ": not a readable PNG (" + stbi_failure_reason() + ")");
    if (iw != w || ih != h) {
      stbi_image_free(px);
      throw Error(files[i].string() + ": " + std::to_string(iw) + "x" + std::to_string(ih) +
                  " pixels, but the model's images are " + std::to_string(w) + "x" + std::to_string(h) +
                  ": score images of the model's size");
    }
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          dst[((static_cast<int64_t>(i) * c + ch) * h + y) * w + x] = px[(y * w + x) * c + ch] / 127.5f - 1.0f;
    stbi_image_free(px);
  }
  return {out, dir + " (" + std::to_string(files.size()) + " PNGs)"};
}

// The first m images of `order`.
at::Tensor rows(const Dataset& ds, const std::vector<int64_t>& order, int64_t m) {
  const Shape& s = ds.shape();
  at::Tensor out = torch::empty({m, s[0], s[1], s[2]}, torch::kFloat32);
  const int64_t per = shape_numel(s);
  for (int64_t i = 0; i < m; ++i) ds.read(order[static_cast<size_t>(i)], out.data_ptr<float>() + i * per);
  return out;
}

// data:SPLIT or data:SPLIT@SEED
ImageSet read_data_split(const Run& run, const std::string& spec, int64_t n) {
  std::string split = spec.substr(5);
  int64_t seed = -1;
  if (auto at = split.find('@'); at != std::string::npos) {
    try {
      size_t used = 0;
      seed = std::stoll(split.substr(at + 1), &used);
      if (used != split.size() - at - 1 || seed < 0) throw std::invalid_argument("seed");
    } catch (const std::exception&) {
      throw Error(spec + ": the seed after @ must be a non-negative integer (data:train@0)");
    }
    split = split.substr(0, at);
  }
  std::unique_ptr<Dataset> ds = open_split_dataset(run, split, spec);
  const int64_t total = ds->size();
  if (n > total) throw Error(spec + ": " + std::to_string(n) + " images asked for, " + ds->describe() + " has " + std::to_string(total));
  const int64_t m = n > 0 ? n : total;
  std::vector<int64_t> order;
  if (seed >= 0) {
    // torch.randperm(total, generator=torch.Generator().manual_seed(seed)), as in Python
    auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(seed));
    at::Tensor p = torch::randperm(total, gen, torch::kLong);
    order.assign(p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + total);
  } else {
    for (int64_t i = 0; i < total; ++i) order.push_back(i);
  }
  return {rows(*ds, order, m), spec + " (" + std::to_string(m) + " of " + ds->describe() + (seed >= 0 ? ", permuted" : "") + ")"};
}

ImageSet read_set(const Run& run, const std::string& spec, int64_t n) {
  if (spec.rfind("data:", 0) == 0) return read_data_split(run, spec, n);
  return read_png_folder(spec, run.report.image, n);
}

FeatureNetwork::Output features(FeatureNetwork& net, const at::Tensor& images, int64_t batch) {
  std::vector<at::Tensor> probs, feats;
  for (int64_t i = 0; i < images.size(0); i += batch) {
    FeatureNetwork::Output o = net.run(images.narrow(0, i, std::min(batch, images.size(0) - i)));
    probs.push_back(o.probs);
    feats.push_back(o.features);
  }
  return {torch::cat(probs), torch::cat(feats)};
}

}  // namespace

Run run_of_model_file(const std::string& model_path) {
  Run run;
  run.spec = load_model(model_path);
  run.report = check_model(run.spec, Registry::global());
  run.dir = fs::absolute(model_path).parent_path().lexically_normal().string();
  run.info.model_file = fs::absolute(model_path).lexically_normal().string();
  run.info.base_dir = run.dir;
  run.info.name = run.spec.name();
  return run;
}

ScoreResult score_images(const Run& run, const ScoreOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.images.empty()) throw Error("score: IMAGES is required: a folder of PNGs or data:SPLIT");
  EvalOptions eo;
  eo.feature_net = o.feature_net;
  EvalConfig cfg = eval_config(run, eo);
  std::vector<std::string> metrics = o.metrics.empty() ? cfg.metrics : o.metrics;
  const Registry& reg = Registry::global();
  std::vector<std::unique_ptr<Metric>> ms;
  bool needs_real = false;
  for (const auto& type : metrics) {
    const MetricFactory& f = reg.metric(type);
    MetricContext ctx;
    auto mp = run.report.metric_params.find(type);
    ctx.params = mp != run.report.metric_params.end() ? mp->second
                                                     : validate_params(f.params, Params("[eval." + type + "]", {}));
    ms.push_back(f.create(ctx));
    needs_real = needs_real || ms.back()->needs_real();
  }
  const torch::Device device = select_device(o.device);
  FeatureNetwork net(cfg.feature_net, device);

  ScoreResult r;
  ImageSet a = read_set(run, o.images, o.n);
  r.images = a.what;
  r.n = a.images.size(0);
  if (o.progress) log::info("score: features of " + a.what);
  FeatureNetwork::Output fa = features(net, a.images, cfg.batch_size);
  MetricInputs in;
  in.fake_probs = fa.probs;
  in.fake_features = fa.features;
  in.seed = cfg.seed;
  if (needs_real) {
    const bool default_against = o.against.empty();
    const std::string against = default_against ? "data:" + cfg.real_split : o.against;
    const int64_t m = o.n_against > 0 ? o.n_against : default_against ? cfg.real_samples : -1;
    ImageSet b;
    if (default_against) {
      // the real images gan evaluate takes: the first real_samples of its seeded order
      std::unique_ptr<Dataset> ds = open_split_dataset(run, cfg.real_split, "real images ([eval] real_split)");
      const int64_t count = std::min(m, ds->size());
      b.images = rows(*ds, DataLoader::epoch_order(ds->size(), cfg.seed, 0, true), count);
      b.what = "the real images of gan evaluate (" + std::to_string(count) + " of " + ds->describe() + ")";
    } else {
      b = read_set(run, against, m);
    }
    r.against = b.what;
    r.n_against = b.images.size(0);
    if (o.progress) log::info("score: features of " + b.what);
    in.real_features = features(net, b.images, cfg.batch_size).features;
  }
  for (size_t k = 0; k < ms.size(); ++k) {
    for (const auto& [name, v] : ms[k]->compute(in)) r.values[name] = v;
    r.higher_is_better[metrics[k]] = ms[k]->higher_is_better();
    const std::string& scale = reg.metric(metrics[k]).scale;
    if (!scale.empty()) r.scales[metrics[k]] = scale;
  }
  r.feature_net = cfg.feature_net;
  r.feature_net_sha256 = sha256_hex(read_file(cfg.feature_net));
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.provenance = provenance(device.str());
  return r;
}

Json ScoreResult::to_json() const {
  Json j = Json::object();
  j["images"] = images;
  j["n"] = n;
  if (!against.empty()) {
    j["against"] = against;
    j["n_against"] = n_against;
  }
  j["feature_net"] = feature_net;
  j["feature_net_sha256"] = feature_net_sha256;
  Json m = Json::object(), h = Json::object(), s = Json::object();
  for (const auto& [k, v] : values) m[k] = v;
  for (const auto& [k, v] : higher_is_better) h[k] = v;
  for (const auto& [k, v] : scales) s[k] = v;
  j["metrics"] = m;
  j["higher_is_better"] = h;
  j["scales"] = s;
  j["seconds"] = seconds;
  j["provenance"] = provenance;
  return j;
}

}  // namespace gan
