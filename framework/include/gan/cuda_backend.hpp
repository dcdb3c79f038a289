// gan/cuda_backend.hpp — LibTorch's CUDA backend, loaded at run time.
//
// gan and its plugins link LibTorch's CPU libraries only. libtorch_cuda (with cuDNN, cuBLAS,
// NCCL, ... behind it) is loaded by load_cuda_backend(), which `gan` calls first thing and the
// plugin loader calls again; it registers LibTorch's CUDA kernels and hooks, after which
// torch::cuda::is_available() and CUDA tensors work as in a program linked against it. Code
// that needs CUDA symbols of its own (gan's NCCL process group, the AdaConv CUDA kernels) lives
// in small modules loaded after it (open_module_beside()).
//
// When: GAN_CUDA=0 never; GAN_CUDA=1 always (and an error when it cannot); otherwise (auto) when
// the NVIDIA driver's libcuda.so.1 can be loaded, since without it no CUDA device can be used.
// It must run before anything asks LibTorch about CUDA: LibTorch keeps the first answer.
#pragma once

#include <dlfcn.h>

#include <initializer_list>
#include <string>

namespace gan {

struct CudaBackendState {
  bool attempted = false;  // load_cuda_backend() has run
  bool loaded = false;     // libtorch_cuda is in the process and its hooks are LibTorch's
  std::string detail;      // why not, or what was loaded
};

// Idempotent; returns state().loaded. Throws gan::Error only under GAN_CUDA=1 when loading fails.
bool load_cuda_backend();
const CudaBackendState& cuda_backend_state();

// dlopen()s `name` from the folder of the shared object (or executable) that holds `anchor`, or
// from one of `rel_dirs` relative to that folder, or by name through the caller's search path.
// Returns the handle or nullptr with *error set (every place tried and dlerror()). Header-only,
// so that code outside libgan (a plugin's static op library) finds its modules beside itself.
inline void* open_module_beside(const void* anchor, const std::string& name,
                                std::initializer_list<const char*> rel_dirs, std::string* error,
                                int flags = RTLD_NOW | RTLD_LOCAL) {
  std::string tried;
  Dl_info info{};
  std::string dir;
  if (dladdr(anchor, &info) && info.dli_fname) {
    dir = info.dli_fname;
    const auto slash = dir.rfind('/');
    dir = slash == std::string::npos ? std::string(".") : dir.substr(0, slash);
  }
  auto attempt = [&](const std::string& path) -> void* {
    void* h = ::dlopen(path.c_str(), flags);
    if (!h) {
      const char* e = ::dlerror();
      tried += (tried.empty() ? "" : "; ") + path + ": " + (e ? e : "not loadable");
    }
    return h;
  };
  if (!dir.empty()) {
    if (void* h = attempt(dir + "/" + name)) return h;
    for (const char* rel : rel_dirs) {
      if (void* h = attempt(dir + "/" + rel + "/" + name)) return h;
    }
  }
  if (void* h = attempt(name)) return h;
  if (error) *error = tried;
  return nullptr;
}

}  // namespace gan
