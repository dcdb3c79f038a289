# The `gan` command run as a child process: exit codes, --json output, located errors on stderr,
# and a tiny training run (train / resume / refuse / corrupt checkpoint / sample).
gan_add_test(test_cli SOURCES test_cli.cpp LABELS cli COST 30)

# LibTorch's CUDA backend loaded at run time (gan/cuda_backend.hpp); needs no GPU
gan_add_test(test_cuda_backend SOURCES test_cuda_backend.cpp LABELS cli)
# GAN_TEST_<what>=1 where the build has the target (a CUDA LibTorch, gan's CUDA modules), else 0
foreach(_pair "TORCH_HAS_CUDA:torch_cuda" "HAS_NCCL:gan_nccl" "HAS_ADACONV_CUDA:adaconv_cuda")
  string(REPLACE ":" ";" _pair "${_pair}")
  list(GET _pair 0 _what)
  list(GET _pair 1 _target)
  if(TARGET ${_target})
    target_compile_definitions(test_cuda_backend PRIVATE GAN_TEST_${_what}=1)
    if(NOT _target STREQUAL "torch_cuda")
      add_dependencies(test_cuda_backend ${_target})
    endif()
  else()
    target_compile_definitions(test_cuda_backend PRIVATE GAN_TEST_${_what}=0)
  endif()
endforeach()
