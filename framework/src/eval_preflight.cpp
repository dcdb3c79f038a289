// Evaluation checked before training starts (gan/eval_preflight.hpp).
#include "gan/eval_preflight.hpp"

#include <torch/torch.h>

#include "gan/evaluate.hpp"

namespace gan {

void preflight_evaluation(const Run& run, const torch::Device& device) {
  EvalConfig cfg = eval_config(run);
  FeatureNetwork net(cfg.feature_net, device);
  const Shape& img = run.report.image;
  // two images in the generator's range [-1, 1], as the first evaluation would pass them
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  torch::Tensor x = torch::rand({2, img[0], img[1], img[2]}, gen, torch::kFloat32) * 2 - 1;
  net.run(x);
}

}  // namespace gan
