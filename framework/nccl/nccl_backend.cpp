// libgan_nccl.so: gan's NCCL process group for data-parallel training on GPUs.
//
// A module of its own because ProcessGroupNCCL lives in libtorch_cuda, which libgan does not
// link (gan/cuda_backend.hpp): distributed.cpp loads this module when a run trains on CUDA, after
// the CUDA backend is loaded, and keeps the result as a c10d::Backend (allreduce and broadcast
// are its virtual functions, so libgan itself needs no CUDA symbol).
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include <chrono>
#include <string>

#include "nccl_backend.hpp"

extern "C" c10d::Backend* gan_nccl_create(
    const c10::intrusive_ptr<c10d::Store>* store, int rank, int world_size, int64_t timeout_ms, int device,
    std::string* error) {
  try {
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(device));
    auto o = c10d::ProcessGroupNCCL::Options::create();
    o->timeout = std::chrono::milliseconds(timeout_ms);
    auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(c10::make_intrusive<c10d::PrefixStore>("nccl", *store),
                                                          rank, world_size, o);
    c10::intrusive_ptr<c10d::Backend> b = pg;
    return b.release();
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return nullptr;
  }
}
