// bench_adaconv — the AdaConv fused kernel against the reference at the paper's CIFAR AdaGAN
// layer shapes (B = 64; 128->64 at 8x8, 64->32 at 16x16, 32->16 at 32x32, 16->3 at 32x32;
// Kf = 3; Ka = 3 and 5).
//
//   bench_adaconv [--json FILE] [--reps N] [--shapes I,J,..] [--ka 3,5] [--threads T]
//                 [--batch B] [--direct-max-c C] [--device cpu|cuda] [--only PART,..]
//   parts: fused_fwd ref_fwd fused_fb auto_fb ref_fb mm; --direct-max-c: largest C_in for the
//   CPU forward's direct path (0: always the tile GEMM path).
//
// For each shape: median wall time (of --reps runs, and of at least 0.5 s of runs for short
// calls) of forward-only (no grad) and forward+backward for
// reference, fused and auto; the fused/reference time ratios; the peak extra memory of each;
// the fused forward's multiply-add rate as a fraction of torch::mm's on the same number of
// multiply-adds (a square mm, and the reference's own [N,C]x[C,M] shape), measured in the run.
// The multiply-adds counted are the layer's (adaconv::macs_per_sample: depthwise conv, 1x1
// regression, local contraction, bias branch), all of which the fused forward computes; the
// rate on the regression and contraction alone (the count used up to 2026-11-25) is reported
// too ("core").
//
// Memory: this executable interposes malloc/free/calloc/realloc/posix_memalign/aligned_alloc/
// memalign (forwarding to glibc's __libc_* functions) and keeps the live byte count (by
// malloc_usable_size) and its peak. "Peak extra" = peak live bytes during the call minus the
// live bytes before it: every allocation of torch (its CPU allocator uses posix_memalign), MKL,
// the kernels' scratch and the outputs/gradients, all included.
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "adaconv_cpu.h"
#include "gan/fma_peak.hpp"
#include "adaconv_op.hpp"

// ---- malloc interposition -----------------------------------------------------------------
extern "C" {
void* __libc_malloc(size_t);
void __libc_free(void*);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
}

namespace {
std::atomic<int64_t> g_live{0}, g_peak{0};
inline void note_alloc(void* p) {
  if (!p) return;
  const int64_t now = g_live.fetch_add(int64_t(malloc_usable_size(p))) + int64_t(malloc_usable_size(p));
  int64_t peak = g_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
}
inline void note_free(void* p) {
  if (p) g_live.fetch_sub(int64_t(malloc_usable_size(p)));
}
}  // namespace

extern "C" {
void* malloc(size_t n) {
  void* p = __libc_malloc(n);
  note_alloc(p);
  return p;
}
void free(void* p) {
  note_free(p);
  __libc_free(p);
}
void* calloc(size_t a, size_t b) {
  void* p = __libc_calloc(a, b);
  note_alloc(p);
  return p;
}
void* realloc(void* old, size_t n) {
  note_free(old);
  void* p = __libc_realloc(old, n);
  if (p) note_alloc(p);
  else if (old && n) note_alloc(old);  // failed: the old block is still live
  return p;
}
void* memalign(size_t a, size_t n) {
  void* p = __libc_memalign(a, n);
  note_alloc(p);
  return p;
}
void* aligned_alloc(size_t a, size_t n) { return memalign(a, n); }
int posix_memalign(void** out, size_t a, size_t n) {
  void* p = memalign(a, n);
  if (!p) return 12;  // ENOMEM
  *out = p;
  return 0;
}
}

namespace {

using torch::Tensor;
using Clock = std::chrono::steady_clock;

struct Shape {
  int64_t C, O, HW;
};
const Shape kShapes[] = {{128, 64, 8}, {64, 32, 16}, {32, 16, 32}, {16, 3, 32}};
constexpr int64_t kKf = 3;
int64_t kBatch = 64;
std::string g_only;  // comma list of parts to run (empty: all)
bool want(const char* part) { return g_only.empty() || ("," + g_only + ",").find(std::string(",") + part + ",") != std::string::npos; }

// --device cuda: the op's tensors live on the GPU and every timed call ends with a synchronize;
// the CPU-kernel-only part ("kernel") and the FMA-peak fractions are left out there.
torch::Device g_device = torch::kCPU;

void sync_device() {
  if (g_device.is_cuda()) torch::cuda::synchronize();
}

struct Measure {
  double seconds = 0;  // median
  double peak_mb = 0;  // max over runs
  double best = 0;     // fastest run: the multiply-add rates use it on both sides (kernel and
                       // torch::mm), since on a shared machine the median mostly measures the
                       // other load, and unequally for a 2-thread MKL GEMM and our kernel
};

// Runs fn `reps` times (after one warm-up run); median time and the largest peak extra memory.
constexpr double kMinSeconds = 0.5;  // measure(): least total time of the timed runs

template <class F>
Measure measure(int reps, F&& fn) {
  fn();
  sync_device();
  std::vector<double> t;
  double peak = 0;
  double total = 0;
  // At least `reps` runs and, for short calls, at least kMinSeconds of them (at most 200 runs):
  // three runs of a 10 ms call on a shared 2-core VM gave fastest times 20% apart.
  for (int r = 0; r < reps || (total < kMinSeconds && r < 200); ++r) {
    const int64_t base = g_live.load();
    g_peak.store(base);
    const auto t0 = Clock::now();
    fn();
    sync_device();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    total += t.back();
    peak = std::max(peak, double(g_peak.load() - base) / (1 << 20));
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], peak, t.front()};
}

struct Row {
  Shape s;
  int64_t Ka;
  Measure ref_fwd, fused_fwd, ref_fb, fused_fb, auto_fb;
  double fused_gmacs = 0, mm_square_gmacs = 0, mm_same_gmacs = 0;
  double fused_core_gmacs = 0;  // the regression and contraction alone (kernel_macs)
  Measure kernel;            // adaconv::cpu::forward alone, on buffers prepared outside the timing
  double kernel_gmacs = 0;   // its multiply-adds (regression + contraction + depthwise + bias branch)
};

// Multiply-adds of the 1x1 regression GEMM + the local contraction (the "core").
int64_t kernel_macs(const Shape& s) {
  const int64_t N = kBatch * s.HW * s.HW, M = s.O * kKf * kKf * s.C;
  return N * M * (s.C + 1);
}

// Multiply-adds of the whole layer: the core + the depthwise conv + the bias branch.
int64_t layer_macs(const Shape& s, int64_t Ka) {
  return kBatch * adaconv::macs_per_sample(s.C, s.O, s.HW, s.HW, kKf, Ka);
}

Row run_shape(const Shape& s, int64_t Ka, int reps) {
  Row row{s, Ka};
  torch::manual_seed(0);
  const Tensor x = torch::randn({kBatch, s.C, s.HW, s.HW}).to(g_device);
  adaconv::Weights w = adaconv::init_weights(s.C, s.O, kKf, Ka);
  // larger than the paper init so the ReLU pattern is mixed, like a trained layer
  for (Tensor* t : {&w.dw_w, &w.pw_w, &w.b_w}) *t = *t * 10;
  w.pw_b = torch::randn_like(w.pw_b) * 0.1;
  for (Tensor* t : {&w.dw_w, &w.dw_b, &w.pw_w, &w.pw_b, &w.b_w, &w.b_b}) *t = t->to(g_device);
  const Tensor r = torch::randn({kBatch, s.O, s.HW, s.HW}).to(g_device);

  auto fwd = [&](adaconv::Impl impl) {
    return measure(reps, [&] {
      torch::NoGradGuard ng;
      Tensor y = adaconv::forward(x, w, kKf, impl);
    });
  };
  auto fb = [&](adaconv::Impl impl) {
    return measure(reps, [&] {
      auto leaf = [](const Tensor& t) { return t.detach().requires_grad_(true); };
      Tensor xl = leaf(x);
      adaconv::Weights wl{leaf(w.dw_w), leaf(w.dw_b), leaf(w.pw_w), leaf(w.pw_b), leaf(w.b_w), leaf(w.b_b)};
      Tensor y = adaconv::forward(xl, wl, kKf, impl);
      (y * r).sum().backward();
    });
  };
  std::fprintf(stderr, "  C%lld->O%lld %lldx%lld Ka%lld ...\n", (long long)s.C, (long long)s.O,
               (long long)s.HW, (long long)s.HW, (long long)Ka);
  auto timed = [](const char* part, auto&& f) {
    if (!want(part)) return Measure{NAN, NAN, NAN};
    const Measure m = f();
    std::fprintf(stderr, "    %-10s %8.3fs %9.1f MB\n", part, m.seconds, m.peak_mb);
    return m;
  };
  row.fused_fwd = timed("fused_fwd", [&] { return fwd(adaconv::Impl::Fused); });
  row.ref_fwd = timed("ref_fwd", [&] { return fwd(adaconv::Impl::Reference); });
  row.fused_fb = timed("fused_fb", [&] { return fb(adaconv::Impl::Fused); });
  row.auto_fb = timed("auto_fb", [&] { return fb(adaconv::Impl::Auto); });
  row.ref_fb = timed("ref_fb", [&] { return fb(adaconv::Impl::Reference); });
  if (!want("mm")) return row;

  const double macs = double(kernel_macs(s)), all_macs = double(layer_macs(s, Ka));
  row.fused_gmacs = all_macs / row.fused_fwd.best / 1e9;
  row.fused_core_gmacs = macs / row.fused_fwd.best / 1e9;
  if (!g_device.is_cuda()) {
    // The fused kernel alone: the op's layout conversions (channels-last copy of x, transposed
    // weights) are done here, outside the timing; with the direct path the kernel computes the
    // depthwise conv and the bias branch too, so their multiply-adds are counted.
    adaconv::Geometry g;
    g.B = kBatch; g.C = s.C; g.H = s.HW; g.W = s.HW; g.O = s.O; g.Kf = kKf; g.Ka = Ka;
    const bool direct = adaconv::cpu::use_direct_forward(g);
    const Tensor x_cl = x.contiguous(at::MemoryFormat::ChannelsLast);
    const Tensor dwT = w.dw_w.reshape({s.C, Ka * Ka}).t().contiguous();
    const Tensor bwT = w.b_w.reshape({s.O, s.C, Ka * Ka}).transpose(1, 2).contiguous();
    Tensor out = torch::zeros({kBatch, s.O, s.HW, s.HW});
    row.kernel = measure(reps, [&] {
      adaconv::cpu::forward<float>(x_cl.data_ptr<float>(), dwT.data_ptr<float>(),
                                   w.dw_b.data_ptr<float>(), w.pw_w.data_ptr<float>(),
                                   w.pw_b.data_ptr<float>(), direct ? bwT.data_ptr<float>() : nullptr,
                                   w.b_b.data_ptr<float>(), g, out.data_ptr<float>(), nullptr);
    });
    const double N = double(kBatch) * s.HW * s.HW, KA = double(Ka * Ka);
    const double extra = direct ? N * (s.C * KA + s.O * s.C * KA) : N * s.C * KA;
    row.kernel_gmacs = (macs + extra) / row.kernel.best / 1e9;
    std::fprintf(stderr, "    %-10s %8.3fs %9.1f MB (%s path)\n", "kernel", row.kernel.seconds,
                 row.kernel.peak_mb, direct ? "direct" : "tile-GEMM");
  }
  {
    const int64_t n = std::llround(std::cbrt(all_macs));
    const Tensor a = torch::randn({n, n}, g_device), b = torch::randn({n, n}, g_device);
    const Measure m = measure(reps, [&] { Tensor c = torch::mm(a, b); });
    row.mm_square_gmacs = double(n) * n * n / m.best / 1e9;
  }
  {
    const int64_t N = kBatch * s.HW * s.HW, M = s.O * kKf * kKf * s.C;
    const Tensor a = torch::randn({N, s.C}, g_device), b = torch::randn({s.C, M}, g_device);
    const Measure m = measure(reps, [&] { Tensor c = torch::mm(a, b); });
    row.mm_same_gmacs = double(N) * M * s.C / m.best / 1e9;
  }
  return row;
}

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(std::stoll(item));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::string json;
  int reps = 3;
  std::vector<int64_t> shapes = {0, 1, 2, 3}, kas = {3, 5};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", a.c_str()); std::exit(2); }
      return argv[++i];
    };
    if (a == "--json") json = next();
    else if (a == "--reps") reps = std::max(1, std::stoi(next()));
    else if (a == "--shapes") shapes = parse_list(next());
    else if (a == "--ka") kas = parse_list(next());
    else if (a == "--batch") kBatch = std::stoll(next());
    else if (a == "--only") g_only = next();
    else if (a == "--device") g_device = torch::Device(next());
    else if (a == "--threads") at::set_num_threads(std::stoi(next()));
    else if (a == "--direct-max-c") adaconv::set_cpu_direct_max_channels(std::stoll(next()));
    else {
      std::fprintf(stderr, "usage: %s [--json FILE] [--reps N] [--shapes 0,1,2,3] [--ka 3,5] [--threads T] [--batch B] [--direct-max-c C] [--device cpu|cuda] [--only fused_fwd,ref_fwd,fused_fb,auto_fb,ref_fb,mm]\n", argv[0]);
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  std::fprintf(stderr, "bench_adaconv: B=%lld Kf=%lld, %d threads, median of %d runs\n",
               (long long)kBatch, (long long)kKf, at::get_num_threads(), reps);
  // The FP32 FMA ceiling of the threads in use, measured now (gan/fma_peak.hpp): fwd%pk and
  // f+b%pk below divide by it.
  gan::FmaPeak peak = gan::measure_fma_peak(at::get_num_threads());
  if (g_device.is_cuda()) peak.gmacs = NAN;  // a CPU ceiling says nothing about a GPU's times
  std::fprintf(stderr, "FMA peak: %.1f GMAC/s (%s, %d threads, register-only vector FMAs)\n", peak.gmacs,
               peak.isa.c_str(), peak.threads);
  // fwd+bwd's necessary multiply-adds: the forward's, and twice them for the backward (the
  // gradient of each product with respect to each of its two operands); a backward that
  // recomputes the regressed kernels (fused/auto) does a fourth share on top of this floor.
  auto fwd_pk = [&](const Row& r) { return double(layer_macs(r.s, r.Ka)) / r.fused_fwd.best / 1e9 / peak.gmacs; };
  auto fb_pk = [&](const Row& r, const Measure& m) {
    return 3.0 * double(layer_macs(r.s, r.Ka)) / m.best / 1e9 / peak.gmacs;
  };
  std::vector<Row> rows;
  for (int64_t si : shapes)
    for (int64_t ka : kas) rows.push_back(run_shape(kShapes[si], ka, reps));

  std::printf("%-18s %3s | %9s %9s %6s %9s %9s %6s | %9s %9s %9s %6s %6s %9s %9s %9s %6s | %6s %6s %6s %7s | %6s %6s %6s\n",
              "shape", "Ka", "fwd ref", "fwd fus", "ratio", "ref MB", "fus MB", "mem x",
              "f+b ref", "f+b fus", "f+b auto", "t fus", "t auto", "ref MB", "fus MB", "auto MB",
              "mem x", "mm%sq", "mm%sh", "krn%sq", "core%sq", "fwd%pk", "fb%pk", "fba%pk");
  for (const Row& r : rows) {
    char name[64];
    std::snprintf(name, sizeof name, "%lld->%lld %lldx%lld", (long long)r.s.C, (long long)r.s.O,
                  (long long)r.s.HW, (long long)r.s.HW);
    std::printf("%-18s %3lld | %8.3fs %8.3fs %5.2fx %9.1f %9.1f %5.0fx | %8.3fs %8.3fs %8.3fs %5.2fx %5.2fx %9.1f %9.1f %9.1f %5.0fx | %5.0f%% %5.0f%% %5.0f%% %6.0f%% | %5.0f%% %5.0f%% %5.0f%%\n",
                name, (long long)r.Ka, r.ref_fwd.seconds, r.fused_fwd.seconds,
                r.ref_fwd.seconds / r.fused_fwd.seconds, r.ref_fwd.peak_mb, r.fused_fwd.peak_mb,
                r.ref_fwd.peak_mb / r.fused_fwd.peak_mb, r.ref_fb.seconds, r.fused_fb.seconds,
                r.auto_fb.seconds, r.fused_fb.seconds / r.ref_fb.seconds,
                r.auto_fb.seconds / r.ref_fb.seconds, r.ref_fb.peak_mb, r.fused_fb.peak_mb,
                r.auto_fb.peak_mb, r.ref_fb.peak_mb / r.fused_fb.peak_mb,
                100 * r.fused_gmacs / r.mm_square_gmacs, 100 * r.fused_gmacs / r.mm_same_gmacs,
                100 * r.kernel_gmacs / r.mm_square_gmacs, 100 * r.fused_core_gmacs / r.mm_square_gmacs,
                100 * fwd_pk(r), 100 * fb_pk(r, r.fused_fb), 100 * fb_pk(r, r.auto_fb));
  }
  std::printf("fwd ratio = ref time / fused time (higher is better); t fus, t auto = fwd+bwd time / "
              "ref time (lower is better); mem x = ref peak / fused peak; mm%%sq, mm%%sh = fused "
              "forward multiply-add rate as %% of torch::mm (square, and [N,C]x[C,M]) on the same "
              "multiply-adds (the layer's: depthwise, regression, contraction, bias branch); "
              "krn%%sq = the fused kernel alone (adaconv::cpu::forward on prepared buffers) as %% "
              "of the square mm; core%%sq = the fused forward counting only the regression and "
              "contraction; fwd%%pk = the fused forward's layer multiply-adds per second as %% of the "
              "FMA peak measured in this run; fb%%pk, fba%%pk = fused and auto forward+backward "
              "counting 3x the layer's multiply-adds (forward, and both gradients of each product) "
              "as %% of the FMA peak\n");

  if (!json.empty()) {
    std::ofstream f(json);
    // parts left out with --only are NaN: JSON has no NaN, write null
    auto num = [](double v) { std::ostringstream o; if (std::isfinite(v)) o << v; else o << "null"; return o.str(); };
    f << "{\n  \"device\": \"" << g_device.str() << "\", \"fma_peak_gmacs\": " << num(peak.gmacs) << ", \"fma_peak_isa\": \"" << peak.isa
      << "\", \"batch\": " << kBatch << ", \"kernel_size\": " << kKf << ", \"threads\": "
      << at::get_num_threads() << ", \"reps\": " << reps
      << ",\n  \"macs_counted\": \"the layer's (depthwise + 1x1 regression + contraction + bias branch); fused_core_gmacs: regression + contraction only\""
      << ",\n  \"memory_method\": \"malloc interposition: peak live heap bytes during the call minus live bytes before\",\n  \"rows\": [\n";
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      auto m = [&](const char* k, const Measure& v) {
        f << "\"" << k << "_seconds\": " << num(v.seconds) << ", \"" << k << "_peak_mb\": " << num(v.peak_mb) << ", ";
      };
      f << "    {\"c_in\": " << num(r.s.C) << ", \"c_out\": " << num(r.s.O) << ", \"size\": " << num(r.s.HW)
        << ", \"ka\": " << num(r.Ka) << ", ";
      m("fwd_reference", r.ref_fwd);
      m("fwd_fused", r.fused_fwd);
      m("fwdbwd_reference", r.ref_fb);
      m("fwdbwd_fused", r.fused_fb);
      m("fwdbwd_auto", r.auto_fb);
      f << "\"fwd_speedup\": " << num(r.ref_fwd.seconds / r.fused_fwd.seconds)
        << ", \"fwd_mem_reduction\": " << num(r.ref_fwd.peak_mb / r.fused_fwd.peak_mb)
        << ", \"fwdbwd_time_ratio_fused\": " << num(r.fused_fb.seconds / r.ref_fb.seconds)
        << ", \"fwdbwd_time_ratio_auto\": " << num(r.auto_fb.seconds / r.ref_fb.seconds)
        << ", \"fwdbwd_mem_reduction_fused\": " << num(r.ref_fb.peak_mb / r.fused_fb.peak_mb)
        << ", \"fwdbwd_mem_reduction_auto\": " << num(r.ref_fb.peak_mb / r.auto_fb.peak_mb)
        << ", \"fused_gmacs\": " << num(r.fused_gmacs) << ", \"mm_square_gmacs\": " << num(r.mm_square_gmacs)
        << ", \"mm_same_shape_gmacs\": " << num(r.mm_same_gmacs)
        << ", \"mac_rate_vs_mm_square\": " << num(r.fused_gmacs / r.mm_square_gmacs)
        << ", \"mac_rate_vs_mm_same_shape\": " << num(r.fused_gmacs / r.mm_same_gmacs)
        << ", \"fused_core_gmacs\": " << num(r.fused_core_gmacs)
        << ", \"core_mac_rate_vs_mm_square\": " << num(r.fused_core_gmacs / r.mm_square_gmacs)
        << ", \"kernel_seconds\": " << num(r.kernel.seconds) << ", \"kernel_gmacs\": " << num(r.kernel_gmacs)
        << ", \"kernel_mac_rate_vs_mm_square\": " << num(r.kernel_gmacs / r.mm_square_gmacs)
        << ", \"fwd_fraction_of_fma_peak\": " << num(fwd_pk(r))
        << ", \"fwdbwd_fused_fraction_of_fma_peak\": " << num(fb_pk(r, r.fused_fb))
        << ", \"fwdbwd_auto_fraction_of_fma_peak\": " << num(fb_pk(r, r.auto_fb)) << "}"
        << (i + 1 < rows.size() ? "," : "") << "\n";
    }
    f << "  ]\n}\n";
    std::fprintf(stderr, "wrote %s\n", json.c_str());
  }
  return 0;
}
