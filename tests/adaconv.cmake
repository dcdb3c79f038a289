# AdaConv op: fused vs reference parity (values and every gradient), float64 finite-difference
# gradient check, determinism, input checks. Links the op library directly: no libgan and no
# plugin loading needed.
if(TARGET adaconv_op)
  # two OpenMP threads (GAN_TEST_ENV has one): the kernels' parallel partitions are under test
  set(_adaconv_env ${GAN_TEST_ENV})
  list(FILTER _adaconv_env EXCLUDE REGEX "^OMP_NUM_THREADS=")
  list(APPEND _adaconv_env "OMP_NUM_THREADS=2")
  add_executable(test_adaconv ${CMAKE_CURRENT_LIST_DIR}/test_adaconv.cpp
    $<TARGET_OBJECTS:gan_catch_main>)
  # all of LibTorch, CUDA included (gan itself loads CUDA at run time: gan/cuda_backend.hpp), so
  # that the [cuda] case sees the GPU; the op finds its CUDA module at ../lib
  target_link_libraries(test_adaconv PRIVATE Catch2::Catch2 adaconv_op gan_torch_cuda gan_omp_policy)
  add_test(NAME test_adaconv COMMAND test_adaconv --reporter compact "~[cuda]")
  # Hundreds of tiny LibTorch ops, each an OpenMP region: with spinning waits they take ~25x
  # longer when the cores are shared with other tests (measured 2 s vs 50 s), hence the
  # gan_omp_policy object (OMP_WAIT_POLICY=PASSIVE before libgomp loads) linked in above.
  set_tests_properties(test_adaconv PROPERTIES ENVIRONMENT "${_adaconv_env}"
    LABELS "adaconv" TIMEOUT 600)
  # The CUDA-vs-CPU parity case on its own: "Skipped" in ctest where no GPU is visible (the case
  # prints GAN_TEST_SKIPPED), a real comparison where one is.
  add_test(NAME test_adaconv_cuda COMMAND test_adaconv --reporter compact "[cuda]")
  set_tests_properties(test_adaconv_cuda PROPERTIES ENVIRONMENT "${_adaconv_env}"
    LABELS "adaconv;cuda" TIMEOUT 600 SKIP_REGULAR_EXPRESSION "GAN_TEST_SKIPPED")
endif()

# The layer type through the plugin API (needs libgan; the layer source is compiled in, so no
# plugin loading either).
if(TARGET adaconv_op AND TARGET gan)
  add_executable(test_adaconv_layer ${CMAKE_CURRENT_LIST_DIR}/test_adaconv_layer.cpp
    ${PROJECT_SOURCE_DIR}/plugins/adaconv/adaconv_layer.cpp $<TARGET_OBJECTS:gan_catch_main>)
  # and the spectral_norm wrapper's sources (no plugin entry point), to wrap the layer
  target_link_libraries(test_adaconv_layer PRIVATE Catch2::Catch2 gan adaconv_op gan_specnorm_obj gan_omp_policy)
  add_test(NAME test_adaconv_layer COMMAND test_adaconv_layer --reporter compact)
  set_tests_properties(test_adaconv_layer PROPERTIES ENVIRONMENT "${GAN_TEST_ENV}"
    LABELS "adaconv" TIMEOUT 300)
endif()
