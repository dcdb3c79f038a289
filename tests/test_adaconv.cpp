// AdaConv op tests: the fused CPU kernel (which runs the same adaconv_tile.h maths as the CUDA
// kernel) against the plain-LibTorch reference, for forward values and all seven gradients;
// a float64 finite-difference gradient check of both; determinism; input checks.
#include "test_common.hpp"  // LibTorch, then Catch (first: see the file)

#include <iostream>

#include "adaconv_op.hpp"

namespace {

using torch::Tensor;

struct Case {
  int64_t B, C, O, H, W, Kf, Ka;
};

std::string str(const Case& c) {
  return "B" + std::to_string(c.B) + " C" + std::to_string(c.C) + " O" + std::to_string(c.O) +
         " " + std::to_string(c.H) + "x" + std::to_string(c.W) + " Kf" + std::to_string(c.Kf) +
         " Ka" + std::to_string(c.Ka);
}

// Weights with magnitudes that make the ReLU pattern mixed (the paper init would give outputs
// of ~1e-4 that hide errors) and nonzero biases.
adaconv::Weights random_weights(const Case& c, torch::Dtype dt) {
  const auto o = torch::TensorOptions().dtype(dt);
  const int64_t M = c.O * c.Kf * c.Kf * c.C;
  adaconv::Weights w;
  w.dw_w = torch::randn({c.C, 1, c.Ka, c.Ka}, o) * 0.5;
  w.dw_b = torch::randn({c.C}, o) * 0.1;
  w.pw_w = torch::randn({M, c.C}, o) * 0.5;
  w.pw_b = torch::randn({M}, o) * 0.2;
  w.b_w = torch::randn({c.O, c.C, c.Ka, c.Ka}, o) * 0.2;
  w.b_b = torch::randn({c.O}, o) * 0.1;
  return w;
}

std::vector<Tensor> leaves(const Tensor& x, const adaconv::Weights& w) {
  return {x, w.dw_w, w.dw_b, w.pw_w, w.pw_b, w.b_w, w.b_b};
}
const char* kLeafNames[] = {"x", "dw_w", "dw_b", "pw_w", "pw_b", "b_w", "b_b"};

// Output and the gradients of sum(out * r) with respect to x and every weight.
std::pair<Tensor, std::vector<Tensor>> run(const Tensor& x0, const adaconv::Weights& w0,
                                           int64_t Kf, adaconv::Impl impl, const Tensor& r) {
  auto leaf = [](const Tensor& t) { return t.detach().clone().requires_grad_(true); };
  Tensor x = leaf(x0);
  adaconv::Weights w{leaf(w0.dw_w), leaf(w0.dw_b), leaf(w0.pw_w), leaf(w0.pw_b), leaf(w0.b_w),
                     leaf(w0.b_b)};
  Tensor y = adaconv::forward(x, w, Kf, impl);
  (y * r).sum().backward();
  std::vector<Tensor> g;
  for (auto& t : leaves(x, w)) g.push_back(t.grad());
  return {y.detach(), g};
}

// max |a - b| <= tol * max(1, max |b|)
void check_close(const Tensor& a, const Tensor& b, double tol, const std::string& what) {
  INFO(what);
  REQUIRE(a.defined());
  REQUIRE(a.sizes() == b.sizes());
  const double scale = std::max(1.0, b.abs().max().item<double>());
  const double err = (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
  INFO("max abs error " << err << ", scale " << scale);
  CHECK(err <= tol * scale);
}

const std::vector<Case> kCases = {
    {1, 3, 5, 7, 5, 3, 3},    // batch 1, odd sizes
    {2, 5, 3, 9, 7, 1, 5},    // Kf 1
    {1, 4, 2, 5, 9, 5, 7},    // Kf 5, Ka 7
    {2, 7, 4, 3, 5, 3, 1},    // Ka 1
    {1, 17, 9, 11, 6, 3, 3},  // C, O not multiples of anything
    {1, 40, 5, 6, 7, 5, 3},   // J = 1000: several output-channel tiles per pixel tile
    {1, 3, 2, 4, 4, 7, 3},    // kernel larger than the image
    {3, 6, 4, 13, 11, 3, 5},  // pixel tiles that cross images
    {1, 4, 3, 70, 3, 5, 3},   // several row bands per image (both colours)
    {2, 2, 1, 1, 1, 3, 3},    // 1x1 image, one output channel
    {1, 128, 3, 3, 4, 7, 3},  // 1x1 weight over 2M values: direct forward split by output channel
    // C a multiple of every vector width, so the direct forward reads neighbour rows in place;
    // Ka > Kf puts part of the bias branch outside the patch (its "ring")
    {1, 16, 3, 7, 6, 3, 5},
    {2, 32, 4, 5, 9, 1, 3},   // Kf 1: the bias branch is one patch column plus a ring of 8
    {1, 16, 2, 3, 4, 3, 7},   // window larger than the image, neighbour rows
};

}  // namespace

// The CPU forward has a direct register-blocked path (default), compiled for three x86 levels,
// and the tile-GEMM path the CUDA kernel mirrors; the parity tests run all of them (the direct
// variants this CPU can execute: on an AVX-512 machine, all three).
struct ForwardPath {
  const char* name;
  int64_t direct_max_channels;
  int level_cap;
};
const ForwardPath kPaths[] = {{"direct forward, AVX-512", int64_t(1) << 30, 4},
                              {"direct forward, AVX2", int64_t(1) << 30, 3},
                              {"direct forward, baseline x86-64", int64_t(1) << 30, 0},
                              {"tile-GEMM forward", 0, 4}};
constexpr int kNumPaths = int(sizeof kPaths / sizeof kPaths[0]);

struct UsePath {
  int64_t previous;
  int previous_cap;
  explicit UsePath(const ForwardPath& p)
      : previous(adaconv::set_cpu_direct_max_channels(p.direct_max_channels)),
        previous_cap(adaconv::set_cpu_direct_level_cap(p.level_cap)) {}
  ~UsePath() {
    adaconv::set_cpu_direct_max_channels(previous);
    adaconv::set_cpu_direct_level_cap(previous_cap);
  }
};

TEST_CASE("adaconv: fused and auto match the reference, values and all gradients", "[adaconv]") {
  torch::manual_seed(1);
  for (const ForwardPath& path : kPaths)
  for (const Case& c : kCases) {
    const UsePath use(path);
    INFO(path.name << " (running at x86 level " << adaconv::cpu_direct_level() << ")");
    for (auto dt : {torch::kFloat32, torch::kFloat64}) {
      INFO(str(c) << (dt == torch::kFloat32 ? " float32" : " float64"));
      const Tensor x = torch::randn({c.B, c.C, c.H, c.W}, torch::TensorOptions().dtype(dt));
      const adaconv::Weights w = random_weights(c, dt);
      const Tensor r = torch::randn({c.B, c.O, c.H, c.W}, torch::TensorOptions().dtype(dt));
      const double tol = dt == torch::kFloat32 ? 2e-4 : 1e-10;
      auto [y_ref, g_ref] = run(x, w, c.Kf, adaconv::Impl::Reference, r);
      for (auto impl : {adaconv::Impl::Fused, adaconv::Impl::Auto}) {
        auto [y, g] = run(x, w, c.Kf, impl, r);
        check_close(y, y_ref, tol, std::string(adaconv::impl_name(impl)) + " output");
        for (size_t i = 0; i < g.size(); ++i)
          check_close(g[i], g_ref[i], tol,
                      std::string(adaconv::impl_name(impl)) + " grad " + kLeafNames[i]);
      }
    }
  }
}

TEST_CASE("adaconv: random shapes, fused vs reference", "[adaconv]") {
  torch::manual_seed(7);
  for (int trial = 0; trial < 24; ++trial) {
    const ForwardPath& path = kPaths[trial % kNumPaths];
    const UsePath use(path);
    INFO(path.name);
    auto pick = [](int64_t lo, int64_t hi) { return torch::randint(lo, hi + 1, {1}).item<int64_t>(); };
    const int64_t ks[] = {1, 3, 5, 7};
    Case c{pick(1, 3), pick(1, 19), pick(1, 11), pick(1, 12), pick(1, 12), ks[pick(0, 2)], ks[pick(0, 3)]};
    INFO(str(c));
    const Tensor x = torch::randn({c.B, c.C, c.H, c.W});
    const adaconv::Weights w = random_weights(c, torch::kFloat32);
    const Tensor r = torch::randn({c.B, c.O, c.H, c.W});
    auto [y_ref, g_ref] = run(x, w, c.Kf, adaconv::Impl::Reference, r);
    auto [y, g] = run(x, w, c.Kf, adaconv::Impl::Fused, r);
    check_close(y, y_ref, 2e-4, "output");
    for (size_t i = 0; i < g.size(); ++i) check_close(g[i], g_ref[i], 2e-4, kLeafNames[i]);
  }
}

TEST_CASE("adaconv: float64 finite-difference gradient check", "[adaconv][gradcheck]") {
  torch::manual_seed(3);
  const std::vector<Case> cases = {{1, 2, 2, 4, 3, 3, 3}, {2, 3, 1, 3, 3, 1, 1}, {1, 2, 2, 3, 4, 5, 3}};
  for (const Case& c : cases) {
    for (auto impl : {adaconv::Impl::Reference, adaconv::Impl::Fused, adaconv::Impl::Auto}) {
      INFO(str(c) << " " << adaconv::impl_name(impl));
      const auto o = torch::TensorOptions().dtype(torch::kFloat64);
      const Tensor x = torch::randn({c.B, c.C, c.H, c.W}, o);
      const adaconv::Weights w = random_weights(c, torch::kFloat64);
      const Tensor r = torch::randn({c.B, c.O, c.H, c.W}, o);
      auto [y, g] = run(x, w, c.Kf, impl, r);
      std::vector<Tensor> vals = leaves(x.clone(), {w.dw_w.clone(), w.dw_b.clone(), w.pw_w.clone(),
                                                    w.pw_b.clone(), w.b_w.clone(), w.b_b.clone()});
      auto loss = [&] {
        torch::NoGradGuard ng;
        adaconv::Weights wv{vals[1], vals[2], vals[3], vals[4], vals[5], vals[6]};
        return (adaconv::forward(vals[0], wv, c.Kf, impl) * r).sum().item<double>();
      };
      const double eps = 1e-6;
      for (size_t t = 0; t < vals.size(); ++t) {
        INFO("gradient of " << kLeafNames[t]);
        Tensor flat = vals[t].view({-1});
        Tensor gflat = g[t].reshape({-1});
        double worst = 0;
        for (int64_t e = 0; e < flat.numel(); ++e) {
          const double v0 = flat[e].item<double>();
          flat[e] = v0 + eps;
          const double lp = loss();
          flat[e] = v0 - eps;
          const double lm = loss();
          flat[e] = v0;
          const double fd = (lp - lm) / (2 * eps);
          const double an = gflat[e].item<double>();
          worst = std::max(worst, std::abs(fd - an) / std::max(1.0, std::abs(fd)));
        }
        CHECK(worst < 1e-5);
      }
    }
  }
}

// A gradient penalty differentiates the layer twice: P = sum(q * (d/dx sum(r * out))^2), whose
// gradient with respect to the weights goes through the backward itself.
TEST_CASE("adaconv: the reference path has correct second-order gradients (gradient penalty, float64)",
          "[adaconv][gradcheck][double_backward]") {
  torch::manual_seed(31);
  const std::vector<Case> cases = {{1, 2, 2, 4, 3, 3, 3}, {2, 3, 1, 3, 3, 1, 1}, {1, 2, 2, 3, 4, 5, 3}};
  const auto o = torch::TensorOptions().dtype(torch::kFloat64);
  for (const Case& c : cases) {
    INFO(str(c));
    const Tensor x0 = torch::randn({c.B, c.C, c.H, c.W}, o);
    const adaconv::Weights w0 = random_weights(c, torch::kFloat64);
    const Tensor r = torch::randn({c.B, c.O, c.H, c.W}, o);
    const Tensor q = torch::rand({c.B, c.C, c.H, c.W}, o) + 0.5;
    // P at the given weights; with `create_graph`, differentiable with respect to them.
    auto penalty = [&](const std::vector<Tensor>& wl, bool create_graph) {
      Tensor x = x0.detach().clone().requires_grad_(true);
      adaconv::Weights w{wl[0], wl[1], wl[2], wl[3], wl[4], wl[5]};
      Tensor y = adaconv::forward(x, w, c.Kf, adaconv::Impl::Reference);
      Tensor gx = torch::autograd::grad({(y * r).sum()}, {x}, {}, /*retain_graph=*/true, create_graph)[0];
      return (q * gx.pow(2)).sum();
    };
    std::vector<Tensor> wl;
    for (const Tensor& t : {w0.dw_w, w0.dw_b, w0.pw_w, w0.pw_b, w0.b_w, w0.b_b})
      wl.push_back(t.detach().clone().requires_grad_(true));
    penalty(wl, true).backward();
    const double eps = 1e-6;
    double worst_all = 0;
    for (size_t t = 0; t < wl.size(); ++t) {
      INFO("second-order gradient of " << kLeafNames[t + 1]);
      // the output bias does not enter d out / dx: autograd leaves its gradient undefined (zero)
      if (t != 5) REQUIRE(wl[t].grad().defined());
      const Tensor an_all =
          (wl[t].grad().defined() ? wl[t].grad() : torch::zeros_like(wl[t])).reshape({-1});
      std::vector<Tensor> vals;
      for (const Tensor& v : wl) vals.push_back(v.detach().clone());
      Tensor flat = vals[t].view({-1});
      double worst = 0, fd_norm = 0;
      for (int64_t e = 0; e < flat.numel(); ++e) {
        const double v0 = flat[e].item<double>();
        flat[e] = v0 + eps;
        const double lp = penalty(vals, false).item<double>();
        flat[e] = v0 - eps;
        const double lm = penalty(vals, false).item<double>();
        flat[e] = v0;
        const double fd = (lp - lm) / (2 * eps);
        fd_norm += fd * fd;
        worst = std::max(worst, std::abs(fd - an_all[e].item<double>()) / std::max(1.0, std::abs(fd)));
      }
      INFO("worst relative error " << worst << ", |finite difference| " << std::sqrt(fd_norm));
      CHECK(worst < 1e-5);
      worst_all = std::max(worst_all, worst);
      // the 1x1 regression weights (the ones the fused backward could not differentiate) get a
      // real, nonzero second-order gradient
      if (t == 2) CHECK(an_all.norm().item<double>() > 1e-3);
      if (t == 5) CHECK(an_all.abs().max().item<double>() == 0.0);
    }
    WARN("adaconv reference, " << str(c) << ": gradient-penalty second-order gradients vs central differences, "
                               "worst relative error " << worst_all);
  }
}

TEST_CASE("adaconv: fused and auto refuse a double backward instead of dropping gradients",
          "[adaconv][double_backward]") {
  torch::manual_seed(32);
  const Case c{1, 2, 2, 4, 3, 3, 3};
  for (auto impl : {adaconv::Impl::Fused, adaconv::Impl::Auto}) {
    INFO(adaconv::impl_name(impl));
    const adaconv::Weights w0 = random_weights(c, torch::kFloat32);
    adaconv::Weights w{w0.dw_w.requires_grad_(true), w0.dw_b.requires_grad_(true), w0.pw_w.requires_grad_(true),
                       w0.pw_b.requires_grad_(true), w0.b_w.requires_grad_(true), w0.b_b.requires_grad_(true)};
    Tensor x = torch::randn({c.B, c.C, c.H, c.W}).requires_grad_(true);
    const Tensor r = torch::randn({c.B, c.O, c.H, c.W});
    Tensor y = adaconv::forward(x, w, c.Kf, impl);
    // first order: fine
    Tensor g1 = torch::autograd::grad({(y * r).sum()}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/false)[0];
    CHECK(g1.defined());
    // with create_graph (what a gradient penalty does): a clear error, not a silently partial graph
    CHECK_THROWS_WITH(torch::autograd::grad({(y * r).sum()}, {x}, {}, true, /*create_graph=*/true),
                      Catch::Contains("no double backward") && Catch::Contains("impl = \"reference\""));
  }
}

TEST_CASE("adaconv: fused forward and backward are deterministic", "[adaconv]") {
  torch::manual_seed(5);
  const Case c{3, 9, 6, 17, 13, 3, 5};
  const Tensor x = torch::randn({c.B, c.C, c.H, c.W});
  const adaconv::Weights w = random_weights(c, torch::kFloat32);
  const Tensor r = torch::randn({c.B, c.O, c.H, c.W});
  for (auto impl : {adaconv::Impl::Fused, adaconv::Impl::Auto}) {
    INFO(adaconv::impl_name(impl));
    auto [y1, g1] = run(x, w, c.Kf, impl, r);
    auto [y2, g2] = run(x, w, c.Kf, impl, r);
    CHECK(torch::equal(y1, y2));
    for (size_t i = 0; i < g1.size(); ++i) {
      INFO(kLeafNames[i]);
      CHECK(torch::equal(g1[i], g2[i]));
    }
  }
}

TEST_CASE("adaconv: no-grad forward, half and bfloat16 inputs", "[adaconv]") {
  torch::manual_seed(11);
  const Case c{2, 6, 4, 9, 7, 3, 3};
  const Tensor x = torch::randn({c.B, c.C, c.H, c.W});
  const adaconv::Weights w = random_weights(c, torch::kFloat32);
  const Tensor ref = adaconv::reference_forward(x, w, c.Kf);
  {
    torch::NoGradGuard ng;
    check_close(adaconv::forward(x, w, c.Kf, adaconv::Impl::Auto), ref, 2e-4, "no-grad auto");
  }
  for (auto dt : {torch::kHalf, torch::kBFloat16}) {
    auto cv = [&](const Tensor& t) { return t.to(dt); };
    const adaconv::Weights wl{cv(w.dw_w), cv(w.dw_b), cv(w.pw_w), cv(w.pw_b), cv(w.b_w), cv(w.b_b)};
    const Tensor y = adaconv::forward(cv(x), wl, c.Kf, adaconv::Impl::Fused);
    CHECK(y.scalar_type() == dt);
    check_close(y, ref, dt == torch::kHalf ? 2e-2 : 1e-1, "reduced precision");
  }
  // autocast's case: bf16 activations, float32 weights; every impl, with gradients into the
  // float32 weights and back to the bf16 input
  for (auto impl : {adaconv::Impl::Reference, adaconv::Impl::Fused, adaconv::Impl::Auto}) {
    INFO(adaconv::impl_name(impl));
    const Tensor xb = x.to(torch::kBFloat16).requires_grad_(true);
    auto leaf = [](const Tensor& t) { return t.detach().clone().requires_grad_(true); };
    const adaconv::Weights wl{leaf(w.dw_w), leaf(w.dw_b), leaf(w.pw_w), leaf(w.pw_b), leaf(w.b_w), leaf(w.b_b)};
    const Tensor y = adaconv::forward(xb, wl, c.Kf, impl);
    CHECK(y.scalar_type() == torch::kBFloat16);
    check_close(y.to(torch::kFloat), ref, 1e-1, "bf16 x, float32 weights");
    y.to(torch::kFloat).sum().backward();
    REQUIRE(xb.grad().defined());
    CHECK(xb.grad().scalar_type() == torch::kBFloat16);
    REQUIRE(wl.pw_w.grad().defined());
    CHECK(wl.pw_w.grad().scalar_type() == torch::kFloat);
    CHECK(torch::isfinite(wl.pw_w.grad()).all().item<bool>());
  }
  // non-contiguous input
  const Tensor xt = x.transpose(2, 3).contiguous().transpose(2, 3);
  REQUIRE_FALSE(xt.is_contiguous());
  check_close(adaconv::forward(xt, w, c.Kf, adaconv::Impl::Fused), ref, 2e-4, "non-contiguous x");
}

TEST_CASE("adaconv: input checks name the argument", "[adaconv]") {
  const Case c{1, 3, 2, 5, 5, 3, 3};
  const Tensor x = torch::randn({c.B, c.C, c.H, c.W});
  const adaconv::Weights w = random_weights(c, torch::kFloat32);
  using Catch::Matchers::Contains;
  for (auto impl : {adaconv::Impl::Reference, adaconv::Impl::Fused}) {
    CHECK_THROWS_WITH(adaconv::forward(x[0], w, 3, impl), Contains("x must be [B, C, H, W]"));
    CHECK_THROWS_WITH(adaconv::forward(x.to(torch::kInt), w, 3, impl), Contains("x must be float32"));
    CHECK_THROWS_WITH(adaconv::forward(x, w, 2, impl), Contains("kernel_size (Kf) must be odd"));
    CHECK_THROWS_WITH(adaconv::forward(x, w, 9, impl), Contains("kernel_size (Kf) must be odd"));
    CHECK_THROWS_WITH(adaconv::forward(x.narrow(1, 0, 2), w, 3, impl), Contains("dw_w has shape"));
    adaconv::Weights bad = w;
    bad.pw_w = torch::randn({7, c.C});
    CHECK_THROWS_WITH(adaconv::forward(x, bad, 3, impl), Contains("pw_w has shape"));
    bad = w;
    bad.b_w = w.b_w.to(torch::kFloat64);
    CHECK_THROWS_WITH(adaconv::forward(x, bad, 3, impl), Contains("b_w has dtype"));
    bad = w;
    bad.dw_w = torch::randn({c.C, 1, 4, 4});
    CHECK_THROWS_WITH(adaconv::forward(x, bad, 3, impl), Contains("adaptive_kernel_size (Ka)"));
    bad = w;
    bad.pw_b = torch::Tensor();
    CHECK_THROWS_WITH(adaconv::forward(x, bad, 3, impl), Contains("pw_b is undefined"));
  }
  CHECK_THROWS_WITH(adaconv::parse_impl("fast"), Contains("known: auto, fused, reference"));
}

// The CUDA kernels live in the module libgan_adaconv_cuda.so (the plugin links no CUDA library):
// where the build has them, the module must load and resolve its entry points. Needs no GPU, so a
// missing or broken module shows here and not only on a GPU machine.
TEST_CASE("adaconv: the CUDA kernel module loads where the build has CUDA kernels", "[adaconv]") {
  if (!adaconv::cuda_compiled()) {
    WARN("this build has no CUDA kernels");
    return;
  }
  CHECK(adaconv::cuda_kernels_status() == "");
}

// The CUDA kernel against the CPU: the same inputs on both devices, the output and all seven
// gradients of sum(out * r). The CPU side is the plain-LibTorch reference in float64, so the
// tolerance measures the CUDA kernel alone: float32 2e-4 and float64 1e-10, relative to
// max(1, max |reference|), as for the fused CPU kernel above. Runs only where a GPU is visible;
// otherwise it prints the skip marker that tests/adaconv.cmake's SKIP_REGULAR_EXPRESSION turns
// into "Skipped" in ctest (Catch2 v2 has no SKIP). Without the CUDA kernels compiled in (a
// LibTorch without CUDA, or no nvcc) but with a GPU, the reference op itself is compared across
// devices, and a warning says the kernel was not built.
TEST_CASE("adaconv: CUDA matches the CPU, values and all gradients", "[adaconv][cuda]") {
  if (!torch::cuda::is_available()) {
    std::cout << "GAN_TEST_SKIPPED: no CUDA device visible (torch::cuda::is_available() is false)" << std::endl;
    WARN("skipped: no CUDA device visible");
    return;
  }
  std::vector<adaconv::Impl> impls = {adaconv::Impl::Reference};
  if (adaconv::cuda_compiled()) {
    impls.push_back(adaconv::Impl::Fused);
    impls.push_back(adaconv::Impl::Auto);
  } else {
    WARN("the CUDA kernels are not compiled into this build: only the reference op is compared across devices");
  }
  torch::manual_seed(13);
  const torch::Device cuda(torch::kCUDA, 0);
  for (const Case& c : kCases) {
    for (auto dt : {torch::kFloat32, torch::kFloat64}) {
      INFO(str(c) << (dt == torch::kFloat32 ? " float32" : " float64"));
      const auto o = torch::TensorOptions().dtype(dt);
      const Tensor x = torch::randn({c.B, c.C, c.H, c.W}, o);
      const adaconv::Weights w = random_weights(c, dt);
      const Tensor r = torch::randn({c.B, c.O, c.H, c.W}, o);
      auto f64 = [](const Tensor& t) { return t.to(torch::kFloat64); };
      const adaconv::Weights w64{f64(w.dw_w), f64(w.dw_b), f64(w.pw_w), f64(w.pw_b), f64(w.b_w), f64(w.b_b)};
      auto [y_cpu, g_cpu] = run(f64(x), w64, c.Kf, adaconv::Impl::Reference, f64(r));
      auto on_gpu = [&](const Tensor& t) { return t.to(cuda); };
      const adaconv::Weights wg{on_gpu(w.dw_w), on_gpu(w.dw_b), on_gpu(w.pw_w), on_gpu(w.pw_b), on_gpu(w.b_w),
                                on_gpu(w.b_b)};
      const double tol = dt == torch::kFloat32 ? 2e-4 : 1e-10;
      for (auto impl : impls) {
        const std::string name = std::string("cuda ") + adaconv::impl_name(impl);
        auto [y, g] = run(on_gpu(x), wg, c.Kf, impl, on_gpu(r));
        REQUIRE(y.device().is_cuda());
        CHECK(y.scalar_type() == dt);
        check_close(y.cpu(), y_cpu, tol, name + " output");
        for (size_t i = 0; i < g.size(); ++i) {
          REQUIRE(g[i].defined());
          check_close(g[i].cpu(), g_cpu[i], tol, name + " grad " + kLeafNames[i]);
        }
      }
    }
  }
}

TEST_CASE("adaconv: paper initialisation and cost formulas", "[adaconv]") {
  torch::manual_seed(2);
  const adaconv::Weights w = adaconv::init_weights(16, 8, 3, 5);
  for (const Tensor& b : {w.dw_b, w.pw_b, w.b_b}) CHECK(b.abs().max().item<double>() == 0.0);
  for (const Tensor& t : {w.dw_w, w.pw_w, w.b_w}) CHECK(t.abs().max().item<double>() <= 0.04 + 1e-7);
  // truncated at 2 std: std of the truncated normal is 0.02 * 0.8796
  CHECK(w.pw_w.std().item<double>() == Approx(0.02 * 0.8796).epsilon(0.05));
  CHECK(std::abs(w.pw_w.mean().item<double>()) < 0.001);
  // redrawn, not clamped: no pile of values at +-2 std (a clamp would put 4.6% there)
  CHECK((w.pw_w.abs() > 0.0399).to(torch::kFloat).mean().item<double>() < 0.005);
  // float64 tensors are drawn in float64
  const Tensor d = torch::empty({1000}, torch::kFloat64);
  adaconv::trunc_normal_(d);
  CHECK(d.abs().max().item<double>() <= 0.04);
  CHECK(d.std().item<double>() == Approx(0.02 * 0.8796).epsilon(0.1));
  int64_t n = 0;
  for (const Tensor& t : {w.dw_w, w.dw_b, w.pw_w, w.pw_b, w.b_w, w.b_b}) n += t.numel();
  CHECK(adaconv::param_count(16, 8, 3, 5) == n);
  // 128 -> 64 at 8x8, Kf = Ka = 3: 64 * (128*9 + 73728*128 + 73728 + 64*128*9)
  CHECK(adaconv::macs_per_sample(128, 64, 8, 8, 3, 3) ==
        64LL * (128 * 9 + 73728LL * 128 + 73728 + 64 * 128 * 9));
  // absurd sizes overflow 64 bits: reported, not wrapped (gan check names the layer)
  CHECK_THROWS_AS(adaconv::param_count(int64_t(1) << 30, 65536, 7, 7), std::overflow_error);
  CHECK_THROWS_AS(adaconv::macs_per_sample(1 << 20, 65536, 1 << 20, 1 << 20, 7, 7),
                  std::overflow_error);
}
