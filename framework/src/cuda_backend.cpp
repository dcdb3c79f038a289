// LibTorch's CUDA backend, loaded at run time (gan/cuda_backend.hpp).
#include "gan/cuda_backend.hpp"

#include <ATen/detail/CUDAHooksInterface.h>

#include <cstdlib>
#include <mutex>

#include "gan/error.hpp"
#include "gan/log.hpp"

namespace gan {
namespace {

CudaBackendState g_state;
std::mutex g_mu;

// libtorch_cuda's hooks answer; LibTorch's CPU-only stand-in throws ("without ATen_cuda library").
bool real_cuda_hooks(std::string* version) {
  try {
    const long v = at::detail::getCUDAHooks().versionCUDART();
    if (version) *version = std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

const CudaBackendState& cuda_backend_state() { return g_state; }

bool load_cuda_backend() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_state.attempted) return g_state.loaded;
  g_state.attempted = true;
  const char* env = std::getenv("GAN_CUDA");
  const std::string mode = env ? env : "";
  if (!mode.empty() && mode != "0" && mode != "1" && mode != "auto") {
    throw Error("GAN_CUDA=" + mode + ": expected 0 (never load CUDA), 1 (always) or auto (when an NVIDIA driver is "
                "installed; the default)");
  }
  if (mode == "0") {
    g_state.detail = "not loaded (GAN_CUDA=0)";
    return false;
  }
  const bool forced = mode == "1";
  std::string version;
#if defined(GAN_TORCH_CUDA_LAZY)
  if (!forced) {
    // without the driver no device can be used: keep the start fast
    void* driver = ::dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (!driver) {
      g_state.detail = "not loaded (no NVIDIA driver: libcuda.so.1 not found)";
      return false;
    }
  }
  std::string error;
  // beside libtorch_cpu (the anchor is one of its functions), where the wheel keeps it
  void* h = open_module_beside(reinterpret_cast<const void*>(&at::detail::getCUDAHooks), "libtorch_cuda.so", {},
                               &error, RTLD_NOW | RTLD_GLOBAL);
  if (!h) {
    g_state.detail = "not loaded (" + error + ")";
    if (forced) throw Error("GAN_CUDA=1: cannot load LibTorch's CUDA backend: " + error);
    log::warn("an NVIDIA driver is installed but LibTorch's CUDA backend did not load, so CUDA is unavailable: " +
              error);
    return false;
  }
  if (!real_cuda_hooks(&version)) {
    g_state.detail = "loaded too late (LibTorch had already answered that there is no CUDA)";
    if (forced) throw Error("GAN_CUDA=1: LibTorch's CUDA backend was loaded after LibTorch was asked about CUDA");
    log::warn("LibTorch's CUDA backend " + g_state.detail + ": CUDA is unavailable in this process");
    return false;
  }
#else
  // LibTorch linked whole (CPU-only, or CUDA linked at build time)
  if (!real_cuda_hooks(&version)) {
    g_state.detail = "none (this LibTorch has no CUDA)";
    if (forced) throw Error("GAN_CUDA=1: this LibTorch was built without CUDA");
    return false;
  }
#endif
  g_state.loaded = true;
  g_state.detail = "loaded (CUDA runtime " + version + ")";
  return true;
}

}  // namespace gan
