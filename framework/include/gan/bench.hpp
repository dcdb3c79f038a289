// gan/bench.hpp — times one training iteration of a model file on synthetic data (`gan bench`).
//
//   gan::BenchOptions o;  o.iterations = 20;
//   gan::BenchReport r = gan::bench_model("models/fmnist/dcgan-convt.toml", o);
//   // r.seconds_per_step, r.floor_seconds (the necessary multiply-adds at the FMA peak), r.ratio
//
// What is timed is gan::train_step (gan/train_step.hpp), the function the trainer runs, with the
// model's networks, loss, Adam settings, n_dis, batch size and reuse_fake; only the data is
// synthetic (uniform in [-1, 1], already on the device). EMA, logging and checkpoints are not part
// of the step and are left out.
//
// The floor counts the multiply-adds an iteration cannot avoid, from the registry's per-layer
// MACs (those `gan check` prints), with B the batch, g and d the per-sample MACs of G and D:
//   each D step:  D forward on B real + B fake, D backward (weight and input gradients): 3 * 2B*d,
//                 plus G's forward on B latents (without grad) unless reuse_fake gives it to the G step
//   the G step:   G forward B*g, D forward B*d, D backward for input gradients only B*d,
//                 G backward (weight and input gradients) 2 * B*g
// at the FP32 FMA peak measured in the same run (gan/fma_peak.hpp).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "gan/fma_peak.hpp"

namespace gan {

struct BenchOptions {
  int64_t iterations = 10;  // timed iterations (after the warm-up)
  int64_t warmup = 2;
  int64_t batch_size = 0;   // > 0 overrides [train] batch_size
  std::string device;       // empty: the model's [train] device
  bool progress = true;     // a line per timed iteration
};

struct BenchReport {
  std::string model, device;
  int64_t batch_size = 0, n_dis = 1, iterations = 0;
  bool reuse_fake = false;
  int64_t g_macs = 0, d_macs = 0;  // per sample, forward
  double step_macs = 0;           // the floor's multiply-adds per iteration
  FmaPeak peak;
  double seconds_per_step = 0, it_per_s = 0;
  double floor_seconds = 0, ratio = 0;  // ratio = seconds_per_step / floor_seconds
  // seconds per iteration by phase of train_step ("G forward", "D forward+backward", ...)
  std::map<std::string, double> phases;
  // seconds per iteration inside named operators ("adaconv forward", "adaconv backward"); part of
  // the phases above, not in addition to them
  std::map<std::string, double> ops;
};

BenchReport bench_model(const std::string& model_path, const BenchOptions& opt);

}  // namespace gan
