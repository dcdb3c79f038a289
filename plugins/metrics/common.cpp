// common.cpp — input checks shared by the metric types.
#include <string>

#include "gan/error.hpp"
#include "metrics.hpp"

namespace gan_metrics {

torch::Tensor checked_matrix(const torch::Tensor& t, const char* what, const char* metric, int64_t min_rows) {
  const std::string who = std::string(metric) + ": " + what;
  if (!t.defined()) throw gan::Error(who + " is missing (the framework computed no such input)");
  if (t.dim() != 2) throw gan::Error(who + " must be a matrix [N, D], got " + std::to_string(t.dim()) + " dimensions");
  if (t.size(0) < min_rows)
    throw gan::Error(who + " has " + std::to_string(t.size(0)) + " rows; at least " + std::to_string(min_rows) +
                     " are needed");
  if (t.size(1) < 1) throw gan::Error(who + " has no columns");
  torch::Tensor m = t.to(torch::kCPU, torch::kDouble).contiguous();
  if (!torch::isfinite(m).all().item<bool>()) throw gan::Error(who + " contains NaN or infinite values");
  return m;
}

}  // namespace gan_metrics
