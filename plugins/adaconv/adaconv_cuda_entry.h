// adaconv_cuda_entry.h — the C entry points of the AdaConv CUDA kernels (adaconv_cuda_entry.cpp),
// torch-free: the host code reaches them through dlsym() in the module libgan_adaconv_cuda.so, or
// directly when they are compiled into the op (GAN_WITH_CUDA). Each returns nullptr on success or
// the CUDA error string; pointers as in adaconv_cuda.h.
#pragma once

#include <cstdint>

#include "adaconv_tile.h"

#define ADACONV_CUDA_ENTRY __attribute__((visibility("default")))

extern "C" {
using gan_adaconv_cuda_forward_fn = const char* (*)(int device, const float* x, const float* dwf, const float* pw_w,
                                                    const float* pw_b, const adaconv::Geometry* g, float* out,
                                                    uint32_t* mask);
using gan_adaconv_cuda_backward_fn = const char* (*)(int device, const float* x, const float* dwf, const float* pw_w,
                                                     const float* pw_b, const adaconv::Geometry* g, const float* go,
                                                     const uint32_t* mask, float* dx, float* ddwf, float* dpw_w,
                                                     float* dpw_b, float* dpatch);
ADACONV_CUDA_ENTRY const char* gan_adaconv_cuda_forward(int device, const float* x, const float* dwf,
                                                        const float* pw_w, const float* pw_b,
                                                        const adaconv::Geometry* g, float* out, uint32_t* mask);
ADACONV_CUDA_ENTRY const char* gan_adaconv_cuda_backward(int device, const float* x, const float* dwf,
                                                         const float* pw_w, const float* pw_b,
                                                         const adaconv::Geometry* g, const float* go,
                                                         const uint32_t* mask, float* dx, float* ddwf, float* dpw_w,
                                                         float* dpw_b, float* dpatch);
}
