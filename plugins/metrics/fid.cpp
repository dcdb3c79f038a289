// fid.cpp — the Fréchet Inception Distance (Heusel et al., GANs Trained by a Two Time-Scale Update
// Rule Converge to a Local Nash Equilibrium, NeurIPS 2017): the Fréchet (2-Wasserstein) distance
// between Gaussians fitted to real and generated features,
//   FID = ||mu_r - mu_f||^2 + Tr(S_r) + Tr(S_f) - 2 Tr((S_r S_f)^{1/2}),
// S the unbiased sample covariances (divided by N - 1, as numpy.cov). All in float64.
//
// Tr((S_r S_f)^{1/2}): S_r S_f is not symmetric, and scipy.linalg.sqrtm (used by the reference
// code) can return complex parts for it. Here A = S_r^{1/2} is formed by eigen-decomposition
// (eigenvalues at the round-off level, including negative ones, set to 0); A S_f A is symmetric PSD, similar to S_r S_f
// (S_r S_f = A (A S_f A) A^{-1} when S_r is invertible; by continuity otherwise), so
// Tr((S_r S_f)^{1/2}) = sum_i sqrt(lambda_i(A S_f A)), again with round-off eigenvalues set to 0.
#include <cmath>
#include <limits>
#include <string>

#include "gan/error.hpp"
#include "gan/plugin.hpp"
#include "metrics.hpp"

namespace gan_metrics {
namespace {

torch::Tensor symmetric(const torch::Tensor& m) { return (m + m.t()) / 2; }

// Eigenvalues of a symmetric PSD matrix below the round-off level, |lambda| <= D * eps * max|lambda|
// (numpy.linalg.matrix_rank's threshold), are exact zeros in exact arithmetic: set them to 0, so
// that rank-deficient covariances (N <= D) do not add sqrt(round-off) terms.
torch::Tensor cleaned_eigenvalues(const torch::Tensor& evals) {
  const double top = evals.abs().max().item<double>();
  const double tol = static_cast<double>(evals.size(0)) * std::numeric_limits<double>::epsilon() * top;
  return torch::where(evals > tol, evals, torch::zeros_like(evals));
}

// S^{1/2} of a symmetric PSD matrix.
torch::Tensor psd_sqrt(const torch::Tensor& s) {
  auto [evals, evecs] = torch::linalg_eigh(symmetric(s));
  return torch::matmul(evecs * cleaned_eigenvalues(evals).sqrt().unsqueeze(0), evecs.t());
}

torch::Tensor covariance(const torch::Tensor& x, const torch::Tensor& mu) {
  const torch::Tensor xc = x - mu.unsqueeze(0);
  return torch::matmul(xc.t(), xc) / static_cast<double>(x.size(0) - 1);
}

}  // namespace

double frechet_distance(const torch::Tensor& mu1, const torch::Tensor& s1, const torch::Tensor& mu2,
                        const torch::Tensor& s2) {
  TORCH_CHECK(mu1.dim() == 1 && mu1.sizes() == mu2.sizes(), "fid: means must be vectors of the same size");
  const int64_t d = mu1.size(0);
  TORCH_CHECK(s1.sizes() == torch::IntArrayRef({d, d}) && s2.sizes() == torch::IntArrayRef({d, d}),
              "fid: covariances must be [D, D] with D = ", d);
  TORCH_CHECK(mu1.scalar_type() == torch::kDouble && s1.scalar_type() == torch::kDouble &&
                  mu2.scalar_type() == torch::kDouble && s2.scalar_type() == torch::kDouble,
              "fid: statistics must be float64");
  const torch::Tensor a = psd_sqrt(s1);
  const torch::Tensor m = symmetric(torch::matmul(torch::matmul(a, s2), a));
  const double tr_sqrt = cleaned_eigenvalues(torch::linalg_eigvalsh(m)).sqrt().sum().item<double>();
  const double mean_term = (mu1 - mu2).pow(2).sum().item<double>();
  return mean_term + s1.trace().item<double>() + s2.trace().item<double>() - 2 * tr_sqrt;
}

std::map<std::string, double> FrechetDistance::compute(const gan::MetricInputs& in) {
  const torch::Tensor fake = checked_matrix(in.fake_features, "fake_features", "fid", 2);
  const torch::Tensor real = checked_matrix(in.real_features, "real_features", "fid", 2);
  if (fake.size(1) != real.size(1))
    throw gan::Error("fid: fake_features have " + std::to_string(fake.size(1)) + " columns, real_features " +
                     std::to_string(real.size(1)) + "; both must come from the same feature network");
  const torch::Tensor mu_f = fake.mean(0), mu_r = real.mean(0);
  return {{"fid", frechet_distance(mu_r, covariance(real, mu_r), mu_f, covariance(fake, mu_f))}};
}

gan::MetricFactory fid_factory() {
  gan::MetricFactory f;
  f.type = "fid";
  f.doc =
      "Fréchet Inception Distance (Heusel et al. 2017) between Gaussians fitted to real and generated "
      "features [N, D]: ||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^{1/2}), sample covariances "
      "divided by N - 1, matrix square root by symmetric eigen-decomposition in float64. Reports "
      "\"fid\"; lower is better, 0 for identical statistics. Biased upwards for small N: compare only "
      "values computed with the same N and feature network.";
  f.create = [](const gan::MetricContext&) -> std::unique_ptr<gan::Metric> {
    return std::make_unique<FrechetDistance>();
  };
  return f;
}

GAN_REGISTER_METRIC(fid_factory)

}  // namespace gan_metrics
