// gan evaluate RUN|CKPT [--n N] [--json] [--which latest|best] [--device D] [--feature-net FILE]
//
// Generates [eval] n_samples images in batches, runs the feature network on them (and on real
// images of [eval] real_split, cached in RUN/eval_cache/), computes every [eval] metric, writes
// RUN/eval.json and appends the record to RUN/evals.jsonl. Also the evaluator `gan train` uses for
// [train] eval_every (and keep_best).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "commands.hpp"
#include "options.hpp"
#include "gan/evaluate.hpp"
#include "gan/run_folder.hpp"
#include "gan/score.hpp"
#include "gan/log.hpp"
#include "gan/trainer.hpp"

namespace gan::cli {

Evaluator make_evaluator_for(const std::string& run_dir) {
  // A new run's folder is only known to the trainer; cmd_train passes it for both new and resumed
  // runs. The evaluator opens the run on its first call, after the trainer has written it.
  if (run_dir.empty()) return {};
  return make_run_evaluator(run_dir);
}

void add_score_command(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("score", "score any image set (a folder of PNGs, or a split of the model's data) "
                                          "with a model's feature network and metrics");
  struct Opts {
    std::string model, images, against, device = "auto", feature_net;
    std::vector<std::string> metrics;
    int64_t n = -1, n_against = -1;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("model", o->model, "model file or run folder: its [data], [eval] and feature network")
      ->required()->type_name("MODEL.toml|RUN");
  cmd->add_option("images", o->images, "the set to score: a folder of PNGs (gan sample --out DIR/), data:SPLIT (the "
                                       "model's data set, in order) or data:SPLIT@SEED (permuted as torch.randperm "
                                       "with that seed)")
      ->required()->type_name("DIR|data:SPLIT[@SEED]");
  cmd->add_option("--against", o->against, "the reference set, named the same way (default: the real images gan "
                                           "evaluate takes: [eval] real_split, real_samples)")
      ->type_name("DIR|data:SPLIT[@SEED]");
  cmd->add_option("--n", o->n, "take the first N images of the set (default: all)")->check(CLI::Range(int64_t{2}, int64_t{100000000}));
  cmd->add_option("--n-against", o->n_against, "take the first M images of the reference set")
      ->check(CLI::Range(int64_t{2}, int64_t{100000000}));
  cmd->add_option("--metrics", o->metrics, "metric types (default: [eval] metrics)")->delimiter(',');
  cmd->add_option("--feature-net", o->feature_net, "TorchScript feature network instead of [eval] feature_net");
  add_device_option(cmd, o->device, /*model_default=*/false);
  cmd->add_flag("--json", o->json, "print the result as JSON on stdout");
  cmd->callback([&g, o] {
    load_all_plugins(g);
    std::error_code ec;
    Run run = std::filesystem::is_directory(o->model, ec) ? open_run(o->model) : run_of_model_file(o->model);
    ScoreOptions so;
    so.images = o->images;
    so.against = o->against;
    so.n = o->n;
    so.n_against = o->n_against;
    so.metrics = o->metrics;
    so.feature_net = o->feature_net;
    so.device = o->device;
    ScoreResult r = score_images(run, so);
    if (o->json) {
      std::cout << r.to_json().dump(2) << std::endl;
      return;
    }
    std::printf("%s (n %lld)%s%s\nfeature net %s (sha256 %s)\n", r.images.c_str(), static_cast<long long>(r.n),
                r.against.empty() ? "" : "\nagainst ", r.against.c_str(), r.feature_net.c_str(),
                r.feature_net_sha256.substr(0, 16).c_str());
    for (const auto& [k, v] : r.values) {
      std::string note;
      for (const auto& [type, scale] : r.scales)
        if (k == type) note = "  (" + scale + ")";
      if (std::isfinite(v)) std::printf("  %-10s %.6g%s\n", k.c_str(), v, note.c_str());
      else std::printf("  %-10s n/a%s\n", k.c_str(), note.c_str());
    }
    std::printf("(%.1f s)\n", r.seconds);
  });
}

void add_evaluate_command(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("evaluate", "compute the model's [eval] metrics (IS, FID, KID, ...) for a run");
  struct Opts {
    std::string src, which = "latest", device = "auto", feature_net;
    int64_t n = -1, real = -1;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("run", o->src, "run folder or checkpoint file")->required()->type_name("RUN|CKPT");
  cmd->add_option("--n", o->n, "generated samples (default: [eval] n_samples)")->check(CLI::Range(10, 100000000));
  cmd->add_option("--real", o->real, "real images (default: [eval] real_samples)")->check(CLI::Range(10, 100000000));
  cmd->add_option("--which", o->which, "checkpoint of a run folder: latest or best")
      ->check(CLI::IsMember({"latest", "best"}));
  cmd->add_option("--feature-net", o->feature_net, "TorchScript feature network (default: [eval] feature_net)")
      ->type_name("FILE");
  add_device_option(cmd, o->device, /*model_default=*/false);
  cmd->add_flag("--json", o->json, "print the result as JSON on stdout");
  cmd->callback([&g, o] {
    load_all_plugins(g);
    EvalOptions eo;
    eo.n_samples = o->n;
    eo.real_samples = o->real;
    eo.which = o->which;
    eo.device = o->device;
    eo.feature_net = o->feature_net;
    EvalResult r = evaluate_run(o->src, eo);
    if (o->json) {
      std::cout << r.to_json().dump(2) << std::endl;
      return;
    }
    std::printf("%s  iteration %lld  n %lld  feature net %s\n", r.run_dir.c_str(), static_cast<long long>(r.iteration),
                static_cast<long long>(r.config.n_samples), r.config.feature_net.c_str());
    // headline values in [eval] metrics order, each followed by its _std, then anything else
    std::vector<std::string> order;
    for (const auto& t : r.config.metrics)
      for (const std::string& k : {t, t + "_std"})
        if (r.values.count(k)) order.push_back(k);
    for (const auto& [k, v] : r.values)
      if (std::find(order.begin(), order.end(), k) == order.end()) order.push_back(k);
    for (const auto& k : order) {
      const double v = r.values.at(k);
      auto sc = r.scales.find(k);
      const std::string note = sc != r.scales.end() ? "  (" + sc->second + ")" : "";
      if (std::isfinite(v))
        std::printf("  %-10s %.6g%s\n", k.c_str(), v, note.c_str());
      else
        std::printf("  %-10s n/a%s\n", k.c_str(), note.c_str());
    }
    std::printf("wrote %s/eval.json (%.1f s)\n", r.run_dir.c_str(), r.seconds);
  });
}

}  // namespace gan::cli
