// kid.cpp — the Kernel Inception Distance (Bińkowski et al., Demystifying MMD GANs, ICLR 2018):
// the unbiased estimator of the squared MMD between real and generated features with the cubic
// polynomial kernel k(x, y) = (x.y / D + 1)^3,
//   MMD_u^2 = 1/(m(m-1)) sum_{i != j} k(x_i, x_j) + 1/(m(m-1)) sum_{i != j} k(y_i, y_j)
//             - 2/m^2 sum_{i, j} k(x_i, y_j),
// averaged over `subsets` random subsets of m = min(subset_size, N_fake, N_real) rows of each set
// (drawn without replacement, independently per subset, from a generator seeded with
// MetricInputs::seed). Reports the mean ("kid") and population std ("kid_std") over subsets, raw
// (not x1e3); kid_std is NaN (undefined) when a subset is a whole set or there is one subset.
// Unbiased: for equal distributions its expectation is 0, so single values can be negative.
#include <cmath>
#include <string>

#include <ATen/CPUGeneratorImpl.h>

#include "gan/error.hpp"
#include "gan/log.hpp"
#include "gan/plugin.hpp"
#include "metrics.hpp"

namespace gan_metrics {

double mmd2_unbiased_cubic(const torch::Tensor& x, const torch::Tensor& y) {
  TORCH_CHECK(x.dim() == 2 && y.dim() == 2 && x.size(1) == y.size(1), "kid: x and y must be [m, D] and [n, D]");
  const int64_t m = x.size(0), n = y.size(0);
  TORCH_CHECK(m >= 2 && n >= 2, "kid: the unbiased estimator needs at least 2 rows per set");
  const double d = static_cast<double>(x.size(1));
  auto kernel = [d](const torch::Tensor& a, const torch::Tensor& b) {
    return (torch::matmul(a, b.t()) / d + 1).pow(3);
  };
  const torch::Tensor kxx = kernel(x, x), kyy = kernel(y, y), kxy = kernel(x, y);
  const double sxx = (kxx.sum() - kxx.diagonal().sum()).item<double>() / static_cast<double>(m * (m - 1));
  const double syy = (kyy.sum() - kyy.diagonal().sum()).item<double>() / static_cast<double>(n * (n - 1));
  const double sxy = kxy.sum().item<double>() / static_cast<double>(m * n);
  return sxx + syy - 2 * sxy;
}

std::map<std::string, double> KernelDistance::compute(const gan::MetricInputs& in) {
  const torch::Tensor fake = checked_matrix(in.fake_features, "fake_features", "kid", 2);
  const torch::Tensor real = checked_matrix(in.real_features, "real_features", "kid", 2);
  if (fake.size(1) != real.size(1))
    throw gan::Error("kid: fake_features have " + std::to_string(fake.size(1)) + " columns, real_features " +
                     std::to_string(real.size(1)) + "; both must come from the same feature network");
  const int64_t m = std::min({subset_size_, fake.size(0), real.size(0)});

  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(in.seed);
  const auto index_opts = torch::TensorOptions().dtype(torch::kLong);
  std::vector<double> values;
  values.reserve(static_cast<size_t>(subsets_));
  for (int64_t s = 0; s < subsets_; ++s) {
    const torch::Tensor ix = torch::randperm(fake.size(0), gen, index_opts).slice(0, 0, m);
    const torch::Tensor iy = torch::randperm(real.size(0), gen, index_opts).slice(0, 0, m);
    values.push_back(mmd2_unbiased_cubic(fake.index_select(0, ix), real.index_select(0, iy)));
  }
  double mean = 0, var = 0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  for (double v : values) var += (v - mean) * (v - mean);
  var /= static_cast<double>(values.size());
  // When a subset is a whole set (n or the real count at most subset_size) every subset draws the
  // same rows of it, and with one subset there is nothing to spread: the std over subsets would
  // be 0 (or only the other set's resampling), not an uncertainty. Reported as undefined (NaN:
  // null in JSON, "n/a" in tables).
  double spread = std::sqrt(var);
  if (subsets_ < 2 || m == fake.size(0) || m == real.size(0)) {
    spread = std::nan("");
    gan::log::warn("kid: kid_std is undefined (reported as n/a): " +
                   (subsets_ < 2 ? std::string("only 1 subset")
                                 : "each subset takes all " + std::to_string(m) + " rows of the " +
                                       (m == fake.size(0) ? std::string("generated") : std::string("real")) +
                                       " features (" + std::to_string(fake.size(0)) + " generated, " +
                                       std::to_string(real.size(0)) + " real, subset_size " +
                                       std::to_string(subset_size_) + ")") +
                   "; evaluate more samples than subset_size (--n, --real) or lower the kid's subset_size "
                   "for a spread");
  }
  return {{"kid", mean}, {"kid_std", spread}};
}

gan::MetricFactory kid_factory() {
  gan::MetricFactory f;
  f.type = "kid";
  f.doc =
      "Kernel Inception Distance (Bińkowski et al. 2018): unbiased MMD^2 between real and generated "
      "features [N, D] with the kernel k(x, y) = (x.y / D + 1)^3, mean (\"kid\") and std (\"kid_std\") "
      "over `subsets` random subsets of min(subset_size, N_fake, N_real) rows, seeded by the evaluation "
      "seed; reported raw (the MMD^2 itself, not multiplied by 1e3 as some papers do); kid_std is n/a "
      "(null) when a subset is a whole set. Lower is better; 0 in expectation for equal distributions (values can be negative). Unlike "
      "FID, unbiased for small N.";
  f.scale = "raw unbiased MMD^2, not x1e3";
  f.params = {
      gan::ParamSpec::integer("subsets", "number of random subsets averaged", 100).range(1, 100000),
      gan::ParamSpec::integer("subset_size", "rows per subset (capped at the sizes of both sets)", 1000)
          .range(2, 1000000),
  };
  f.create = [](const gan::MetricContext& c) -> std::unique_ptr<gan::Metric> {
    return std::make_unique<KernelDistance>(c.params.integer("subsets"), c.params.integer("subset_size"));
  };
  return f;
}

GAN_REGISTER_METRIC(kid_factory)

}  // namespace gan_metrics
