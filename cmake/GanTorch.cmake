# Finds LibTorch: the one inside the PyPI torch wheel (scripts/setup.sh puts it in a venv under
# ~/.cache/gan), or Debian's libtorch-dev (CPU only). Pass -DCMAKE_PREFIX_PATH=<torch cmake dir>
# or set GAN_TORCH_CMAKE_PREFIX; scripts/build.sh does this for you.
if(DEFINED ENV{GAN_TORCH_CMAKE_PREFIX})
  list(APPEND CMAKE_PREFIX_PATH $ENV{GAN_TORCH_CMAKE_PREFIX})
endif()
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  # Explicit architectures: nothing here can detect a GPU. A100 (8.0) and H100 (9.0).
  set(ENV{TORCH_CUDA_ARCH_LIST} "8.0;9.0")
endif()
# Explicit CUDA architectures (nothing here can detect a GPU): A100 (8.0) and H100 (9.0) unless
# the environment's GAN_CUDA_ARCHITECTURES (e.g. "89" or "80,90") or -DGAN_CUDA_ARCHITECTURES
# says otherwise; scripts/gpu-check.sh reads the same variable.
set(_gan_cuda_archs "80;90")
if(DEFINED ENV{GAN_CUDA_ARCHITECTURES} AND NOT "$ENV{GAN_CUDA_ARCHITECTURES}" STREQUAL "")
  string(REPLACE "," ";" _gan_cuda_archs "$ENV{GAN_CUDA_ARCHITECTURES}")
endif()
set(GAN_CUDA_ARCHITECTURES "${_gan_cuda_archs}" CACHE STRING "CUDA architectures of gan's kernels")
find_package(Torch REQUIRED)
# Torch's cuda.cmake resets CMAKE_CUDA_ARCHITECTURES to OFF; ours stay explicit.
set(CMAKE_CUDA_ARCHITECTURES ${GAN_CUDA_ARCHITECTURES})
set(GAN_TORCH_LIBRARIES ${TORCH_LIBRARIES})

# The wheel's libtorch_cuda.so needs the CUDA libraries of the nvidia-* wheels beside it; let the
# linker find them (they are found at run time through libtorch's own RPATH).
get_filename_component(_gan_torch_root "${TORCH_INSTALL_PREFIX}" ABSOLUTE)
file(GLOB _gan_nvidia_libdirs LIST_DIRECTORIES true "${_gan_torch_root}/../nvidia/*/lib")
set(GAN_TORCH_LINK_OPTIONS "")
if(_gan_nvidia_libdirs)
  string(REPLACE ";" ":" _gan_rpath_link "${_gan_nvidia_libdirs}")
  set(GAN_TORCH_LINK_OPTIONS "LINKER:-rpath-link,${_gan_rpath_link}")
endif()

set(GAN_WITH_CUDA_BOOL false)
set(GAN_CUDA_ENABLED OFF)
if(GAN_WITH_CUDA AND (CAFFE2_USE_CUDA OR TORCH_CUDA_LIBRARIES))
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)  # CMake 3.25 cannot map CUDA 20 for nvcc
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(GAN_WITH_CUDA_BOOL true)
    set(GAN_CUDA_ENABLED ON)
    message(STATUS "gan: CUDA kernels ON (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, archs ${GAN_CUDA_ARCHITECTURES})")
  else()
    message(STATUS "gan: LibTorch has CUDA but no nvcc was found: CUDA kernels OFF")
  endif()
else()
  message(STATUS "gan: CPU-only LibTorch: CUDA kernels OFF")
endif()

# Interface targets every torch-using target links.
#   gan_torch       LibTorch's CPU libraries (libtorch_cpu, libc10) only. With a CUDA LibTorch,
#                   libtorch_cuda and the CUDA libraries it needs (cuDNN, cuBLAS, NCCL, ...) are
#                   loaded at run time by gan::load_cuda_backend() when the machine has an NVIDIA
#                   driver: mapping and initialising them took 0.15 s of every 0.33 s `gan` start
#                   on a machine without a GPU (gan/cuda_backend.hpp).
#   gan_torch_cuda  all of LibTorch (TORCH_LIBRARIES): the CUDA modules (loaded only with the
#                   CUDA backend), CUDA plugins, and programs that use CUDA from the start.
# With a CPU-only LibTorch both are the same.
if(NOT TARGET gan_torch)
  add_library(gan_torch INTERFACE)
  add_library(gan_torch_cuda INTERFACE)
  foreach(_t gan_torch gan_torch_cuda)
    target_link_options(${_t} INTERFACE ${GAN_TORCH_LINK_OPTIONS})
    target_compile_options(${_t} INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Wno-unused-parameter>)
  endforeach()
  target_link_libraries(gan_torch_cuda INTERFACE ${TORCH_LIBRARIES})
  if(TARGET torch_cuda AND TARGET torch_cpu_library)
    set(GAN_TORCH_CUDA_LAZY ON)
    target_link_libraries(gan_torch INTERFACE torch_cpu_library)
    target_include_directories(gan_torch INTERFACE ${TORCH_INCLUDE_DIRS})
    target_compile_options(gan_torch INTERFACE ${TORCH_CXX_FLAGS})
  else()
    set(GAN_TORCH_CUDA_LAZY OFF)
    target_link_libraries(gan_torch INTERFACE ${TORCH_LIBRARIES})
  endif()
endif()
