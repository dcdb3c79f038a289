// metrics.hpp — sample-quality metrics computed from a feature network's outputs:
//   is   Inception Score (Salimans et al. 2016): mean and std over `splits` groups of
//        exp(E_x KL(p(y|x) || p(y)))                                   uses fake_probs [N, K]
//   fid  Fréchet Inception Distance (Heusel et al. 2017):
//        ||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^{1/2})           uses fake/real_features [N, D]
//   kid  Kernel Inception Distance (Bińkowski et al. 2018): unbiased MMD^2 with the kernel
//        k(x, y) = (x.y / D + 1)^3, mean and std over random subsets       uses fake/real_features
//   precision  improved precision and recall (Kynkäänniemi et al. 2019)   uses fake/real_features
//   density    density and coverage (Naeem et al. 2020)                   uses fake/real_features
// Inputs are converted to float64 on the CPU; every shape and value rule is checked with a message.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "gan/components.hpp"
#include "gan/metric.hpp"

namespace gan_metrics {

class InceptionScore : public gan::Metric {
 public:
  explicit InceptionScore(int64_t splits = 10) : splits_(splits) {}
  bool needs_real() const override { return false; }
  std::vector<std::string> outputs() const override { return {"is", "is_std"}; }
  bool higher_is_better() const override { return true; }
  std::map<std::string, double> compute(const gan::MetricInputs& in) override;

 private:
  int64_t splits_;
};

class FrechetDistance : public gan::Metric {
 public:
  bool needs_real() const override { return true; }
  std::vector<std::string> outputs() const override { return {"fid"}; }
  bool higher_is_better() const override { return false; }
  std::map<std::string, double> compute(const gan::MetricInputs& in) override;
};

class KernelDistance : public gan::Metric {
 public:
  KernelDistance(int64_t subsets = 100, int64_t subset_size = 1000) : subsets_(subsets), subset_size_(subset_size) {}
  bool needs_real() const override { return true; }
  std::vector<std::string> outputs() const override { return {"kid", "kid_std"}; }
  bool higher_is_better() const override { return false; }
  std::map<std::string, double> compute(const gan::MetricInputs& in) override;

 private:
  int64_t subsets_, subset_size_;
};

class PrecisionRecall : public gan::Metric {
 public:
  explicit PrecisionRecall(int64_t k = 3) : k_(k) {}
  bool needs_real() const override { return true; }
  std::vector<std::string> outputs() const override { return {"precision", "recall"}; }
  bool higher_is_better() const override { return true; }
  std::map<std::string, double> compute(const gan::MetricInputs& in) override;

 private:
  int64_t k_;
};

class DensityCoverage : public gan::Metric {
 public:
  explicit DensityCoverage(int64_t k = 5) : k_(k) {}
  bool needs_real() const override { return true; }
  std::vector<std::string> outputs() const override { return {"density", "coverage"}; }
  bool higher_is_better() const override { return true; }
  std::map<std::string, double> compute(const gan::MetricInputs& in) override;

 private:
  int64_t k_;
};

// Each row's distance to its k-th nearest neighbour among the other rows of x ([N, D] float64).
torch::Tensor knn_radii(const torch::Tensor& x, int64_t k);
struct PrdcCounts {
  double precision = 0, recall = 0, density = 0, coverage = 0;
};
// The four k-NN figures of real [N, D] and fake [M, D] features (prdc.cpp's definitions).
PrdcCounts prdc_counts(const torch::Tensor& real, const torch::Tensor& fake, int64_t k);

// The Fréchet distance between N(mu1, s1) and N(mu2, s2) (float64; s1, s2 symmetric PSD [D, D]).
// Tr (s1 s2)^{1/2} is computed as the sum of square roots of the eigenvalues of the symmetric PSD
// matrix s1^{1/2} s2 s1^{1/2}, which has the same eigenvalues as s1 s2.
double frechet_distance(const torch::Tensor& mu1, const torch::Tensor& s1, const torch::Tensor& mu2,
                        const torch::Tensor& s2);

// Unbiased MMD^2 between the rows of x [m, D] and y [n, D] with k(a, b) = (a.b / D + 1)^3.
double mmd2_unbiased_cubic(const torch::Tensor& x, const torch::Tensor& y);

// `t` as a contiguous float64 CPU matrix [N, D] with N >= min_rows and finite values; throws
// gan::Error naming `metric` and `what` otherwise.
torch::Tensor checked_matrix(const torch::Tensor& t, const char* what, const char* metric, int64_t min_rows);

gan::MetricFactory is_factory();
gan::MetricFactory fid_factory();
gan::MetricFactory kid_factory();

}  // namespace gan_metrics
