// gan/eval_preflight.hpp — checks, before a run is written, that its evaluation can run.
#pragma once

#include "gan/trainer.hpp"

namespace gan {

// Loads the run's [eval] feature network and runs it on two images of the model's shape, so a
// feature network that cannot take them (an RGB model with a 1-channel classifier, a file that
// is not TorchScript, the wrong output contract) fails before the first iteration, not at the
// first evaluation. Throws gan::Error naming the network and the problem. For
// TrainOptions::preflight.
void preflight_evaluation(const Run& run, const torch::Device& device);

}  // namespace gan
