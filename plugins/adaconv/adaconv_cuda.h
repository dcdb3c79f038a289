// adaconv_cuda.h — launchers of the CUDA kernels (adaconv_cuda.cu), torch-free and CUDA-free so
// that the host code includes it without nvcc and the .cu compiles without torch headers.
// Every pointer is a float32 device pointer to a contiguous buffer with the layouts of
// adaconv_tile.h; `stream` is the cudaStream_t to launch on. Each launcher returns nullptr on
// success or the CUDA error string.
#pragma once

#include <cstdint>

#include "adaconv_tile.h"

namespace adaconv::cuda {

// out[N, O]; mask [N, O, g.mask_words()] written when not null.
const char* launch_forward(const float* x, const float* dwf, const float* pw_w, const float* pw_b,
                           const Geometry& g, float* out, uint32_t* mask, void* stream);

// Gradients given go[N, O]; overwrites dx [B,H,W,C], ddwf [N,C], dpw_w [M,C], dpw_b [M].
// dpatch: scratch of N*J floats (gradient of the gathered patches, gathered into dx by a second
// kernel so that no atomics are needed and results are deterministic). mask: the forward's ReLU
// bits or null (recompute).
const char* launch_backward(const float* x, const float* dwf, const float* pw_w,
                            const float* pw_b, const Geometry& g, const float* go,
                            const uint32_t* mask, float* dx, float* ddwf, float* dpw_w,
                            float* dpw_b, float* dpatch, void* stream);

}  // namespace adaconv::cuda
