# Fuzzing the model-file front end (tests/fuzz/). Two parts:
#  - always: the inputs the fuzzer found (tests/fuzz/regressions/) replayed in the regular suite,
#    (1) through the fuzz target's own entry point (fuzz_model.cpp + a plain main, no libFuzzer)
#    and (2) through `gan check`, which must exit 1 with a located "error:" and never crash;
#  - with -DGAN_FUZZ=ON (clang only; tests/fuzz/run.sh does this): the libFuzzer binary fuzz_model.
file(GLOB _gan_fuzz_regressions CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/regressions/*)
set(_gan_fuzz_env "${GAN_TEST_ENV}" "GAN_FUZZ_MODELS=${PROJECT_SOURCE_DIR}/models"
  "TMPDIR=${CMAKE_BINARY_DIR}/tests")

add_executable(fuzz_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_model.cpp ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/replay_main.cpp)
target_link_libraries(fuzz_replay PRIVATE gan gan_omp_policy)
add_dependencies(fuzz_replay gan_all_plugins)
if(_gan_fuzz_regressions)
  add_test(NAME fuzz_regressions_replay COMMAND fuzz_replay ${_gan_fuzz_regressions})
  set_tests_properties(fuzz_regressions_replay PROPERTIES ENVIRONMENT "${_gan_fuzz_env}" LABELS "fuzz")
  add_test(NAME fuzz_regressions_check
    COMMAND ${CMAKE_COMMAND} -DGAN_EXE=$<TARGET_FILE:gan_cli> -DMODELS=${PROJECT_SOURCE_DIR}/models
            -DREGRESSIONS=${CMAKE_CURRENT_SOURCE_DIR}/fuzz/regressions -DWORK=${CMAKE_BINARY_DIR}/tests/fuzz-check
            -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/fuzz_regressions.cmake)
  set_tests_properties(fuzz_regressions_check PROPERTIES ENVIRONMENT "${GAN_TEST_ENV}" LABELS "fuzz")
endif()

option(GAN_FUZZ "Build the libFuzzer target tests/fuzz/fuzz_model (clang; see tests/fuzz/run.sh)" OFF)
if(GAN_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "GAN_FUZZ needs clang (libFuzzer); use tests/fuzz/run.sh")
  endif()
  # The project code is compiled with -fsanitize=fuzzer-no-link,address,undefined by run.sh
  # (CMAKE_CXX_FLAGS); only this target links libFuzzer's main.
  add_executable(fuzz_model ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_model.cpp)
  target_link_libraries(fuzz_model PRIVATE gan)
  target_link_options(fuzz_model PRIVATE -fsanitize=fuzzer)
  add_dependencies(fuzz_model gan_all_plugins)
endif()
