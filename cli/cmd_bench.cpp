// gan bench MODEL.toml [--iters N] [--warmup N] [--batch N] [--device D] [--json]: times one
// training iteration (n_dis D steps and a G step, as `gan train` runs them) on synthetic data and
// compares it with its floor, the model's necessary multiply-adds at this machine's FMA peak
// (gan/bench.hpp says what is counted). Writes nothing.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "options.hpp"
#include "gan/bench.hpp"
#include "gan/json.hpp"

namespace gan::cli {

void add_bench_command(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "bench", "time one training iteration of a model on synthetic data against its floor (FMA peak)");
  struct Opts {
    std::string model, device;
    int64_t iters = 10, warmup = 2, batch = 0;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("model", o->model, "model file (.toml)")->required()->type_name("MODEL.toml");
  cmd->add_option("--iters", o->iters, "timed iterations (the median is reported)")->check(CLI::Range(1, 100000));
  cmd->add_option("--warmup", o->warmup, "untimed iterations first")->check(CLI::Range(0, 100000));
  cmd->add_option("--batch", o->batch, "batch size (default: the model's [train] batch_size)")
      ->check(CLI::Range(1, 1 << 20));
  add_device_option(cmd, o->device, /*model_default=*/true);
  cmd->add_flag("--json", o->json, "machine-readable output on stdout");
  cmd->callback([&g, o] {
    load_all_plugins(g);
    BenchOptions bo;
    bo.iterations = o->iters;
    bo.warmup = o->warmup;
    bo.batch_size = o->batch;
    bo.device = o->device;
    bo.progress = !o->json;
    const BenchReport r = bench_model(o->model, bo);
    double phase_total = 0;
    for (const auto& [k, v] : r.phases) phase_total += v;
    if (o->json) {
      Json j = Json::object();
      j["model"] = r.model;
      j["device"] = r.device;
      j["batch_size"] = r.batch_size;
      j["n_dis"] = r.n_dis;
      j["reuse_fake"] = r.reuse_fake;
      j["iterations"] = r.iterations;
      j["g_macs_per_sample"] = r.g_macs;
      j["d_macs_per_sample"] = r.d_macs;
      j["step_macs"] = r.step_macs;
      j["fma_peak_gmacs"] = r.peak.gmacs;
      j["fma_peak_threads"] = r.peak.threads;
      j["fma_peak_isa"] = r.peak.isa;
      j["seconds_per_step"] = r.seconds_per_step;
      j["it_per_s"] = r.it_per_s;
      j["floor_seconds"] = r.floor_seconds;
      j["ratio_to_floor"] = r.ratio;
      j["achieved_fraction_of_peak"] = 1.0 / r.ratio;
      Json ph = Json::object();
      for (const auto& [k, v] : r.phases) ph[k] = v;
      j["phase_seconds"] = ph;
      Json ops = Json::object();
      for (const auto& [k, v] : r.ops) ops[k] = v;
      j["op_seconds"] = ops;
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::printf("%s on %s, batch %lld, n_dis %lld%s\n", r.model.c_str(), r.device.c_str(),
                static_cast<long long>(r.batch_size), static_cast<long long>(r.n_dis),
                r.reuse_fake ? ", reuse_fake" : "");
    std::printf("  step:  %.4f s (%.2f it/s, median of %lld)\n", r.seconds_per_step, r.it_per_s,
                static_cast<long long>(r.iterations));
    std::printf("  floor: %.4f s = %.3g multiply-adds at the FMA peak %.1f GMAC/s (%s, %d threads)\n",
                r.floor_seconds, r.step_macs, r.peak.gmacs, r.peak.isa.c_str(), r.peak.threads);
    std::printf("  ratio: %.2fx the floor (%.0f%% of peak)\n", r.ratio, 100.0 / r.ratio);
    std::printf("  shares of the profiled step (%.4f s):\n", phase_total);
    for (const auto& [k, v] : r.phases) {
      std::printf("    %-34s %8.4f s %5.1f%%\n", k.c_str(), v, 100.0 * v / phase_total);
    }
    for (const auto& [k, v] : r.ops) {
      std::printf("    of which %-25s %8.4f s %5.1f%%\n", k.c_str(), v, 100.0 * v / phase_total);
    }
  });
}

}  // namespace gan::cli
