// gan/metric.hpp — the interface a metric plugin implements.
//
// The framework runs the feature network (a TorchScript file, see docs/) over generated and,
// when a metric asks for it, real images, and hands the metric the results:
//   fake_probs     [N, K]  class probabilities of generated images (softmax of the net's logits)
//   fake_features  [N, D]  pooled features of generated images
//   real_features  [M, D]  pooled features of real images (defined only if needs_real())
// All float64 on CPU. A metric returns named values, e.g. {"is": 8.1, "is_std": 0.1}.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gan/components.hpp"

#include <ATen/core/Tensor.h>

namespace gan {

struct MetricInputs {
  at::Tensor fake_probs;
  at::Tensor fake_features;
  at::Tensor real_features;
  uint64_t seed = 0;  // for metrics that subsample (KID)
};

class Metric {
 public:
  virtual ~Metric() = default;
  virtual bool needs_real() const = 0;
  // Names of the values compute() returns, first one the headline ("is", "fid", "kid").
  virtual std::vector<std::string> outputs() const = 0;
  // True if larger is better for the headline value (IS), false if smaller is (FID, KID).
  virtual bool higher_is_better() const = 0;
  virtual std::map<std::string, double> compute(const MetricInputs& in) = 0;
};

}  // namespace gan
