// adaconv_op.cpp — host side of the AdaConv operator: input checks, the reference in plain
// LibTorch ops, the custom autograd Function around the fused kernels, dispatch and init.
#include "adaconv_op.hpp"

#include <cmath>

#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <torch/autograd.h>
#include <torch/csrc/jit/frontend/tracer.h>

#include <c10/core/DeviceGuard.h>

#include "adaconv_cpu.h"
#include "adaconv_cuda_entry.h"
#include "gan/checked.hpp"

#if defined(GAN_ADACONV_CUDA_MODULE)
#include "gan/cuda_backend.hpp"
#endif

namespace adaconv {

using torch::Tensor;

Impl parse_impl(const std::string& name) {
  if (name == "reference") return Impl::Reference;
  if (name == "fused") return Impl::Fused;
  if (name == "auto") return Impl::Auto;
  TORCH_CHECK(false, "adaconv: unknown impl '", name, "' (known: auto, fused, reference)");
}

const char* impl_name(Impl impl) {
  switch (impl) {
    case Impl::Reference: return "reference";
    case Impl::Fused: return "fused";
    case Impl::Auto: return "auto";
  }
  return "?";
}

int64_t set_cpu_direct_max_channels(int64_t c) { return cpu::set_direct_max_channels(c); }
int set_cpu_direct_level_cap(int level) { return cpu::set_direct_level_cap(level); }
int cpu_direct_level() { return cpu::direct_level(); }

bool cuda_compiled() {
#if defined(GAN_WITH_CUDA) || defined(GAN_ADACONV_CUDA_MODULE)
  return true;
#else
  return false;
#endif
}

namespace {

struct CudaKernels {
  gan_adaconv_cuda_forward_fn forward = nullptr;
  gan_adaconv_cuda_backward_fn backward = nullptr;
  std::string error;  // why they are missing
};

// The kernels: linked in (GAN_WITH_CUDA), or from libgan_adaconv_cuda.so, found beside the object
// this code is in (the plugin in lib/gan/plugins: the module is in lib; a test in bin: ../lib).
const CudaKernels& cuda_kernels() {
#if defined(GAN_WITH_CUDA)
  static const CudaKernels k{&gan_adaconv_cuda_forward, &gan_adaconv_cuda_backward, ""};
#elif defined(GAN_ADACONV_CUDA_MODULE)
  static const CudaKernels k = [] {
    CudaKernels r;
    std::string err;
    void* h = gan::open_module_beside(reinterpret_cast<const void*>(&cuda_kernels_status), "libgan_adaconv_cuda.so",
                                      {"../..", "../lib"}, &err);
    if (!h) {
      r.error = "the CUDA kernel module libgan_adaconv_cuda.so did not load (" + err + ")";
      return r;
    }
    r.forward = reinterpret_cast<gan_adaconv_cuda_forward_fn>(::dlsym(h, "gan_adaconv_cuda_forward"));
    r.backward = reinterpret_cast<gan_adaconv_cuda_backward_fn>(::dlsym(h, "gan_adaconv_cuda_backward"));
    if (!r.forward || !r.backward) r.error = "libgan_adaconv_cuda.so lacks its entry points (a build from another version?)";
    return r;
  }();
#else
  static const CudaKernels k{nullptr, nullptr,
                             "this build has no CUDA kernels (configure with nvcc and a CUDA LibTorch)"};
#endif
  return k;
}

const CudaKernels& require_cuda_kernels(const Tensor& x) {
  const CudaKernels& k = cuda_kernels();
  TORCH_CHECK(k.error.empty(), "adaconv: x is on ", x.device(), " but ", k.error);
  TORCH_CHECK(x.scalar_type() == at::kFloat, "adaconv: the CUDA kernel needs float32 x");
  return k;
}

}  // namespace

std::string cuda_kernels_status() { return cuda_kernels().error; }

void trunc_normal_(Tensor t, double std) {
  torch::NoGradGuard no_grad;
  // Redraw the values outside +-2 std (the TensorFlow truncated_normal the paper used), then
  // clamp as a guarantee after a bounded number of rounds. Drawn in the tensor's own floating
  // type, in place, and only the 4.6% out of range are redrawn: a 128->64 layer's 9.4M-value 1x1
  // weight took 0.5 s in float64 with whole-tensor redraws (a CIFAR AdaGAN model's creation).
  Tensor v = t.is_floating_point() && t.is_contiguous() ? t : torch::empty(t.sizes(), t.options().dtype(torch::kFloat));
  v.normal_(0.0, std);
  Tensor flat = v.view({-1});
  for (int round = 0; round < 16; ++round) {
    const Tensor idx = (flat.abs() > 2 * std).nonzero().squeeze(1);
    if (idx.numel() == 0) break;
    flat.index_put_({idx}, torch::empty({idx.numel()}, flat.options()).normal_(0.0, std));
  }
  v.clamp_(-2 * std, 2 * std);
  if (!v.is_same(t)) t.copy_(v);
}

Weights init_weights(int64_t C, int64_t O, int64_t Kf, int64_t Ka, const torch::TensorOptions& options) {
  const int64_t M = O * Kf * Kf * C;
  Weights w;
  w.dw_w = torch::empty({C, 1, Ka, Ka}, options);
  w.dw_b = torch::zeros({C}, options);
  w.pw_w = torch::empty({M, C}, options);
  w.pw_b = torch::zeros({M}, options);
  w.b_w = torch::empty({O, C, Ka, Ka}, options);
  w.b_b = torch::zeros({O}, options);
  trunc_normal_(w.dw_w);
  trunc_normal_(w.pw_w);
  trunc_normal_(w.b_w);
  return w;
}

// Overflow-checked (gan::SizeOverflow, which gan check reports at the layer): C is the input's
// channel count and may be anything a model file asks for.
int64_t param_count(int64_t C, int64_t O, int64_t Kf, int64_t Ka) {
  using gan::checked_add, gan::checked_mul;
  const int64_t M = checked_mul(checked_mul(O, Kf * Kf), C), CKA = checked_mul(C, Ka * Ka);
  return checked_add(checked_add(checked_add(CKA, C), checked_add(checked_mul(M, C), M)),
                     checked_add(checked_mul(O, CKA), O));
}

int64_t macs_per_sample(int64_t C, int64_t O, int64_t H, int64_t W, int64_t Kf, int64_t Ka) {
  using gan::checked_add, gan::checked_mul;
  const int64_t M = checked_mul(checked_mul(O, Kf * Kf), C), CKA = checked_mul(C, Ka * Ka);
  // depthwise + 1x1 regression + local contraction + bias branch
  const int64_t per_pixel =
      checked_add(checked_add(CKA, checked_mul(M, C)), checked_add(M, checked_mul(O, CKA)));
  return checked_mul(checked_mul(H, W), per_pixel);
}

namespace {

void check_param(const Tensor& t, const char* name, const Tensor& x, at::IntArrayRef sizes) {
  TORCH_CHECK(t.defined(), "adaconv: ", name, " is undefined");
  TORCH_CHECK(t.device() == x.device(), "adaconv: ", name, " is on ", t.device(),
              " but x is on ", x.device());
  TORCH_CHECK(t.scalar_type() == x.scalar_type(), "adaconv: ", name, " has dtype ",
              t.scalar_type(), " but x has ", x.scalar_type());
  TORCH_CHECK(t.sizes() == sizes, "adaconv: ", name, " has shape ", t.sizes(), ", expected ", sizes);
}

int64_t odd_in_range(int64_t k, const char* name) {
  TORCH_CHECK(k >= 1 && k <= 7 && k % 2 == 1, "adaconv: ", name, " must be odd in 1..7, got ", k);
  return k;
}

}  // namespace

void check_inputs(const Tensor& x, const Weights& w, int64_t Kf) {
  TORCH_CHECK(x.defined(), "adaconv: x is undefined");
  TORCH_CHECK(x.dim() == 4, "adaconv: x must be [B, C, H, W], got shape ", x.sizes());
  TORCH_CHECK(x.numel() > 0, "adaconv: x is empty (shape ", x.sizes(), ")");
  const auto st = x.scalar_type();
  TORCH_CHECK(st == at::kFloat || st == at::kDouble || st == at::kHalf || st == at::kBFloat16,
              "adaconv: x must be float32 (float64 on the CPU; float16/bfloat16 are computed in "
              "float32), got ", st);
  TORCH_CHECK(x.is_cpu() || x.is_cuda(), "adaconv: x must be on the CPU or a CUDA device, got ",
              x.device());
  odd_in_range(Kf, "kernel_size (Kf)");
  TORCH_CHECK(w.dw_w.defined() && w.dw_w.dim() == 4, "adaconv: dw_w must be [C, 1, Ka, Ka]");
  const int64_t C = x.size(1), Ka = odd_in_range(w.dw_w.size(2), "adaptive_kernel_size (Ka)");
  TORCH_CHECK(w.b_b.defined() && w.b_b.dim() == 1, "adaconv: b_b must be [O]");
  const int64_t O = w.b_b.size(0), M = O * Kf * Kf * C;
  check_param(w.dw_w, "dw_w", x, {C, 1, Ka, Ka});
  check_param(w.dw_b, "dw_b", x, {C});
  check_param(w.pw_w, "pw_w", x, {M, C});
  check_param(w.pw_b, "pw_b", x, {M});
  check_param(w.b_w, "b_w", x, {O, C, Ka, Ka});
  check_param(w.b_b, "b_b", x, {O});
}

// ------------------------------------------------------------------------------------------
// Reference: every step a plain LibTorch op; materialises the per-pixel kernels [B, M, H, W].
Tensor reference_forward(const Tensor& x, const Weights& w, int64_t Kf) {
  check_inputs(x, w, Kf);
  const int64_t C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = w.b_b.size(0), Ka = w.dw_w.size(2), KK = Kf * Kf, r = Kf / 2;
  const Tensor dw = at::conv2d(x, w.dw_w, w.dw_b, 1, Ka / 2, 1, C);
  const Tensor kernels = at::relu(at::conv2d(dw, w.pw_w.view({-1, C, 1, 1}), w.pw_b));
  // patches[b, k, i, y, x] = x[b, i, y + ky - r, x + kx - r] (zero padded)
  const Tensor xp = at::constant_pad_nd(x, {r, r, r, r});
  std::vector<Tensor> shifted;
  for (int64_t ky = 0; ky < Kf; ++ky)
    for (int64_t kx = 0; kx < Kf; ++kx)
      shifted.push_back(xp.slice(2, ky, ky + H).slice(3, kx, kx + W));
  const Tensor patches = at::stack(shifted, 1);  // [B, KK, C, H, W]
  // -1, not B: a TorchScript trace (gan export) keeps the batch size free
  const Tensor local = at::einsum("bokihw,bkihw->bohw", {kernels.view({-1, O, KK, C, H, W}), patches});
  return local + at::conv2d(x, w.b_w, w.b_b, 1, Ka / 2);
}

// ------------------------------------------------------------------------------------------
// Fused: one autograd Function for the whole block.
namespace {

// The kernels want channels-last data; a channels_last-contiguous [B, C, H, W] tensor *is* the
// [B, H, W, C] buffer, so the convolutions run on it directly and no permuted copies are made.
Tensor channels_last(const Tensor& t) { return t.contiguous(at::MemoryFormat::ChannelsLast); }

Geometry geometry(const Tensor& x, int64_t O, int64_t Kf, int64_t Ka) {
  Geometry g;
  g.B = x.size(0); g.C = x.size(1); g.H = x.size(2); g.W = x.size(3);
  g.O = O; g.Kf = Kf; g.Ka = Ka;
  return g;
}

// The kernels' own boundary: raw pointers are taken below, so layout, dtype and device of every
// buffer are checked here (the public entry points already converted user tensors).
void check_buffer(const Tensor& t, const char* name, const Tensor& x, int64_t numel, bool nhwc) {
  TORCH_CHECK(t.defined(), "adaconv kernel: ", name, " is undefined");
  TORCH_CHECK(t.device() == x.device(), "adaconv kernel: ", name, " is on ", t.device(),
              ", expected ", x.device());
  TORCH_CHECK(t.scalar_type() == x.scalar_type(), "adaconv kernel: ", name, " has dtype ",
              t.scalar_type(), ", expected ", x.scalar_type());
  TORCH_CHECK(t.numel() == numel, "adaconv kernel: ", name, " has ", t.numel(), " elements, expected ",
              numel);
  TORCH_CHECK(nhwc ? t.is_contiguous(at::MemoryFormat::ChannelsLast) : t.is_contiguous(),
              "adaconv kernel: ", name, " must be ", nhwc ? "channels-last " : "", "contiguous");
}

void check_buffers(const Tensor& x_nhwc, const Tensor& dw_w, const Tensor& dw_b,
                   const Tensor& pw_w, const Tensor& pw_b, const Geometry& g, const Tensor& mask) {
  check_buffer(x_nhwc, "x", x_nhwc, g.N() * g.C, true);
  check_buffer(dw_w, "dw_w", x_nhwc, g.C * g.Ka * g.Ka, false);
  check_buffer(dw_b, "dw_b", x_nhwc, g.C, false);
  check_buffer(pw_w, "pw_w", x_nhwc, g.M() * g.C, false);
  check_buffer(pw_b, "pw_b", x_nhwc, g.M(), false);
  if (mask.defined()) {
    TORCH_CHECK(mask.device() == x_nhwc.device() && mask.scalar_type() == at::kInt &&
                    mask.is_contiguous() && mask.numel() == g.N() * g.O * g.mask_words(),
                "adaconv kernel: ReLU mask must be a contiguous int32 buffer of N*O*ceil(J/32) "
                "words on the device of x");
  }
}

uint32_t* mask_ptr(const Tensor& mask) {
  return mask.defined() ? reinterpret_cast<uint32_t*>(mask.data_ptr<int32_t>()) : nullptr;
}

// The depthwise conv's output as an [N, C] (channels-last) tensor: the CUDA kernels read it;
// the CPU kernel computes it tile by tile instead.
Tensor depthwise(const Tensor& x_nhwc, const Tensor& dw_w, const Tensor& dw_b, const Geometry& g) {
  return channels_last(at::conv2d(x_nhwc, dw_w, dw_b, 1, g.Ka / 2, 1, g.C));
}

// The depthwise weight as the CPU tiles want it: [Ka*Ka, C].
Tensor depthwise_t(const Tensor& dw_w, const Geometry& g) {
  return dw_w.reshape({g.C, g.Ka * g.Ka}).t().contiguous();
}

// The block's output (NCHW [B, O, H, W]): bias branch + local contraction; x_nhwc [B,H,W,C].
Tensor core_forward(const Tensor& x, const Tensor& x_nhwc, const Tensor& dw_w, const Tensor& dw_b,
                    const Tensor& pw_w, const Tensor& pw_b, const Tensor& b_w, const Tensor& b_b,
                    const Geometry& g, Tensor& mask) {
  check_buffers(x_nhwc, dw_w, dw_b, pw_w, pw_b, g, mask);
  check_buffer(b_w, "b_w", x_nhwc, g.O * g.C * g.Ka * g.Ka, false);
  check_buffer(b_b, "b_b", x_nhwc, g.O, false);
  // On the CPU's direct path the kernel computes the bias branch itself; otherwise LibTorch's
  // conv2d does and the contraction is added to its output.
  const bool own_bias = x_nhwc.is_cpu() && cpu::use_direct_forward(g);
  Tensor out = own_bias ? at::empty({g.B, g.O, g.H, g.W}, x_nhwc.options())
                        : at::conv2d(x, b_w, b_b, 1, g.Ka / 2).contiguous();
  if (x_nhwc.is_cuda()) {
    const CudaKernels& k = require_cuda_kernels(x_nhwc);
    const c10::DeviceGuard guard(x_nhwc.device());
    const Tensor dwf = depthwise(x_nhwc, dw_w, dw_b, g);
    Tensor core = at::empty({g.B, g.H, g.W, g.O}, x_nhwc.options());  // the kernel's [N, O]
    const char* err = k.forward(x_nhwc.device().index(), x_nhwc.data_ptr<float>(), dwf.data_ptr<float>(),
                                pw_w.data_ptr<float>(), pw_b.data_ptr<float>(), &g, core.data_ptr<float>(),
                                mask_ptr(mask));
    TORCH_CHECK(err == nullptr, "adaconv: CUDA forward kernel failed: ", err);
    out.add_(core.permute({0, 3, 1, 2}));
    return out;
  }
  const Tensor dwT = depthwise_t(dw_w, g);
  const Tensor bwT = own_bias ? b_w.reshape({g.O, g.C, g.Ka * g.Ka}).transpose(1, 2).contiguous()
                              : Tensor();
  AT_DISPATCH_FLOATING_TYPES(x_nhwc.scalar_type(), "adaconv_forward_cpu", [&] {
    cpu::forward<scalar_t>(x_nhwc.data_ptr<scalar_t>(), dwT.data_ptr<scalar_t>(),
                           dw_b.data_ptr<scalar_t>(), pw_w.data_ptr<scalar_t>(),
                           pw_b.data_ptr<scalar_t>(),
                           own_bias ? bwT.data_ptr<scalar_t>() : nullptr,
                           b_b.data_ptr<scalar_t>(), g, out.data_ptr<scalar_t>(), mask_ptr(mask));
  });
  return out;
}

// Adds the gradients of the contraction and the depthwise conv to dx (channels-last, holding
// the bias branch's input gradient already) and returns the weight gradients.
struct CoreGrads {
  Tensor ddw_w, ddw_b, dpw_w, dpw_b;
};
CoreGrads core_backward(const Tensor& x_nhwc, const Tensor& dw_w, const Tensor& dw_b,
                        const Tensor& pw_w, const Tensor& pw_b, const Geometry& g, const Tensor& go,
                        const Tensor& mask, Tensor& dx) {
  check_buffers(x_nhwc, dw_w, dw_b, pw_w, pw_b, g, mask);
  check_buffer(go, "grad_out", x_nhwc, g.N() * g.O, true);
  check_buffer(dx, "grad_x", x_nhwc, g.N() * g.C, true);
  CoreGrads r{Tensor(), Tensor(), at::zeros_like(pw_w), at::zeros_like(pw_b)};
  if (x_nhwc.is_cuda()) {
    const CudaKernels& k = require_cuda_kernels(x_nhwc);
    const c10::DeviceGuard guard(x_nhwc.device());
    const Tensor dwf = depthwise(x_nhwc, dw_w, dw_b, g);
    Tensor ddwf = at::zeros_like(dwf), dx_core = at::zeros_like(dx);
    Tensor dpatch = at::empty({g.N(), g.J()}, x_nhwc.options());
    const char* err = k.backward(
        x_nhwc.device().index(), x_nhwc.data_ptr<float>(), dwf.data_ptr<float>(), pw_w.data_ptr<float>(),
        pw_b.data_ptr<float>(), &g, go.data_ptr<float>(), mask_ptr(mask), dx_core.data_ptr<float>(),
        ddwf.data_ptr<float>(), r.dpw_w.data_ptr<float>(), r.dpw_b.data_ptr<float>(), dpatch.data_ptr<float>());
    TORCH_CHECK(err == nullptr, "adaconv: CUDA backward kernel failed: ", err);
    dpatch = Tensor();
    auto [dx1, ddw_w, ddw_b] = at::convolution_backward(
        ddwf, x_nhwc, dw_w, at::IntArrayRef{g.C}, {1, 1}, {g.Ka / 2, g.Ka / 2}, {1, 1}, false,
        {0, 0}, g.C, {true, true, true});
    dx.add_(dx_core).add_(dx1);
    r.ddw_w = ddw_w;
    r.ddw_b = ddw_b;
    return r;
  }
  const Tensor dwT = depthwise_t(dw_w, g);
  Tensor ddwT = at::zeros_like(dwT);
  r.ddw_b = at::zeros_like(dw_b);
  AT_DISPATCH_FLOATING_TYPES(x_nhwc.scalar_type(), "adaconv_backward_cpu", [&] {
    cpu::backward<scalar_t>(x_nhwc.data_ptr<scalar_t>(), dwT.data_ptr<scalar_t>(),
                            dw_b.data_ptr<scalar_t>(), pw_w.data_ptr<scalar_t>(),
                            pw_b.data_ptr<scalar_t>(), g, go.data_ptr<scalar_t>(), mask_ptr(mask),
                            dx.data_ptr<scalar_t>(), ddwT.data_ptr<scalar_t>(),
                            r.ddw_b.data_ptr<scalar_t>(), r.dpw_w.data_ptr<scalar_t>(),
                            r.dpw_b.data_ptr<scalar_t>());
  });
  r.ddw_w = ddwT.t().reshape({g.C, 1, g.Ka, g.Ka});
  return r;
}

struct FusedFunction : public torch::autograd::Function<FusedFunction> {
  // Saved for backward: the channels-last input (x itself when it is channels-last already),
  // the weights and, for impl=auto, the ReLU bits. Nothing else of size N*C is kept.
  static Tensor forward(torch::autograd::AutogradContext* ctx, const Tensor& x, const Tensor& dw_w,
                        const Tensor& dw_b, const Tensor& pw_w, const Tensor& pw_b,
                        const Tensor& b_w, const Tensor& b_b, int64_t Kf, bool keep_mask) {
    // named for profilers and `gan bench` (its AdaConv forward/backward shares); free when none listens
    RECORD_FUNCTION("adaconv::forward", std::vector<c10::IValue>());
    const int64_t O = b_b.size(0), Ka = dw_w.size(2);
    const Geometry g = geometry(x, O, Kf, Ka);
    const Tensor x_cl = channels_last(x);  // storage [B, H, W, C]
    Tensor mask;
    if (keep_mask) mask = at::empty({g.N() * O * g.mask_words()}, x.options().dtype(at::kInt));
    Tensor out = core_forward(x, x_cl, dw_w, dw_b, pw_w, pw_b, b_w, b_b, g, mask);
    if (ctx) {
      ctx->save_for_backward({x_cl, dw_w, dw_b, pw_w, pw_b, b_w, mask});
      ctx->saved_data["Kf"] = Kf;
    }
    return out;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    RECORD_FUNCTION("adaconv::backward", std::vector<c10::IValue>());
    // With create_graph (a gradient penalty through this layer) grad mode is on here. The kernels
    // below record no graph, so the second derivative would silently miss the regression
    // weights: refuse instead (`gan check` refuses such models before training).
    TORCH_CHECK(!torch::GradMode::is_enabled(),
                "adaconv: impl = fused/auto has no double backward (a gradient penalty, e.g. wgan_gp, "
                "differentiates through this layer's backward); use impl = \"reference\" for this layer");
    const auto s = ctx->get_saved_variables();
    const Tensor &x_cl = s[0], &dw_w = s[1], &dw_b = s[2], &pw_w = s[3], &pw_b = s[4];
    const Tensor &b_w = s[5], &mask = s[6];
    const int64_t Kf = ctx->saved_data["Kf"].toInt();
    const int64_t O = b_w.size(0), Ka = dw_w.size(2), pad = Ka / 2;
    const Geometry g = geometry(x_cl, O, Kf, Ka);
    const Tensor go = channels_last(grads[0]);
    // The bias branch first: its input gradient becomes the buffer the kernel accumulates
    // into, so dx exists once.
    auto [dx, db_w, db_b] = at::convolution_backward(
        go, x_cl, b_w, at::IntArrayRef{O}, {1, 1}, {pad, pad}, {1, 1}, false, {0, 0}, 1,
        {true, true, true});
    dx = channels_last(dx);
    CoreGrads c = core_backward(x_cl, dw_w, dw_b, pw_w, pw_b, g, go, mask, dx);
    return {dx, c.ddw_w, c.ddw_b, c.dpw_w, c.dpw_b, db_w, db_b, Tensor(), Tensor()};
  }
};

}  // namespace

Tensor fused_forward(const Tensor& x, const Weights& w, int64_t Kf, bool keep_mask) {
  check_inputs(x, w, Kf);
  const auto st = x.scalar_type();
  if (st == at::kHalf || st == at::kBFloat16) {
    // Reduced precision in, float32 inside (loads and accumulation), the input's dtype out.
    auto f = [](const Tensor& t) { return t.to(at::kFloat); };
    const Weights w32{f(w.dw_w), f(w.dw_b), f(w.pw_w), f(w.pw_b), f(w.b_w), f(w.b_b)};
    return fused_forward(f(x), w32, Kf, keep_mask).to(st);
  }
  TORCH_CHECK(x.is_cpu() || st == at::kFloat, "adaconv: on CUDA x must be float32 (or float16/"
              "bfloat16, computed in float32), got ", st);
  auto c = [](const Tensor& t) { return t.contiguous(); };
  const bool grad = torch::GradMode::is_enabled() &&
                    (x.requires_grad() || w.dw_w.requires_grad() || w.dw_b.requires_grad() ||
                     w.pw_w.requires_grad() || w.pw_b.requires_grad() || w.b_w.requires_grad() ||
                     w.b_b.requires_grad());
  if (!grad) {
    // inference: nothing to save, no ReLU bits
    return FusedFunction::forward(nullptr, c(x), c(w.dw_w), c(w.dw_b), c(w.pw_w), c(w.pw_b),
                                  c(w.b_w), c(w.b_b), Kf, false);
  }
  return FusedFunction::apply(c(x), c(w.dw_w), c(w.dw_b), c(w.pw_w), c(w.pw_b), c(w.b_w),
                              c(w.b_b), Kf, keep_mask);
}

Tensor forward(const Tensor& x, const Weights& w, int64_t Kf, Impl impl) {
  const auto st = x.scalar_type();
  if ((st == at::kHalf || st == at::kBFloat16) && w.dw_w.defined() && w.dw_w.scalar_type() == at::kFloat) {
    // Under autocast (gan's [train] amp): reduced-precision activations reach the layer while its
    // weights stay float32. Computed in float32, returned in the activations' dtype.
    return forward(x.to(at::kFloat), w, Kf, impl).to(st);
  }
  // The fused kernels are not ATen operators: a TorchScript trace (gan export) would record their
  // output as a constant. The reference is the same function in ATen operators.
  if (torch::jit::tracer::isTracing()) impl = Impl::Reference;
  switch (impl) {
    case Impl::Reference: return reference_forward(x, w, Kf);
    case Impl::Fused: return fused_forward(x, w, Kf, /*keep_mask=*/false);
    case Impl::Auto: return fused_forward(x, w, Kf, /*keep_mask=*/true);
  }
  TORCH_CHECK(false, "adaconv: bad impl");
}

}  // namespace adaconv
