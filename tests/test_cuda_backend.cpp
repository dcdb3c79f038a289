// LibTorch's CUDA backend loaded at run time (gan/cuda_backend.hpp): gan links LibTorch's CPU
// libraries only; with a CUDA LibTorch, libtorch_cuda and gan's CUDA modules are loaded when the
// machine has an NVIDIA driver, or always under GAN_CUDA=1. Needs no GPU: loading works without
// one (no device is then visible). Its own executable, because LibTorch keeps its first answer
// about CUDA and a test run in another process must not have asked before.
#include "test_common.hpp"

#include <dlfcn.h>

#include <ATen/detail/CUDAHooksInterface.h>

#include "cli_util.hpp"
#include "gan/cuda_backend.hpp"

using Catch::Matchers::Contains;
using gan::test::Result;
using gan::test::run_gan;

namespace {
bool in_process(const char* soname) {
  void* h = ::dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
  if (h) ::dlclose(h);
  return h != nullptr;
}
}  // namespace

TEST_CASE("cuda backend: gan starts without LibTorch's CUDA libraries unless the machine can use them",
          "[cuda-backend]") {
  // `gan` and its plugins do not link libtorch_cuda (its size is what a start costs)
  Result r = run_gan({"-v", "plugins"}, {"-GAN_CUDA"});
  INFO(r.all());
  REQUIRE(r.code == 0);
  const bool driver = ::dlopen("libcuda.so.1", RTLD_LAZY) != nullptr;
#if GAN_TEST_TORCH_HAS_CUDA
  CHECK_THAT(r.err, Contains(driver ? "LibTorch's CUDA backend: loaded (CUDA runtime"
                                    : "LibTorch's CUDA backend: not loaded (no NVIDIA driver"));
#else
  CHECK_THAT(r.err, Contains("LibTorch's CUDA backend: none (this LibTorch has no CUDA)"));
#endif
  r = run_gan({"-v", "plugins"}, {"GAN_CUDA=0"});
  CHECK_THAT(r.err, Contains("LibTorch's CUDA backend: not loaded (GAN_CUDA=0)"));
  r = run_gan({"plugins"}, {"GAN_CUDA=yes"});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Contains("GAN_CUDA=yes: expected 0 (never load CUDA), 1 (always) or auto"));
}

TEST_CASE("cuda backend: GAN_CUDA=1 loads it, LibTorch's CUDA hooks are real, gan's CUDA modules load",
          "[cuda-backend]") {
  Result r = run_gan({"-v", "plugins"}, {"GAN_CUDA=1"});
  INFO(r.all());
#if GAN_TEST_TORCH_HAS_CUDA
  REQUIRE(r.code == 0);
  CHECK_THAT(r.err, Contains("LibTorch's CUDA backend: loaded (CUDA runtime"));
  // in this process: nothing has asked LibTorch about CUDA yet
  REQUIRE_FALSE(in_process("libtorch_cuda.so"));
  ::setenv("GAN_CUDA", "1", 1);
  REQUIRE(gan::load_cuda_backend());
  CHECK(in_process("libtorch_cuda.so"));
  CHECK(at::detail::getCUDAHooks().hasCUDART());
  CHECK_THAT(gan::cuda_backend_state().detail, Contains("loaded (CUDA runtime"));
  // the NCCL module beside libgan, with its entry point (data-parallel training on GPUs)
  std::string error;
  void* nccl = gan::open_module_beside(reinterpret_cast<const void*>(&gan::load_cuda_backend), "libgan_nccl.so", {},
                                       &error);
#if GAN_TEST_HAS_NCCL
  INFO(error);
  REQUIRE(nccl != nullptr);
  CHECK(::dlsym(nccl, "gan_nccl_create") != nullptr);
#else
  CHECK(nccl == nullptr);
#endif
  // the AdaConv kernels' module where the adaconv plugin looks for it: two folders up from the
  // plugin folder (lib/gan/plugins -> lib), in the build tree as in an install
#if GAN_TEST_HAS_ADACONV_CUDA
  const std::string plugins = gan::test::env_or("GAN_PLUGIN_PATH", "");
  REQUIRE_FALSE(plugins.empty());
  const std::string module = plugins + "/../../libgan_adaconv_cuda.so";
  void* ada = ::dlopen(module.c_str(), RTLD_NOW | RTLD_LOCAL);
  INFO(module << ": " << (ada ? "" : ::dlerror()));
  REQUIRE(ada != nullptr);
  CHECK(::dlsym(ada, "gan_adaconv_cuda_forward") != nullptr);
  CHECK(::dlsym(ada, "gan_adaconv_cuda_backward") != nullptr);
#endif
#else
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Contains("GAN_CUDA=1: this LibTorch was built without CUDA"));
#endif
}
