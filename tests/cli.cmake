# The `gan` command run as a child process: exit codes, --json output, located errors on stderr,
# and a tiny training run (train / resume / refuse / corrupt checkpoint / sample).
gan_add_test(test_cli SOURCES test_cli.cpp LABELS cli COST 30)

# LibTorch's CUDA backend loaded at run time (gan/cuda_backend.hpp); needs no GPU
gan_add_test(test_cuda_backend SOURCES test_cuda_backend.cpp LABELS cli)
if(TARGET torch_cuda)
  target_compile_definitions(test_cuda_backend PRIVATE GAN_TEST_TORCH_HAS_CUDA=1)
else()
  target_compile_definitions(test_cuda_backend PRIVATE GAN_TEST_TORCH_HAS_CUDA=0)
endif()
if(TARGET gan_nccl)
  target_compile_definitions(test_cuda_backend PRIVATE GAN_TEST_HAS_NCCL=1)
  add_dependencies(test_cuda_backend gan_nccl)
else()
  target_compile_definitions(test_cuda_backend PRIVATE GAN_TEST_HAS_NCCL=0)
endif()
if(TARGET adaconv_cuda)
  target_compile_definitions(test_cuda_backend PRIVATE GAN_TEST_HAS_ADACONV_CUDA=1)
  add_dependencies(test_cuda_backend adaconv_cuda)
else()
  target_compile_definitions(test_cuda_backend PRIVATE GAN_TEST_HAS_ADACONV_CUDA=0)
endif()
