// Tests of the metric plugin (plugins/metrics) on inputs with known answers: Inception Score of
// one-hot and uniform predictions and against a plain-loop reference; FID of identical sets, of two
// Gaussian samples against the closed form from their sample statistics (with a different matrix
// square root), and of shifted isotropic Gaussians; KID's unbiasedness, seeding and a plain-loop
// reference.
#include "test_common.hpp"  // LibTorch, then Catch (first: see the file)

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "gan/error.hpp"
#include "gan/metric.hpp"
#include "gan/plugin.hpp"
#include "gan/registry.hpp"
#include "metrics.hpp"

namespace {

std::unique_ptr<gan::Metric> make(const gan::MetricFactory& f, gan::Params raw = {}) {
  gan::MetricContext c;
  c.params = gan::validate_params(f.params, raw);
  return f.create(c);
}

gan::Params with(const std::string& name, int64_t value, const std::string& name2 = "", int64_t value2 = 0) {
  gan::Params p;
  p.set(name, value);
  if (!name2.empty()) p.set(name2, value2);
  return p;
}

// Plain loops: the Inception Score of one group.
double is_reference(const torch::Tensor& p) {
  const int64_t n = p.size(0), k = p.size(1);
  auto a = p.accessor<double, 2>();
  std::vector<double> py(static_cast<size_t>(k), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j) py[j] += a[i][j] / static_cast<double>(n);
  double kl = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j)
      if (a[i][j] > 0) kl += a[i][j] * (std::log(a[i][j]) - std::log(py[j]));
  return std::exp(kl / static_cast<double>(n));
}

// Plain loops: unbiased MMD^2 with the cubic kernel.
double mmd_reference(const torch::Tensor& x, const torch::Tensor& y) {
  const int64_t m = x.size(0), n = y.size(0), d = x.size(1);
  auto a = x.accessor<double, 2>();
  auto b = y.accessor<double, 2>();
  auto k = [d](auto u, auto v) {
    double s = 0;
    for (int64_t t = 0; t < d; ++t) s += u[t] * v[t];
    return std::pow(s / static_cast<double>(d) + 1, 3);
  };
  double sxx = 0, syy = 0, sxy = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < m; ++j)
      if (i != j) sxx += k(a[i], a[j]);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      if (i != j) syy += k(b[i], b[j]);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) sxy += k(a[i], b[j]);
  return sxx / static_cast<double>(m * (m - 1)) + syy / static_cast<double>(n * (n - 1)) -
         2 * sxy / static_cast<double>(m * n);
}

// Samples of N(mean, L L^T) as [n, d] float64.
torch::Tensor gaussian(int64_t n, const torch::Tensor& mean, const torch::Tensor& l) {
  return torch::matmul(torch::randn({n, mean.size(0)}, torch::kDouble), l.t()) + mean.unsqueeze(0);
}

}  // namespace

TEST_CASE("is: one-hot predictions spread evenly over K classes score K, uniform ones score 1", "[metrics]") {
  const auto f = gan_metrics::is_factory();
  CHECK(f.type == "is");
  auto is = make(f);
  CHECK_FALSE(is->needs_real());
  CHECK(is->higher_is_better());
  CHECK(is->outputs() == std::vector<std::string>{"is", "is_std"});

  const int64_t k = 7;
  gan::MetricInputs in;
  // 10 groups of 3 * K samples; in every group each class appears 3 times.
  in.fake_probs = torch::one_hot(torch::arange(10 * 3 * k) % k, k).to(torch::kDouble);
  auto r = is->compute(in);
  CHECK(r.at("is") == Approx(7.0).epsilon(1e-12));
  CHECK(r.at("is_std") == Approx(0.0).margin(1e-12));

  in.fake_probs = torch::full({200, k}, 1.0 / k, torch::kDouble);
  r = is->compute(in);
  CHECK(r.at("is") == Approx(1.0).epsilon(1e-12));
  CHECK(r.at("is_std") == Approx(0.0).margin(1e-12));

  // A single class for everything (mode collapse) also scores 1.
  in.fake_probs = torch::one_hot(torch::zeros({50}, torch::kLong), k).to(torch::kDouble);
  CHECK(is->compute(in).at("is") == Approx(1.0).epsilon(1e-12));
}

TEST_CASE("is: agrees with a plain-loop reference over uneven groups", "[metrics]") {
  torch::manual_seed(11);
  // 103 samples in 4 groups: rows [0, 25), [25, 51), [51, 77), [77, 103).
  const torch::Tensor p = torch::softmax(torch::randn({103, 5}, torch::kDouble) * 2, 1);
  auto is = make(gan_metrics::is_factory(), with("splits", 4));
  gan::MetricInputs in;
  in.fake_probs = p;
  const auto r = is->compute(in);
  const int64_t bounds[] = {0, 25, 51, 77, 103};
  std::vector<double> s;
  for (int g = 0; g < 4; ++g) s.push_back(is_reference(p.slice(0, bounds[g], bounds[g + 1])));
  const double mean = (s[0] + s[1] + s[2] + s[3]) / 4;
  double var = 0;
  for (double v : s) var += (v - mean) * (v - mean) / 4;
  CHECK(r.at("is") == Approx(mean).epsilon(1e-12));
  CHECK(r.at("is_std") == Approx(std::sqrt(var)).epsilon(1e-9));
  CHECK(r.at("is_std") > 0);
}

TEST_CASE("is: bad inputs are refused with a message", "[metrics]") {
  auto is = make(gan_metrics::is_factory());
  gan::MetricInputs in;
  CHECK_THROWS_WITH(is->compute(in), Catch::Contains("fake_probs is missing"));
  in.fake_probs = torch::full({5, 3}, 1.0 / 3, torch::kDouble);
  CHECK_THROWS_WITH(is->compute(in), Catch::Contains("at least 10 are needed"));
  in.fake_probs = torch::randn({20, 3}, torch::kDouble);
  CHECK_THROWS_AS(is->compute(in), gan::Error);
}

TEST_CASE("fid: identical sets score 0", "[metrics]") {
  torch::manual_seed(12);
  const auto f = gan_metrics::fid_factory();
  CHECK(f.type == "fid");
  auto fid = make(f);
  CHECK(fid->needs_real());
  CHECK_FALSE(fid->higher_is_better());
  gan::MetricInputs in;
  in.fake_features = torch::randn({300, 16}, torch::kDouble) * 3 + 1;
  in.real_features = in.fake_features.clone();
  CHECK(fid->compute(in).at("fid") == Approx(0.0).margin(1e-8));
  // Fewer samples than dimensions: singular covariances are handled.
  in.fake_features = torch::randn({10, 32}, torch::kDouble);
  in.real_features = in.fake_features.flip(0);
  CHECK(fid->compute(in).at("fid") == Approx(0.0).margin(1e-8));
}

TEST_CASE("fid: two Gaussian samples against the closed form from their statistics", "[metrics]") {
  torch::manual_seed(13);
  const int64_t d = 6;
  const torch::Tensor l1 = torch::randn({d, d}, torch::kDouble) * 0.5 + torch::eye(d, torch::kDouble);
  const torch::Tensor l2 = torch::randn({d, d}, torch::kDouble) * 0.8;
  const torch::Tensor real = gaussian(400, torch::randn({d}, torch::kDouble), l1);
  const torch::Tensor fake = gaussian(500, torch::randn({d}, torch::kDouble), l2);

  // Reference: sample statistics with torch::cov (N - 1), and Tr (S1 S2)^{1/2} as the sum of the
  // square roots of the (real, positive) eigenvalues of the non-symmetric product S1 S2.
  const torch::Tensor mu1 = real.mean(0), mu2 = fake.mean(0);
  const torch::Tensor s1 = torch::cov(real.t()), s2 = torch::cov(fake.t());
  const torch::Tensor ev = torch::linalg_eigvals(torch::matmul(s1, s2));
  REQUIRE(torch::imag(ev).abs().max().item<double>() < 1e-8);
  const double expected = (mu1 - mu2).pow(2).sum().item<double>() + (s1 + s2).trace().item<double>() -
                          2 * torch::real(ev).sqrt().sum().item<double>();

  gan::MetricInputs in;
  in.real_features = real;
  in.fake_features = fake;
  const double fid = make(gan_metrics::fid_factory())->compute(in).at("fid");
  CHECK(fid == Approx(expected).epsilon(1e-9));
  CHECK(gan_metrics::frechet_distance(mu1, s1, mu2, s2) == Approx(expected).epsilon(1e-9));
  // Symmetric in its arguments.
  std::swap(in.real_features, in.fake_features);
  CHECK(make(gan_metrics::fid_factory())->compute(in).at("fid") == Approx(expected).epsilon(1e-9));
}

TEST_CASE("fid: isotropic Gaussians with shifted means score ||shift||^2 for large samples", "[metrics]") {
  torch::manual_seed(14);
  const torch::Tensor shift = torch::tensor({1.0, 2.0, 0.0, 0.0}, torch::kDouble);  // ||shift||^2 = 5
  gan::MetricInputs in;
  in.real_features = torch::randn({20000, 4}, torch::kDouble);
  in.fake_features = torch::randn({20000, 4}, torch::kDouble) + shift;
  CHECK(make(gan_metrics::fid_factory())->compute(in).at("fid") == Approx(5.0).margin(0.15));
  // Scaling the covariance too: N(0, I) vs N(0, 4 I) in 4-D gives 4 (1 + 4 - 2 * 2) = 4.
  in.fake_features = torch::randn({20000, 4}, torch::kDouble) * 2;
  CHECK(make(gan_metrics::fid_factory())->compute(in).at("fid") == Approx(4.0).margin(0.15));
  in.fake_features = torch::randn({20000, 3}, torch::kDouble);
  CHECK_THROWS_WITH(make(gan_metrics::fid_factory())->compute(in), Catch::Contains("same feature network"));
}

TEST_CASE("kid: the estimator equals a plain-loop reference", "[metrics]") {
  torch::manual_seed(15);
  const torch::Tensor x = torch::randn({9, 5}, torch::kDouble);
  const torch::Tensor y = torch::randn({12, 5}, torch::kDouble) + 0.3;
  CHECK(gan_metrics::mmd2_unbiased_cubic(x, y) == Approx(mmd_reference(x, y)).epsilon(1e-10));
  // A subset as large as both sets is the whole set, whatever the permutation.
  const auto f = gan_metrics::kid_factory();
  CHECK(f.type == "kid");
  auto kid = make(f, with("subsets", 3, "subset_size", 50));
  CHECK(kid->outputs() == std::vector<std::string>{"kid", "kid_std"});
  CHECK(kid->needs_real());
  CHECK_FALSE(kid->higher_is_better());
  gan::MetricInputs in;
  in.fake_features = x;
  in.real_features = y.slice(0, 0, 9);
  const auto r = kid->compute(in);
  CHECK(r.at("kid") == Approx(mmd_reference(x, y.slice(0, 0, 9))).epsilon(1e-10));
  // Every subset is the whole of both sets: no spread to report (NaN, not 0).
  CHECK(std::isnan(r.at("kid_std")));
  CHECK_THAT(f.scale, Catch::Contains("raw") && Catch::Contains("not x1e3"));
}

TEST_CASE("kid: the spread is undefined, not 0, when a subset is a whole set", "[metrics]") {
  torch::manual_seed(18);
  gan::MetricInputs in;
  in.fake_features = torch::randn({40, 4}, torch::kDouble);
  in.real_features = torch::randn({200, 4}, torch::kDouble) + 0.2;
  in.seed = 3;
  // n = 40 generated rows at most subset_size 50: each subset takes all of them.
  const auto whole = make(gan_metrics::kid_factory(), with("subsets", 20, "subset_size", 50))->compute(in);
  CHECK(std::isfinite(whole.at("kid")));
  CHECK(std::isnan(whole.at("kid_std")));
  // The same with the real side whole.
  std::swap(in.fake_features, in.real_features);
  CHECK(std::isnan(make(gan_metrics::kid_factory(), with("subsets", 20, "subset_size", 50))->compute(in).at("kid_std")));
  // One subset: nothing to spread.
  CHECK(std::isnan(make(gan_metrics::kid_factory(), with("subsets", 1, "subset_size", 10))->compute(in).at("kid_std")));
  // Subsets smaller than both sets: a real spread, positive.
  const auto part = make(gan_metrics::kid_factory(), with("subsets", 20, "subset_size", 20))->compute(in);
  CHECK(std::isfinite(part.at("kid_std")));
  CHECK(part.at("kid_std") > 0);
}

TEST_CASE("kid: about 0 for equal distributions (unbiased), clearly positive for different ones", "[metrics]") {
  torch::manual_seed(16);
  const int64_t d = 8;
  gan::MetricInputs same;
  same.fake_features = torch::randn({2000, d}, torch::kDouble);
  same.real_features = torch::randn({2000, d}, torch::kDouble);
  same.seed = 1;
  // Many small subsets: the average of the unbiased estimates is near 0 (single ones scatter on both
  // sides: kid_std is about 0.4 here), whereas the biased (V-statistic) estimate at m = 10 would be
  // about 2 (E k(x,x) - E k(x,y)) / m, roughly 1.3 for these features.
  auto small = make(gan_metrics::kid_factory(), with("subsets", 500, "subset_size", 10));
  const auto r = small->compute(same);
  CHECK(std::abs(r.at("kid")) < 3 * r.at("kid_std") / std::sqrt(500.0));

  auto kid = make(gan_metrics::kid_factory(), with("subsets", 10, "subset_size", 100));
  const auto eq = kid->compute(same);
  CHECK(std::abs(eq.at("kid")) < 3 * eq.at("kid_std") / std::sqrt(10.0));

  gan::MetricInputs diff = same;
  diff.fake_features = same.fake_features + 0.5;
  const auto df = kid->compute(diff);
  CHECK(df.at("kid") > 0.5);
  CHECK(df.at("kid") > 5 * df.at("kid_std"));
  CHECK(df.at("kid") > 10 * std::abs(eq.at("kid")));
}

TEST_CASE("kid: subsets are drawn from MetricInputs::seed", "[metrics]") {
  torch::manual_seed(17);
  gan::MetricInputs in;
  in.fake_features = torch::randn({100, 4}, torch::kDouble);
  in.real_features = torch::randn({80, 4}, torch::kDouble) + 0.2;
  auto kid = make(gan_metrics::kid_factory(), with("subsets", 10, "subset_size", 30));
  in.seed = 5;
  const auto a = kid->compute(in);
  torch::manual_seed(99);  // the global generator plays no part
  const auto b = kid->compute(in);
  in.seed = 6;
  const auto c = kid->compute(in);
  CHECK(a.at("kid") == b.at("kid"));
  CHECK(a.at("kid_std") == b.at("kid_std"));
  CHECK(a.at("kid") != c.at("kid"));
  // Defaults.
  const gan::Params p = gan::validate_params(gan_metrics::kid_factory().params, {});
  CHECK(p.integer("subsets") == 100);
  CHECK(p.integer("subset_size") == 1000);
  CHECK(gan::validate_params(gan_metrics::is_factory().params, {}).integer("splits") == 10);
}

TEST_CASE("metrics: the registration lines register exactly the plugin's types", "[metrics]") {
  // The plugin's sources are linked into this test, so their GAN_REGISTER_* lines are in this
  // executable's registration list, as they are in the plugin library's.
  gan::Registry reg;
  gan::Registrar registrar(reg, "metrics", "test");
  for (auto& fn : gan::detail::local_registrations()) fn(registrar);
  CHECK(reg.names(gan::Kind::Metric) == std::vector<std::string>{"density", "fid", "is", "kid", "precision"});
  CHECK(reg.list().size() == 5);
}

namespace {
// The four k-NN figures by plain loops over every pair (the definitions in prdc.cpp's header).
gan_metrics::PrdcCounts prdc_reference(const torch::Tensor& real, const torch::Tensor& fake, int64_t k) {
  const int64_t n = real.size(0), m = fake.size(0);
  auto dist = [](const torch::Tensor& a, int64_t i, const torch::Tensor& b, int64_t j) {
    double s = 0;
    for (int64_t c = 0; c < a.size(1); ++c) {
      const double d = a[i][c].item<double>() - b[j][c].item<double>();
      s += d * d;
    }
    return std::sqrt(s);
  };
  auto radius = [&](const torch::Tensor& x, int64_t i) {
    std::vector<double> d;
    for (int64_t j = 0; j < x.size(0); ++j) d.push_back(dist(x, i, x, j));
    std::sort(d.begin(), d.end());
    return d[static_cast<size_t>(k)];  // d[0] is the row itself
  };
  std::vector<double> rr(n), fr(m);
  for (int64_t i = 0; i < n; ++i) rr[i] = radius(real, i);
  for (int64_t j = 0; j < m; ++j) fr[j] = radius(fake, j);
  gan_metrics::PrdcCounts c;
  for (int64_t j = 0; j < m; ++j) {
    int64_t inside = 0;
    for (int64_t i = 0; i < n; ++i) inside += dist(real, i, fake, j) < rr[i];
    c.precision += inside > 0;
    c.density += static_cast<double>(inside);
  }
  for (int64_t i = 0; i < n; ++i) {
    bool recalled = false;
    double nearest = 1e300;
    for (int64_t j = 0; j < m; ++j) {
      const double d = dist(real, i, fake, j);
      recalled = recalled || d < fr[j];
      nearest = std::min(nearest, d);
    }
    c.recall += recalled;
    c.coverage += nearest < rr[i];
  }
  c.precision /= m;
  c.density /= static_cast<double>(k * m);
  c.recall /= n;
  c.coverage /= n;
  return c;
}
}  // namespace

TEST_CASE("precision, recall, density, coverage: equal a plain-loop reference", "[metrics]") {
  torch::manual_seed(7);
  // more rows than one 1024-row chunk would be slow in the loops: chunking is checked below
  const torch::Tensor real = torch::randn({60, 5}, torch::kDouble);
  const torch::Tensor fake = torch::randn({45, 5}, torch::kDouble) * 1.3 + 0.4;
  for (int64_t k : {1, 3, 5}) {
    INFO("k = " << k);
    const auto a = gan_metrics::prdc_counts(real, fake, k), b = prdc_reference(real, fake, k);
    CHECK(a.precision == Approx(b.precision).margin(1e-12));
    CHECK(a.recall == Approx(b.recall).margin(1e-12));
    CHECK(a.density == Approx(b.density).margin(1e-12));
    CHECK(a.coverage == Approx(b.coverage).margin(1e-12));
    CHECK(a.precision > 0.05);  // overlapping sets: neither 0 nor 1
    CHECK(a.precision < 0.999);
  }
}

TEST_CASE("precision, recall, density, coverage: identical, disjoint and chunked sets", "[metrics]") {
  torch::manual_seed(8);
  const torch::Tensor x = torch::randn({300, 8}, torch::kDouble);
  gan::MetricInputs in;
  in.real_features = x;
  in.fake_features = x.clone();
  auto pr = gan_metrics::PrecisionRecall(3).compute(in);
  auto dc = gan_metrics::DensityCoverage(5).compute(in);
  // every sample sits at distance 0 < its radius from its copy
  CHECK(pr.at("precision") == 1.0);
  CHECK(pr.at("recall") == 1.0);
  CHECK(dc.at("coverage") == 1.0);
  CHECK(dc.at("density") == Approx(1.0).margin(0.2));
  in.fake_features = x + 100.0;  // far away: nothing inside any ball
  pr = gan_metrics::PrecisionRecall(3).compute(in);
  dc = gan_metrics::DensityCoverage(5).compute(in);
  CHECK(pr.at("precision") == 0.0);
  CHECK(pr.at("recall") == 0.0);
  CHECK(dc.at("density") == 0.0);
  CHECK(dc.at("coverage") == 0.0);
  // more rows than one chunk of 1024: the chunked radii equal one cdist over everything
  const torch::Tensor big = torch::randn({1500, 3}, torch::kDouble);
  const torch::Tensor whole = std::get<0>(torch::cdist(big, big).topk(4, 1, false, true)).select(1, 3);
  CHECK(torch::equal(gan_metrics::knn_radii(big, 3), whole));
  // k larger than a set is refused with the fix
  in.fake_features = x.slice(0, 0, 3);
  CHECK_THROWS_WITH(gan_metrics::PrecisionRecall(3).compute(in), Catch::Contains("[eval.precision] k"));
}
