// inception_score.cpp — the Inception Score (Salimans et al., Improved Techniques for Training
// GANs, 2016), computed exactly as the reference implementation: the N samples are cut into
// `splits` contiguous groups (rows [k N / splits, (k + 1) N / splits)); for each group
//   p(y)  = mean over the group of p(y|x)
//   score = exp( mean over the group of KL(p(y|x) || p(y)) )
// and the result is the mean and (population) standard deviation of the scores. 0 log 0 = 0.
#include <cmath>
#include <string>

#include "gan/error.hpp"
#include "gan/plugin.hpp"
#include "metrics.hpp"

namespace gan_metrics {

std::map<std::string, double> InceptionScore::compute(const gan::MetricInputs& in) {
  const torch::Tensor p = checked_matrix(in.fake_probs, "fake_probs", "is", splits_);
  if (p.min().item<double>() < -1e-6) throw gan::Error("is: fake_probs has negative entries; expected probabilities");
  const double worst = (p.sum(1) - 1).abs().max().item<double>();
  if (worst > 1e-3)
    throw gan::Error("is: rows of fake_probs must sum to 1 (softmax of the logits), one is off by " +
                     std::to_string(worst));
  const torch::Tensor probs = p.clamp_min(0);
  const int64_t n = probs.size(0);

  std::vector<double> scores;
  for (int64_t k = 0; k < splits_; ++k) {
    const torch::Tensor part = probs.slice(0, k * n / splits_, (k + 1) * n / splits_);
    const torch::Tensor py = part.mean(0, /*keepdim=*/true);
    const torch::Tensor kl = (torch::xlogy(part, part) - torch::xlogy(part, py)).sum(1);
    scores.push_back(std::exp(kl.mean().item<double>()));
  }
  double mean = 0, var = 0;
  for (double s : scores) mean += s;
  mean /= static_cast<double>(scores.size());
  for (double s : scores) var += (s - mean) * (s - mean);
  var /= static_cast<double>(scores.size());
  return {{"is", mean}, {"is_std", std::sqrt(var)}};
}

gan::MetricFactory is_factory() {
  gan::MetricFactory f;
  f.type = "is";
  f.doc =
      "Inception Score (Salimans et al. 2016) of generated images from the feature network's class "
      "probabilities p(y|x) [N, K]: the N samples are cut into `splits` equal contiguous groups, each "
      "scored exp(mean_x KL(p(y|x) || p(y))) with p(y) the group's mean prediction; reports the mean "
      "(\"is\") and population std (\"is_std\") over groups. Ranges from 1 to K; higher is better. The "
      "paper: 10 groups of 5000 samples.";
  f.params = {
      gan::ParamSpec::integer("splits", "number of groups the samples are cut into", 10).range(1, 1000),
  };
  f.create = [](const gan::MetricContext& c) -> std::unique_ptr<gan::Metric> {
    return std::make_unique<InceptionScore>(c.params.integer("splits"));
  };
  return f;
}

GAN_REGISTER_METRIC(is_factory)

}  // namespace gan_metrics
