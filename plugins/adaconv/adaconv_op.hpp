// adaconv_op.hpp — the AdaConv operator: reference, fused CPU and CUDA implementations.
//
// For x [B, C, H, W], per-pixel kernel size Kf (odd), regression window Ka (odd), O outputs:
//   dw   = depthwise_conv_KaxKa(x) + dw_b                        [B, C, H, W]
//   Wk   = ReLU(pw_w @ dw + pw_b)   (a 1x1 conv to M = O*Kf*Kf*C channels)   per pixel [M]
//   bias = conv_KaxKa(x; b_w) + b_b                               [B, O, H, W]
//   out(p)[o] = sum_{k, i} Wk(p)[o*J + k*C + i] * x(p + offset_k)[i] + bias(p)[o]
// with zero padding and stride 1 (J = Kf*Kf*C; k = ky*Kf + kx). See README.md.
//
//   adaconv::Weights w = adaconv::init_weights(/*C=*/128, /*O=*/64, /*Kf=*/3, /*Ka=*/3);
//   torch::Tensor y = adaconv::forward(x, w, /*Kf=*/3, adaconv::Impl::Auto);   // [B, 64, H, W]
//
// Impl::Reference materialises the per-pixel kernels (B*H*W*M floats) with plain LibTorch ops;
// it is the oracle. Impl::Fused never does: it tiles pixels x output channels, computes each
// tile's pre-activation by GEMM, applies ReLU and the patch contraction in the tile's epilogue,
// and its backward recomputes the pre-activation. Impl::Auto is Fused that also keeps one ReLU
// bit per kernel element (M*N/8 bytes) so the weight-gradient pass skips the recompute.
// Every implementation is differentiable (custom autograd Function for Fused/Auto).
#pragma once

#include <cstdint>
#include <string>

#include <torch/types.h>

namespace adaconv {

enum class Impl { Reference, Fused, Auto };

// "reference" | "fused" | "auto"; anything else throws c10::Error listing the choices.
Impl parse_impl(const std::string& name);
const char* impl_name(Impl impl);

// The six learnable tensors of one block.
struct Weights {
  torch::Tensor dw_w;  // [C, 1, Ka, Ka]  depthwise conv weight (depth multiplier 1)
  torch::Tensor dw_b;  // [C]
  torch::Tensor pw_w;  // [M, C]          1x1 conv weight, M = O*Kf*Kf*C, row m = o*J + k*C + i
  torch::Tensor pw_b;  // [M]
  torch::Tensor b_w;   // [O, C, Ka, Ka]  bias-branch conv weight
  torch::Tensor b_b;   // [O]
};

// Paper initialisation: weights ~ truncated normal (mean 0, std 0.02, clamped to +-2 std),
// biases zero. Float32 on the CPU unless `options` says otherwise.
Weights init_weights(int64_t C, int64_t O, int64_t Kf, int64_t Ka,
                     const torch::TensorOptions& options = {});
// In-place truncated normal (mean 0, std, cut at +-2 std) on any tensor.
void trunc_normal_(torch::Tensor t, double std = 0.02);

// Checks x and w (device, dtype, contiguity, shapes, Kf odd in 1..7, Ka odd in 1..7) and throws
// c10::Error naming the offending argument.
void check_inputs(const torch::Tensor& x, const Weights& w, int64_t Kf);

// The block; differentiable with respect to x and every tensor of w.
torch::Tensor forward(const torch::Tensor& x, const Weights& w, int64_t Kf, Impl impl);

// The two implementations directly.
torch::Tensor reference_forward(const torch::Tensor& x, const Weights& w, int64_t Kf);
torch::Tensor fused_forward(const torch::Tensor& x, const Weights& w, int64_t Kf, bool keep_mask);

// Costs per sample (H x W image): learnable scalars and forward multiply-adds.
int64_t param_count(int64_t C, int64_t O, int64_t Kf, int64_t Ka);
int64_t macs_per_sample(int64_t C, int64_t O, int64_t H, int64_t W, int64_t Kf, int64_t Ka);

// The CPU forward has two paths: a tile GEMM (MKL) with a separate epilogue, and a direct
// register-blocked kernel that is faster for small C_in. The direct one is used when
// C_in <= this value (default: every C_in; it was measured faster at every paper shape);
// returns the previous value. For tests and benchmarks.
int64_t set_cpu_direct_max_channels(int64_t c);
// The direct path is compiled for three x86 levels and picks the CPU's highest; this caps the
// level (4: AVX-512, 3: AVX2, 0: baseline), so that tests run each variant. Returns the old cap.
int set_cpu_direct_level_cap(int level);
// The level the direct path runs at now (min of the CPU's and the cap).
int cpu_direct_level();

// True when this build contains the CUDA kernels (compiled into the op, or as the module
// libgan_adaconv_cuda.so beside it).
bool cuda_compiled();
// Loads the CUDA kernels (the module, once; LibTorch's CUDA backend must be in the process) and
// returns "" or why they cannot be used. Needs no GPU.
std::string cuda_kernels_status();

}  // namespace adaconv
