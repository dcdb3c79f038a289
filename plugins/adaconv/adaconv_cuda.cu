// adaconv_cuda.cu — CUDA kernels of the fused AdaConv (float32). No torch headers: the host side
// (adaconv_op.cpp) validates inputs, allocates, and passes raw pointers and the current stream.
//
// Every kernel computes its pre-activation tile [32 pixels x 32 columns] by a shared-memory
// GEMM over the input channels and then calls the adaconv_tile.h functions that the CPU kernel
// calls (fwd_dot, bwd_row, patch_value, dpre_value, gather_input_grad), so the CPU tests check
// the same arithmetic. Every output element is written by exactly one block in a fixed order:
// no atomics, deterministic results.
//   fwd_kernel         grid (pixel tiles, O)       out[n, o], ReLU bits
//   bwd_input_kernel   grid (pixel tiles)          d(dwf) rows and dpatch rows of its pixels
//   input_grad_kernel  one thread per dx element   dx = col2im(dpatch), gathered
//   bwd_weight_kernel  grid (column tiles of M)    d(pw_w), d(pw_b) rows of its columns
#include <cuda_runtime.h>

#include "adaconv_cuda.h"

namespace adaconv::cuda {
namespace {

constexpr int kTP = 32;       // pixels per tile
constexpr int kTJ = 32;       // columns per tile (one ReLU-mask word)
constexpr int kTC = 32;       // input channels per GEMM step
constexpr int kThreads = 256; // 8 warps: thread (row = tid / 32, col = tid % 32)
constexpr int kRowsPerThread = kTP / (kThreads / 32);  // 4

// pre_s[p][jj] = sum_c dwf[n0 + p][c] * pw_w[m0 + jj][c] for p < kTP, jj < kTJ (0 outside);
// column jj of this tile is weight row m0 + jj, valid while jj < ncols.
__device__ void pre_tile(const float* __restrict__ dwf, const float* __restrict__ pw_w,
                         const Geometry& g, int64_t n0, int64_t m0, int ncols,
                         float (*a_s)[kTC + 1], float (*b_s)[kTC + 1], float (*pre_s)[kTJ + 1]) {
  const int tid = threadIdx.x, col = tid % 32, row = tid / 32;
  const int64_t N = g.N(), C = g.C;
  float acc[kRowsPerThread] = {0.f, 0.f, 0.f, 0.f};
  for (int64_t c0 = 0; c0 < C; c0 += kTC) {
    for (int e = tid; e < kTP * kTC; e += kThreads) {
      const int p = e / kTC, c = e % kTC;
      a_s[p][c] = (n0 + p < N && c0 + c < C) ? dwf[(n0 + p) * C + c0 + c] : 0.f;
      b_s[p][c] = (p < ncols && c0 + c < C) ? pw_w[(m0 + p) * C + c0 + c] : 0.f;
    }
    __syncthreads();
#pragma unroll 8
    for (int c = 0; c < kTC; ++c) {
      const float b = b_s[col][c];
      for (int q = 0; q < kRowsPerThread; ++q) acc[q] += a_s[row + q * 8][c] * b;
    }
    __syncthreads();
  }
  for (int q = 0; q < kRowsPerThread; ++q) pre_s[row + q * 8][col] = acc[q];
}

// patch_s[p][jj] = patch column j0 + jj of pixel n0 + p (0 outside the image or the tile).
__device__ void patch_tile(const float* __restrict__ x, const Geometry& g, int64_t n0, int64_t j0,
                           float (*patch_s)[kTJ + 1]) {
  const int64_t N = g.N(), J = g.J();
  for (int e = threadIdx.x; e < kTP * kTJ; e += kThreads) {
    const int p = e / kTJ, jj = e % kTJ;
    patch_s[p][jj] = (n0 + p < N && j0 + jj < J) ? patch_value(x, g, n0 + p, j0 + jj) : 0.f;
  }
}

__global__ void __launch_bounds__(kThreads)
fwd_kernel(const float* __restrict__ x, const float* __restrict__ dwf,
           const float* __restrict__ pw_w, const float* __restrict__ pw_b, Geometry g,
           float* __restrict__ out, uint32_t* __restrict__ mask) {
  __shared__ float a_s[kTP][kTC + 1], b_s[kTJ][kTC + 1];
  __shared__ float pre_s[kTP][kTJ + 1], patch_s[kTP][kTJ + 1];
  const int64_t n0 = int64_t(blockIdx.x) * kTP, o = blockIdx.y;
  const int64_t N = g.N(), J = g.J(), O = g.O, mw = g.mask_words();
  const int p = threadIdx.x;  // epilogue: one thread per pixel
  float acc = 0.f;
  for (int64_t j0 = 0; j0 < J; j0 += kTJ) {
    const int ncols = int(J - j0 < kTJ ? J - j0 : kTJ);
    pre_tile(dwf, pw_w, g, n0, o * J + j0, ncols, a_s, b_s, pre_s);
    patch_tile(x, g, n0, j0, patch_s);
    __syncthreads();
    if (p < kTP && n0 + p < N) {
      const int64_t n = n0 + p;
      acc += fwd_dot(&pre_s[p][0], pw_b + o * J + j0, &patch_s[p][0], ncols,
                     mask ? mask + (n * O + o) * mw + j0 / 32 : nullptr);
    }
    __syncthreads();
  }
  if (p < kTP && n0 + p < N) out[(n0 + p) * O + o] = acc;
}

__global__ void __launch_bounds__(kThreads)
bwd_input_kernel(const float* __restrict__ x, const float* __restrict__ dwf,
                 const float* __restrict__ pw_w, const float* __restrict__ pw_b, Geometry g,
                 const float* __restrict__ go, float* __restrict__ ddwf,
                 float* __restrict__ dpatch) {
  __shared__ float a_s[kTP][kTC + 1], b_s[kTJ][kTC + 1];
  __shared__ float pre_s[kTP][kTJ + 1], patch_s[kTP][kTJ + 1], dpre_s[kTP][kTJ + 1];
  const int64_t n0 = int64_t(blockIdx.x) * kTP;
  const int64_t N = g.N(), J = g.J(), O = g.O, C = g.C;
  const int tid = threadIdx.x, col = tid % 32, row = tid / 32;
  for (int64_t o = 0; o < O; ++o) {
    for (int64_t j0 = 0; j0 < J; j0 += kTJ) {
      const int ncols = int(J - j0 < kTJ ? J - j0 : kTJ);
      pre_tile(dwf, pw_w, g, n0, o * J + j0, ncols, a_s, b_s, pre_s);
      patch_tile(x, g, n0, j0, patch_s);
      __syncthreads();
      if (tid < kTP) {
        for (int jj = 0; jj < kTJ; ++jj) dpre_s[tid][jj] = 0.f;
        if (n0 + tid < N) {
          const int64_t n = n0 + tid;
          bwd_row(&pre_s[tid][0], pw_b + o * J + j0, &patch_s[tid][0], go[n * O + o],
                  &dpre_s[tid][0], dpatch + n * J + j0, ncols);
        }
      }
      __syncthreads();
      // ddwf[n0 + p][c] += sum_jj dpre_s[p][jj] * pw_w[o*J + j0 + jj][c]
      for (int64_t c0 = 0; c0 < C; c0 += 32) {
        const int64_t c = c0 + col;
        for (int q = 0; q < kRowsPerThread; ++q) {
          const int p = row + q * 8;
          if (n0 + p >= N || c >= C) continue;
          float s = 0.f;
          for (int jj = 0; jj < ncols; ++jj) s += dpre_s[p][jj] * pw_w[(o * J + j0 + jj) * C + c];
          ddwf[(n0 + p) * C + c] += s;
        }
      }
      __syncthreads();
    }
  }
}

__global__ void input_grad_kernel(const float* __restrict__ dpatch, Geometry g,
                                  float* __restrict__ dx) {
  const int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= g.N() * g.C) return;
  dx[e] = gather_input_grad(dpatch, g, e / g.C, e % g.C);
}

constexpr int kWeightChannels = 128;  // input channels per pass of bwd_weight_kernel
constexpr int kAccPerThread = kTJ * kWeightChannels / kThreads;  // 16

__global__ void __launch_bounds__(kThreads)
bwd_weight_kernel(const float* __restrict__ x, const float* __restrict__ dwf,
                  const float* __restrict__ pw_w, const float* __restrict__ pw_b, Geometry g,
                  const float* __restrict__ go, const uint32_t* __restrict__ mask,
                  float* __restrict__ dpw_w, float* __restrict__ dpw_b) {
  __shared__ float a_s[kTP][kTC + 1], b_s[kTJ][kTC + 1];
  __shared__ float pre_s[kTP][kTJ + 1], dpre_s[kTP][kTJ + 1];
  const int64_t m0 = int64_t(blockIdx.x) * kTJ;
  const int64_t N = g.N(), J = g.J(), M = g.M(), O = g.O, C = g.C, mw = g.mask_words();
  const int ncols = int(M - m0 < kTJ ? M - m0 : kTJ);
  const int tid = threadIdx.x;
  for (int64_t cb = 0; cb < C; cb += kWeightChannels) {
    // thread tid accumulates dW[m0 + cc][cb + c] for e = tid + k*kThreads, cc = e / 128, c = e % 128
    float acc[kAccPerThread];
    for (int k = 0; k < kAccPerThread; ++k) acc[k] = 0.f;
    float bacc = 0.f;
    for (int64_t n0 = 0; n0 < N; n0 += kTP) {
      if (!mask) pre_tile(dwf, pw_w, g, n0, m0, ncols, a_s, b_s, pre_s);
      __syncthreads();
      for (int e = tid; e < kTP * kTJ; e += kThreads) {
        const int p = e / kTJ, cc = e % kTJ;
        const int64_t n = n0 + p, m = m0 + cc;
        float v = 0.f;
        if (n < N && cc < ncols) {
          const int64_t o = m / J, j = m % J;
          const bool on = mask ? mask_bit(mask + (n * O + o) * mw, j) : relu_on(pre_s[p][cc], pw_b[m]);
          v = dpre_value(on, go[n * O + o], patch_value(x, g, n, j));
        }
        dpre_s[p][cc] = v;
      }
      __syncthreads();
      for (int k = 0; k < kAccPerThread; ++k) {
        const int e = tid + k * kThreads, cc = e / kWeightChannels;
        const int64_t c = cb + e % kWeightChannels;
        if (c >= C) continue;
        float s = 0.f;
        for (int p = 0; p < kTP && n0 + p < N; ++p) s += dpre_s[p][cc] * dwf[(n0 + p) * C + c];
        acc[k] += s;
      }
      if (cb == 0 && tid < kTJ)
        for (int p = 0; p < kTP; ++p) bacc += dpre_s[p][tid];
      __syncthreads();
    }
    for (int k = 0; k < kAccPerThread; ++k) {
      const int e = tid + k * kThreads, cc = e / kWeightChannels;
      const int64_t c = cb + e % kWeightChannels;
      if (cc < ncols && c < C) dpw_w[(m0 + cc) * C + c] = acc[k];
    }
    if (cb == 0 && tid < ncols) dpw_b[m0 + tid] = bacc;
  }
}

const char* status() {
  const cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? nullptr : cudaGetErrorString(e);
}

}  // namespace

const char* launch_forward(const float* x, const float* dwf, const float* pw_w, const float* pw_b,
                           const Geometry& g, float* out, uint32_t* mask, void* stream) {
  if (g.N() == 0 || g.O == 0) return nullptr;
  const cudaStream_t s = static_cast<cudaStream_t>(stream);
  const dim3 grid(unsigned((g.N() + kTP - 1) / kTP), unsigned(g.O));
  fwd_kernel<<<grid, kThreads, 0, s>>>(x, dwf, pw_w, pw_b, g, out, mask);
  return status();
}

const char* launch_backward(const float* x, const float* dwf, const float* pw_w,
                            const float* pw_b, const Geometry& g, const float* go,
                            const uint32_t* mask, float* dx, float* ddwf, float* dpw_w,
                            float* dpw_b, float* dpatch, void* stream) {
  if (g.N() == 0 || g.O == 0) return nullptr;
  const cudaStream_t s = static_cast<cudaStream_t>(stream);
  cudaMemsetAsync(dpatch, 0, sizeof(float) * g.N() * g.J(), s);
  cudaMemsetAsync(ddwf, 0, sizeof(float) * g.N() * g.C, s);
  bwd_input_kernel<<<unsigned((g.N() + kTP - 1) / kTP), kThreads, 0, s>>>(x, dwf, pw_w, pw_b, g, go,
                                                                          ddwf, dpatch);
  if (const char* e = status()) return e;
  const int64_t nx = g.N() * g.C;
  input_grad_kernel<<<unsigned((nx + 255) / 256), 256, 0, s>>>(dpatch, g, dx);
  if (const char* e = status()) return e;
  bwd_weight_kernel<<<unsigned((g.M() + kTJ - 1) / kTJ), kThreads, 0, s>>>(x, dwf, pw_w, pw_b, g, go,
                                                                           mask, dpw_w, dpw_b);
  return status();
}

}  // namespace adaconv::cuda
