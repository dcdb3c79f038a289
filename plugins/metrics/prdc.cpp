// prdc.cpp — the k-nearest-neighbour metrics of real and generated features, as the reference
// implementation (the `prdc` package of Naeem et al.) computes them, with r_k(x) the distance from
// x to its k-th nearest neighbour in its own set (itself excluded) and d the Euclidean distance:
//   precision (Kynkäänniemi et al. 2019): the share of fakes inside some real's ball,
//             mean_j 1[exists i: d(r_i, f_j) < r_k(r_i)]
//   recall:   the share of reals inside some fake's ball, mean_i 1[exists j: d(r_i, f_j) < r_k(f_j)]
//   density (Naeem et al. 2020): mean_j (1/k) #{i: d(r_i, f_j) < r_k(r_i)}  (about 1 for equal sets)
//   coverage: the share of reals whose ball holds a fake, mean_i 1[min_j d(r_i, f_j) < r_k(r_i)]
// Distances are computed in float64, 1024 real rows at a time (memory O(1024 x N_fake)).
#include <string>

#include "gan/error.hpp"
#include "gan/plugin.hpp"
#include "metrics.hpp"

namespace gan_metrics {

namespace {
constexpr int64_t kChunk = 1024;

void check_pair(const torch::Tensor& fake, const torch::Tensor& real, const char* metric, int64_t k) {
  if (fake.size(1) != real.size(1))
    throw gan::Error(std::string(metric) + ": fake_features have " + std::to_string(fake.size(1)) +
                     " columns, real_features " + std::to_string(real.size(1)) +
                     "; both must come from the same feature network");
  if (fake.size(0) <= k || real.size(0) <= k)
    throw gan::Error(std::string(metric) + ": k = " + std::to_string(k) + " needs more than k samples of each set (" +
                     std::to_string(real.size(0)) + " real, " + std::to_string(fake.size(0)) +
                     " generated): lower [eval." + metric + "] k or raise the sample counts");
}
}  // namespace

torch::Tensor knn_radii(const torch::Tensor& x, int64_t k) {
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < x.size(0); i += kChunk) {
    const torch::Tensor d = torch::cdist(x.slice(0, i, std::min(i + kChunk, x.size(0))), x);
    // the k+1 smallest include the row itself (distance 0)
    parts.push_back(std::get<0>(d.topk(k + 1, 1, /*largest=*/false, /*sorted=*/true)).select(1, k));
  }
  return torch::cat(parts);
}

PrdcCounts prdc_counts(const torch::Tensor& real, const torch::Tensor& fake, int64_t k) {
  const torch::Tensor rr = knn_radii(real, k), fr = knn_radii(fake, k);
  torch::Tensor fake_in_real_ball = torch::zeros({fake.size(0)}, torch::kBool);
  torch::Tensor density_count = torch::zeros({fake.size(0)}, torch::kDouble);
  int64_t recalled = 0, covered = 0;
  for (int64_t i = 0; i < real.size(0); i += kChunk) {
    const int64_t e = std::min(i + kChunk, real.size(0));
    const torch::Tensor d = torch::cdist(real.slice(0, i, e), fake);  // [chunk, N_fake]
    const torch::Tensor inside = d < rr.slice(0, i, e).unsqueeze(1);   // fake j in real i's ball
    fake_in_real_ball |= inside.any(0);
    density_count += inside.sum(0).to(torch::kDouble);
    recalled += (d < fr.unsqueeze(0)).any(1).sum().item<int64_t>();
    covered += (std::get<0>(d.min(1)) < rr.slice(0, i, e)).sum().item<int64_t>();
  }
  PrdcCounts c;
  c.precision = fake_in_real_ball.to(torch::kDouble).mean().item<double>();
  c.recall = static_cast<double>(recalled) / static_cast<double>(real.size(0));
  c.density = density_count.mean().item<double>() / static_cast<double>(k);
  c.coverage = static_cast<double>(covered) / static_cast<double>(real.size(0));
  return c;
}

namespace {
// Both metrics: the inputs checked under the metric's name, then the shared neighbour counts.
PrdcCounts checked_counts(const gan::MetricInputs& in, const char* metric, int64_t k) {
  const torch::Tensor fake = checked_matrix(in.fake_features, "fake_features", metric, 2);
  const torch::Tensor real = checked_matrix(in.real_features, "real_features", metric, 2);
  check_pair(fake, real, metric, k);
  return prdc_counts(real, fake, k);
}
}  // namespace

std::map<std::string, double> PrecisionRecall::compute(const gan::MetricInputs& in) {
  const PrdcCounts c = checked_counts(in, "precision", k_);
  return {{"precision", c.precision}, {"recall", c.recall}};
}

std::map<std::string, double> DensityCoverage::compute(const gan::MetricInputs& in) {
  const PrdcCounts c = checked_counts(in, "density", k_);
  return {{"density", c.density}, {"coverage", c.coverage}};
}

gan::MetricFactory precision_factory() {
  gan::MetricFactory f;
  f.type = "precision";
  f.doc = "Improved precision and recall (Kynkäänniemi et al. 2019) of the features: \"precision\" is the share of "
          "generated samples inside the k-nearest-neighbour ball of some real sample (fidelity), \"recall\" the "
          "share of real samples inside the ball of some generated one (diversity); both in [0, 1], higher is "
          "better. Computed as the prdc reference package (strict <, float64).";
  f.params = {gan::ParamSpec::integer("k", "neighbour whose distance is each sample's radius", 3).range(1, 1000)};
  f.create = [](const gan::MetricContext& c) -> std::unique_ptr<gan::Metric> {
    return std::make_unique<PrecisionRecall>(c.params.integer("k"));
  };
  return f;
}

gan::MetricFactory density_factory() {
  gan::MetricFactory f;
  f.type = "density";
  f.doc = "Density and coverage (Naeem et al. 2020) of the features: \"density\" counts, per generated sample, the "
          "real k-nearest-neighbour balls holding it, over k (about 1 when the sets match, above 1 for samples "
          "crowding the real modes); \"coverage\" is the share of real samples whose ball holds a generated one, "
          "in [0, 1]. Higher is better. Computed as the prdc reference package (strict <, float64).";
  f.params = {gan::ParamSpec::integer("k", "neighbour whose distance is each real sample's radius", 5).range(1, 1000)};
  f.create = [](const gan::MetricContext& c) -> std::unique_ptr<gan::Metric> {
    return std::make_unique<DensityCoverage>(c.params.integer("k"));
  };
  return f;
}

GAN_REGISTER_METRIC(precision_factory)
GAN_REGISTER_METRIC(density_factory)

}  // namespace gan_metrics
