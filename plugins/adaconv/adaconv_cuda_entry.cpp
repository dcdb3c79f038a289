// adaconv_cuda_entry.cpp — the CUDA kernels' entry points as the host code calls them: on the
// tensors' device and LibTorch's current stream there. Compiled with adaconv_cuda.cu into the
// module libgan_adaconv_cuda.so (CMake; loaded by adaconv_op.cpp when a CUDA tensor arrives, so
// that the plugin itself links no CUDA library), or straight into the op (scripts/gpu-check.sh,
// GAN_WITH_CUDA).
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "adaconv_cuda.h"
#include "adaconv_cuda_entry.h"

namespace {
void* stream_of(int device) {
  return static_cast<void*>(c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device)).stream());
}
}  // namespace

extern "C" {

ADACONV_CUDA_ENTRY const char* gan_adaconv_cuda_forward(int device, const float* x, const float* dwf,
                                                        const float* pw_w, const float* pw_b,
                                                        const adaconv::Geometry* g, float* out, uint32_t* mask) {
  const c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
  return adaconv::cuda::launch_forward(x, dwf, pw_w, pw_b, *g, out, mask, stream_of(device));
}

ADACONV_CUDA_ENTRY const char* gan_adaconv_cuda_backward(int device, const float* x, const float* dwf,
                                                         const float* pw_w, const float* pw_b,
                                                         const adaconv::Geometry* g, const float* go,
                                                         const uint32_t* mask, float* dx, float* ddwf, float* dpw_w,
                                                         float* dpw_b, float* dpatch) {
  const c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
  return adaconv::cuda::launch_backward(x, dwf, pw_w, pw_b, *g, go, mask, dx, ddwf, dpw_w, dpw_b, dpatch,
                                        stream_of(device));
}

}  // extern "C"
