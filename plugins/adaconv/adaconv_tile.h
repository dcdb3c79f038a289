// adaconv_tile.h — the per-tile arithmetic of the fused AdaConv kernels, shared by CPU and GPU.
//
// Plain C++ (no torch, no CUDA headers): every function is `__host__ __device__` under nvcc and
// an ordinary inline function under g++. The CPU fused kernel (adaconv_cpu.cpp) and the CUDA
// kernels (adaconv_cuda.cu) call the same functions, so the CPU tests execute the maths the GPU
// runs.
//
// Layouts (N = B*H*W pixels, pixel-major, n = (b*H + y)*W + x):
//   x      [B, H, W, C]   input, channels last
//   dwf    [N, C]         depthwise-conv output (channels last)
//   dwT    [Ka*Ka, C]     depthwise weight, transposed from the module's [C, 1, Ka, Ka] so
//                         that the channel loop is contiguous (dwT[k*C + i] = dw_w[i, 0, ky, kx])
//   pw_w   [M, C]         1x1 conv weight, M = O*J, J = Kf*Kf*C
//   pw_b   [M]            1x1 conv bias
//   column m of the per-pixel kernel: m = o*J + j, j = k*C + i, k = ky*Kf + kx
//     (output channel o outermost, then the patch offset k, then the input channel i), so the
//     kernel row of output channel o is contiguous and matches the gathered patch row.
//   patch  [J] per pixel  patch[k*C + i] = x[b, y+ky-r, x+kx-r, i] (0 outside), r = Kf/2
//   out    [N, O]         sum_j relu(pre[o*J+j]) * patch[j]   (the bias branch is added outside)
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define ADACONV_HD __host__ __device__ __forceinline__
#else
#define ADACONV_HD inline __attribute__((always_inline))
#endif

namespace adaconv {

// Problem geometry. All counts in elements.
struct Geometry {
  int64_t B = 0, C = 0, H = 0, W = 0;  // input [B, C, H, W]
  int64_t O = 0;                        // output channels
  int64_t Kf = 3;                       // per-pixel kernel size (odd)
  int64_t Ka = 1;                       // regression window of the depthwise conv (odd)
  ADACONV_HD int64_t N() const { return B * H * W; }
  ADACONV_HD int64_t KK() const { return Kf * Kf; }
  ADACONV_HD int64_t J() const { return Kf * Kf * C; }
  ADACONV_HD int64_t M() const { return O * Kf * Kf * C; }
  ADACONV_HD int64_t mask_words() const { return (J() + 31) / 32; }  // per (pixel, o)
};

// Number of partial sums kept by the dot products: 16 independent accumulators let g++ use
// whole SIMD registers without -ffast-math, and fix the summation order (deterministic).
constexpr int kLanes = 16;

template <class T>
ADACONV_HD T relu(T v) { return v > T(0) ? v : T(0); }

// Element-level pieces of the backward, used by the row functions below and by the CUDA
// weight-gradient kernel (which works element by element).
template <class T>
ADACONV_HD bool relu_on(T pre, T bias) { return pre + bias > T(0); }
ADACONV_HD bool mask_bit(const uint32_t* mask_row, int64_t j) {
  return ((mask_row[j >> 5] >> (j & 31)) & 1u) != 0;
}
// d(loss)/d(pre-activation) of one kernel element: the ReLU gate times go * patch.
template <class T>
ADACONV_HD T dpre_value(bool on, T go, T patch) { return on ? go * patch : T(0); }

// One element of the gathered patch of pixel n: column j = k*C + i.
template <class T>
ADACONV_HD T patch_value(const T* x, const Geometry& g, int64_t n, int64_t j) {
  const int64_t i = j % g.C, k = j / g.C;
  const int64_t r = g.Kf / 2;
  const int64_t xx = n % g.W, yy = (n / g.W) % g.H, b = n / (g.W * g.H);
  const int64_t sy = yy + k / g.Kf - r, sx = xx + k % g.Kf - r;
  if (sy < 0 || sy >= g.H || sx < 0 || sx >= g.W) return T(0);
  return x[((b * g.H + sy) * g.W + sx) * g.C + i];
}

// Depthwise conv (zero padding, stride 1) at pixel n: out[i] = b[i] + sum_k w[k*C + i] *
// x[pixel n + off_k, i] over the Ka x Ka window, w = dwT [Ka*Ka, C]. The CPU kernel computes
// the depthwise output tile by tile with this instead of keeping an [N, C] tensor.
template <class T>
ADACONV_HD void depthwise_row(const T* x, const T* w, const T* b, const Geometry& g, int64_t n,
                              T* out) {
  const int64_t r = g.Ka / 2;
  const int64_t xx = n % g.W, yy = (n / g.W) % g.H, bi = n / (g.W * g.H);
  for (int64_t i = 0; i < g.C; ++i) out[i] = b[i];
  for (int64_t ky = 0; ky < g.Ka; ++ky) {
    const int64_t sy = yy + ky - r;
    if (sy < 0 || sy >= g.H) continue;
    for (int64_t kx = 0; kx < g.Ka; ++kx) {
      const int64_t sx = xx + kx - r;
      if (sx < 0 || sx >= g.W) continue;
      const T* src = x + ((bi * g.H + sy) * g.W + sx) * g.C;
      const T* wk = w + (ky * g.Ka + kx) * g.C;
      for (int64_t i = 0; i < g.C; ++i) out[i] += wk[i] * src[i];
    }
  }
}

// Backward of depthwise_row at pixel n given dd[C], the gradient of its output:
//   dx[pixel n + off_k, i] += dd[i] * w[k*C + i]      (input)
//   dw[k*C + i]            += dd[i] * x[n + off_k, i] (weight, [Ka*Ka, C] like w)
//   db[i]                  += dd[i]                   (bias)
template <class T>
ADACONV_HD void depthwise_row_backward(const T* x, const T* w, const T* dd, const Geometry& g,
                                       int64_t n, T* dx, T* dw, T* db) {
  const int64_t r = g.Ka / 2;
  const int64_t xx = n % g.W, yy = (n / g.W) % g.H, bi = n / (g.W * g.H);
  for (int64_t i = 0; i < g.C; ++i) db[i] += dd[i];
  for (int64_t ky = 0; ky < g.Ka; ++ky) {
    const int64_t sy = yy + ky - r;
    if (sy < 0 || sy >= g.H) continue;
    for (int64_t kx = 0; kx < g.Ka; ++kx) {
      const int64_t sx = xx + kx - r;
      if (sx < 0 || sx >= g.W) continue;
      const int64_t off = ((bi * g.H + sy) * g.W + sx) * g.C, k = ky * g.Ka + kx;
      const T* src = x + off;
      const T* wk = w + k * g.C;
      T* dxk = dx + off;
      T* dwk = dw + k * g.C;
      for (int64_t i = 0; i < g.C; ++i) {
        dxk[i] += dd[i] * wk[i];
        dwk[i] += dd[i] * src[i];
      }
    }
  }
}

// The whole patch row of pixel n (im2col for one pixel): out[J].
template <class T>
ADACONV_HD void gather_patch_row(const T* x, const Geometry& g, int64_t n, T* out) {
  const int64_t r = g.Kf / 2;
  const int64_t xx = n % g.W, yy = (n / g.W) % g.H, b = n / (g.W * g.H);
  for (int64_t ky = 0; ky < g.Kf; ++ky) {
    for (int64_t kx = 0; kx < g.Kf; ++kx) {
      T* dst = out + (ky * g.Kf + kx) * g.C;
      const int64_t sy = yy + ky - r, sx = xx + kx - r;
      if (sy < 0 || sy >= g.H || sx < 0 || sx >= g.W) {
        for (int64_t i = 0; i < g.C; ++i) dst[i] = T(0);
      } else {
        const T* src = x + ((b * g.H + sy) * g.W + sx) * g.C;
        for (int64_t i = 0; i < g.C; ++i) dst[i] = src[i];
      }
    }
  }
}

// Columns j0 .. j0+len of the patch row of pixel n: out[len] (out[t] = column j0 + t).
template <class T>
ADACONV_HD void gather_patch_cols(const T* x, const Geometry& g, int64_t n, int64_t j0,
                                  int64_t len, T* out) {
  const int64_t r = g.Kf / 2;
  const int64_t xx = n % g.W, yy = (n / g.W) % g.H, b = n / (g.W * g.H);
  for (int64_t j = j0; j < j0 + len;) {
    const int64_t k = j / g.C, i0 = j % g.C, cnt = (g.C - i0 < j0 + len - j) ? g.C - i0 : j0 + len - j;
    const int64_t sy = yy + k / g.Kf - r, sx = xx + k % g.Kf - r;
    T* dst = out + (j - j0);
    if (sy < 0 || sy >= g.H || sx < 0 || sx >= g.W) {
      for (int64_t t = 0; t < cnt; ++t) dst[t] = T(0);
    } else {
      const T* src = x + ((b * g.H + sy) * g.W + sx) * g.C + i0;
      for (int64_t t = 0; t < cnt; ++t) dst[t] = src[t];
    }
    j += cnt;
  }
}

// col2im for one pixel: dx[b, y+ky-r, x+kx-r, i] += dpatch[k*C + i] (inside the image only).
template <class T>
ADACONV_HD void scatter_patch_row(const T* dpatch, const Geometry& g, int64_t n, T* dx) {
  const int64_t r = g.Kf / 2;
  const int64_t xx = n % g.W, yy = (n / g.W) % g.H, b = n / (g.W * g.H);
  for (int64_t ky = 0; ky < g.Kf; ++ky) {
    for (int64_t kx = 0; kx < g.Kf; ++kx) {
      const int64_t sy = yy + ky - r, sx = xx + kx - r;
      if (sy < 0 || sy >= g.H || sx < 0 || sx >= g.W) continue;
      const T* src = dpatch + (ky * g.Kf + kx) * g.C;
      T* dst = dx + ((b * g.H + sy) * g.W + sx) * g.C;
      for (int64_t i = 0; i < g.C; ++i) dst[i] += src[i];
    }
  }
}

// The gradient of one input element, gathered (the transpose of scatter_patch_row, used by the
// GPU so that every dx element is written by one thread): sum over the pixels whose patch holds
// x[b, y, x, i] of dpatch[pixel, k*C + i]. dpatch is [N, J].
template <class T>
ADACONV_HD T gather_input_grad(const T* dpatch, const Geometry& g, int64_t n, int64_t i) {
  const int64_t r = g.Kf / 2, J = g.J();
  const int64_t xx = n % g.W, yy = (n / g.W) % g.H, b = n / (g.W * g.H);
  T acc = T(0);
  for (int64_t ky = 0; ky < g.Kf; ++ky) {
    for (int64_t kx = 0; kx < g.Kf; ++kx) {
      const int64_t py = yy - ky + r, px = xx - kx + r;  // the pixel whose offset k lands here
      if (py < 0 || py >= g.H || px < 0 || px >= g.W) continue;
      acc += dpatch[((b * g.H + py) * g.W + px) * J + (ky * g.Kf + kx) * g.C + i];
    }
  }
  return acc;
}

// Forward epilogue of one (pixel, output channel): sum_j relu(pre[j] + bias[j]) * patch[j]
// over n columns. `pre` is the bias-free GEMM result. When mask != nullptr the ReLU pattern is
// also stored, one bit per column (bit j%32 of word j/32), for the backward of impl=auto.
template <class T>
ADACONV_HD T fwd_dot(const T* pre, const T* bias, const T* patch, int64_t n, uint32_t* mask) {
  T acc[kLanes];
  for (int u = 0; u < kLanes; ++u) acc[u] = T(0);
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int u = 0; u < kLanes; ++u) acc[u] += relu(pre[j + u] + bias[j + u]) * patch[j + u];
  }
  for (int u = 0; j + u < n; ++u) acc[u] += relu(pre[j + u] + bias[j + u]) * patch[j + u];
  if (mask) {
    int64_t w = 0;
    for (; (w + 1) * 32 <= n; ++w) {  // whole words: fixed trip count, vectorises
      uint32_t bits = 0;
      for (int b = 0; b < 32; ++b) bits |= uint32_t(pre[w * 32 + b] + bias[w * 32 + b] > T(0)) << b;
      mask[w] = bits;
    }
    if (w * 32 < n) {
      uint32_t bits = 0;
      for (int64_t b = 0; w * 32 + b < n; ++b)
        bits |= uint32_t(pre[w * 32 + b] + bias[w * 32 + b] > T(0)) << b;
      mask[w] = bits;
    }
  }
  T s = T(0);
  for (int u = 0; u < kLanes; ++u) s += acc[u];
  return s;
}

// Backward epilogue of one (pixel, output channel) with the pre-activation recomputed:
//   dpre[j]    = (pre[j] + bias[j] > 0) ? go * patch[j] : 0     (gradient of the 1x1 conv output)
//   dpatch[j] += go * relu(pre[j] + bias[j])                     (gradient of the patch)
template <class T>
ADACONV_HD void bwd_row(const T* pre, const T* bias, const T* patch, T go, T* dpre, T* dpatch,
                        int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const T v = pre[j] + bias[j];
    const bool on = v > T(0);
    dpre[j] = dpre_value(on, go, patch[j]);
    dpatch[j] += on ? go * v : T(0);
  }
}

// Gradient of the 1x1 conv output from the stored ReLU bits (impl=auto, no recompute), columns
// j0 .. j0+n of one (pixel, output channel); patch and dpre point at column j0:
//   dpre[t] = bit(j0 + t) ? go * patch[t] : 0
template <class T>
ADACONV_HD void dpre_from_mask(const uint32_t* mask, const T* patch, T go, T* dpre, int64_t j0,
                               int64_t n) {
  int64_t t = 0;
  if ((j0 & 31) == 0) {  // word-aligned: expand whole words (vectorises)
    for (; t + 32 <= n; t += 32) {
      const uint32_t bits = mask[(j0 + t) >> 5];
      for (int b = 0; b < 32; ++b) dpre[t + b] = dpre_value(((bits >> b) & 1u) != 0, go, patch[t + b]);
    }
  }
  for (; t < n; ++t) dpre[t] = dpre_value(mask_bit(mask, j0 + t), go, patch[t]);
}

// The same with the pre-activation recomputed; pre, bias, patch and dpre point at column j0.
template <class T>
ADACONV_HD void dpre_recomputed(const T* pre, const T* bias, const T* patch, T go, T* dpre,
                                int64_t n) {
  for (int64_t t = 0; t < n; ++t) dpre[t] = dpre_value(relu_on(pre[t], bias[t]), go, patch[t]);
}

}  // namespace adaconv
